/*
 * mail_search.c - streamed case-insensitive substring search (mail_search.h).
 *
 * The key is decoded to folded code points once, with its KMP failure
 * table.  The text is decoded as it comes; up to three bytes of a cut
 * UTF-8 character wait in the matcher for the next piece.
 */
#include "sys_defs.h"
#include "mymalloc.h"
#include "mail_search.h"

#define REPLACEMENT_CODE	0xfffd

struct MAIL_SEARCH {
    unsigned *key;			/* folded code points */
    size_t *fail;			/* KMP: the prefix to fall back to */
    size_t  key_len;
    size_t  matched;			/* code points of the key matched */
    int     found;
    unsigned char pending[4];		/* a cut UTF-8 character */
    size_t  pending_len;
};

unsigned mail_search_fold(unsigned c)
{
    if (c < 0x80)
	return (c >= 'A' && c <= 'Z' ? c + 0x20 : c);
    if (c < 0x100) {
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
	    return (c + 0x20);			/* Latin-1 capitals */
	return (c == 0xb5 ? 0x3bc : c);		/* micro sign: mu */
    }
    if (c < 0x180) {				/* Latin Extended-A */
	if (c == 0x130)
	    return ('i');
	if (c == 0x178)
	    return (0xff);
	if (c == 0x17f)
	    return ('s');			/* long s */
	if ((c <= 0x137) || (c >= 0x14a && c <= 0x177))
	    return (c | 1);			/* even capital, odd small */
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
	    return (c & 1 ? c + 1 : c);		/* odd capital, even small */
	return (c);
    }
    if (c >= 0x370 && c < 0x400) {		/* Greek */
	if (c == 0x386)
	    return (0x3ac);
	if (c >= 0x388 && c <= 0x38a)
	    return (c + 0x25);
	if (c == 0x38c)
	    return (0x3cc);
	if (c == 0x38e || c == 0x38f)
	    return (c + 0x3f);
	if ((c >= 0x391 && c <= 0x3a1) || (c >= 0x3a3 && c <= 0x3ab))
	    return (c + 0x20);
	if (c == 0x3c2)
	    return (0x3c3);			/* final sigma */
	if (c >= 0x3d8 && c <= 0x3ef)
	    return (c | 1);
	return (c);
    }
    if (c >= 0x400 && c < 0x530) {		/* Cyrillic */
	if (c <= 0x40f)
	    return (c + 0x50);
	if (c <= 0x42f)
	    return (c + 0x20);
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf)
	    || (c >= 0x4d0 && c <= 0x52f))
	    return (c | 1);
	if (c == 0x4c0)
	    return (0x4cf);
	if (c >= 0x4c1 && c <= 0x4ce)
	    return (c & 1 ? c + 1 : c);
	return (c);
    }
    if (c == 0x1e9e)
	return (0xdf);				/* capital sharp s */
    return (c);
}

/*
 * decode_utf8 - the code point at P (AVAIL bytes) and its length; 0 when
 * the character is cut short, and U+FFFD for a byte that starts nothing.
 */
static size_t decode_utf8(const unsigned char *p, size_t avail, unsigned *code)
{
    unsigned c = p[0];
    size_t  need;

    if (c < 0x80) {
	*code = c;
	return (1);
    }
    need = c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
	: c >= 0xf0 && c < 0xf5 ? 3 : 0;
    *code = REPLACEMENT_CODE;
    if (need == 0)
	return (1);
    c &= (0x3f >> need);
    for (size_t i = 1; i <= need; i++) {
	if (i >= avail)
	    return (0);
	if ((p[i] & 0xc0) != 0x80)
	    return (1);
	c = (c << 6) | (p[i] & 0x3f);
    }
    if ((need == 2 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
	|| (need == 3 && (c < 0x10000 || c > 0x10ffff)))
	return (1);				/* overlong or not a character */
    *code = c;
    return (need + 1);
}

MAIL_SEARCH *mail_search_create(const char *key, size_t len)
{
    MAIL_SEARCH *search = (MAIL_SEARCH *) mycalloc(1, sizeof(*search));
    const unsigned char *p = (const unsigned char *) key;
    size_t  i, n, k;
    unsigned code;

    search->key = (unsigned *) mymalloc((len + 1) * sizeof(unsigned));
    for (i = 0; i < len; i += n) {
	if ((n = decode_utf8(p + i, len - i, &code)) == 0) {
	    code = REPLACEMENT_CODE;		/* cut at the end of the key */
	    n = len - i;
	}
	search->key[search->key_len++] = mail_search_fold(code);
    }
    search->fail = (size_t *) mymalloc((search->key_len + 1) * sizeof(size_t));
    search->fail[0] = 0;
    for (i = 1, k = 0; i < search->key_len; i++) {
	while (k > 0 && search->key[i] != search->key[k])
	    k = search->fail[k - 1];
	if (search->key[i] == search->key[k])
	    k++;
	search->fail[i] = k;
    }
    search->found = (search->key_len == 0);
    return (search);
}

void    mail_search_free(MAIL_SEARCH *search)
{
    myfree(search->key);
    myfree(search->fail);
    myfree(search);
}

void    mail_search_reset(MAIL_SEARCH *search)
{
    search->matched = 0;
    search->pending_len = 0;
    search->found = (search->key_len == 0);
}

int     mail_search_found(const MAIL_SEARCH *search)
{
    return (search->found);
}

/* match_code - one code point of the text */

static void match_code(MAIL_SEARCH *search, unsigned code)
{
    size_t  j = search->matched;

    code = mail_search_fold(code);
    while (j > 0 && search->key[j] != code)
	j = search->fail[j - 1];
    if (search->key[j] == code)
	j++;
    if (j == search->key_len) {
	search->found = 1;
	j = search->fail[j - 1];
    }
    search->matched = j;
}

/* finish_pending - complete a character cut by the previous piece */

static size_t finish_pending(MAIL_SEARCH *search, const unsigned char *p,
			             size_t len)
{
    size_t  used = 0, n;
    unsigned code;

    while (search->pending_len > 0) {
	if (used < len && search->pending_len < sizeof(search->pending))
	    search->pending[search->pending_len++] = p[used++];
	n = decode_utf8(search->pending, search->pending_len, &code);
	if (n == 0) {
	    if (used < len)
		continue;
	    return (used);			/* still cut short */
	}
	match_code(search, code);
	memmove(search->pending, search->pending + n, search->pending_len - n);
	search->pending_len -= n;
	/* Bytes taken beyond the character go back to the text. */
	if (search->pending_len > 0 && search->pending_len <= used) {
	    used -= search->pending_len;
	    search->pending_len = 0;
	}
    }
    return (used);
}

int     mail_search_feed(MAIL_SEARCH *search, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *) text;
    size_t  i, n;
    unsigned code;

    if (search->found)
	return (1);
    i = finish_pending(search, p, len);
    for (; i < len && !search->found; i += n) {
	if (p[i] < 0x80) {
	    n = 1;
	    match_code(search, p[i]);
	} else if ((n = decode_utf8(p + i, len - i, &code)) == 0) {
	    memcpy(search->pending, p + i, len - i);
	    search->pending_len = len - i;
	    break;
	} else {
	    match_code(search, code);
	}
    }
    return (search->found);
}

int     mail_search_text(const char *key, size_t key_len,
			         const char *text, size_t len)
{
    MAIL_SEARCH *search = mail_search_create(key, key_len);
    int     found = mail_search_feed(search, text, len);

    mail_search_free(search);
    return (found);
}
