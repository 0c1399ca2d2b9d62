/* onnx_gos.c -- a module as a readable .gos model (used by gos-import):
 * every node is one operator application, every weight a `param` loaded
 * from a weights file, names made into unique identifiers. */
#include "frontend/onnx/onnx.h"

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
		const char **v = realloc(nm->used, sizeof *v * (size_t)cap);
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
		fprintf(out, " = %s(", n->op);
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
