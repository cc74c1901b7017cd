/*
 * store_mbox.c - the mbox driver of store.h (being written).
 */
#include "sys_defs.h"
#include "vstring.h"
#include "store.h"

static int store_mbox_open(STORE_FOLDER *folder, int flags, VSTRING *why)
{
    vstring_strcpy(why, "mbox folders are not supported yet");
    return (-1);
}

const STORE_DRIVER store_mbox_driver = {
    .name = "mbox",
    .open = store_mbox_open,
};
