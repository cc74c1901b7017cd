/*
 * user.c - the user lookup seam (see user.h).
 *
 * With passwd_file set, users come from that passwd(5) file, read afresh
 * on each lookup (it is small, and tests edit it while daemons run); a
 * malformed line is warned about and skipped.  Otherwise getpwnam_r() and
 * getpwuid_r() are used.  Names are compared case-sensitively: callers
 * fold case before asking.
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "user.h"
#include "vstream.h"
#include "vstring.h"

#define USER_LINE_LIMIT	4096		/* longest passwd line we accept */
#define USER_FIELDS	7

typedef struct USER_KEY {
    const char *name;			/* match by name, or */
    uid_t   uid;			/* by uid when name is NULL */
} USER_KEY;

static void user_info_init(USER_INFO *info)
{
    info->name = info->home = info->shell = 0;
    info->uid = 0;
    info->gid = 0;
}

static void user_info_fill(USER_INFO *info, const char *name, uid_t uid,
			           gid_t gid, const char *home, const char *shell)
{
    info->name = mystrdup(name);
    info->uid = uid;
    info->gid = gid;
    info->home = mystrdup(home);
    info->shell = mystrdup(shell);
}

/* user_parse_id - a decimal uid/gid field; 0 on junk */

static int user_parse_id(const char *text, unsigned long *id)
{
    char   *end;

    if (*text < '0' || *text > '9')
	return (0);
    errno = 0;
    *id = strtoul(text, &end, 10);
    return (*end == 0 && errno == 0 && *id <= UINT_MAX);
}

/* user_split - split LINE in place into the 7 passwd fields */

static int user_split(char *line, char **field)
{
    int     n = 0;
    char   *p = line;

    field[n++] = p;
    while ((p = strchr(p, ':')) != 0) {
	if (n == USER_FIELDS)
	    return (0);
	*p++ = 0;
	field[n++] = p;
    }
    return (n == USER_FIELDS && *field[0] != 0);
}

/* user_file_match - parse one line; 1 if it is the wanted user */

static int user_file_match(const char *path, int lineno, char *line,
			           const USER_KEY *key, USER_INFO *info)
{
    char   *field[USER_FIELDS];
    unsigned long uid;
    unsigned long gid;

    if (!user_split(line, field)
	|| !user_parse_id(field[2], &uid) || !user_parse_id(field[3], &gid)) {
	msg_warn("%s, line %d: bad passwd entry, skipped", path, lineno);
	return (0);
    }
    if (key->name ? strcmp(field[0], key->name) != 0 : uid != key->uid)
	return (0);
    user_info_fill(info, field[0], (uid_t) uid, (gid_t) gid,
		   field[5], field[6]);
    return (1);
}

/* user_file_lookup - search PATH; 1 found, 0 not found, -1 error */

static int user_file_lookup(const char *path, const USER_KEY *key,
			            USER_INFO *info)
{
    VSTREAM *fp;
    VSTRING *line;
    int     lineno = 0;
    int     last;
    int     found = 0;
    int     saved_errno;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0) {
	saved_errno = errno;
	msg_warn("open passwd_file %s: %m", path);
	errno = saved_errno;
	return (-1);
    }
    line = vstring_alloc(128);
    while (!found
	   && (last = vstream_get_line(fp, line, USER_LINE_LIMIT)) != VSTREAM_EOF) {
	lineno++;
	if (last != '\n' && !vstream_eof(fp)) {
	    msg_warn("%s, line %d: line too long, skipped", path, lineno);
	    while ((last = vstream_get_line(fp, line, USER_LINE_LIMIT)) != '\n'
		   && last != VSTREAM_EOF)
		 /* void */ ;
	    continue;
	}
	if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == '\n')
	    vstring_truncate(line, LEN(line) - 1);
	if (LEN(line) == 0 || STR(line)[0] == '#')
	    continue;
	found = user_file_match(path, lineno, STR(line), key, info);
    }
    saved_errno = errno;
    if (!found && vstream_error(fp)) {
	msg_warn("read passwd_file %s: %m", path);
	found = -1;
    }
    (void) vstream_close(fp);
    vstring_free(line);
    errno = saved_errno;
    return (found);
}

/* user_sys_lookup - getpwnam_r/getpwuid_r with a growing buffer */

static int user_sys_lookup(const USER_KEY *key, USER_INFO *info)
{
    struct passwd pwd;
    struct passwd *result = 0;
    size_t  size = 1024;
    char   *buf = mymalloc(size);
    int     err;

    for (;;) {
	if (key->name)
	    err = getpwnam_r(key->name, &pwd, buf, size, &result);
	else
	    err = getpwuid_r(key->uid, &pwd, buf, size, &result);
	if (err != ERANGE || size >= 1024 * 1024)
	    break;
	size *= 2;
	buf = myrealloc(buf, size);
    }
    if (result != 0)
	user_info_fill(info, pwd.pw_name, pwd.pw_uid, pwd.pw_gid,
		       pwd.pw_dir, pwd.pw_shell);
    myfree(buf);
    if (result != 0)
	return (1);
    if (err == 0 || err == ENOENT || err == ESRCH || err == EBADF || err == EPERM)
	return (0);
    msg_warn("user lookup %s: %s", key->name ? key->name : "(by uid)",
	     strerror(err));
    errno = err;
    return (-1);
}

static int user_lookup(const USER_KEY *key, USER_INFO *info)
{
    const char *path = conf_str("passwd_file");

    user_info_init(info);
    if (*path)
	return (user_file_lookup(path, key, info));
    return (user_sys_lookup(key, info));
}

int     user_by_name(const char *name, USER_INFO *info)
{
    USER_KEY key = {name, 0};

    if (*name == 0) {
	user_info_init(info);
	return (0);
    }
    return (user_lookup(&key, info));
}

int     user_by_uid(uid_t uid, USER_INFO *info)
{
    USER_KEY key = {0, uid};

    return (user_lookup(&key, info));
}

void    user_info_free(USER_INFO *info)
{
    myfree(info->name);
    myfree(info->home);
    myfree(info->shell);
    user_info_init(info);
}
