/*
 * message_decode.c - transfer encodings, charsets and encoded words to
 * UTF-8 (message_decode.h).
 *
 * Every decoder is a small state machine fed byte by byte (or in runs),
 * so the caller can stream a body of any size through it; what a piece
 * may cut in half is kept in the state, a few bytes at most.
 */
#include "sys_defs.h"
#include <iconv.h>
#include <strings.h>
#include "mymalloc.h"
#include "vstring.h"
#include "message_decode.h"

#define REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */
#define PENDING_MAX	16		/* bytes of an unfinished character */
#define QP_WS_MAX	1024		/* trailing white space held back */
#define CHARSET_NAME_MAX 64

 /*
  * Charset conversion.
  */
struct CHARSET_CONV {
    iconv_t cd;				/* (iconv_t) -1: read as UTF-8 */
    char    pending[PENDING_MAX];	/* an unfinished character */
    size_t  pending_len;
    VSTRING *work;			/* pending + new input */
};

/* is_utf8_name - charsets that are read as UTF-8 */

static int is_utf8_name(const char *charset)
{
    static const char *names[] = {
	"utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "7bit", "8bit",
    };

    if (charset == 0 || *charset == 0)
	return (1);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	if (strcasecmp(charset, names[i]) == 0)
	    return (1);
    return (0);
}

/* open_iconv - a descriptor from CHARSET to UTF-8, or (iconv_t) -1 */

static iconv_t open_iconv(const char *charset)
{
    if (is_utf8_name(charset) || strlen(charset) > CHARSET_NAME_MAX)
	return ((iconv_t) -1);
    return (iconv_open("UTF-8", charset));
}

int     charset_known(const char *charset)
{
    iconv_t cd;

    if (is_utf8_name(charset))
	return (1);
    if ((cd = open_iconv(charset)) == (iconv_t) -1)
	return (0);
    iconv_close(cd);
    return (1);
}

CHARSET_CONV *charset_conv_create(const char *charset)
{
    CHARSET_CONV *conv = (CHARSET_CONV *) mymalloc(sizeof(*conv));

    conv->cd = open_iconv(charset);
    conv->pending_len = 0;
    conv->work = vstring_alloc(256);
    return (conv);
}

void    charset_conv_free(CHARSET_CONV *conv)
{
    if (conv->cd != (iconv_t) -1)
	iconv_close(conv->cd);
    vstring_free(conv->work);
    myfree(conv);
}

/*
 * utf8_sequence - the length of the UTF-8 character at P: > 0 valid, 0 cut
 * short by the end of the data, -1 invalid (overlong forms, surrogates
 * and code points above U+10FFFF included).
 */
static int utf8_sequence(const unsigned char *p, size_t avail)
{
    unsigned c = p[0];
    int     need;

    if (c < 0x80)
	return (1);
    if (c < 0xc2)
	return (-1);
    need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf5 ? 3 : -1;
    if (need < 0)
	return (-1);
    for (int i = 1; i <= need; i++) {
	if ((size_t) i >= avail)
	    return (0);
	if ((p[i] & 0xc0) != 0x80)
	    return (-1);
	if (i == 1 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)
		       || (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
	    return (-1);
    }
    return (need + 1);
}

/* keep_pending - hold back the unfinished character at the end */

static void keep_pending(CHARSET_CONV *conv, const char *data, size_t len)
{
    memcpy(conv->pending, data, len);
    conv->pending_len = len;
}

/* feed_utf8 - validate UTF-8; the bytes used (the rest may be a cut character) */

static size_t feed_utf8(const char *data, size_t len, VSTRING *out)
{
    const unsigned char *p = (const unsigned char *) data;
    size_t  start = 0, i = 0;
    int     n;

    while (i < len) {
	if (p[i] < 0x80) {
	    i++;
	    continue;
	}
	if ((n = utf8_sequence(p + i, len - i)) > 0) {
	    i += n;
	    continue;
	}
	vstring_memcat(out, data + start, i - start);
	if (n == 0)
	    return (i);				/* cut short: keep the rest */
	vstring_strcat(out, REPLACEMENT);
	start = ++i;
    }
    vstring_memcat(out, data + start, len - start);
    return (len);
}

/*
 * append_iconv_output - what iconv wrote, checked: glibc passes on the
 * 5- and 6-byte forms of old UTF-8 for a source charset it reads as
 * UTF-8 under another name ("utf-8~"); iconv writes whole characters, so
 * an unfinished one at the end is as wrong as an invalid one.
 */
static void append_iconv_output(const char *buf, size_t len, VSTRING *out)
{
    if (feed_utf8(buf, len, out) < len)
	vstring_strcat(out, REPLACEMENT);
}

/* feed_iconv - convert with iconv; the bytes used */

static size_t feed_iconv(iconv_t cd, const char *data, size_t len, VSTRING *out)
{
    char   *in = (char *) data;
    size_t  in_left = len;
    char    buf[4096];

    while (in_left > 0) {
	char   *op = buf;
	size_t  out_left = sizeof(buf);
	size_t  ret = iconv(cd, &in, &in_left, &op, &out_left);

	append_iconv_output(buf, op - buf, out);
	if (ret != (size_t) -1 || errno == E2BIG)
	    continue;
	if (errno == EINVAL && in_left < PENDING_MAX)
	    break;				/* cut short: keep the rest */
	vstring_strcat(out, REPLACEMENT);	/* EILSEQ, or worse */
	in++;
	in_left--;
    }
    return (len - in_left);
}

void    charset_conv_feed(CHARSET_CONV *conv, const char *data, size_t len,
			          VSTRING *out)
{
    size_t  used;

    if (conv->pending_len > 0) {
	vstring_memcpy(conv->work, conv->pending, conv->pending_len);
	vstring_memcat(conv->work, data, len);
	data = STR(conv->work);
	len = LEN(conv->work);
	conv->pending_len = 0;
    }
    if (conv->cd == (iconv_t) -1)
	used = feed_utf8(data, len, out);
    else
	used = feed_iconv(conv->cd, data, len, out);
    if (used < len)
	keep_pending(conv, data + used, len - used);
}

void    charset_conv_finish(CHARSET_CONV *conv, VSTRING *out)
{
    if (conv->pending_len > 0) {
	vstring_strcat(out, REPLACEMENT);
	conv->pending_len = 0;
    }
    if (conv->cd != (iconv_t) -1) {
	char    buf[64];
	char   *op = buf;
	size_t  out_left = sizeof(buf);

	(void) iconv(conv->cd, 0, 0, &op, &out_left);	/* end shift state */
	append_iconv_output(buf, op - buf, out);
    }
}

 /*
  * Content-Transfer-Encoding.
  */
struct MESSAGE_DECODER {
    int     cte;
    unsigned char quad[4];		/* base64: the quad so far */
    int     quad_len;
    int     qp_state;			/* quoted-printable: see qp_byte() */
    int     qp_hex;			/* the first hex digit of "=X" */
    VSTRING *qp_ws;			/* white space that may end a line */
    VSTRING *qp_eq_ws;			/* white space after "=" */
    CHARSET_CONV *conv;			/* NULL: no conversion */
    VSTRING *raw;			/* decoded bytes of one piece */
};

#define QP_TEXT		0
#define QP_CR		1		/* a CR: a line break if LF follows */
#define QP_EQ		2		/* "=" */
#define QP_EQ_HEX	3		/* "=X" */
#define QP_EQ_WS	4		/* "=" and white space */
#define QP_EQ_CR	5		/* "=" [white space] CR */

int     message_cte_lookup(const char *encoding)
{
    if (encoding == 0)
	return (MESSAGE_CTE_NONE);
    if (strcasecmp(encoding, "base64") == 0)
	return (MESSAGE_CTE_BASE64);
    if (strcasecmp(encoding, "quoted-printable") == 0)
	return (MESSAGE_CTE_QP);
    return (MESSAGE_CTE_NONE);
}

MESSAGE_DECODER *message_decoder_create(const char *encoding,
					        const char *charset)
{
    MESSAGE_DECODER *dec = (MESSAGE_DECODER *) mycalloc(1, sizeof(*dec));

    dec->cte = message_cte_lookup(encoding);
    dec->qp_ws = vstring_alloc(16);
    dec->qp_eq_ws = vstring_alloc(16);
    dec->raw = vstring_alloc(1024);
    dec->conv = charset ? charset_conv_create(charset) : 0;
    return (dec);
}

void    message_decoder_free(MESSAGE_DECODER *dec)
{
    if (dec->conv)
	charset_conv_free(dec->conv);
    vstring_free(dec->qp_ws);
    vstring_free(dec->qp_eq_ws);
    vstring_free(dec->raw);
    myfree(dec);
}

/* base64_value - 0..63, or -1 */

static int base64_value(int ch)
{
    if (ch >= 'A' && ch <= 'Z')
	return (ch - 'A');
    if (ch >= 'a' && ch <= 'z')
	return (ch - 'a' + 26);
    if (ch >= '0' && ch <= '9')
	return (ch - '0' + 52);
    if (ch == '+')
	return (62);
    if (ch == '/')
	return (63);
    return (-1);
}

/* base64_flush - the bytes of a partial quad (at "=" or at the end) */

static void base64_flush(MESSAGE_DECODER *dec, VSTRING *raw)
{
    unsigned char *q = dec->quad;

    if (dec->quad_len >= 2)
	vstring_addch(raw, (q[0] << 2) | (q[1] >> 4));
    if (dec->quad_len >= 3)
	vstring_addch(raw, ((q[1] & 0xf) << 4) | (q[2] >> 2));
    dec->quad_len = 0;
}

static void base64_feed(MESSAGE_DECODER *dec, const char *data, size_t len,
			        VSTRING *raw)
{
    unsigned char *q = dec->quad;

    for (size_t i = 0; i < len; i++) {
	int     v = base64_value((unsigned char) data[i]);

	if (v >= 0) {
	    q[dec->quad_len++] = v;
	    if (dec->quad_len == 4) {
		vstring_addch(raw, (q[0] << 2) | (q[1] >> 4));
		vstring_addch(raw, ((q[1] & 0xf) << 4) | (q[2] >> 2));
		vstring_addch(raw, ((q[2] & 0x3) << 6) | q[3]);
		dec->quad_len = 0;
	    }
	} else if (data[i] == '=') {
	    base64_flush(dec, raw);		/* padding; go on after it */
	}
    }
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
	return (ch - '0');
    if (ch >= 'A' && ch <= 'F')
	return (ch - 'A' + 10);
    if (ch >= 'a' && ch <= 'f')
	return (ch - 'a' + 10);
    return (-1);
}

/* qp_ws_flush - white space that turned out not to end a line */

static void qp_ws_flush(MESSAGE_DECODER *dec, VSTRING *raw)
{
    vstring_memcat(raw, STR(dec->qp_ws), LEN(dec->qp_ws));
    vstring_reset(dec->qp_ws);
}

static void qp_ws_add(MESSAGE_DECODER *dec, int ch, VSTRING *raw)
{
    if (LEN(dec->qp_ws) >= QP_WS_MAX)
	qp_ws_flush(dec, raw);			/* too long to be padding */
    vstring_addch(dec->qp_ws, ch);
}

/* qp_byte - one byte of quoted-printable */

static void qp_byte(MESSAGE_DECODER *dec, int ch, VSTRING *raw)
{
    for (;;) {
	switch (dec->qp_state) {
	case QP_TEXT:
	    if (ch == '=') {
		qp_ws_flush(dec, raw);
		dec->qp_state = QP_EQ;
	    } else if (ch == ' ' || ch == '\t') {
		qp_ws_add(dec, ch, raw);
	    } else if (ch == '\r') {
		dec->qp_state = QP_CR;
	    } else if (ch == '\n') {
		vstring_reset(dec->qp_ws);	/* trailing white space goes */
		vstring_addch(raw, '\n');
	    } else {
		qp_ws_flush(dec, raw);
		vstring_addch(raw, ch);
	    }
	    return;
	case QP_CR:
	    dec->qp_state = QP_TEXT;
	    if (ch == '\n') {
		vstring_reset(dec->qp_ws);
		vstring_strcat(raw, "\r\n");
		return;
	    }
	    qp_ws_flush(dec, raw);
	    vstring_addch(raw, '\r');
	    continue;				/* read CH again as text */
	case QP_EQ:
	    if (hex_value(ch) >= 0) {
		dec->qp_hex = ch;
		dec->qp_state = QP_EQ_HEX;
	    } else if (ch == '\n') {
		dec->qp_state = QP_TEXT;	/* soft line break */
	    } else if (ch == '\r') {
		dec->qp_state = QP_EQ_CR;
	    } else if (ch == ' ' || ch == '\t') {
		vstring_addch(dec->qp_eq_ws, ch);
		dec->qp_state = QP_EQ_WS;
	    } else {
		vstring_addch(raw, '=');	/* not an escape: keep it */
		dec->qp_state = QP_TEXT;
		continue;
	    }
	    return;
	case QP_EQ_HEX:
	    dec->qp_state = QP_TEXT;
	    if (hex_value(ch) >= 0) {
		vstring_addch(raw, hex_value(dec->qp_hex) * 16 + hex_value(ch));
		return;
	    }
	    vstring_addch(raw, '=');
	    vstring_addch(raw, dec->qp_hex);
	    continue;
	case QP_EQ_WS:
	    if (ch == ' ' || ch == '\t') {
		if (LEN(dec->qp_eq_ws) < QP_WS_MAX)
		    vstring_addch(dec->qp_eq_ws, ch);
		return;
	    }
	    if (ch == '\n' || ch == '\r') {
		dec->qp_state = (ch == '\n' ? QP_TEXT : QP_EQ_CR);
		vstring_reset(dec->qp_eq_ws);	/* "=  " ends the line softly */
		return;
	    }
	    vstring_addch(raw, '=');
	    vstring_memcpy(dec->qp_ws, STR(dec->qp_eq_ws), LEN(dec->qp_eq_ws));
	    vstring_reset(dec->qp_eq_ws);
	    dec->qp_state = QP_TEXT;
	    continue;
	case QP_EQ_CR:
	    if (ch == '\n') {
		dec->qp_state = QP_TEXT;	/* soft line break */
		return;
	    }
	    vstring_addch(raw, '=');
	    dec->qp_state = QP_CR;
	    continue;
	}
    }
}

static void qp_feed(MESSAGE_DECODER *dec, const char *data, size_t len,
		            VSTRING *raw)
{
    for (size_t i = 0; i < len; i++) {
	unsigned char ch = data[i];

	/* The common case: plain text in the middle of a line. */
	if (dec->qp_state == QP_TEXT && LEN(dec->qp_ws) == 0 && ch > ' '
	    && ch != '=')
	    vstring_addch(raw, ch);
	else
	    qp_byte(dec, ch, raw);
    }
}

/* qp_finish - the end of the body */

static void qp_finish(MESSAGE_DECODER *dec, VSTRING *raw)
{
    switch (dec->qp_state) {
    case QP_CR:
	vstring_addch(raw, '\r');
	break;
    case QP_EQ_HEX:
	vstring_addch(raw, '=');
	vstring_addch(raw, dec->qp_hex);
	break;
    }
    dec->qp_state = QP_TEXT;
    vstring_reset(dec->qp_ws);
    vstring_reset(dec->qp_eq_ws);
}

/* decoded - pass decoded bytes on, converted if wanted */

static void decoded(MESSAGE_DECODER *dec, VSTRING *out)
{
    if (dec->conv)
	charset_conv_feed(dec->conv, STR(dec->raw), LEN(dec->raw), out);
    else
	vstring_memcat(out, STR(dec->raw), LEN(dec->raw));
    vstring_reset(dec->raw);
}

void    message_decoder_feed(MESSAGE_DECODER *dec, const char *data,
			             size_t len, VSTRING *out)
{
    vstring_reset(dec->raw);
    switch (dec->cte) {
    case MESSAGE_CTE_BASE64:
	base64_feed(dec, data, len, dec->raw);
	break;
    case MESSAGE_CTE_QP:
	qp_feed(dec, data, len, dec->raw);
	break;
    default:
	if (dec->conv == 0) {
	    vstring_memcat(out, data, len);
	    return;
	}
	charset_conv_feed(dec->conv, data, len, out);
	return;
    }
    decoded(dec, out);
}

void    message_decoder_finish(MESSAGE_DECODER *dec, VSTRING *out)
{
    vstring_reset(dec->raw);
    if (dec->cte == MESSAGE_CTE_BASE64)
	base64_flush(dec, dec->raw);
    else if (dec->cte == MESSAGE_CTE_QP)
	qp_finish(dec, dec->raw);
    decoded(dec, out);
    if (dec->conv)
	charset_conv_finish(dec->conv, out);
}

 /*
  * RFC 2047 encoded words in header fields.
  */
typedef struct ENCODED_WORD {
    size_t  len;			/* of the whole =?...?= */
    char    charset[CHARSET_NAME_MAX + 1];
    int     encoding;			/* 'B' or 'Q' */
    const char *text;			/* the encoded text */
    size_t  text_len;
} ENCODED_WORD;

/* parse_encoded_word - at "=?": "=?charset[*lang]?B|Q?text?=", or 0 */

static int parse_encoded_word(const char *data, size_t len, ENCODED_WORD *word)
{
    size_t  pos = 2, start, n;

    for (start = pos; pos < len && data[pos] != '?'; pos++)
	if (strchr(" \t\r\n()<>@,;:\"/[]=", data[pos]) || data[pos] == 0
	    || pos - start >= CHARSET_NAME_MAX)
	    return (0);
    if (pos >= len || pos == start)
	return (0);
    n = pos - start;
    memcpy(word->charset, data + start, n);
    word->charset[n] = 0;
    if ((start = strcspn(word->charset, "*")) < n)	/* RFC 2231 language */
	word->charset[start] = 0;
    if (pos + 2 >= len || data[pos + 2] != '?')
	return (0);
    word->encoding = data[pos + 1] & ~0x20;	/* upper case */
    if (word->encoding != 'B' && word->encoding != 'Q')
	return (0);
    pos += 3;
    for (start = pos; pos < len && data[pos] != '?'; pos++)
	if (data[pos] == ' ' || data[pos] == '\t' || data[pos] == '\r'
	    || data[pos] == '\n')
	    return (0);
    if (pos + 1 >= len || data[pos + 1] != '=')
	return (0);
    word->text = data + start;
    word->text_len = pos - start;
    word->len = pos + 2;
    return (1);
}

/* decode_q - the Q encoding: "_" is a space, "=XX" a byte */

static void decode_q(const char *text, size_t len, VSTRING *raw)
{
    for (size_t i = 0; i < len; i++) {
	if (text[i] == '_') {
	    vstring_addch(raw, ' ');
	} else if (text[i] == '=' && i + 2 < len && hex_value(text[i + 1]) >= 0
		   && hex_value(text[i + 2]) >= 0) {
	    vstring_addch(raw, hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
	    i += 2;
	} else {
	    vstring_addch(raw, text[i]);
	}
    }
}

/* Header decoding state: decoded bytes wait until their charset ends */
typedef struct HEADER_DECODE {
    VSTRING *out;
    VSTRING *raw;			/* decoded, not yet converted */
    char    charset[CHARSET_NAME_MAX + 1];	/* of RAW */
    CHARSET_CONV *conv;			/* the last one used */
    char    conv_charset[CHARSET_NAME_MAX + 1];
} HEADER_DECODE;

/* convert - append TEXT in CHARSET as UTF-8 */

static void convert(HEADER_DECODE *hd, const char *charset,
		            const char *text, size_t len)
{
    if (hd->conv == 0 || strcasecmp(hd->conv_charset, charset) != 0) {
	if (hd->conv)
	    charset_conv_free(hd->conv);
	hd->conv = charset_conv_create(charset);
	strcpy(hd->conv_charset, charset);
    }
    charset_conv_feed(hd->conv, text, len, hd->out);
    charset_conv_finish(hd->conv, hd->out);
}

/* flush_words - convert the decoded bytes of the last encoded words */

static void flush_words(HEADER_DECODE *hd)
{
    if (LEN(hd->raw) > 0)
	convert(hd, hd->charset, STR(hd->raw), LEN(hd->raw));
    vstring_reset(hd->raw);
    hd->charset[0] = 0;
}

/* plain_text - text outside encoded words: UTF-8, unfolded */

static void plain_text(HEADER_DECODE *hd, const char *text, size_t len)
{
    size_t  start = 0;

    flush_words(hd);
    for (size_t i = 0; i <= len; i++) {
	if (i == len || text[i] == '\r' || text[i] == '\n') {
	    if (i > start)
		convert(hd, "utf-8", text + start, i - start);
	    start = i + 1;
	}
    }
}

/* only_space - TEXT is linear white space (between two encoded words) */

static int only_space(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
	if (strchr(" \t\r\n", text[i]) == 0 || text[i] == 0)
	    return (0);
    return (1);
}

void    message_header_decode(VSTRING *out, const char *text, size_t len)
{
    HEADER_DECODE hd;
    ENCODED_WORD word;
    size_t  pos = 0, plain = 0;
    int     after_word = 0;

    memset(&hd, 0, sizeof(hd));
    hd.out = out;
    hd.raw = vstring_alloc(64);
    while (pos + 1 < len) {
	if (text[pos] != '=' || text[pos + 1] != '?'
	    || !parse_encoded_word(text + pos, len - pos, &word)) {
	    pos++;
	    continue;
	}
	if (!after_word || !only_space(text + plain, pos - plain))
	    plain_text(&hd, text + plain, pos - plain);
	if (strcasecmp(hd.charset, word.charset) != 0) {
	    flush_words(&hd);
	    strcpy(hd.charset, word.charset);
	}
	if (word.encoding == 'B') {
	    MESSAGE_DECODER b64;

	    memset(&b64, 0, sizeof(b64));
	    base64_feed(&b64, word.text, word.text_len, hd.raw);
	    base64_flush(&b64, hd.raw);
	} else {
	    decode_q(word.text, word.text_len, hd.raw);
	}
	pos += word.len;
	plain = pos;
	after_word = 1;
    }
    plain_text(&hd, text + plain, len - plain);
    if (hd.conv)
	charset_conv_free(hd.conv);
    vstring_free(hd.raw);
}
