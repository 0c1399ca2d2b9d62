/* kvfile.h -- the `key = value` lines of target files. */
#ifndef GOS_KVFILE_H
#define GOS_KVFILE_H

#include <stddef.h>

/* One line of a key-value file: '#' starts a comment, blanks around key
 * and value are dropped, a value in matching quotes loses them. */
typedef struct gos_kv {
	char buf[4096];  /* the line (longer lines are cut) */
	char *key, *val; /* into buf */
	int line;        /* 1-based */
	int key_col, val_col;
} gos_kv;

/* Reads the next non-blank line of text[0, len) from *pos (start at 0) and
 * advances *pos. Returns 1 with kv->key/val set, 0 at the end of the
 * text, -1 for a line without '=' (kv->line and kv->key_col locate it).
 * kv->line must be 0 before the first call. */
int gos_kv_next(const char *text, size_t len, size_t *pos, gos_kv *kv);

#endif
