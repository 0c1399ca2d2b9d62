/* diag.h -- diagnostics with source locations. The library collects them;
 * tools render them (gos_diags_render) to stderr. */
#ifndef GOS_DIAG_H
#define GOS_DIAG_H

#include <stdio.h>
#include <stddef.h>

/* A source position; line and col start at 1; line 0 = no position. */
typedef struct gos_loc {
	const char *file; /* interned in the gos_diags / source registry */
	int line, col;
} gos_loc;

typedef enum gos_severity { GOS_ERROR, GOS_WARNING, GOS_NOTE } gos_severity;

typedef struct gos_diag {
	gos_severity sev;
	gos_loc loc;
	char *msg;
} gos_diag;

/* A list of diagnostics plus the source texts they point into (so the
 * renderer can print the line and a caret). */
typedef struct gos_diags {
	gos_diag *v;
	int n, cap;
	int n_errors;
	int max_errors; /* stop collecting errors after this many (default 20) */
	struct gos_source *sources; /* registered texts, for rendering */
} gos_diags;

void gos_diags_init(gos_diags *d);
void gos_diags_free(gos_diags *d);
/* Adds a diagnostic; message is printf-formatted. */
void gos_error(gos_diags *d, gos_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gos_warning(gos_diags *d, gos_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gos_note(gos_diags *d, gos_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Registers the text of file (copied) so render can show lines; returns
 * the interned file name to use in gos_loc.file. */
const char *gos_diags_source(gos_diags *d, const char *file, const char *text,
                             size_t len);
/* Prints every diagnostic as `file:line:col: error: msg`, then the source
 * line and a caret under col when the text is registered. */
void gos_diags_render(const gos_diags *d, FILE *out);

/* Reads a whole file into a malloc'd NUL-terminated buffer; returns NULL
 * with an error in d (loc has no position) when it cannot. */
char *gos_read_file(gos_diags *d, const char *path, size_t *len);

/* The edit distance of a and b, capped at cap+1 (for "did you mean"). */
int gos_edit_distance(const char *a, const char *b, int cap);

#endif
