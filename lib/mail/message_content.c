/*
 * message_content.c - Content-* header values (message_content.h).
 */
#include "sys_defs.h"
#include <strings.h>
#include "mymalloc.h"
#include "vstring.h"
#include "rfc822_lex.h"
#include "message_content.h"

 /*
  * A parameter list under construction. RFC 2231 sections wait in their
  * own list until all parameters are read.
  */
typedef struct PARAM_LIST {
    MESSAGE_PARAM *params;
    int     count;
    int     size;
} PARAM_LIST;

typedef struct SECTION {
    char   *name;			/* without "*N*" */
    char   *value;
    unsigned index;			/* N of name*N */
    int     extended;			/* name*N* (charset'lang'%XX) */
} SECTION;

typedef struct SECTION_LIST {
    SECTION *sections;
    int     count;
    int     size;
} SECTION_LIST;

/* param_add - append a copy of NAME=VALUE */

static void param_add(PARAM_LIST *list, const char *name, const char *value)
{
    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 4;
	list->params = (MESSAGE_PARAM *)
	    myrealloc(list->params, list->size * sizeof(*list->params));
    }
    list->params[list->count].name = mystrdup(name);
    list->params[list->count].value = mystrdup(value);
    list->count++;
}

/* section_add - append an RFC 2231 section */

static void section_add(SECTION_LIST *list, const char *name, size_t name_len,
			        const char *value, unsigned index, int extended)
{
    SECTION *sec;

    if (list->count == list->size) {
	list->size = list->size ? 2 * list->size : 4;
	list->sections = (SECTION *)
	    myrealloc(list->sections, list->size * sizeof(*list->sections));
    }
    sec = list->sections + list->count++;
    sec->name = mystrndup(name, name_len);
    sec->value = mystrdup(value);
    sec->index = index;
    sec->extended = extended;
}

/*
 * read_param - one ";" name "=" value; 1 read, 0 at the end, -1 broken
 * (the scanner stays where it stopped).
 */
static int read_param(RFC822_LEX *lex, VSTRING *name, VSTRING *value)
{
    int     ret;

    vstring_reset(name);
    vstring_reset(value);
    if (!RFC822_LEX_MORE(lex))
	return (0);
    if (*lex->ptr != ';')
	return (-1);
    lex->ptr++;
    if (rfc822_lex_skip_cfws(lex) <= 0)
	return (-1);
    if (rfc822_lex_token(lex, name) <= 0 || *lex->ptr != '=')
	return (-1);
    lex->ptr++;
    if ((ret = rfc822_lex_skip_cfws(lex)) <= 0) {
	 /* no value */ ;
    } else if (*lex->ptr == '"') {
	ret = rfc822_lex_quoted(lex, value);
    } else if (*lex->ptr == '=') {
	/* A broken encoded word: name==?utf-8?b?...?= */
	for (; lex->ptr < lex->end; lex->ptr++) {
	    if (strchr("; \t\r\n", *lex->ptr) != 0 && *lex->ptr != 0)
		break;
	    vstring_addch(value, *lex->ptr);
	}
    } else {
	ret = rfc822_lex_token(lex, value);
    }
    return (ret < 0 ? -1 : 1);
}

/*
 * split_section - NAME is "x*", "x*N" or "x*N*": add it to SECTIONS and
 * return 1, or return 0 for a plain name.
 */
static int split_section(SECTION_LIST *sections, const char *name,
			         const char *value)
{
    const char *star = strchr(name, '*');
    const char *cp;
    unsigned index = 0;
    int     extended = 0;

    if (star == 0)
	return (0);
    if (star[1] == 0) {
	extended = 1;				/* "name*": one extended section */
	cp = star + 1;
    } else {
	for (cp = star + 1; *cp >= '0' && *cp <= '9'; cp++)
	    index = index * 10 + (*cp - '0');
	if (*cp == '*') {
	    extended = 1;
	    cp++;
	}
	if (*cp != 0)
	    return (0);
    }
    section_add(sections, name, star - name, value, index, extended);
    return (1);
}

static int section_order(const void *a, const void *b)
{
    const SECTION *s1 = a;
    const SECTION *s2 = b;
    int     diff = strcmp(s1->name, s2->name);

    if (diff != 0)
	return (diff);
    return (s1->index < s2->index ? -1 : s1->index > s2->index);
}

/* append_escaped - a plain section inside an extended value: '%' as %25 */

static void append_escaped(VSTRING *out, const char *value)
{
    for (; *value; value++) {
	if (*value == '%')
	    vstring_strcat(out, "%25");
	else
	    vstring_addch(out, *value);
    }
}

/* merge_sections - the RFC 2231 sections of one name, SECS[0..N-1] */

static void merge_sections(PARAM_LIST *list, const SECTION *secs, int n,
			           VSTRING *buf)
{
    int     complete = 1, extended = 0;

    for (int i = 0; i < n; i++) {
	if (secs[i].index != (unsigned) i)
	    complete = 0;
	if (secs[i].extended)
	    extended = 1;
    }
    if (!complete) {
	for (int i = 0; i < n; i++) {
	    vstring_sprintf(buf, "%s*%u%s", secs[i].name, secs[i].index,
			    secs[i].extended ? "*" : "");
	    param_add(list, STR(buf), secs[i].value);
	}
	return;
    }
    vstring_reset(buf);
    if (extended && !secs[0].extended)
	vstring_strcat(buf, "''");
    for (int i = 0; i < n; i++) {
	if (extended && !secs[i].extended)
	    append_escaped(buf, secs[i].value);
	else
	    vstring_strcat(buf, secs[i].value);
    }
    if (extended) {
	VSTRING *key = vstring_alloc(32);

	vstring_sprintf(key, "%s*", secs[0].name);
	param_add(list, STR(key), STR(buf));
	vstring_free(key);
    } else {
	param_add(list, secs[0].name, STR(buf));
    }
}

void    message_content_params(RFC822_LEX *lex, MESSAGE_PARAM **params,
			               int *count)
{
    PARAM_LIST list = {0};
    SECTION_LIST sections = {0};
    VSTRING *name = vstring_alloc(32);
    VSTRING *value = vstring_alloc(64);
    int     ret, i, j;

    while ((ret = read_param(lex, name, value)) != 0) {
	if (ret < 0) {
	    if (!RFC822_LEX_MORE(lex))
		break;
	    lex->ptr++;				/* skip garbage, a byte at a time */
	    continue;
	}
	if (!split_section(&sections, STR(name), STR(value)))
	    param_add(&list, STR(name), STR(value));
    }
    if (sections.count > 0) {
	qsort(sections.sections, sections.count, sizeof(SECTION), section_order);
	for (i = 0; i < sections.count; i = j) {
	    for (j = i + 1; j < sections.count; j++)
		if (strcasecmp(sections.sections[i].name,
			       sections.sections[j].name) != 0)
		    break;
	    merge_sections(&list, sections.sections + i, j - i, value);
	}
	for (i = 0; i < sections.count; i++) {
	    myfree(sections.sections[i].name);
	    myfree(sections.sections[i].value);
	}
	myfree(sections.sections);
    }
    vstring_free(name);
    vstring_free(value);
    *params = list.params;
    *count = list.count;
}

int     message_content_type(const char *value, size_t len, VSTRING *type,
			             VSTRING *subtype, MESSAGE_PARAM **params,
			             int *count)
{
    RFC822_LEX lex;
    int     ret;

    vstring_reset(type);
    vstring_reset(subtype);
    *params = 0;
    *count = 0;
    rfc822_lex_init(&lex, value, len, 0);
    if (rfc822_lex_skip_cfws(&lex) <= 0)
	return (-1);
    if (rfc822_lex_token(&lex, type) <= 0 || LEN(type) == 0)
	return (-1);				/* a lone token stays in TYPE */
    if (*lex.ptr != '/') {
	vstring_reset(type);
	return (-1);
    }
    lex.ptr++;
    if (rfc822_lex_skip_cfws(&lex) <= 0
	|| (ret = rfc822_lex_token(&lex, subtype)) < 0 || LEN(subtype) == 0
	|| (ret > 0 && *lex.ptr != ';')) {
	vstring_reset(type);
	vstring_reset(subtype);
	return (-1);
    }
    message_content_params(&lex, params, count);
    return (0);
}

int     message_content_token(const char *value, size_t len, VSTRING *token)
{
    RFC822_LEX lex;

    vstring_reset(token);
    rfc822_lex_init(&lex, value, len, 0);
    (void) rfc822_lex_skip_cfws(&lex);
    if (rfc822_lex_token(&lex, token) < 0
	|| rfc822_lex_skip_cfws(&lex) != 0 || LEN(token) == 0)
	return (-1);
    return (0);
}

int     message_content_disposition(const char *value, size_t len,
				            VSTRING *type, MESSAGE_PARAM **params,
				            int *count)
{
    RFC822_LEX lex;

    vstring_reset(type);
    *params = 0;
    *count = 0;
    rfc822_lex_init(&lex, value, len, 0);
    (void) rfc822_lex_skip_cfws(&lex);
    if (rfc822_lex_token(&lex, type) < 0)
	return (-1);
    message_content_params(&lex, params, count);
    return (0);
}

int     message_content_languages(const char *value, size_t len, char ***tags)
{
    RFC822_LEX lex;
    VSTRING *tag = vstring_alloc(16);
    char  **list = 0;
    int     count = 0, size = 0;

    rfc822_lex_init(&lex, value, len, 0);
    (void) rfc822_lex_skip_cfws(&lex);
    for (;;) {
	vstring_reset(tag);
	if (rfc822_lex_atom(&lex, tag) < 0)
	    break;
	if (count + 2 > size) {
	    size = size ? 2 * size : 4;
	    list = (char **) myrealloc(list, size * sizeof(char *));
	}
	list[count++] = mystrdup(STR(tag));
	list[count] = 0;
	if (!RFC822_LEX_AT(&lex, ','))
	    break;
	lex.ptr++;
	(void) rfc822_lex_skip_cfws(&lex);
    }
    vstring_free(tag);
    *tags = list;
    return (count);
}

void    message_params_free(MESSAGE_PARAM *params, int count)
{
    for (int i = 0; i < count; i++) {
	myfree(params[i].name);
	myfree(params[i].value);
    }
    if (params)
	myfree(params);
}

void    message_languages_free(char **tags)
{
    if (tags) {
	for (char **cp = tags; *cp; cp++)
	    myfree(*cp);
	myfree(tags);
    }
}

const char *message_param_find(const MESSAGE_PARAM *params, int count,
			               const char *name)
{
    for (int i = 0; i < count; i++)
	if (strcasecmp(params[i].name, name) == 0)
	    return (params[i].value);
    return (0);
}
