/*
 * maillog_rotate.c - rename maillog_file aside and compress it
 * (maillog_rotate.h).
 */
#include "sys_defs.h"
#include <fcntl.h>
#include <sys/wait.h>
#include "maillog_rotate.h"
#include "safe_open.h"

#define MR_SUFFIX_MAX	100

/*
 * mr_strftime - strftime() with the admin's format: maillog_file_rotate_suffix
 * is a strftime format by definition (Postfix runs "date +FORMAT"), and
 * strftime() never writes past SIZE, so the format need not be a literal.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static size_t mr_strftime(char *buf, size_t size, const char *format,
			          const struct tm *tm)
{
    return (strftime(buf, size, format, tm));
}
#pragma GCC diagnostic pop

/* mr_suffix - WHEN formatted with FORMAT into BUF; 0 or -1 (ERR) */

static int mr_suffix(const char *format, time_t when, char *buf, size_t size,
		             VSTRING *err)
{
    struct tm tm;

    if (*format == 0) {
	vstring_strcpy(err, "empty 'maillog_file_rotate_suffix' parameter value");
	return (-1);
    }
    if (localtime_r(&when, &tm) == 0 || mr_strftime(buf, size, format, &tm) == 0) {
	vstring_sprintf(err, "bad 'maillog_file_rotate_suffix' value \"%s\"", format);
	return (-1);
    }
    if (strchr(buf, '/') != 0) {
	vstring_sprintf(err, "'maillog_file_rotate_suffix' value \"%s\" makes a "
			"'/' in the file name", format);
	return (-1);
    }
    return (0);
}

/* mr_same - is NAME (not followed) the plain file ST describes? */

static int mr_same(const char *name, const struct stat *st, VSTRING *err)
{
    struct stat now;

    if (lstat(name, &now) < 0) {
	vstring_sprintf(err, "%s: %m", name);
	return (0);
    }
    if (!S_ISREG(now.st_mode) || now.st_nlink != 1
	|| now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
	vstring_sprintf(err, "%s: file was replaced after it was renamed", name);
	return (0);
    }
    return (1);
}

int     maillog_rotate(const char *path, const char *format, time_t when,
		               VSTRING *rotated, struct stat *st, VSTRING *err)
{
    char    suffix[MR_SUFFIX_MAX];
    VSTRING *why;
    int     fd;

    if (*path == 0) {
	vstring_strcpy(err, "empty 'maillog_file' parameter value");
	return (-1);
    }
    if (strncmp(path, "/dev/", 5) == 0) {
	vstring_sprintf(err, "not rotating '%s'", path);
	return (-1);
    }
    if (mr_suffix(format, when, suffix, sizeof(suffix), err) < 0)
	return (-1);
    why = vstring_alloc(100);
    fd = safe_open(path, O_RDONLY, 0, st, -1, -1, why);
    if (fd < 0)
	vstring_sprintf(err, "%s: %s", path, STR(why));
    vstring_free(why);
    if (fd < 0)
	return (-1);
    (void) close(fd);
    vstring_sprintf(rotated, "%s.%s", path, suffix);
    if (renameat2(AT_FDCWD, path, AT_FDCWD, STR(rotated), RENAME_NOREPLACE) < 0) {
	vstring_sprintf(err, "rename %s to %s: %m", path, STR(rotated));
	return (-1);
    }
    return (mr_same(STR(rotated), st, err) ? 0 : -1);
}

int     maillog_compress(const char *rotated, const struct stat *st,
			         const char *compressor, VSTRING *err)
{
    pid_t   pid;
    int     status;

    if (*compressor == 0) {
	vstring_strcpy(err, "empty 'maillog_file_compressor' parameter value");
	return (-1);
    }
    if (!mr_same(rotated, st, err))
	return (-1);
    if ((pid = fork()) < 0) {
	vstring_sprintf(err, "fork: %m");
	return (-1);
    }
    if (pid == 0) {
	execlp(compressor, compressor, rotated, (char *) 0);
	_exit(127);				/* the parent says why */
    }
    while (waitpid(pid, &status, 0) < 0) {
	if (errno != EINTR) {
	    vstring_sprintf(err, "waitpid: %m");
	    return (-1);
	}
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
	return (0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
	vstring_sprintf(err, "cannot execute %s", compressor);
    else if (WIFEXITED(status))
	vstring_sprintf(err, "%s %s: exit status %d", compressor, rotated,
			WEXITSTATUS(status));
    else
	vstring_sprintf(err, "%s %s: killed by signal %d", compressor, rotated,
			WTERMSIG(status));
    return (-1);
}
