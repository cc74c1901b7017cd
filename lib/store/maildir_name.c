/*
 * maildir_name.c - flags, keywords and sizes in Maildir file names (see
 * maildir_name.h).  Pure string work: no file system access.
 */
#include "sys_defs.h"

#include <limits.h>

#include "vstring.h"
#include "store.h"
#include "maildir_name.h"

#define MAILDIR_INFO	":2,"

/* The system flags and their letters */
static const struct {
    int     letter;
    unsigned flag;
} maildir_flag_letters[] = {
    {'D', STORE_DRAFT},
    {'F', STORE_FLAGGED},
    {'R', STORE_ANSWERED},
    {'S', STORE_SEEN},
    {'T', STORE_DELETED},
};

#define MAILDIR_FLAG_COUNT \
	(sizeof(maildir_flag_letters) / sizeof(maildir_flag_letters[0]))

/* maildir_letter_flag - the STORE_* flag of LETTER, or 0 */

static unsigned maildir_letter_flag(int letter)
{
    size_t  i;

    for (i = 0; i < MAILDIR_FLAG_COUNT; i++)
	if (maildir_flag_letters[i].letter == letter)
	    return (maildir_flag_letters[i].flag);
    return (0);
}

/* maildir_info - the letters after ":2,", or NULL */

static const char *maildir_info(const char *name)
{
    const char *colon = strchr(name, ':');

    if (colon == 0
	|| strncmp(colon, MAILDIR_INFO, sizeof(MAILDIR_INFO) - 1) != 0)
	return (0);
    return (colon + sizeof(MAILDIR_INFO) - 1);
}

void    maildir_name_flags(const char *name, unsigned *flags,
			           unsigned *keywords)
{
    const char *cp = maildir_info(name);

    *flags = *keywords = 0;
    if (cp == 0)
	return;
    for (; *cp; cp++) {
	if (*cp >= 'a' && *cp <= 'z')
	    *keywords |= 1U << (*cp - 'a');
	else
	    *flags |= maildir_letter_flag(*cp);
    }
}

off_t   maildir_name_size(const char *name, size_t base_len, int key)
{
    const char *cp = name, *end = name + base_len;
    off_t   val;

    while ((cp = memchr(cp, ',', (size_t) (end - cp))) != 0) {
	cp++;
	if (end - cp < 3 || cp[0] != key || cp[1] != '='
	    || cp[2] < '0' || cp[2] > '9')
	    continue;
	for (val = 0, cp += 2; cp < end && *cp >= '0' && *cp <= '9'; cp++) {
	    if (val > (LONG_MAX - 9) / 10)
		return (-1);
	    val = val * 10 + (*cp - '0');
	}
	if (cp == end || *cp == ',')
	    return (val);
    }
    return (-1);
}

void    maildir_name_info(VSTRING *info, const char *old_name, unsigned flags,
			          unsigned keywords)
{
    unsigned char present[256];
    const char *cp;
    size_t  i;

    memset(present, 0, sizeof(present));
    if ((cp = maildir_info(old_name)) != 0)
	for (; *cp; cp++)
	    if (!(*cp >= 'a' && *cp <= 'z') && maildir_letter_flag(*cp) == 0)
		present[(unsigned char) *cp] = 1;
    for (i = 0; i < MAILDIR_FLAG_COUNT; i++)
	if (flags & maildir_flag_letters[i].flag)
	    present[maildir_flag_letters[i].letter] = 1;
    for (i = 0; i < STORE_MAX_KEYWORDS; i++)
	if (keywords & (1U << i))
	    present['a' + i] = 1;
    vstring_strcpy(info, MAILDIR_INFO);
    for (i = 1; i < sizeof(present); i++)
	if (present[i])
	    vstring_addch(info, (int) i);
}

/* name_number - the decimal number at *CP (saturated), moving *CP past it */

static unsigned long name_number(const char **cp)
{
    unsigned long val = 0;

    for (; **cp >= '0' && **cp <= '9'; (*cp)++)
	val = val > (ULONG_MAX - 9) / 10 ? ULONG_MAX :
	    val * 10 + (unsigned long) (**cp - '0');
    return (val);
}

void    maildir_name_stamp(const char *name, unsigned long *secs,
			           unsigned long *usecs)
{
    const char *cp = name;

    *secs = name_number(&cp);
    *usecs = 0;
    if (cp[0] == '.' && cp[1] == 'M') {
	cp += 2;
	*usecs = name_number(&cp);
    }
}
