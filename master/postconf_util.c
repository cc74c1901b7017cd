/*
 * postconf_util.c - small helpers the parts of postconf share.
 *
 * Lists of strings, Postfix's output line (white space runs become one
 * space; with -f a line longer than 80 columns is folded before a word,
 * and the rest indented by 4), $name references in a value, whole
 * configuration files, and service patterns "name/type/field" where a
 * part may be "*" (see postconf.h).
 */
#include "sys_defs.h"
#include <ctype.h>
#include <fcntl.h>
#include "msg.h"
#include "mymalloc.h"
#include "postconf.h"

#define PC_FILE_MAX	(16 * 1024 * 1024)	/* a configuration file, at most */
#define PC_BLANKS	" \t\r\n"

/* Lists */

void    pc_list_add(PC_LIST *list, const char *str)
{
    if (list->len == list->cap) {
	list->cap = list->cap ? 2 * list->cap : 16;
	list->item = myrealloc(list->item, list->cap * sizeof(*list->item));
    }
    list->item[list->len++] = mystrdup(str);
}

int     pc_list_has(const PC_LIST *list, const char *str)
{
    size_t  i;

    for (i = 0; i < list->len; i++)
	if (strcmp(list->item[i], str) == 0)
	    return (1);
    return (0);
}

static int pc_compare(const void *a, const void *b)
{
    return (strcmp(*(char *const *) a, *(char *const *) b));
}

void    pc_list_sort(PC_LIST *list)
{
    if (list->len > 1)
	qsort(list->item, list->len, sizeof(*list->item), pc_compare);
}

void    pc_list_free(PC_LIST *list)
{
    size_t  i;

    for (i = 0; i < list->len; i++)
	myfree(list->item[i]);
    myfree(list->item);
    list->item = 0;
    list->len = list->cap = 0;
}

/* Output lines */

void    pc_print_line(VSTREAM *out, int mode, const char *text)
{
    const char *p = text;
    size_t  line_len = 0;
    size_t  word_len;

    for (;;) {
	p += strspn(p, PC_BLANKS);
	if (*p == 0)
	    break;
	word_len = strcspn(p, PC_BLANKS);
	if (line_len > 0) {
	    if (!(mode & PC_FOLD_LINE) || line_len + word_len < PC_LINE_LIMIT) {
		vstream_putc(' ', out);
		line_len += 1;
	    } else {
		vstream_fputs("\n" PC_INDENT_TEXT, out);
		line_len = PC_INDENT_LEN;
	    }
	}
	vstream_write(out, p, word_len);
	line_len += word_len;
	p += word_len;
    }
    vstream_putc('\n', out);
}

/* References */

void    pc_scan_refs(PC_LIST *refs, const char *text)
{
    const char *p = text;
    const char *start;
    char   *name;

    while ((p = strchr(p, '$')) != 0) {
	p++;
	if (*p == '$') {
	    p++;
	    continue;
	}
	if (*p == '{' || *p == '(')
	    p++;
	for (start = p; isalnum((unsigned char) *p) || *p == '_'; p++)
	     /* void */ ;
	if (p > start) {
	    name = mystrndup(start, p - start);
	    if (!pc_list_has(refs, name))
		pc_list_add(refs, name);
	    myfree(name);
	}
    }
}

/* Files */

char   *pc_read_file(const char *path)
{
    VSTREAM *fp;
    VSTRING *text;
    char    buf[8192];
    ssize_t n;
    int     saved;

    if ((fp = vstream_open(path, O_RDONLY, 0)) == 0)
	return (0);
    text = vstring_alloc(8192);
    while ((n = vstream_read(fp, buf, sizeof(buf))) > 0 && LEN(text) <= PC_FILE_MAX)
	vstring_memcat(text, buf, n);
    saved = (n < 0 ? errno : LEN(text) > PC_FILE_MAX ? EFBIG : 0);
    (void) vstream_close(fp);
    if (saved) {
	vstring_free(text);
	errno = saved;
	return (0);
    }
    return (vstring_export(text));
}

/* Service patterns */

int     pc_parse_pattern(const char *text, int min, int max, PC_PATTERN *pat)
{
    const char *p = text;
    size_t  len;
    int     n = 0;

    memset(pat, 0, sizeof(*pat));
    if (*text == '/')
	return (-1);
    for (;;) {
	p += strspn(p, "/");
	if (*p == 0)
	    break;
	len = strcspn(p, "/");
	if (n == max || (memchr(p, '*', len) != 0 && len != 1)) {
	    pc_free_pattern(pat);
	    return (-1);
	}
	pat->part[n++] = mystrndup(p, len);
	p += len;
    }
    if (n < min) {
	pc_free_pattern(pat);
	return (-1);
    }
    while (n < max)
	pat->part[n++] = mystrdup("*");
    pat->count = n;
    return (0);
}

int     pc_match_service(const PC_PATTERN *pat, const char *name, const char *type)
{
    return ((PC_MATCH_ANY(pat->part[0]) || strcmp(pat->part[0], name) == 0)
	    && (PC_MATCH_ANY(pat->part[1]) || strcmp(pat->part[1], type) == 0));
}

void    pc_free_pattern(PC_PATTERN *pat)
{
    int     i;

    for (i = 0; i < 3; i++) {
	if (pat->part[i])
	    myfree(pat->part[i]);
	pat->part[i] = 0;
    }
    pat->count = 0;
}
