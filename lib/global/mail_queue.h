/*
 * mail_queue.h - queue directories, queue ids and queue file paths.
 *
 * Programs that use the queue chdir() into queue_directory first
 * (mail_queue_chdir), so every path here is relative to it.  A queue id is
 * 13 upper-case hex digits: 8 of seconds and 5 of microseconds of the time
 * the file was created, so ids sort by arrival.  Queues named in
 * hash_queue_names are hashed into subdirectories by the id's microsecond
 * digits (hash_queue_depth levels of one digit each), e.g.
 * deferred/0/6919C2F70A3B1 (id character 8 is the first microsecond digit).
 */
#ifndef MAIL_QUEUE_H
#define MAIL_QUEUE_H

#include "sys_defs.h"
#include "vstring.h"
#include "vstream.h"

#define MAIL_QUEUE_INCOMING	"incoming"
#define MAIL_QUEUE_ACTIVE	"active"
#define MAIL_QUEUE_DEFERRED	"deferred"
#define MAIL_QUEUE_HOLD		"hold"
#define MAIL_QUEUE_CORRUPT	"corrupt"
#define MAIL_QUEUE_MAILDROP	"maildrop"	/* sendmail while down (maildrop.h) */
#define MAIL_QUEUE_DEFER	"defer"		/* per-message deferral logs */
#define MAIL_QUEUE_BOUNCE	"bounce"	/* per-message bounce logs */
#define MAIL_QUEUE_TRACE	"trace"		/* per-message success logs */
#define MAIL_QUEUE_PUBLIC	"public"	/* world-reachable sockets */
#define MAIL_QUEUE_PRIVATE	"private"	/* internal sockets */
#define MAIL_QUEUE_PID		"pid"

#define MAIL_QUEUE_ID_LEN	13

/* mail_queue_chdir - chdir to queue_directory, fatal on failure */
void	mail_queue_chdir(void);

/* mail_queue_id_ok - syntax check of a queue id (no path tricks) */
int	mail_queue_id_ok(const char *id);

/* mail_queue_dir - the directory for ID in QUEUE (hashed when configured) */
const char *mail_queue_dir(VSTRING *buf, const char *queue, const char *id);
/* mail_queue_path - the file name of ID in QUEUE */
const char *mail_queue_path(VSTRING *buf, const char *queue, const char *id);

/*
 * mail_queue_enter - create a new, empty, uniquely named file in QUEUE,
 * mode 0600, locked with flock(LOCK_EX) for as long as it is open.
 * The id goes to ID.  Returns NULL with errno set on failure.
 */
VSTREAM *mail_queue_enter(const char *queue, VSTRING *id);

/* mail_queue_create - the same as a descriptor (-1 with errno); may run
 * in a worker thread */
int	mail_queue_create(const char *queue, VSTRING *id);

/* mail_queue_rename - move ID from OLD to NEW queue (creating hash dirs) */
int	mail_queue_rename(const char *id, const char *old_queue, const char *new_queue);
/* mail_queue_remove - unlink ID in QUEUE */
int	mail_queue_remove(const char *queue, const char *id);
/* mail_queue_open - open ID in QUEUE; NULL with errno on failure */
VSTREAM *mail_queue_open(const char *queue, const char *id, int oflags);

/*
 * mail_queue_scan - call FN(id, ctx) for every complete-or-not file name
 * in QUEUE (descending into hash subdirectories).  Names that are not
 * queue ids are skipped.
 */
void	mail_queue_scan(const char *queue, void (*fn) (const char *id, void *ctx), void *ctx);

/*
 * mail_queue_scan_open/next/close - walk QUEUE incrementally: next()
 * reads the directories as it goes (one open directory per hash level,
 * names in directory order, nothing collected) and returns the next id,
 * valid until the next call, or NULL at the end.  A file renamed into
 * the queue during a walk may or may not be returned (readdir rules).
 */
typedef struct MAIL_QUEUE_SCAN MAIL_QUEUE_SCAN;
MAIL_QUEUE_SCAN *mail_queue_scan_open(const char *queue);
const char *mail_queue_scan_next(MAIL_QUEUE_SCAN *scan);
void	mail_queue_scan_close(MAIL_QUEUE_SCAN *scan);

/* mail_queue_mkdirs - create the queue tree (used by "posthorn check/start") */
void	mail_queue_mkdirs(uid_t owner, gid_t group);

/*
 * mail_queue_setup - create queue_directory and its parents (mode 0755),
 * chdir into it, and create the queue tree owned by mail_owner (pid/ by
 * root: master's pid file lives there).  Owners and modes are set on
 * open descriptors, never through a name another account could swap.
 */
void	mail_queue_setup(void);

/* Complete files have the owner-execute bit set (as Postfix does) */
#define MAIL_QUEUE_STAT_READY	(S_IRUSR | S_IWUSR | S_IXUSR)
#define MAIL_QUEUE_STAT_UNREADY	(S_IRUSR | S_IWUSR)
#define MAIL_QUEUE_READY(st)	(((st)->st_mode & S_IXUSR) != 0)

#endif
