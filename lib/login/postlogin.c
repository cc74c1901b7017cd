/*
 * postlogin.c - the auth service of pop3d and imapd: check a login, start
 * the session as the mailbox owner (postlogin.h).
 *
 * One request per connection from a login process (login_proto.h): the
 * client's descriptor, then the credentials.  The check runs with
 * mail_owner's effective ids (the rights smtpd's AUTH has), through Cyrus
 * SASL with SMTP AUTH's configuration: application smtpd_sasl_path, Cyrus
 * directory cyrus_sasl_config_path, realm smtpd_sasl_local_domain, so a
 * name and password that work for AUTH on 587 work here.  The checked
 * (canonical) name then finds the mailbox as local delivery does
 * (lib/store/mailbox_find.h): name@domain in virtual_mailbox_domains is a
 * virtual mailbox, a name without domain or in mydestination is a local
 * user.  root never gets a session.
 *
 * The session is "PROGRAM session" from daemon_directory, exec'ed with the
 * mailbox owner's real and effective ids (and, for an mbox in a
 * group-writable mail_spool_directory, that directory's group, so that it
 * can take the dot-lock and rewrite the file as local delivery can), the
 * client on descriptors 0 and 1, and the login's facts in the environment
 * (login_proto.h).  exec gives it a clean address space: nothing of this
 * process (other users' passwords, Cyrus state) survives into it.
 *
 * Log lines: "CLIENT: login: user=<NAME>, method=PLAIN[, TLS]" and, for a
 * failure, smtpd's shape that fail2ban's postfix-sasl filter matches:
 * "warning: CLIENT: SASL PLAIN authentication failed: REASON,
 * sasl_username=NAME".  Passwords are never logged.
 *
 * Parameters: smtpd_sasl_path, cyrus_sasl_config_path,
 * smtpd_sasl_local_domain, PREFIX_sasl_service (Cyrus's service name:
 * pop, imap), mail_spool_directory, daemon_directory, ipc_timeout,
 * myhostname and those of mailbox_find.h.
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "vstream.h"
#include "iostuff.h"
#include "attr.h"
#include "printable.h"
#include "mail_conf.h"
#include "mail_server.h"
#include "dict.h"
#include "user.h"
#include "resolve.h"
#include "xsasl.h"
#include "xsasl_passdb.h"
#include "mailbox_find.h"
#include "login_proto.h"
#include "postlogin.h"

static const char *postlogin_program;	/* "pop3d", "imapd" */
static const char *postlogin_protocol;	/* "pop3", "imap" */
static const char *postlogin_prefix;

/* The facts of one login */
typedef struct POSTLOGIN {
    ATTR_LIST *req;
    const char *client;			/* "unknown[1.2.3.4]" */
    const char *mech;
    VSTRING *user;			/* the canonical name */
    MAILBOX_PLACE place;
    VSTRING *home;
    int     spool_gid;			/* -1, or the spool's group */
} POSTLOGIN;

/* postlogin_answer - the reply to the login process */

static void postlogin_answer(VSTREAM *stream, const char *status, const char *reason)
{
    attr_put(stream, LOGIN_ATTR_STATUS, status);
    attr_put(stream, LOGIN_ATTR_REASON, reason);
    if (attr_end(stream) < 0)
	msg_warn("cannot answer the login process: %m");
}

/* postlogin_param - PREFIX_NAME */

static const char *postlogin_param(const char *name)
{
    VSTRING *buf = vstring_alloc(64);
    const char *value;

    vstring_sprintf(buf, "%s_%s", postlogin_prefix, name);
    value = conf_str(STR(buf));
    vstring_free(buf);
    return (value);
}

/* postlogin_check - the credentials; XSASL_AUTH_DONE, FAIL or TEMP */

static int postlogin_check(POSTLOGIN *pl, VSTRING *reason)
{
    const char *user = attr_find(pl->req, LOGIN_ATTR_USER);
    const char *authzid = attr_find(pl->req, LOGIN_ATTR_AUTHZID);
    const char *secret = attr_find(pl->req, LOGIN_ATTR_PASSWORD);
    const char *challenge = attr_find(pl->req, LOGIN_ATTR_CHALLENGE);
    XSASL_SERVER *server;
    const char *canon;
    int     status;

    if (user == 0 || *user == 0 || secret == 0) {
	vstring_strcpy(reason, "authentication failure");
	return (XSASL_AUTH_FAIL);
    }
    vstring_strcpy(pl->user, user);
    if (authzid && *authzid && strcasecmp(authzid, user) != 0) {
	vstring_strcpy(reason, "authorization failure");
	return (XSASL_AUTH_FAIL);
    }
    if ((server = xsasl_server_create(postlogin_param("sasl_service"),
				      conf_str("myhostname"),
				      conf_str("smtpd_sasl_local_domain"), "")) == 0) {
	vstring_strcpy(reason, "SASL server unavailable");
	return (XSASL_AUTH_TEMP);
    }
    if (strcmp(pl->mech, "APOP") == 0)
	status = xsasl_server_checkapop(server, challenge ? challenge : "",
					user, secret, reason);
    else
	status = xsasl_server_checkpass(server, user, secret, reason);
    if (status == XSASL_AUTH_DONE && (canon = xsasl_server_username(server)) != 0)
	vstring_strcpy(pl->user, canon);
    xsasl_server_free(server);
    return (status);
}

/* postlogin_spool_gid - the spool's group, when an mbox there needs it */

static int postlogin_spool_gid(const MAILBOX_PLACE *place)
{
    struct stat st;

    if (!place->spool || place->kind != MAILBOX_MBOX)
	return (-1);
    if (stat(conf_str("mail_spool_directory"), &st) < 0
	|| (st.st_mode & S_IWOTH) || !(st.st_mode & S_IWGRP))
	return (-1);
    return ((int) st.st_gid);
}

/*
 * postlogin_find - the mailbox of the checked name; MAILBOX_FOUND or else
 * (REASON set).  NAME@DOMAIN: virtual or local by the domain's class.
 */
static int postlogin_find(POSTLOGIN *pl, VSTRING *reason)
{
    VSTRING *local = vstring_alloc(100);
    const char *name = STR(pl->user);
    const char *at = strrchr(name, '@');
    USER_INFO user;
    int     found, ret;

    vstring_strncpy(local, name, at ? (size_t) (at - name) : strlen(name));
    vstring_lowercase(local);
    switch (at ? deliver_domain_class(at + 1) : DELIVER_CLASS_LOCAL) {
    case DELIVER_CLASS_ERROR:
	vstring_strcpy(reason, "table lookup failure");
	ret = MAILBOX_TEMP;
	break;
    case DELIVER_CLASS_VIRTUAL:
	ret = mailbox_find_virtual(name, &pl->place, reason);
	vstring_strcpy(pl->home, conf_str("virtual_mailbox_base"));
	break;
    case DELIVER_CLASS_LOCAL:
	memset(&user, 0, sizeof(user));
	found = mailbox_name_ok(STR(local)) ? user_by_name(STR(local), &user) : 0;
	if (found < 0) {
	    vstring_sprintf(reason, "user lookup error: %m");
	    ret = MAILBOX_TEMP;
	} else if (found == 0) {
	    vstring_sprintf(reason, "unknown user \"%s\"", STR(local));
	    ret = MAILBOX_UNKNOWN;
	} else {
	    ret = mailbox_find_user(STR(local), &user, &pl->place, reason);
	    vstring_strcpy(pl->home, user.home ? user.home : "/");
	}
	if (found > 0)
	    user_info_free(&user);
	break;
    default:
	vstring_sprintf(reason, "no local mailbox for \"%s\"", name);
	ret = MAILBOX_UNKNOWN;
	break;
    }
    if (ret == MAILBOX_FOUND && getuid() == 0 && pl->place.uid == 0) {
	vstring_strcpy(reason, "logins as root are not allowed");
	ret = MAILBOX_CONFIG;
    }
    if (ret == MAILBOX_FOUND)
	pl->spool_gid = postlogin_spool_gid(&pl->place);
    vstring_free(local);
    return (ret);
}

/* postlogin_hex - TEXT as hex digits (the pipelined input in the environment) */

static void postlogin_hex(VSTRING *out, const char *text)
{
    static const char digits[] = "0123456789abcdef";

    vstring_reset(out);
    for (const unsigned char *cp = (const unsigned char *) text; *cp; cp++) {
	vstring_addch(out, digits[*cp >> 4]);
	vstring_addch(out, digits[*cp & 15]);
    }
}

/* postlogin_env - the session's environment */

static void postlogin_env(POSTLOGIN *pl)
{
    static const char *keep[] = {"MAIL_CONFIG", "ASAN_OPTIONS", "UBSAN_OPTIONS", 0};
    char   *kept[sizeof(keep) / sizeof(keep[0])];
    VSTRING *hex = vstring_alloc(100);
    const char *value;

    /* The configuration directory and the sanitizers' settings (tests) */
    for (int i = 0; keep[i]; i++)
	kept[i] = getenv(keep[i]) ? mystrdup(getenv(keep[i])) : 0;
    (void) clearenv();
    for (int i = 0; keep[i]; i++) {
	if (kept[i]) {
	    (void) setenv(keep[i], kept[i], 1);
	    myfree(kept[i]);
	}
    }
    (void) setenv("PATH", "/usr/bin:/bin", 1);
    (void) setenv("HOME", STR(pl->home), 1);
    (void) setenv("USER", STR(pl->user), 1);
    (void) setenv(LOGIN_ENV_USER, STR(pl->user), 1);
    (void) setenv(LOGIN_ENV_MAILBOX, STR(pl->place.path), 1);
    (void) setenv(LOGIN_ENV_KIND, pl->place.kind == MAILBOX_MAILDIR ?
		  "maildir" : "mbox", 1);
    (void) setenv(LOGIN_ENV_CLIENT, pl->client, 1);
    (void) setenv(LOGIN_ENV_MECH, pl->mech, 1);
    if ((value = attr_find(pl->req, LOGIN_ATTR_TLS)) != 0)
	(void) setenv(LOGIN_ENV_TLS, value, 1);
    if ((value = attr_find(pl->req, LOGIN_ATTR_TAG)) != 0)
	(void) setenv(LOGIN_ENV_TAG, value, 1);
    if ((value = attr_find(pl->req, LOGIN_ATTR_INPUT)) != 0 && *value) {
	postlogin_hex(hex, value);
	(void) setenv(LOGIN_ENV_INPUT, STR(hex), 1);
    }
    vstring_free(hex);
}

/* postlogin_child - in the child: become the owner, exec the session */

static NORETURN postlogin_child(POSTLOGIN *pl, int client_fd)
{
    VSTRING *path = vstring_alloc(100);
    gid_t   groups[2];
    int     ngroups = 1;
    char   *argv[3];

    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(client_fd, 0) < 0 || dup2(client_fd, 1) < 0)
	msg_fatal("dup2: %m");
    close_range(3, ~0U, 0);
    if (getuid() == 0) {
	groups[0] = pl->place.gid;
	if (pl->spool_gid >= 0 && (gid_t) pl->spool_gid != pl->place.gid)
	    groups[ngroups++] = (gid_t) pl->spool_gid;
	if (seteuid(0) < 0 || setgroups((size_t) ngroups, groups) < 0
	    || setgid(pl->place.gid) < 0 || setuid(pl->place.uid) < 0)
	    msg_fatal("%s: cannot become uid %ld: %m", pl->client, (long) pl->place.uid);
	if (setuid(0) == 0 || seteuid(0) == 0)
	    msg_fatal("%s: could not drop root privileges", pl->client);
    }
    postlogin_env(pl);
    if (chdir(STR(pl->home)) < 0 && chdir("/") < 0)
	msg_fatal("chdir /: %m");
    vstring_sprintf(path, "%s/%s", conf_str("daemon_directory"), postlogin_program);
    argv[0] = (char *) postlogin_program;
    argv[1] = "session";
    argv[2] = 0;
    execv(STR(path), argv);
    msg_fatal("exec %s: %m", STR(path));
}

/* postlogin_start - fork the session; 0 or -1 */

static int postlogin_start(POSTLOGIN *pl, int client_fd)
{
    pid_t   pid;

    if ((pid = fork()) < 0) {
	msg_warn("%s: fork: %m", pl->client);
	return (-1);
    }
    if (pid == 0)
	postlogin_child(pl, client_fd);
    return (0);
}

/* postlogin_recv_fd - the client's descriptor, within the timeout */

static int postlogin_recv_fd(VSTREAM *stream)
{
    struct pollfd pfd;

    pfd.fd = vstream_fd(stream);
    pfd.events = POLLIN;
    if (poll(&pfd, 1, conf_time("ipc_timeout") * 1000) <= 0)
	return (-1);
    return (unix_recv_fd(pfd.fd));
}

/* postlogin_log_failure - smtpd's (fail2ban's) shape */

static void postlogin_log_failure(POSTLOGIN *pl, const char *reason)
{
    char   *user = printable(mystrdup(STR(pl->user)), '?');

    msg_warn("%s: SASL %s authentication failed: %s, sasl_username=%.100s",
	     pl->client, strcmp(pl->mech, "USER") == 0 ? "LOGIN" : pl->mech,
	     reason, user);
    myfree(user);
}

/* postlogin_serve - one request */

static void postlogin_serve(VSTREAM *stream, const char *service, char **argv)
{
    ATTR_LIST req;
    POSTLOGIN pl;
    VSTRING *reason = vstring_alloc(100);
    const char *protocol;
    int     client_fd, status;

    vstream_set_timeout(stream, conf_time("ipc_timeout"));
    if ((client_fd = postlogin_recv_fd(stream)) < 0) {
	msg_warn("login request without a client descriptor: %m");
	vstring_free(reason);
	return;
    }
    if (attr_get_list(stream, &req) < 0) {
	msg_warn("bad login request");
	close(client_fd);
	vstring_free(reason);
	return;
    }
    memset(&pl, 0, sizeof(pl));
    pl.req = &req;
    pl.client = attr_find(&req, LOGIN_ATTR_CLIENT_NAME);
    pl.mech = attr_find(&req, LOGIN_ATTR_MECH);
    protocol = attr_find(&req, LOGIN_ATTR_PROTOCOL);
    pl.client = printable(mystrdup(pl.client ? pl.client : "unknown"), '?');
    pl.mech = printable(mystrdup(pl.mech ? pl.mech : "?"), '?');
    pl.user = vstring_alloc(100);
    pl.home = vstring_alloc(100);
    pl.spool_gid = -1;
    mailbox_place_init(&pl.place);
    if (protocol == 0 || strcmp(protocol, postlogin_protocol) != 0) {
	msg_warn("%s: login request for protocol \"%s\" ignored", pl.client,
		 protocol ? protocol : "(none)");
	postlogin_answer(stream, LOGIN_STATUS_TEMP, "internal error");
    } else if ((status = postlogin_check(&pl, reason)) != XSASL_AUTH_DONE) {
	postlogin_log_failure(&pl, STR(reason));
	postlogin_answer(stream, status == XSASL_AUTH_TEMP ? LOGIN_STATUS_TEMP :
			 LOGIN_STATUS_FAIL, STR(reason));
    } else if ((status = postlogin_find(&pl, reason)) != MAILBOX_FOUND) {
	msg_warn("%s: login of %s refused: %s", pl.client, STR(pl.user), STR(reason));
	postlogin_answer(stream, status == MAILBOX_UNKNOWN ? LOGIN_STATUS_FAIL :
			 LOGIN_STATUS_TEMP, status == MAILBOX_UNKNOWN ?
			 "authentication failure" : "mailbox not available");
    } else if (postlogin_start(&pl, client_fd) < 0) {
	postlogin_answer(stream, LOGIN_STATUS_TEMP, "out of resources");
    } else {
	msg_info("%s: login: user=<%s>, method=%s%s", pl.client, STR(pl.user),
		 pl.mech, *attr_find(&req, LOGIN_ATTR_TLS) ? ", TLS" : "");
	postlogin_answer(stream, LOGIN_STATUS_OK, "");
    }
    close(client_fd);
    attr_list_free(&req);
    mailbox_place_free(&pl.place);
    vstring_free(pl.user);
    vstring_free(pl.home);
    myfree((char *) pl.client);
    myfree((char *) pl.mech);
    vstring_free(reason);
}

/* postlogin_pre_init - Cyrus SASL loads its plug-ins now, as root */

static void postlogin_pre_init(const char *service, char **argv)
{
    if (xsasl_server_init(conf_str("smtpd_sasl_path"),
			  conf_str("cyrus_sasl_config_path")) < 0)
	msg_warn("SASL initialization failed: logins will fail");
    if (xsasl_passdb_init(conf_str("smtpd_sasl_password_maps"),
			  conf_str("smtpd_sasl_default_pass_scheme")) < 0)
	msg_fatal("SASL password table initialization failed");
    signal(SIGCHLD, SIG_IGN);			/* sessions reap themselves */
}

NORETURN postlogin_main(int argc, char **argv, const char *program,
			        const char *protocol, const char *prefix)
{
    static const MAIL_SERVER_OPS ops = {
	.pre_init = postlogin_pre_init,
	.keep_root = 1,
	.changed = dict_changed_name,
    };

    postlogin_program = program;
    postlogin_protocol = protocol;
    postlogin_prefix = prefix;
    single_server_main(argc, argv, postlogin_serve, &ops);
}
