/*
 * postconf.c - show or edit main.cf and master.cf, as Postfix's postconf.
 *
 *   postconf [-c dir] [-C class] [-dfhHnopvx] [-o name=value] [name...]
 *   postconf [-c dir] [-e] name=value...          (edit main.cf)
 *   postconf [-c dir] -X|-# name...               (remove, comment out)
 *   postconf [-c dir] -M[fx] [name[/type]...]     (master.cf entries)
 *   postconf [-c dir] -M[e|X|#] name/type[=entry]...
 *   postconf [-c dir] -F[fhHx] [name[/type[/field]]...]
 *   postconf [-c dir] -Fe name/type/field=value...
 *   postconf [-c dir] -P[fhHx] [name[/type[/parameter]]...]
 *   postconf [-c dir] -P[e|X] name/type/parameter[=value]...
 *   postconf [-c dir] -m | -l | -a | -A | -T mode
 *
 * This file parses the options, checks that they go together with
 * Postfix's rules and messages ("specify one of -d -n", "with option -M,
 * do not specify -h"), and hands over: postconf_main.c (main.cf
 * parameters), postconf_master.c (master.cf), postconf_edit.c (edits),
 * postconf_other.c (-m -l -a -A -T).  Options end at the first name, as
 * with Postfix.  Errors exit with status 1, as Postfix's.
 */
#include "sys_defs.h"
#include <ctype.h>
#include "mail_conf.h"
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"

/* The option letters, in the order Postfix names them in messages */
static const struct {
    const char *name;
    int     flag;
} pc_option_names[] = {
    {"-a", PC_SHOW_SASL_SERV}, {"-A", PC_SHOW_SASL_CLNT},
    {"-b", PC_EXP_DSN_TEMPL}, {"-d", PC_SHOW_DEFS}, {"-e", PC_EDIT_CONF},
    {"-f", PC_FOLD_LINE}, {"-F", PC_MASTER_FLD}, {"-h", PC_HIDE_NAME},
    {"-H", PC_HIDE_VALUE}, {"-l", PC_SHOW_LOCKS}, {"-m", PC_SHOW_MAPS},
    {"-M", PC_MASTER_ENTRY}, {"-n", PC_SHOW_NONDEF}, {"-o", PC_MAIN_OVER},
    {"-p", PC_MAIN_PARAM}, {"-P", PC_MASTER_PARAM}, {"-t", PC_DUMP_DSN_TEMPL},
    {"-T", PC_SHOW_TLS}, {"-x", PC_SHOW_EVAL}, {"-X", PC_EDIT_EXCL},
    {"-#", PC_COMMENT_OUT}, {0, 0},
};

/* Options of which at most one may be given: the modes, then modifiers */
#define PC_MODES	(PC_SHOW_SASL_SERV | PC_SHOW_SASL_CLNT | PC_EXP_DSN_TEMPL \
	| PC_SHOW_LOCKS | PC_SHOW_MAPS | PC_DUMP_DSN_TEMPL | PC_MAIN_PARAM \
	| PC_MASTER_ENTRY | PC_MASTER_FLD | PC_MASTER_PARAM | PC_SHOW_TLS)
#define PC_EDITS	(PC_EDIT_CONF | PC_COMMENT_OUT | PC_EDIT_EXCL)

static const int pc_exclusive[] = {
    PC_MODES,
    PC_SHOW_DEFS | PC_SHOW_NONDEF | PC_EDITS,
    PC_FOLD_LINE | PC_EDITS,
    PC_SHOW_EVAL | PC_EDITS,
    PC_MAIN_OVER | PC_SHOW_DEFS | PC_EDITS,
    PC_HIDE_NAME | PC_HIDE_VALUE | PC_EDITS,
    0,
};

/* Each mode, and the modifiers that go with it */
static const int pc_compatible[][2] = {
    {PC_SHOW_SASL_SERV, 0},
    {PC_SHOW_SASL_CLNT, 0},
    {PC_EXP_DSN_TEMPL, 0},
    {PC_SHOW_LOCKS, 0},
    {PC_SHOW_MAPS, 0},
    {PC_SHOW_TLS, 0},
    {PC_DUMP_DSN_TEMPL, 0},
    {PC_MAIN_PARAM, PC_EDITS | PC_FOLD_LINE | PC_HIDE_NAME | PC_SHOW_EVAL
    | PC_SHOW_DEFS | PC_SHOW_NONDEF | PC_MAIN_OVER | PC_HIDE_VALUE},
    {PC_MASTER_ENTRY, PC_EDITS | PC_FOLD_LINE | PC_MAIN_OVER | PC_SHOW_EVAL},
    {PC_MASTER_FLD, PC_EDIT_CONF | PC_FOLD_LINE | PC_HIDE_NAME | PC_MAIN_OVER
    | PC_SHOW_EVAL | PC_HIDE_VALUE},
    {PC_MASTER_PARAM, PC_EDIT_CONF | PC_EDIT_EXCL | PC_FOLD_LINE | PC_HIDE_NAME
    | PC_MAIN_OVER | PC_SHOW_EVAL | PC_HIDE_VALUE},
    {0, 0},
};

static NORETURN pc_usage(void)
{
    msg_fatal("usage: postconf"
	      " [-a (server SASL types)]"
	      " [-A (client SASL types)]"
	      " [-b (bounce templates)]"
	      " [-c config_dir]"
	      " [-C param_class]"
	      " [-d (parameter defaults)]"
	      " [-e (edit configuration)]"
	      " [-f (fold lines)]"
	      " [-F (master.cf fields)]"
	      " [-h (no names)]"
	      " [-H (no values)]"
	      " [-l (lock types)]"
	      " [-m (map types)]"
	      " [-M (master.cf)]"
	      " [-n (non-default parameters)]"
	      " [-o name=value (override parameter value)]"
	      " [-p (main.cf, default)]"
	      " [-P (master.cf parameters)]"
	      " [-t (bounce templates)]"
	      " [-T compile-version|run-version|public-key-algorithms]"
	      " [-v (verbose)]"
	      " [-x (expand parameter values)]"
	      " [-X (exclude)]"
	      " [-# (comment-out)]"
	      " [name...]");
}

/* pc_option_list - the names of the options in FLAGS, space separated */

static char *pc_option_list(int flags)
{
    VSTRING *buf = vstring_alloc(32);
    int     i;

    for (i = 0; pc_option_names[i].name; i++) {
	if (flags & pc_option_names[i].flag) {
	    if (LEN(buf))
		vstring_addch(buf, ' ');
	    vstring_strcat(buf, pc_option_names[i].name);
	}
    }
    return (vstring_export(buf));
}

/* pc_check_options - at most one of each group; no modifier a mode refuses */

static void pc_check_options(int mode)
{
    int     i;
    int     both;
    int     excess;

    for (i = 0; pc_exclusive[i]; i++) {
	both = mode & pc_exclusive[i];
	if (both & (both - 1))
	    msg_fatal("specify one of %s", pc_option_list(both));
    }
    for (i = 0; pc_compatible[i][0]; i++) {
	if ((mode & pc_compatible[i][0]) == 0)
	    continue;
	excess = mode & ~(pc_compatible[i][0] | pc_compatible[i][1]);
	if (excess)
	    msg_fatal("with option %s, do not specify %s",
		      pc_option_list(pc_compatible[i][0]), pc_option_list(excess));
    }
}

/* pc_show_master - -M, -F or -P without editing */

static void pc_show_master(VSTREAM *out, int mode, int argc, char **argv)
{
    pc_read_master(PC_FAIL_ON_OPEN);
    mail_conf_read(0);
    if (mode & PC_MASTER_FLD)
	pc_show_master_fields(out, mode, argc, argv);
    else if (mode & PC_MASTER_PARAM)
	pc_show_master_params(out, mode, argc, argv);
    else
	pc_show_master_entries(out, mode, argc, argv);
    pc_flag_unused_master();
}

/* pc_run - do what MODE says */

static void pc_run(VSTREAM *out, int mode, int argc, char **argv, const char *tls_arg)
{
    if (mode & (PC_EXP_DSN_TEMPL | PC_DUMP_DSN_TEMPL)) {
	pc_no_templates();
    } else if (mode & PC_SHOW_MAPS) {
	mail_conf_read(MAIL_CONF_MISSING_OK);
	pc_show_maps(out);
    } else if (mode & PC_SHOW_LOCKS) {
	pc_show_locks(out);
    } else if ((mode & PC_ANY_MASTER) && !(mode & PC_EDITS)) {
	pc_show_master(out, mode, argc, argv);
    } else if (mode & (PC_SHOW_SASL_SERV | PC_SHOW_SASL_CLNT)) {
	pc_show_sasl(out, mode);
    } else if (mode & PC_SHOW_TLS) {
	pc_show_tls(out, tls_arg);
    } else if (mode & PC_EDITS) {
	if (argc == 0)
	    msg_fatal("missing service argument");
	if (mode & PC_ANY_MASTER)
	    pc_edit_master(mode, argc, argv);
	else
	    pc_edit_main(mode, argc, argv);
    } else {
	pc_read_main(mode);
	pc_show_main(out, mode, argv);
	if (!(mode & PC_SHOW_DEFS)) {
	    pc_flag_unused_main();
	    pc_flag_unused_master();
	}
    }
}

/* pc_parse_class - -C builtin,service,user,all (any case) */

static int pc_parse_class(const char *text)
{
    static const struct {
	const char *name;
	int     mask;
    } classes[] = {
	{"builtin", PC_CLASS_BUILTIN}, {"service", PC_CLASS_SERVICE},
	{"user", PC_CLASS_USER}, {"all", PC_CLASS_ALL}, {0, 0},
    };
    const char *p = text;
    char   *word;
    size_t  len;
    int     mask = 0;
    int     i;

    for (; *(p += strspn(p, ", \t\r\n")) != 0; p += len) {
	len = strcspn(p, ", \t\r\n");
	word = mystrndup(p, len);
	for (i = 0; classes[i].name && strcasecmp(classes[i].name, word) != 0; i++)
	     /* void */ ;
	if (classes[i].name == 0)
	    msg_fatal("unknown -C option value \"%s\" in \"%s\"", word, text);
	mask |= classes[i].mask;
	myfree(word);
    }
    return (mask);
}

/* pc_option - one option letter into MODE; 0, or -1 for an unknown one */

static int pc_option(int ch, int *mode)
{
    int     i;

    for (i = 0; pc_option_names[i].name; i++) {
	if (pc_option_names[i].name[1] == ch) {
	    *mode |= pc_option_names[i].flag;
	    return (0);
	}
    }
    return (-1);
}

int     main(int argc, char **argv)
{
    VSTREAM *out;
    const char *tls_arg = 0;
    int     mode = 0;
    int     ch;

    msg_init("postconf", MSG_TO_STDERR);
    umask(022);
    while ((ch = getopt(argc, argv, "+aAbc:C:defFhHlmMno:pPtT:vxX#")) > 0) {
	switch (ch) {
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'C':
	    pc_param_class = pc_parse_class(optarg);
	    break;
	case 'o':
	    mode |= PC_MAIN_OVER;
	    mail_conf_override(optarg);
	    break;
	case 'T':
	    if (mode & PC_SHOW_TLS)
		msg_fatal("At most one -T <mode> option may be specified");
	    mode |= PC_SHOW_TLS;
	    tls_arg = optarg;
	    break;
	case 'b':
	case 't':
	    if (mode & (PC_EXP_DSN_TEMPL | PC_DUMP_DSN_TEMPL))
		msg_fatal("specify one of -b and -t");
	    pc_option(ch, &mode);
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    if (pc_option(ch, &mode) < 0)
		pc_usage();
	}
    }
    if ((mode & PC_MODES) == 0)
	mode |= PC_MAIN_PARAM;
    if ((mode & (PC_MAIN_PARAM | PC_ANY_MASTER)) && optind < argc
	&& strchr(argv[optind], '=') != 0)
	mode |= PC_EDIT_CONF;
    pc_check_options(mode);
    if ((mode & PC_EDIT_CONF) && optind == argc)
	msg_fatal("-e requires name=value argument");
    out = vstream_stdout();
    pc_run(out, mode, argc - optind, argv + optind, tls_arg);
    if (vstream_flush(out) < 0)
	msg_fatal("write standard output: %m");
    exit(0);
}
