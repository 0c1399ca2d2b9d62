/* test_ir_fixtures.h -- small modules built with the C API, shared by the
 * IR tests (test_ir.c, test_ir_verify.c). Everything is static inline so a
 * test that uses only part of it stays warning-free. */
#ifndef TEST_IR_FIXTURES_H
#define TEST_IR_FIXTURES_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

enum { FX_MAX_BUF = 16, FX_MAX_STMT = 8, FX_MAX_IX = 64, FX_MAX_INS = 64 };

/* Appends a value; shape has rank entries. */
static inline int fx_val(gos_module *m, const char *name, gos_valkind kind,
                         int rank, const int64_t *shape)
{
	return gos_module_add_value(m, name, kind, GOS_F32, rank, shape);
}

/* Splits a space-separated list of names into arena strings; returns count. */
static inline int fx_names(gos_module *m, const char *list, const char **out)
{
	int n = 0;
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		if (e > p)
			out[n++] = gos_arena_strndup(m->arena, p, (size_t)(e - p));
		p = e;
	}
	return n;
}

/* Appends node name = op(in_names... = in[]) -> (out_names... = out[]); its
 * buffers take the values' shapes. Room for FX_MAX_BUF buffers and
 * FX_MAX_STMT statements. Returns the node index. */
static inline int fx_node(gos_module *m, const char *name, const char *op,
                          const char *in_names, const int *in,
                          const char *out_names, const int *out)
{
	int ni = gos_module_add_node(m, name, op);
	gos_node *n = &m->nodes[ni];
	const char *names[FX_MAX_BUF];
	n->bufs = GOS_NEWN(m->arena, gos_buf, FX_MAX_BUF);
	n->stmts = GOS_NEWN(m->arena, gos_stmt, FX_MAX_STMT);
	n->n_in = fx_names(m, in_names, names);
	n->in = GOS_NEWN(m->arena, int, n->n_in + 1);
	for (int i = 0; i < n->n_in; i++) {
		n->in[i] = in[i];
		n->bufs[n->n_buf++] = (gos_buf){names[i], m->vals[in[i]].rank, {0}, in[i]};
		memcpy(n->bufs[i].shape, m->vals[in[i]].shape, sizeof n->bufs[i].shape);
	}
	n->n_out = fx_names(m, out_names, names);
	n->out = GOS_NEWN(m->arena, int, n->n_out + 1);
	for (int i = 0; i < n->n_out; i++) {
		n->out[i] = out[i];
		gos_buf *b = &n->bufs[n->n_buf++];
		*b = (gos_buf){names[i], m->vals[out[i]].rank, {0}, out[i]};
		memcpy(b->shape, m->vals[out[i]].shape, sizeof b->shape);
	}
	return ni;
}

/* Adds a local buffer to node ni; returns its buffer index. */
static inline int fx_local(gos_module *m, int ni, const char *name, int rank,
                           const int64_t *shape)
{
	gos_node *n = &m->nodes[ni];
	gos_buf *b = &n->bufs[n->n_buf];
	*b = (gos_buf){gos_arena_strdup(m->arena, name), rank, {0}, -1};
	if (rank)
		memcpy(b->shape, shape, sizeof(int64_t) * (size_t)rank);
	return n->n_buf++;
}

/* Adds attribute name with n values to node ni. */
static inline void fx_attr(gos_module *m, int ni, const char *name, int n,
                           const double *v)
{
	gos_node *nd = &m->nodes[ni];
	gos_attr *a = GOS_NEWN(m->arena, gos_attr, nd->n_attr + 1);
	if (nd->n_attr)
		memcpy(a, nd->attr, sizeof *a * (size_t)nd->n_attr);
	a[nd->n_attr] = (gos_attr){gos_arena_strdup(m->arena, name), n,
	                           gos_arena_memdup(m->arena, v, sizeof *v * (size_t)n)};
	nd->attr = a;
	nd->n_attr++;
}

/* Appends a statement writing buffer dst of node ni. vars names all its
 * variables (index variables first); the rest are reduction variables
 * with extents red_ext. Room for FX_MAX_IX index nodes and FX_MAX_INS
 * instructions. */
static inline gos_stmt *fx_stmt(gos_module *m, int ni, int dst, gos_red red,
                                const char *vars, const int64_t *red_ext)
{
	gos_node *n = &m->nodes[ni];
	gos_stmt *s = &n->stmts[n->n_stmt++];
	const char *names[GOS_MAX_VARS];
	int nv = fx_names(m, vars, names);
	s->dst = dst;
	s->red = red;
	s->n_red = nv - n->bufs[dst].rank;
	if (s->n_red)
		s->red_extent = gos_arena_memdup(m->arena, red_ext,
		                                 sizeof(int64_t) * (size_t)s->n_red);
	s->var_names = gos_arena_memdup(m->arena, names, sizeof(char *) * (size_t)nv);
	s->ix = GOS_NEWN(m->arena, gos_ix, FX_MAX_IX);
	s->ins = GOS_NEWN(m->arena, gos_ins, FX_MAX_INS);
	return s;
}

static inline int fx_ix(gos_stmt *s, gos_ixop op, int a, int b, int64_t k)
{
	s->ix[s->n_ix] = (gos_ix){op, a, b, k};
	return s->n_ix++;
}

static inline int fx_c(gos_stmt *s, int64_t k)
{
	return fx_ix(s, GOS_IX_CONST, 0, 0, k);
}

static inline int fx_v(gos_stmt *s, int d)
{
	return fx_ix(s, GOS_IX_VAR, 0, 0, d);
}

static inline int fx_bin(gos_stmt *s, gos_ixop op, int a, int b)
{
	return fx_ix(s, op, a, b, 0);
}

/* Appends an instruction; returns its index and makes it the result. */
static inline int fx_ins(gos_stmt *s, gos_opcode op, int a, int b, int c)
{
	s->ins[s->n_ins] = (gos_ins){.op = op, .arg = {a, b, c}};
	s->result = s->n_ins;
	return s->n_ins++;
}

static inline int fx_const(gos_stmt *s, float f)
{
	int i = fx_ins(s, GOS_OP_CONST, 0, 0, 0);
	s->ins[i].f = f;
	return i;
}

static inline int fx_load(gos_module *m, gos_stmt *s, int buf, int nidx,
                          const int *idx, int has_pad, float pad)
{
	int i = fx_ins(s, GOS_OP_LOAD, 0, 0, 0);
	gos_ins *in = &s->ins[i];
	in->buf = buf;
	in->nidx = nidx;
	in->idx = nidx ? gos_arena_memdup(m->arena, idx, sizeof(int) * (size_t)nidx) : NULL;
	in->has_pad = has_pad;
	in->f = pad;
	return i;
}

static inline int fx_index(gos_module *m, gos_stmt *s, int root)
{
	int i = fx_ins(s, GOS_OP_INDEX, 0, 0, 0);
	s->ins[i].nidx = 1;
	s->ins[i].idx = gos_arena_memdup(m->arena, &root, sizeof root);
	return i;
}

/* Loads buffer buf at the statement's first rank variables: buf[v0, v1, ...]. */
static inline int fx_load_vars(gos_module *m, gos_stmt *s, int buf, int rank)
{
	int idx[GOS_MAX_RANK];
	for (int d = 0; d < rank; d++)
		idx[d] = fx_v(s, d);
	return fx_load(m, s, buf, rank, idx, 0, 0);
}

#define SHAPE(...) ((const int64_t[]){__VA_ARGS__})

/* ---- the fixtures ---------------------------------------------------- */

/* conv2d 3x3, pad 1, with bias added by a second statement that reads the
 * element it writes. */
static inline gos_module *fx_conv(void)
{
	gos_module *m = gos_module_new("conv");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 4, SHAPE(1, 2, 5, 5));
	int w = fx_val(m, "c1.Wt", GOS_VAL_WEIGHT, 4, SHAPE(3, 2, 3, 3));
	m->vals[w].init = GOS_INIT_UNIFORM;
	m->vals[w].lo = -0.5;
	m->vals[w].hi = 0.25;
	m->vals[w].seed = 42;
	int b = fx_val(m, "c1.B", GOS_VAL_WEIGHT, 1, SHAPE(3));
	m->vals[b].init = GOS_INIT_FILL;
	m->vals[b].lo = 0.125;
	int y = fx_val(m, "c1", GOS_VAL_TEMP, 4, SHAPE(1, 3, 5, 5));
	int ni = fx_node(m, "c1", "conv2d", "X Wt B", (int[]){x, w, b}, "Y", (int[]){y});
	fx_attr(m, ni, "pad", 1, (double[]){1});
	fx_attr(m, ni, "stride", 2, (double[]){1, 1});
	gos_stmt *s = fx_stmt(m, ni, 3, GOS_RED_SUM, "n k p q c r s",
	                      SHAPE(2, 3, 3));
	int xi[4] = {fx_v(s, 0), fx_v(s, 4),
	             fx_bin(s, GOS_IX_SUB, fx_bin(s, GOS_IX_ADD, fx_v(s, 2), fx_v(s, 5)), fx_c(s, 1)),
	             fx_bin(s, GOS_IX_SUB, fx_bin(s, GOS_IX_ADD, fx_v(s, 3), fx_v(s, 6)), fx_c(s, 1))};
	int l0 = fx_load(m, s, 0, 4, xi, 1, 0.0f);
	int wi[4] = {fx_v(s, 1), fx_v(s, 4), fx_v(s, 5), fx_v(s, 6)};
	int l1 = fx_load(m, s, 1, 4, wi, 0, 0);
	fx_ins(s, GOS_OP_MUL, l0, l1, 0);
	s = fx_stmt(m, ni, 3, GOS_RED_NONE, "n k p q", NULL);
	int a = fx_load_vars(m, s, 3, 4);
	int k = fx_v(s, 1);
	int bb = fx_load(m, s, 2, 1, &k, 0, 0);
	fx_ins(s, GOS_OP_ADD, a, bb, 0);
	gos_module_add_output(m, y);
	return m;
}

/* softmax over the last axis with two local buffers. */
static inline gos_module *fx_softmax(void)
{
	gos_module *m = gos_module_new("softmax");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 2, SHAPE(2, 5));
	int y = fx_val(m, "sm", GOS_VAL_TEMP, 2, SHAPE(2, 5));
	int ni = fx_node(m, "sm", "softmax", "X", (int[]){x}, "Y", (int[]){y});
	fx_attr(m, ni, "axis", 1, (double[]){-1});
	int M = fx_local(m, ni, "M", 1, SHAPE(2));
	int S = fx_local(m, ni, "S", 1, SHAPE(2));
	gos_stmt *s = fx_stmt(m, ni, M, GOS_RED_MAX, "n c", SHAPE(5));
	fx_load_vars(m, s, 0, 2);
	s = fx_stmt(m, ni, S, GOS_RED_SUM, "n c", SHAPE(5));
	int a = fx_load_vars(m, s, 0, 2);
	int b = fx_load_vars(m, s, M, 1);
	fx_ins(s, GOS_OP_EXP, fx_ins(s, GOS_OP_SUB, a, b, 0), 0, 0);
	s = fx_stmt(m, ni, 1, GOS_RED_NONE, "n c", NULL);
	a = fx_load_vars(m, s, 0, 2);
	b = fx_load_vars(m, s, M, 1);
	int e = fx_ins(s, GOS_OP_EXP, fx_ins(s, GOS_OP_SUB, a, b, 0), 0, 0);
	int d = fx_load_vars(m, s, S, 1);
	fx_ins(s, GOS_OP_DIV, e, d, 0);
	gos_module_add_output(m, y);
	return m;
}

/* 3x3 max-pool, stride 2, pad 1: padded loads read -inf. */
static inline gos_module *fx_maxpool(void)
{
	gos_module *m = gos_module_new("pool");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 4, SHAPE(1, 1, 4, 4));
	int y = fx_val(m, "mp", GOS_VAL_TEMP, 4, SHAPE(1, 1, 2, 2));
	int ni = fx_node(m, "mp", "maxpool2d", "X", (int[]){x}, "Y", (int[]){y});
	fx_attr(m, ni, "kernel", 1, (double[]){3});
	fx_attr(m, ni, "stride", 1, (double[]){2});
	fx_attr(m, ni, "pad", 1, (double[]){1});
	gos_stmt *s = fx_stmt(m, ni, 1, GOS_RED_MAX, "n c p q r s", SHAPE(3, 3));
	int idx[4] = {fx_v(s, 0), fx_v(s, 1),
	              fx_bin(s, GOS_IX_SUB,
	                     fx_bin(s, GOS_IX_ADD, fx_bin(s, GOS_IX_MUL, fx_c(s, 2), fx_v(s, 2)),
	                            fx_v(s, 4)), fx_c(s, 1)),
	              fx_bin(s, GOS_IX_SUB,
	                     fx_bin(s, GOS_IX_ADD, fx_bin(s, GOS_IX_MUL, fx_c(s, 2), fx_v(s, 3)),
	                            fx_v(s, 5)), fx_c(s, 1))};
	fx_load(m, s, 0, 4, idx, 1, -INFINITY);
	gos_module_add_output(m, y);
	return m;
}

/* concat along axis 1 written as select(i < 3, A[n, min(i, 2)],
 * B[n, max(i - 3, 0)]) with an index instruction. */
static inline gos_module *fx_select(void)
{
	gos_module *m = gos_module_new("cat");
	int a = fx_val(m, "a", GOS_VAL_INPUT, 2, SHAPE(2, 3));
	int b = fx_val(m, "b", GOS_VAL_INPUT, 2, SHAPE(2, 2));
	int y = fx_val(m, "cat", GOS_VAL_TEMP, 2, SHAPE(2, 5));
	int ni = fx_node(m, "cat", "concat", "A B", (int[]){a, b}, "Y", (int[]){y});
	fx_attr(m, ni, "axis", 1, (double[]){1});
	gos_stmt *s = fx_stmt(m, ni, 2, GOS_RED_NONE, "n i", NULL);
	int iv = fx_index(m, s, fx_v(s, 1));
	int three = fx_const(s, 3);
	int c = fx_ins(s, GOS_OP_LT, iv, three, 0);
	int ia[2] = {fx_v(s, 0), fx_bin(s, GOS_IX_MIN, fx_v(s, 1), fx_c(s, 2))};
	int la = fx_load(m, s, 0, 2, ia, 0, 0);
	int ib[2] = {fx_v(s, 0), fx_bin(s, GOS_IX_MAX,
	                                fx_bin(s, GOS_IX_SUB, fx_v(s, 1), fx_c(s, 3)),
	                                fx_c(s, 0))};
	int lb = fx_load(m, s, 1, 2, ib, 0, 0);
	fx_ins(s, GOS_OP_SELECT, c, la, lb);
	gos_module_add_output(m, y);
	return m;
}

/* Two relu nodes in a chain (for ordering and definition tests). */
static inline gos_module *fx_chain(void)
{
	gos_module *m = gos_module_new("chain");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 2, SHAPE(2, 3));
	int h = fx_val(m, "h", GOS_VAL_TEMP, 2, SHAPE(2, 3));
	int y = fx_val(m, "y", GOS_VAL_TEMP, 2, SHAPE(2, 3));
	int vin[2] = {x, h}, vout[2] = {h, y};
	const char *names[2] = {"r1", "r2"};
	for (int i = 0; i < 2; i++) {
		int ni = fx_node(m, names[i], "relu", "X", &vin[i], "Y", &vout[i]);
		gos_stmt *s = fx_stmt(m, ni, 1, GOS_RED_NONE, "i j", NULL);
		int l = fx_load_vars(m, s, 0, 2);
		fx_ins(s, GOS_OP_MAX, l, fx_const(s, 0), 0);
	}
	gos_module_add_output(m, y);
	return m;
}

#endif
