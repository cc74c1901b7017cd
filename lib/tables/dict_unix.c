/*
 * dict_unix.c - unix:passwd.byname, the user database as a table.
 *
 * A lookup of a user name returns the passwd(5)-style line
 * "name:x:uid:gid:gecos:home:shell" (gecos is empty: the user seam does
 * not carry it), or NULL when there is no such user.  Users come from
 * lib/global/user.h, so the passwd_file parameter works here too.  A lookup
 * error (not "no such user") sets ->error so the caller defers.
 */
#include "sys_defs.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "user.h"
#include "dict_private.h"

typedef struct DICT_UNIX {
    DICT    dict;			/* must be first */
    VSTRING *value;
} DICT_UNIX;

static const char *dict_unix_lookup(DICT *dict, const char *key)
{
    DICT_UNIX *du = (DICT_UNIX *) dict;
    USER_INFO info;
    int     status;

    dict->error = 0;
    if (*key == 0)
	return (0);
    errno = 0;
    status = user_by_name(key, &info);
    if (status < 0) {
	msg_warn("%s:%s: lookup of \"%s\": %s", dict->type, dict->name, key,
		 errno ? strerror(errno) : "lookup error");
	dict->error = DICT_ERR_RETRY;
	return (0);
    }
    if (status == 0)
	return (0);
    vstring_sprintf(du->value, "%s:x:%ld:%ld::%s:%s", info.name,
		    (long) info.uid, (long) info.gid,
		    info.home ? info.home : "", info.shell ? info.shell : "");
    user_info_free(&info);
    return (STR(du->value));
}

static int dict_unix_close(DICT *dict)
{
    vstring_free(((DICT_UNIX *) dict)->value);
    dict_free(dict);
    return (0);
}

DICT   *dict_unix_open(const char *type, const char *name, int flags)
{
    DICT_UNIX *du;

    if (strcmp(name, "passwd.byname") != 0) {
	msg_warn("unknown table: %s:%s", type, name);
	return (dict_fail_open(type, name, flags));
    }
    du = (DICT_UNIX *) dict_alloc(type, name, flags, sizeof(*du));
    du->value = vstring_alloc(100);
    du->dict.lookup = dict_unix_lookup;
    du->dict.close = dict_unix_close;
    return (&du->dict);
}
