/*
 * pickup - the mail that sendmail left in maildrop/ while the mail
 * system could not take it, into the queue.
 *
 *   pickup  unix  n  -  n  60  1  pickup	(master.cf)
 *
 * Runs as mail_owner under event_server_main on public/pickup.  sendmail
 * triggers it after it left a file, master wakes it every minute, and it
 * looks at start.  Each file of maildrop/ (lib/global/maildrop.h) is
 * checked before anything in it is believed: opened without following
 * links, a regular file with one link, complete, not too big, and every
 * record as expected.  The user it speaks for is the file's owner (the
 * kernel's word), never what the file says; without a -f sender the
 * sender is that user's login name.  The message goes to smtpd on
 * public/submit as any local submission does ("XUID uid" names the
 * owner; smtpd takes it only from mail_owner), so non_smtpd_milters,
 * header checks and address rewriting apply as for sendmail.  Then the
 * file is removed.  A file that is damaged, foreign, or refused for good
 * goes to corrupt/ with a warning; when the mail system cannot take mail
 * now, the file stays for the next look.
 *
 * Parameters: message_size_limit, and those of lib/global/submit_clnt.c.
 */
#include "sys_defs.h"
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "events.h"
#include "mail_conf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mail_server.h"
#include "maildrop.h"
#include "submit_clnt.h"
#include "user.h"

#define PICKUP_STALE	(24 * 3600)	/* an incomplete file this old is dead */
#define PICKUP_NAME_MAX	64		/* a foreign name kept in corrupt/ */

static MAIL_SERVER_OPS pickup_ops;
static long pickup_size_limit;		/* a maildrop file, all records */

/* name_safe - a file name we may keep as it is in corrupt/ */

static int name_safe(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > PICKUP_NAME_MAX || name[0] == '.')
	return (0);
    return (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789._-") == len);
}

/* to_corrupt - move maildrop/NAME out of the way (or remove it): WHY */

static void to_corrupt(const char *name, const char *why)
{
    VSTRING *old_path = vstring_alloc(100);
    VSTRING *new_path = vstring_alloc(100);

    vstring_sprintf(old_path, "%s/%s", MAIL_QUEUE_MAILDROP, name);
    vstring_sprintf(new_path, "%s/%s", MAIL_QUEUE_CORRUPT, name);
    if (name_safe(name) && rename(STR(old_path), STR(new_path)) == 0) {
	msg_warn("%s: %s: moved to %s", STR(old_path), why, MAIL_QUEUE_CORRUPT);
    } else if (unlink(STR(old_path)) == 0) {
	msg_warn("%s: %s: removed", STR(old_path), why);
    } else if (errno != ENOENT) {
	msg_warn("%s: %s; cannot remove it: %m", STR(old_path), why);
    }
    vstring_free(old_path);
    vstring_free(new_path);
}

/* pickup_remove - the file is in the queue now (any name: not an id) */

static void pickup_remove(const char *name)
{
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/%s", MAIL_QUEUE_MAILDROP, name);
    if (unlink(STR(path)) < 0 && errno != ENOENT)
	msg_warn("remove %s: %m", STR(path));
    vstring_free(path);
}

/* owner_login - the login name of UID, or NULL */

static char *owner_login(uid_t uid)
{
    struct passwd *pw;
    USER_INFO info;
    char   *name = 0;

    if ((pw = getpwuid(uid)) != 0)
	return (mystrdup(pw->pw_name));
    if (user_by_uid(uid, &info) > 0) {
	name = mystrdup(info.name);
	user_info_free(&info);
    }
    return (name);
}

/* dsn_params - " RET=... ENVID=... [XVERIFY]" for MAIL FROM, from the file */

static void dsn_params(const MAILDROP_MSG *msg, VSTRING *params)
{
    const char *value;

    vstring_reset(params);
    if ((value = maildrop_msg_attr(msg, "dsn_ret")) != 0)
	vstring_sprintf_append(params, " RET=%s", value);
    if ((value = maildrop_msg_attr(msg, "dsn_envid")) != 0)
	vstring_sprintf_append(params, " ENVID=%s", value);
    if (maildrop_msg_attr(msg, "verify") != 0)
	vstring_strcat(params, " XVERIFY");	/* sendmail -bv */
}

/*
 * pickup_submit - MSG, for the user UID, to smtpd.  1: queued (or
 * refused for good: WHY), 0: try again later.
 */

static int pickup_submit(const char *name, MAILDROP_MSG *msg, uid_t uid, VSTRING *why)
{
    SUBMIT_REQ req;
    VSTRING *params = vstring_alloc(100);
    char  **rcpt_params = (char **) mycalloc(msg->rcpt_count + 1, sizeof(char *));
    char   *login = msg->sender ? 0 : owner_login(uid);
    int     status;

    memset(&req, 0, sizeof(req));
    if (msg->sender == 0 && login == 0)
	msg_warn("%s/%s: no login name for uid %ld: null sender",
		 MAIL_QUEUE_MAILDROP, name, (long) uid);
    req.sender = msg->sender ? msg->sender : login ? login : "";
    dsn_params(msg, params);
    req.mail_params = STR(params);
    for (int i = 0; i < msg->rcpt_count; i++) {
	if (msg->notify[i]) {
	    VSTRING *buf = vstring_alloc(40);

	    vstring_sprintf(buf, " NOTIFY=%s", msg->notify[i]);
	    rcpt_params[i] = vstring_export(buf);
	}
    }
    req.rcpts = (const char **) msg->rcpts;
    req.rcpt_params = (const char **) rcpt_params;
    req.rcpt_count = msg->rcpt_count;
    req.uid = (long) uid;
    req.content = msg->content;
    status = submit_message(&req, why);
    for (int i = 0; i < msg->rcpt_count; i++)
	if (rcpt_params[i])
	    myfree(rcpt_params[i]);
    myfree(rcpt_params);
    vstring_free(params);
    if (login)
	myfree(login);
    return (status != SUBMIT_TEMP);
}

/* pickup_open - maildrop/NAME, opened and checked; -1: WHY, or gone/later */

static int pickup_open(const char *name, struct stat *st, VSTRING *why, int *later)
{
    VSTRING *path = vstring_alloc(100);
    int     fd;

    *later = 0;
    vstring_sprintf(path, "%s/%s", MAIL_QUEUE_MAILDROP, name);
    fd = open(STR(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    vstring_free(path);
    if (fd < 0) {
	*later = (errno == ENOENT);		/* gone meanwhile: nothing to do */
	vstring_sprintf(why, "open: %m");
	return (-1);
    }
    if (maildrop_trust(fd, name, pickup_size_limit, st, why) < 0) {
	/* Still being written (or killed midway long ago) */
	*later = (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_nlink == 1
		  && (st->st_mode & S_IXUSR) == 0
		  && st->st_mtime > time((time_t *) 0) - PICKUP_STALE);
	(void) close(fd);
	return (-1);
    }
    return (fd);
}

/* pickup_file - one file of maildrop/ */

static void pickup_file(const char *name)
{
    VSTRING *why = vstring_alloc(100);
    MAILDROP_MSG msg;
    VSTREAM *stream;
    struct stat st;
    int     later;
    int     fd;

    if ((fd = pickup_open(name, &st, why, &later)) < 0) {
	if (!later)
	    to_corrupt(name, STR(why));
	vstring_free(why);
	return;
    }
    stream = vstream_fdopen(fd, O_RDONLY);
    if (maildrop_read(stream, &msg, pickup_size_limit, why) < 0) {
	(void) vstream_close(stream);
	maildrop_msg_free(&msg);
	to_corrupt(name, STR(why));
	vstring_free(why);
	return;
    }
    (void) vstream_close(stream);
    if (msg.uid != (long) st.st_uid)
	msg_warn("%s/%s: claims uid %ld, owned by uid %ld: taken as uid %ld",
		 MAIL_QUEUE_MAILDROP, name, msg.uid, (long) st.st_uid, (long) st.st_uid);
    if (pickup_submit(name, &msg, st.st_uid, why) == 0)
	msg_warn("%s/%s: %s; trying again later", MAIL_QUEUE_MAILDROP, name, STR(why));
    else if (LEN(why) > 0)
	to_corrupt(name, STR(why));
    else
	pickup_remove(name);
    maildrop_msg_free(&msg);
    vstring_free(why);
}

/* pickup_name_cmp - qsort: names in order (queue ids: by time) */

static int pickup_name_cmp(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* pickup_scan - every file of maildrop/, oldest name first */

static void pickup_scan(void)
{
    DIR    *dir;
    struct dirent *ent;
    char  **names = 0;
    int     count = 0;

    if ((dir = opendir(MAIL_QUEUE_MAILDROP)) == 0) {
	msg_warn("open directory %s: %m", MAIL_QUEUE_MAILDROP);
	return;
    }
    while ((ent = readdir(dir)) != 0) {
	if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
	    continue;
	names = myrealloc(names, (count + 1) * sizeof(char *));
	names[count++] = mystrdup(ent->d_name);
    }
    (void) closedir(dir);
    qsort(names, count, sizeof(char *), pickup_name_cmp);
    for (int i = 0; i < count; i++) {
	pickup_file(names[i]);
	myfree(names[i]);
    }
    if (names)
	myfree(names);
}

/* pickup_trigger_read - the request byte (or EOF): look, then close */

static void pickup_trigger_read(int event, void *context)
{
    int     fd = (int) (intptr_t) context;
    char    buf[16];

    (void) recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    event_disable_readwrite(fd);
    event_server_disconnect(fd);
    pickup_scan();
}

static void pickup_accept(int fd, const char *service, char **argv)
{
    event_enable_read(fd, pickup_trigger_read, (void *) (intptr_t) fd);
}

static void pickup_post_init(const char *service, char **argv)
{
    long    limit = conf_long("message_size_limit");

    /* Records and line ends add a little: twice the limit is generous */
    pickup_size_limit = limit > 0 ? 2 * limit + 65536 : 0;
    pickup_scan();
}

int     main(int argc, char **argv)
{
    pickup_ops.post_init = pickup_post_init;
    event_server_main(argc, argv, pickup_accept, &pickup_ops);
}
