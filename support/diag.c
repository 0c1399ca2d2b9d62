/* diag.c -- diagnostic list, rendering with source line and caret. */
#include "support/diag.h"

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
		gos_diag *v = realloc(d->v, sizeof *v * (size_t)cap);
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	char *msg = malloc(n > 0 ? (size_t)n + 1 : 1);
	if (!msg) {
		va_end(ap2);
		return;
	}
	vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
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
	gos_source *s = calloc(1, sizeof *s);
	if (!s)
		return file;
	s->file = strdup(file);
	s->text = malloc(len + 1);
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
	for (const char *q = p; q < e; q++) /* keep the terminal sane */
		fputc((*q == '\t' || (unsigned char)*q >= 32) && *q != 127 ? *q : '?', out);
	fputs("\n  ", out);
	for (int i = 1; i < col && p + i - 1 < e; i++)
		fputc(p[i - 1] == '\t' ? '\t' : ' ', out);
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
	char *buf = malloc(cap + 1);
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
		char *nb = realloc(buf, cap + 1);
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
	int row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0], best;
		row[0] = (int)i;
		best = row[0];
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int sub = prev + (a[i - 1] != b[j - 1]);
			int v = row[j - 1] + 1 < cur + 1 ? row[j - 1] + 1 : cur + 1;
			row[j] = v < sub ? v : sub;
			prev = cur;
			if (row[j] < best)
				best = row[j];
		}
		if (best > cap)
			return cap + 1;
	}
	return row[lb] > cap ? cap + 1 : row[lb];
}
