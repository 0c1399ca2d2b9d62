/* ir.c -- building, copying and materialising modules; the RNG. */
#include "ir/ir.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/tensorio.h"

const gos_opinfo gos_opinfo_tab[GOS_NOPS] = {
#define X(e, s, n, c) [GOS_OP_##e] = {s, n, c},
	GOS_OPS(X)
#undef X
};

gos_module *gos_module_new(const char *name)
{
	gos_arena *a = gos_arena_new();
	if (!a)
		return NULL;
	gos_module *m = GOS_NEW(a, gos_module);
	if (!m) {
		gos_arena_free(a);
		return NULL;
	}
	m->arena = a;
	m->name = gos_arena_strdup(a, name ? name : "model");
	return m;
}

void gos_module_free(gos_module *m)
{
	if (!m)
		return;
	free(m->vals);
	free(m->nodes);
	free(m->outputs);
	gos_arena_free(m->arena);
}

/* Grows *v (elements of size sz) to hold one more; returns 0 or -1. */
static int grow(void **v, int *cap, int n, size_t sz)
{
	if (n < *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 16;
	void *p = gos_realloc(*v, sz * (size_t)nc);
	if (!p)
		return -1;
	memset((char *)p + sz * (size_t)*cap, 0, sz * (size_t)(nc - *cap));
	*v = p;
	*cap = nc;
	return 0;
}

int gos_module_add_value(gos_module *m, const char *name, gos_valkind kind,
                         gos_dtype dtype, int rank, const int64_t *shape)
{
	if (grow((void **)&m->vals, &m->cap_val, m->n_val, sizeof(gos_value))) {
		gos_arena_oom(m->arena);
		return -1;
	}
	gos_value *v = &m->vals[m->n_val];
	memset(v, 0, sizeof *v);
	v->name = gos_arena_strdup(m->arena, name);
	v->kind = kind;
	v->dtype = dtype;
	v->rank = rank;
	for (int i = 0; i < rank; i++)
		v->shape[i] = shape[i];
	return m->n_val++;
}

int gos_module_add_node(gos_module *m, const char *name, const char *op)
{
	if (grow((void **)&m->nodes, &m->cap_node, m->n_node, sizeof(gos_node))) {
		gos_arena_oom(m->arena);
		return -1;
	}
	gos_node *n = &m->nodes[m->n_node];
	memset(n, 0, sizeof *n);
	n->name = gos_arena_strdup(m->arena, name);
	n->op = gos_arena_strdup(m->arena, op);
	return m->n_node++;
}

int gos_module_add_output(gos_module *m, int value)
{
	if (grow((void **)&m->outputs, &m->cap_output, m->n_output, sizeof(int))) {
		gos_arena_oom(m->arena);
		return -1;
	}
	m->outputs[m->n_output++] = value;
	return 0;
}

int gos_module_find_value(const gos_module *m, const char *name)
{
	for (int i = 0; i < m->n_val; i++)
		if (strcmp(m->vals[i].name, name) == 0)
			return i;
	return -1;
}

int64_t gos_numel(int rank, const int64_t *shape)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= shape[i];
	return n;
}

const char *gos_dtype_name(gos_dtype t)
{
	return t == GOS_I64 ? "i64" : "f32";
}

/* ---- deep copy ------------------------------------------------------ */

#define DUP(a, p, n) gos_arena_memdup((a), (p), sizeof *(p) * (size_t)(n))

static void clone_stmt(gos_arena *a, gos_stmt *s, int nvars)
{
	s->red_extent = DUP(a, s->red_extent, s->n_red);
	const char **names = GOS_NEWN(a, const char *, nvars);
	for (int i = 0; i < nvars; i++)
		names[i] = gos_arena_strdup(a, s->var_names ? s->var_names[i] : NULL);
	s->var_names = names;
	s->ix = DUP(a, s->ix, s->n_ix);
	s->ins = DUP(a, s->ins, s->n_ins);
	for (int i = 0; i < s->n_ins; i++)
		if (s->ins[i].nidx)
			s->ins[i].idx = DUP(a, s->ins[i].idx, s->ins[i].nidx);
}

gos_module *gos_module_clone(const gos_module *m)
{
	gos_module *c = gos_module_new(m->name);
	if (!c)
		return NULL;
	gos_arena *a = c->arena;
	c->weights_file = gos_arena_strdup(a, m->weights_file);
	c->base_dir = gos_arena_strdup(a, m->base_dir);
	c->n_val = c->cap_val = m->n_val;
	c->n_node = c->cap_node = m->n_node;
	c->n_output = c->cap_output = m->n_output;
	c->vals = gos_malloc(sizeof(gos_value) * (size_t)(m->n_val + 1));
	c->nodes = gos_malloc(sizeof(gos_node) * (size_t)(m->n_node + 1));
	c->outputs = gos_malloc(sizeof(int) * (size_t)(m->n_output + 1));
	if (!c->vals || !c->nodes || !c->outputs) {
		gos_module_free(c);
		return NULL;
	}
	if (m->n_output)
		memcpy(c->outputs, m->outputs, sizeof(int) * (size_t)m->n_output);
	for (int i = 0; i < m->n_val; i++) {
		gos_value *v = &c->vals[i];
		*v = m->vals[i];
		v->name = gos_arena_strdup(a, v->name);
		v->key = gos_arena_strdup(a, v->key);
		if (v->data)
			v->data = DUP(a, v->data, gos_numel(v->rank, v->shape));
	}
	for (int i = 0; i < m->n_node; i++) {
		gos_node *n = &c->nodes[i];
		*n = m->nodes[i];
		n->name = gos_arena_strdup(a, n->name);
		n->op = gos_arena_strdup(a, n->op);
		n->in = DUP(a, n->in, n->n_in);
		n->out = DUP(a, n->out, n->n_out);
		n->attr = DUP(a, n->attr, n->n_attr);
		for (int j = 0; j < n->n_attr; j++) {
			n->attr[j].name = gos_arena_strdup(a, n->attr[j].name);
			n->attr[j].v = DUP(a, n->attr[j].v, n->attr[j].n);
		}
		n->bufs = DUP(a, n->bufs, n->n_buf);
		for (int j = 0; j < n->n_buf; j++)
			n->bufs[j].name = gos_arena_strdup(a, n->bufs[j].name);
		n->stmts = DUP(a, n->stmts, n->n_stmt);
		for (int j = 0; j < n->n_stmt; j++)
			clone_stmt(a, &n->stmts[j],
			           n->bufs[n->stmts[j].dst].rank + n->stmts[j].n_red);
	}
	return c;
}

/* ---- RNG: splitmix64, documented in docs/ir.md ---------------------- */

void gos_rng_seed(gos_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t gos_rng_next(gos_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double gos_rng_uniform(gos_rng *r)
{
	return (double)(gos_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double gos_rng_normal(gos_rng *r)
{
	/* Box-Muller, one value per call */
	double u = gos_rng_uniform(r), v = gos_rng_uniform(r);
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- weights --------------------------------------------------------- */

int gos_module_materialize(gos_module *m, gos_diags *d)
{
	int rc = 0;
	char *path = NULL;
	for (int i = 0; i < m->n_val; i++) {
		gos_value *v = &m->vals[i];
		if (v->kind != GOS_VAL_WEIGHT || v->data)
			continue;
		int64_t n = gos_numel(v->rank, v->shape);
		float *p = GOS_NEWN(m->arena, float, n);
		if (!p) {
			gos_error(d, v->loc, "out of memory for weight '%s'", v->name);
			rc = -1;
			break;
		}
		gos_rng r;
		gos_rng_seed(&r, v->seed);
		switch (v->init) {
		case GOS_INIT_UNIFORM:
			for (int64_t j = 0; j < n; j++)
				p[j] = (float)(v->lo + (v->hi - v->lo) * gos_rng_uniform(&r));
			break;
		case GOS_INIT_NORMAL:
			for (int64_t j = 0; j < n; j++)
				p[j] = (float)(v->lo + v->hi * gos_rng_normal(&r));
			break;
		case GOS_INIT_FILL:
			for (int64_t j = 0; j < n; j++)
				p[j] = (float)v->lo;
			break;
		case GOS_INIT_FILE:
			if (!m->weights_file) {
				gos_error(d, v->loc, "weight '%s' comes from a file but the module names no weights file",
				          v->name);
				rc = -1;
				continue;
			}
			if (!path) {
				if (m->weights_file[0] == '/' || !m->base_dir || !m->base_dir[0])
					path = gos_arena_strdup(m->arena, m->weights_file);
				else
					path = gos_arena_printf(m->arena, "%s/%s", m->base_dir,
					                        m->weights_file);
			}
			if (gos_safetensors_read(path, v->key ? v->key : v->name, v->rank,
			                         v->shape, p, d)) {
				rc = -1;
				continue;
			}
			break;
		case GOS_INIT_DATA:
		case GOS_INIT_NONE:
			gos_error(d, v->loc, "weight '%s' has no values", v->name);
			rc = -1;
			continue;
		}
		v->data = p;
	}
	return rc;
}

int64_t gos_ix_eval(const gos_stmt *s, int root, const int64_t *v)
{
	const gos_ix *x = &s->ix[root];
	int64_t a, b;
	switch (x->op) {
	case GOS_IX_CONST:
		return x->k;
	case GOS_IX_VAR:
		return v[x->k];
	case GOS_IX_DIV:
		a = gos_ix_eval(s, x->a, v);
		return a >= 0 ? a / x->k : -((-a + x->k - 1) / x->k);
	case GOS_IX_MOD:
		a = gos_ix_eval(s, x->a, v) % x->k;
		return a < 0 ? a + x->k : a;
	default:
		a = gos_ix_eval(s, x->a, v);
		b = gos_ix_eval(s, x->b, v);
		switch (x->op) {
		case GOS_IX_ADD: return a + b;
		case GOS_IX_SUB: return a - b;
		case GOS_IX_MUL: return a * b;
		case GOS_IX_MIN: return a < b ? a : b;
		default: return a > b ? a : b;
		}
	}
}

int gos_module_own_locs(gos_module *m)
{
	const char *last = NULL, *copy = NULL;
	for (int k = 0; k < m->n_node + m->n_val; k++) {
		gos_loc *l = k < m->n_node ? &m->nodes[k].loc : &m->vals[k - m->n_node].loc;
		if (!l->file)
			continue;
		if (!last || strcmp(l->file, last)) {
			copy = gos_arena_strdup(m->arena, l->file);
			if (!copy)
				return -1;
			last = copy;
		}
		l->file = copy;
	}
	return 0;
}
