/*
 * defer_log.h - per-message logs of deferral and bounce reasons.
 *
 * qmgr keeps one log file per message in defer/ID (why recipients are
 * still waiting: reset when a delivery attempt starts, appended to as
 * each slice of its recipients is done) and bounce/ID
 * (recipients that failed for good: appended until the message is
 * finished and the bounce is sent).  Both are hashed like the queue says
 * (mail_queue_path(MAIL_QUEUE_DEFER, id)).  postqueue -p reads defer/ID
 * for its "(reason)" lines.
 *
 * File format: one attribute list (lib/util/attr.h encoding: "name=value"
 * lines, an empty line ends the entry) per recipient, with the names
 *   recipient, orig_rcpt, dsn_orcpt, status (4.4.1), action (failed,
 *   delayed, delivered), relay, reason, time (seconds), dsn_notify
 * A reader must ignore names it does not know.  dsn_notify (the
 * recipient's RFC 3461 NOTIFY, as Postfix's logs keep notify flags) lets
 * qmgr decide about bounces and delay warnings from the log alone, when
 * the recipients are no longer in memory; it is "" when absent.  It is
 * kept beside the entries (DEFER_LOG notify), not in them.
 */
#ifndef DEFER_LOG_H
#define DEFER_LOG_H

#include "sys_defs.h"

typedef struct DEFER_LOG_ENTRY {
    char   *recipient;			/* final recipient */
    char   *orig_rcpt;			/* original recipient, "" if none */
    char   *dsn_orcpt;			/* RFC 3461 ORCPT ("rfc822;a@b"), "" if none */
    char   *status;			/* enhanced status code "5.1.1" */
    char   *action;			/* "failed", "delayed", "delivered" */
    char   *relay;			/* "none", "local", "host[ip]:port" */
    char   *reason;			/* diagnostic text */
    long    time;			/* when it was logged */
} DEFER_LOG_ENTRY;

typedef struct DEFER_LOG {
    DEFER_LOG_ENTRY *entries;
    char  **notify;			/* per entry: its dsn_notify, "" if none */
    int     count;
} DEFER_LOG;

/* defer_log_append - add ENTRY to QUEUE/ID (created as needed); 0 or -1 */
int	defer_log_append(const char *queue, const char *id, const DEFER_LOG_ENTRY *entry);

/*
 * defer_log_append_list - add COUNT entries with one write and fsync,
 * each with its dsn_notify from NOTIFY (NULL, or NULL/"" items: none);
 * 0 or -1
 */
int	defer_log_append_list(const char *queue, const char *id,
			              const DEFER_LOG_ENTRY *entries,
			              const char *const *notify, int count);

/*
 * defer_log_replace_list - the same, but the entries replace what the
 * log held (qmgr's first deferral of a delivery attempt)
 */
int	defer_log_replace_list(const char *queue, const char *id,
			               const DEFER_LOG_ENTRY *entries,
			               const char *const *notify, int count);

/*
 * defer_log_write - replace QUEUE/ID atomically with COUNT entries; with
 * COUNT 0 the log is removed.  0 or -1 (logged).
 */
int	defer_log_write(const char *queue, const char *id,
			        const DEFER_LOG_ENTRY *entries, int count);

/*
 * defer_log_read - the entries of QUEUE/ID into LOG; 0, or -1 with errno
 * (ENOENT: no log; EINVAL: bad syntax, the good entries so far are kept).
 * LOG must be freed with defer_log_free() either way.
 */
int	defer_log_read(const char *queue, const char *id, DEFER_LOG *log);
void	defer_log_free(DEFER_LOG *log);

/* defer_log_find - the last entry for RECIPIENT in LOG, or NULL */
const DEFER_LOG_ENTRY *defer_log_find(const DEFER_LOG *log, const char *recipient);

/* defer_log_remove - remove QUEUE/ID; 0 or -1 (ENOENT is not an error) */
int	defer_log_remove(const char *queue, const char *id);

#endif
