/*
 * milter_clnt.c - the event-driven MTA side of the milter protocol, one
 * filter's session; see milter_clnt.h.  The packets are milter_proto.c's,
 * the configuration milter_conf.c's, several filters in a row milters.c's,
 * the milter_helo() etc. entry points milter_cmds.c's.
 *
 * milter_connect() opens the session's connection: a non-blocking connect
 * (milter_connect_timeout), SMFIC_OPTNEG (milter_command_timeout), then
 * the connect event itself.  Each command puts its SMFIC_MACRO packet and
 * its own packet in the output buffer.  A command the filter answers
 * waits for the reply (the command or content timeout, started again by
 * every packet that comes, SMFIR_PROGRESS too); one the filter does not
 * answer (SMFIP_NR_*) or asked not to see (SMFIP_NO*) is done once the
 * output is written.  A result that needs no I/O goes out from a timer,
 * so a callback never runs inside the call that started its command.
 * A failure settles the session: the connection is closed and every
 * command from then on gets the default action.
 */
#include "sys_defs.h"
#include <sys/socket.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "events.h"
#include "iostuff.h"
#include "printable.h"
#include "milter_proto.h"
#include "milter_priv.h"

#define MILTER_READ_CHUNK	8192

/* Session states */
#define SESS_NEW	0		/* nothing sent yet */
#define SESS_CONNECTING	1		/* non-blocking connect under way */
#define SESS_NEGOTIATE	2		/* SMFIC_OPTNEG sent */
#define SESS_OPEN	3		/* commands go out */
#define SESS_DONE	4		/* closed: FINAL_* answers every command */

/* What the command in progress waits for */
#define WAIT_NONE	0
#define WAIT_OPEN	1		/* the connection, then its reply */
#define WAIT_REPLY	2		/* the filter's reply */
#define WAIT_DRAIN	3		/* its packets written (no reply comes) */
#define WAIT_NOW	4		/* nothing: the result goes out from a timer */

/* Texts of Postfix's milter8.c */
#define TEXT_REJECT	"550 5.7.1 Command rejected"
#define TEXT_TEMPFAIL	"451 4.7.1 Service unavailable - try again later"
#define TEXT_SHUTDOWN	"421 4.7.0 Server closing connection"
#define TEXT_DEF_REJECT	"550 5.5.0 Service unavailable"
#define TEXT_CONF_ERROR	"451 4.3.5 Server configuration problem - try again later"
#define TEXT_QUARANTINE	"milter_default_action = quarantine"

/* How a failure settles the session */
#define FAIL_COMM	0		/* I/O, timeout, protocol: default action */
#define FAIL_CONF	1		/* a request that makes no sense */


struct MILTER_SESS {
    MILTER *milter;
    MILTER_MACRO_FN lookup;
    void   *lookup_ctx;
    int     state;
    int     fd;
    uint32_t version;			/* negotiated */
    uint32_t actions;
    uint32_t events;
    char   *symlist[SMFIM_COUNT];	/* the filter's own macro lists */
    VSTRING *out;			/* packets not yet written */
    VSTRING *in;			/* reply bytes not yet handled */
    VSTRING *pkt;			/* the packet being handled */
    VSTRING *data;			/* scratch: a packet's data */
    VSTRING *text;			/* a result's text */
    VSTRING *why;			/* the decoder's complaint */
    int     timeout;			/* seconds for the I/O outstanding */
    int     last_event;			/* the last command sent */
    int     in_message;			/* MAIL sent, no end or abort since */
    int     msg_done;			/* the filter accepted or discarded it */
    int     skip_body;			/* SMFIR_SKIP */
    int     discard;			/* replies due to cancelled commands */
    long    edit_bytes;			/* of this message's edits */
    int     in_call;			/* inside milter_command() */
    /* The command in progress */
    int     wait;
    int     event;
    MILTER_FN done;
    void   *context;
    MILTER_RESULT result;		/* WAIT_NOW */
    char   *conn_argv[3];		/* WAIT_OPEN: the connect event */
    int     conn_family;
    unsigned conn_port;
    MILTER_MOD *mods;
    MILTER_MOD **mods_tail;
    /* The answer to every command once settled */
    int     final_action;
    char   *final_text;
};

/* What each command is in the protocol */
typedef struct MILTER_STEP {
    int     event;
    int     stage;			/* macro stage, or -1 */
    uint32_t skip;			/* SMFIP_NO* */
    uint32_t noreply;			/* SMFIP_NR_* */
    uint32_t version;			/* the first protocol version with it */
    int     content;			/* content timeout (else command) */
    int     message;			/* part of a message */
} MILTER_STEP;

static const MILTER_STEP milter_steps[] = {
    {SMFIC_CONNECT, SMFIM_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, 2, 0, 0},
    {SMFIC_HELO, SMFIM_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, 2, 0, 0},
    {SMFIC_MAIL, SMFIM_ENVFROM, SMFIP_NOMAIL, SMFIP_NR_MAIL, 2, 0, 1},
    {SMFIC_RCPT, SMFIM_ENVRCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, 2, 0, 1},
    {SMFIC_DATA, SMFIM_DATA, SMFIP_NODATA, SMFIP_NR_DATA, 4, 0, 1},
    {SMFIC_UNKNOWN, MILTER_MACRO_UNKNOWN, SMFIP_NOUNKNOWN, SMFIP_NR_UNKN, 3, 0, 0},
    {SMFIC_HEADER, -1, SMFIP_NOHDRS, SMFIP_NR_HDR, 2, 1, 1},
    {SMFIC_EOH, SMFIM_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, 2, 1, 1},
    {SMFIC_BODY, -1, SMFIP_NOBODY, SMFIP_NR_BODY, 2, 1, 1},
    {SMFIC_BODYEOB, SMFIM_EOM, 0, 0, 2, 1, 1},
    {0, 0, 0, 0, 0, 0, 0},
};

static void milter_sess_read_event(int event, void *context);
static void milter_sess_write_event(int event, void *context);
static void milter_sess_timeout(int event, void *context);
static void milter_sess_now(int event, void *context);
static void milter_send(MILTER_SESS *sess, const MILTER_STEP *step,
			        const MILTER_CMD *cmd);

static const MILTER_STEP *milter_step(int event)
{
    for (const MILTER_STEP *step = milter_steps; step->event; step++)
	if (step->event == event)
	    return (step);
    return (0);
}

/* Sessions */

MILTER_SESS *milter_session(MILTER *milter, MILTER_MACRO_FN lookup, void *context)
{
    MILTER_SESS *sess = (MILTER_SESS *) mycalloc(1, sizeof(*sess));

    sess->milter = milter;
    sess->lookup = lookup;
    sess->lookup_ctx = context;
    sess->fd = -1;
    sess->out = vstring_alloc(1024);
    sess->in = vstring_alloc(1024);
    sess->pkt = vstring_alloc(256);
    sess->data = vstring_alloc(256);
    sess->text = vstring_alloc(100);
    sess->why = vstring_alloc(100);
    sess->mods_tail = &sess->mods;
    return (sess);
}

void    milter_mods_free(MILTER_MOD *mods)
{
    MILTER_MOD *next;

    for (; mods; mods = next) {
	next = mods->next;
	if (mods->name)
	    myfree(mods->name);
	if (mods->value)
	    myfree(mods->value);
	if (mods->data)
	    myfree(mods->data);
	myfree(mods);
    }
}

MILTER_MOD *milter_mods_take(MILTER_SESS *sess)
{
    MILTER_MOD *mods = sess->mods;

    sess->edit_bytes = 0;
    sess->mods = 0;
    sess->mods_tail = &sess->mods;
    return (mods);
}

/* milter_sess_close - no more I/O */

static void milter_sess_close(MILTER_SESS *sess)
{
    if (sess->fd >= 0) {
	event_disable_readwrite(sess->fd);
	(void) close(sess->fd);
	sess->fd = -1;
    }
    event_cancel_timer(milter_sess_timeout, sess);
    vstring_reset(sess->out);
    vstring_reset(sess->in);
    sess->discard = 0;
}

void    milter_session_free(MILTER_SESS *sess)
{
    if (sess->state == SESS_OPEN) {		/* QUIT, if it goes out now */
	milter_pkt_put(sess->out, SMFIC_QUIT, "", 0);
	(void) send(sess->fd, STR(sess->out), LEN(sess->out), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    milter_sess_close(sess);
    event_cancel_timer(milter_sess_now, sess);
    milter_mods_free(sess->mods);
    for (int i = 0; i < SMFIM_COUNT; i++)
	if (sess->symlist[i])
	    myfree(sess->symlist[i]);
    for (int i = 0; sess->conn_argv[i]; i++)
	myfree(sess->conn_argv[i]);
    if (sess->final_text)
	myfree(sess->final_text);
    vstring_free(sess->out);
    vstring_free(sess->in);
    vstring_free(sess->pkt);
    vstring_free(sess->data);
    vstring_free(sess->text);
    vstring_free(sess->why);
    myfree(sess);
}

/* milter_sess_timer - the I/O timer runs while anything is outstanding */

static void milter_sess_timer(MILTER_SESS *sess, int restart)
{
    int     busy = sess->fd >= 0 && (LEN(sess->out) > 0 || sess->discard > 0
			|| sess->wait == WAIT_REPLY || sess->wait == WAIT_OPEN);

    if (!busy)
	event_cancel_timer(milter_sess_timeout, sess);
    else if (restart)
	event_request_timer(milter_sess_timeout, sess, sess->timeout * 1000);
}

/* milter_finish - end the command in progress; the callback runs last */

static void milter_finish(MILTER_SESS *sess, int action, const char *text)
{
    MILTER_FN done = sess->done;
    void   *context = sess->context;
    MILTER_RESULT result;

    if (sess->in_call) {			/* never inside the caller's call */
	sess->wait = WAIT_NOW;
	sess->result.action = action;
	sess->result.text = text;
	event_request_timer(milter_sess_now, sess, 0);
	return;
    }
    result.action = action;
    result.text = text;
    result.mods = sess->event == SMFIC_BODYEOB ? sess->mods : 0;
    result.milter = sess->milter->name;
    sess->wait = WAIT_NONE;
    sess->event = 0;
    sess->done = 0;
    milter_sess_timer(sess, 0);
    if (done)
	done(&result, context);
}

static void milter_sess_now(int event, void *context)
{
    MILTER_SESS *sess = context;

    milter_finish(sess, sess->result.action, sess->result.text);
}

/*
 * milter_sess_settle - ACTION and TEXT answer every command from now on;
 * the command in progress, if any, gets them now
 */
static void milter_sess_settle(MILTER_SESS *sess, int action, const char *text)
{
    int     waiting = sess->wait == WAIT_OPEN || sess->wait == WAIT_REPLY
    || sess->wait == WAIT_DRAIN;

    milter_sess_close(sess);
    sess->state = SESS_DONE;
    sess->final_action = action;
    if (sess->final_text)
	myfree(sess->final_text);
    sess->final_text = text ? mystrdup(text) : 0;
    if (waiting)
	milter_finish(sess, action, sess->final_text);
}

/* milter_sess_fail - log a failure and settle with the default action */

static void PRINTFLIKE(3, 4) milter_sess_fail(MILTER_SESS *sess, int how,
					              const char *fmt,...)
{
    VSTRING *line = vstring_alloc(100);
    int     def = sess->milter->def_action;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(line, fmt, ap);
    va_end(ap);
    msg_warn("%s", printable(STR(line), '?'));
    vstring_free(line);
    milter_mods_free(milter_mods_take(sess));
    if (def == MILTER_DEF_ACCEPT)
	milter_sess_settle(sess, MILTER_CONTINUE, (char *) 0);
    else if (def == MILTER_DEF_QUARANTINE)
	milter_sess_settle(sess, MILTER_QUARANTINE, TEXT_QUARANTINE);
    else if (how == FAIL_CONF)
	milter_sess_settle(sess, MILTER_TEMPFAIL, TEXT_CONF_ERROR);
    else if (def == MILTER_DEF_REJECT)
	milter_sess_settle(sess, MILTER_REJECT, TEXT_DEF_REJECT);
    else
	milter_sess_settle(sess, MILTER_TEMPFAIL, TEXT_TEMPFAIL);
}

/* milter_enable_write - output is waiting */

static void milter_enable_write(MILTER_SESS *sess)
{
    if (sess->fd >= 0 && LEN(sess->out) > 0)
	event_enable_write(sess->fd, milter_sess_write_event, sess);
}

/* milter_message_reset - the message is over; tell the filter if it cares */

static void milter_message_reset(MILTER_SESS *sess)
{
    if (sess->in_message && !sess->msg_done && sess->state == SESS_OPEN) {
	milter_pkt_put(sess->out, SMFIC_ABORT, "", 0);
	sess->last_event = SMFIC_ABORT;
	milter_enable_write(sess);
	milter_sess_timer(sess, 1);
    }
    sess->in_message = sess->msg_done = sess->skip_body = 0;
}

/* Connecting */

/* milter_open - start the connection; the connect event waits for it */

static void milter_open(MILTER_SESS *sess, const MILTER_CMD *cmd)
{
    MILTER *m = sess->milter;

    sess->conn_argv[0] = mystrdup(cmd->argv[0]);
    sess->conn_argv[1] = mystrdup(cmd->argv[1] ? cmd->argv[1] : "");
    sess->conn_family = cmd->family;
    sess->conn_port = cmd->port;
    sess->wait = WAIT_OPEN;
    sess->state = SESS_CONNECTING;
    sess->timeout = m->conn_timeout;
    if ((sess->fd = socket(m->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: socket: %m", m->name);
	return;
    }
    non_blocking(sess->fd, NON_BLOCKING);
    if (connect(sess->fd, (struct sockaddr *) &m->addr, m->addrlen) < 0
	&& errno != EINPROGRESS) {		/* a full UNIX backlog: EAGAIN */
	milter_sess_fail(sess, FAIL_COMM, "connect to Milter service %s: %m", m->name);
	return;
    }
    event_enable_write(sess->fd, milter_sess_write_event, sess);
    milter_sess_timer(sess, 1);
}

/* milter_connected - the connect is done: negotiate */

static void milter_connected(MILTER_SESS *sess)
{
    MILTER *m = sess->milter;
    struct sockaddr_storage peer;
    socklen_t len = sizeof(peer);
    socklen_t errlen = sizeof(int);
    int     err = 0;

    if (getsockopt(sess->fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
	err = errno;
    if (err == 0 && getpeername(sess->fd, (struct sockaddr *) &peer, &len) < 0) {
	if (errno != ENOTCONN)
	    err = errno;
	else
	    return;				/* not yet */
    }
    if (err != 0) {
	milter_sess_fail(sess, FAIL_COMM, "connect to Milter service %s: %s",
			 m->name, strerror(err));
	return;
    }
    vstring_reset(sess->data);
    milter_data_u32(sess->data, m->version);
    milter_data_u32(sess->data, m->actions);
    milter_data_u32(sess->data, m->events);
    milter_pkt_put(sess->out, SMFIC_OPTNEG, STR(sess->data), LEN(sess->data));
    sess->last_event = SMFIC_OPTNEG;
    sess->state = SESS_NEGOTIATE;
    sess->timeout = m->cmd_timeout;
    event_enable_read(sess->fd, milter_sess_read_event, sess);
    milter_sess_timer(sess, 1);
}

/* milter_optneg_check - the filter's answer fits what we offered; 0, or -1 */

static int milter_optneg_check(MILTER_SESS *sess, const MILTER_OPTNEG *opt)
{
    MILTER *m = sess->milter;
    uint32_t events = opt->protocol & ~(SMFIP_MDS_256K | SMFIP_MDS_1M);

    if (opt->version < 2 || opt->version > m->version) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: protocol version %lu conflict"
			 " with MTA protocol version %lu", m->name,
			 (unsigned long) opt->version, (unsigned long) m->version);
	return (-1);
    }
    if ((opt->actions & ~m->actions) != 0) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: request mask 0x%lx conflict"
			 " with MTA request mask 0x%lx", m->name,
			 (unsigned long) opt->actions, (unsigned long) m->actions);
	return (-1);
    }
    if ((events & ~m->events) != 0) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: event mask 0x%lx conflict"
			 " with MTA event mask 0x%lx", m->name,
			 (unsigned long) opt->protocol, (unsigned long) m->events);
	return (-1);
    }
    sess->version = opt->version;
    sess->actions = opt->actions;
    sess->events = events;
    return (0);
}

/* milter_negotiated - the SMFIC_OPTNEG answer; then the connect event */

static void milter_negotiated(MILTER_SESS *sess, const MILTER_PKT *pkt)
{
    MILTER_OPTNEG opt;
    const char *argv[3];
    MILTER_CMD cmd;

    if (pkt->cmd != SMFIC_OPTNEG) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: unexpected reply \"%c\""
			 " in initial handshake", sess->milter->name, pkt->cmd);
	return;
    }
    if (milter_optneg_decode(pkt, &opt, sess->why) < 0) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: %s", sess->milter->name,
			 STR(sess->why));
	return;
    }
    if (milter_optneg_check(sess, &opt) < 0)
	return;
    for (int i = 0; i < SMFIM_COUNT; i++)
	if (opt.macros[i] && (opt.actions & SMFIF_SETSYMLIST))
	    sess->symlist[i] = mystrdup(opt.macros[i]);
    sess->state = SESS_OPEN;
    argv[0] = sess->conn_argv[0];
    argv[1] = sess->conn_argv[1];
    argv[2] = 0;
    memset(&cmd, 0, sizeof(cmd));
    cmd.event = SMFIC_CONNECT;
    cmd.argv = argv;
    cmd.family = sess->conn_family;
    cmd.port = sess->conn_port;
    milter_send(sess, milter_step(SMFIC_CONNECT), &cmd);
}

/* Sending */

/* milter_send_macros - SMFIC_MACRO with the stage's macros that have values */

static void milter_send_macros(MILTER_SESS *sess, const MILTER_STEP *step)
{
    const char *list;
    const char *value;
    char   *copy;
    char   *cp;
    char   *name;
    int     count = 0;

    if (step->stage < 0 || sess->lookup == 0)
	return;
    list = step->stage < SMFIM_COUNT && sess->symlist[step->stage] ?
	sess->symlist[step->stage] : sess->milter->macros[step->stage];
    vstring_reset(sess->data);
    vstring_addch(sess->data, step->event);
    cp = copy = mystrdup(list);
    while ((name = strsep(&cp, " ,\t\r\n")) != 0) {
	if (*name == 0 || (value = sess->lookup(name, sess->lookup_ctx)) == 0)
	    continue;
	milter_data_str(sess->data, name);
	milter_data_str(sess->data, value);
	count++;
    }
    myfree(copy);
    if (count > 0)
	milter_pkt_put(sess->out, SMFIC_MACRO, STR(sess->data), LEN(sess->data));
}

/* milter_cmd_data - the data of CMD's packet */

static void milter_cmd_data(MILTER_SESS *sess, const MILTER_CMD *cmd, VSTRING *data)
{
    const char *value;

    vstring_reset(data);
    switch (cmd->event) {
    case SMFIC_CONNECT:
	milter_data_str(data, cmd->argv[0]);
	vstring_addch(data, cmd->family);
	if (cmd->family != SMFIA_UNKNOWN) {
	    milter_data_u16(data, cmd->port);
	    milter_data_str(data, cmd->argv[1]);
	}
	break;
    case SMFIC_HEADER:				/* one space goes, as Sendmail */
	value = cmd->argv[1];
	if (!(sess->events & SMFIP_HDR_LEADSPC) && *value == ' ')
	    value++;
	milter_data_str(data, cmd->argv[0]);
	milter_data_str(data, value);
	break;
    case SMFIC_BODY:
	vstring_memcat(data, cmd->data, cmd->len);
	break;
    default:					/* strings, or nothing */
	for (const char **cpp = cmd->argv; cpp && *cpp; cpp++)
	    milter_data_str(data, *cpp);
	break;
    }
}

/* milter_send - put CMD on the way; the session is open */

static void milter_send(MILTER_SESS *sess, const MILTER_STEP *step,
			        const MILTER_CMD *cmd)
{
    MILTER *m = sess->milter;

    if (sess->version < step->version) {	/* not in its protocol */
	milter_finish(sess, MILTER_CONTINUE, (char *) 0);
	return;
    }
    milter_send_macros(sess, step);
    if (sess->events & step->skip) {
	sess->wait = WAIT_DRAIN;
    } else {
	milter_cmd_data(sess, cmd, sess->data);
	milter_pkt_put(sess->out, cmd->event, STR(sess->data), LEN(sess->data));
	sess->last_event = cmd->event;
	sess->wait = (sess->events & step->noreply) ? WAIT_DRAIN : WAIT_REPLY;
    }
    sess->timeout = step->content ? m->content_timeout : m->cmd_timeout;
    if (sess->wait == WAIT_DRAIN && LEN(sess->out) == 0) {
	milter_finish(sess, MILTER_CONTINUE, (char *) 0);
	return;
    }
    milter_enable_write(sess);
    milter_sess_timer(sess, 1);
}

/* milter_shortcut - a command that needs no I/O: its result, or -1 */

static int milter_shortcut(MILTER_SESS *sess, const MILTER_STEP *step)
{
    if (sess->state == SESS_DONE)
	return (sess->final_action);
    if (sess->msg_done && step->message) {
	if (step->event == SMFIC_BODYEOB)
	    milter_message_reset(sess);
	return (MILTER_CONTINUE);
    }
    if (step->event == SMFIC_BODY && sess->skip_body)
	return (MILTER_CONTINUE);
    return (-1);
}

void    milter_command(MILTER_SESS *sess, const MILTER_CMD *cmd,
		               MILTER_FN done, void *context)
{
    const MILTER_STEP *step = milter_step(cmd->event);
    int     action;

    if (step == 0 || sess->done != 0 || sess->wait != WAIT_NONE
	|| (cmd->event == SMFIC_BODY && cmd->len > MILTER_CHUNK_SIZE)
	|| ((sess->state == SESS_NEW) != (cmd->event == SMFIC_CONNECT)))
	msg_panic("milter %s: bad %s request in state %d", sess->milter->name,
		  milter_cmd_name(cmd->event), sess->state);
    milter_mods_free(milter_mods_take(sess));
    sess->done = done;
    sess->context = context;
    sess->event = cmd->event;
    sess->in_call = 1;
    if (cmd->event == SMFIC_MAIL) {
	milter_message_reset(sess);
	sess->in_message = 1;
    }
    if ((action = milter_shortcut(sess, step)) >= 0)
	milter_finish(sess, action, action == MILTER_CONTINUE ? 0 : sess->final_text);
    else if (sess->state == SESS_NEW)
	milter_open(sess, cmd);
    else
	milter_send(sess, step, cmd);
    sess->in_call = 0;
}

void    milter_abort(MILTER_SESS *sess)
{
    const MILTER_STEP *step = milter_step(sess->event);

    if (sess->done && step && step->message) {	/* its result never comes */
	if (sess->wait == WAIT_REPLY)
	    sess->discard++;
	event_cancel_timer(milter_sess_now, sess);
	sess->wait = WAIT_NONE;
	sess->event = 0;
	sess->done = 0;
    }
    milter_mods_free(milter_mods_take(sess));
    milter_message_reset(sess);
    milter_sess_timer(sess, 0);
}

int     milter_rcpt_rejected_wanted(const MILTER_SESS *sess)
{
    return (sess->state == SESS_OPEN && (sess->events & SMFIP_RCPT_REJ) != 0);
}

/* Replies */

/* milter_mod_header - a header edit from REPLY into MOD; 0, or -1 */

static int milter_mod_header(MILTER_SESS *sess, const MILTER_REPLY *reply,
			             MILTER_MOD *mod)
{
    if (!milter_hdr_name_ok(reply->str1)) {
	milter_sess_fail(sess, FAIL_CONF, "milter %s: malformed header name: %.100s",
			 sess->milter->name, reply->str1);
	return (-1);
    }
    mod->type = reply->cmd == SMFIR_ADDHEADER ? MILTER_MOD_ADDHDR
	: reply->cmd == SMFIR_INSHEADER ? MILTER_MOD_INSHDR : MILTER_MOD_CHGHDR;
    mod->index = (long) reply->index;
    if (mod->type == MILTER_MOD_CHGHDR && mod->index == 0)
	mod->index = 1;				/* as Sendmail */
    mod->name = mystrdup(reply->str1);
    if (mod->type == MILTER_MOD_CHGHDR && *reply->str2 == 0) {
	mod->value = mystrdup("");		/* delete */
    } else {
	milter_hdr_value(sess->text, reply->str2, sess->events & SMFIP_HDR_LEADSPC);
	mod->value = mystrdup(STR(sess->text));
    }
    return (0);
}

/* milter_mod_envelope - a recipient or sender edit; 0, or -1 */

static int milter_mod_envelope(MILTER_SESS *sess, const MILTER_REPLY *reply,
			               MILTER_MOD *mod)
{
    if (!milter_addr_ok(reply->str1) || (reply->str2 && !milter_addr_ok(reply->str2))) {
	milter_sess_fail(sess, FAIL_CONF, "milter %s: malformed address in %s: %.100s",
			 sess->milter->name, milter_reply_name(reply->cmd), reply->str1);
	return (-1);
    }
    mod->type = reply->cmd == SMFIR_DELRCPT ? MILTER_MOD_DELRCPT
	: reply->cmd == SMFIR_CHGFROM ? MILTER_MOD_CHGFROM : MILTER_MOD_ADDRCPT;
    mod->name = mystrdup(reply->str1);
    mod->value = reply->str2 ? mystrdup(reply->str2) : 0;
    return (0);
}

/* milter_mod - an edit before the end-of-message reply; 0, or -1 (settled) */

static int milter_mod(MILTER_SESS *sess, const MILTER_REPLY *reply)
{
    MILTER_MOD *mod;
    int     status = 0;

    if ((sess->actions & milter_reply_action(reply->cmd)) == 0) {
	milter_sess_fail(sess, FAIL_CONF, "milter %s: %s was not negotiated",
			 sess->milter->name, milter_reply_name(reply->cmd));
	return (-1);
    }
    sess->edit_bytes += (long) (reply->len + (reply->str1 ? strlen(reply->str1) : 0)
			+ (reply->str2 ? strlen(reply->str2) : 0));
    if (sess->milter->edit_limit > 0 && sess->edit_bytes > sess->milter->edit_limit) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: edits exceed %ld bytes",
			 sess->milter->name, sess->milter->edit_limit);
	return (-1);
    }
    mod = (MILTER_MOD *) mycalloc(1, sizeof(*mod));
    mod->milter = sess->milter->name;
    switch (reply->cmd) {
    case SMFIR_ADDHEADER:
    case SMFIR_INSHEADER:
    case SMFIR_CHGHEADER:
	status = milter_mod_header(sess, reply, mod);
	break;
    case SMFIR_REPLBODY:
	mod->type = MILTER_MOD_REPLBODY;
	mod->data = mymemdup(reply->data, reply->len);
	mod->len = reply->len;
	break;
    case SMFIR_QUARANTINE:
	mod->type = MILTER_MOD_QUARANTINE;
	mod->name = printable(mystrdup(reply->str1), '?');
	break;
    default:
	status = milter_mod_envelope(sess, reply, mod);
	break;
    }
    if (status < 0) {
	milter_mods_free(mod);
	return (-1);
    }
    *sess->mods_tail = mod;
    sess->mods_tail = &mod->next;
    return (0);
}

/* milter_decided - the final reply's ACTION for the command in progress */

static void milter_decided(MILTER_SESS *sess, int action, const char *text)
{
    int     event = sess->event;

    if (action == MILTER_SHUTDOWN
	|| ((event == SMFIC_CONNECT || event == SMFIC_HELO) && action != MILTER_CONTINUE)) {
	sess->wait = WAIT_NONE;			/* for the whole session */
	milter_sess_settle(sess, action == MILTER_ACCEPT ? MILTER_CONTINUE : action, text);
    } else if (event == SMFIC_BODYEOB) {
	sess->in_message = 0;			/* over: nothing to abort */
	milter_message_reset(sess);
    } else if ((action == MILTER_ACCEPT || action == MILTER_DISCARD)
	       && milter_step(event)->message) {
	sess->msg_done = 1;
    }
    milter_finish(sess, action, text);
}

/* milter_final - a reply that ends the wait */

static void milter_final(MILTER_SESS *sess, const MILTER_REPLY *reply)
{
    int     event = sess->event;

    switch (reply->cmd) {
    case SMFIR_CONTINUE:
	milter_decided(sess, MILTER_CONTINUE, (char *) 0);
	return;
    case SMFIR_SKIP:
	sess->skip_body = 1;
	milter_decided(sess, MILTER_CONTINUE, (char *) 0);
	return;
    case SMFIR_ACCEPT:
	milter_decided(sess, MILTER_ACCEPT, (char *) 0);
	return;
    case SMFIR_DISCARD:
	if (event == SMFIC_CONNECT || event == SMFIC_HELO)
	    milter_sess_fail(sess, FAIL_CONF, "milter %s: DISCARD action is not"
			     " allowed for connect or helo", sess->milter->name);
	else
	    milter_decided(sess, MILTER_DISCARD, (char *) 0);
	return;
    case SMFIR_REJECT:
	milter_decided(sess, MILTER_REJECT, TEXT_REJECT);
	return;
    case SMFIR_TEMPFAIL:
	milter_decided(sess, MILTER_TEMPFAIL, TEXT_TEMPFAIL);
	return;
    case SMFIR_REPLYCODE:
	if (milter_reply_text(sess->text, reply->str1) < 0) {
	    milter_sess_fail(sess, FAIL_CONF, "milter %s: malformed reply: %.100s",
			     sess->milter->name, reply->str1);
	    return;
	}
	milter_decided(sess, strncmp(STR(sess->text), "421", 3) == 0 ? MILTER_SHUTDOWN
		       : *STR(sess->text) == '4' ? MILTER_TEMPFAIL : MILTER_REJECT,
		       STR(sess->text));
	return;
    default:					/* SMFIR_SHUTDOWN, SMFIR_CONN_FAIL */
	milter_decided(sess, MILTER_SHUTDOWN, TEXT_SHUTDOWN);
	return;
    }
}

/* milter_packet - one packet while open; 1 when done reading for now */

static int milter_packet(MILTER_SESS *sess, const MILTER_PKT *pkt)
{
    MILTER *m = sess->milter;
    MILTER_REPLY reply;
    int     event = sess->discard > 0 ? SMFIC_BODYEOB : sess->event;

    if (sess->discard == 0 && sess->wait != WAIT_REPLY) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: unexpected filter response"
			 " %s after event %s", m->name, milter_reply_name(pkt->cmd),
			 milter_cmd_name(sess->last_event));
	return (1);
    }
    if (!milter_reply_allowed(event, pkt->cmd) && !(sess->discard > 0
					     && pkt->cmd == SMFIR_SKIP)) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: unexpected filter response"
			 " %s after event %s", m->name, milter_reply_name(pkt->cmd),
			 milter_cmd_name(event));
	return (1);
    }
    if (milter_reply_decode(pkt, &reply, sess->why) < 0) {
	milter_sess_fail(sess, FAIL_COMM, "milter %s: %s", m->name, STR(sess->why));
	return (1);
    }
    if (sess->discard > 0) {			/* for a cancelled command */
	if (milter_reply_final(reply.cmd))
	    sess->discard--;
	milter_sess_timer(sess, 1);
	return (0);
    }
    if (!milter_reply_final(reply.cmd)) {	/* progress, or an edit */
	milter_sess_timer(sess, 1);
	return (reply.cmd == SMFIR_PROGRESS ? 0 : milter_mod(sess, &reply) < 0);
    }
    milter_final(sess, &reply);
    return (1);
}

/* milter_sess_input - handle the complete packets read so far */

static void milter_sess_input(MILTER_SESS *sess)
{
    MILTER_PKT pkt;
    int     status;

    while (sess->state == SESS_NEGOTIATE || sess->state == SESS_OPEN) {
	if ((status = milter_pkt_split(STR(sess->in), LEN(sess->in), &pkt, sess->why)) == 0)
	    return;
	if (status < 0) {
	    milter_sess_fail(sess, FAIL_COMM, "milter %s: %s", sess->milter->name,
			     STR(sess->why));
	    return;
	}
	vstring_memcpy(sess->pkt, pkt.data, pkt.len);	/* the input moves on */
	pkt.data = STR(sess->pkt);
	vstring_drop_head(sess->in, pkt.used);
	if (sess->state == SESS_NEGOTIATE) {
	    milter_negotiated(sess, &pkt);
	    return;				/* SESS may be gone */
	}
	if (milter_packet(sess, &pkt) != 0)
	    return;				/* SESS may be gone */
    }
}

/* milter_read_error - the connection broke while reading */

static void milter_read_error(MILTER_SESS *sess, const char *why)
{
    MILTER *m = sess->milter;

    if (sess->wait != WAIT_REPLY && sess->wait != WAIT_OPEN && sess->discard == 0)
	milter_sess_fail(sess, FAIL_COMM, "milter %s: lost connection after %s: %s",
			 m->name, milter_cmd_name(sess->last_event), why);
    else if (LEN(sess->in) < MILTER_HDR_BYTES)
	milter_sess_fail(sess, FAIL_COMM, "milter %s: can't read %s reply packet header: %s",
			 m->name, milter_cmd_name(sess->last_event), why);
    else
	milter_sess_fail(sess, FAIL_COMM, "milter %s: EOF while reading %s reply packet data: %s",
			 m->name, milter_cmd_name(sess->last_event), why);
}

static void milter_sess_read_event(int event, void *context)
{
    MILTER_SESS *sess = context;
    char    buf[MILTER_READ_CHUNK];
    ssize_t n;

    if ((n = read(sess->fd, buf, sizeof(buf))) < 0 && (errno == EAGAIN || errno == EINTR))
	return;
    if (n <= 0) {
	milter_read_error(sess, n < 0 ? strerror(errno) : "unexpected end of file");
	return;
    }
    vstring_memcat(sess->in, buf, (size_t) n);
    milter_sess_input(sess);
}

static void milter_sess_write_event(int event, void *context)
{
    MILTER_SESS *sess = context;
    ssize_t n;

    if (sess->state == SESS_CONNECTING) {
	milter_connected(sess);
	return;
    }
    while (LEN(sess->out) > 0) {
	n = send(sess->fd, STR(sess->out), LEN(sess->out), MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
	    return;
	if (n <= 0) {
	    milter_sess_fail(sess, FAIL_COMM, "milter %s: error writing command: %m",
			     sess->milter->name);
	    return;
	}
	vstring_drop_head(sess->out, (size_t) n);
	milter_sess_timer(sess, 1);
    }
    event_disable_readwrite(sess->fd);
    event_enable_read(sess->fd, milter_sess_read_event, sess);
    if (sess->wait == WAIT_DRAIN)
	milter_finish(sess, MILTER_CONTINUE, (char *) 0);
    else
	milter_sess_timer(sess, 0);
}

static void milter_sess_timeout(int event, void *context)
{
    MILTER_SESS *sess = context;
    MILTER *m = sess->milter;

    if (sess->state == SESS_CONNECTING)
	milter_sess_fail(sess, FAIL_COMM, "connect to Milter service %s: %s",
			 m->name, strerror(ETIMEDOUT));
    else if (LEN(sess->out) > 0)
	milter_sess_fail(sess, FAIL_COMM, "milter %s: error writing command: %s",
			 m->name, strerror(ETIMEDOUT));
    else
	milter_read_error(sess, strerror(ETIMEDOUT));
}
