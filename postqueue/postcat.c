/*
 * postcat.c - show the contents of queue files (root and mail_owner).
 *
 *   postcat [-bdehoqrv] [-c config_dir] [-s offset] [files...]
 *
 * As Postfix 3.7's: -e envelope records, -h message header, -b body
 * (without any of the three: all of them), -o the file offset of each
 * record, -d its decimal type, -r records in file order, -s OFFSET
 * start there, -v verbose (content lines named), -q the arguments are
 * queue ids, looked for in maildrop, incoming, active, deferred, hold and
 * corrupt (twice, as a message may move meanwhile).  No file (also with
 * -q): standard input, named "stdin".  Output: postcat_print.c.  Files
 * are opened read-only and never locked.  Errors are fatal with status
 * 1 (a bad option with getopt's complaint and Postfix's usage line); a
 * file that is no queue file is only warned about.
 *
 * Parameters: queue_directory, hash_queue_names, hash_queue_depth.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "mail_queue.h"
#include "postcat.h"

static NORETURN usage(void)
{
    msg_fatal("usage: %s [-b (body text)] [-c config_dir] [-d (decimal record type)] "
	      "[-e (envelope records)] [-h (header text)] [-q (access queue)] "
	      "[-v] [file(s)...]", msg_progname());
}

/* pc_offset - the -s argument: digits only, as Postfix */

static off_t pc_offset(const char *arg)
{
    const char *cp;

    for (cp = arg; isdigit((unsigned char) *cp); cp++)
	 /* void */ ;
    if (cp == arg || *cp != 0 || cp - arg > 18)
	msg_fatal("bad offset: %s", arg);
    return ((off_t) atoll(arg));
}

/* pc_queue_file - postcat -q ID: find it in the queues */

static void pc_queue_file(const char *id, const PC_OPTS *opts)
{
    static const char *queues[] = {
	MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, MAIL_QUEUE_CORRUPT, 0,
    };
    VSTRING *path = vstring_alloc(64);
    VSTREAM *fp = 0;

    if (!mail_queue_id_ok(id))
	msg_fatal("bad mail queue ID: %s", id);
    for (int tries = 0; fp == 0 && tries < 2; tries++)
	for (const char **qp = queues; fp == 0 && *qp; qp++)
	    fp = vstream_open(mail_queue_path(path, *qp, id), O_RDONLY, 0);
    if (fp == 0)
	msg_fatal("open queue file %s: %m", id);
    postcat_print(fp, STR(path), opts);
    vstream_close(fp);
    vstring_free(path);
}

/* pc_file - postcat FILE */

static void pc_file(const char *name, const PC_OPTS *opts)
{
    VSTREAM *fp;

    if ((fp = vstream_open(name, O_RDONLY, 0)) == 0)
	msg_fatal("open %s: %m", name);
    postcat_print(fp, name, opts);
    vstream_close(fp);
}

/* pc_args - the options into OPTS; returns 1 for -q */

static int pc_args(int argc, char **argv, PC_OPTS *opts)
{
    int     search_queue = 0;
    int     ch;

    argv[0] = (char *) msg_progname();	/* getopt's complaints */
    while ((ch = getopt(argc, argv, "+bc:dehoqrs:v")) != -1) {
	switch (ch) {
	case 'b':
	    opts->flags |= PC_FLAG_BODY;
	    break;
	case 'c':
	    mail_conf_set_dir(optarg);
	    break;
	case 'd':
	    opts->flags |= PC_FLAG_DECIMAL;
	    break;
	case 'e':
	    opts->flags |= PC_FLAG_ENV;
	    break;
	case 'h':
	    opts->flags |= PC_FLAG_HEADER;
	    break;
	case 'o':
	    opts->flags |= PC_FLAG_OFFSET;
	    break;
	case 'q':
	    search_queue = 1;
	    break;
	case 'r':
	    opts->flags |= PC_FLAG_RAW;
	    break;
	case 's':
	    opts->start = pc_offset(optarg);
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    usage();
	}
    }
    if ((opts->flags & PC_MASK_ALL) == 0)
	opts->flags |= PC_MASK_ALL;
    return (search_queue);
}

int     main(int argc, char **argv)
{
    PC_OPTS opts;
    int     search_queue;

    msg_init("postcat", MSG_TO_STDERR);
    memset(&opts, 0, sizeof(opts));
    search_queue = pc_args(argc, argv, &opts);
    mail_conf_read(0);
    if (optind == argc) {
	postcat_print(vstream_stdin(), "stdin", &opts);
    } else if (search_queue) {
	mail_queue_chdir();
	for (; optind < argc; optind++)
	    pc_queue_file(argv[optind], &opts);
    } else {
	for (; optind < argc; optind++)
	    pc_file(argv[optind], &opts);
    }
    return (0);
}
