/*
 * store_root_priv.h - what the parts of a STORE_ROOT (store.h, "A user's
 * folders") share: the root itself, checked folder names, the layout
 * interface (Maildir++ in store_root_maildir.c, mbox files and
 * directories in store_root_mbox.c), the subscriptions file
 * (store_root_subs.c) and a few directory helpers (store_root.c).
 *
 * Every name a layout sees has passed root_name_parse(): valid UTF-8,
 * no control characters, no empty levels, not INBOX itself, and within
 * the layout's rules (layout->name_ok); a layout works on its modified
 * UTF-7 form (enc), the same bytes the disk holds, and words its errors
 * with the UTF-8 form (utf8).  Layouts reach the disk only relative to
 * the root's open directory (dir_fd), one level at a time, with
 * O_NOFOLLOW, so no name can lead outside the root or through a
 * symbolic link.
 */
#ifndef STORE_ROOT_PRIV_H
#define STORE_ROOT_PRIV_H

#include "sys_defs.h"
#include "vstring.h"
#include "store.h"

#define ROOT_NAME_MAX	1000		/* bytes of a name on disk (enc) */
#define ROOT_LEVEL_MAX	255		/* bytes of one level (NAME_MAX) */
#define ROOT_DEPTH_MAX	32		/* directory levels a layout walks */

/* A checked folder name */
typedef struct ROOT_NAME {
    VSTRING *utf8;			/* the API's form (INBOX folded) */
    VSTRING *enc;			/* modified UTF-7, as on disk */
} ROOT_NAME;

/* What a name is on disk (layout->kind_of) */
#define ROOT_NONE	0		/* nothing (or nothing we may use) */
#define ROOT_MAIL	1		/* a folder that holds mail */
#define ROOT_DIR	2		/* mbox: a directory (\Noselect) */

/* Folders found on disk, and what the listing adds to them */
typedef struct ROOT_ENTRY {
    char   *name;			/* UTF-8 */
    int     attrs;			/* STORE_LIST_* */
} ROOT_ENTRY;

typedef struct ROOT_LIST {
    ROOT_ENTRY *entries;
    int     count;
    int     size;
} ROOT_LIST;

typedef struct ROOT_LAYOUT {
    int     sep;			/* hierarchy separator */
    const char *subs_file;		/* in the root directory */
    const char *marker_file;		/* special-use folders were made */
    /* layout rules for ENC (a valid name otherwise); 0, or -1 with WHY */
    int     (*name_ok) (const char *enc, VSTRING *why);
    /* every folder on disk except INBOX, with NOSELECT/NOINFERIORS */
    int     (*scan) (STORE_ROOT *root, ROOT_LIST *list, VSTRING *why);
    /* ROOT_NONE, ROOT_MAIL, ROOT_DIR */
    int     (*kind_of) (STORE_ROOT *root, const ROOT_NAME *name);
    /* a new folder (CONTAINER: one meant to hold other folders) */
    int     (*create) (STORE_ROOT *root, const ROOT_NAME *name, int container,
		               VSTRING *why);
    int     (*delete) (STORE_ROOT *root, const ROOT_NAME *name, VSTRING *why);
    int     (*rename) (STORE_ROOT *root, const ROOT_NAME *old_name,
		               const ROOT_NAME *new_name, VSTRING *why);
    STORE_FOLDER *(*folder) (STORE_ROOT *root, const ROOT_NAME *name,
			             int flags, VSTRING *why);
} ROOT_LAYOUT;

struct STORE_ROOT {
    int     kind;			/* STORE_KIND_MAILDIR or _MBOX */
    const ROOT_LAYOUT *layout;
    char   *inbox;			/* the INBOX Maildir or mbox file */
    char   *dir;			/* where the other folders live */
    int     dir_fd;			/* dir, open; -1: not available */
};

extern const ROOT_LAYOUT root_maildir_layout;
extern const ROOT_LAYOUT root_mbox_layout;

/* Names (store_root.c) */
ROOT_NAME *root_name_alloc(void);
void	root_name_free(ROOT_NAME *name);
int	root_name_parse(STORE_ROOT *root, const char *utf8, ROOT_NAME *name,
			        VSTRING *why);
int	root_name_from_disk(STORE_ROOT *root, const char *enc, VSTRING *utf8);
int	root_is_inbox(const char *utf8);
int	root_special_use(const char *utf8);

/* Listings (store_root_list.c) */
void	root_list_add(ROOT_LIST *list, const char *name, int attrs);
void	root_list_free(ROOT_LIST *list);

/* Directories (store_root.c) */
int	root_dir_available(STORE_ROOT *root, VSTRING *why);
int	root_open_dir(int dir_fd, const char *name);
int	root_remove_tree(int dir_fd, const char *name, VSTRING *why);
int	root_rename_noreplace(int old_fd, const char *old_name, int new_fd,
			              const char *new_name);

/* INBOX, with its index where it belongs (store_root.c) */
STORE_FOLDER *root_open_inbox(STORE_ROOT *root, int flags, VSTRING *why);

/* Renaming INBOX (store_root_inbox.c) */
int	root_rename_inbox(STORE_ROOT *root, const ROOT_NAME *new_name,
			          VSTRING *why);

/* Subscriptions (store_root_subs.c) */
int	root_subs_read(STORE_ROOT *root, ROOT_LIST *list, VSTRING *why);
int	root_subs_change(STORE_ROOT *root, const ROOT_NAME *name, int on,
			         VSTRING *why);

#endif
