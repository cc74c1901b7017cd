/*
 * test_imap_bodystructure.c - unit tests for lib/imap/imap_bodystructure.c.
 *
 * Every message in test/unit/data/mail/ (parsed in pieces of 13 bytes)
 * must give the BODYSTRUCTURE and BODY that Dovecot 2.3 gave for it
 * (NAME.dovecot), or the deliberate answer in NAME.posthorn; replies are
 * compared as IMAP values, so a quoted string equals a literal with the
 * same bytes.  Hand-made cases check the parts of the grammar one by one:
 * the default charset, parameter and disposition lists, languages,
 * literals for 8-bit text, CR/LF dropped from Content-ID and friends, a
 * multipart without parts, message/rfc822 with envelope and line count,
 * and the BODY form without extension data.
 */
#include "sys_defs.h"
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <cmocka.h>
#include "vstring.h"
#include "message_part.h"
#include "imap_bodystructure.h"

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

static void test_corpus(void **state)
{
    DIR    *dir = opendir(DATA_DIR);
    struct dirent *de;
    VSTRING *path = vstring_alloc(100);
    VSTRING *msg = vstring_alloc(1000);
    VSTRING *want = vstring_alloc(1000);
    VSTRING *got = vstring_alloc(1000);
    int     count = 0;

    assert_non_null(dir);
    while ((de = readdir(dir)) != 0) {
	size_t  len = strlen(de->d_name);
	MESSAGE_PART *top;

	if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
	    continue;
	vstring_sprintf(path, "%s/%s", DATA_DIR, de->d_name);
	assert_int_equal(read_file(STR(path), msg), 0);
	top = parse(STR(msg), LEN(msg));
	for (int extended = 0; extended <= 1; extended++) {
	    const char *item = extended ? "BODYSTRUCTURE" : "BODY";

	    assert_true(expected(STR(path), item, want));
	    vstring_reset(got);
	    imap_bodystructure(got, top, extended);
	    vstring_sprintf(msg, "%s %s", de->d_name, item);
	    same_reply(STR(msg), got, want);
	}
	message_part_free(top);
	count++;
    }
    closedir(dir);
    assert_true(count >= 100);
    vstring_free(path);
    vstring_free(msg);
    vstring_free(want);
    vstring_free(got);
}

/* check - the reply for one message, both forms */

static void check(const char *message, const char *want_body,
		          const char *want_structure)
{
    MESSAGE_PART *top = parse(message, strlen(message));
    VSTRING *got = vstring_alloc(100);

    imap_bodystructure(got, top, 0);
    if (strcmp(STR(got), want_body) != 0)
	fail_msg("BODY\n  got  %s\n  want %s", STR(got), want_body);
    vstring_reset(got);
    imap_bodystructure(got, top, 1);
    if (strcmp(STR(got), want_structure) != 0)
	fail_msg("BODYSTRUCTURE\n  got  %s\n  want %s", STR(got), want_structure);
    vstring_free(got);
    message_part_free(top);
}

static void test_leaf(void **state)
{
    check("Subject: x\n\nbody\n",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1)",
	  "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1"
	  " NIL NIL NIL NIL)");
    check("MIME-Version: 1.0\nContent-Type: text/html; format=flowed\n"
	  "Content-ID: <a\n b>\nContent-Description: \xc3\xa4\n"
	  "Content-Transfer-Encoding: base64\nContent-MD5: Q==\n"
	  "Content-Disposition: inline\nContent-Language: en, de\n"
	  "Content-Location: http://x/\n y\n\nYQ==\n",
	  "(\"text\" \"html\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") "
	  "\"<a b>\" {2}\r\n\xc3\xa4 \"base64\" 6 1)",
	  "(\"text\" \"html\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") "
	  "\"<a b>\" {2}\r\n\xc3\xa4 \"base64\" 6 1 \"Q==\" (\"inline\" NIL) "
	  "(\"en\" \"de\") \"http://x/ y\")");
    check("Content-Type: image/png; name=\"a \\\"b\\\" \xc3\xa4.png\"\n"
	  "Content-Disposition: attachment; filename=x.png; size=5\n\nxxxxx",
	  "(\"image\" \"png\" (\"name\" {12}\r\na \"b\" \xc3\xa4.png) NIL NIL \"7bit\" 5)",
	  "(\"image\" \"png\" (\"name\" {12}\r\na \"b\" \xc3\xa4.png) NIL NIL \"7bit\" 5"
	  " NIL (\"attachment\" (\"filename\" \"x.png\" \"size\" \"5\")) NIL NIL)");
}

static void test_multipart(void **state)
{
    check("Content-Type: multipart/mixed\n\nno boundary\n",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
	  " \"mixed\")",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"
	  " NIL NIL NIL NIL) \"mixed\" NIL NIL NIL NIL)");
    check("Content-Type: multipart/alternative; boundary=b\n"
	  "Content-Language: fr\n\n--b\n\nx\n--b\nContent-Type: text/html\n\n<b>\n--b--\n",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0)"
	  "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0)"
	  " \"alternative\")",
	  "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 1 0"
	  " NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL"
	  " \"7bit\" 3 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"b\") NIL"
	  " (\"fr\") NIL)");
}

static void test_message_rfc822(void **state)
{
    check("Content-Type: message/RFC822\n\nSubject: in\nFrom: a@b\n\nbody\n",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 32 (NIL \"in\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	  " \"7bit\" 6 1) 4)",
	  "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 32 (NIL \"in\" "
	  "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
	  "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL"
	  " \"7bit\" 6 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL)");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_corpus),
	cmocka_unit_test(test_leaf),
	cmocka_unit_test(test_multipart),
	cmocka_unit_test(test_message_rfc822),
    };

    return (cmocka_run_group_tests_name("imap_bodystructure", tests, 0, 0));
}
