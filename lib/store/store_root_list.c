/*
 * store_root_list.c - store_root_list(): every folder of a root, and
 * every subscription, with their LIST attributes.
 *
 * The layout's scan gives the folders on disk (mbox files \NoInferiors,
 * directories \Noselect).  To them this adds: the parents that a
 * hierarchy implies but that do not exist (Maildir++ "a" for ".a.b":
 * \Noselect, as Dovecot lists them); \HasChildren or \HasNoChildren
 * (from the other names; not for \NoInferiors folders, as Dovecot);
 * \Subscribed, and every subscription whose folder is gone, with
 * \NonExistent; the SPECIAL-USE attribute of Drafts, Sent, Trash and
 * Junk.  INBOX comes first, then the rest in a stable order: byte order
 * of the UTF-8 names, level by level (a folder right before its
 * children).  Pattern matching is the caller's.
 */
#include "sys_defs.h"

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "htable.h"
#include "store.h"
#include "store_root_priv.h"

void    root_list_add(ROOT_LIST *list, const char *name, int attrs)
{
    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 32;
	list->entries = (ROOT_ENTRY *) myrealloc(list->entries,
				     (size_t) list->size * sizeof(ROOT_ENTRY));
    }
    list->entries[list->count].name = mystrdup(name);
    list->entries[list->count].attrs = attrs;
    list->count++;
}

void    root_list_free(ROOT_LIST *list)
{
    for (int i = 0; i < list->count; i++)
	myfree(list->entries[i].name);
    if (list->entries)
	myfree(list->entries);
    list->entries = 0;
    list->count = list->size = 0;
}

/* name_rank - a byte's place in the order: end, separator, the rest */

static int name_rank(unsigned char ch, int sep)
{
    return (ch == 0 ? 0 : ch == sep ? 1 : ch + 1);
}

/* name_compare - qsort_r() order of two entries (CTX: the separator) */

static int name_compare(const void *a, const void *b, void *ctx)
{
    const ROOT_ENTRY *ea = (const ROOT_ENTRY *) a;
    const ROOT_ENTRY *eb = (const ROOT_ENTRY *) b;
    const unsigned char *p = (const unsigned char *) ea->name;
    const unsigned char *q = (const unsigned char *) eb->name;
    int     sep = *(int *) ctx;

    while (*p && *p == *q)
	p++, q++;
    return (name_rank(*p, sep) - name_rank(*q, sep));
}

/* is_child - CHILD is below PARENT */

static int is_child(const char *parent, const char *child, int sep)
{
    size_t  len = strlen(parent);

    return (strncmp(parent, child, len) == 0 && child[len] == sep);
}

/* index_entry - remember entry I of LIST by name */

static void index_entry(HTABLE *index, ROOT_LIST *list, int i)
{
    htable_enter(index, list->entries[i].name, (void *) (uintptr_t) i);
}

/* add_parents - the \Noselect parents the folders' names imply */

static void add_parents(ROOT_LIST *list, HTABLE *index, int sep)
{
    VSTRING *parent = vstring_alloc(100);
    int     found = list->count;
    const char *cp;

    for (int i = 0; i < found; i++) {
	const char *name = list->entries[i].name;

	for (cp = strchr(name, sep); cp; cp = strchr(cp + 1, sep)) {
	    vstring_strncpy(parent, name, (size_t) (cp - name));
	    if (root_is_inbox(STR(parent)) || htable_locate(index, STR(parent)))
		continue;
	    root_list_add(list, STR(parent), STORE_LIST_NOSELECT);
	    index_entry(index, list, list->count - 1);
	}
    }
    vstring_free(parent);
}

/* add_subscriptions - mark subscribed folders, add those that are gone */

static void add_subscriptions(ROOT_LIST *list, const ROOT_LIST *subs,
			              HTABLE *index, int *inbox_attrs)
{
    HTABLE_INFO *info;

    for (int i = 0; i < subs->count; i++) {
	const char *name = subs->entries[i].name;

	if (root_is_inbox(name)) {
	    *inbox_attrs |= STORE_LIST_SUBSCRIBED;
	} else if ((info = htable_locate(index, name)) != 0) {
	    list->entries[(uintptr_t) info->value].attrs |=
		STORE_LIST_SUBSCRIBED;
	} else {
	    root_list_add(list, name,
			  STORE_LIST_SUBSCRIBED | STORE_LIST_NONEXISTENT);
	    index_entry(index, list, list->count - 1);
	}
    }
}

/* has_children - entry I (of the sorted LIST) has existing children */

static int has_children(const ROOT_LIST *list, int i, int sep)
{
    const char *name = list->entries[i].name;

    for (int j = i + 1; j < list->count; j++) {
	if (!is_child(name, list->entries[j].name, sep))
	    break;
	if (!(list->entries[j].attrs & STORE_LIST_NONEXISTENT))
	    return (1);
    }
    return (0);
}

/* add_attributes - children and special use, in the sorted LIST */

static void add_attributes(ROOT_LIST *list, int *inbox_attrs, int sep)
{
    int     inbox_children = 0;

    for (int i = 0; i < list->count; i++) {
	ROOT_ENTRY *e = list->entries + i;

	if (!(e->attrs & STORE_LIST_NONEXISTENT)) {
	    if (is_child("INBOX", e->name, sep))
		inbox_children = 1;
	    if (!(e->attrs & STORE_LIST_NOINFERIORS))
		e->attrs |= (has_children(list, i, sep) ?
			     STORE_LIST_CHILDREN : STORE_LIST_NOCHILDREN);
	}
	e->attrs |= root_special_use(e->name);
    }
    *inbox_attrs |= (inbox_children ?
		     STORE_LIST_CHILDREN : STORE_LIST_NOCHILDREN);
}

int     store_root_list(STORE_ROOT *root, STORE_LIST_FN fn, void *ctx,
			        VSTRING *why)
{
    ROOT_LIST list = {0, 0, 0};
    ROOT_LIST subs = {0, 0, 0};
    HTABLE *index;
    int     sep = root->layout->sep;
    int     inbox_attrs = 0;

    vstring_reset(why);
    if (root->dir_fd >= 0 && (root->layout->scan(root, &list, why) < 0
			      || root_subs_read(root, &subs, why) < 0)) {
	root_list_free(&list);
	root_list_free(&subs);
	return (-1);
    }
    index = htable_create((size_t) (list.count + subs.count) + 16);
    for (int i = 0; i < list.count; i++)
	index_entry(index, &list, i);
    add_parents(&list, index, sep);
    add_subscriptions(&list, &subs, index, &inbox_attrs);
    htable_free(index);
    if (list.count > 1)
	qsort_r(list.entries, (size_t) list.count, sizeof(ROOT_ENTRY),
		name_compare, &sep);
    add_attributes(&list, &inbox_attrs, sep);
    fn("INBOX", inbox_attrs, ctx);
    for (int i = 0; i < list.count; i++)
	fn(list.entries[i].name, list.entries[i].attrs, ctx);
    root_list_free(&list);
    root_list_free(&subs);
    return (0);
}
