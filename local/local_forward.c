/*
 * local_forward.c - ~/.forward and :include: files: address lists on disk.
 *
 * local_forward() is called when an address reaches a local user (not a
 * virtual mailbox) and was not written "\user".  It tries each file of
 * forward_path (Postfix's default "$home/.forward${recipient_delimiter}
 * ${extension}, $home/.forward"; $home, $user, $shell, $local, $domain,
 * $recipient, $extension and $recipient_delimiter are replaced, other
 * characters than forward_expansion_filter's become '_').  The first file
 * that exists is opened with the user's rights; it must be a regular file
 * owned by the user (or root) and not writable by group or others, else it
 * is ignored with a warning.  Its lines (not those starting with '#') are
 * alias values (aliases(5)): commands and files are allowed per
 * allow_mail_to_commands/files "forward" and run as the user.  An empty
 * .forward means: deliver to the mailbox.
 *
 * local_include() reads an :include: file with the rights of the
 * expansion that names it: the alias table's owner (root for a root-owned
 * table) or the .forward's user.  As Postfix's local(8), its commands and
 * files then run as that same user below a .forward ("users should not be
 * able to make things happen with someone else's rights just by including
 * some file that is owned by their victim"); only when the includer is
 * root (a root-owned alias table) do they take the include file owner's
 * rights, and root's become default_privs.  They are allowed per
 * allow_mail_to_commands/files "include".  A file that is world-writable,
 * or group-writable by a group other than its owner's own, is refused:
 * warned about and bounced as "mail system configuration error" (5.3.5).
 * A missing or unreadable include file defers the mail.
 *
 * Parameters: forward_path, recipient_delimiter.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <pwd.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "address.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "local.h"

#define LOCAL_FILE_LIMIT	(1024 * 1024)	/* bytes read from one file */
#define LOCAL_FILTER \
    "1234567890!@%-_=+:,.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

#define READ_OK		1
#define READ_MISSING	0
#define READ_ERROR	(-1)		/* defer */
#define READ_IGNORED	(-2)		/* insecure: warned about */

/* local_read_file - a whole (small) file, opened with READER's rights */

static int local_read_file(const char *path, const LOCAL_PRIV *reader,
			           VSTRING *text, struct stat *st, VSTRING *why)
{
    VSTREAM *stream;
    char    buf[4096];
    ssize_t n;
    int     fd, saved;

    local_become_ids(reader->uid, reader->gid);
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    saved = errno;
    local_restore();
    if (fd < 0) {
	vstring_sprintf(why, "cannot open %s: %s", path, strerror(saved));
	return (saved == ENOENT || saved == ENOTDIR ? READ_MISSING : READ_ERROR);
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
	vstring_sprintf(why, "%s is not a regular file", path);
	(void) close(fd);
	return (READ_IGNORED);
    }
    stream = vstream_fdopen(fd, O_RDONLY);
    vstring_reset(text);
    while (LEN(text) < LOCAL_FILE_LIMIT
	   && (n = vstream_read(stream, buf, sizeof(buf))) > 0)
	vstring_memcat(text, buf, (size_t) n);
    if (vstream_error(stream)) {
	vstring_sprintf(why, "cannot read %s: %m", path);
	vstream_close(stream);
	return (READ_ERROR);
    }
    if (LEN(text) >= LOCAL_FILE_LIMIT)
	msg_warn("%s: only the first %d bytes are used", path, LOCAL_FILE_LIMIT);
    vstream_close(stream);
    return (READ_OK);
}

/* local_expand_lines - each line of TEXT that is not a comment */

static void local_expand_lines(LOCAL_DELIVERY *d, const LOCAL_EXP *exp, char *text)
{
    char   *line;

    while ((line = strsep(&text, "\n")) != 0)
	if (*line != '#')
	    local_expand_list(d, exp, line);
}

/* local_count_lines - how many destinations TEXT lists */

static int local_count_lines(const char *text)
{
    char   *copy = mystrdup(text);
    char   *cp = copy;
    char   *line;
    int     count = 0;
    ADDR_LIST list = {0, 0, 0};

    while ((line = strsep(&cp, "\n")) != 0) {
	if (*line == '#')
	    continue;
	addr_parse_alias(line, &list);
	count += list.count;
	addr_list_free(&list);
    }
    myfree(copy);
    return (count);
}

/* local_filter - append VALUE with unsafe characters replaced */

static void local_filter(VSTRING *out, const char *value)
{
    for (const char *cp = value; *cp; cp++)
	vstring_addch(out, strchr(LOCAL_FILTER, *cp) ? *cp : '_');
}

/* local_user_expand - forward_path's and mailbox_command's $names */

void    local_user_expand(VSTRING *out, const char *pattern, const char *addr,
			          const USER_INFO *user)
{
    VSTRING *local = vstring_alloc(100);
    VSTRING *domain = vstring_alloc(100);
    const char *delims = conf_str("recipient_delimiter");
    const char *ext = "";
    const char *delim = "";
    char    delim_buf[2] = {0, 0};
    const char *cp = pattern;

    if (addr_split(addr, local, domain) == 0 && *delims) {
	size_t  pos = strcspn(STR(local), delims);

	if (pos < LEN(local) && pos > 0) {
	    ext = STR(local) + pos + 1;
	    delim_buf[0] = STR(local)[pos];
	    delim = delim_buf;
	}
    }
    vstring_reset(out);
    while (*cp) {
	const char *start = cp;
	size_t  len;
	int     brace = 0;

	if (*cp != '$') {
	    vstring_addch(out, *cp++);
	    continue;
	}
	cp++;
	if (*cp == '{') {
	    brace = 1;
	    cp++;
	}
	len = strspn(cp, "abcdefghijklmnopqrstuvwxyz_");
#define IS(n)	(len == sizeof(n) - 1 && strncmp(cp, n, len) == 0)
	if (IS("home"))
	    vstring_strcat(out, user->home);	/* not filtered: admin's data */
	else if (IS("user"))
	    local_filter(out, user->name);
	else if (IS("shell"))
	    local_filter(out, user->shell ? user->shell : "");
	else if (IS("local"))
	    local_filter(out, STR(local));
	else if (IS("domain"))
	    local_filter(out, STR(domain));
	else if (IS("recipient"))
	    local_filter(out, addr);
	else if (IS("extension"))
	    local_filter(out, ext);
	else if (IS("recipient_delimiter"))
	    local_filter(out, delim);
	else
	    vstring_memcat(out, start, (size_t) (cp + len - start) + brace);
	cp += len;
	if (brace && *cp == '}')
	    cp++;
    }
    vstring_free(local);
    vstring_free(domain);
}

/* local_ancestor_forward - is NAME's .forward being expanded above EXP? */

static int local_ancestor_forward(const LOCAL_EXP *exp, const char *name)
{
    for (; exp; exp = exp->parent)
	if (exp->type == LOCAL_EXP_FORWARD && strcmp(exp->name, name) == 0)
	    return (1);
    return (0);
}

/* local_forward_file - handle one .forward file; 1 done, 0 try the next */

static int local_forward_file(LOCAL_DELIVERY *d, const LOCAL_EXP *parent,
			              const char *addr, const USER_INFO *user,
			              const char *path, int *found)
{
    VSTRING *text = vstring_alloc(1000);
    VSTRING *why = vstring_alloc(100);
    struct stat st;
    LOCAL_EXP exp;
    LOCAL_PRIV priv;
    int     ret = 0;

    memset(&priv, 0, sizeof(priv));
    local_priv_user(&priv, user);
    switch (local_read_file(path, &priv, text, &st, why)) {
    case READ_MISSING:
	break;
    case READ_ERROR:
	local_leaf(d, addr, DELIVER_STAT_DEFER, "4.3.0", "%s", STR(why));
	ret = 1;
	break;
    case READ_IGNORED:
	msg_warn("ignoring %s: %s", path, STR(why));
	break;
    default:
	*found = 1;
	if ((st.st_uid != user->uid && st.st_uid != 0) || (st.st_mode & 022)) {
	    msg_warn("ignoring %s: not owned by %s or writable by others",
		     path, user->name);
	} else if (local_count_lines(STR(text)) == 0) {
	    ret = 0;				/* empty: deliver to the mailbox */
	} else if (local_ancestor_forward(parent, user->name)) {
	    msg_warn("%s: mail forwarding loop for %s", d->state->req->queue_id, addr);
	    local_leaf(d, addr, DELIVER_STAT_BOUNCE, "5.4.6",
		       "mail forwarding loop for %s", addr);
	    ret = 1;
	} else {
	    ret = 1;
	    if (!local_seen(d, "forward", user->name)) {
		exp.parent = parent;
		exp.type = LOCAL_EXP_FORWARD;
		exp.name = user->name;
		exp.addr = addr;
		exp.priv = &priv;
		exp.sender = parent->sender;
		exp.level = parent->level + 1;
		local_expand_lines(d, &exp, STR(text));
	    }
	}
	break;
    }
    local_priv_free(&priv);
    vstring_free(text);
    vstring_free(why);
    return (ret);
}

int     local_forward(LOCAL_DELIVERY *d, const LOCAL_EXP *parent, const char *addr,
		              const USER_INFO *user)
{
    char   *list = mystrdup(conf_raw("forward_path") ? conf_raw("forward_path") : "");
    char   *cp = list;
    char   *pattern;
    VSTRING *path = vstring_alloc(100);
    int     done = 0, found = 0;

    if (user->home && *user->home) {
	while (!done && !found && (pattern = strsep(&cp, ", \t\r\n")) != 0) {
	    if (*pattern == 0)
		continue;
	    local_user_expand(path, pattern, addr, user);
	    done = local_forward_file(d, parent, addr, user, STR(path), &found);
	}
    }
    vstring_free(path);
    myfree(list);
    return (done);
}

/* local_include_unsafe - who else may write an include file; NULL if nobody */

static const char *local_include_unsafe(const struct stat *st)
{
    USER_INFO owner;
    struct passwd *pw;
    gid_t   owner_gid;
    int     known;

    if (st->st_mode & S_IWOTH)
	return ("world");
    if (!(st->st_mode & S_IWGRP))
	return (0);
    /* Group-writable is fine for the owner's own (user private) group */
    memset(&owner, 0, sizeof(owner));
    if ((known = (user_by_uid(st->st_uid, &owner) > 0)) != 0) {
	owner_gid = owner.gid;
	user_info_free(&owner);
    } else if ((pw = getpwuid(st->st_uid)) != 0) {
	owner_gid = pw->pw_gid;
	known = 1;
    }
    return (known && owner_gid == st->st_gid ? 0 : "group");
}

void    local_include(LOCAL_DELIVERY *d, const LOCAL_EXP *parent, const char *path)
{
    VSTRING *text = vstring_alloc(1000);
    VSTRING *why = vstring_alloc(100);
    const LOCAL_PRIV *reader = parent->priv;
    const char *unsafe;
    struct stat st;
    LOCAL_EXP exp;
    LOCAL_PRIV priv;
    int     status;

    memset(&priv, 0, sizeof(priv));
    for (const LOCAL_EXP *up = parent; up; up = up->parent) {
	if (up->type == LOCAL_EXP_INCLUDE && strcmp(up->name, path) == 0) {
	    msg_warn("%s: mail forwarding loop for :include:%s",
		     d->state->req->queue_id, path);
	    local_leaf(d, parent->addr, DELIVER_STAT_BOUNCE, "5.4.6",
		       "mail forwarding loop for :include:%s", path);
	    goto out;
	}
    }
    if (*path != '/') {
	local_leaf(d, parent->addr, DELIVER_STAT_BOUNCE, "5.3.5",
		   "include file name is not absolute: \"%s\"", path);
	goto out;
    }
    if (local_seen(d, "include", path))
	goto out;
    status = local_read_file(path, reader, text, &st, why);
    if (status != READ_OK) {
	local_leaf(d, parent->addr, DELIVER_STAT_DEFER, "4.3.0",
		   "cannot use include file: %s", STR(why));
	goto out;
    }
    if ((unsafe = local_include_unsafe(&st)) != 0) {
	msg_warn("%s: include file %s is %s writable", d->state->req->queue_id,
		 path, unsafe);
	local_leaf(d, parent->addr, DELIVER_STAT_BOUNCE, "5.3.5",
		   "mail system configuration error");
	goto out;
    }
    /* The includer's rights; only a root includer takes the file owner's */
    if (reader->uid != 0) {
	local_priv_copy(&priv, reader);
    } else if (local_priv_owner(&priv, st.st_uid, st.st_gid, why) < 0) {
	local_leaf(d, parent->addr, DELIVER_STAT_DEFER, "4.3.5",
		   "mail system configuration error: %s", STR(why));
	goto out;
    }
    exp.parent = parent;
    exp.type = LOCAL_EXP_INCLUDE;
    exp.name = path;
    exp.addr = parent->addr;
    exp.priv = &priv;
    exp.sender = parent->sender;
    exp.level = parent->level + 1;
    local_expand_lines(d, &exp, STR(text));
out:
    local_priv_free(&priv);
    vstring_free(text);
    vstring_free(why);
}
