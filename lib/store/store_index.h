/*
 * store_index.h - the per-folder index of store.h (store_index.c), as
 * store.c drives it.  The public side (store_expunged_since,
 * store_cache_get/put, store_notify_fd/clear) is declared in store.h.
 *
 * store.c calls, with the folder's view just changed by the driver:
 *   store_index_load	   after the driver opened the folder: reads the
 *			   index file (or starts one in memory);
 *   store_index_view	   then, for a driver with a view stamp: the view
 *			   from the records when the file's stamp holds (1,
 *			   with the driver's data to check), else 0; the
 *			   view is pending: its count, UIDVALIDITY and
 *			   UIDNEXT are set, its array is not made;
 *   store_index_view_make  makes a pending view's array (before the
 *			   first use, and before the records change);
 *   store_index_view_holds 1 (with the data) while a pending view's stamp
 *			   is still the file's: a driver that still finds
 *			   the folder as the data says has nothing to sync;
 *   store_index_view_unseen  a pending view's unseen count and first;
 *   store_index_open	   after the view was made (store_index_view or a
 *			   driver sync): loads the index if not yet done
 *			   and gives every message its MODSEQ;
 *   store_index_sync	   after each driver sync: new and changed messages
 *			   get a new MODSEQ, vanished UIDs are logged (1;
 *			   0 when neither the view nor the index changed
 *			   since the last time, and nothing was done); a
 *			   view stamp is written when the driver vouches
 *			   for the view; the cache is written out or
 *			   re-read; notification watches follow a replaced
 *			   file;
 *   store_index_flags	   after our flag change of UID;
 *   store_index_expunged  after our expunge: the UIDS (ascending) that
 *			   left the view;
 *   store_index_appended  after our append of UID;
 *   store_index_close	   before the driver closes: writes the cache.
 * None of them fails: the index is an accelerator, and what cannot be
 * written is kept in memory (with a warning).
 */
#ifndef STORE_INDEX_H
#define STORE_INDEX_H

#include "store.h"

void	store_index_load(STORE_FOLDER *folder);
int	store_index_view(STORE_FOLDER *folder, VSTRING *data);
void	store_index_view_make(STORE_FOLDER *folder);
int	store_index_view_holds(STORE_FOLDER *folder, VSTRING *data);
void	store_index_view_unseen(const STORE_FOLDER *folder, int *unseen,
				        int *first);
void	store_index_open(STORE_FOLDER *folder);
int	store_index_sync(STORE_FOLDER *folder);
void	store_index_flags(STORE_FOLDER *folder, unsigned uid);
void	store_index_expunged(STORE_FOLDER *folder, const unsigned *uids,
			             int count);
void	store_index_appended(STORE_FOLDER *folder, unsigned uid,
			             unsigned flags, unsigned keywords);
void	store_index_close(STORE_FOLDER *folder);

#endif
