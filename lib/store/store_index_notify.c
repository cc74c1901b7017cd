/*
 * store_index_notify.c - change notification for a folder (store.h:
 * store_notify_fd, store_notify_clear), for IMAP IDLE.
 *
 * An inotify descriptor per folder, made on first use: Maildir new/ and
 * cur/ (files arriving, renamed, removed) and dovecot-uidlist; an mbox
 * file (written, replaced).  A replaced file is watched anew at each
 * sync (store_index.c calls index_notify_rearm) and at
 * store_notify_clear(): call that before the store_sync() that follows
 * a wake-up.
 */
#include "sys_defs.h"

#include <sys/inotify.h>

#include "msg.h"
#include "vstring.h"
#include "store.h"
#include "store_index_priv.h"

/*
 * Notification.
 */

#define NOTIFY_DIR_EVENTS	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM \
				 | IN_DELETE | IN_ONLYDIR)
#define NOTIFY_FILE_EVENTS	(IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF \
				 | IN_DELETE_SELF | IN_DONT_FOLLOW)

/* index_notify_rearm - watch the file the path names now (it may be new) */

void    index_notify_rearm(STORE_INDEX *idx)
{
    if (idx->notify_fd >= 0
	&& inotify_add_watch(idx->notify_fd, idx->watch_path,
			     NOTIFY_FILE_EVENTS) < 0 && errno != ENOENT)
	msg_warn("inotify_add_watch %s: %m", idx->watch_path);
}

int     store_notify_fd(STORE_FOLDER *folder)
{
    STORE_INDEX *idx = folder->index;
    VSTRING *dir;
    int     fd, i, ok = 1;

    if (idx == 0)
	return (-1);
    if (idx->notify_fd >= 0)
	return (idx->notify_fd);
    if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
	msg_warn("inotify_init1: %m");
	return (-1);
    }
    dir = vstring_alloc(100);
    for (i = 0; ok && i < 2 && folder->driver == &store_maildir_driver; i++) {
	vstring_sprintf(dir, "%s/%s", folder->path, i ? "cur" : "new");
	if (inotify_add_watch(fd, STR(dir), NOTIFY_DIR_EVENTS) < 0) {
	    msg_warn("inotify_add_watch %s: %m", STR(dir));
	    ok = 0;
	}
    }
    if (ok && folder->driver != &store_maildir_driver
	&& inotify_add_watch(fd, idx->watch_path, NOTIFY_FILE_EVENTS) < 0) {
	msg_warn("inotify_add_watch %s: %m", idx->watch_path);
	ok = 0;
    }
    vstring_free(dir);
    if (!ok) {
	(void) close(fd);
	return (-1);
    }
    idx->notify_fd = fd;
    index_notify_rearm(idx);
    return (fd);
}

void    store_notify_clear(STORE_FOLDER *folder)
{
    char    buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    STORE_INDEX *idx = folder->index;

    if (idx == 0 || idx->notify_fd < 0)
	return;
    while (read(idx->notify_fd, buf, sizeof(buf)) > 0)
	 /* void */ ;
    index_notify_rearm(idx);
}
