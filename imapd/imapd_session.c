/*
 * imapd_session.c - IMAP after login: the session process ("imapd
 * session", started by the auth service as the mailbox owner).
 *
 * The command loop reads what the client sent into a buffer, feeds it to
 * lib/imap/imap_parser.h, answers "+ OK" for synchronizing literals,
 * and runs each complete command through the table below (a command not
 * allowed in the current state gets "BAD", an unknown one "BAD", a
 * handler's syntax error "BAD" with its reason).  Replies are buffered and
 * flushed before the session waits for input, so pipelined commands are
 * answered in order with few writes.
 *
 * Keeping the client's view: the session remembers, per message number,
 * the UID, flags and MODSEQ it told the client (IMAPD_SEEN).  After a
 * command, imapd_sync() looks at the disk (store_sync) and reports what
 * changed since: "* N EXPUNGE" (or "* VANISHED" under QRESYNC), "* N
 * EXISTS", "* N RECENT", and "* N FETCH (FLAGS ...)" for flag changes made
 * by other sessions or programs.  RFC 3501 7.4.1: no EXPUNGE while
 * answering FETCH, STORE or SEARCH (their UID forms are fine); those
 * commands then report only what keeps the numbering.  When another
 * session deletes or renames the selected folder, the next command (or
 * IDLE) gets "* BYE" and the session ends, as in Dovecot.
 *
 * Parameters: imapd_timeout (RFC 3501: at least 30 minutes), syslog_name,
 * maillog_file, and those of the command files.
 */
#include "sys_defs.h"
#include <poll.h>
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "mail_conf.h"
#include "imap_utf7.h"
#include "imap_seqset.h"
#include "imap_quote.h"
#include "imapd.h"

static const IMAPD_CMD imapd_commands[] = {
    {"CAPABILITY", IN_ANY, imapd_cmd_capability},
    {"NOOP", IN_ANY, imapd_cmd_noop},
    {"LOGOUT", IN_ANY, imapd_cmd_logout},
    {"ID", IN_ANY, imapd_cmd_id},
    {"ENABLE", IN_AUTH, imapd_cmd_enable},
    {"NAMESPACE", IN_ANY, imapd_cmd_namespace},
    {"IDLE", IN_ANY, imapd_cmd_idle},
    {"SELECT", IN_ANY, imapd_cmd_select},
    {"EXAMINE", IN_ANY, imapd_cmd_examine},
    {"CREATE", IN_ANY, imapd_cmd_create},
    {"DELETE", IN_ANY, imapd_cmd_delete},
    {"RENAME", IN_ANY, imapd_cmd_rename},
    {"SUBSCRIBE", IN_ANY, imapd_cmd_subscribe},
    {"UNSUBSCRIBE", IN_ANY, imapd_cmd_unsubscribe},
    {"LIST", IN_ANY, imapd_cmd_list},
    {"LSUB", IN_ANY, imapd_cmd_lsub},
    {"STATUS", IN_ANY, imapd_cmd_status},
    {"APPEND", IN_ANY, imapd_cmd_append},
    {"CHECK", IN_SELECTED, imapd_cmd_check},
    {"CLOSE", IN_SELECTED, imapd_cmd_close},
    {"UNSELECT", IN_SELECTED, imapd_cmd_unselect},
    {"EXPUNGE", IN_SELECTED, imapd_cmd_expunge},
    {"SEARCH", IN_SELECTED, imapd_cmd_search},
    {"FETCH", IN_SELECTED, imapd_cmd_fetch},
    {"STORE", IN_SELECTED, imapd_cmd_store},
    {"COPY", IN_SELECTED, imapd_cmd_copy},
    {"MOVE", IN_SELECTED, imapd_cmd_move},
    {"UID", IN_SELECTED, imapd_cmd_uid},
    /* Valid only before login: known, so they get a clear answer */
    {"LOGIN", 0, 0},
    {"AUTHENTICATE", 0, 0},
    {"STARTTLS", 0, 0},
    {0, 0, 0},
};

const IMAPD_CMD *imapd_find_command(const char *name)
{
    for (const IMAPD_CMD *cmd = imapd_commands; cmd->name; cmd++)
	if (strcasecmp(cmd->name, name) == 0)
	    return (cmd);
    return (0);
}

/*
 * Output.
 */

void    imapd_write(IMAPD *im, const char *data, size_t len)
{
    login_session_write(im->io, data, len);
}

void    imapd_untagged(IMAPD *im, const char *fmt,...)
{
    va_list ap;

    vstring_strcpy(im->reply, "* ");
    va_start(ap, fmt);
    vstring_vsprintf_append(im->reply, fmt, ap);
    va_end(ap);
    vstring_strcat(im->reply, "\r\n");
    login_session_write(im->io, STR(im->reply), LEN(im->reply));
}

void    imapd_tagged(IMAPD *im, const char *status, const char *fmt,...)
{
    va_list ap;

    vstring_sprintf(im->reply, "%s %s ", im->tag ? im->tag : "*", status);
    va_start(ap, fmt);
    vstring_vsprintf_append(im->reply, fmt, ap);
    va_end(ap);
    vstring_strcat(im->reply, "\r\n");
    login_session_write(im->io, STR(im->reply), LEN(im->reply));
}

/*
 * Flags.
 */

static const struct {
    unsigned flag;
    const char *name;
}       imapd_flag_names[] = {
    {STORE_ANSWERED, "\\Answered"},
    {STORE_FLAGGED, "\\Flagged"},
    {STORE_DELETED, "\\Deleted"},
    {STORE_SEEN, "\\Seen"},
    {STORE_DRAFT, "\\Draft"},
    {STORE_RECENT, "\\Recent"},
    {0, 0},
};

void    imapd_flags_text(IMAPD *im, VSTRING *out, unsigned flags, unsigned keywords)
{
    int     first = 1;

    vstring_addch(out, '(');
    for (int i = 0; imapd_flag_names[i].name; i++) {
	if (flags & imapd_flag_names[i].flag) {
	    if (!first)
		vstring_addch(out, ' ');
	    vstring_strcat(out, imapd_flag_names[i].name);
	    first = 0;
	}
    }
    for (int k = 0; im->folder && k < im->folder->keyword_count; k++) {
	if (keywords & (1U << k)) {
	    if (!first)
		vstring_addch(out, ' ');
	    vstring_strcat(out, im->folder->keywords[k]);
	    first = 0;
	}
    }
    vstring_addch(out, ')');
}

/* imapd_flag_word - one flag or keyword; 0, -1 (bad, WHY) or -2 (no room, WHY) */

static int imapd_flag_word(STORE_FOLDER *folder, const char *word, unsigned *flags,
			           unsigned *keywords, int create, const char **why)
{
    VSTRING *err;
    int     k;

    if (*word == '\\') {
	for (int i = 0; imapd_flag_names[i].name; i++) {
	    if (strcasecmp(word, imapd_flag_names[i].name) == 0
		&& imapd_flag_names[i].flag != STORE_RECENT) {
		*flags |= imapd_flag_names[i].flag;
		return (0);
	    }
	}
	*why = "Invalid system flag";
	return (-1);
    }
    for (const char *cp = word; *cp; cp++) {
	if ((unsigned char) *cp <= 0x20 || (unsigned char) *cp >= 0x7f
	    || strchr("(){%*\"\\]", *cp)) {
	    *why = "Invalid characters in keyword";
	    return (-1);
	}
    }
    err = vstring_alloc(50);
    k = folder ? store_keyword(folder, word, create, err) : -1;
    vstring_free(err);
    if (k < 0 && create) {
	*why = "[LIMIT] Too many keywords";	/* or the folder is read-only */
	return (-2);
    }
    if (k >= 0)
	*keywords |= 1U << k;
    return (0);
}

int     imapd_flags_parse(STORE_FOLDER *folder, const IMAP_ARG *arg, unsigned *flags,
			          unsigned *keywords, int create, const char **why)
{
    int     ret;

    *flags = *keywords = 0;
    if (arg->type == IMAP_ARG_LIST) {
	for (int i = 0; i < arg->count; i++) {
	    if (arg->list[i].type != IMAP_ARG_ATOM) {
		*why = "Flags must be atoms";
		return (-1);
	    }
	    if ((ret = imapd_flag_word(folder, arg->list[i].data, flags, keywords,
				       create, why)) < 0)
		return (ret);
	}
	return (0);
    }
    if (arg->type == IMAP_ARG_ATOM)
	return (imapd_flag_word(folder, arg->data, flags, keywords, create, why));
    *why = "Flags expected";
    return (-1);
}

/*
 * The client's view of the selected folder.
 */

/* view_copy - the client's view from the folder's (N messages from FIRST) */

static void view_copy(IMAPD *im, int first, int n)
{
    const STORE_MSG *msgs = store_view_msgs(im->folder);

    for (int i = first; i < first + n; i++) {
	im->seen[i].uid = msgs[i].uid;
	im->seen[i].flags = msgs[i].flags;
	im->seen[i].keywords = msgs[i].keywords;
	im->seen[i].modseq = msgs[i].modseq;
    }
}

/*
 * imapd_view_reset - the client's view is the folder's.  When the folder
 * opened from its index without making its array of messages, the copy
 * waits too (imapd_view): until a command needs it, or until imapd_sync()
 * finds that the folder changed, the folder's view is the client's.
 */
void    imapd_view_reset(IMAPD *im)
{
    STORE_FOLDER *f = im->folder;

    if (im->seen)
	myfree(im->seen);
    im->seen = 0;
    im->seen_count = f->count;
    im->view_pending = f->view_pending;
    if (!im->view_pending) {
	im->seen = (IMAPD_SEEN *) mymalloc_big(sizeof(IMAPD_SEEN)
					       * ((size_t) f->count + 1));
	view_copy(im, 0, f->count);
    }
    im->keywords_sent = f->keyword_count;
    im->view_gen = f->view_gen;
}

IMAPD_SEEN *imapd_view(IMAPD *im)
{
    if (im->view_pending) {
	if (im->folder->view_gen != im->view_gen)
	    msg_panic("imapd_view: the folder's view changed first");
	im->view_pending = 0;
	im->seen = (IMAPD_SEEN *) mymalloc_big(sizeof(IMAPD_SEEN)
					       * ((size_t) im->seen_count + 1));
	view_copy(im, 0, im->seen_count);
    }
    return (im->seen);
}

/*
 * imapd_send_flags_list - FLAGS and PERMANENTFLAGS (at SELECT, and after a
 * new keyword); "\*" while the folder has room for another keyword.
 */
void    imapd_send_flags_list(IMAPD *im)
{
    VSTRING *flags = vstring_alloc(100);
    int     room = im->folder->keyword_count < STORE_MAX_KEYWORDS;

    imapd_flags_text(im, flags, STORE_FLAGS_STORED, (1U << im->folder->keyword_count) - 1);
    imapd_untagged(im, "FLAGS %s", STR(flags));
    if (im->readonly) {
	imapd_untagged(im, "OK [PERMANENTFLAGS ()] Read-only mailbox.");
    } else {
	vstring_truncate(flags, LEN(flags) - 1);
	imapd_untagged(im, "OK [PERMANENTFLAGS %s%s%s)] Flags permitted.", STR(flags),
		       room && LEN(flags) > 1 ? " " : "", room ? "\\*" : "");
    }
    im->keywords_sent = im->folder->keyword_count;
    vstring_free(flags);
}

void    imapd_announce_keywords(IMAPD *im)
{
    if (im->folder && im->folder->keyword_count > im->keywords_sent)
	imapd_send_flags_list(im);
}

/*
 * imapd_report_expunges - what left the folder, by the client's numbers.
 * The client's view and the folder's are both in ascending UID order: one
 * merge walk finds what is gone, then the report goes downwards (each
 * EXPUNGE leaves the numbers below it as they were).
 */
static void imapd_report_expunges(IMAPD *im)
{
    STORE_FOLDER *f = im->folder;
    const STORE_MSG *msgs = store_view_msgs(f);
    VSTRING *vanished;
    char   *gone = 0;
    int     out = 0, j = 0;

    for (int i = 0; i < im->seen_count; i++) {
	while (j < f->count && msgs[j].uid < im->seen[i].uid)
	    j++;
	if (j >= f->count || msgs[j].uid != im->seen[i].uid) {
	    if (gone == 0)
		gone = (char *) mycalloc((size_t) im->seen_count, 1);
	    gone[i] = 1;
	}
    }
    if (gone == 0)
	return;
    vanished = vstring_alloc(100);
    for (int i = im->seen_count - 1; i >= 0; i--) {
	if (!gone[i])
	    continue;
	if (im->enabled & IMAPD_ENABLE_QRESYNC)
	    vstring_sprintf_append(vanished, "%s%u", LEN(vanished) ? "," : "",
				   im->seen[i].uid);
	else
	    imapd_untagged(im, "%d EXPUNGE", i + 1);
    }
    if (LEN(vanished))
	imapd_untagged(im, "VANISHED %s", STR(vanished));
    for (int i = 0; i < im->seen_count; i++)
	if (!gone[i])
	    im->seen[out++] = im->seen[i];
    im->seen_count = out;
    vstring_free(vanished);
    myfree(gone);
}

/* imapd_report_changes - flags changed by others; new messages; 1 when
 * the client's view is the folder's now */

static int imapd_report_changes(IMAPD *im)
{
    STORE_FOLDER *f = im->folder;
    const STORE_MSG *msgs = store_view_msgs(f);
    VSTRING *buf = vstring_alloc(100);
    int     recent, unseen, first_unseen;
    int     known = im->seen_count;
    int     aligned = 1;			/* numbering still the client's */

    imapd_announce_keywords(im);
    /* Messages the client knows, by number (no expunges in between now) */
    for (int i = 0; i < known && i < f->count; i++) {
	const STORE_MSG *msg = msgs + i;
	IMAPD_SEEN *seen = im->seen + i;

	if (msg->uid != seen->uid) {
	    aligned = 0;			/* expunges not reported yet */
	    break;
	}
	if ((msg->flags & STORE_FLAGS_STORED) != (seen->flags & STORE_FLAGS_STORED)
	    || msg->keywords != seen->keywords) {
	    vstring_reset(buf);
	    imapd_flags_text(im, buf, msg->flags, msg->keywords);
	    if (im->enabled & (IMAPD_ENABLE_CONDSTORE | IMAPD_ENABLE_QRESYNC))
		imapd_untagged(im, "%d FETCH (UID %u FLAGS %s MODSEQ (%llu))", i + 1,
			       msg->uid, STR(buf), msg->modseq);
	    else
		imapd_untagged(im, "%d FETCH (FLAGS %s)", i + 1, STR(buf));
	}
	seen->flags = msg->flags;
	seen->keywords = msg->keywords;
	seen->modseq = msg->modseq;
    }
    if (aligned && f->count > known) {
	im->seen = (IMAPD_SEEN *) myrealloc(im->seen, sizeof(IMAPD_SEEN) * ((size_t) f->count + 1));
	view_copy(im, known, f->count - known);
	im->seen_count = f->count;
	imapd_untagged(im, "%d EXISTS", f->count);
	store_view_counts(f, &recent, &unseen, &first_unseen);
	imapd_untagged(im, "%d RECENT", recent);
    }
    vstring_free(buf);
    return (aligned && im->seen_count == f->count);
}

void    imapd_sync(IMAPD *im, int expunges_allowed)
{
    VSTRING *why;

    if (im->folder == 0)
	return;
    if (im->view_pending) {
	if (store_view_unchanged(im->folder)) {	/* nothing new to say */
	    imapd_announce_keywords(im);
	    return;
	}
	(void) imapd_view(im);			/* before the sync changes it */
    }
    why = vstring_alloc(100);
    if (store_sync(im->folder, im->readonly ? 0 : STORE_SYNC_CLAIM_NEW, why) < 0)
	msg_warn("%s: %s: %s", im->io->user, im->folder_name, STR(why));
    vstring_free(why);
    if (im->folder->view_gen == im->view_gen) {	/* nothing new to say */
	imapd_announce_keywords(im);
	return;
    }
    if (im->folder->count < im->seen_count || expunges_allowed) {
	if (!expunges_allowed) {
	    /* Messages are gone but we may not say so now: keep quiet */
	    return;
	}
	imapd_report_expunges(im);
    }
    if (imapd_report_changes(im))
	im->view_gen = im->folder->view_gen;
}

void    imapd_close_folder(IMAPD *im)
{
    if (im->folder)
	store_close(im->folder);
    im->folder = 0;
    if (im->folder_name)
	myfree(im->folder_name);
    im->folder_name = 0;
    if (im->seen)
	myfree(im->seen);
    im->seen = 0;
    im->seen_count = 0;
    im->view_pending = 0;
    im->state = IMAPD_AUTHENTICATED;
}

/* imapd_append_mailbox - NAME (UTF-8) as the client writes it, into OUT */

void    imapd_append_mailbox(VSTRING *out, const char *name)
{
    VSTRING *utf7 = vstring_alloc(100);

    if (imap_utf8_to_utf7(utf7, name) < 0)
	vstring_strcpy(utf7, name);
    imap_append_astring(out, STR(utf7), LEN(utf7));
    vstring_free(utf7);
}

/* imapd_store_error - NO with the store's reason and a response code */

void    imapd_store_error(IMAPD *im, const char *why)
{
    const char *code = "";

    if (strstr(why, "already exists"))
	code = "[ALREADYEXISTS] ";
    else if (strstr(why, "no such") || strstr(why, "No such")
	     || strstr(why, "does not exist"))
	code = "[NONEXISTENT] ";
    else if (strstr(why, "INBOX") || strstr(why, "invalid") || strstr(why, "Invalid")
	     || strstr(why, "has children"))
	code = "[CANNOT] ";
    imapd_tagged(im, "NO", "%s%s", code, why);
}

STORE_MSG *imapd_current_msg(IMAPD *im, int n)
{
    unsigned uid;

    STORE_MSG *msg;

    if (n < 1 || n > im->seen_count)
	return (0);
    uid = imapd_view(im)[n - 1].uid;
    /* Usually the two numberings agree: no search */
    if ((msg = store_msg(im->folder, n)) != 0 && msg->uid == uid)
	return (msg);
    return (store_msg(im->folder, store_uid_seq(im->folder, uid)));
}

int     imapd_mailbox_name(const IMAP_ARG *arg, VSTRING *out)
{
    const char *name = imap_arg_astring(arg);

    if (name == 0 || strlen(name) != arg->len)
	return (-1);
    if (strcasecmp(name, "INBOX") == 0) {
	vstring_strcpy(out, "INBOX");
	return (0);
    }
    return (imap_utf7_to_utf8(out, name));
}

int    *imapd_msgset(IMAPD *im, const IMAP_ARG *arg, int uid, int *count,
		             const char **why)
{
    IMAP_SEQSET set;
    unsigned *uids;
    int    *out;
    int     bad = 0;

    if (arg->type != IMAP_ARG_ATOM || imap_seqset_parse(&set, arg->data) < 0) {
	*why = "Invalid message set";
	return (0);
    }
    out = (int *) mymalloc(sizeof(int) * ((size_t) im->seen_count + 1));
    if (uid) {
	uids = (unsigned *) mymalloc(sizeof(unsigned) * ((size_t) im->seen_count + 1));
	IMAPD_SEEN *seen = imapd_view(im);

	for (int i = 0; i < im->seen_count; i++)
	    uids[i] = seen[i].uid;
	*count = imap_seqset_uid_seqs(&set, uids, im->seen_count, out);
	myfree(uids);
    } else {
	/* RFC 3501: numbers are 1..EXISTS; in an empty folder even "*" is none */
	*count = imap_seqset_seqs(&set, im->seen_count, out, &bad);
	if (im->seen_count == 0)
	    bad = 1;
    }
    imap_seqset_free(&set);
    if (bad) {
	myfree(out);
	*why = "Invalid message sequence number";
	return (0);
    }
    return (out);
}

/*
 * The command loop.
 */

/*
 * imapd_folder_gone - another session deleted or renamed the selected
 * folder: the session says BYE and ends (as Dovecot does), since its
 * view no longer has a name to go with it.  1 when that happened.
 */
int     imapd_folder_gone(IMAPD *im)
{
    VSTRING *why;
    int     gone;

    if (im->folder == 0)
	return (0);
    why = vstring_alloc(100);
    gone = (store_root_exists(im->root, im->folder_name, why) == 0);
    vstring_free(why);
    if (gone) {
	msg_info("%s: %s: the selected folder was deleted or renamed", im->io->user,
		 im->folder_name);
	imapd_untagged(im, "BYE Selected mailbox was deleted or renamed, have to disconnect.");
	im->state = IMAPD_LOGOUT;
    }
    return (gone);
}

/* imapd_run - one complete command */

static void imapd_run(IMAPD *im)
{
    const IMAPD_CMD *cmd;
    const IMAP_ARG *args;
    const char *name = imap_parser_name(im->parser);
    int     count;

    im->tag = imap_parser_tag(im->parser);
    im->uid_cmd = 0;
    im->no_expunges = 0;
    args = imap_parser_args(im->parser, &count);
    if (strcasecmp(name, "LOGOUT") != 0 && imapd_folder_gone(im))
	return;
    if ((cmd = imapd_find_command(name)) == 0) {
	imapd_tagged(im, "BAD", "Unknown command.");
    } else if ((cmd->states & (1 << im->state)) == 0) {
	if (cmd->states == 0)
	    imapd_tagged(im, "BAD", "Already logged in.");
	else if (cmd->states == IN_AUTH)
	    imapd_tagged(im, "BAD", "Command valid only in the authenticated state.");
	else
	    imapd_tagged(im, "BAD", "Command valid only when a mailbox is selected.");
    } else if (cmd->fn(im, args, count) != IMAPD_OK) {
	imapd_tagged(im, "BAD", "Invalid arguments for %s.", cmd->name);
    }
}

/* imapd_loop - until LOGOUT, EOF or a timeout */

static const char *imapd_loop(IMAPD *im)
{
    VSTRING *in = im->io->in;			/* IDLE reads DONE from it too */
    const char *tag;
    size_t  used;
    int     status;

    while (im->state != IMAPD_LOGOUT) {
	if (LEN(in) == 0 && login_session_fill(im->io) < 0)
	    break;
	status = imap_parser_feed(im->parser, STR(in), LEN(in), &used);
	vstring_drop_head(in, used);
	switch (status) {
	case IMAP_PARSE_MORE:
	    break;
	case IMAP_PARSE_LITERAL:
	    imapd_literal(im);
	    break;
	case IMAP_PARSE_DONE:
	    imapd_run(im);
	    imap_parser_reset(im->parser);
	    imapd_literal_done(im);
	    break;
	default:
	    tag = imap_parser_tag(im->parser);
	    im->tag = tag ? tag : "*";
	    imapd_tagged(im, "BAD", "Syntax error: %s.", imap_parser_error(im->parser));
	    imap_parser_reset(im->parser);
	    imapd_literal_done(im);
	    break;
	}
    }
    if (im->state == IMAPD_LOGOUT)
	return ("logout");
    if (im->io->timed_out) {
	imapd_write(im, "* BYE Disconnected for inactivity.\r\n", 36);
	(void) login_session_flush(im->io);
	return ("timeout");
    }
    return ("disconnected");
}

/* imapd_open_root - the user's folders */

static STORE_ROOT *imapd_open_root(LOGIN_SESSION *io)
{
    VSTRING *why = vstring_alloc(100);
    VSTRING *dir = vstring_alloc(100);
    const char *home = getenv("HOME");
    STORE_ROOT *root;

    vstring_sprintf(dir, "%s/mail", home && *home ? home : "/nonexistent");
    root = store_root_open(io->maildir ? STORE_KIND_MAILDIR : STORE_KIND_MBOX,
			   io->mailbox, STR(dir), why);
    if (root == 0)
	msg_warn("%s: cannot open the mail store %s: %s", io->user, io->mailbox,
		 STR(why));
    vstring_free(why);
    vstring_free(dir);
    return (root);
}

NORETURN imapd_session_main(void)
{
    IMAPD   im;
    IMAP_PARSER_LIMITS limits;
    const char *how;

    msg_init("imapd", MSG_TO_SYSLOG);
    mail_conf_read(0);
    mail_conf_syslog();
    msg_hostname(conf_str("myhostname"));
    login_session_log_init();
    memset(&im, 0, sizeof(im));
    im.io = login_session_init(conf_time("imapd_timeout"));
    im.reply = vstring_alloc(1024);
    im.append_fd = -1;
    im.tag = *im.io->tag ? im.io->tag : "*";
    if ((im.root = imapd_open_root(im.io)) == 0) {
	imapd_tagged(&im, "NO", "[UNAVAILABLE] Cannot open the mailbox.");
	(void) login_session_flush(im.io);
	exit(1);
    }
    memset(&limits, 0, sizeof(limits));
    limits.line_max = IMAPD_LINE_MAX;
    limits.literal_max = IMAPD_LITERAL_MAX;
    limits.text_max = IMAPD_TEXT_MAX;
    limits.stream_max = IMAPD_STREAM_MAX;	/* offered: imapd_literal() */
    limits.args_max = IMAPD_ARGS_MAX;
    limits.depth_max = IMAPD_DEPTH_MAX;
    im.parser = imap_parser_create(&limits);
    im.state = IMAPD_AUTHENTICATED;
    imapd_tagged(&im, "OK", "[CAPABILITY %s] Logged in", IMAPD_CAPA_AUTH);
    how = imapd_loop(&im);
    (void) login_session_flush(im.io);
    msg_info("%s: %s: user=<%s>", im.io->client, how, im.io->user);
    imapd_close_folder(&im);
    store_root_close(im.root);
    exit(0);
}
