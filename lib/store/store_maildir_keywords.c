/*
 * store_maildir_keywords.c - dovecot-keywords for the Maildir driver.
 *
 * The keyword letters a..z in Maildir file names stand for the folder's
 * keywords 0..25, named in dovecot-keywords, one "<index> <name>" line
 * each, as Dovecot keeps them.  A sync learns keywords that another
 * session added; a keyword index, once known, never changes its name in
 * a view.  The file is rewritten (temporary file, rename) under the
 * uidlist lock, so Posthorn and Dovecot never write it at once.
 */
#include "sys_defs.h"

#include <fcntl.h>
#include <strings.h>

#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"
#include "store.h"
#include "maildir_uidlist.h"
#include "store_maildir_priv.h"

#define MAILDIR_KEYWORDS	"dovecot-keywords"

/* keyword_name_ok - a non-empty name without spaces or control characters */

static int keyword_name_ok(const char *name)
{
    if (*name == 0)
	return (0);
    for (; *name; name++)
	if ((unsigned char) *name <= ' ' || *name == 0x7f)
	    return (0);
    return (1);
}

/* keywords_parse - the names of DATA's valid lines into NAMES[] */

static void keywords_parse(const char *path, char *data,
			           char *names[STORE_MAX_KEYWORDS])
{
    char   *line, *next, *cp;
    int     bad = 0;
    long    index;

    memset(names, 0, sizeof(names[0]) * STORE_MAX_KEYWORDS);
    for (line = data; line && *line; line = next) {
	if ((next = strchr(line, '\n')) != 0)
	    *next++ = 0;
	if (*line == 0)
	    continue;
	index = strtol(line, &cp, 10);
	if (cp == line || *line < '0' || *line > '9' || *cp != ' '
	    || index >= STORE_MAX_KEYWORDS || names[index] != 0
	    || !keyword_name_ok(cp + 1)) {
	    if (bad++ == 0)
		msg_warn("%s: ignoring bad line \"%.40s\"", path, line);
	    continue;
	}
	names[index] = cp + 1;
    }
}

/* keywords_read - parse dovecot-keywords into NAMES (pointing into BUF);
 * ST zeroed when missing; 0 or -1 */

static int keywords_read(STORE_FOLDER *folder, VSTRING *buf, struct stat *st,
			         char *names[STORE_MAX_KEYWORDS], VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    VSTRING *path = vstring_alloc(100);

    vstring_sprintf(path, "%s/%s", folder->path, MAILDIR_KEYWORDS);
    vstring_reset(buf);
    memset(names, 0, sizeof(names[0]) * STORE_MAX_KEYWORDS);
    if (maildir_read_file(priv->dir_fd, MAILDIR_KEYWORDS, buf, st) < 0) {
	if (errno != ENOENT) {
	    vstring_sprintf(why, "read %s: %m", STR(path));
	    vstring_free(path);
	    return (-1);
	}
	memset(st, 0, sizeof(*st));
    } else {
	keywords_parse(STR(path), STR(buf), names);
    }
    vstring_free(path);
    return (0);
}

/* keywords_set - folder->keywords[INDEX] = NAME, filling any gap below */

static void keywords_set(STORE_FOLDER *folder, int index, const char *name)
{
    VSTRING *filler;

    if (index < folder->keyword_count) {
	myfree(folder->keywords[index]);
	folder->keywords[index] = mystrdup(name);
	return;
    }
    while (folder->keyword_count < index) {
	/* A gap in the file: a name no client will ask for */
	filler = vstring_alloc(20);
	vstring_sprintf(filler, "$Unnamed%d", folder->keyword_count);
	folder->keywords[folder->keyword_count++] = vstring_export(filler);
    }
    folder->keywords[folder->keyword_count++] = mystrdup(name);
}

/*
 * maildir_keywords_refresh - learn the keywords another session added
 * (when the file changed).  The indexes the view knows never change: a
 * file that names them differently is warned about and ignored for them,
 * and a file that cannot be read is warned about.  0 (the WHY argument
 * is there for the driver interface's sake).
 */
int     maildir_keywords_refresh(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    char   *names[STORE_MAX_KEYWORDS];
    VSTRING *buf;
    struct stat st;
    int     i;

    if (fstatat(priv->dir_fd, MAILDIR_KEYWORDS, &st, AT_SYMLINK_NOFOLLOW) < 0)
	memset(&st, 0, sizeof(st));
    if (maildir_same_file(&st, &priv->keywords_st))
	return (0);
    buf = vstring_alloc(1000);
    if (keywords_read(folder, buf, &priv->keywords_st, names, why) < 0) {
	/* Keywords are no reason to refuse the mail: warn once per change */
	msg_warn("%s", STR(why));
	vstring_reset(why);
	priv->keywords_st = st;
	vstring_free(buf);
	return (0);
    }
    for (i = 0; i < STORE_MAX_KEYWORDS; i++) {
	if (names[i] == 0)
	    continue;
	if (i >= folder->keyword_count)
	    keywords_set(folder, i, names[i]);
	else if (strcasecmp(names[i], folder->keywords[i]) != 0)
	    msg_warn("%s/%s: keyword %d is \"%s\", not \"%s\": keeping \"%s\"",
		     folder->path, MAILDIR_KEYWORDS, i, names[i],
		     folder->keywords[i], folder->keywords[i]);
    }
    vstring_free(buf);
    return (0);
}

/*
 * maildir_keywords_save - write the folder's keywords, the last of which
 * store_keyword() just added, under the uidlist lock.  When another
 * session gave that index to a different keyword meanwhile, the view
 * takes the file's keywords, the new one is put last again (store.c
 * removes the last one when this fails) and the caller may try again.
 */
int     maildir_keywords_save(STORE_FOLDER *folder, VSTRING *why)
{
    MAILDIR_PRIV *priv = MAILDIR_PRIV_OF(folder);
    char   *names[STORE_MAX_KEYWORDS];
    VSTRING *buf = vstring_alloc(1000);
    char   *added = folder->keywords[folder->keyword_count - 1];
    int     added_index = folder->keyword_count - 1;
    int     conflict = 0;
    int     ret = -1;
    int     i;

    if (!keyword_name_ok(added)) {
	vstring_sprintf(why, "bad keyword name \"%.40s\"", added);
	vstring_free(buf);
	return (-1);
    }
    if (maildir_folder_lock(folder, why) < 0) {
	vstring_free(buf);
	return (-1);
    }
    if (keywords_read(folder, buf, &priv->keywords_st, names, why) < 0)
	goto out;
    for (i = 0; i < folder->keyword_count; i++)
	if (names[i] && strcasecmp(names[i], folder->keywords[i]) != 0)
	    conflict = 1;
    if (conflict) {
	folder->keyword_count--;		/* ADDED stays allocated */
	for (i = 0; i < STORE_MAX_KEYWORDS; i++)
	    if (names[i])
		keywords_set(folder, i, names[i]);
	if (folder->keyword_count < STORE_MAX_KEYWORDS)
	    folder->keywords[folder->keyword_count++] = added;
	else {
	    myfree(added);
	    memset(&priv->keywords_st, 0, sizeof(priv->keywords_st));
	}
	vstring_sprintf(why, "keyword %d of %s was taken by another session;"
			" try again", added_index, folder->path);
	goto out;
    }
    for (i = folder->keyword_count; i < STORE_MAX_KEYWORDS; i++)
	if (names[i])
	    keywords_set(folder, i, names[i]);
    vstring_reset(buf);
    for (i = 0; i < folder->keyword_count; i++)
	vstring_sprintf_append(buf, "%d %s\n", i, folder->keywords[i]);
    ret = maildir_replace_file(priv->dir_fd, folder->path, MAILDIR_KEYWORDS,
			       STR(buf), LEN(buf), &priv->keywords_st, why);
out:
    maildir_folder_unlock(folder);
    vstring_free(buf);
    return (ret);
}
