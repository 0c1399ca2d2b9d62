/* kvfile.h -- the `key = value` lines of target files. */
#ifndef GOS_KVFILE_H
#define GOS_KVFILE_H

#include <stddef.h>

#include "support/diag.h"

/* One line of a key-value file: '#' starts a comment, blanks around key
 * and value are dropped, a value in matching quotes loses them. */
typedef struct gos_kv {
	char buf[4096];  /* the line (longer lines are cut) */
	char *key, *val; /* into buf */
	int line;        /* 1-based */
	int key_col, val_col;
} gos_kv;

/* Reads the next `key = value` line of text[0, len) from *pos (start at
 * 0, with kv->line 0) and advances *pos. Returns 1 with kv->key/val set,
 * 0 at the end of the text. A line without '=' is reported in d (as
 * file:line:col) and counted in *errors, then skipped. */
int gos_kv_next(const char *text, size_t len, size_t *pos, gos_kv *kv,
                const char *file, gos_diags *d, int *errors);

#endif
