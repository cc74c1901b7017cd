/*
 * store_maildir.c - the maildir driver of store.h (being written).
 */
#include "sys_defs.h"
#include "vstring.h"
#include "store.h"

static int store_maildir_open(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    vstring_strcpy(why, "maildir folders are not supported yet");
    return (-1);
}

const STORE_DRIVER store_maildir_driver = {
    .name = "maildir",
    .open = store_maildir_open,
};
