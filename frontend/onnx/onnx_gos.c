/* onnx_gos.c -- a module as a readable .gos model (used by gos-import):
 * every node is one operator application, every weight a `param` loaded
 * from a weights file, names made into unique identifiers. */
#include "frontend/onnx/onnx.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

extern const char gos_onnx_ops_text[];
extern const unsigned long gos_onnx_ops_text_len;

static const char *const keywords[] = {
	"import", "model", "op", "block", "input", "output", "param", "weights", "seed", "for",
	"in", "if", "else", "return", "require", "sum", "max", "min", "local", "true", "false",
	"inf", "init", "float", "dim", "rank", "len", "prod", "present", "select", NULL,
};

typedef struct namer {
	gos_arena *a;
	const char **used;
	int n, cap;
} namer;

static int name_used(const namer *nm, const char *s)
{
	for (int k = 0; k < nm->n; k++)
		if (!strcmp(nm->used[k], s))
			return 1;
	for (int k = 0; keywords[k]; k++)
		if (!strcmp(keywords[k], s))
			return 1;
	return 0;
}

static int reserve(namer *nm, const char *s)
{
	if (nm->n == nm->cap) {
		int cap = nm->cap ? 2 * nm->cap : 64;
		const char **v = gos_realloc(nm->used, sizeof *v * (size_t)cap);
		if (!v)
			return -1;
		nm->used = v;
		nm->cap = cap;
	}
	nm->used[nm->n++] = s;
	return 0;
}

/* A fresh identifier made from name: characters outside [A-Za-z0-9_]
 * become '_', a leading digit gets a 'v' prefix, repeats get _2, _3... */
static const char *ident(namer *nm, const char *name)
{
	size_t n = strlen(name);
	char *s = gos_arena_alloc(nm->a, n + 2);
	if (!s)
		return NULL;
	size_t k = 0;
	if (!n || (name[0] >= '0' && name[0] <= '9'))
		s[k++] = 'v';
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         c == '_';
		s[k++] = ok ? c : '_';
	}
	s[k] = 0;
	/* collapse runs of '_' left by replaced separators, for readability */
	char *w = s;
	for (char *r = s; *r; r++)
		if (!(*r == '_' && w > s && w[-1] == '_' && r != s))
			*w++ = *r;
	*w = 0;
	const char *res = s;
	for (int j = 2; name_used(nm, res); j++)
		res = gos_arena_printf(nm->a, "%s_%d", s, j);
	return reserve(nm, res) ? NULL : res;
}

/* The shortest decimal that reads back as v; for a value that is a
 * float32 (ONNX float attributes), the shortest that reads back as the
 * same float32, which is what the IR computes with. */
static void put_num(FILE *out, double v)
{
	if (isinf(v)) {
		fputs(v < 0 ? "-inf" : "inf", out);
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		fprintf(out, "%.0f", v);
		return;
	}
	int is_f32 = (double)(float)v == v;
	char buf[64];
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, v);
		double r = strtod(buf, NULL);
		if (is_f32 ? (float)r == (float)v : r == v)
			break;
	}
	/* make sure it reads as a float literal */
	if (!strpbrk(buf, ".en"))
		strcat(buf, ".0");
	fputs(buf, out);
}

static void put_shape(FILE *out, int rank, const int64_t *shape)
{
	fputc('[', out);
	for (int k = 0; k < rank; k++)
		fprintf(out, "%s%lld", k ? ", " : "", (long long)shape[k]);
	fputc(']', out);
}

/* 1 if the importer's operator file defines op. */
static int is_onnx_op(const char *op)
{
	size_t n = strlen(op);
	const char *t = gos_onnx_ops_text;
	for (const char *p = t; (p = strstr(p, "op ")); p += 3)
		if ((p == t || p[-1] == '\n') && !strncmp(p + 3, op, n) && p[3 + n] == '(')
			return 1;
	return 0;
}


extern const char gos_prelude_text[];
extern const unsigned long gos_prelude_text_len;

/* 1 if op is defined by `op NAME(` at a line start of text[0..len). */
static int defines_op(const char *t, size_t len, const char *op)
{
	size_t n = strlen(op);
	for (const char *p = t; p && p + 3 + n < t + len; p = memchr(p + 1, '\n', (size_t)(t + len - p - 1))) {
		const char *q = *p == '\n' ? p + 1 : p;
		if (!strncmp(q, "op ", 3) && !strncmp(q + 3, op, n) && q[3 + n] == '(')
			return 1;
	}
	return 0;
}

/* Variable v of statement s in a written operator: dst variables d0..,
 * reduction variables r0... */
static void put_var(FILE *out, const gos_node *n, const gos_stmt *s, int64_t v)
{
	int rank = n->bufs[s->dst].rank;
	if (v < rank)
		fprintf(out, "d%lld", (long long)v);
	else
		fprintf(out, "r%lld", (long long)(v - rank));
}

static int put_ix_expr(FILE *out, const gos_node *n, const gos_stmt *s, int root, int depth)
{
	if (root < 0 || root >= s->n_ix || depth > 64)
		return -1;
	const gos_ix *x = &s->ix[root];
	static const char *const bin[] = {[GOS_IX_ADD] = " + ", [GOS_IX_SUB] = " - ", [GOS_IX_MUL] = " * "};
	switch (x->op) {
	case GOS_IX_CONST:
		fprintf(out, x->k < 0 ? "(%lld)" : "%lld", (long long)x->k);
		return 0;
	case GOS_IX_VAR:
		put_var(out, n, s, x->k);
		return 0;
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		fputc('(', out);
		if (put_ix_expr(out, n, s, x->a, depth + 1))
			return -1;
		fprintf(out, " %s %lld)", x->op == GOS_IX_DIV ? "/" : "%", (long long)x->k);
		return 0;
	case GOS_IX_MIN:
	case GOS_IX_MAX:
		fputs(x->op == GOS_IX_MIN ? "min(" : "max(", out);
		if (put_ix_expr(out, n, s, x->a, depth + 1))
			return -1;
		fputs(", ", out);
		if (put_ix_expr(out, n, s, x->b, depth + 1))
			return -1;
		fputc(')', out);
		return 0;
	default:
		fputc('(', out);
		if (put_ix_expr(out, n, s, x->a, depth + 1))
			return -1;
		fputs(bin[x->op], out);
		if (put_ix_expr(out, n, s, x->b, depth + 1))
			return -1;
		fputc(')', out);
		return 0;
	}
}

/* Instruction i of s as an expression (loads, constants and arithmetic). */
static int put_ins_expr(FILE *out, const gos_node *n, const gos_stmt *s, int i, int depth)
{
	if (i < 0 || i >= s->n_ins || depth > 64)
		return -1;
	const gos_ins *in = &s->ins[i];
	switch (in->op) {
	case GOS_OP_CONST:
		put_num(out, in->f);
		return 0;
	case GOS_OP_LOAD:
		if (in->has_pad)
			return -1;
		fprintf(out, "%s[", n->bufs[in->buf].name);
		for (int k = 0; k < in->nidx; k++) {
			if (k)
				fputs(", ", out);
			if (put_ix_expr(out, n, s, in->idx[k], 0))
				return -1;
		}
		fputc(']', out);
		return 0;
	case GOS_OP_ADD:
	case GOS_OP_SUB:
	case GOS_OP_MUL:
	case GOS_OP_DIV:
		fputc('(', out);
		if (put_ins_expr(out, n, s, in->arg[0], depth + 1))
			return -1;
		fputs(in->op == GOS_OP_ADD ? " + " : in->op == GOS_OP_SUB ? " - " : in->op == GOS_OP_MUL ? " * " : " / ", out);
		if (put_ins_expr(out, n, s, in->arg[1], depth + 1))
			return -1;
		fputc(')', out);
		return 0;
	case GOS_OP_MAX:
	case GOS_OP_MIN:
		fputs(in->op == GOS_OP_MAX ? "max(" : "min(", out);
		if (put_ins_expr(out, n, s, in->arg[0], depth + 1))
			return -1;
		fputs(", ", out);
		if (put_ins_expr(out, n, s, in->arg[1], depth + 1))
			return -1;
		fputc(')', out);
		return 0;
	default:
		return -1;
	}
}

/* Writes node n (whose operator neither the prelude nor the importer's
 * file defines: one built by a rewrite) as an operator of its own named
 * name: its buffers with their shapes, its statements. Returns 0, or -1
 * when the body holds what this cannot write (temporaries, padded loads,
 * other instructions). */
static int put_node_op(FILE *out, const gos_node *n, const char *name)
{
	if (n->n_buf != n->n_in + n->n_out)
		return -1;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return -1;
	int bad = 0;
	fprintf(f, "// %s: written from the IR of node %s\nop %s(", n->op, n->name, name);
	for (int k = 0; k < n->n_buf; k++) {
		const gos_buf *b = &n->bufs[k];
		if (k == n->n_in)
			fputs(") -> ", f);
		else if (k)
			fputs(", ", f);
		fprintf(f, "%s", b->name);
		put_shape(f, b->rank, b->shape);
	}
	fputs("\n{\n", f);
	for (int i = 0; i < n->n_stmt && !bad; i++) {
		const gos_stmt *s = &n->stmts[i];
		const gos_buf *db = &n->bufs[s->dst];
		fprintf(f, "  %s[", db->name);
		for (int k = 0; k < db->rank; k++) {
			fputs(k ? ", " : "", f);
			put_var(f, n, s, k);
		}
		fputs("] = ", f);
		if (s->red == GOS_RED_SUM || s->red == GOS_RED_MAX || s->red == GOS_RED_MIN) {
			fputs(s->red == GOS_RED_SUM ? "sum(" : s->red == GOS_RED_MAX ? "max(" : "min(", f);
			for (int j = 0; j < s->n_red; j++) {
				fputs(j ? ", " : "", f);
				put_var(f, n, s, db->rank + j);
				fprintf(f, ": %lld", (long long)s->red_extent[j]);
			}
			fputs(") ", f);
		}
		bad = put_ins_expr(f, n, s, s->result, 0) != 0;
		fputs(";\n", f);
	}
	fputs("}\n\n", f);
	fclose(f);
	if (!bad)
		fwrite(text, 1, len, out);
	free(text);
	return bad ? -1 : 0;
}

int gos_onnx_write_gos(FILE *out, const gos_module *m, const char *weights_file,
                       const char **keys, gos_diags *d)
{
	gos_loc loc = {m->name, 0, 0};
	namer nm = {gos_arena_new(), NULL, 0, 0};
	const char **id = nm.a ? GOS_NEWN(nm.a, const char *, m->n_val + 1) : NULL;
	int rc = -1;
	if (!id) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	/* operator names stay free so bindings never shadow them */
	for (int i = 0; i < m->n_node; i++)
		if (!name_used(&nm, m->nodes[i].op) && reserve(&nm, m->nodes[i].op))
			goto done;
	const char *model = ident(&nm, m->name && m->name[0] ? m->name : "model");
	for (int v = 0; v < m->n_val; v++) {
		if (!(id[v] = ident(&nm, m->vals[v].name)))
			goto done;
		if (keys)
			keys[v] = m->vals[v].kind == GOS_VAL_WEIGHT ? gos_arena_strdup(m->arena, id[v]) : NULL;
	}
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		for (int k = 0; k < n->n_attr; k++)
			for (int j = 0; j < n->attr[k].n; j++)
				if (isnan(n->attr[k].v[j])) {
					gos_error(d, loc, "node '%s': attribute '%s' is NaN, which .gos cannot write",
					          n->name, n->attr[k].name);
					goto done;
				}
	}
	int extra = 0;
	for (int i = 0; i < m->n_node && !extra; i++)
		extra = is_onnx_op(m->nodes[i].op);

	fprintf(out, "// %s.gos -- written by gos-import: one line per operator application;\n"
	             "// the weights are in the weights file named below.\n\n", model);
	if (extra) {
		fputs("// ---- operators of the ONNX importer (frontend/onnx/onnx_ops.gos) ----\n\n", out);
		fwrite(gos_onnx_ops_text, 1, gos_onnx_ops_text_len, out);
		fputs("\n// ---- the model ----\n\n", out);
	}
	/* operators built by rewrites (a channel gather) get their own
	 * definitions, one per node */
	const char **opname = GOS_NEWN(nm.a, const char *, m->n_node + 1);
	if (!opname) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		opname[i] = n->op;
		if (is_onnx_op(n->op) || defines_op(gos_prelude_text, (size_t)gos_prelude_text_len, n->op))
			continue;
		char base[160];
		snprintf(base, sizeof base, "%s_%s", n->op, n->name);
		opname[i] = ident(&nm, base);
		if (!opname[i] || put_node_op(out, n, opname[i])) {
			gos_error(d, loc, "node '%s': operator '%s' cannot be written as .gos", n->name, n->op);
			goto done;
		}
	}
	fprintf(out, "model %s {\n", model);
	for (int v = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (val->kind != GOS_VAL_INPUT)
			continue;
		fprintf(out, "  input %s: f32", id[v]);
		put_shape(out, val->rank, val->shape);
		fputs(";\n", out);
	}
	int n_w = 0;
	for (int v = 0; v < m->n_val; v++)
		n_w += m->vals[v].kind == GOS_VAL_WEIGHT;
	if (n_w) {
		fputs("  weights \"", out);
		for (const char *p = weights_file; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', out);
			fputc(*p, out);
		}
		fputs("\";\n\n", out);
		for (int v = 0; v < m->n_val; v++) {
			const gos_value *val = &m->vals[v];
			if (val->kind != GOS_VAL_WEIGHT)
				continue;
			fprintf(out, "  param %s", id[v]);
			put_shape(out, val->rank, val->shape);
			fputs(";\n", out);
		}
	}
	fputc('\n', out);
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		fputs("  ", out);
		for (int k = 0; k < n->n_out; k++)
			fprintf(out, "%s%s", k ? ", " : "", id[n->out[k]]);
		fprintf(out, " = %s(", opname[i]);
		for (int k = 0; k < n->n_in; k++)
			fprintf(out, "%s%s", k ? ", " : "", n->in[k] >= 0 ? id[n->in[k]] : "_");
		for (int k = 0; k < n->n_attr; k++) {
			const gos_attr *a = &n->attr[k];
			fprintf(out, "%s%s = ", k ? ", " : "; ", a->name);
			if (a->n != 1)
				fputc('[', out);
			for (int j = 0; j < a->n; j++) {
				if (j)
					fputs(", ", out);
				put_num(out, a->v[j]);
			}
			if (a->n != 1)
				fputc(']', out);
		}
		fputs(");\n", out);
	}
	fputc('\n', out);
	for (int k = 0; k < m->n_output; k++)
		fprintf(out, "  output %s;\n", id[m->outputs[k]]);
	fputs("}\n", out);
	rc = 0;
done:
	free(nm.used);
	gos_arena_free(nm.a);
	return rc;
}
