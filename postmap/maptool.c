/*
 * maptool.c - the body shared by postmap(1) and postalias(1).
 *
 *   postmap   [-Nfinoprsuvw] [-c dir] [-d key] [-q key] [type:]file ...
 *   postalias [-Nfinoprsuvw] [-c dir] [-d key] [-q key] [type:]file ...
 *
 * Both commands are the same program with a different source format
 * (lib/tables/table_source.h: "key value" for postmap, aliases(5) for postalias)
 * and a different output separator ("key<TAB>value" against
 * "key:<TAB>value").  postmap.c and postalias.c each call maptool_main()
 * from main() with their MAPTOOL description.
 *
 * Behaviour follows Postfix 3.7:
 *  - without -q/-s/-d each file is compiled into FILE.db (hash, btree)
 *    or FILE.lmdb (lmdb), built in a temporary file that dict_close()
 *    renames into place;
 *    -i adds entries read from standard input to the existing table;
 *  - keys are folded to lower case (not with -f, never for the pattern
 *    tables pcre, regexp and cidr);
 *  - keys and values are stored with their trailing NUL byte, as Postfix
 *    does on Linux (-n: without; -N: with, explicitly);
 *  - a duplicate key keeps the first value and is warned about with the
 *    file name and line (-w: quietly; -r: the later value wins);
 *  - as root, a source file owned by another user is processed with that
 *    user's effective uid/gid, so the database belongs to the same owner
 *    (-o: keep root); the database gets the source file's group/other read
 *    permissions (-p: plain 0644);
 *  - postalias also stores Sendmail's "@" -> "@" entry and the NIS
 *    YP_LAST_MODIFIED / YP_MASTER_NAME entries (without NUL), as Postfix.
 *
 * Parameters: default_database_type, myhostname (postalias only).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <time.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "mail_conf.h"
#include "dict.h"
#include "table_source.h"
#include "maptool.h"

#define MAPTOOL_KEY_PIECE	4096	/* -q -/-d -: keys are read this much at a time */

#define MAPTOOL_DUP_MASK \
	(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_REPLACE | DICT_FLAG_DUP_IGNORE)
#define MAPTOOL_NUL_MASK	(DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)

/* The command line */
typedef struct MAPTOOL_OPTS {
    int     as_owner;			/* as root: run as the source file's owner */
    int     save_perm;			/* copy group/other read bits */
    int     incremental;		/* -i: add from stdin, keep the table */
    int     fold;			/* fold keys (not -f) */
    int     nul_flags;			/* -N/-n: DICT_FLAG_TRY1NULL/TRY0NULL, or 0 */
    int     dup_flag;			/* DICT_FLAG_DUP_WARN/_REPLACE/_IGNORE */
    const char *query;			/* -q */
    const char *delkey;			/* -d */
    int     sequence;			/* -s */
} MAPTOOL_OPTS;

/* A "[type:]name" argument split into its parts */
typedef struct MAPTOOL_MAP {
    VSTRING *spec;			/* "type:name" */
    VSTRING *type;
    const char *name;			/* points into spec */
} MAPTOOL_MAP;

static NORETURN maptool_usage(const MAPTOOL *tool)
{
    msg_fatal("usage: %s [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]"
	      " [map_type:]file...", tool->progname);
}

/* maptool_map - split ARG; without "type:" the default_database_type is used */

static void maptool_map(MAPTOOL_MAP *map, const char *arg)
{
    const char *colon = strchr(arg, ':');

    map->spec = vstring_alloc(100);
    map->type = vstring_alloc(10);
    if (colon == 0 || colon == arg)
	vstring_sprintf(map->spec, "%s:%s", conf_str("default_database_type"), arg);
    else
	vstring_strcpy(map->spec, arg);
    colon = strchr(STR(map->spec), ':');
    vstring_strncpy(map->type, STR(map->spec), colon - STR(map->spec));
    map->name = colon + 1;
}

static void maptool_map_free(MAPTOOL_MAP *map)
{
    vstring_free(map->spec);
    vstring_free(map->type);
}

/* maptool_fixed_case - tables whose keys are fixed strings (fold them) */

static int maptool_fixed_case(const char *type)
{
    return (strcmp(type, "pcre") != 0 && strcmp(type, "regexp") != 0
	    && strcmp(type, "cidr") != 0);
}

/* maptool_bulk_type - tables that postmap/postalias can build */

static int maptool_bulk_type(const char *type)
{
    return (strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0
	    || strcmp(type, "lmdb") == 0);
}

/* maptool_read_flags - dict flags for queries, deletes and dumps */

static int maptool_read_flags(const MAPTOOL_OPTS *opts, const MAPTOOL_MAP *map)
{
    int     flags = opts->nul_flags;	/* 0: the table tries both forms */

    if (opts->fold && maptool_fixed_case(STR(map->type)))
	flags |= DICT_FLAG_FOLD_KEY;
    return (flags);
}

/* maptool_fold - KEY folded into BUF when the table folds keys */

static const char *maptool_fold(VSTRING *buf, const char *key, int flags)
{
    if ((flags & DICT_FLAG_FOLD_KEY) == 0)
	return (key);
    vstring_strcpy(buf, key);
    vstring_lowercase(buf);
    return (STR(buf));
}

/* maptool_set_eugid - effective uid/gid (and groups) of the source file's owner */

static void maptool_set_eugid(uid_t uid, gid_t gid)
{
    if (geteuid() != 0 && seteuid(0) < 0)
	msg_fatal("seteuid(0): %m");
    if (setegid(gid) < 0)
	msg_fatal("setegid(%ld): %m", (long) gid);
    if (setgroups(1, &gid) < 0)
	msg_fatal("setgroups(1, &%ld): %m", (long) gid);
    if (seteuid(uid) < 0)
	msg_fatal("seteuid(%ld): %m", (long) uid);
    if (msg_verbose)
	msg_info("running as uid %ld gid %ld", (long) uid, (long) gid);
}

/* maptool_get_key - one line of IN without its newline; 0 at EOF */

static int maptool_get_key(VSTREAM *in, VSTRING *key, VSTRING *piece)
{
    int     last;

    vstring_reset(key);
    while ((last = vstream_get_line(in, piece, MAPTOOL_KEY_PIECE)) != VSTREAM_EOF) {
	if (last == '\n') {
	    vstring_memcat(key, STR(piece), LEN(piece) - 1);
	    return (1);
	}
	vstring_memcat(key, STR(piece), LEN(piece));
    }
    if (vstream_error(in))
	msg_fatal("read standard input: %m");
    return (LEN(key) > 0);		/* a last line without newline */
}

/* maptool_signatures - postalias: Sendmail's "@" and the NIS entries */

static void maptool_signatures(DICT *dict)
{
    VSTRING *stamp = vstring_alloc(20);

    dict->flags = (dict->flags & ~MAPTOOL_DUP_MASK) | DICT_FLAG_DUP_REPLACE;
    if (dict_update(dict, "@", "@") < 0)
	msg_fatal("table %s:%s: write error", dict->type, dict->name);

    /* NIS wants these without the trailing NUL, whatever the table uses */
    dict->flags &= ~(DICT_FLAG_TRY1NULL | DICT_FLAG_FOLD_KEY);
    dict->flags |= DICT_FLAG_TRY0NULL;
    vstring_sprintf(stamp, "%010ld", (long) time((time_t *) 0));
    if (dict_update(dict, "YP_LAST_MODIFIED", STR(stamp)) < 0
	|| dict_update(dict, "YP_MASTER_NAME", conf_str("myhostname")) < 0)
	msg_fatal("table %s:%s: write error", dict->type, dict->name);
    vstring_free(stamp);
}

/* maptool_source - open the source text (stdin with -i); fatal on error */

static TABLE_SOURCE *maptool_source(const MAPTOOL *tool, const MAPTOOL_OPTS *opts,
				            const char *name, struct stat *st)
{
    TABLE_SOURCE *src;

    if (opts->incremental) {
	if (fstat(0, st) < 0)
	    msg_fatal("fstat stdin: %m");
	return (table_source_stream(vstream_stdin(), "stdin", tool->format));
    }
    if ((src = table_source_open(name, tool->format)) == 0)
	msg_fatal("open %s: %m", name);
    if (stat(name, st) < 0)
	msg_fatal("fstat %s: %m", name);
    return (src);
}

/* maptool_create - open TYPE:NAME for writing, as the owner, with the right mode */

static DICT *maptool_create(const MAPTOOL_OPTS *opts, const MAPTOOL_MAP *map,
			            const struct stat *st)
{
    int     open_flags = O_RDWR | O_CREAT | (opts->incremental ? 0 : O_TRUNC);
    int     flags = opts->nul_flags ? opts->nul_flags : DICT_FLAG_TRY1NULL;
    int     keep_perm = opts->save_perm && S_ISREG(st->st_mode);
    mode_t  saved_mask = 0;
    DICT   *dict;

    if (!maptool_bulk_type(STR(map->type)))
	msg_fatal("unsupported dictionary type: %s does not support"
		  " bulk-mode creation.", STR(map->type));
    if (opts->fold)
	flags |= DICT_FLAG_FOLD_KEY;
    /* duplicates are reported here, with the line number */
    flags |= (opts->dup_flag == DICT_FLAG_DUP_WARN ?
	      DICT_FLAG_DUP_IGNORE : opts->dup_flag);
    if (keep_perm)
	saved_mask = umask(022 | (~st->st_mode & 077));
    if (opts->as_owner && getuid() == 0
	&& (st->st_uid != geteuid() || st->st_gid != getegid()))
	maptool_set_eugid(st->st_uid, st->st_gid);
    dict = dict_open3(STR(map->spec), open_flags, flags);
    if (keep_perm)
	umask(saved_mask);
    if (dict->error)
	msg_fatal("table %s: cannot open for writing", STR(map->spec));
    return (dict);
}

/* maptool_build - compile one source file (or stdin with -i) */

static void maptool_build(const MAPTOOL *tool, const MAPTOOL_OPTS *opts,
			          const MAPTOOL_MAP *map)
{
    VSTRING *fold_buf = vstring_alloc(100);
    TABLE_SOURCE *src;
    struct stat st;
    DICT   *dict;
    const char *key;
    const char *value;
    int     status;
    int     rc;

    src = maptool_source(tool, opts, map->name, &st);
    dict = maptool_create(opts, map, &st);
    while ((status = table_source_next(src, &key, &value)) > 0) {
	key = maptool_fold(fold_buf, key, dict->flags);
	if ((rc = dict_update(dict, key, value)) < 0)
	    msg_fatal("table %s: write error", STR(map->spec));
	if (rc > 0 && opts->dup_flag == DICT_FLAG_DUP_WARN)
	    msg_warn("%s, line %d: duplicate entry: \"%s\"",
		     table_source_name(src), table_source_lineno(src), key);
    }
    if (status < 0)
	msg_fatal("%s: read error; table %s left unchanged",
		  table_source_name(src), STR(map->spec));
    if (tool->format == TABLE_SOURCE_ALIASES)
	maptool_signatures(dict);
    if (dict_close(dict) < 0)
	msg_fatal("table %s: cannot commit the new database", STR(map->spec));
    table_source_close(src);
    vstring_free(fold_buf);
}

/* maptool_open_read - open for lookups or dumps; fatal when unusable */

static DICT *maptool_open_read(const MAPTOOL_OPTS *opts, const MAPTOOL_MAP *map,
			               int open_flags)
{
    DICT   *dict = dict_open3(STR(map->spec), open_flags, maptool_read_flags(opts, map));

    if (dict->error)
	msg_fatal("table %s: cannot open", STR(map->spec));
    return (dict);
}

/* maptool_query - -q KEY: the first map that has KEY wins; 1 if found */

static int maptool_query(const MAPTOOL_OPTS *opts, MAPTOOL_MAP *maps, int count,
			         const char *key)
{
    for (int n = 0; n < count; n++) {
	DICT   *dict = maptool_open_read(opts, maps + n, O_RDONLY);
	const char *value = dict_lookup(dict, key);

	if (value != 0) {
	    vstream_fprintf(vstream_stdout(), "%s\n", value);
	    if (vstream_flush(vstream_stdout()) != 0)
		msg_fatal("write standard output: %m");
	    dict_close(dict);
	    return (1);
	}
	if (dict->error)
	    msg_fatal("table %s: query error", STR(maps[n].spec));
	dict_close(dict);
    }
    return (0);
}

/* maptool_queries - -q -: "key SEP value" for each key from stdin that is found */

static int maptool_queries(const MAPTOOL *tool, const MAPTOOL_OPTS *opts,
			           MAPTOOL_MAP *maps, int count)
{
    VSTREAM *out = vstream_stdout();
    VSTRING *key = vstring_alloc(100);
    VSTRING *piece = vstring_alloc(100);
    DICT  **dicts = (DICT **) mycalloc(count, sizeof(DICT *));
    int     found = 0;

    while (maptool_get_key(vstream_stdin(), key, piece)) {
	for (int n = 0; n < count; n++) {
	    const char *value;

	    if (dicts[n] == 0)			/* open lazily, as Postfix */
		dicts[n] = maptool_open_read(opts, maps + n, O_RDONLY);
	    if ((value = dict_lookup(dicts[n], STR(key))) != 0) {
		vstream_fprintf(out, "%s%s%s\n", STR(key), tool->sep, value);
		found = 1;
		break;
	    }
	    if (dicts[n]->error)
		msg_fatal("table %s: query error", STR(maps[n].spec));
	}
    }
    if (vstream_flush(out) != 0)
	msg_fatal("write standard output: %m");
    for (int n = 0; n < count; n++)
	if (dicts[n])
	    dict_close(dicts[n]);
    myfree(dicts);
    vstring_free(piece);
    vstring_free(key);
    return (found);
}

/* maptool_delete_one - remove KEY from DICT; 1 if it was there */

static int maptool_delete_one(DICT *dict, const char *key, VSTRING *fold_buf)
{
    int     rc = dict_delete(dict, maptool_fold(fold_buf, key, dict->flags));

    if (rc < 0)
	msg_fatal("table %s:%s: delete error", dict->type, dict->name);
    return (rc == 0);
}

/* maptool_deletes - -d KEY or -d - (keys from stdin): 1 if any was deleted */

static int maptool_deletes(const MAPTOOL_OPTS *opts, MAPTOOL_MAP *maps, int count,
			           const char *delkey)
{
    VSTRING *fold_buf = vstring_alloc(100);
    VSTRING *key = vstring_alloc(100);
    VSTRING *piece = vstring_alloc(100);
    DICT  **dicts = (DICT **) mycalloc(count, sizeof(DICT *));
    int     found = 0;

    for (int n = 0; n < count; n++)
	dicts[n] = maptool_open_read(opts, maps + n, O_RDWR);
    if (strcmp(delkey, "-") == 0) {
	while (maptool_get_key(vstream_stdin(), key, piece))
	    for (int n = 0; n < count; n++)
		found |= maptool_delete_one(dicts[n], STR(key), fold_buf);
    } else {
	for (int n = 0; n < count; n++)
	    found |= maptool_delete_one(dicts[n], delkey, fold_buf);
    }
    for (int n = 0; n < count; n++)
	if (dict_close(dicts[n]) < 0)
	    msg_fatal("table %s: cannot close", STR(maps[n].spec));
    myfree(dicts);
    vstring_free(piece);
    vstring_free(key);
    vstring_free(fold_buf);
    return (found);
}

/* maptool_dump - -s: every entry of the table, in database order */

static void maptool_dump(const MAPTOOL *tool, const MAPTOOL_OPTS *opts,
			         const MAPTOOL_MAP *map)
{
    VSTREAM *out = vstream_stdout();
    DICT   *dict = maptool_open_read(opts, map, O_RDONLY);
    const char *key;
    const char *value;
    int     func;
    int     rc;

    for (func = DICT_SEQ_FIRST; (rc = dict_sequence(dict, func, &key, &value)) == 0;
	 func = DICT_SEQ_NEXT)
	vstream_fprintf(out, "%s%s%s\n", key, tool->sep, value);
    if (vstream_flush(out) != 0)
	msg_fatal("write standard output: %m");
    if (rc < 0)
	msg_fatal("table %s: sequence operation is not supported or failed",
		  STR(map->spec));
    dict_close(dict);
}

/* maptool_options - parse the command line into OPTS; returns optind */

static int maptool_options(const MAPTOOL *tool, int argc, char **argv,
			           MAPTOOL_OPTS *opts, int *config_given)
{
    int     ch;

    memset(opts, 0, sizeof(*opts));
    opts->as_owner = opts->save_perm = opts->fold = 1;
    opts->dup_flag = DICT_FLAG_DUP_WARN;
    opterr = 0;
    while ((ch = getopt(argc, argv, "+Nc:d:finopq:rsuvw")) != -1) {
	switch (ch) {
	case 'N':
	    opts->nul_flags = DICT_FLAG_TRY1NULL;
	    break;
	case 'n':
	    opts->nul_flags = DICT_FLAG_TRY0NULL;
	    break;
	case 'c':
	    mail_conf_set_dir(optarg);
	    *config_given = 1;
	    break;
	case 'd':
	    if (opts->sequence || opts->query || opts->delkey)
		msg_fatal("specify only one of -s -q or -d");
	    opts->delkey = optarg;
	    break;
	case 'q':
	    if (opts->sequence || opts->query || opts->delkey)
		msg_fatal("specify only one of -s -q or -d");
	    opts->query = optarg;
	    break;
	case 's':
	    if (opts->query || opts->delkey)
		msg_fatal("specify only one of -s or -q or -d");
	    opts->sequence = 1;
	    break;
	case 'f':
	    opts->fold = 0;
	    break;
	case 'i':
	    opts->incremental = 1;
	    break;
	case 'o':
	    opts->as_owner = 0;
	    break;
	case 'p':
	    opts->save_perm = 0;
	    break;
	case 'r':
	    opts->dup_flag = DICT_FLAG_DUP_REPLACE;
	    break;
	case 'w':
	    opts->dup_flag = DICT_FLAG_DUP_IGNORE;
	    break;
	case 'u':				/* UTF-8 checks: not done anyway */
	    break;
	case 'v':
	    msg_verbose++;
	    break;
	default:
	    if (optopt && strchr("cdq", optopt))
		msg_warn("option requires an argument -- '%c'", optopt);
	    else if (optopt)
		msg_warn("invalid option -- '%c'", optopt);
	    maptool_usage(tool);
	}
    }
    return (optind);
}

/* maptool_main - the whole program; returns the exit status */

int     maptool_main(int argc, char **argv, const MAPTOOL *tool)
{
    MAPTOOL_OPTS opts;
    MAPTOOL_MAP *maps;
    int     config_given = 0;
    int     first;
    int     count;
    int     status = 0;

    umask(022);
    msg_init(tool->progname, MSG_TO_STDERR);
    if (getenv("MAIL_VERBOSE"))
	msg_verbose = 1;
    first = maptool_options(tool, argc, argv, &opts, &config_given);
    if (first >= argc)
	maptool_usage(tool);
    /* a table tool needs no main.cf, but a named config dir must have one */
    mail_conf_read(config_given || getenv("MAIL_CONFIG") ? 0 : MAIL_CONF_MISSING_OK);

    count = argc - first;
    maps = (MAPTOOL_MAP *) mycalloc(count, sizeof(*maps));
    for (int n = 0; n < count; n++)
	maptool_map(maps + n, argv[first + n]);

    if (opts.delkey) {
	status = maptool_deletes(&opts, maps, count, opts.delkey) ? 0 : 1;
    } else if (opts.query) {
	if (strcmp(opts.query, "-") == 0)
	    status = maptool_queries(tool, &opts, maps, count) ? 0 : 1;
	else
	    status = maptool_query(&opts, maps, count, opts.query) ? 0 : 1;
    } else if (opts.sequence) {
	maptool_dump(tool, &opts, maps);	/* the first table only, as Postfix */
    } else {
	for (int n = 0; n < count; n++)
	    maptool_build(tool, &opts, maps + n);
    }
    for (int n = 0; n < count; n++)
	maptool_map_free(maps + n);
    myfree(maps);
    return (status);
}
