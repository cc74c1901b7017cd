/*
 * master_cf.c - parse master.cf into a table of services (see master_cf.h).
 *
 * The parser works on the whole file in memory: it joins continuation
 * lines into logical entries, splits each entry into white-space separated
 * fields, and checks every column.  Errors come back as text naming the
 * file and the line where the entry starts; nothing here exits.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <netdb.h>
#include "master_cf.h"
#include "mymalloc.h"
#include "vstream.h"
#include "vstring.h"

#define MASTER_CF_FIELDS	8	/* service ... command */
#define MASTER_CF_MAX_SIZE	(1024 * 1024)

const char *master_cf_type_name(int type)
{
    return (type == MASTER_CF_INET ? "inet" : "unix");
}

/* all_digits - non-empty decimal number */
static int all_digits(const char *s, size_t len)
{
    size_t  i;

    if (len == 0)
	return (0);
    for (i = 0; i < len; i++)
	if (!isdigit((unsigned char) s[i]))
	    return (0);
    return (1);
}

int     master_cf_inet_addr(const char *service, VSTRING *addr, VSTRING *err)
{
    const char *colon = strrchr(service, ':');
    const char *port = colon ? colon + 1 : service;
    size_t  hostlen = colon ? (size_t) (colon - service) : 0;
    struct servent *sp;
    long    num;

    if (*port == 0) {
	vstring_sprintf(err, "missing port in inet service \"%s\"", service);
	return (-1);
    }
    if (all_digits(port, strlen(port))) {
	num = strlen(port) > 5 ? 0 : atol(port);
	if (num < 1 || num > 65535) {
	    vstring_sprintf(err, "bad port number in inet service \"%s\"", service);
	    return (-1);
	}
    } else if ((sp = getservbyname(port, "tcp")) != 0) {
	num = ntohs((uint16_t) sp->s_port);
    } else {
	vstring_sprintf(err, "unknown service name \"%s\" in inet service \"%s\"",
			port, service);
	return (-1);
    }
    vstring_strncpy(addr, service, hostlen);
    vstring_sprintf_append(addr, ":%ld", num);
    return (0);
}

/* parse_bool - "y", "n" or "-" (DEFVAL) */
static int parse_bool(const char *field, int defval, int *result)
{
    if (strcmp(field, "-") == 0)
	*result = defval;
    else if (strcmp(field, "y") == 0)
	*result = 1;
    else if (strcmp(field, "n") == 0)
	*result = 0;
    else
	return (-1);
    return (0);
}

/* parse_number - decimal or "-" (DEFVAL), at most 9 digits */
static int parse_number(const char *field, int defval, int *result)
{
    if (strcmp(field, "-") == 0) {
	*result = defval;
	return (0);
    }
    if (!all_digits(field, strlen(field)) || strlen(field) > 9)
	return (-1);
    *result = atoi(field);
    return (0);
}

/* parse_wakeup - "-", "N" or "N?" */
static int parse_wakeup(const char *field, int *secs, int *cond)
{
    size_t  len = strlen(field);

    *cond = 0;
    if (strcmp(field, "-") == 0) {
	*secs = 0;
	return (0);
    }
    if (len > 1 && field[len - 1] == '?') {
	*cond = 1;
	len--;
    }
    if (!all_digits(field, len) || len > 9)
	return (-1);
    *secs = atoi(field);
    return (0);
}

/* split_fields - white-space separated words of LINE (modified in place) */
static char **split_fields(char *line, int *count)
{
    char  **argv = mymalloc(sizeof(*argv) * (strlen(line) / 2 + 2));
    int     n = 0;
    char   *cp = line;

    for (;;) {
	while (*cp && isspace((unsigned char) *cp))
	    cp++;
	if (*cp == 0)
	    break;
	argv[n++] = cp;
	while (*cp && !isspace((unsigned char) *cp))
	    cp++;
	if (*cp)
	    *cp++ = 0;
    }
    argv[n] = 0;
    *count = n;
    return (argv);
}

/* parse_entry - check the fields of one logical line into ENT; reason or NULL */
static const char *parse_entry(char **f, int nf, int default_maxproc,
			               MASTER_CF_ENT *ent, VSTRING *tmp)
{
    int     i;

    if (nf < MASTER_CF_FIELDS)
	return ("too few fields (need: service type private unpriv chroot wakeup maxproc command)");
    if (strcmp(f[1], "inet") == 0)
	ent->type = MASTER_CF_INET;
    else if (strcmp(f[1], "unix") == 0)
	ent->type = MASTER_CF_UNIX;
    else
	return ("bad transport type (need: inet or unix)");
    if (ent->type == MASTER_CF_UNIX && (strchr(f[0], '/') || strcmp(f[0], "..") == 0
					|| strcmp(f[0], ".") == 0))
	return ("bad unix service name");
    if (parse_bool(f[2], 1, &ent->private_) < 0)
	return ("bad private field (need: y, n or -)");
    if (parse_bool(f[3], 1, &ent->unpriv) < 0)
	return ("bad unprivileged field (need: y, n or -)");
    if (parse_bool(f[4], 0, &ent->chroot) < 0)
	return ("bad chroot field (need: y, n or -)");
    if (parse_wakeup(f[5], &ent->wakeup, &ent->wakeup_cond) < 0)
	return ("bad wakeup time (need: N, N? or -)");
    if (ent->wakeup > 0 && ent->type == MASTER_CF_INET)
	return ("wakeup is not supported for inet services");
    if (parse_number(f[6], default_maxproc, &ent->maxproc) < 0)
	return ("bad maximal process count (need: a number or -)");
    if (ent->type == MASTER_CF_INET) {
	VSTRING *addr = vstring_alloc(32);
	int     ok = master_cf_inet_addr(f[0], addr, tmp);

	vstring_free(addr);
	if (ok < 0)
	    return (STR(tmp));
    }
    ent->name = mystrdup(f[0]);
    ent->argc = nf - 7;
    ent->argv = mymalloc(sizeof(char *) * (ent->argc + 1));
    for (i = 0; i < ent->argc; i++)
	ent->argv[i] = mystrdup(f[7 + i]);
    ent->argv[ent->argc] = 0;
    return (0);
}

/* add_entry - parse LINE (from line LINENO) and append it to CF; 0 or -1 */
static int add_entry(MASTER_CF *cf, char *line, int lineno, const char *name,
		             int default_maxproc, VSTRING *err)
{
    MASTER_CF_ENT ent;
    VSTRING *tmp = vstring_alloc(64);
    const char *reason;
    char  **f;
    int     nf;
    int     i;

    memset(&ent, 0, sizeof(ent));
    f = split_fields(line, &nf);
    reason = parse_entry(f, nf, default_maxproc, &ent, tmp);
    for (i = 0; reason == 0 && i < cf->count; i++)
	if (strcmp(cf->ents[i].name, ent.name) == 0 && cf->ents[i].type == ent.type)
	    reason = "duplicate service name and type";
    if (reason) {
	vstring_sprintf(err, "%s, line %d: %s", name, lineno, reason);
	if (ent.name) {
	    for (i = 0; i < ent.argc; i++)
		myfree(ent.argv[i]);
	    myfree(ent.argv);
	    myfree(ent.name);
	}
    } else {
	ent.line = lineno;
	cf->ents = myrealloc(cf->ents, sizeof(ent) * (cf->count + 1));
	cf->ents[cf->count++] = ent;
    }
    myfree(f);
    vstring_free(tmp);
    return (reason ? -1 : 0);
}

/* skip_line - blank or comment line */
static int skip_line(const char *line)
{
    while (isspace((unsigned char) *line))
	line++;
    return (*line == 0 || *line == '#');
}

MASTER_CF *master_cf_parse_text(const char *text, const char *name,
				        int default_maxproc, VSTRING *err)
{
    MASTER_CF *cf = mycalloc(1, sizeof(*cf));
    VSTRING *entry = vstring_alloc(256);
    const char *cp = text;
    const char *eol;
    int     lineno = 0;
    int     start = 0;
    int     status = 0;

    for (; status == 0 && *cp; cp = *eol ? eol + 1 : eol) {
	char   *line;

	eol = strchrnul(cp, '\n');
	lineno++;
	line = mystrndup(cp, eol - cp);
	if (skip_line(line)) {
	    /* nothing */
	} else if (isspace((unsigned char) *line)) {
	    if (start == 0) {
		vstring_sprintf(err, "%s, line %d: continuation line without a preceding entry",
				name, lineno);
		status = -1;
	    }
	    vstring_addch(entry, ' ');
	    vstring_strcat(entry, line);
	} else {
	    if (start)
		status = add_entry(cf, STR(entry), start, name, default_maxproc, err);
	    vstring_strcpy(entry, line);
	    start = lineno;
	}
	myfree(line);
    }
    if (status == 0 && start)
	status = add_entry(cf, STR(entry), start, name, default_maxproc, err);
    vstring_free(entry);
    if (status < 0) {
	master_cf_free(cf);
	return (0);
    }
    return (cf);
}

MASTER_CF *master_cf_parse(const char *path, int default_maxproc, VSTRING *err)
{
    VSTREAM *fp = vstream_open(path, O_RDONLY, 0);
    VSTRING *text;
    MASTER_CF *cf;
    char    buf[4096];
    ssize_t n;

    if (fp == 0) {
	vstring_sprintf(err, "open %s: %s", path, strerror(errno));
	return (0);
    }
    text = vstring_alloc(4096);
    while ((n = vstream_read(fp, buf, sizeof(buf))) > 0 && LEN(text) < MASTER_CF_MAX_SIZE)
	vstring_memcat(text, buf, n);
    if (n < 0 || LEN(text) >= MASTER_CF_MAX_SIZE) {
	vstring_sprintf(err, "read %s: %s", path, n < 0 ? strerror(errno) : "file too large");
	cf = 0;
    } else if (memchr(STR(text), 0, LEN(text)) != 0) {
	vstring_sprintf(err, "%s: file contains a null byte", path);
	cf = 0;
    } else {
	cf = master_cf_parse_text(STR(text), path, default_maxproc, err);
    }
    vstream_close(fp);
    vstring_free(text);
    return (cf);
}

void    master_cf_free(MASTER_CF *cf)
{
    int     i;
    int     j;

    if (cf == 0)
	return;
    for (i = 0; i < cf->count; i++) {
	for (j = 0; j < cf->ents[i].argc; j++)
	    myfree(cf->ents[i].argv[j]);
	myfree(cf->ents[i].argv);
	myfree(cf->ents[i].name);
    }
    myfree(cf->ents);
    myfree(cf);
}
