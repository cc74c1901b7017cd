/*
 * conf_check.h - what "posthorn check" finds wrong in main.cf and
 * master.cf, in Postfix's words.
 *
 * A CONF_CHECK counts problems and hands each one, as one line of text,
 * to the caller's REPORT function with its severity:
 *
 *   CONF_CHECK_WARN   the mail system runs, but something looks wrong and
 *                     Postfix warns too: an unused parameter, a $name
 *                     that nothing defines
 *   CONF_CHECK_ERROR  a part of the mail system will fail: a table that
 *                     does not open, a daemon that is not there, a queue
 *                     directory others can write; "posthorn check" fails,
 *                     "posthorn start" warns and starts
 *   CONF_CHECK_FATAL  the mail system cannot run as configured: a value
 *                     Postfix refuses, a master.cf syntax error; "check"
 *                     and "start" both fail
 *
 * conf_check_main() looks at every setting of main.cf (after
 * mail_conf_read()): the $name syntax of each value, each known
 * parameter's value against its type and bounds (mail_params.c), the
 * parameters per master.cf service that Postfix knows (SERVICE_time_limit,
 * SERVICE_destination_concurrency_limit, ...), and names that nothing
 * reads.  Values are expanded with conf_expand() only after the value and
 * everything it refers to proved free of syntax errors and loops, so a
 * check never dies on what it was asked to find.
 *
 * conf_check_master() (conf_check_master.c) reads master.cf: syntax (master_cf_parse()), that
 * each service's command can be run, its -o values, and the postlog
 * service that maillog_file needs.  The parsed file comes back in *CFP
 * (NULL when it could not be read) for conf_check_main() and the caller.
 *
 * conf_check_expand() checks and expands one raw value; conf_check_value()
 * checks a value against a parameter type; both are what the two above
 * use for main.cf and for master.cf -o values.
 *
 * Nothing here exits: every problem is reported and counted.
 */
#ifndef CONF_CHECK_H
#define CONF_CHECK_H

#include "sys_defs.h"
#include "htable.h"
#include "mail_conf.h"
#include "master_cf.h"
#include "vstring.h"

#define CONF_CHECK_WARN		1
#define CONF_CHECK_ERROR	2
#define CONF_CHECK_FATAL	3

typedef void (*CONF_CHECK_REPORT) (int severity, const char *text, void *ctx);

typedef struct CONF_CHECK {
    CONF_CHECK_REPORT report;
    void   *ctx;
    int     count[CONF_CHECK_FATAL + 1];	/* problems per severity */
    HTABLE *refs;		/* conf_check.c: every $name seen */
    HTABLE *state;		/* conf_check.c: expansion checks */
} CONF_CHECK;

void	conf_check_init(CONF_CHECK *cc, CONF_CHECK_REPORT report, void *ctx);
void	conf_check_free(CONF_CHECK *cc);

/* conf_check_report - one problem: count it, hand it to the REPORT function */
void	conf_check_report(CONF_CHECK *cc, int severity, const char *fmt,...) PRINTFLIKE(3, 4);

void	conf_check_main(CONF_CHECK *cc, const MASTER_CF *cf);
void	conf_check_master(CONF_CHECK *cc, MASTER_CF **cfp);

/*
 * conf_check_expand - RAW (the value of NAME, found at WHERE: "DIR/main.cf",
 * "DIR/master.cf, line N") expanded into OUT: 0; -1 when RAW or what it
 * refers to has a syntax error or a loop (reported) and cannot be expanded.
 */
int	conf_check_expand(CONF_CHECK *cc, const char *where, const char *name,
			          const char *raw, VSTRING *out);

/*
 * conf_check_value - VALUE (expanded) for a parameter of TYPE (PARAM_INT
 * ...) with P's bounds (P may be NULL: no bounds, default time unit 's'):
 * 0 when good, else -1 with the problem reported as fatal, in the words
 * the daemons use when they read it.
 */
int	conf_check_value(CONF_CHECK *cc, const char *where, const char *name,
			         int type, const MAIL_PARAM *p, const char *value);

/*
 * conf_check_param - the value of NAME expanded into BUF, or NULL when
 * nothing defines NAME or its value cannot be expanded (a syntax error or
 * a loop, which conf_check_main() reports); reports nothing itself.
 */
const char *conf_check_param(CONF_CHECK *cc, const char *name, VSTRING *buf);

/*
 * conf_check_options - FN(ENT, NAME, VALUE, CTX) for each "-o name=value"
 * of each service of CF (the options before the first word that is not
 * one); a -o without "name=value" gets NAME NULL and the word in VALUE.
 */
typedef void (*CONF_CHECK_OPTION_FN) (const MASTER_CF_ENT *ent, const char *name,
				              const char *value, void *ctx);
void	conf_check_options(const MASTER_CF *cf, CONF_CHECK_OPTION_FN fn, void *ctx);

/* conf_check_service_param - TYPE of NAME as a per-service parameter of CF, or 0 */
int	conf_check_service_param(const MASTER_CF *cf, const char *name);

#endif
