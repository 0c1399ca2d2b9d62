/* print.c -- the textual IR (docs/ir.md). Deterministic; gos_ir_parse
 * reads it back and printing the result gives the same bytes. */
#include "ir/ir.h"
#include "support/alloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Index expressions deeper than this, or expanding to more nodes (a pool
 * may share subtrees, or be broken and cyclic), are cut off with <...>.
 * The parser accepts depth <= 1000. */
#define MAX_PRINT_DEPTH 4000
#define MAX_PRINT_NODES 100000

/* Words with a meaning in some position of the grammar; names spelled like
 * them are quoted so that they never read as the keyword. */
static const char *const keywords[] = {
	"gir", "model", "weights", "input", "weight", "temp", "node", "output",
	"local", "sum", "max", "min", "none", "else", "inf", "nan", "seed",
	"uniform", "normal", "fill", "file", "data", "f32", "i64", NULL,
};

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(int c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '.';
}

/* True if s can be written without quotes as a name: [A-Za-z_][A-Za-z0-9_.]*
 * and no keyword. */
static int is_bare(const char *s)
{
	if (!s || !is_alpha((unsigned char)s[0]))
		return 0;
	for (const char *p = s; *p; p++)
		if (!is_name_char((unsigned char)*p))
			return 0;
	for (int i = 0; keywords[i]; i++)
		if (strcmp(s, keywords[i]) == 0)
			return 0;
	return 1;
}

/* Writes s as a string literal: "..." with \" \\ \n \t \xHH escapes. */
static void put_quoted(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(o, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", o);
		else if (*p == '\t')
			fputs("\\t", o);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(o, "\\x%02x", *p);
		else
			fputc(*p, o);
	}
	fputc('"', o);
}

static void put_name(FILE *o, const char *s)
{
	if (is_bare(s))
		fputs(s, o);
	else
		put_quoted(o, s);
}

/* A module value name after its % sigil: [A-Za-z0-9_.]+ bare, else quoted. */
static void put_value_name(FILE *o, const char *s)
{
	fputc('%', o);
	int bare = s && s[0];
	for (const char *p = s; bare && *p; p++)
		bare = is_name_char((unsigned char)*p);
	if (bare)
		fputs(s, o);
	else
		put_quoted(o, s);
}

/* Shortest %.Ng that strtof reads back as f (binary search over N; the
 * result always round-trips). inf, -inf and nan are spelled out. */
static void fmt_f32(char *buf, size_t n, float f)
{
	if (isnan(f)) {
		snprintf(buf, n, "nan");
		return;
	}
	if (isinf(f)) {
		snprintf(buf, n, "%s", f < 0 ? "-inf" : "inf");
		return;
	}
	int lo = 1, hi = 9;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		snprintf(buf, n, "%.*g", mid, (double)f);
		if (strtof(buf, NULL) == f)
			hi = mid;
		else
			lo = mid + 1;
	}
	snprintf(buf, n, "%.*g", lo, (double)f);
}

/* Same for doubles (strtod, up to 17 digits). */
static void fmt_f64(char *buf, size_t n, double f)
{
	if (isnan(f)) {
		snprintf(buf, n, "nan");
		return;
	}
	if (isinf(f)) {
		snprintf(buf, n, "%s", f < 0 ? "-inf" : "inf");
		return;
	}
	int lo = 1, hi = 17;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		snprintf(buf, n, "%.*g", mid, f);
		if (strtod(buf, NULL) == f)
			hi = mid;
		else
			lo = mid + 1;
	}
	snprintf(buf, n, "%.*g", lo, f);
}

static void put_f32(FILE *o, float f)
{
	char buf[48];
	fmt_f32(buf, sizeof buf, f);
	fputs(buf, o);
}

static void put_f64(FILE *o, double f)
{
	char buf[48];
	fmt_f64(buf, sizeof buf, f);
	fputs(buf, o);
}

static void put_shape(FILE *o, int rank, const int64_t *shape)
{
	fputc('[', o);
	for (int i = 0; i < rank && i < GOS_MAX_RANK; i++)
		fprintf(o, "%s%" PRId64, i ? "," : "", shape[i]);
	fputc(']', o);
}

/* ---- statement context: names of variables and buffers --------------- */

typedef struct pctx {
	FILE *o;
	const gos_module *m;
	const gos_node *n;
	const unsigned char *buf_dup; /* [n_buf] name shared with another buf */
	const gos_stmt *s;
	int nvars;
	const char **vname;           /* [nvars] name used for each variable */
	unsigned char *var_dup;       /* [nvars] name shared with another var */
	char (*synth)[16];            /* [nvars] made-up names "v<d>" */
	long budget;                  /* index nodes left to print in this expression */
} pctx;

/* Rank of buffer b of the node, or 0 if b is out of range. */
static int buf_rank(const gos_node *n, int b)
{
	return b >= 0 && b < n->n_buf ? n->bufs[b].rank : 0;
}

/* Fills c's variable tables for statement s (caller frees with
 * stmt_end). Variables without a name get "v<d>". */
static void stmt_begin(pctx *c, const gos_stmt *s)
{
	c->s = s;
	int nv = buf_rank(c->n, s->dst) + (s->n_red > 0 ? s->n_red : 0);
	if (nv > 4 * GOS_MAX_VARS) /* broken module: do not trust the count */
		nv = 0;
	c->nvars = nv;
	c->vname = gos_calloc((size_t)nv + 1, sizeof *c->vname);
	c->var_dup = gos_calloc((size_t)nv + 1, 1);
	c->synth = gos_calloc((size_t)nv + 1, sizeof *c->synth);
	if (!c->vname || !c->var_dup || !c->synth) {
		c->nvars = 0;
		return;
	}
	for (int d = 0; d < nv; d++) {
		const char *nm = s->var_names ? s->var_names[d] : NULL;
		if (!nm) {
			snprintf(c->synth[d], sizeof c->synth[d], "v%d", d);
			nm = c->synth[d];
		}
		c->vname[d] = nm;
	}
	for (int d = 0; d < nv; d++)
		for (int e = d + 1; e < nv; e++)
			if (strcmp(c->vname[d], c->vname[e]) == 0)
				c->var_dup[d] = c->var_dup[e] = 1;
}

static void stmt_end(pctx *c)
{
	free(c->vname);
	free(c->var_dup);
	free(c->synth);
	c->vname = NULL;
	c->var_dup = NULL;
	c->synth = NULL;
	c->nvars = 0;
}

/* A reference to variable d: its name, plus #d when the name is shared. */
static void put_var(pctx *c, int64_t d)
{
	if (d < 0 || d >= c->nvars) {
		fprintf(c->o, "<bad var %" PRId64 ">", d);
		return;
	}
	put_name(c->o, c->vname[d]);
	if (c->var_dup[d])
		fprintf(c->o, "#%d", (int)d);
}

/* A reference to buffer b: its name, plus #b when the name is shared. */
static void put_buf(pctx *c, int b)
{
	if (b < 0 || b >= c->n->n_buf) {
		fprintf(c->o, "<bad buf %d>", b);
		return;
	}
	put_name(c->o, c->n->bufs[b].name);
	if (c->buf_dup && c->buf_dup[b])
		fprintf(c->o, "#%d", b);
}

/* Binding strength of an index node: 1 additive, 2 multiplicative, 3 atom. */
static int ix_level(const gos_stmt *s, int i)
{
	if (i < 0 || i >= s->n_ix)
		return 3;
	switch (s->ix[i].op) {
	case GOS_IX_ADD:
	case GOS_IX_SUB:
		return 1;
	case GOS_IX_MUL:
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		return 2;
	default:
		return 3;
	}
}

static void put_ix(pctx *c, int i, int depth);

/* Prints operand i, in parentheses if it binds less than level. */
static void put_operand(pctx *c, int i, int level, int depth)
{
	int paren = ix_level(c->s, i) < level;
	if (paren)
		fputc('(', c->o);
	put_ix(c, i, depth + 1);
	if (paren)
		fputc(')', c->o);
}

/* Writes index node i as infix: a + b, a - b, a*b, a / k, a % k,
 * min(a, b), max(a, b); left-associative, minimal parentheses. */
static void put_ix(pctx *c, int i, int depth)
{
	const gos_stmt *s = c->s;
	FILE *o = c->o;
	if (i < 0 || i >= s->n_ix) {
		fprintf(o, "<bad ix %d>", i);
		return;
	}
	if (depth > MAX_PRINT_DEPTH || --c->budget < 0) {
		fputs("<...>", o);
		return;
	}
	const gos_ix *x = &s->ix[i];
	switch (x->op) {
	case GOS_IX_CONST:
		fprintf(o, "%" PRId64, x->k);
		break;
	case GOS_IX_VAR:
		put_var(c, x->k);
		break;
	case GOS_IX_ADD:
	case GOS_IX_SUB:
		put_operand(c, x->a, 1, depth);
		fputs(x->op == GOS_IX_ADD ? " + " : " - ", o);
		put_operand(c, x->b, 2, depth);
		break;
	case GOS_IX_MUL:
		put_operand(c, x->a, 3, depth);
		fputc('*', o);
		put_operand(c, x->b, 3, depth);
		break;
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		put_operand(c, x->a, 3, depth);
		fprintf(o, " %c %" PRId64, x->op == GOS_IX_DIV ? '/' : '%', x->k);
		break;
	case GOS_IX_MIN:
	case GOS_IX_MAX:
		fputs(x->op == GOS_IX_MIN ? "min(" : "max(", o);
		put_ix(c, x->a, depth + 1);
		fputs(", ", o);
		put_ix(c, x->b, depth + 1);
		fputc(')', o);
		break;
	default:
		fprintf(o, "<bad ix op %d>", (int)x->op);
	}
}

/* A list of index roots: e0, e1, ... */
static void put_ix_list(pctx *c, int n, const int *idx)
{
	for (int j = 0; j < n; j++) {
		if (j)
			fputs(", ", c->o);
		c->budget = MAX_PRINT_NODES;
		put_ix(c, idx ? idx[j] : -1, 0);
	}
}

static void put_ins(pctx *c, int i)
{
	FILE *o = c->o;
	const gos_ins *in = &c->s->ins[i];
	fprintf(o, "    %%%d = ", i);
	if ((int)in->op < 0 || in->op >= GOS_NOPS) {
		fprintf(o, "<bad op %d>\n", (int)in->op);
		return;
	}
	fputs(gos_opinfo_tab[in->op].name, o);
	switch (in->op) {
	case GOS_OP_CONST:
		fputc(' ', o);
		put_f32(o, in->f);
		break;
	case GOS_OP_LOAD:
		fputc(' ', o);
		put_buf(c, in->buf);
		fputc('[', o);
		put_ix_list(c, in->nidx, in->idx);
		fputc(']', o);
		if (in->has_pad) {
			fputs(" else ", o);
			put_f32(o, in->f);
		}
		break;
	case GOS_OP_INDEX:
		fputc(' ', o);
		put_ix_list(c, in->nidx, in->idx);
		break;
	default:
		for (int a = 0; a < gos_opinfo_tab[in->op].arity; a++)
			fprintf(o, "%s%%%d", a ? ", " : " ", in->arg[a]);
	}
	fputc('\n', o);
}

/* Variable declarations d in [from, to): name:extent, ... */
static void put_var_decls(pctx *c, int from, int to, const int64_t *ext)
{
	for (int d = from; d < to; d++) {
		if (d > from)
			fputs(", ", c->o);
		if (d < c->nvars)
			put_name(c->o, c->vname[d]);
		else
			fprintf(c->o, "<bad var %d>", d);
		fprintf(c->o, ":%" PRId64, ext ? ext[d - from] : 0);
	}
}

static void put_stmt(pctx *c, const gos_stmt *s)
{
	FILE *o = c->o;
	stmt_begin(c, s);
	int rank = buf_rank(c->n, s->dst);
	fputs("  ", o);
	put_buf(c, s->dst);
	fputc('[', o);
	put_var_decls(c, 0, rank, s->dst >= 0 && s->dst < c->n->n_buf
	                             ? c->n->bufs[s->dst].shape : NULL);
	fputs("] = ", o);
	static const char *const red[] = {"none", "sum", "max", "min"};
	if ((int)s->red < 0 || s->red > GOS_RED_MIN) {
		fprintf(o, "<bad reduction %d> ", (int)s->red);
	} else if (s->red != GOS_RED_NONE || s->n_red != 0) {
		fprintf(o, "%s(", red[s->red]);
		put_var_decls(c, rank, rank + (s->n_red > 0 ? s->n_red : 0),
		              s->red_extent);
		fputs(") ", o);
	}
	fputs("{\n", o);
	for (int i = 0; i < s->n_ins; i++)
		put_ins(c, i);
	fprintf(o, "  } -> %%%d\n", s->result);
	stmt_end(c);
}

typedef struct name_idx {
	const char *s;
	int i;
} name_idx;

/* qsort order: by name, then index. */
static int cmp_name_idx(const void *pa, const void *pb)
{
	const name_idx *a = pa, *b = pb;
	int r = strcmp(a->s ? a->s : "", b->s ? b->s : "");
	return r ? r : (a->i > b->i) - (a->i < b->i);
}

/* Returns dup[n_buf] (malloc'd): dup[b] = 1 if another buffer of n has
 * the same name. NULL if there are no buffers. */
static unsigned char *find_dup_bufs(const gos_node *n)
{
	if (n->n_buf <= 0)
		return NULL;
	name_idx *v = gos_malloc(sizeof *v * (size_t)n->n_buf);
	unsigned char *dup = gos_calloc((size_t)n->n_buf, 1);
	if (!v || !dup) {
		free(v);
		free(dup);
		return NULL;
	}
	for (int i = 0; i < n->n_buf; i++) {
		v[i].s = n->bufs[i].name;
		v[i].i = i;
	}
	qsort(v, (size_t)n->n_buf, sizeof *v, cmp_name_idx);
	for (int i = 1; i < n->n_buf; i++)
		if (strcmp(v[i].s ? v[i].s : "", v[i - 1].s ? v[i - 1].s : "") == 0)
			dup[v[i].i] = dup[v[i - 1].i] = 1;
	free(v);
	return dup;
}

/* ---- values ---------------------------------------------------------- */

static void put_init(FILE *o, const gos_value *v)
{
	switch (v->init) {
	case GOS_INIT_NONE:
		return;
	case GOS_INIT_UNIFORM:
	case GOS_INIT_NORMAL:
		fputs(v->init == GOS_INIT_UNIFORM ? " = uniform(" : " = normal(", o);
		put_f64(o, v->lo);
		fputs(", ", o);
		put_f64(o, v->hi);
		fprintf(o, ", seed=0x%" PRIx64 ")", v->seed);
		return;
	case GOS_INIT_FILL:
		fputs(" = fill(", o);
		put_f64(o, v->lo);
		fputc(')', o);
		return;
	case GOS_INIT_FILE:
		fputs(" = file(", o);
		if (v->key)
			put_quoted(o, v->key);
		fputc(')', o);
		return;
	case GOS_INIT_DATA: {
		if (!v->data) {
			fputs(" = data(<missing>)", o);
			return;
		}
		int64_t n = gos_numel(v->rank, v->shape);
		fputs(" = data(", o);
		for (int64_t i = 0; i < n; i++) {
			if (n > 16 && i % 8 == 0)
				fputs(i ? ",\n    " : "\n    ", o);
			else if (i)
				fputs(", ", o);
			put_f32(o, v->data[i]);
		}
		fputc(')', o);
		return;
	}
	}
	fprintf(o, " = <bad init %d>", (int)v->init);
}

/* : dtype[shape] (= init): the type and init of a value declaration. */
static void put_type_init(FILE *o, const gos_value *v)
{
	fprintf(o, " : %s", (int)v->dtype == GOS_I64 ? "i64"
	                    : (int)v->dtype == GOS_F32 ? "f32" : "<bad dtype>");
	put_shape(o, v->rank, v->shape);
	put_init(o, v);
}

static void put_value_ref(FILE *o, const gos_module *m, int v)
{
	if (v >= 0 && v < m->n_val)
		put_value_name(o, m->vals[v].name);
	else
		fprintf(o, "%%<bad value %d>", v);
}

/* True if buffer b of n must show its shape: it differs from value v's. */
static int buf_shape_differs(const gos_module *m, const gos_buf *b, int v)
{
	if (v < 0 || v >= m->n_val)
		return 1;
	const gos_value *val = &m->vals[v];
	if (val->rank != b->rank)
		return 1;
	for (int i = 0; i < b->rank && i < GOS_MAX_RANK; i++)
		if (val->shape[i] != b->shape[i])
			return 1;
	return 0;
}

/* NAME[shape]=%value for argument/result j (buffer b) of node n. */
static void put_binding(FILE *o, const gos_module *m, const gos_node *n,
                        int b, int v)
{
	if (b < n->n_buf) {
		put_name(o, n->bufs[b].name);
		if (buf_shape_differs(m, &n->bufs[b], v))
			put_shape(o, n->bufs[b].rank, n->bufs[b].shape);
	} else {
		fputs("<no buf>", o);
	}
	fputc('=', o);
	put_value_ref(o, m, v);
}

/* For value v: the first node listing it as an output and the position in
 * that node's out[] ({-1, -1} if none); that result declares v. */
typedef struct vdef {
	int node, pos;
} vdef;

static void print_node(FILE *o, const gos_module *m, int ni, const vdef *def)
{
	const gos_node *n = &m->nodes[ni];
	fputs("node ", o);
	put_name(o, n->name);
	fputs(" = ", o);
	put_name(o, n->op);
	fputc('(', o);
	for (int j = 0; j < n->n_in; j++) {
		if (j)
			fputs(", ", o);
		put_binding(o, m, n, j, n->in[j]);
	}
	fputc(')', o);
	if (n->n_attr > 0) {
		fputs(" {", o);
		for (int j = 0; j < n->n_attr; j++) {
			const gos_attr *a = &n->attr[j];
			if (j)
				fputs(", ", o);
			put_name(o, a->name);
			fputc('=', o);
			if (a->n == 1) {
				put_f64(o, a->v[0]);
				continue;
			}
			fputc('[', o);
			for (int k = 0; k < a->n; k++) {
				if (k)
					fputs(", ", o);
				put_f64(o, a->v[k]);
			}
			fputc(']', o);
		}
		fputc('}', o);
	}
	fputs(" -> (", o);
	for (int j = 0; j < n->n_out; j++) {
		int v = n->out[j];
		if (j)
			fputs(", ", o);
		put_binding(o, m, n, n->n_in + j, v);
		if (v >= 0 && v < m->n_val && def[v].node == ni && def[v].pos == j) {
			put_type_init(o, &m->vals[v]);
		}
	}
	fputs(") {\n", o);
	pctx c = {.o = o, .m = m, .n = n};
	unsigned char *dup = find_dup_bufs(n);
	c.buf_dup = dup;
	for (int b = n->n_in + n->n_out; b < n->n_buf; b++) {
		fputs("  local ", o);
		put_name(o, n->bufs[b].name);
		put_shape(o, n->bufs[b].rank, n->bufs[b].shape);
		if (n->bufs[b].value != -1)
			fprintf(o, " <linked to value %d>", n->bufs[b].value);
		fputc('\n', o);
	}
	for (int s = 0; s < n->n_stmt; s++)
		put_stmt(&c, &n->stmts[s]);
	fputs("}\n", o);
	free(dup);
}

void gos_ir_print_ix(FILE *out, const gos_node *n, const gos_stmt *s, int root)
{
	pctx c = {.o = out, .n = n};
	unsigned char *dup = find_dup_bufs(n);
	c.buf_dup = dup;
	stmt_begin(&c, s);
	c.budget = MAX_PRINT_NODES;
	put_ix(&c, root, 0);
	stmt_end(&c);
	free(dup);
}

void gos_ir_print(FILE *o, const gos_module *m)
{
	fputs("gir 1\nmodel ", o);
	put_name(o, m->name);
	fputc('\n', o);
	if (m->weights_file) {
		fputs("weights ", o);
		put_quoted(o, m->weights_file);
		fputc('\n', o);
	}
	vdef *def = gos_malloc(sizeof *def * (size_t)(m->n_val + 1));
	if (!def)
		return;
	for (int v = 0; v < m->n_val; v++)
		def[v] = (vdef){-1, -1};
	for (int i = 0; i < m->n_node; i++)
		for (int j = 0; j < m->nodes[i].n_out; j++) {
			int v = m->nodes[i].out[j];
			if (v >= 0 && v < m->n_val && def[v].node < 0 &&
			    m->vals[v].kind == GOS_VAL_TEMP)
				def[v] = (vdef){i, j};
		}
	int first = 1;
	static const char *const kinds[] = {"input", "weight", "temp"};
	for (int v = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (def[v].node >= 0)
			continue;
		if (first)
			fputc('\n', o);
		first = 0;
		if ((int)val->kind >= 0 && val->kind <= GOS_VAL_TEMP)
			fprintf(o, "%s ", kinds[val->kind]);
		else
			fprintf(o, "<bad kind %d> ", (int)val->kind);
		put_value_name(o, val->name);
		put_type_init(o, val);
		fputc('\n', o);
	}
	for (int i = 0; i < m->n_node; i++) {
		fputc('\n', o);
		print_node(o, m, i, def);
	}
	if (m->n_output > 0)
		fputc('\n', o);
	for (int i = 0; i < m->n_output; i++) {
		fputs("output ", o);
		put_value_ref(o, m, m->outputs[i]);
		fputc('\n', o);
	}
	free(def);
}
