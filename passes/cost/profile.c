/* profile.c -- per-node profile CSVs (the runner's --profile=FILE.csv)
 * read into the rows gos_cost_fit_profile fits. Header line
 *   model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share
 * (columns in any order, others ignored), one row per profiled node, a
 * last row whose node is "(total)"; blank lines and lines starting with
 * # are skipped. Fields are RFC 4180: one in double quotes may hold
 * commas, line breaks and "" for a quote (runtime/profile.h writes them
 * so); blanks around a field are dropped. Nothing in the file is trusted: every error names
 * file:line. */
#include "passes/cost/cost.h"
#include "support/alloc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *prof_cols[] = {"model", "node", "op", "kind", "runs", "median_ms",
                                  "min_ms", "flops", "gflops", "share"};
enum { PROF_NCOL = 10, PC_MODEL = 0, PC_NODE = 1, PC_MEDIAN = 5, PC_MIN = 6 };
enum { MAX_FIELDS = 64 };

/* s is one number, optionally surrounded by blanks? */
static int is_number(const char *s)
{
	char *end;
	while (isspace((unsigned char)*s))
		s++;
	if (!*s)
		return 0;
	strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	return *end == 0;
}

/* A non-negative finite number in s? */
static int nonneg_number(const char *s, double *v)
{
	if (!is_number(s))
		return 0;
	*v = strtod(s, NULL);
	return isfinite(*v) && *v >= 0;
}

/* One CSV record: its fields, unquoted, NUL-terminated, in buf. */
typedef struct prof_rec {
	char *buf;            /* field texts back to back (malloc'd, grows) */
	size_t len, cap;      /* bytes used / allocated in buf */
	size_t off[MAX_FIELDS]; /* where field i starts in buf */
	int nf;               /* fields kept (at most MAX_FIELDS; more are dropped) */
	int line;             /* line the record starts on */
	int blank;            /* an empty line or a # comment, not a record */
} prof_rec;

/* Appends c to r->buf. Returns 0, or -1 out of memory. */
static int rec_put(prof_rec *r, char c)
{
	if (r->len == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 256;
		char *nb = gos_realloc(r->buf, nc);
		if (!nb)
			return -1;
		r->buf = nb;
		r->cap = nc;
	}
	r->buf[r->len++] = c;
	return 0;
}

/* Ends the field whose text starts at buf[start]: trailing blanks
 * dropped unless quoted, NUL-terminated, recorded if fewer than
 * MAX_FIELDS came before. Returns 0 or -1 (out of memory). */
static int rec_end_field(prof_rec *r, size_t start, int quoted)
{
	while (!quoted && r->len > start && isspace((unsigned char)r->buf[r->len - 1]))
		r->len--;
	if (rec_put(r, 0))
		return -1;
	if (r->nf < MAX_FIELDS)
		r->off[r->nf++] = start;
	return 0;
}

/* Reads the record at text[*pos] (RFC 4180: fields split at commas; a
 * field in double quotes may hold commas, line breaks and "" for a quote;
 * blanks around a field are dropped, inside quotes kept; a line ends at
 * LF, a CR before it is a blank) up to the end of its last line. Needs
 * text without NUL bytes and *line = the line before the record.
 * Guarantees on 0: *pos past the record, *line its last line, r->line
 * its first, r->blank set for an empty or # line (no fields). Returns -1
 * with a file:line:col error in d on an unterminated quote, text after a
 * closing quote, or out of memory. */
static int read_record(const char *file, const char *text, size_t len, size_t *pos, int *line,
                       prof_rec *r, gos_diags *d)
{
	size_t p = *pos, ls = p; /* ls: where the current line starts */
	r->len = 0;
	r->nf = 0;
	r->line = ++*line;
	r->blank = 0;
	size_t q = p;
	while (q < len && text[q] != '\n' && isspace((unsigned char)text[q]))
		q++;
	if (q == len || text[q] == '\n' || text[q] == '#') {
		const char *nl = memchr(text + p, '\n', len - p);
		*pos = nl ? (size_t)(nl - text) + 1 : len;
		r->blank = 1;
		return 0;
	}
	for (;;) { /* one field per turn, p at its first byte */
		while (p < len && (text[p] == ' ' || text[p] == '\t'))
			p++;
		size_t start = r->len;
		if (p < len && text[p] == '"') {
			gos_loc open = {file, *line, (int)(p - ls + 1)};
			for (p++;; p++) {
				if (p == len) {
					gos_error(d, open, "unterminated quoted field (the quote opened "
					          "here is never closed)");
					return -1;
				}
				if (text[p] == '"' && (p + 1 == len || text[p + 1] != '"'))
					break;
				if (text[p] == '"')
					p++; /* "" is one quote */
				if (text[p] == '\n') {
					++*line;
					ls = p + 1;
				}
				if (rec_put(r, text[p]))
					goto oom;
			}
			p++; /* the closing quote */
			while (p < len && text[p] != '\n' && text[p] != ',' &&
			       isspace((unsigned char)text[p]))
				p++;
			if (p < len && text[p] != ',' && text[p] != '\n') {
				gos_error(d, (gos_loc){file, *line, (int)(p - ls + 1)}, "text after the "
				          "closing quote of a field (a quote inside a quoted field is "
				          "written \"\")");
				return -1;
			}
			if (rec_end_field(r, start, 1))
				goto oom;
		} else {
			for (; p < len && text[p] != ',' && text[p] != '\n'; p++)
				if (rec_put(r, text[p]))
					goto oom;
			if (rec_end_field(r, start, 0))
				goto oom;
		}
		if (p == len || text[p] == '\n')
			break;
		p++; /* the comma */
	}
	*pos = p < len ? p + 1 : len;
	return 0;
oom:
	gos_error(d, (gos_loc){file, r->line, 1}, "out of memory");
	return -1;
}

int gos_cost_profile_parse(const char *file, const char *text, size_t len,
                           const gos_module *m, const gos_cost_report *r,
                           gos_cost_prof_node **rows, int *nrows, double *total,
                           gos_diags *d)
{
	*rows = NULL;
	*nrows = 0;
	*total = 0;
	int cap = 0, lineno = 0, col[PROF_NCOL], have_header = 0, have_total = 0, need = 0;
	prof_rec rec = {0};
	const char *nul = memchr(text, 0, len);
	if (nul) {
		for (const char *c = text; c < nul; c++)
			lineno += *c == '\n';
		gos_error(d, (gos_loc){file, lineno + 1, 1}, "NUL byte in the profile (not a text "
		          "CSV file)");
		goto fail;
	}
	size_t pos = 0;
	while (pos < len) {
		if (read_record(file, text, len, &pos, &lineno, &rec, d))
			goto fail;
		if (rec.blank)
			continue;
		char *fl[MAX_FIELDS];
		int nf = rec.nf;
		for (int c = 0; c < nf; c++)
			fl[c] = rec.buf + rec.off[c];
		gos_loc loc = {file, rec.line, 1};
		if (!have_header) {
			for (int j = 0; j < PROF_NCOL; j++) {
				col[j] = -1;
				for (int c = 0; c < nf; c++)
					if (!strcmp(fl[c], prof_cols[j]))
						col[j] = c;
				if (col[j] < 0) {
					gos_error(d, loc, "profile header lacks column '%s' (expected model,node,"
					          "op,kind,runs,median_ms,min_ms,flops,gflops,share)", prof_cols[j]);
					goto fail;
				}
				if (col[j] >= need)
					need = col[j] + 1;
			}
			have_header = 1;
			continue;
		}
		if (nf < need) {
			gos_error(d, loc, "%d fields, the header has %d", nf, need);
			goto fail;
		}
		if (have_total) {
			gos_error(d, loc, "row after the (total) row");
			goto fail;
		}
		const char *model = fl[col[PC_MODEL]], *node = fl[col[PC_NODE]];
		if (!m->name || strcmp(model, m->name)) {
			gos_error(d, loc, "profile of model '%s', but the model is '%s'", model,
			          m->name ? m->name : "");
			goto fail;
		}
		double med, lo;
		if (!nonneg_number(fl[col[PC_MEDIAN]], &med) || !nonneg_number(fl[col[PC_MIN]], &lo)) {
			gos_error(d, loc, "median_ms '%s' / min_ms '%s': times must be non-negative "
			          "numbers", fl[col[PC_MEDIAN]], fl[col[PC_MIN]]);
			goto fail;
		}
		if (!strcmp(node, "(total)")) {
			have_total = 1;
			*total = med;
			continue;
		}
		int v;
		for (v = 0; v < m->n_node; v++)
			if (m->nodes[v].name && !strcmp(m->nodes[v].name, node))
				break;
		if (v == m->n_node) {
			gos_error(d, loc, "no node '%s' in the model (after -O1; a profile of another "
			          "model?)", node);
			goto fail;
		}
		if (*nrows == cap) {
			if (cap >= m->n_node + 1) { /* more rows than nodes: repeated nodes */
				gos_error(d, loc, "more rows than the model has nodes (%d)", m->n_node);
				goto fail;
			}
			int nc = cap ? 2 * cap : 64;
			gos_cost_prof_node *nr = gos_realloc(*rows, sizeof *nr * (size_t)nc);
			if (!nr) {
				gos_error(d, loc, "out of memory");
				goto fail;
			}
			*rows = nr;
			cap = nc;
		}
		(*rows)[(*nrows)++] = (gos_cost_prof_node){r->v[v].kind, r->v[v].ms, !r->v[v].fused,
		                                           med, v};
	}
	free(rec.buf);
	rec.buf = NULL;
	if (!have_header) {
		gos_error(d, (gos_loc){file, 0, 0}, "empty profile (expected a header and one row "
		          "per node)");
		goto fail;
	}
	if (!have_total) {
		gos_error(d, (gos_loc){file, lineno, 1}, "no (total) row at the end");
		goto fail;
	}
	return 0;
fail:
	free(rec.buf);
	free(*rows);
	*rows = NULL;
	*nrows = 0;
	return -1;
}
