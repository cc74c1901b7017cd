/*
 * mail_fixture.h - what the unit tests of ENVELOPE, BODYSTRUCTURE and
 * sections share: the corpus in test/unit/data/mail/ (NAME.eml with the
 * expected replies in NAME.dovecot, or NAME.posthorn where Posthorn
 * answers differently on purpose), a parse of a message fed to
 * message_parse() in pieces of 13 bytes, and IMAP replies compared as
 * values (a quoted string equals a literal with the same bytes).
 *
 * Include after <cmocka.h>, "vstring.h" and "message_part.h":
 *   parse(data, len)                 the MIME tree (asserted non-NULL)
 *   read_file(path, buf)             0, or -1
 *   expected(eml, item, out)         item ITEM for message EML: 1 found, 0 not
 *   same_reply(what, got, want)      fail_msg() unless the same IMAP value
 *   corpus_check(fn, ctx)            FN(message, CTX) for each NAME.eml (at
 *                                    least 100 of them), read and parsed
 */
#ifndef MAIL_FIXTURE_H
#define MAIL_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>

#define DATA_DIR	"test/unit/data/mail"

typedef struct SOURCE {
    const char *data;
    size_t  len;
    size_t  pos;
} SOURCE;

static ssize_t read_source(void *ctx, char *buf, size_t len)
{
    SOURCE *src = ctx;
    size_t  n = src->len - src->pos;

    if (n > len)
	n = len;
    if (n > 13)
	n = 13;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (n);
}

static MESSAGE_PART *parse(const char *data, size_t len)
{
    SOURCE  src = {data, len, 0};
    VSTRING *why = vstring_alloc(10);
    MESSAGE_PART *top = message_parse(read_source, &src, why);

    assert_non_null(top);
    vstring_free(why);
    return (top);
}

static int read_file(const char *path, VSTRING *buf)
{
    char    tmp[8192];
    ssize_t n;
    int     fd;

    vstring_reset(buf);
    if ((fd = open(path, O_RDONLY)) < 0)
	return (-1);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
	vstring_memcat(buf, tmp, n);
    close(fd);
    return (0);
}

/* find_item - item NAME of an expectation file ("NAME LEN\nBYTES\n"...) */

static int find_item(const char *path, const char *name, VSTRING *out)
{
    VSTRING *file = vstring_alloc(1000);
    const char *cp, *end, *nl, *space;
    size_t  len;
    int     found = 0;

    if (read_file(path, file) == 0) {
	cp = STR(file);
	end = cp + LEN(file);
	while (cp < end && (nl = memchr(cp, '\n', end - cp)) != 0) {
	    for (space = nl; space > cp && space[-1] != ' '; space--)
		 /* void */ ;
	    len = strtoul(space, 0, 10);
	    if (space == cp || len > (size_t) (end - nl - 1))
		break;
	    if ((size_t) (space - 1 - cp) == strlen(name)
		&& memcmp(cp, name, strlen(name)) == 0) {
		vstring_memcpy(out, nl + 1, len);
		found = 1;
		break;
	    }
	    cp = nl + 1 + len + 1;
	}
    }
    vstring_free(file);
    return (found);
}

/* expected - item NAME for message EML: NAME.posthorn, else NAME.dovecot */

static int expected(const char *eml, const char *name, VSTRING *out)
{
    VSTRING *path = vstring_alloc(100);
    int     found;

    vstring_strncpy(path, eml, strlen(eml) - 4);
    vstring_strcat(path, ".posthorn");
    if (!(found = find_item(STR(path), name, out))) {
	vstring_strncpy(path, eml, strlen(eml) - 4);
	vstring_strcat(path, ".dovecot");
	found = find_item(STR(path), name, out);
    }
    vstring_free(path);
    return (found);
}

/* canon - an IMAP reply with every string written as "{LEN}" and its bytes */

static void canon(VSTRING *out, const char *s, size_t len)
{
    VSTRING *str = vstring_alloc(100);
    size_t  i = 0;

    vstring_reset(out);
    while (i < len) {
	if (s[i] == '"') {
	    vstring_reset(str);
	    for (i++; i < len && s[i] != '"'; i++) {
		if (s[i] == '\\' && i + 1 < len)
		    i++;
		vstring_addch(str, s[i]);
	    }
	    i++;
	} else if (s[i] == '{') {
	    size_t  n = strtoul(s + i + 1, 0, 10);

	    while (i < len && s[i] != '\n')
		i++;
	    i++;
	    vstring_memcpy(str, s + i, n < len - i ? n : len - i);
	    i += n;
	} else {
	    vstring_addch(out, s[i++]);
	    continue;
	}
	vstring_sprintf_append(out, "{%lu}", (unsigned long) LEN(str));
	vstring_memcat(out, STR(str), LEN(str));
    }
    vstring_free(str);
}

/* same_reply - GOT and WANT are the same IMAP value */

static void same_reply(const char *what, const VSTRING *got, const VSTRING *want)
{
    VSTRING *a = vstring_alloc(100);
    VSTRING *b = vstring_alloc(100);

    canon(a, STR(got), LEN(got));
    canon(b, STR(want), LEN(want));
    if (LEN(a) != LEN(b) || memcmp(STR(a), STR(b), LEN(a)) != 0)
	fail_msg("%s\n  got  %s\n  want %s", what, STR(got), STR(want));
    vstring_free(a);
    vstring_free(b);
}

/* One message of the corpus */
typedef struct CORPUS_MSG {
    const char *name;			/* NAME.eml */
    const char *path;			/* DATA_DIR/NAME.eml */
    const VSTRING *text;		/* its bytes */
    MESSAGE_PART *top;			/* its MIME tree */
} CORPUS_MSG;

static void corpus_check(void (*fn) (const CORPUS_MSG *, void *), void *ctx)
{
    DIR    *dir = opendir(DATA_DIR);
    struct dirent *de;
    VSTRING *path = vstring_alloc(100);
    VSTRING *text = vstring_alloc(1000);
    CORPUS_MSG cm;
    int     count = 0;

    assert_non_null(dir);
    while ((de = readdir(dir)) != 0) {
	size_t  len = strlen(de->d_name);

	if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
	    continue;
	vstring_sprintf(path, "%s/%s", DATA_DIR, de->d_name);
	assert_int_equal(read_file(STR(path), text), 0);
	cm.name = de->d_name;
	cm.path = STR(path);
	cm.text = text;
	cm.top = parse(STR(text), LEN(text));
	fn(&cm, ctx);
	message_part_free(cm.top);
	count++;
    }
    closedir(dir);
    assert_true(count >= 100);
    vstring_free(path);
    vstring_free(text);
}

#endif
