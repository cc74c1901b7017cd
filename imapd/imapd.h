/*
 * imapd.h - the IMAP server's internal interfaces.
 *
 * imapd.c           main(): which of the three roles this process has
 * imapd_login.c     before login (the login process, as mail_owner)
 * imapd_session.c   after login: the command loop, replies, untagged updates
 * imapd_cmd_*.c     the commands, one group per file
 * imapd_fetch.c     FETCH;  imapd_search.c SEARCH
 */
#ifndef IMAPD_H
#define IMAPD_H

#include "sys_defs.h"
#include "vstring.h"
#include "login_server.h"
#include "login_session.h"
#include "imap_parser.h"
#include "store.h"

/* Limits */
#define IMAPD_LINE_MAX		(64 * 1024)	/* a command line, literals aside */
#define IMAPD_LITERAL_MAX	(64 * 1024)	/* a literal kept in memory */
#define IMAPD_TEXT_MAX		(1024 * 1024)	/* all arguments of a command */
#define IMAPD_STREAM_MAX	((size_t) 1 << 40)	/* APPEND, to a file */
#define IMAPD_ARGS_MAX		5000
#define IMAPD_DEPTH_MAX		20

/* Capabilities before and after login */
#define IMAPD_CAPA_BASE	"IMAP4rev1 SASL-IR LITERAL+ ID ENABLE IDLE"
#define IMAPD_CAPA_AUTH	IMAPD_CAPA_BASE " UIDPLUS MOVE NAMESPACE UNSELECT " \
			"CHILDREN SPECIAL-USE LIST-EXTENDED LIST-STATUS " \
			"CONDSTORE QRESYNC"

/* Session states (RFC 3501 section 3) */
#define IMAPD_AUTHENTICATED	1
#define IMAPD_SELECTED		2
#define IMAPD_LOGOUT		3

/* ENABLEd extensions */
#define IMAPD_ENABLE_CONDSTORE	(1<<0)
#define IMAPD_ENABLE_QRESYNC	(1<<1)

/* What the session remembers of each message it has told the client about */
typedef struct IMAPD_SEEN {
    unsigned uid;
    unsigned flags;
    unsigned keywords;
    unsigned long long modseq;
} IMAPD_SEEN;

typedef struct IMAPD {
    LOGIN_SESSION *io;
    IMAP_PARSER *parser;
    STORE_ROOT *root;
    int     state;
    int     enabled;			/* IMAPD_ENABLE_* */
    int     condstore_used;		/* a CONDSTORE command was seen */
    /* The selected folder */
    STORE_FOLDER *folder;
    char   *folder_name;		/* UTF-8 */
    int     readonly;			/* EXAMINE */
    IMAPD_SEEN *seen;			/* the client's view, by number - 1 */
    int     seen_count;
    int     view_pending;		/* seen[] not made: the client's view
					 * is the folder's (at view_gen) */
    unsigned long view_gen;		/* the folder's view_gen when the
					 * client's view was last its view */
    int     keywords_sent;		/* FLAGS reply covers this many keywords */
    /* The command in progress */
    const char *tag;
    VSTRING *reply;			/* scratch */
    int     uid_cmd;			/* a UID command */
    int     no_expunges;		/* FETCH, STORE, SEARCH: no EXPUNGE now */
    /* A big APPEND literal (imapd_cmd_append.c) */
    int     append_fd;			/* unlinked temporary file, or -1 */
    off_t   append_size;
    int     append_toobig;		/* over message_size_limit: dropped */
    int     append_failed;		/* could not keep it */
} IMAPD;

/* imapd_login.c */
extern const LOGIN_PROTOCOL imapd_login_protocol;

/* imapd_session.c */
NORETURN imapd_session_main(void);
void	imapd_untagged(IMAPD *im, const char *fmt,...) PRINTFLIKE(2, 3);
void	imapd_tagged(IMAPD *im, const char *status, const char *fmt,...) PRINTFLIKE(3, 4);
void	imapd_write(IMAPD *im, const char *data, size_t len);
/* imapd_sync - look at the disk, tell the client what changed */
void	imapd_sync(IMAPD *im, int expunges_allowed);
/* imapd_view_reset - the client knows the folder as it is now */
void	imapd_view_reset(IMAPD *im);
/* imapd_view - the client's view (made now if pending), by number - 1 */
IMAPD_SEEN *imapd_view(IMAPD *im);
void	imapd_flags_text(IMAPD *im, VSTRING *out, unsigned flags, unsigned keywords);
/* imapd_flags_parse - flags (list or one atom), keywords as FOLDER numbers them */
int	imapd_flags_parse(STORE_FOLDER *folder, const IMAP_ARG *arg, unsigned *flags,
			          unsigned *keywords, int create, const char **why);
void	imapd_close_folder(IMAPD *im);
/* imapd_folder_gone - 1 (after "* BYE") when the selected folder was deleted or renamed */
int	imapd_folder_gone(IMAPD *im);
/* imapd_flags_parse: 0, -1 bad syntax, -2 no room for another keyword; WHY says */
/* imapd_send_flags_list - FLAGS and PERMANENTFLAGS of the selected folder */
void	imapd_send_flags_list(IMAPD *im);
/* imapd_announce_keywords - new FLAGS/PERMANENTFLAGS when keywords were added */
void	imapd_announce_keywords(IMAPD *im);
/* imapd_current_msg - the store's message for the client's number N (1..), NULL if expunged */
STORE_MSG *imapd_current_msg(IMAPD *im, int n);
/* imapd_mailbox_name - a client's mailbox name (modified UTF-7) as UTF-8 */
int	imapd_mailbox_name(const IMAP_ARG *arg, VSTRING *out);
/* imapd_append_mailbox - a UTF-8 name as the client writes it (astring) */
void	imapd_append_mailbox(VSTRING *out, const char *name);
/* imapd_store_error - "tag NO" with the store's reason and an RFC 5530 code */
void	imapd_store_error(IMAPD *im, const char *why);

/* The command table entry */
typedef struct IMAPD_CMD {
    const char *name;
    int     states;			/* bit (1 << state) where allowed */
    int     (*fn) (IMAPD *im, const IMAP_ARG *args, int count);
} IMAPD_CMD;

#define IN_AUTH		(1 << IMAPD_AUTHENTICATED)
#define IN_SELECTED	(1 << IMAPD_SELECTED)
#define IN_ANY		(IN_AUTH | IN_SELECTED)

/* Command handlers return IMAPD_OK when they sent their tagged reply */
#define IMAPD_OK	0
#define IMAPD_BAD	(-1)		/* the caller answers "BAD" + the reason */

/* imapd_cmd_any.c */
int	imapd_cmd_capability(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_noop(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_logout(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_id(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_enable(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_namespace(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_idle(IMAPD *, const IMAP_ARG *, int);

/* imapd_cmd_mailbox.c */
int	imapd_cmd_select(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_examine(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_create(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_delete(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_rename(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_subscribe(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_unsubscribe(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_status(IMAPD *, const IMAP_ARG *, int);
/* imapd_status_items - STATUS's item list as bits, -1 if bad; then
 * imapd_status_reply - "* STATUS" for a folder: 0, or -1 (WHY) */
int	imapd_status_items(const IMAP_ARG *list);
int	imapd_status_reply(IMAPD *im, const char *name, int items, VSTRING *why);

/* imapd_cmd_list.c */
int	imapd_cmd_list(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_lsub(IMAPD *, const IMAP_ARG *, int);

/* imapd_cmd_message.c */
int	imapd_cmd_check(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_close(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_unselect(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_expunge(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_store(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_copy(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_move(IMAPD *, const IMAP_ARG *, int);
int	imapd_cmd_uid(IMAPD *, const IMAP_ARG *, int);

/* imapd_cmd_append.c */
int	imapd_cmd_append(IMAPD *, const IMAP_ARG *, int);
/* imapd_literal - the parser announced a literal: "+ OK", spool or refuse */
void	imapd_literal(IMAPD *im);
/* imapd_literal_done - forget a spooled literal (after each command) */
void	imapd_literal_done(IMAPD *im);

/* imapd_fetch.c */
int	imapd_cmd_fetch(IMAPD *, const IMAP_ARG *, int);

/* imapd_search.c */
int	imapd_cmd_search(IMAPD *, const IMAP_ARG *, int);

/* imapd_session.c: shared by the handlers */
const IMAPD_CMD *imapd_find_command(const char *name);
/* imapd_msgset - messages (numbers 1..count) a set argument names; NULL + BAD */
int    *imapd_msgset(IMAPD *im, const IMAP_ARG *arg, int uid, int *count,
		             const char **why);

#endif
