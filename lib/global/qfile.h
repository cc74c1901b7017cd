/*
 * qfile.h - writing and reading whole queue files.
 *
 * Writing (smtpd, later bounce): qfile_create() makes a locked file in
 * incoming/, the caller adds sender, attributes, recipients and content,
 * and qfile_commit() writes the end records, fills in the size record,
 * fsyncs, and sets the "complete" mode bit.  Only then may the caller
 * acknowledge the message.  qfile_abort() removes an unfinished file.
 *
 * Reading (local, smtp, postcat, showq...): qfile_read_envelope() reads
 * everything before the content into a QENV, checking every record; any
 * surprise is an error so that the caller moves the file to corrupt/.
 * qmgr reads in slices instead: qfile_read_header() (up to the first
 * recipient), then qfile_read_rcpts() for at most N recipients at a time,
 * from the offset where the previous slice ended (QENV rcpt_offset).
 * qfile_mark_done() flips one recipient record from R to D (no fsync).
 */
#ifndef QFILE_H
#define QFILE_H

#include "sys_defs.h"
#include "vstream.h"
#include "vstring.h"

typedef struct QFILE {
    VSTREAM *stream;
    VSTRING *id;			/* queue id */
    const char *queue;			/* where the file was created */
    long    rcpt_count;
    off_t   content_offset;		/* offset of the M record */
    long    content_size;		/* bytes of content written */
    VSTRING *chunk;			/* content waiting to be written */
    int     error;			/* errno of first failure, 0 if none */
} QFILE;

QFILE  *qfile_create(const char *queue);	/* NULL with errno on failure */
QFILE  *qfile_adopt(const char *queue, VSTREAM *stream, VSTRING *id);
void	qfile_time(QFILE *qf, const struct timeval *arrival);
void	qfile_sender(QFILE *qf, const char *sender);
void	qfile_attr(QFILE *qf, const char *name, const char *value);
void	qfile_rcpt(QFILE *qf, const char *orig_rcpt, const char *rcpt);
/* qfile_rcpt_dsn - as qfile_rcpt, with RFC 3461 NOTIFY and ORCPT (NULL: none) */
void	qfile_rcpt_dsn(QFILE *qf, const char *orig_rcpt, const char *rcpt,
		               const char *notify, const char *orcpt);
/* qfile_warn_time - the delay warning time (0: none); before qfile_sender */
void	qfile_warn_time(QFILE *qf, time_t when);
void	qfile_begin_content(QFILE *qf);
void	qfile_content(QFILE *qf, const void *data, size_t len);
/* qfile_read_back - the content so far into CONTENT; 0 or -1 (errno) */
int	qfile_read_back(QFILE *qf, VSTRING *content);
/* qfile_restart - empty the file to write it again from qfile_time() */
void	qfile_restart(QFILE *qf);
/* qfile_commit - 0 on success (file complete and on disk), -1 with errno (file removed) */
int	qfile_commit(QFILE *qf);
/*
 * The same in three steps, for an event loop that fsyncs in a worker
 * thread (smtpd): start (-1: failed, file removed, QF freed), then
 * fsync(qfile_sync_fd(qf)) anywhere, then finish with that fsync's errno
 * (0: it worked); finish returns as qfile_commit and frees QF.
 */
int	qfile_commit_start(QFILE *qf);
int	qfile_sync_fd(const QFILE *qf);
int	qfile_commit_finish(QFILE *qf, int sync_err);
void	qfile_abort(QFILE *qf);			/* remove and free */

typedef struct QRCPT {
    char   *address;			/* recipient */
    char   *orig;			/* original recipient or NULL */
    off_t   offset;			/* offset of its R/D record */
    int     done;			/* D record */
    char   *dsn_notify;			/* RFC 3461 NOTIFY (e.g. "SUCCESS,FAILURE") or NULL */
    char   *dsn_orcpt;			/* RFC 3461 ORCPT ("rfc822;a@b") or NULL */
} QRCPT;

typedef struct QENV {
    struct timeval arrival;
    char   *sender;
    char  **attr_names;			/* parallel arrays, attr_count long */
    char  **attr_values;
    int     attr_count;
    QRCPT  *rcpts;
    int     rcpt_count;
    off_t   content_offset;		/* offset of the first B record */
    long    content_size;		/* from the size record */
    time_t  warn_time;			/* W record: delay warning due (0: none) */
    off_t   warn_offset;		/* offset of the W record (0: none) */
    long    rcpt_total;			/* recipients, as the size record says */
    long    rcpt_seen;			/* recipients read so far (all slices) */
    off_t   rcpt_offset;		/* where the next slice starts; 0: all read */
} QENV;

/* qfile_read_envelope - 0 ok; -1 corrupt/incomplete, reason in WHY */
int	qfile_read_envelope(VSTREAM *stream, QENV *env, VSTRING *why);

/*
 * qfile_read_header - the envelope up to the first recipient (no
 * recipients in ENV yet; rcpt_total from the size record); 0 or -1 (WHY)
 */
int	qfile_read_header(VSTREAM *stream, QENV *env, VSTRING *why);

/*
 * qfile_read_rcpts - replace ENV's recipients with the next at most LIMIT
 * (>= 1) from rcpt_offset, which then says where the next slice starts (0:
 * none left, the end of the envelope was checked); A records among them
 * are added to ENV's attributes.  The number read, or -1 (WHY).
 */
int	qfile_read_rcpts(VSTREAM *stream, QENV *env, int limit, VSTRING *why);
void	qenv_free(QENV *env);
/* qenv_free_rcpts - free the recipients only (rcpt_count becomes 0) */
void	qenv_free_rcpts(QENV *env);
const char *qenv_attr(const QENV *env, const char *name);

/*
 * qfile_read_content - from content_offset, call FN for each content chunk;
 * checks that X and E follow. 0 ok, -1 corrupt (WHY), or FN's nonzero result.
 */
int	qfile_read_content(VSTREAM *stream, const QENV *env,
		   int (*fn) (const char *data, size_t len, void *ctx), void *ctx,
			   VSTRING *why);

/* qfile_mark_done - flip the R record at OFFSET to D and fsync; 0 or -1 */
int	qfile_mark_done(int fd, off_t offset);

/* qfile_update_warn - rewrite the W record of ENV in place (0: sent); 0 or -1 */
int	qfile_update_warn(int fd, const QENV *env, time_t when);

#endif
