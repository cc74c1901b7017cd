/*
 * imapd_cmd_list.c - LIST (RFC 3501, RFC 5258 LIST-EXTENDED, RFC 5819
 * LIST-STATUS, RFC 6154 SPECIAL-USE) and LSUB.
 *
 * The folder list comes from store_root_list() once per command: every
 * folder and every subscription, merged by name here, plus the parents
 * that a hierarchy implies but that do not exist ("a" for "a.b": listed
 * \Noselect, RFC 3501 6.3.8).  Each entry is matched against the
 * patterns ("*" anything, "%" anything but the hierarchy separator; the
 * name INBOX in any case), the reference name prefixed, and answered with
 * its attributes: \HasChildren/\HasNoChildren always and the special-use
 * attribute always (as Dovecot), \Subscribed when asked for, \NonExistent
 * for a subscription whose folder is gone (LIST-EXTENDED; \Noselect in
 * LSUB).  With (SUBSCRIBED RECURSIVEMATCH) a folder with a subscribed
 * child gets ("CHILDINFO" ("SUBSCRIBED")).  RETURN (STATUS (...)) adds a
 * STATUS reply after each selectable folder.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_quote.h"
#include "imap_utf7.h"
#include "imapd.h"

/* Selection and return options */
#define LIST_SEL_SUBSCRIBED	(1<<0)
#define LIST_SEL_RECURSIVE	(1<<1)
#define LIST_SEL_SPECIAL	(1<<2)
#define LIST_RET_SUBSCRIBED	(1<<3)
#define LIST_RET_CHILDREN	(1<<4)
#define LIST_RET_SPECIAL	(1<<5)
#define LIST_RET_STATUS		(1<<6)
#define LIST_LSUB		(1<<7)
#define LIST_EXTENDED		(1<<8)

#define LIST_SPECIAL_USE	(STORE_LIST_DRAFTS | STORE_LIST_SENT | \
			STORE_LIST_TRASH | STORE_LIST_JUNK | STORE_LIST_ARCHIVE)

typedef struct LIST_ENTRY {
    char   *name;			/* UTF-8 */
    int     attrs;			/* STORE_LIST_* */
    int     exists;			/* a folder (not only a subscription) */
    int     implied;			/* a parent that is not there */
} LIST_ENTRY;

/* The patterns, reference name prefixed, as UTF-8 */
typedef struct LIST_PATTERNS {
    char  **argv;
    int     argc;
} LIST_PATTERNS;

static void list_patterns_add(LIST_PATTERNS *pats, const char *pattern)
{
    pats->argv = (char **) myrealloc(pats->argv, sizeof(char *) * (size_t) (pats->argc + 1));
    pats->argv[pats->argc++] = mystrdup(pattern);
}

static void list_patterns_free(LIST_PATTERNS *pats)
{
    for (int i = 0; i < pats->argc; i++)
	myfree(pats->argv[i]);
    if (pats->argv)
	myfree(pats->argv);
}

typedef struct LIST_STATE {
    LIST_ENTRY *entries;
    int     count;
    int     size;
    int     sep;
} LIST_STATE;

/* list_find - an entry by name */

static LIST_ENTRY *list_find(LIST_STATE *ls, const char *name)
{
    for (int i = 0; i < ls->count; i++)
	if (strcmp(ls->entries[i].name, name) == 0)
	    return (ls->entries + i);
    return (0);
}

static LIST_ENTRY *list_add(LIST_STATE *ls, const char *name)
{
    LIST_ENTRY *e;

    if (ls->count == ls->size) {
	ls->size = ls->size ? 2 * ls->size : 32;
	ls->entries = (LIST_ENTRY *) myrealloc(ls->entries,
					  sizeof(LIST_ENTRY) * (size_t) ls->size);
    }
    e = ls->entries + ls->count++;
    memset(e, 0, sizeof(*e));
    e->name = mystrdup(name);
    return (e);
}

/* list_collect - store_root_list() callback: merge by name */

static void list_collect(const char *name, int attrs, void *ctx)
{
    LIST_STATE *ls = (LIST_STATE *) ctx;
    LIST_ENTRY *e = list_find(ls, name);

    if (e == 0)
	e = list_add(ls, name);
    e->attrs |= attrs & ~(STORE_LIST_NONEXISTENT | STORE_LIST_CHILDREN
			  | STORE_LIST_NOCHILDREN);
    if (!(attrs & STORE_LIST_NONEXISTENT))
	e->exists = 1;
}

/* list_add_parents - the parents a hierarchy implies */

static void list_add_parents(LIST_STATE *ls)
{
    VSTRING *parent = vstring_alloc(100);
    int     n = ls->count;

    for (int i = 0; i < n; i++) {
	const char *name = ls->entries[i].name;

	for (const char *cp = strchr(name, ls->sep); cp; cp = strchr(cp + 1, ls->sep)) {
	    if (cp == name)
		continue;
	    vstring_strncpy(parent, name, (size_t) (cp - name));
	    if (list_find(ls, STR(parent)) == 0)
		list_add(ls, STR(parent))->implied = 1;
	}
    }
    vstring_free(parent);
}

/* list_is_child - CHILD is below PARENT in the hierarchy */

static int list_is_child(const LIST_STATE *ls, const char *parent, const char *child)
{
    size_t  len = strlen(parent);

    return (strncmp(parent, child, len) == 0 && child[len] == ls->sep
	    && child[len + 1] != 0);
}

/* list_children - does E have existing children; subscribed ones? */

static void list_children(const LIST_STATE *ls, const LIST_ENTRY *e,
			          int *children, int *subscribed)
{
    *children = *subscribed = 0;
    for (int i = 0; i < ls->count; i++) {
	const LIST_ENTRY *c = ls->entries + i;

	if (!list_is_child(ls, e->name, c->name))
	    continue;
	if (c->exists)
	    *children = 1;
	if (c->attrs & STORE_LIST_SUBSCRIBED)
	    *subscribed = 1;
    }
}

/* list_match - NAME against PATTERN ("*", "%"), case folded for INBOX */

static int list_match(const char *pat, const char *name, int sep, int fold)
{
    for (; *pat; pat++, name++) {
	if (*pat == '*' || *pat == '%') {
	    for (const char *cp = name;; cp++) {
		if (list_match(pat + 1, cp, sep, 0))
		    return (1);
		if (*cp == 0 || (*pat == '%' && *cp == sep))
		    return (0);
	    }
	}
	if (*name == 0)
	    return (0);
	if (fold ? (toupper((unsigned char) *pat) != toupper((unsigned char) *name))
	    : *pat != *name)
	    return (0);
    }
    return (*name == 0);
}

/* list_name_matches - NAME against any of the patterns */

static int list_name_matches(const LIST_STATE *ls, LIST_PATTERNS *patterns, const char *name)
{
    int     inbox = strncasecmp(name, "INBOX", 5) == 0
    && (name[5] == 0 || name[5] == ls->sep);

    for (int i = 0; i < patterns->argc; i++) {
	const char *pat = patterns->argv[i];

	/* "inbox" matches INBOX; "INBOX.x" children keep their case */
	if (inbox && strncasecmp(pat, "INBOX", 5) == 0
	    && list_match(pat + 5, name + 5, ls->sep, 0))
	    return (1);
	if (list_match(pat, name, ls->sep, 0))
	    return (1);
    }
    return (0);
}

/* list_attr_text - the attribute list of one reply */

static void list_attr_text(VSTRING *out, const LIST_STATE *ls, const LIST_ENTRY *e,
			           int opts)
{
    static const struct {
	int     bit;
	const char *name;
    }       special[] = {
	{STORE_LIST_DRAFTS, "\\Drafts"}, {STORE_LIST_SENT, "\\Sent"},
	{STORE_LIST_TRASH, "\\Trash"}, {STORE_LIST_JUNK, "\\Junk"},
	{STORE_LIST_ARCHIVE, "\\Archive"}, {0, 0},
    };
    int     children, sub_children;

    list_children(ls, e, &children, &sub_children);
    vstring_addch(out, '(');
    if (!e->exists && !e->implied && (opts & LIST_EXTENDED))
	vstring_strcat(out, "\\NonExistent ");
    else if (!e->exists || (e->attrs & STORE_LIST_NOSELECT))
	vstring_strcat(out, "\\Noselect ");
    if ((e->attrs & STORE_LIST_SUBSCRIBED)
	&& (opts & (LIST_SEL_SUBSCRIBED | LIST_RET_SUBSCRIBED)))
	vstring_strcat(out, "\\Subscribed ");
    if (e->attrs & STORE_LIST_NOINFERIORS)
	vstring_strcat(out, "\\NoInferiors ");
    else if (e->exists || e->implied)
	vstring_strcat(out, children ? "\\HasChildren " : "\\HasNoChildren ");
    for (int i = 0; special[i].name; i++)
	if (e->attrs & special[i].bit)
	    vstring_sprintf_append(out, "%s ", special[i].name);
    if (LEN(out) > 1 && STR(out)[LEN(out) - 1] == ' ')
	vstring_truncate(out, LEN(out) - 1);
    vstring_addch(out, ')');
}

/*
 * list_hidden_subscription - a subscribed child of E that the patterns do
 * not match (LSUB "%": then E itself is listed, \Noselect, RFC 3501 6.3.9)
 */
static int list_hidden_subscription(const LIST_STATE *ls, const LIST_ENTRY *e,
				            LIST_PATTERNS *patterns)
{
    for (int i = 0; i < ls->count; i++) {
	const LIST_ENTRY *c = ls->entries + i;

	if ((c->attrs & STORE_LIST_SUBSCRIBED) && list_is_child(ls, e->name, c->name)
	    && !list_name_matches(ls, patterns, c->name))
	    return (1);
    }
    return (0);
}

/* list_wanted - does this entry go out, and with CHILDINFO? */

static int list_wanted(const LIST_STATE *ls, const LIST_ENTRY *e, int opts,
		               LIST_PATTERNS *patterns, int *childinfo)
{
    int     children, sub_children;

    *childinfo = 0;
    if (opts & LIST_LSUB) {
	if (!(e->attrs & STORE_LIST_SUBSCRIBED)
	    && !list_hidden_subscription(ls, e, patterns))
	    return (0);
    } else if (opts & LIST_SEL_SUBSCRIBED) {
	list_children(ls, e, &children, &sub_children);
	if (sub_children && (opts & LIST_SEL_RECURSIVE))
	    *childinfo = 1;
	else if (!(e->attrs & STORE_LIST_SUBSCRIBED))
	    return (0);
    } else if (!e->exists && !e->implied) {
	return (0);				/* a subscription only */
    }
    if ((opts & LIST_SEL_SPECIAL) && !(e->attrs & LIST_SPECIAL_USE))
	return (0);
    return (1);
}

/* list_entry_compare - INBOX first, then by name */

static int list_entry_compare(const void *a, const void *b)
{
    const LIST_ENTRY *ea = (const LIST_ENTRY *) a;
    const LIST_ENTRY *eb = (const LIST_ENTRY *) b;
    int     ia = strcmp(ea->name, "INBOX") == 0;
    int     ib = strcmp(eb->name, "INBOX") == 0;

    if (ia != ib)
	return (ib - ia);
    return (strcmp(ea->name, eb->name));
}

/* list_reply - one "* LIST" (or LSUB) line, and STATUS if asked */

static void list_reply(IMAPD *im, const LIST_STATE *ls, const LIST_ENTRY *e,
		               int opts, int childinfo, int status_items)
{
    VSTRING *out = vstring_alloc(100);
    VSTRING *why;

    vstring_strcpy(out, (opts & LIST_LSUB) ? "LSUB " : "LIST ");
    if (opts & LIST_LSUB) {
	LIST_ENTRY lsub = *e;

	if (!(e->attrs & STORE_LIST_SUBSCRIBED))
	    lsub.exists = lsub.implied = 0;	/* \Noselect: only a parent */
	list_attr_text(out, ls, &lsub, opts);
    } else {
	list_attr_text(out, ls, e, opts);
    }
    vstring_sprintf_append(out, " \"%s%c\" ", ls->sep == '"' || ls->sep == '\\' ?
			   "\\" : "", ls->sep);
    imapd_append_mailbox(out, e->name);
    if (childinfo)
	vstring_strcat(out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
    imapd_untagged(im, "%s", STR(out));
    if ((opts & LIST_RET_STATUS) && e->exists && !(e->attrs & STORE_LIST_NOSELECT)) {
	why = vstring_alloc(100);
	if (imapd_status_reply(im, e->name, status_items, why) < 0 && msg_verbose)
	    msg_info("LIST-STATUS %s: %s", e->name, STR(why));
	vstring_free(why);
    }
    vstring_free(out);
}

/* list_options - selection or return options; -1 if bad */

static int list_options(const IMAP_ARG *list, int selection, int *opts,
			        int *status_items)
{
    if (list->type != IMAP_ARG_LIST)
	return (-1);
    for (int i = 0; i < list->count; i++) {
	const IMAP_ARG *a = list->list + i;

	if (selection && imap_arg_atom_is(a, "SUBSCRIBED"))
	    *opts |= LIST_SEL_SUBSCRIBED;
	else if (selection && imap_arg_atom_is(a, "RECURSIVEMATCH"))
	    *opts |= LIST_SEL_RECURSIVE;
	else if (selection && imap_arg_atom_is(a, "SPECIAL-USE"))
	    *opts |= LIST_SEL_SPECIAL;
	else if (selection && imap_arg_atom_is(a, "REMOTE"))
	     /* no remote mailboxes here */ ;
	else if (!selection && imap_arg_atom_is(a, "SUBSCRIBED"))
	    *opts |= LIST_RET_SUBSCRIBED;
	else if (!selection && imap_arg_atom_is(a, "CHILDREN"))
	    *opts |= LIST_RET_CHILDREN;
	else if (!selection && imap_arg_atom_is(a, "SPECIAL-USE"))
	    *opts |= LIST_RET_SPECIAL;
	else if (!selection && imap_arg_atom_is(a, "STATUS") && i + 1 < list->count
		 && (*status_items = imapd_status_items(list->list + i + 1)) >= 0) {
	    *opts |= LIST_RET_STATUS;
	    i++;
	} else
	    return (-1);
    }
    /* RFC 5258 3: RECURSIVEMATCH alone is an error */
    if ((*opts & LIST_SEL_RECURSIVE) && !(*opts & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIAL)))
	return (-1);
    return (0);
}

/* list_patterns - reference + pattern(s), as UTF-8; -1 if bad */

static int list_patterns(const IMAP_ARG *ref_arg, const IMAP_ARG *pat_arg,
			         LIST_PATTERNS *patterns, int *empty)
{
    const char *ref = imap_arg_astring(ref_arg);
    const IMAP_ARG *pats = pat_arg;
    int     count = 1;
    VSTRING *utf8 = vstring_alloc(100);
    VSTRING *full = vstring_alloc(100);

    *empty = 0;
    if (ref == 0) {
	vstring_free(utf8);
	vstring_free(full);
	return (-1);
    }
    if (pat_arg->type == IMAP_ARG_LIST) {
	pats = pat_arg->list;
	count = pat_arg->count;
    }
    if (count == 0) {				/* RFC 5258: "(" at least one ")" */
	vstring_free(utf8);
	vstring_free(full);
	return (-1);
    }
    for (int i = 0; i < count; i++) {
	const char *pat = imap_arg_astring(pats + i);

	if (pat == 0 || pats[i].type == IMAP_ARG_LIST) {
	    vstring_free(utf8);
	    vstring_free(full);
	    return (-1);
	}
	if (*pat == 0 && count == 1) {
	    *empty = 1;
	    break;
	}
	vstring_sprintf(full, "%s%s", ref, pat);
	if (imap_utf7_to_utf8(utf8, STR(full)) < 0)
	    vstring_strcpy(utf8, STR(full));	/* matches nothing real */
	list_patterns_add(patterns, STR(utf8));
    }
    vstring_free(utf8);
    vstring_free(full);
    return (0);
}

/* list_run - the command; IMAPD_OK or IMAPD_BAD */

static int list_run(IMAPD *im, const IMAP_ARG *args, int count, int opts)
{
    LIST_STATE ls;
    LIST_PATTERNS pats = {0, 0};
    LIST_PATTERNS *patterns = &pats;
    VSTRING *why;
    int     status_items = 0, empty, childinfo, i = 0;

    /* LIST [(selection)] reference pattern(s) [RETURN (options)] */
    if (!(opts & LIST_LSUB) && count > 0 && args[0].type == IMAP_ARG_LIST) {
	if (list_options(args, 1, &opts, &status_items) < 0)
	    goto bad;
	opts |= LIST_EXTENDED;
	i = 1;
    }
    if (count - i < 2 || list_patterns(args + i, args + i + 1, patterns, &empty) < 0
	|| ((opts & LIST_LSUB) && args[i + 1].type == IMAP_ARG_LIST))
	goto bad;
    if (args[i + 1].type == IMAP_ARG_LIST)
	opts |= LIST_EXTENDED;
    i += 2;
    if (!(opts & LIST_LSUB) && i < count) {
	if (i + 2 != count || !imap_arg_atom_is(args + i, "RETURN")
	    || list_options(args + i + 1, 0, &opts, &status_items) < 0)
	    goto bad;
	opts |= LIST_EXTENDED;
    } else if (i != count) {
	goto bad;
    }
    if (empty) {
	/* RFC 3501 6.3.8: the hierarchy separator and the root name */
	imapd_untagged(im, "%s (\\Noselect) \"%c\" \"\"",
		       (opts & LIST_LSUB) ? "LSUB" : "LIST",
		       store_root_separator(im->root));
	imapd_tagged(im, "OK", "%s completed.", (opts & LIST_LSUB) ? "Lsub" : "List");
	list_patterns_free(patterns);
	return (IMAPD_OK);
    }
    memset(&ls, 0, sizeof(ls));
    ls.sep = store_root_separator(im->root);
    why = vstring_alloc(100);
    if (store_root_list(im->root, list_collect, &ls, why) < 0) {
	imapd_tagged(im, "NO", "[SERVERBUG] %s", STR(why));
    } else {
	list_add_parents(&ls);
	qsort(ls.entries, (size_t) ls.count, sizeof(LIST_ENTRY), list_entry_compare);
	for (int n = 0; n < ls.count; n++) {
	    LIST_ENTRY *e = ls.entries + n;

	    if (list_name_matches(&ls, patterns, e->name)
		&& list_wanted(&ls, e, opts, patterns, &childinfo))
		list_reply(im, &ls, e, opts, childinfo, status_items);
	}
	imapd_tagged(im, "OK", "%s completed.", (opts & LIST_LSUB) ? "Lsub" : "List");
    }
    for (int n = 0; n < ls.count; n++)
	myfree(ls.entries[n].name);
    if (ls.entries)
	myfree(ls.entries);
    vstring_free(why);
    list_patterns_free(patterns);
    return (IMAPD_OK);

bad:
    list_patterns_free(patterns);
    return (IMAPD_BAD);
}

int     imapd_cmd_list(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (list_run(im, args, count, 0));
}

int     imapd_cmd_lsub(IMAPD *im, const IMAP_ARG *args, int count)
{
    return (list_run(im, args, count, LIST_LSUB));
}
