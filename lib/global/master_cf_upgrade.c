/*
 * master_cf_upgrade.c - add the services a newer Posthorn needs to an
 * older master.cf (master_cf_upgrade.h).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "iostuff.h"
#include "master_cf_upgrade.h"
#include "mymalloc.h"
#include "safe_open.h"

#define MCU_MAX_SIZE	(1024 * 1024)	/* as master_cf.c reads it */

/* Services added since the first master.cf (submit, qmgr, local, smtp/inet) */
const MASTER_CF_SERVICE master_cf_upgrade_services[] = {
    {"smtp", "unix", "smtp      unix  -       -       n       -       -       smtp"},
    {"relay", "unix", "relay     unix  -       -       n       -       -       smtp"},
    {"lmtp", "unix", "lmtp      unix  -       -       n       -       -       smtp"},
    {"pickup", "unix", "pickup    unix  n       -       n       60      1       pickup"},
    {"showq", "unix", "showq     unix  n       -       n       -       -       showq"},
    {"postlog", "unix", "postlog   unix  n       -       n       -       1       postlogd"},
    {"anvil", "unix", "anvil     unix  -       -       n       -       1       anvil"},
    {"proxymap", "unix", "proxymap  unix  -       -       n       -       -       proxymap"},
    {0, 0, 0},
};

/* mcu_word - the white-space separated word at *CP (advanced past it) */

static size_t mcu_word(const char **cp, const char **start)
{
    const char *p = *cp;

    while (*p == ' ' || *p == '\t')
	p++;
    *start = p;
    while (*p && !isspace((unsigned char) *p))
	p++;
    *cp = p;
    return (p - *start);
}

/* mcu_has - does an entry of TEXT start with NAME and TYPE? */

static int mcu_has(const char *text, const char *name, const char *type)
{
    const char *line;
    const char *cp;
    const char *word;
    size_t  len;

    for (line = text; *line; line = *cp ? cp + 1 : cp) {
	cp = line;
	len = mcu_word(&cp, &word);
	if (word == line && len == strlen(name) && strncmp(word, name, len) == 0) {
	    len = mcu_word(&cp, &word);
	    if (len == strlen(type) && strncmp(word, type, len) == 0)
		return (1);
	}
	cp = strchrnul(cp, '\n');
    }
    return (0);
}

int     master_cf_upgrade_text(const char *text, VSTRING *add,
			               MASTER_CF_UPGRADE_FN fn, void *ctx)
{
    const MASTER_CF_SERVICE *sp;
    int     count = 0;

    vstring_reset(add);
    for (sp = master_cf_upgrade_services; sp->name; sp++) {
	if (mcu_has(text, sp->name, sp->type))
	    continue;
	vstring_sprintf_append(add, "%s\n", sp->line);
	if (fn)
	    fn(sp, ctx);
	count++;
    }
    return (count);
}

/* mcu_read - all of FD into TEXT; 0 or -1 (ERR) */

static int mcu_read(int fd, const char *path, VSTRING *text, VSTRING *err)
{
    char    buf[4096];
    ssize_t n;

    vstring_reset(text);
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
	vstring_memcat(text, buf, (size_t) n);
	if (LEN(text) > MCU_MAX_SIZE) {
	    vstring_sprintf(err, "read %s: file too large", path);
	    return (-1);
	}
    }
    if (n < 0) {
	vstring_sprintf(err, "read %s: %m", path);
	return (-1);
    }
    if (memchr(STR(text), 0, LEN(text)) != 0) {
	vstring_sprintf(err, "%s: file contains a null byte", path);
	return (-1);
    }
    return (0);
}

/* mcu_append - ADD at the end of the file open at FD (TEXT: what it holds) */

static int mcu_append(int fd, const char *path, const VSTRING *text,
		              const VSTRING *add, VSTRING *err)
{
    if (LEN(text) > 0 && STR(text)[LEN(text) - 1] != '\n'
	&& write_full(fd, "\n", 1) < 0) {
	vstring_sprintf(err, "write %s: %m", path);
	return (-1);
    }
    if (write_full(fd, STR(add), LEN(add)) < 0 || fsync(fd) < 0) {
	vstring_sprintf(err, "write %s: %m", path);
	return (-1);
    }
    return (0);
}

int     master_cf_upgrade(const char *path, MASTER_CF_UPGRADE_FN fn, void *ctx,
			          VSTRING *err)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *text = vstring_alloc(4096);
    VSTRING *add = vstring_alloc(500);
    int     count = -1;
    int     fd;

    if ((fd = safe_open(path, O_RDWR | O_APPEND, 0, (struct stat *) 0,
			-1, -1, why)) < 0) {
	vstring_sprintf(err, "open %s: %s", path, STR(why));
    } else {
	if (mcu_read(fd, path, text, err) == 0) {
	    count = master_cf_upgrade_text(STR(text), add, fn, ctx);
	    if (count > 0 && mcu_append(fd, path, text, add, err) < 0)
		count = -1;
	}
	if (close(fd) < 0 && count >= 0) {
	    vstring_sprintf(err, "close %s: %m", path);
	    count = -1;
	}
    }
    vstring_free(why);
    vstring_free(text);
    vstring_free(add);
    return (count);
}
