/* diag.c -- diagnostic list, rendering with source line and caret. */
#include "support/diag.h"
#include "support/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct gos_source {
	struct gos_source *next;
	char *file;
	char *text;
	size_t len;
} gos_source;

void gos_diags_init(gos_diags *d)
{
	memset(d, 0, sizeof *d);
	d->max_errors = 20;
}

void gos_diags_free(gos_diags *d)
{
	for (int i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	for (gos_source *s = d->sources, *n; s; s = n) {
		n = s->next;
		free(s->file);
		free(s->text);
		free(s);
	}
	memset(d, 0, sizeof *d);
}

static void add(gos_diags *d, gos_severity sev, gos_loc loc, const char *fmt,
                va_list ap)
{
	if (sev == GOS_ERROR) {
		d->n_errors++;
		if (d->max_errors > 0 && d->n_errors > d->max_errors)
			return;
	}
	if (d->n == d->cap) {
		int cap = d->cap ? 2 * d->cap : 8;
		gos_diag *v = gos_realloc(d->v, sizeof *v * (size_t)cap);
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		n = 0;
	/* the file name is copied after the message: callers may pass names
	 * that live shorter than the list (a buffer on their stack) */
	size_t fl = loc.file ? strlen(loc.file) + 1 : 0;
	char *msg = gos_malloc((size_t)n + 1 + fl);
	if (!msg) {
		va_end(ap2);
		return;
	}
	vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	if (loc.file) {
		memcpy(msg + n + 1, loc.file, fl);
		loc.file = msg + n + 1;
	}
	d->v[d->n++] = (gos_diag){sev, loc, msg};
}

#define DEFINE(fn, sev) \
	void fn(gos_diags *d, gos_loc loc, const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		add(d, sev, loc, fmt, ap); \
		va_end(ap); \
	}
DEFINE(gos_error, GOS_ERROR)
DEFINE(gos_warning, GOS_WARNING)
DEFINE(gos_note, GOS_NOTE)

const char *gos_diags_source(gos_diags *d, const char *file, const char *text,
                             size_t len)
{
	for (gos_source *s = d->sources; s; s = s->next)
		if (strcmp(s->file, file) == 0)
			return s->file;
	gos_source *s = gos_calloc(1, sizeof *s);
	if (!s)
		return file;
	s->file = gos_strdup(file);
	s->text = gos_malloc(len + 1);
	if (!s->file || !s->text) {
		free(s->file);
		free(s->text);
		free(s);
		return file;
	}
	memcpy(s->text, text, len);
	s->text[len] = 0;
	s->len = len;
	s->next = d->sources;
	d->sources = s;
	return s->file;
}

static const gos_source *find_source(const gos_diags *d, const char *file)
{
	for (const gos_source *s = d->sources; s; s = s->next)
		if (s->file == file || (file && strcmp(s->file, file) == 0))
			return s;
	return NULL;
}

/* Length of the well-formed UTF-8 sequence at q (before e), 0 if none. */
static int utf8_len(const char *q, const char *e)
{
	unsigned char c = (unsigned char)*q;
	int n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
	        : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (n == 0 || e - q < n)
		return 0;
	for (int k = 1; k < n; k++)
		if (((unsigned char)q[k] & 0xc0) != 0x80)
			return 0;
	unsigned char c1 = (unsigned char)q[1];
	if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0) || (c == 0xf0 && c1 < 0x90) ||
	    (c == 0xf4 && c1 >= 0x90))
		return 0; /* overlong, surrogate, beyond U+10FFFF */
	return n;
}

static void show_line(FILE *out, const gos_source *s, int line, int col)
{
	const char *p = s->text, *end = s->text + s->len;
	for (int l = 1; l < line && p < end; p++)
		if (*p == '\n')
			l++;
	if (p >= end && line > 1)
		return;
	const char *e = p;
	while (e < end && *e != '\n')
		e++;
	fputs("  ", out);
	/* keep the terminal sane: control bytes and bytes that are not UTF-8
	 * print as '?'; the caret counts one column per character */
	const char *at = p + (col > 1 ? col - 1 : 0);
	for (const char *q = p; q < e;) {
		int n = utf8_len(q, e);
		if (n > 1 && !(n == 2 && (unsigned char)q[0] == 0xc2 && (unsigned char)q[1] < 0xa0))
			fwrite(q, 1, (size_t)n, out); /* (not the C1 controls) */
		else
			fputc(n == 1 && (*q == '\t' || (unsigned char)*q >= 32) && *q != 127 ? *q : '?', out);
		q += n > 0 ? n : 1;
	}
	fputs("\n  ", out);
	for (const char *q = p; q < e && q < at;) {
		fputc(*q == '\t' ? '\t' : ' ', out);
		int n = utf8_len(q, e);
		q += n > 0 ? n : 1;
	}
	fputs("^\n", out);
}

void gos_diags_render(const gos_diags *d, FILE *out)
{
	static const char *names[] = {"error", "warning", "note"};
	for (int i = 0; i < d->n; i++) {
		const gos_diag *g = &d->v[i];
		if (g->loc.file && g->loc.line > 0)
			fprintf(out, "%s:%d:%d: ", g->loc.file, g->loc.line, g->loc.col);
		else if (g->loc.file)
			fprintf(out, "%s: ", g->loc.file);
		fprintf(out, "%s: %s\n", names[g->sev], g->msg);
		const gos_source *s = g->loc.line > 0 ? find_source(d, g->loc.file) : NULL;
		if (s)
			show_line(out, s, g->loc.line, g->loc.col);
	}
	if (d->max_errors > 0 && d->n_errors > d->max_errors)
		fprintf(out, "too many errors (%d), stopping after %d\n", d->n_errors,
		        d->max_errors);
}

char *gos_read_file(gos_diags *d, const char *path, size_t *len)
{
	gos_loc none = {path, 0, 0};
	FILE *f = fopen(path, "rb");
	if (!f) {
		gos_error(d, none, "cannot open: %s", strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = gos_malloc(cap + 1);
	for (;;) {
		if (!buf) {
			fclose(f);
			gos_error(d, none, "out of memory");
			return NULL;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
		char *nb = gos_realloc(buf, cap + 1);
		if (!nb)
			free(buf);
		buf = nb;
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		free(buf);
		gos_error(d, none, "cannot read (is it a directory?)");
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

int gos_edit_distance(const char *a, const char *b, int cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return cap + 1;
	/* rows i-2, i-1 and i of the optimal-string-alignment table */
	int r0[65], r1[65], r2[65];
	int *pp = r0, *prev = r1, *row = r2;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		row[0] = (int)i;
		int best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			int v = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1; /* transposition */
			row[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
		int *t = pp;
		pp = prev;
		prev = row;
		row = t;
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}
