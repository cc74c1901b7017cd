/*
 * hbc.c - header_checks(5) and body_checks table lookups and actions.
 *
 * See hbc.h.  The action words and their rules follow Postfix's cleanup
 * (header_checks(5)): names are case-insensitive; REJECT text gets a
 * default enhanced status code 5.7.1 unless it starts with one, and a code
 * that is neither 4.x.x nor 5.x.x is warned about and made 4.x.x; IGNORE,
 * DUNNO and OK take no text (extra text is warned about and ignored);
 * FILTER, REDIRECT and BCC are not supported here (warned about, ignored).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "dict.h"
#include "hbc.h"

#define HBC_DEF_REJECT	"5.7.1 Message content rejected"

HBC    *hbc_create(const char *param, const char *spec)
{
    HBC    *hbc;
    const char *cp = spec;

    while (*cp == ' ' || *cp == '\t' || *cp == ',' || *cp == '\n' || *cp == '\r')
	cp++;
    if (*cp == 0)
	return (0);
    hbc = (HBC *) mymalloc(sizeof(*hbc));
    hbc->param = mystrdup(param);
    hbc->maps = maps_create(param, spec, 0);
    return (hbc);
}

void	hbc_free(HBC *hbc)
{
    if (hbc == 0)
	return;
    maps_free(hbc->maps);
    myfree(hbc->param);
    myfree(hbc);
}

size_t	hbc_header_name_len(const char *text, size_t len)
{
    size_t  i = 0;
    size_t  name_len;

    while (i < len && (unsigned char) text[i] > 32 && (unsigned char) text[i] < 127
	   && text[i] != ':')
	i++;
    name_len = i;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
	i++;
    if (name_len == 0 || i >= len || text[i] != ':')
	return (0);
    return (name_len);
}

/* dsn_len - length of an enhanced status code "d.ddd.ddd" at TEXT, else 0 */
static size_t dsn_len(const char *text)
{
    const char *cp = text;

    if (!isdigit((unsigned char) *cp) || cp[1] != '.')
	return (0);
    cp += 2;
    for (int part = 0; part < 2; part++) {
	size_t  n = 0;

	while (isdigit((unsigned char) cp[n]))
	    n++;
	if (n < 1 || n > 3)
	    return (0);
	cp += n;
	if (part == 0 && *cp++ != '.')
	    return (0);
    }
    if (*cp != 0 && *cp != ' ' && *cp != '\t')
	return (0);
    return (cp - text);
}

/* reject_text - "5.7.1 text" from the optional REJECT text */
static void reject_text(const char *param, const char *args, VSTRING *text)
{
    if (*args == 0) {
	vstring_strcpy(text, HBC_DEF_REJECT);
	return;
    }
    if (dsn_len(args) == 0) {
	vstring_sprintf(text, "5.7.1 %s", args);
	return;
    }
    vstring_strcpy(text, args);
    if (args[0] != '4' && args[0] != '5') {
	msg_warn("bad DSN action in %s -- need 4.x.x or 5.x.x", args);
	STR(text)[0] = '4';
    }
}

/* text_action - REPLACE/PREPEND: the text must exist (and be a header) */
static int text_action(int action, const char *word, const char *param,
		               int is_header, const char *args, VSTRING *text)
{
    if (*args == 0) {
	msg_warn("%s action without text in %s map", word, param);
	return (HBC_ACT_DUNNO);
    }
    if (is_header && hbc_header_name_len(args, strlen(args)) == 0) {
	msg_warn("bad %s header text \"%s\" in %s map -- "
		 "need \"headername: headervalue\"", word, args, param);
	return (HBC_ACT_DUNNO);
    }
    vstring_strcpy(text, args);
    return (action);
}

static const struct {
    const char *word;
    int     action;
    int     takes_text;
}       hbc_words[] = {
    {"REJECT", HBC_ACT_REJECT, 1},
    {"DISCARD", HBC_ACT_DISCARD, 1},
    {"HOLD", HBC_ACT_HOLD, 1},
    {"WARN", HBC_ACT_WARN, 1},
    {"INFO", HBC_ACT_INFO, 1},
    {"STRIP", HBC_ACT_STRIP, 1},
    {"PASS", HBC_ACT_PASS, 1},
    {"REPLACE", HBC_ACT_REPLACE, 1},
    {"PREPEND", HBC_ACT_PREPEND, 1},
    {"IGNORE", HBC_ACT_IGNORE, 0},
    {"DUNNO", HBC_ACT_DUNNO, 0},
    {"OK", HBC_ACT_DUNNO, 0},
    {0, 0, 0},
};

static const char *hbc_unsupported[] = {"FILTER", "REDIRECT", "BCC", 0};

int	hbc_action(const char *param, int is_header, const char *value, VSTRING *text)
{
    size_t  word_len = strcspn(value, " \t");
    const char *args = value + word_len;

    while (*args == ' ' || *args == '\t')
	args++;
    vstring_reset(text);
    for (int i = 0; hbc_words[i].word; i++) {
	int     action = hbc_words[i].action;

	if (strlen(hbc_words[i].word) != word_len
	    || strncasecmp(value, hbc_words[i].word, word_len) != 0)
	    continue;
	if (!hbc_words[i].takes_text) {
	    if (*args)
		msg_warn("unexpected text after command in %s map: %s", param, value);
	    return (action);
	}
	if (action == HBC_ACT_REJECT)
	    reject_text(param, args, text);
	else if (action == HBC_ACT_REPLACE || action == HBC_ACT_PREPEND)
	    return (text_action(action, hbc_words[i].word, param, is_header, args, text));
	else
	    vstring_strcpy(text, args);
	return (action);
    }
    for (int i = 0; hbc_unsupported[i]; i++) {
	if (strlen(hbc_unsupported[i]) == word_len
	    && strncasecmp(value, hbc_unsupported[i], word_len) == 0) {
	    msg_warn("unsupported action in %s map: %s", param, value);
	    return (HBC_ACT_DUNNO);
	}
    }
    msg_warn("unknown command in %s map: %s", param, value);
    return (HBC_ACT_DUNNO);
}

int	hbc_check(HBC *hbc, int is_header, const char *line, VSTRING *text)
{
    const char *value;

    vstring_reset(text);
    if (hbc == 0 || *line == 0)
	return (HBC_ACT_DUNNO);
    if ((value = maps_find(hbc->maps, line)) == 0)
	return (hbc->maps->error ? HBC_ACT_ERROR : HBC_ACT_DUNNO);
    return (hbc_action(hbc->param, is_header, value, text));
}

const char *hbc_action_label(int action)
{
    switch (action) {
    case HBC_ACT_REJECT:
	return ("reject");
    case HBC_ACT_DISCARD:
	return ("discard");
    case HBC_ACT_HOLD:
	return ("hold");
    case HBC_ACT_WARN:
	return ("warning");
    case HBC_ACT_INFO:
	return ("info");
    case HBC_ACT_STRIP:
	return ("strip");
    case HBC_ACT_PASS:
	return ("pass");
    default:
	return (0);
    }
}
