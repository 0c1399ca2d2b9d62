/* outfile.h -- write a file completely or not at all. */
#ifndef GOS_OUTFILE_H
#define GOS_OUTFILE_H

#include <stdio.h>

typedef struct gos_outfile {
	FILE *f;       /* write here */
	char *path;    /* final path, NULL for stdout */
	char *tmp;     /* temporary beside it */
	int direct;    /* path is not a regular file (a device, a pipe): written in place */
} gos_outfile;

/* Opens path for writing ("-" or NULL: stdout). Writes go to a temporary
 * file in the same directory until gos_outfile_commit renames it; an
 * existing path that is not a regular file (/dev/null, a FIFO) is written
 * directly. */
int gos_outfile_open(gos_outfile *o, const char *path);
/* Flushes and renames into place; returns 0, or -1 (and removes the
 * temporary) if any write failed. */
int gos_outfile_commit(gos_outfile *o);
/* Discards the temporary; nothing appears at path. */
void gos_outfile_abort(gos_outfile *o);

#endif
