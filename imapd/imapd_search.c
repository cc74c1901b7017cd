/*
 * imapd_search.c - SEARCH and UID SEARCH (RFC 3501 section 6.4.4), with
 * RFC 7162's MODSEQ search key.
 *
 * The search program is parsed into a tree of SEARCH_KEYs (a list is an
 * AND; OR and NOT have two and one children), then every message of the
 * client's view is tested against it.  Flags, sizes, dates, UIDs and
 * sequence numbers come from the view; header keys (FROM, TO, CC, BCC,
 * SUBJECT, HEADER) compare against the decoded field bodies (RFC 2047
 * words and charsets to UTF-8, lib/mail/message_decode.h); BODY and TEXT
 * against the decoded text parts (transfer encodings and charsets), TEXT
 * also against the header of the message and of every body part, all
 * through the case-insensitive substring matcher of
 * lib/mail/mail_search.h.  A message's text is read only when a key
 * needs it, once per message.  CHARSET may name any charset iconv knows
 * (the search strings are converted to UTF-8); for another the answer is
 * NO [BADCHARSET].
 * SENTBEFORE/SENTON/SENTSINCE use the Date: field in its own zone,
 * BEFORE/ON/SINCE the INTERNALDATE in the server's zone (as Dovecot).
 */
#include "sys_defs.h"
#include <strings.h>
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "imap_date.h"
#include "imap_seqset.h"
#include "mail_search.h"
#include "message_part.h"
#include "message_decode.h"
#include "message_content.h"
#include "message_date.h"
#include "imapd.h"

/* Key types */
#define K_AND		1
#define K_OR		2
#define K_NOT		3
#define K_ALL		4
#define K_FLAG		5		/* flag set */
#define K_NOFLAG	6		/* flag not set */
#define K_NEW		7		/* \Recent and not \Seen */
#define K_KEYWORD	8
#define K_UNKEYWORD	9
#define K_HEADER	10		/* a named field contains the text */
#define K_BODY		11
#define K_TEXT		12
#define K_BEFORE	13		/* INTERNALDATE */
#define K_ON		14
#define K_SINCE		15
#define K_SENTBEFORE	16		/* Date: */
#define K_SENTON	17
#define K_SENTSINCE	18
#define K_LARGER	19
#define K_SMALLER	20
#define K_SEQSET	21
#define K_UIDSET	22
#define K_MODSEQ	23

typedef struct SEARCH_KEY {
    int     type;
    unsigned flag;			/* K_FLAG, K_NOFLAG */
    int     keyword;			/* K_KEYWORD, K_UNKEYWORD: -1 none */
    char   *field;			/* K_HEADER */
    MAIL_SEARCH *matcher;		/* K_HEADER, K_BODY, K_TEXT */
    long    day;			/* date keys: days since 1970 */
    off_t   size;			/* K_LARGER, K_SMALLER */
    IMAP_SEQSET set;			/* K_SEQSET, K_UIDSET */
    unsigned long long modseq;		/* K_MODSEQ */
    struct SEARCH_KEY *subs;		/* K_AND, K_OR, K_NOT */
    int     sub_count;
} SEARCH_KEY;

/* Parsing state */
typedef struct SEARCH_PARSE {
    IMAPD  *im;
    const IMAP_ARG *args;
    int     count;
    int     pos;
    int     depth;
    int     modseq_used;
    CHARSET_CONV *conv;			/* CHARSET not UTF-8: to UTF-8 */
    const char *error;
} SEARCH_PARSE;

#define SEARCH_DEPTH_MAX	100

/* The message being tested */
typedef struct SEARCH_MSG {
    IMAPD  *im;
    STORE_MSG *msg;
    int     seq;
    VSTRING *text;			/* the message, once read */
    MESSAGE_PART *parts;
    int     loaded;			/* 1 read, -1 could not */
    VSTRING *scratch;
} SEARCH_MSG;

static void search_key_free(SEARCH_KEY *key)
{
    for (int i = 0; i < key->sub_count; i++)
	search_key_free(key->subs + i);
    if (key->subs)
	myfree(key->subs);
    if (key->field)
	myfree(key->field);
    if (key->matcher)
	mail_search_free(key->matcher);
    if (key->type == K_SEQSET || key->type == K_UIDSET)
	imap_seqset_free(&key->set);
}

/*
 * Parsing.
 */

static int search_parse_key(SEARCH_PARSE *sp, SEARCH_KEY *key);

/* search_next - the next argument, or NULL (sets the error) */

static const IMAP_ARG *search_next(SEARCH_PARSE *sp, const char *what)
{
    if (sp->pos >= sp->count) {
	sp->error = what;
	return (0);
    }
    return (sp->args + sp->pos++);
}

/* search_string - an astring argument */

static const char *search_string(SEARCH_PARSE *sp, size_t *len)
{
    const IMAP_ARG *arg = search_next(sp, "Missing search string");
    const char *text;

    if (arg == 0)
	return (0);
    if (arg->type == IMAP_ARG_NIL || (text = imap_arg_astring(arg)) == 0) {
	sp->error = "Invalid search string";
	return (0);
    }
    *len = arg->len;
    return (text);
}

/* search_number - a number argument, 0..max */

static int search_number(SEARCH_PARSE *sp, unsigned long long max,
			         unsigned long long *value)
{
    const IMAP_ARG *arg = search_next(sp, "Missing number");
    char   *end;

    if (arg == 0)
	return (-1);
    if (arg->type != IMAP_ARG_ATOM || arg->len == 0 || arg->len > 20
	|| strspn(arg->data, "0123456789") != arg->len) {
	sp->error = "Invalid number";
	return (-1);
    }
    errno = 0;
    *value = strtoull(arg->data, &end, 10);
    if (errno || *value > max) {
	sp->error = "Number out of range";
	return (-1);
    }
    return (0);
}

/* search_text_key - a key with a string: the matcher */

static int search_text_key(SEARCH_PARSE *sp, SEARCH_KEY *key, int type,
			           const char *field)
{
    const char *text;
    size_t  len;

    VSTRING *utf8;

    if ((text = search_string(sp, &len)) == 0)
	return (-1);
    key->type = type;
    if (sp->conv) {
	utf8 = vstring_alloc(len * 2 + 10);
	charset_conv_feed(sp->conv, text, len, utf8);
	charset_conv_finish(sp->conv, utf8);
	key->matcher = mail_search_create(STR(utf8), LEN(utf8));
	vstring_free(utf8);
    } else {
	key->matcher = mail_search_create(text, len);
    }
    if (field)
	key->field = mystrdup(field);
    return (0);
}

/* search_date_key - a key with a date */

static int search_date_key(SEARCH_PARSE *sp, SEARCH_KEY *key, int type)
{
    const IMAP_ARG *arg = search_next(sp, "Missing date");
    const char *text;
    time_t  day;

    if (arg == 0)
	return (-1);
    if ((text = imap_arg_astring(arg)) == 0 || imap_date_parse(text, &day) < 0) {
	sp->error = "Invalid date";
	return (-1);
    }
    key->type = type;
    key->day = imap_date_day(day, 0);
    return (0);
}

/* search_set_key - a sequence set or UID set */

static int search_set_key(SEARCH_PARSE *sp, SEARCH_KEY *key, int type,
			          const IMAP_ARG *arg)
{
    if (arg->type != IMAP_ARG_ATOM || imap_seqset_parse(&key->set, arg->data) < 0) {
	sp->error = "Invalid message set";
	return (-1);
    }
    key->type = type;
    return (0);
}

/* search_keyword_key - KEYWORD / UNKEYWORD */

static int search_keyword_key(SEARCH_PARSE *sp, SEARCH_KEY *key, int type)
{
    const IMAP_ARG *arg = search_next(sp, "Missing keyword");
    VSTRING *why;

    if (arg == 0)
	return (-1);
    if (arg->type != IMAP_ARG_ATOM) {
	sp->error = "Invalid keyword";
	return (-1);
    }
    why = vstring_alloc(50);
    key->type = type;
    key->keyword = store_keyword(sp->im->folder, arg->data, 0, why);
    vstring_free(why);
    return (0);
}

/* search_modseq_key - MODSEQ [entry-name entry-type-req] mod-sequence-valzer */

static int search_modseq_key(SEARCH_PARSE *sp, SEARCH_KEY *key)
{
    const IMAP_ARG *arg;

    if (sp->pos + 2 < sp->count && sp->args[sp->pos].type != IMAP_ARG_ATOM) {
	/* The entry name (a quoted "/flags/\\seen") and type: accepted, ignored */
	arg = sp->args + sp->pos + 1;
	if (!imap_arg_atom_is(arg, "priv") && !imap_arg_atom_is(arg, "shared")
	    && !imap_arg_atom_is(arg, "all")) {
	    sp->error = "Invalid MODSEQ entry type";
	    return (-1);
	}
	sp->pos += 2;
    }
    key->type = K_MODSEQ;
    sp->modseq_used = 1;
    return (search_number(sp, ~0ULL >> 1, &key->modseq));
}

/* search_list - the keys of a parenthesized list (or the whole program) */

static int search_list(SEARCH_PARSE *sp, SEARCH_KEY *key, const IMAP_ARG *args,
		               int count)
{
    const IMAP_ARG *saved_args = sp->args;
    int     saved_count = sp->count, saved_pos = sp->pos;

    if (count == 0 || ++sp->depth > SEARCH_DEPTH_MAX) {
	sp->error = count == 0 ? "Empty search list" : "Search program too deep";
	return (-1);
    }
    key->type = K_AND;
    sp->args = args;
    sp->count = count;
    sp->pos = 0;
    while (sp->pos < sp->count) {
	key->subs = (SEARCH_KEY *) myrealloc(key->subs,
				   sizeof(SEARCH_KEY) * (key->sub_count + 1));
	memset(key->subs + key->sub_count, 0, sizeof(SEARCH_KEY));
	key->sub_count++;
	if (search_parse_key(sp, key->subs + key->sub_count - 1) < 0)
	    return (-1);
    }
    sp->args = saved_args;
    sp->count = saved_count;
    sp->pos = saved_pos;
    sp->depth--;
    return (0);
}

/* search_subkeys - the N keys that follow, as children of KEY */

static int search_subkeys(SEARCH_PARSE *sp, SEARCH_KEY *key, int type, int n)
{
    if (++sp->depth > SEARCH_DEPTH_MAX) {
	sp->error = "Search program too deep";
	return (-1);
    }
    key->type = type;
    key->subs = (SEARCH_KEY *) mymalloc(sizeof(SEARCH_KEY) * n);
    memset(key->subs, 0, sizeof(SEARCH_KEY) * n);
    for (int i = 0; i < n; i++) {
	key->sub_count = i + 1;
	if (sp->pos >= sp->count) {
	    sp->error = "Missing search key";
	    return (-1);
	}
	if (search_parse_key(sp, key->subs + i) < 0)
	    return (-1);
    }
    sp->depth--;
    return (0);
}

static const struct {
    const char *name;
    int     type;
    unsigned flag;
}       search_flag_keys[] = {
    {"ANSWERED", K_FLAG, STORE_ANSWERED}, {"DELETED", K_FLAG, STORE_DELETED},
    {"DRAFT", K_FLAG, STORE_DRAFT}, {"FLAGGED", K_FLAG, STORE_FLAGGED},
    {"RECENT", K_FLAG, STORE_RECENT}, {"SEEN", K_FLAG, STORE_SEEN},
    {"UNANSWERED", K_NOFLAG, STORE_ANSWERED}, {"UNDELETED", K_NOFLAG, STORE_DELETED},
    {"UNDRAFT", K_NOFLAG, STORE_DRAFT}, {"UNFLAGGED", K_NOFLAG, STORE_FLAGGED},
    {"UNSEEN", K_NOFLAG, STORE_SEEN}, {"OLD", K_NOFLAG, STORE_RECENT},
    {"NEW", K_NEW, 0}, {"ALL", K_ALL, 0},
    {0, 0, 0},
};

static const struct {
    const char *name;
    int     type;
    const char *field;
}       search_text_keys[] = {
    {"FROM", K_HEADER, "From"}, {"TO", K_HEADER, "To"}, {"CC", K_HEADER, "Cc"},
    {"BCC", K_HEADER, "Bcc"}, {"SUBJECT", K_HEADER, "Subject"},
    {"BODY", K_BODY, 0}, {"TEXT", K_TEXT, 0},
    {0, 0, 0},
};

static const struct {
    const char *name;
    int     type;
}       search_date_keys[] = {
    {"BEFORE", K_BEFORE}, {"ON", K_ON}, {"SINCE", K_SINCE},
    {"SENTBEFORE", K_SENTBEFORE}, {"SENTON", K_SENTON}, {"SENTSINCE", K_SENTSINCE},
    {0, 0},
};

/* search_named_key - a key that starts with a word */

static int search_named_key(SEARCH_PARSE *sp, SEARCH_KEY *key, const char *name)
{
    unsigned long long n;
    const char *field;
    size_t  len;

    for (int i = 0; search_flag_keys[i].name; i++)
	if (strcasecmp(name, search_flag_keys[i].name) == 0) {
	    key->type = search_flag_keys[i].type;
	    key->flag = search_flag_keys[i].flag;
	    return (0);
	}
    for (int i = 0; search_text_keys[i].name; i++)
	if (strcasecmp(name, search_text_keys[i].name) == 0)
	    return (search_text_key(sp, key, search_text_keys[i].type,
				    search_text_keys[i].field));
    for (int i = 0; search_date_keys[i].name; i++)
	if (strcasecmp(name, search_date_keys[i].name) == 0)
	    return (search_date_key(sp, key, search_date_keys[i].type));
    if (strcasecmp(name, "HEADER") == 0) {
	if ((field = search_string(sp, &len)) == 0)
	    return (-1);
	if (len == 0 || strlen(field) != len || strpbrk(field, ": \t\r\n")) {
	    sp->error = "Invalid header field name";
	    return (-1);
	}
	return (search_text_key(sp, key, K_HEADER, field));
    }
    if (strcasecmp(name, "KEYWORD") == 0)
	return (search_keyword_key(sp, key, K_KEYWORD));
    if (strcasecmp(name, "UNKEYWORD") == 0)
	return (search_keyword_key(sp, key, K_UNKEYWORD));
    if (strcasecmp(name, "LARGER") == 0 || strcasecmp(name, "SMALLER") == 0) {
	key->type = (strcasecmp(name, "LARGER") == 0) ? K_LARGER : K_SMALLER;
	if (search_number(sp, 0xFFFFFFFFULL, &n) < 0)
	    return (-1);
	key->size = (off_t) n;
	return (0);
    }
    if (strcasecmp(name, "UID") == 0) {
	const IMAP_ARG *arg = search_next(sp, "Missing UID set");

	return (arg ? search_set_key(sp, key, K_UIDSET, arg) : -1);
    }
    if (strcasecmp(name, "NOT") == 0)
	return (search_subkeys(sp, key, K_NOT, 1));
    if (strcasecmp(name, "OR") == 0)
	return (search_subkeys(sp, key, K_OR, 2));
    if (strcasecmp(name, "MODSEQ") == 0)
	return (search_modseq_key(sp, key));
    sp->error = "Unknown search key";
    return (-1);
}

static int search_parse_key(SEARCH_PARSE *sp, SEARCH_KEY *key)
{
    const IMAP_ARG *arg = search_next(sp, "Missing search key");

    if (arg == 0)
	return (-1);
    key->keyword = -1;
    if (arg->type == IMAP_ARG_LIST)
	return (search_list(sp, key, arg->list, arg->count));
    if (arg->type != IMAP_ARG_ATOM) {
	sp->error = "Invalid search key";
	return (-1);
    }
    if (strchr("0123456789*", arg->data[0]))
	return (search_set_key(sp, key, K_SEQSET, arg));
    return (search_named_key(sp, key, arg->data));
}

/*
 * A message's text, for the header and body keys.
 */

typedef struct SEARCH_READER {
    const char *data;
    size_t  len;
    size_t  pos;
} SEARCH_READER;

static ssize_t search_read_buffer(void *ctx, char *buf, size_t len)
{
    SEARCH_READER *rd = (SEARCH_READER *) ctx;

    if (len > rd->len - rd->pos)
	len = rd->len - rd->pos;
    memcpy(buf, rd->data + rd->pos, len);
    rd->pos += len;
    return ((ssize_t) len);
}

/* search_load - read and parse the message once; 0, or -1 */

static int search_load(SEARCH_MSG *sm)
{
    STORE_STREAM *stream;
    SEARCH_READER rd;
    char    buf[65536];
    ssize_t n;

    if (sm->loaded)
	return (sm->loaded > 0 ? 0 : -1);
    sm->loaded = -1;
    if ((stream = store_msg_open(sm->im->folder, sm->msg, sm->scratch)) == 0) {
	msg_warn("%s: %s: UID %u: %s", sm->im->io->user, sm->im->folder_name,
		 sm->msg->uid, STR(sm->scratch));
	return (-1);
    }
    vstring_reset(sm->text);
    while ((n = store_read(stream, buf, sizeof(buf))) > 0)
	vstring_memcat(sm->text, buf, (size_t) n);
    store_msg_close(stream);
    rd.data = STR(sm->text);
    rd.len = LEN(sm->text);
    rd.pos = 0;
    if ((sm->parts = message_parse(search_read_buffer, &rd, sm->scratch)) == 0)
	return (-1);
    sm->loaded = 1;
    return (0);
}

/*
 * search_header - does a field of the header at DATA..LEN (named NAME, or
 * any when NAME is NULL) contain the key?  Field bodies are unfolded and
 * decoded; for TEXT (NAME NULL) the field name counts too.
 */
static int search_header(SEARCH_MSG *sm, const char *data, size_t len,
			         const char *name, MAIL_SEARCH *matcher)
{
    const char *end = data + len, *line = data, *next, *colon;
    size_t  name_len = name ? strlen(name) : 0;

    while (line < end && *line != '\n' && !(line[0] == '\r' && line + 1 < end
					    && line[1] == '\n')) {
	/* The field: this line and its continuation lines */
	next = line;
	do {
	    const char *nl = memchr(next, '\n', end - next);

	    next = nl ? nl + 1 : end;
	} while (next < end && (*next == ' ' || *next == '\t'));
	colon = memchr(line, ':', next - line);
	if (colon && (name == 0 || ((size_t) (colon - line) == name_len
				    && strncasecmp(line, name, name_len) == 0))) {
	    vstring_reset(sm->scratch);
	    if (name == 0)
		vstring_memcat(sm->scratch, line, colon + 1 - line);
	    message_header_decode(sm->scratch, colon + 1, next - colon - 1);
	    mail_search_reset(matcher);
	    if (mail_search_feed(matcher, STR(sm->scratch), LEN(sm->scratch)))
		return (1);
	}
	line = next;
    }
    return (0);
}

/* search_part_body - a leaf part's decoded text contains the key? */

static int search_part_body(SEARCH_MSG *sm, const MESSAGE_PART *part,
			            MAIL_SEARCH *matcher)
{
    const char *charset = message_param_find(part->params, part->param_count, "charset");
    MESSAGE_DECODER *dec;
    VSTRING *out = vstring_alloc(4096);
    const char *data = STR(sm->text) + part->body_offset;
    off_t   left = part->body_size;
    int     found = 0;

    dec = message_decoder_create(part->encoding, charset ? charset : "us-ascii");
    mail_search_reset(matcher);
    while (left > 0 && !found) {
	size_t  n = left > 65536 ? 65536 : (size_t) left;

	vstring_reset(out);
	message_decoder_feed(dec, data, n, out);
	found = mail_search_feed(matcher, STR(out), LEN(out));
	data += n;
	left -= n;
    }
    if (!found) {
	vstring_reset(out);
	message_decoder_finish(dec, out);
	found = mail_search_feed(matcher, STR(out), LEN(out));
    }
    message_decoder_free(dec);
    vstring_free(out);
    return (found);
}

/*
 * search_body - any text part (and enclosed message's header) matches?
 * With MIME_HEADERS (TEXT) the header of each body part counts too, as
 * it is part of the message's text (Dovecot does the same).
 */
static int search_body(SEARCH_MSG *sm, const MESSAGE_PART *part, MAIL_SEARCH *matcher,
		               int mime_headers)
{
    const MESSAGE_PART *child;

    switch (part->kind) {
    case MESSAGE_PART_MULTIPART:
	for (int i = 0; i < part->child_count; i++) {
	    child = part->children + i;
	    if (mime_headers && search_header(sm, STR(sm->text) + child->hdr_offset,
					      child->hdr_size, 0, matcher))
		return (1);
	    if (search_body(sm, child, matcher, mime_headers))
		return (1);
	}
	return (0);
    case MESSAGE_PART_MESSAGE:
	if (part->child_count == 0)
	    return (0);
	if (search_header(sm, STR(sm->text) + part->children->hdr_offset,
			  part->children->hdr_size, 0, matcher))
	    return (1);
	return (search_body(sm, part->children, matcher, mime_headers));
    default:
	if (strcasecmp(part->type, "text") != 0 && strcasecmp(part->type, "message") != 0)
	    return (0);
	return (search_part_body(sm, part, matcher));
    }
}

/* search_text - the text keys */

static int search_text(SEARCH_MSG *sm, const SEARCH_KEY *key)
{
    const MESSAGE_PART *top;

    if (search_load(sm) < 0)
	return (0);
    top = sm->parts;
    switch (key->type) {
    case K_HEADER:
	return (search_header(sm, STR(sm->text) + top->hdr_offset, top->hdr_size,
			      key->field, key->matcher));
    case K_BODY:
	return (search_body(sm, top, key->matcher, 0));
    default:					/* K_TEXT */
	return (search_header(sm, STR(sm->text) + top->hdr_offset, top->hdr_size,
			      0, key->matcher)
		|| search_body(sm, top, key->matcher, 1));
    }
}

/* search_sent_day - the day of the Date: field in its zone; -1 if none */

static long search_sent_day(SEARCH_MSG *sm)
{
    const char *date;
    time_t  when;
    int     zone;

    if (search_load(sm) < 0 || (date = sm->parts->env_date) == 0)
	return (-1);
    if ((when = message_date_parse(date, strlen(date), &zone)) == (time_t) -1)
	return (-1);
    return (imap_date_day(when, (long) zone * 60));
}

/* search_received_day - the INTERNALDATE's day in the server's zone */

static long search_received_day(SEARCH_MSG *sm)
{
    struct tm tm;
    time_t  when;

    if (store_msg_sizes(sm->im->folder, sm->msg, sm->scratch) < 0 || sm->msg->received < 0)
	return (-1);
    when = sm->msg->received;
    localtime_r(&when, &tm);
    return (imap_date_day(when, tm.tm_gmtoff));
}

/* search_compare_day - BEFORE/ON/SINCE on DAY */

static int search_compare_day(int type, long day, long key_day)
{
    if (day < 0)
	return (0);
    switch (type) {
    case K_BEFORE:
    case K_SENTBEFORE:
	return (day < key_day);
    case K_ON:
    case K_SENTON:
	return (day == key_day);
    default:
	return (day >= key_day);
    }
}

/* search_match - does the message match KEY? */

static int search_match(SEARCH_MSG *sm, const SEARCH_KEY *key)
{
    STORE_MSG *msg = sm->msg;
    unsigned max;

    switch (key->type) {
    case K_AND:
	for (int i = 0; i < key->sub_count; i++)
	    if (!search_match(sm, key->subs + i))
		return (0);
	return (1);
    case K_OR:
	return (search_match(sm, key->subs) || search_match(sm, key->subs + 1));
    case K_NOT:
	return (!search_match(sm, key->subs));
    case K_ALL:
	return (1);
    case K_FLAG:
	return ((msg->flags & key->flag) != 0);
    case K_NOFLAG:
	return ((msg->flags & key->flag) == 0);
    case K_NEW:
	return ((msg->flags & (STORE_RECENT | STORE_SEEN)) == STORE_RECENT);
    case K_KEYWORD:
	return (key->keyword >= 0 && (msg->keywords & (1U << key->keyword)));
    case K_UNKEYWORD:
	return (key->keyword < 0 || !(msg->keywords & (1U << key->keyword)));
    case K_HEADER:
    case K_BODY:
    case K_TEXT:
	return (search_text(sm, key));
    case K_BEFORE:
    case K_ON:
    case K_SINCE:
	return (search_compare_day(key->type, search_received_day(sm), key->day));
    case K_SENTBEFORE:
    case K_SENTON:
    case K_SENTSINCE:
	return (search_compare_day(key->type, search_sent_day(sm), key->day));
    case K_LARGER:
    case K_SMALLER:
	if (store_msg_sizes(sm->im->folder, msg, sm->scratch) < 0 || msg->vsize < 0)
	    return (0);
	return (key->type == K_LARGER ? msg->vsize > key->size : msg->vsize < key->size);
    case K_SEQSET:
	return (imap_seqset_contains(&key->set, (unsigned) sm->seq,
				     (unsigned) sm->im->seen_count));
    case K_UIDSET:
	max = sm->im->seen_count ? imapd_view(sm->im)[sm->im->seen_count - 1].uid : 0;
	return (imap_seqset_contains(&key->set, msg->uid, max));
    case K_MODSEQ:
	return (msg->modseq >= key->modseq);
    default:
	msg_panic("search_match: key type %d", key->type);
    }
}

/* search_charset - CHARSET x: 0 ok (*CONV set unless UTF-8), -1 after a tagged reply */

static int search_charset(IMAPD *im, const IMAP_ARG *args, int count, int *skip,
			          CHARSET_CONV **conv)
{
    const char *charset;

    *skip = 0;
    *conv = 0;
    if (count < 2 || !imap_arg_atom_is(args, "CHARSET"))
	return (0);
    if ((charset = imap_arg_astring(args + 1)) == 0 || strlen(charset) != args[1].len) {
	imapd_tagged(im, "BAD", "Invalid charset.");
	return (-1);
    }
    if (!charset_known(charset)) {
	imapd_tagged(im, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset.");
	return (-1);
    }
    if (strcasecmp(charset, "UTF-8") != 0 && strcasecmp(charset, "US-ASCII") != 0)
	*conv = charset_conv_create(charset);
    *skip = 2;
    return (0);
}

/* search_run - the matches, into REPLY; the highest MODSEQ among them */

static unsigned long long search_run(IMAPD *im, const SEARCH_KEY *program,
				             VSTRING *reply)
{
    SEARCH_MSG sm;
    unsigned long long highest = 0;

    memset(&sm, 0, sizeof(sm));
    sm.im = im;
    sm.text = vstring_alloc(4096);
    sm.scratch = vstring_alloc(1024);
    for (int n = 1; n <= im->seen_count; n++) {
	STORE_MSG *msg = imapd_current_msg(im, n);

	if (msg == 0)
	    continue;
	sm.msg = msg;
	sm.seq = n;
	sm.loaded = 0;
	if (search_match(&sm, program)) {
	    vstring_sprintf_append(reply, " %u", im->uid_cmd ? msg->uid : (unsigned) n);
	    if (msg->modseq > highest)
		highest = msg->modseq;
	}
	if (sm.parts) {
	    message_part_free(sm.parts);
	    sm.parts = 0;
	}
    }
    vstring_free(sm.text);
    vstring_free(sm.scratch);
    return (highest);
}

int     imapd_cmd_search(IMAPD *im, const IMAP_ARG *args, int count)
{
    SEARCH_PARSE sp;
    SEARCH_KEY program;
    VSTRING *reply;
    unsigned long long highest;
    int     skip, status;

    if (count == 0)
	return (IMAPD_BAD);
    memset(&sp, 0, sizeof(sp));
    if (search_charset(im, args, count, &skip, &sp.conv) < 0)
	return (IMAPD_OK);
    memset(&program, 0, sizeof(program));
    sp.im = im;
    status = search_list(&sp, &program, args + skip, count - skip);
    if (sp.conv)
	charset_conv_free(sp.conv);
    if (status < 0) {
	imapd_tagged(im, "BAD", "%s.", sp.error ? sp.error : "Invalid search");
	search_key_free(&program);
	return (IMAPD_OK);
    }
    if (sp.modseq_used)
	im->enabled |= IMAPD_ENABLE_CONDSTORE;
    reply = vstring_alloc(1024);
    vstring_strcpy(reply, "* SEARCH");
    highest = search_run(im, &program, reply);
    if (sp.modseq_used && highest > 0)
	vstring_sprintf_append(reply, " (MODSEQ %llu)", highest);
    vstring_strcat(reply, "\r\n");
    imapd_write(im, STR(reply), LEN(reply));
    imapd_sync(im, im->uid_cmd);
    imapd_tagged(im, "OK", "Search completed.");
    search_key_free(&program);
    vstring_free(reply);
    return (IMAPD_OK);
}
