/*
 * master_cf.h - parse master.cf, the table of services master runs.
 *
 * Postfix's format: one service per line with the columns
 *     service type private unpriv chroot wakeup maxproc command [args...]
 * '-' in a column means its default (private y, unpriv y, chroot n,
 * wakeup 0, maxproc DEFAULT_MAXPROC); a line that starts with white space
 * continues the previous one; '#' lines and empty lines are ignored.
 * type is "inet" (service = [host:]port, port numeric or a name from
 * /etc/services) or "unix" (a socket named public/SERVICE, or
 * private/SERVICE when private=y, under queue_directory).  wakeup is "N"
 * (master triggers the service every N seconds) or "N?" (only while the
 * service has processes); maxproc 0 means no limit.
 *
 * master_cf_parse() never dies: on a syntax error it returns NULL and puts
 * "FILE, line N: reason" into ERR, so that master can refuse a bad file
 * on reload and keep running with the old one.
 */
#ifndef MASTER_CF_H
#define MASTER_CF_H

#include "sys_defs.h"
#include "vstring.h"

#define MASTER_CF_INET	1
#define MASTER_CF_UNIX	2

typedef struct MASTER_CF_ENT {
    char   *name;			/* service column as written */
    int     type;			/* MASTER_CF_INET or MASTER_CF_UNIX */
    int     private_;			/* unix: socket in private/ */
    int     unpriv;			/* run as mail_owner (-u) */
    int     chroot;			/* chroot into the queue (-z) */
    int     wakeup;			/* seconds between wakeups, 0 = none */
    int     wakeup_cond;		/* "N?": only when processes exist */
    int     maxproc;			/* 0 = no limit */
    int     argc;			/* command and its arguments */
    char  **argv;			/* NULL-terminated */
    int     line;			/* where the entry started */
} MASTER_CF_ENT;

typedef struct MASTER_CF {
    int     count;
    MASTER_CF_ENT *ents;
} MASTER_CF;

/* master_cf_parse_text - parse TEXT (named NAME in errors); NULL + ERR on error */
MASTER_CF *master_cf_parse_text(const char *text, const char *name,
				        int default_maxproc, VSTRING *err);

/* master_cf_parse - the same for the file PATH (an unreadable file is an error) */
MASTER_CF *master_cf_parse(const char *path, int default_maxproc, VSTRING *err);

void	master_cf_free(MASTER_CF *cf);

/*
 * master_cf_inet_addr - turn an inet service column ("[host:]port", port
 * numeric or an /etc/services name) into "host:NUMBER" or ":NUMBER" in
 * ADDR; 0 ok, -1 with a reason in ERR.
 */
int	master_cf_inet_addr(const char *service, VSTRING *addr, VSTRING *err);

/* master_cf_type_name - "inet" or "unix" */
const char *master_cf_type_name(int type);

/*
 * The text view (master_cf_words.c), for postconf -M, -F and -P: an entry
 * as its words, with none of the daemon's interpretation, so that every
 * service type Postfix knows (inet, unix, unix-dgram, fifo, pass) can be
 * shown and edited as Postfix's postconf does.
 *
 * master_cf_entry() reads the next logical entry of TEXT from *CURSOR on
 * into ENTRY: physical lines joined as they are (without their newlines),
 * blank and '#' lines skipped also inside an entry; *LINENO counts lines
 * and *FIRST is the line where the entry starts.  Text that continues no
 * entry is warned about (naming PATH) and skipped.  0 at the end.
 *
 * master_cf_words() splits an entry into words at white space, except
 * inside "{...}"; master_cf_words_normalize() brings the command options
 * into one form ("-vo x" -> "-v" "-o" "x", "-oname=value" -> "-o"
 * "name=value", "-o { name = value }" -> "-o" "name=value", an argument
 * "{ text }" -> "text"; a bad group is warned about as "master.cf: ...");
 * master_cf_words_check() makes Postfix postconf's column checks and
 * returns NULL or the reason (in WHY).
 */
typedef struct MASTER_CF_WORDS {
    int     argc;
    char  **argv;			/* NULL-terminated */
    int     cap;
} MASTER_CF_WORDS;

#define MASTER_CF_FLD_SERVICE	0
#define MASTER_CF_FLD_TYPE	1
#define MASTER_CF_FLD_PRIVATE	2
#define MASTER_CF_FLD_UNPRIV	3
#define MASTER_CF_FLD_CHROOT	4
#define MASTER_CF_FLD_WAKEUP	5
#define MASTER_CF_FLD_MAXPROC	6
#define MASTER_CF_FLD_COMMAND	7

/* An option of the command: "-x", but not "--" (which ends the options) */
#define MASTER_CF_IS_OPTION(w)	((w)[0] == '-' && strcmp((w), "--") != 0)

int	master_cf_entry(const char **cursor, const char *path, int *lineno,
			        VSTRING *entry, int *first);
MASTER_CF_WORDS *master_cf_words(const char *entry);
void	master_cf_words_append_text(MASTER_CF_WORDS *w, const char *text);
void	master_cf_words_normalize(MASTER_CF_WORDS *w);
const char *master_cf_words_check(const MASTER_CF_WORDS *w, VSTRING *why);
void	master_cf_words_add(MASTER_CF_WORDS *w, const char *word);
void	master_cf_words_insert(MASTER_CF_WORDS *w, int at, const char *word);
void	master_cf_words_delete(MASTER_CF_WORDS *w, int at, int count);
void	master_cf_words_replace(MASTER_CF_WORDS *w, int at, const char *word);
void	master_cf_words_truncate(MASTER_CF_WORDS *w, int count);
void	master_cf_words_free(MASTER_CF_WORDS *w);

/* master_cf_field_name - "service" ... "command"; _code: the reverse, -1 unknown */
const char *master_cf_field_name(int field);
int	master_cf_field_code(const char *name);

#endif
