/* profile.c -- per-node profile CSVs (the runner's --profile=FILE.csv)
 * read into the rows gos_cost_fit_profile fits. Header line
 *   model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share
 * (columns in any order, others ignored), one row per profiled node, a
 * last row whose node is "(total)"; blank lines and lines starting with
 * # are skipped. Nothing in the file is trusted: every error names
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

/* Splits line (modified) at commas into at most max trimmed fields that
 * point into line; returns the field count (fields past max are dropped). */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	for (;;) {
		char *c = strchr(p, ',');
		if (c)
			*c = 0;
		while (isspace((unsigned char)*p))
			p++;
		char *e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = 0;
		if (n < max)
			f[n++] = p;
		if (!c)
			break;
		p = c + 1;
	}
	return n;
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
	char *line = NULL;
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		lineno++;
		free(line);
		line = gos_malloc(n + 1);
		if (!line) {
			gos_error(d, (gos_loc){file, lineno, 1}, "out of memory");
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = 0; /* a NUL inside the line ends it */
		pos += n + (nl != NULL);
		size_t k = strlen(line);
		while (k > 0 && line[k - 1] == '\r')
			line[--k] = 0;
		const char *sp = line;
		while (isspace((unsigned char)*sp))
			sp++;
		if (!*sp || *sp == '#')
			continue;
		char *fl[MAX_FIELDS];
		int nf = split(line, fl, MAX_FIELDS);
		gos_loc loc = {file, lineno, 1};
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
		                                           med};
	}
	free(line);
	line = NULL;
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
	free(line);
	free(*rows);
	*rows = NULL;
	*nrows = 0;
	return -1;
}
