/*
 * maildir_name.h - what a Maildir file name says about its message.
 *
 * A name is BASE[:INFO].  BASE is the unique part (Posthorn and Dovecot
 * add ",S=<bytes>" and ",W=<bytes with CRLF line ends>" to it); it never
 * changes while the message lives, so it identifies the message (the key
 * of dovecot-uidlist).  INFO ":2,LETTERS" holds the flags, in ASCII order:
 * D draft, F flagged, P passed, R replied (answered), S seen, T trashed
 * (deleted), and a..z the folder's keywords 0..25 (dovecot-keywords).
 * P and letters Posthorn does not know are kept as they are when the
 * flags change; any other INFO (":1,...") reads as no flags.
 */
#ifndef MAILDIR_NAME_H
#define MAILDIR_NAME_H

#include "sys_defs.h"
#include "vstring.h"

/* maildir_base_len - the length of NAME's base */
#define maildir_base_len(name)	strcspn((name), ":")

/* maildir_name_flags - STORE_* flags and keyword bits from NAME's info */
void	maildir_name_flags(const char *name, unsigned *flags,
			           unsigned *keywords);

/* maildir_name_size - the number after ",S=" (KEY 'S') or ",W=" in the
 * first BASE_LEN bytes of NAME, or -1 */
off_t	maildir_name_size(const char *name, size_t base_len, int key);

/* maildir_name_info - ":2,LETTERS" for FLAGS and KEYWORDS into INFO,
 * keeping the letters of OLD_NAME's info that are not flags or keywords */
void	maildir_name_info(VSTRING *info, const char *old_name, unsigned flags,
			          unsigned keywords);

/* maildir_name_stamp - the delivery time that starts NAME
 * ("SECONDS.M<microseconds>..."; 0 when not there) */
void	maildir_name_stamp(const char *name, unsigned long *secs,
			           unsigned long *usecs);

#endif
