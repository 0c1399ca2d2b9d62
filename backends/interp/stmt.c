/* stmt.c -- compiling and running one statement for the reference
 * interpreter.
 *
 * A statement  dst[v0..v(r-1)] = RED over v(r).. of ins[result]  is first
 * compiled:
 * - every index expression is analysed once: the interval it ranges over
 *   (as the verifier does), the variables it depends on, and a linear form
 *   c0 + sum c_v * var_v + sum c_a * atom_a, where atoms are the subtrees
 *   that are not affine (div, mod, min, max, a product of two variables);
 *   atoms become small programs of integer operations;
 * - a load whose every index provably stays in range over the whole loop
 *   nest gets a single flat linear form (sum of stride * index) and no
 *   checks; the others are checked when they run;
 * - one variable is chosen as the *lane variable* V (a cost model picks
 *   among the output variables and the last reduction variable). Every
 *   instruction is given a level: OUTER (depends on output variables
 *   other than V only), RED (also on reduction variables other than V) or
 *   LANE (depends on V). OUTER and RED instructions are computed once per
 *   point of the variables they depend on, as scalars; LANE instructions
 *   for a block of up to BLK consecutive values of V at a time, one tight
 *   loop per instruction. A load that is contiguous in V and in range
 *   reads the buffer in place (no copy). Dead instructions (not reachable
 *   from the result) are not evaluated.
 *
 * Loop nest, when V is an output variable (or there is no variable):
 *   for the other output variables (row-major)
 *     for each block of V: acc[lanes] = 0 / -inf / +inf
 *       for the reduction variables (row-major, last fastest)
 *         acc[l] = acc[l] (+ | max | min) value[l]
 *       dst[..., V = v0 + l, ...] = acc[l]
 * and when V is the last reduction variable:
 *   for the output variables: acc = 0 / -inf / +inf
 *     for the other reduction variables, then V in increasing order:
 *       acc = acc (+ | max | min) value
 * So in both cases every element is reduced in float32, starting from
 * 0 / -inf / +inf, over the reduction points in row-major order (the last
 * reduction variable fastest), one operation at a time: the same order as
 * the naive nested loop, independent of the choice of V. max and min
 * follow fmaxf/fminf (a NaN operand is ignored).
 */
#include "backends/interp/interp.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The lane loops below must be vectorised: -O2 of GCC 12 does not do it
 * for loops with an unknown trip count. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

enum { BLK = 128, MAX_DEPTH = 4000 };
enum { LV_OUTER, LV_RED, LV_LANE };

static int lane_override = -1; /* gos_interp_set_lane */

void gos_interp_set_lane(int v)
{
	lane_override = v;
}

/* ---- compile-time structures --------------------------------------- */

/* A linear form being built: c0 + sum vc[v] var_v + sum ac[i] atom_at[i]. */
typedef struct blin {
	int64_t c0;
	int64_t vc[GOS_MAX_VARS];
	int n_at;
	int *at;
	int64_t *ac;
} blin;

/* One operation of an atom's program; a, b name earlier operations. */
typedef struct iop {
	gos_ixop op;
	int a, b;
	int64_t k;
} iop;

typedef struct atom {
	int root;      /* ix node */
	uint32_t mask; /* variables it depends on */
	int level;
	int used;      /* a runtime linear form refers to it */
	int op0, nop;  /* its program: iops[op0 .. op0+nop), value in the last */
} atom;

/* A term of a runtime linear form: a variable (var >= 0) or an atom. */
typedef struct term {
	int64_t coef;
	int var, atom;
} term;

/* A runtime linear form. Terms [t0,t1) are OUTER, [t1,t2) RED, [t2,t3)
 * LANE atoms; the lane variable's coefficient is vc. po/pr hold the value
 * of c0 + OUTER terms, and of that + RED terms, for the current point
 * (wrapping arithmetic: the final value fits, partial sums may not). */
typedef struct rlin {
	int64_t c0, vc;
	int t0, t1, t2, t3;
	uint64_t po, pr;
} rlin;

typedef struct rload {
	const float *data;
	int rank;      /* checked dimensions (1 in flat mode) */
	int lin0;      /* lins[lin0 .. lin0+rank) */
	int64_t n[GOS_MAX_RANK], stride[GOS_MAX_RANK];
	int checked;   /* not proven in range */
	int has_pad;
	float pad;
	int lane_atoms; /* some dimension has LANE atom terms */
	int64_t fv;     /* flat step per lane: sum stride * vc */
	int ins;
} rload;

typedef struct cins {
	gos_opcode op;
	int arg[3];
	int level;
	int aux;       /* LOAD: rload index; INDEX: rlin index */
	float f;
} cins;

/* The compiled statement with its runtime state. */
typedef struct st {
	gos_arena *a;
	const gos_node *n;
	const gos_stmt *s;
	int si;
	gos_diags *d;
	float *const *bufdata;
	int r, nv, n_red;
	int64_t ext[GOS_MAX_VARS];
	uint32_t redmask; /* all reduction variables */

	/* index analysis, per ix node */
	unsigned char *state;
	uint32_t *mask;
	int64_t *lo, *hi;
	blin **lin;
	int *atom_of;
	int *stamp, *map;

	int n_atom, cap_atom;
	atom *atoms;
	int n_iop, cap_iop;
	iop *iops;
	int64_t *islot; /* [n_iop][BLK] */

	/* instructions */
	int n_ins;
	cins *ins;
	uint32_t *imask;
	char *live;
	int fused;      /* result is a LANE mul folded into a sum */

	/* chosen lane variable */
	int V, caseB;
	int n_ov, ov[GOS_MAX_VARS]; /* outer loop variables */
	int n_rv, rv[GOS_MAX_VARS]; /* reduction loop variables */

	int n_lin, cap_lin;
	rlin *lins;
	int n_term, cap_term;
	term *terms;
	int n_load;
	rload *loads;
	int *lv_ins[3], n_lv_ins[3];
	int *lv_atom[3], n_lv_atom[3];
	int *red_lins, n_red_lins; /* lins with RED terms */

	float *sval;        /* [n_ins] scalar values */
	const float **vp;   /* [n_ins] lane values */
	float *vbuf;        /* [n_ins][BLK] */
	float *tmp;         /* [3][BLK] broadcasts */
	float *acc;         /* [BLK] */
	float *dst;
	int64_t dstride[GOS_MAX_RANK];
	int64_t var[GOS_MAX_VARS];
	int err;
} st;

/* ---- diagnostics ------------------------------------------------------ */

static void serr(st *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds "node 'N' (op) stmt I (writes 'B'): <message>" at the node. */
static void serr(st *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const gos_stmt *s = c->s;
	const char *dname = s->dst >= 0 && s->dst < c->n->n_buf && c->n->bufs[s->dst].name
	                    ? c->n->bufs[s->dst].name : "?";
	gos_error(c->d, c->n->loc, "node '%s' (%s) stmt %d (writes '%s'): %s",
	          c->n->name ? c->n->name : "?", c->n->op ? c->n->op : "?", c->si,
	          dname, msg);
	c->err = 1;
}

static const char *var_name(const st *c, int v, char *buf, size_t n)
{
	if (c->s->var_names && c->s->var_names[v])
		return c->s->var_names[v];
	snprintf(buf, n, "v%d", v);
	return buf;
}

/* Appends "[a,b,c]" to p (size left n); returns chars written (clamped). */
static size_t fmt_list(char *p, size_t n, int k, const int64_t *v)
{
	size_t used = 0;
	for (int i = 0; i <= k; i++) {
		int w;
		if (i == k)
			w = snprintf(p + used, n - used, "]");
		else
			w = snprintf(p + used, n - used, "%s%" PRId64, i ? "," : "[", v[i]);
		if (w < 0 || (size_t)w >= n - used)
			return n ? n - 1 : 0;
		used += (size_t)w;
	}
	if (k == 0 && used == 1) { /* "[]" */
		int w = snprintf(p, n, "[]");
		used = w > 0 && (size_t)w < n ? (size_t)w : 0;
	}
	return used;
}

/* Reports an out-of-range load of instruction i at full index idx, with
 * the variables (lane value of V already in c->var). */
static void oob(st *c, int i, const int64_t *idx)
{
	const gos_ins *in = &c->s->ins[i];
	const gos_buf *b = &c->n->bufs[in->buf];
	char ix[256], sh[256], vars[512], nb[16];
	fmt_list(ix, sizeof ix, b->rank, idx);
	fmt_list(sh, sizeof sh, b->rank, b->shape);
	size_t u = 0;
	vars[0] = 0;
	for (int v = 0; v < c->nv && u < sizeof vars - 1; v++) {
		int w = snprintf(vars + u, sizeof vars - u, "%s%s=%" PRId64, v ? ", " : "",
		                 var_name(c, v, nb, sizeof nb), c->var[v]);
		if (w < 0)
			break;
		u += (size_t)w;
	}
	serr(c, "instruction %%%d loads '%s' out of range: index %s is outside shape %s (at %s)",
	     i, b->name ? b->name : "?", ix, sh, vars[0] ? vars : "the only point");
}

/* ---- growable arrays in the arena ------------------------------------ */

/* Makes room for one more element in *v (n used, *cap allocated). */
static int grow(st *c, void **v, int n, int *cap, size_t sz)
{
	if (n < *cap)
		return 0;
	int nc = *cap ? *cap * 2 : 16;
	void *p = gos_arena_alloc(c->a, sz * (size_t)nc);
	if (!p) {
		serr(c, "out of memory");
		return -1;
	}
	if (n)
		memcpy(p, *v, sz * (size_t)n);
	*v = p;
	*cap = nc;
	return 0;
}

/* ---- index analysis ---------------------------------------------------- */

static int64_t floordiv(int64_t a, int64_t k)
{
	int64_t q = a / k;
	if (a % k < 0)
		q--;
	return q;
}

static int64_t floormod(int64_t a, int64_t k)
{
	int64_t r = a % k;
	return r < 0 ? r + k : r;
}

static blin *lin_new(st *c)
{
	blin *l = GOS_NEW(c->a, blin);
	if (!l)
		serr(c, "out of memory");
	return l;
}

static int lin_is_const(const blin *l)
{
	if (l->n_at)
		return 0;
	for (int v = 0; v < GOS_MAX_VARS; v++)
		if (l->vc[v])
			return 0;
	return 1;
}

/* a + sign * b, or NULL when a coefficient overflows (or no memory). */
static blin *lin_add(st *c, const blin *a, const blin *b, int64_t sign)
{
	blin *l = lin_new(c);
	if (!l)
		return NULL;
	int64_t t;
	if (__builtin_mul_overflow(b->c0, sign, &t) || __builtin_add_overflow(a->c0, t, &l->c0))
		return NULL;
	for (int v = 0; v < GOS_MAX_VARS; v++)
		if (__builtin_mul_overflow(b->vc[v], sign, &t) ||
		    __builtin_add_overflow(a->vc[v], t, &l->vc[v]))
			return NULL;
	int n = a->n_at + b->n_at;
	if (n) {
		l->at = GOS_NEWN(c->a, int, n);
		l->ac = GOS_NEWN(c->a, int64_t, n);
		if (!l->at || !l->ac) {
			serr(c, "out of memory");
			return NULL;
		}
	}
	for (int i = 0; i < a->n_at; i++) {
		l->at[l->n_at] = a->at[i];
		l->ac[l->n_at++] = a->ac[i];
	}
	for (int i = 0; i < b->n_at; i++) {
		if (__builtin_mul_overflow(b->ac[i], sign, &t))
			return NULL;
		int j = 0;
		while (j < l->n_at && l->at[j] != b->at[i])
			j++;
		if (j == l->n_at) {
			l->at[j] = b->at[i];
			l->ac[j] = 0;
			l->n_at++;
		}
		if (__builtin_add_overflow(l->ac[j], t, &l->ac[j]))
			return NULL;
	}
	int k = 0; /* drop atoms that cancelled */
	for (int i = 0; i < l->n_at; i++)
		if (l->ac[i]) {
			l->at[k] = l->at[i];
			l->ac[k++] = l->ac[i];
		}
	l->n_at = k;
	return l;
}

static blin *lin_scale(st *c, const blin *a, int64_t k)
{
	blin zero = {0};
	return lin_add(c, &zero, a, k);
}

static blin *lin_const(st *c, int64_t k)
{
	blin *l = lin_new(c);
	if (l)
		l->c0 = k;
	return l;
}

/* The linear form "1 * atom(x)" (creating the atom). */
static blin *lin_atom(st *c, int x)
{
	if (c->atom_of[x] < 0) {
		if (grow(c, (void **)&c->atoms, c->n_atom, &c->cap_atom, sizeof(atom)))
			return NULL;
		c->atoms[c->n_atom] = (atom){.root = x, .mask = c->mask[x]};
		c->atom_of[x] = c->n_atom++;
	}
	blin *l = lin_new(c);
	if (!l)
		return NULL;
	l->at = GOS_NEW(c->a, int);
	l->ac = GOS_NEW(c->a, int64_t);
	if (!l->at || !l->ac) {
		serr(c, "out of memory");
		return NULL;
	}
	l->n_at = 1;
	l->at[0] = c->atom_of[x];
	l->ac[0] = 1;
	return l;
}

/* Analyses ix node x: interval, variable mask and linear form, memoised.
 * Returns 0 or -1 (error reported). */
static int analyse(st *c, int x, int depth)
{
	const gos_stmt *s = c->s;
	if (x < 0 || x >= s->n_ix) {
		serr(c, "index node %d is not in the pool (size %d)", x, s->n_ix);
		return -1;
	}
	if (c->state[x] == 2)
		return 0;
	if (c->state[x] == 1) {
		serr(c, "index expression %d is cyclic", x);
		return -1;
	}
	if (depth > MAX_DEPTH) {
		serr(c, "index expression nested deeper than %d", MAX_DEPTH);
		return -1;
	}
	c->state[x] = 1;
	const gos_ix *e = &s->ix[x];
	int a = e->a, b = e->b;
	int64_t lo = 0, hi = 0;
	uint32_t mask = 0;
	blin *l = NULL;
	int bad = 0; /* interval overflow */
	switch (e->op) {
	case GOS_IX_CONST:
		lo = hi = e->k;
		l = lin_const(c, e->k);
		break;
	case GOS_IX_VAR:
		if (e->k < 0 || e->k >= c->nv) {
			serr(c, "index node %d names variable %" PRId64 " but the statement has %d", x,
			     e->k, c->nv);
			return -1;
		}
		lo = 0;
		hi = c->ext[e->k] - 1;
		mask = 1u << e->k;
		l = lin_new(c);
		if (l)
			l->vc[e->k] = 1;
		break;
	case GOS_IX_ADD:
	case GOS_IX_SUB:
	case GOS_IX_MUL:
	case GOS_IX_MIN:
	case GOS_IX_MAX:
		if (analyse(c, a, depth + 1) || analyse(c, b, depth + 1))
			return -1;
		mask = c->mask[a] | c->mask[b];
		if (e->op == GOS_IX_ADD) {
			bad = __builtin_add_overflow(c->lo[a], c->lo[b], &lo) ||
			      __builtin_add_overflow(c->hi[a], c->hi[b], &hi);
			l = lin_add(c, c->lin[a], c->lin[b], 1);
		} else if (e->op == GOS_IX_SUB) {
			bad = __builtin_sub_overflow(c->lo[a], c->hi[b], &lo) ||
			      __builtin_sub_overflow(c->hi[a], c->lo[b], &hi);
			l = lin_add(c, c->lin[a], c->lin[b], -1);
		} else if (e->op == GOS_IX_MUL) {
			int64_t p[4];
			bad = __builtin_mul_overflow(c->lo[a], c->lo[b], &p[0]) ||
			      __builtin_mul_overflow(c->lo[a], c->hi[b], &p[1]) ||
			      __builtin_mul_overflow(c->hi[a], c->lo[b], &p[2]) ||
			      __builtin_mul_overflow(c->hi[a], c->hi[b], &p[3]);
			if (!bad) {
				lo = hi = p[0];
				for (int i = 1; i < 4; i++) {
					lo = p[i] < lo ? p[i] : lo;
					hi = p[i] > hi ? p[i] : hi;
				}
			}
			if (!bad && lin_is_const(c->lin[a]))
				l = lin_scale(c, c->lin[b], c->lin[a]->c0);
			else if (!bad && lin_is_const(c->lin[b]))
				l = lin_scale(c, c->lin[a], c->lin[b]->c0);
		} else if (e->op == GOS_IX_MIN) {
			lo = c->lo[a] < c->lo[b] ? c->lo[a] : c->lo[b];
			hi = c->hi[a] < c->hi[b] ? c->hi[a] : c->hi[b];
		} else {
			lo = c->lo[a] > c->lo[b] ? c->lo[a] : c->lo[b];
			hi = c->hi[a] > c->hi[b] ? c->hi[a] : c->hi[b];
		}
		break;
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		if (e->k <= 0) {
			serr(c, "index node %d divides by %" PRId64 " (must be > 0)", x, e->k);
			return -1;
		}
		if (analyse(c, a, depth + 1))
			return -1;
		mask = c->mask[a];
		if (e->op == GOS_IX_DIV) {
			lo = floordiv(c->lo[a], e->k);
			hi = floordiv(c->hi[a], e->k);
		} else if (floordiv(c->lo[a], e->k) == floordiv(c->hi[a], e->k)) {
			lo = floormod(c->lo[a], e->k);
			hi = floormod(c->hi[a], e->k);
		} else {
			lo = 0;
			hi = e->k - 1;
		}
		break;
	default:
		serr(c, "index node %d has unknown operator %d", x, (int)e->op);
		return -1;
	}
	if (c->err)
		return -1;
	if (bad) {
		serr(c, "index expression %d may overflow 64-bit integers", x);
		return -1;
	}
	c->lo[x] = lo;
	c->hi[x] = hi;
	c->mask[x] = mask;
	if (!l && lo == hi)
		l = lin_const(c, lo);
	if (!l && !c->err)
		l = lin_atom(c, x); /* not affine (or coefficients overflow) */
	if (c->err)
		return -1;
	c->lin[x] = l;
	c->state[x] = 2;
	return 0;
}

/* Appends the program of ix subtree x to atom number at; returns the
 * operation index or -1. */
static int emit_iop(st *c, int x, int at, int depth)
{
	if (c->stamp[x] == at + 1)
		return c->map[x];
	if (depth > MAX_DEPTH) {
		serr(c, "index expression nested deeper than %d", MAX_DEPTH);
		return -1;
	}
	const gos_ix *e = &c->s->ix[x];
	iop o = {e->op, -1, -1, e->k};
	switch (e->op) {
	case GOS_IX_ADD:
	case GOS_IX_SUB:
	case GOS_IX_MUL:
	case GOS_IX_MIN:
	case GOS_IX_MAX:
		o.b = emit_iop(c, e->b, at, depth + 1);
		if (o.b < 0)
			return -1;
		/* fall through */
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		o.a = emit_iop(c, e->a, at, depth + 1);
		if (o.a < 0)
			return -1;
		break;
	default:
		break;
	}
	if (grow(c, (void **)&c->iops, c->n_iop, &c->cap_iop, sizeof(iop)))
		return -1;
	c->iops[c->n_iop] = o;
	c->stamp[x] = at + 1;
	c->map[x] = c->n_iop;
	return c->n_iop++;
}

/* ---- levels and the choice of the lane variable ----------------------- */

static int level_of(const st *c, uint32_t mask, int V)
{
	if (V >= 0 && (mask >> V & 1))
		return LV_LANE;
	uint32_t red = c->redmask & ~(V >= 0 ? 1u << V : 0u);
	return mask & red ? LV_RED : LV_OUTER;
}

static int is_transcendental(gos_opcode op)
{
	switch (op) {
	case GOS_OP_POW:
	case GOS_OP_EXP:
	case GOS_OP_LOG:
	case GOS_OP_TANH:
	case GOS_OP_ERF:
	case GOS_OP_FMA:
		return 1;
	default:
		return 0;
	}
}

/* Per-dimension data of a load before the lane variable is chosen. */
typedef struct pload {
	int ins, buf, rank;
	int flat;          /* proven in range and flattened into fl */
	int checked;
	blin *dim[GOS_MAX_RANK];
	blin *fl;
	int64_t n[GOS_MAX_RANK], stride[GOS_MAX_RANK];
} pload;

/* Number of atom program operations of linear form l that depend on V. */
static int lane_atom_ops(const st *c, const blin *l, int V)
{
	int k = 0;
	for (int i = 0; i < l->n_at; i++)
		if (V >= 0 && (c->atoms[l->at[i]].mask >> V & 1))
			k += c->atoms[l->at[i]].nop;
	return k;
}

/* Estimated cost of running the statement with lane variable V (caseB:
 * V is the last reduction variable). Units are roughly cycles. */
static double cost_of(st *c, const pload *pl, int npl, int V, int caseB)
{
	double pts = 1;
	for (int v = 0; v < c->nv; v++)
		pts *= (double)c->ext[v];
	int64_t e = V >= 0 ? c->ext[V] : 1;
	int64_t nb = (e + BLK - 1) / BLK;
	double L = (double)e / (double)nb;
	double lane = 0, over = 10, red_scalar = 0;
	for (int i = 0; i < c->n_ins; i++) {
		if (!c->live[i])
			continue;
		const gos_ins *in = &c->s->ins[i];
		int lv = level_of(c, c->imask[i], V);
		if (lv == LV_OUTER)
			continue;
		if (lv == LV_RED) {
			red_scalar += is_transcendental(in->op) ? 15 : 3;
			continue;
		}
		if (in->op == GOS_OP_LOAD) {
			const pload *p = NULL;
			for (int j = 0; j < npl; j++)
				if (pl[j].ins == i)
					p = &pl[j];
			int nd = p->flat ? 1 : p->rank;
			int64_t fv = 0;
			int aops = 0;
			for (int dd = 0; dd < nd; dd++) {
				const blin *l = p->flat ? p->fl : p->dim[dd];
				fv += (p->flat ? 1 : p->stride[dd]) * l->vc[V];
				aops += lane_atom_ops(c, l, V);
			}
			over += 6 + 2 * nd;
			if (aops)
				lane += 3 + 2 * nd + 2 * aops;
			else if (!p->checked && fv == 1)
				lane += 0.05;
			else if (fv == 1 || fv == -1)
				lane += 0.7;
			else
				lane += 1.5;
		} else if (in->op == GOS_OP_INDEX) {
			lane += 1;
		} else {
			lane += is_transcendental(in->op) ? 10 : (in->op == GOS_OP_DIV ? 1 : 0.5);
		}
	}
	if (c->n_red) {
		if (caseB)
			lane += c->s->red == GOS_RED_SUM ? 4 : 5;
		else
			lane += c->s->red == GOS_RED_SUM ? 0.5 : 2;
	}
	if (!caseB) /* the store */
		lane += V >= 0 && c->dstride[V] == 1 ? 0.3 : 1;
	double cost = pts * lane + pts / L * over;
	if (caseB)
		cost += pts / (double)e * red_scalar + pts / (double)e * 3;
	else
		cost += pts / L * red_scalar;
	return cost;
}

/* ---- building the runtime form ------------------------------------------ */

/* Adds a runtime linear form for l under the chosen V; returns its index. */
static int add_rlin(st *c, const blin *l)
{
	if (grow(c, (void **)&c->lins, c->n_lin, &c->cap_lin, sizeof(rlin)))
		return -1;
	rlin *r = &c->lins[c->n_lin];
	*r = (rlin){.c0 = l->c0, .vc = c->V >= 0 ? l->vc[c->V] : 0};
	r->t0 = c->n_term;
	for (int lv = LV_OUTER; lv <= LV_LANE; lv++) {
		for (int v = 0; v < c->nv; v++) {
			if (!l->vc[v] || v == c->V || level_of(c, 1u << v, c->V) != lv)
				continue;
			if (grow(c, (void **)&c->terms, c->n_term, &c->cap_term, sizeof(term)))
				return -1;
			c->terms[c->n_term++] = (term){l->vc[v], v, -1};
		}
		for (int i = 0; i < l->n_at; i++) {
			if (c->atoms[l->at[i]].level != lv)
				continue;
			if (grow(c, (void **)&c->terms, c->n_term, &c->cap_term, sizeof(term)))
				return -1;
			c->terms[c->n_term++] = (term){l->ac[i], -1, l->at[i]};
			c->atoms[l->at[i]].used = 1;
		}
		if (lv == LV_OUTER)
			r->t1 = c->n_term;
		else if (lv == LV_RED)
			r->t2 = c->n_term;
		else
			r->t3 = c->n_term;
	}
	return c->n_lin++;
}

/* Compiles the statement; returns 0 or -1. */
static int compile(st *c)
{
	const gos_node *n = c->n;
	const gos_stmt *s = c->s;
	if (s->dst < 0 || s->dst >= n->n_buf) {
		serr(c, "destination buffer %d does not exist", s->dst);
		return -1;
	}
	if (s->dst < n->n_in) {
		serr(c, "writes input buffer '%s'", n->bufs[s->dst].name);
		return -1;
	}
	const gos_buf *db = &n->bufs[s->dst];
	c->r = db->rank;
	c->n_red = s->n_red;
	if (s->red < GOS_RED_NONE || s->red > GOS_RED_MIN || s->n_red < 0 ||
	    (s->red == GOS_RED_NONE && s->n_red) || (s->n_red && !s->red_extent)) {
		serr(c, "bad reduction (kind %d over %d variables)", (int)s->red, s->n_red);
		return -1;
	}
	c->nv = c->r + s->n_red;
	if (c->nv > GOS_MAX_VARS) {
		serr(c, "has %d variables (at most %d)", c->nv, GOS_MAX_VARS);
		return -1;
	}
	for (int v = 0; v < c->nv; v++) {
		c->ext[v] = v < c->r ? db->shape[v] : s->red_extent[v - c->r];
		if (c->ext[v] < 1) {
			serr(c, "variable %d has extent %" PRId64, v, c->ext[v]);
			return -1;
		}
		if (v >= c->r)
			c->redmask |= 1u << v;
	}
	int64_t st1 = 1;
	for (int dd = c->r - 1; dd >= 0; dd--) {
		c->dstride[dd] = st1;
		st1 *= db->shape[dd];
	}
	c->dst = c->bufdata[s->dst];
	if (s->n_ins < 1 || !s->ins || s->result < 0 || s->result >= s->n_ins) {
		serr(c, "has no instructions or its result %d is not one", s->result);
		return -1;
	}
	if (s->n_ix < 0 || (s->n_ix && !s->ix)) {
		serr(c, "bad index pool");
		return -1;
	}
	int nix = s->n_ix > 0 ? s->n_ix : 1;
	c->state = GOS_NEWN(c->a, unsigned char, nix);
	c->mask = GOS_NEWN(c->a, uint32_t, nix);
	c->lo = GOS_NEWN(c->a, int64_t, nix);
	c->hi = GOS_NEWN(c->a, int64_t, nix);
	c->lin = GOS_NEWN(c->a, blin *, nix);
	c->atom_of = GOS_NEWN(c->a, int, nix);
	c->stamp = GOS_NEWN(c->a, int, nix);
	c->map = GOS_NEWN(c->a, int, nix);
	c->n_ins = s->n_ins;
	c->ins = GOS_NEWN(c->a, cins, s->n_ins);
	c->imask = GOS_NEWN(c->a, uint32_t, s->n_ins);
	c->live = GOS_NEWN(c->a, char, s->n_ins);
	if (!c->state || !c->mask || !c->lo || !c->hi || !c->lin || !c->atom_of || !c->stamp ||
	    !c->map || !c->ins || !c->imask || !c->live) {
		serr(c, "out of memory");
		return -1;
	}
	for (int x = 0; x < s->n_ix; x++)
		c->atom_of[x] = -1;

	/* instructions: validate, analyse their index expressions */
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if ((int)in->op < 0 || in->op >= GOS_NOPS) {
			serr(c, "instruction %%%d has unknown opcode %d", i, (int)in->op);
			return -1;
		}
		cins *ci = &c->ins[i];
		ci->op = in->op;
		ci->f = in->f;
		int ar = gos_opinfo_tab[in->op].arity;
		for (int j = 0; j < ar; j++) {
			if (in->arg[j] < 0 || in->arg[j] >= i) {
				serr(c, "instruction %%%d uses %%%d, which is not an earlier instruction", i,
				     in->arg[j]);
				return -1;
			}
			ci->arg[j] = in->arg[j];
			c->imask[i] |= c->imask[in->arg[j]];
		}
		if (in->op == GOS_OP_LOAD) {
			if (in->buf < 0 || in->buf >= n->n_buf) {
				serr(c, "instruction %%%d loads buffer %d, which does not exist", i, in->buf);
				return -1;
			}
			if (in->nidx != n->bufs[in->buf].rank || (in->nidx && !in->idx)) {
				serr(c, "instruction %%%d loads '%s' (rank %d) with %d indices", i,
				     n->bufs[in->buf].name, n->bufs[in->buf].rank, in->nidx);
				return -1;
			}
		} else if (in->op == GOS_OP_INDEX) {
			if (in->nidx != 1 || !in->idx) {
				serr(c, "index instruction %%%d needs exactly one expression", i);
				return -1;
			}
		}
		if (in->op == GOS_OP_LOAD || in->op == GOS_OP_INDEX)
			for (int k = 0; k < in->nidx; k++) {
				if (analyse(c, in->idx[k], 0))
					return -1;
				c->imask[i] |= c->mask[in->idx[k]];
			}
	}

	/* liveness */
	c->live[s->result] = 1;
	for (int i = s->result; i >= 0; i--)
		if (c->live[i])
			for (int j = 0; j < gos_opinfo_tab[c->ins[i].op].arity; j++)
				c->live[c->ins[i].arg[j]] = 1;

	/* atom programs */
	for (int k = 0; k < c->n_atom; k++) {
		c->atoms[k].op0 = c->n_iop;
		if (emit_iop(c, c->atoms[k].root, k, 0) < 0)
			return -1;
		c->atoms[k].nop = c->n_iop - c->atoms[k].op0;
	}

	/* loads: safety and flat forms */
	int npl = 0;
	pload *pl = GOS_NEWN(c->a, pload, s->n_ins);
	if (!pl) {
		serr(c, "out of memory");
		return -1;
	}
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (!c->live[i] || in->op != GOS_OP_LOAD)
			continue;
		const gos_buf *b = &n->bufs[in->buf];
		pload *p = &pl[npl++];
		p->ins = i;
		p->buf = in->buf;
		p->rank = b->rank;
		int64_t sz = 1;
		int safe = 1;
		for (int dd = b->rank - 1; dd >= 0; dd--) {
			p->n[dd] = b->shape[dd];
			p->stride[dd] = sz;
			sz *= b->shape[dd];
			int root = in->idx[dd];
			p->dim[dd] = c->lin[root];
			if (c->lo[root] < 0 || c->hi[root] >= b->shape[dd])
				safe = 0;
		}
		p->checked = !safe;
		if (safe) {
			blin *f = lin_const(c, 0);
			for (int dd = 0; f && dd < b->rank; dd++) {
				blin *t = lin_scale(c, p->dim[dd], p->stride[dd]);
				f = t ? lin_add(c, f, t, 1) : NULL;
			}
			if (c->err)
				return -1;
			if (f) {
				p->flat = 1;
				p->fl = f;
			}
		}
	}

	/* the lane variable */
	double best = INFINITY;
	c->V = -1;
	for (int cand = 0; cand < c->nv; cand++) {
		if (cand >= c->r && cand != c->nv - 1)
			continue; /* only the last reduction variable keeps the order */
		double cost = cost_of(c, pl, npl, cand, cand >= c->r);
		if (c->V < 0 || cost < best) {
			best = cost;
			c->V = cand;
		}
	}
	int force = lane_override;
	if (force >= 0 && force < c->nv && (force < c->r || force == c->nv - 1))
		c->V = force;
	int V = c->V;
	c->caseB = V >= c->r;
	for (int v = 0; v < c->nv; v++) {
		if (v == V)
			continue;
		if (v < c->r)
			c->ov[c->n_ov++] = v;
		else
			c->rv[c->n_rv++] = v;
	}

	/* levels */
	for (int k = 0; k < c->n_atom; k++)
		c->atoms[k].level = level_of(c, c->atoms[k].mask, V);
	for (int i = 0; i < s->n_ins; i++)
		c->ins[i].level = level_of(c, c->imask[i], V);
	int res = s->result;
	c->fused = s->red == GOS_RED_SUM && c->ins[res].op == GOS_OP_MUL &&
	           c->ins[res].level == LV_LANE;

	/* runtime loads and index forms */
	c->loads = GOS_NEWN(c->a, rload, npl + 1);
	if (!c->loads) {
		serr(c, "out of memory");
		return -1;
	}
	for (int k = 0; k < npl; k++) {
		pload *p = &pl[k];
		const gos_ins *in = &s->ins[p->ins];
		rload *ld = &c->loads[c->n_load];
		ld->ins = p->ins;
		ld->data = c->bufdata[p->buf];
		ld->checked = p->checked;
		ld->has_pad = in->has_pad;
		ld->pad = in->f;
		ld->lin0 = c->n_lin;
		if (p->flat) {
			ld->rank = 1;
			ld->n[0] = gos_numel(p->rank, p->n);
			ld->stride[0] = 1;
			if (add_rlin(c, p->fl) < 0)
				return -1;
		} else {
			ld->rank = p->rank;
			for (int dd = 0; dd < p->rank; dd++) {
				ld->n[dd] = p->n[dd];
				ld->stride[dd] = p->stride[dd];
				if (add_rlin(c, p->dim[dd]) < 0)
					return -1;
			}
		}
		for (int dd = 0; dd < ld->rank; dd++) {
			rlin *l = &c->lins[ld->lin0 + dd];
			ld->fv += ld->stride[dd] * l->vc;
			if (l->t3 > l->t2)
				ld->lane_atoms = 1;
		}
		c->ins[p->ins].aux = c->n_load++;
	}
	for (int i = 0; i < s->n_ins; i++)
		if (c->live[i] && c->ins[i].op == GOS_OP_INDEX) {
			int k = add_rlin(c, c->lin[s->ins[i].idx[0]]);
			if (k < 0)
				return -1;
			c->ins[i].aux = k;
		}

	/* per-level lists */
	for (int lv = 0; lv < 3; lv++) {
		c->lv_ins[lv] = GOS_NEWN(c->a, int, s->n_ins);
		c->lv_atom[lv] = GOS_NEWN(c->a, int, c->n_atom + 1);
		if (!c->lv_ins[lv] || !c->lv_atom[lv]) {
			serr(c, "out of memory");
			return -1;
		}
	}
	for (int i = 0; i < s->n_ins; i++)
		if (c->live[i] && !(c->fused && i == res))
			c->lv_ins[c->ins[i].level][c->n_lv_ins[c->ins[i].level]++] = i;
	for (int k = 0; k < c->n_atom; k++) {
		int lv = c->atoms[k].level;
		if (c->atoms[k].used)
			c->lv_atom[lv][c->n_lv_atom[lv]++] = k;
	}
	c->red_lins = GOS_NEWN(c->a, int, c->n_lin + 1);
	if (!c->red_lins) {
		serr(c, "out of memory");
		return -1;
	}
	for (int k = 0; k < c->n_lin; k++)
		if (c->lins[k].t2 > c->lins[k].t1)
			c->red_lins[c->n_red_lins++] = k;

	/* runtime storage */
	c->sval = GOS_NEWN(c->a, float, s->n_ins);
	c->vp = GOS_NEWN(c->a, const float *, s->n_ins);
	c->vbuf = GOS_NEWN(c->a, float, (size_t)s->n_ins * BLK);
	c->tmp = GOS_NEWN(c->a, float, 3 * BLK);
	c->acc = GOS_NEWN(c->a, float, BLK);
	c->islot = GOS_NEWN(c->a, int64_t, (size_t)(c->n_iop + 1) * BLK);
	if (!c->sval || !c->vp || !c->vbuf || !c->tmp || !c->acc || !c->islot) {
		serr(c, "out of memory");
		return -1;
	}
	if (gos_interp_trace()) {
		fprintf(stderr, "interp: node '%s' stmt %d: lane var %d%s, %d loads, %d atoms,"
		        " levels", n->name, c->si, V, c->caseB ? " (reduction)" : "", c->n_load,
		        c->n_atom);
		for (int i = 0; i < s->n_ins; i++)
			if (c->live[i])
				fprintf(stderr, " %%%d:%s%c", i, gos_opinfo_tab[c->ins[i].op].name,
				        "ORL"[c->ins[i].level]);
		fprintf(stderr, "%s\n", c->fused ? " (fused mac)" : "");
	}
	return 0;
}

/* ---- execution: index parts ---------------------------------------------- */

/* Evaluates the atoms of level lv: L lanes (V = v0 + lane) for LANE. */
static void eval_atoms(st *c, int lv, int64_t v0, int L)
{
	int n = lv == LV_LANE ? L : 1;
	for (int k = 0; k < c->n_lv_atom[lv]; k++) {
		const atom *at = &c->atoms[c->lv_atom[lv][k]];
		for (int j = at->op0; j < at->op0 + at->nop; j++) {
			const iop *o = &c->iops[j];
			int64_t *r = c->islot + (size_t)j * BLK;
			const int64_t *x = o->a >= 0 ? c->islot + (size_t)o->a * BLK : NULL;
			const int64_t *y = o->b >= 0 ? c->islot + (size_t)o->b * BLK : NULL;
			int64_t kk = o->k;
			switch (o->op) {
			case GOS_IX_CONST:
				for (int l = 0; l < n; l++)
					r[l] = kk;
				break;
			case GOS_IX_VAR:
				if (kk == c->V && lv == LV_LANE)
					for (int l = 0; l < n; l++)
						r[l] = v0 + l;
				else
					for (int l = 0; l < n; l++)
						r[l] = c->var[kk];
				break;
			case GOS_IX_ADD:
				for (int l = 0; l < n; l++)
					r[l] = x[l] + y[l];
				break;
			case GOS_IX_SUB:
				for (int l = 0; l < n; l++)
					r[l] = x[l] - y[l];
				break;
			case GOS_IX_MUL:
				for (int l = 0; l < n; l++)
					r[l] = x[l] * y[l];
				break;
			case GOS_IX_DIV:
				for (int l = 0; l < n; l++)
					r[l] = floordiv(x[l], kk);
				break;
			case GOS_IX_MOD:
				for (int l = 0; l < n; l++)
					r[l] = floormod(x[l], kk);
				break;
			case GOS_IX_MIN:
				for (int l = 0; l < n; l++)
					r[l] = x[l] < y[l] ? x[l] : y[l];
				break;
			case GOS_IX_MAX:
				for (int l = 0; l < n; l++)
					r[l] = x[l] > y[l] ? x[l] : y[l];
				break;
			default:
				break;
			}
		}
	}
}

static int64_t atom_val(const st *c, int at, int lane)
{
	const atom *a = &c->atoms[at];
	return c->islot[(size_t)(a->op0 + a->nop - 1) * BLK + lane];
}

static uint64_t term_sum(const st *c, int t0, int t1)
{
	uint64_t s = 0;
	for (int t = t0; t < t1; t++) {
		const term *tm = &c->terms[t];
		int64_t v = tm->var >= 0 ? c->var[tm->var] : atom_val(c, tm->atom, 0);
		s += (uint64_t)tm->coef * (uint64_t)v;
	}
	return s;
}

/* Value of linear form l at lane `lane` of a block starting at v0. */
static int64_t lin_at(const st *c, const rlin *l, int64_t v0, int lane)
{
	uint64_t s = l->pr + (uint64_t)l->vc * (uint64_t)(v0 + lane);
	for (int t = l->t2; t < l->t3; t++)
		s += (uint64_t)c->terms[t].coef * (uint64_t)atom_val(c, c->terms[t].atom, lane);
	return (int64_t)s;
}

/* ---- execution: instructions ----------------------------------------------- */

static float sop(gos_opcode op, float x, float y, float z)
{
	switch (op) {
	case GOS_OP_ADD: return x + y;
	case GOS_OP_SUB: return x - y;
	case GOS_OP_MUL: return x * y;
	case GOS_OP_DIV: return x / y;
	case GOS_OP_MAX: return fmaxf(x, y);
	case GOS_OP_MIN: return fminf(x, y);
	case GOS_OP_POW: return powf(x, y);
	case GOS_OP_LT: return x < y ? 1.0f : 0.0f;
	case GOS_OP_LE: return x <= y ? 1.0f : 0.0f;
	case GOS_OP_EQ: return x == y ? 1.0f : 0.0f;
	case GOS_OP_NE: return x != y ? 1.0f : 0.0f;
	case GOS_OP_NEG: return -x;
	case GOS_OP_ABS: return fabsf(x);
	case GOS_OP_EXP: return expf(x);
	case GOS_OP_LOG: return logf(x);
	case GOS_OP_SQRT: return sqrtf(x);
	case GOS_OP_RSQRT: return 1.0f / sqrtf(x);
	case GOS_OP_TANH: return tanhf(x);
	case GOS_OP_ERF: return erff(x);
	case GOS_OP_FLOOR: return floorf(x);
	case GOS_OP_FMA: return fmaf(x, y, z);
	case GOS_OP_SELECT: return x != 0.0f ? y : z;
	default: return 0.0f;
	}
}

/* o[l] = E(x = a[l], y = b[l]) where a or b may be a broadcast scalar
 * (va/vb = 0). */
#define BIN(E) \
	do { \
		if (!va) { \
			const float x = *a; \
			for (int l = 0; l < L; l++) { \
				const float y = b[l]; \
				o[l] = (E); \
			} \
		} else if (!vb) { \
			const float y = *b; \
			for (int l = 0; l < L; l++) { \
				const float x = a[l]; \
				o[l] = (E); \
			} \
		} else { \
			for (int l = 0; l < L; l++) { \
				const float x = a[l], y = b[l]; \
				o[l] = (E); \
			} \
		} \
	} while (0)

static void vbin(gos_opcode op, float *restrict o, const float *restrict a, int va,
                 const float *restrict b, int vb, int L)
{
	switch (op) {
	case GOS_OP_ADD: BIN(x + y); break;
	case GOS_OP_SUB: BIN(x - y); break;
	case GOS_OP_MUL: BIN(x * y); break;
	case GOS_OP_DIV: BIN(x / y); break;
	case GOS_OP_MAX: BIN(fmaxf(x, y)); break;
	case GOS_OP_MIN: BIN(fminf(x, y)); break;
	case GOS_OP_POW: BIN(powf(x, y)); break;
	case GOS_OP_LT: BIN(x < y ? 1.0f : 0.0f); break;
	case GOS_OP_LE: BIN(x <= y ? 1.0f : 0.0f); break;
	case GOS_OP_EQ: BIN(x == y ? 1.0f : 0.0f); break;
	case GOS_OP_NE: BIN(x != y ? 1.0f : 0.0f); break;
	default: break;
	}
}

#define UN(E) \
	for (int l = 0; l < L; l++) { \
		const float x = a[l]; \
		o[l] = (E); \
	}

static void vun(gos_opcode op, float *restrict o, const float *restrict a, int L)
{
	switch (op) {
	case GOS_OP_NEG: UN(-x); break;
	case GOS_OP_ABS: UN(fabsf(x)); break;
	case GOS_OP_EXP: UN(expf(x)); break;
	case GOS_OP_LOG: UN(logf(x)); break;
	case GOS_OP_SQRT: UN(sqrtf(x)); break;
	case GOS_OP_RSQRT: UN(1.0f / sqrtf(x)); break;
	case GOS_OP_TANH: UN(tanhf(x)); break;
	case GOS_OP_ERF: UN(erff(x)); break;
	case GOS_OP_FLOOR: UN(floorf(x)); break;
	default: break;
	}
}

static void vtern(gos_opcode op, float *restrict o, const float *restrict a,
                  const float *restrict b, const float *restrict z, int L)
{
	if (op == GOS_OP_FMA)
		for (int l = 0; l < L; l++)
			o[l] = fmaf(a[l], b[l], z[l]);
	else
		for (int l = 0; l < L; l++)
			o[l] = a[l] != 0.0f ? b[l] : z[l];
}

/* Loads instruction i's value as a scalar at the current point. */
static int load_scalar(st *c, const rload *ld, float *out)
{
	int64_t flat = 0, idx[GOS_MAX_RANK];
	int in = 1;
	for (int dd = 0; dd < ld->rank; dd++) {
		idx[dd] = (int64_t)c->lins[ld->lin0 + dd].pr;
		if (ld->checked && (idx[dd] < 0 || idx[dd] >= ld->n[dd]))
			in = 0;
		flat += ld->stride[dd] * idx[dd];
	}
	if (in) {
		*out = ld->data[flat];
		return 0;
	}
	if (ld->has_pad) {
		*out = ld->pad;
		return 0;
	}
	oob(c, ld->ins, idx);
	return -1;
}

/* Narrows [*lo, *hi) to the lanes l with 0 <= s + a*l < n. */
static void lane_range(int64_t s, int64_t a, int64_t n, int *lo, int *hi)
{
	if (a == 0) {
		if (s < 0 || s >= n)
			*hi = *lo;
		return;
	}
	int64_t l0, l1; /* first and last lane in range */
	if (a > 0) {
		l0 = s >= 0 ? 0 : (-s + a - 1) / a;
		l1 = n - 1 - s >= 0 ? (n - 1 - s) / a : -1;
	} else {
		int64_t b = -a;
		l0 = s - (n - 1) <= 0 ? 0 : (s - (n - 1) + b - 1) / b;
		l1 = s >= 0 ? s / b : -1;
	}
	if (l0 > *lo)
		*lo = l0 > *hi ? *hi : (int)l0;
	if (l1 + 1 < *hi)
		*hi = l1 + 1 < *lo ? *lo : (int)(l1 + 1);
}

/* Reports the out-of-range load ld at lane `lane`. */
static void lane_oob(st *c, const rload *ld, int64_t v0, int lane)
{
	const gos_ins *in = &c->s->ins[ld->ins];
	const gos_buf *b = &c->n->bufs[in->buf];
	int64_t idx[GOS_MAX_RANK];
	if (c->V >= 0)
		c->var[c->V] = v0 + lane;
	memset(idx, 0, sizeof idx);
	if (ld->checked) /* flat-mode loads never fail */
		for (int dd = 0; dd < ld->rank && dd < b->rank; dd++)
			idx[dd] = lin_at(c, &c->lins[ld->lin0 + dd], v0, lane);
	oob(c, ld->ins, idx);
}

/* Evaluates load ld for lanes v0 .. v0+L-1 into *out (in place or buf). */
static int load_lanes(st *c, const rload *ld, int64_t v0, int L, float *buf,
                      const float **out)
{
	const float *data = ld->data;
	if (!ld->lane_atoms) {
		int lo = 0, hi = L;
		int64_t base = 0;
		if (ld->checked)
			for (int dd = 0; dd < ld->rank; dd++) {
				const rlin *l = &c->lins[ld->lin0 + dd];
				int64_t sd = (int64_t)(l->pr + (uint64_t)l->vc * (uint64_t)v0);
				lane_range(sd, l->vc, ld->n[dd], &lo, &hi);
			}
		if (lo < hi)
			for (int dd = 0; dd < ld->rank; dd++) {
				const rlin *l = &c->lins[ld->lin0 + dd];
				base += ld->stride[dd] * lin_at(c, l, v0, lo);
			}
		else
			lo = hi = L;
		if (!ld->has_pad && (lo > 0 || hi < L)) {
			lane_oob(c, ld, v0, lo > 0 ? 0 : hi);
			return -1;
		}
		if (lo == 0 && hi == L && ld->fv == 1) {
			*out = data + base;
			return 0;
		}
		float pad = ld->pad;
		for (int l = 0; l < lo; l++)
			buf[l] = pad;
		const float *p = data + base;
		int64_t fv = ld->fv;
		if (fv == 1)
			for (int l = lo; l < hi; l++)
				buf[l] = p[l - lo];
		else if (fv == 0)
			for (int l = lo; l < hi; l++)
				buf[l] = p[0];
		else
			for (int l = lo; l < hi; l++)
				buf[l] = p[(int64_t)(l - lo) * fv];
		for (int l = hi; l < L; l++)
			buf[l] = pad;
		*out = buf;
		return 0;
	}
	/* index atoms that depend on V: lane by lane */
	for (int l = 0; l < L; l++) {
		int64_t flat = 0;
		int in = 1;
		for (int dd = 0; dd < ld->rank; dd++) {
			int64_t x = lin_at(c, &c->lins[ld->lin0 + dd], v0, l);
			if (ld->checked && (x < 0 || x >= ld->n[dd]))
				in = 0;
			flat += ld->stride[dd] * x;
		}
		if (in) {
			buf[l] = data[flat];
		} else if (ld->has_pad) {
			buf[l] = ld->pad;
		} else {
			lane_oob(c, ld, v0, l);
			return -1;
		}
	}
	*out = buf;
	return 0;
}

/* Evaluates the scalar instructions of level lv (OUTER or RED), after its
 * atoms and linear-form parts. */
static int eval_scalar(st *c, int lv)
{
	eval_atoms(c, lv, 0, 1);
	if (lv == LV_OUTER) {
		for (int k = 0; k < c->n_lin; k++) {
			rlin *l = &c->lins[k];
			l->po = (uint64_t)l->c0 + term_sum(c, l->t0, l->t1);
			l->pr = l->po;
		}
	} else {
		for (int k = 0; k < c->n_red_lins; k++) {
			rlin *l = &c->lins[c->red_lins[k]];
			l->pr = l->po + term_sum(c, l->t1, l->t2);
		}
	}
	const int *list = c->lv_ins[lv];
	for (int k = 0; k < c->n_lv_ins[lv]; k++) {
		int i = list[k];
		const cins *ci = &c->ins[i];
		switch (ci->op) {
		case GOS_OP_CONST:
			c->sval[i] = ci->f;
			break;
		case GOS_OP_LOAD:
			if (load_scalar(c, &c->loads[ci->aux], &c->sval[i]))
				return -1;
			break;
		case GOS_OP_INDEX:
			c->sval[i] = (float)(int64_t)c->lins[ci->aux].pr;
			break;
		default:
			c->sval[i] = sop(ci->op, c->sval[ci->arg[0]], c->sval[ci->arg[1]],
			                 c->sval[ci->arg[2]]);
			break;
		}
	}
	return 0;
}

/* Operand j of instruction ci as a pointer; *vec = 1 for a lane vector. */
static const float *operand(st *c, const cins *ci, int j, int *vec)
{
	int a = ci->arg[j];
	*vec = c->ins[a].level == LV_LANE;
	return *vec ? c->vp[a] : &c->sval[a];
}

/* Evaluates the LANE instructions for lanes v0 .. v0+L-1. */
static int eval_lanes(st *c, int64_t v0, int L)
{
	eval_atoms(c, LV_LANE, v0, L);
	const int *list = c->lv_ins[LV_LANE];
	for (int k = 0; k < c->n_lv_ins[LV_LANE]; k++) {
		int i = list[k];
		const cins *ci = &c->ins[i];
		float *o = c->vbuf + (size_t)i * BLK;
		int va, vb, vz;
		const float *a, *b, *z;
		switch (ci->op) {
		case GOS_OP_LOAD:
			if (load_lanes(c, &c->loads[ci->aux], v0, L, o, &c->vp[i]))
				return -1;
			continue;
		case GOS_OP_INDEX:
			for (int l = 0; l < L; l++)
				o[l] = (float)lin_at(c, &c->lins[ci->aux], v0, l);
			break;
		case GOS_OP_FMA:
		case GOS_OP_SELECT:
			a = operand(c, ci, 0, &va);
			b = operand(c, ci, 1, &vb);
			z = operand(c, ci, 2, &vz);
			if (!va) {
				for (int l = 0; l < L; l++)
					c->tmp[l] = *a;
				a = c->tmp;
			}
			if (!vb) {
				for (int l = 0; l < L; l++)
					c->tmp[BLK + l] = *b;
				b = c->tmp + BLK;
			}
			if (!vz) {
				for (int l = 0; l < L; l++)
					c->tmp[2 * BLK + l] = *z;
				z = c->tmp + 2 * BLK;
			}
			vtern(ci->op, o, a, b, z, L);
			break;
		default:
			if (gos_opinfo_tab[ci->op].arity == 1) {
				vun(ci->op, o, c->vp[ci->arg[0]], L);
			} else {
				a = operand(c, ci, 0, &va);
				b = operand(c, ci, 1, &vb);
				vbin(ci->op, o, a, va, b, vb, L);
			}
			break;
		}
		c->vp[i] = o;
	}
	return 0;
}

/* ---- execution: the loop nest ---------------------------------------------- */

/* acc[l] (red)= value of the result, for the lanes (V an output variable). */
static void accumulate_lanes(st *c, int L)
{
	float *restrict acc = c->acc;
	const cins *ri = &c->ins[c->s->result];
	if (c->fused) {
		int va, vb;
		const float *a = operand(c, ri, 0, &va), *b = operand(c, ri, 1, &vb);
		if (!va) {
			const float x = *a;
			for (int l = 0; l < L; l++)
				acc[l] += x * b[l];
		} else if (!vb) {
			const float y = *b;
			for (int l = 0; l < L; l++)
				acc[l] += a[l] * y;
		} else {
			for (int l = 0; l < L; l++)
				acc[l] += a[l] * b[l];
		}
		return;
	}
	int res = c->s->result;
	if (ri->level == LV_LANE) {
		const float *restrict r = c->vp[res];
		switch (c->s->red) {
		case GOS_RED_SUM:
			for (int l = 0; l < L; l++)
				acc[l] += r[l];
			break;
		case GOS_RED_MAX:
			for (int l = 0; l < L; l++)
				acc[l] = fmaxf(acc[l], r[l]);
			break;
		default:
			for (int l = 0; l < L; l++)
				acc[l] = fminf(acc[l], r[l]);
			break;
		}
	} else {
		const float r = c->sval[res];
		switch (c->s->red) {
		case GOS_RED_SUM:
			for (int l = 0; l < L; l++)
				acc[l] += r;
			break;
		case GOS_RED_MAX:
			for (int l = 0; l < L; l++)
				acc[l] = fmaxf(acc[l], r);
			break;
		default:
			for (int l = 0; l < L; l++)
				acc[l] = fminf(acc[l], r);
			break;
		}
	}
}

/* Folds lanes 0..L-1 of the result into the scalar *acc, in lane order
 * (V the last reduction variable). */
static void accumulate_serial(st *c, float *accp, int L)
{
	float acc = *accp;
	const cins *ri = &c->ins[c->s->result];
	gos_red red = c->s->red;
	if (c->fused) {
		int va, vb;
		const float *a = operand(c, ri, 0, &va), *b = operand(c, ri, 1, &vb);
		for (int l = 0; l < L; l++)
			acc += a[va ? l : 0] * b[vb ? l : 0];
	} else {
		int vr = ri->level == LV_LANE;
		const float *r = vr ? c->vp[c->s->result] : &c->sval[c->s->result];
		for (int l = 0; l < L; l++) {
			float x = r[vr ? l : 0];
			acc = red == GOS_RED_SUM ? acc + x : red == GOS_RED_MAX ? fmaxf(acc, x) : fminf(acc, x);
		}
	}
	*accp = acc;
}

static float red_init(gos_red red)
{
	return red == GOS_RED_MAX ? -INFINITY : red == GOS_RED_MIN ? INFINITY : 0.0f;
}

/* Advances the odometer over vars[0..n) (last fastest); 0 when done. */
static int next_point(st *c, const int *vars, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		int v = vars[i];
		if (++c->var[v] < c->ext[v])
			return 1;
		c->var[v] = 0;
	}
	return 0;
}

static int64_t dst_base(const st *c)
{
	int64_t b = 0;
	for (int dd = 0; dd < c->r; dd++)
		if (dd != c->V || c->caseB)
			b += c->dstride[dd] * c->var[dd];
	return b;
}

static int run(st *c)
{
	int V = c->V;
	int64_t ev = V >= 0 ? c->ext[V] : 1;
	int64_t nb = (ev + BLK - 1) / BLK;
	gos_red red = c->s->red;
	int res = c->s->result;
	memset(c->var, 0, sizeof c->var);
	do {
		if (c->caseB) {
			if (eval_scalar(c, LV_OUTER))
				return -1;
			float acc = red_init(red);
			do {
				if (eval_scalar(c, LV_RED))
					return -1;
				for (int64_t b = 0; b < nb; b++) {
					int64_t v0 = b * ev / nb;
					int L = (int)((b + 1) * ev / nb - v0);
					if (eval_lanes(c, v0, L))
						return -1;
					accumulate_serial(c, &acc, L);
				}
			} while (next_point(c, c->rv, c->n_rv));
			c->dst[dst_base(c)] = acc;
			continue;
		}
		int64_t base0 = dst_base(c);
		int64_t ds = V >= 0 ? c->dstride[V] : 0;
		for (int64_t b = 0; b < nb; b++) {
			int64_t v0 = b * ev / nb;
			int L = (int)((b + 1) * ev / nb - v0);
			if (V >= 0)
				c->var[V] = v0;
			float *restrict out = c->dst + base0 + ds * v0;
			if (eval_scalar(c, LV_OUTER))
				return -1;
			const float *r;
			int vr;
			if (c->n_red == 0 && red == GOS_RED_NONE) {
				if (eval_lanes(c, v0, L))
					return -1;
				vr = c->ins[res].level == LV_LANE;
				r = vr ? c->vp[res] : &c->sval[res];
			} else {
				float init = red_init(red);
				for (int l = 0; l < L; l++)
					c->acc[l] = init;
				do {
					if (eval_scalar(c, LV_RED) || eval_lanes(c, v0, L))
						return -1;
					accumulate_lanes(c, L);
				} while (next_point(c, c->rv, c->n_rv));
				r = c->acc;
				vr = 1;
			}
			if (ds == 1 && vr)
				memmove(out, r, sizeof(float) * (size_t)L);
			else
				for (int l = 0; l < L; l++)
					out[ds * l] = r[vr ? l : 0];
		}
	} while (next_point(c, c->ov, c->n_ov));
	return 0;
}

int gos_interp_stmt(const gos_node *n, int si, float *const *bufdata, gos_diags *d)
{
	st c = {0};
	c.a = gos_arena_new();
	if (!c.a) {
		gos_error(d, n->loc, "node '%s': out of memory", n->name ? n->name : "?");
		return -1;
	}
	c.n = n;
	c.s = &n->stmts[si];
	c.si = si;
	c.d = d;
	c.bufdata = bufdata;
	int rc = compile(&c);
	if (!rc)
		rc = run(&c);
	gos_arena_free(c.a);
	return rc ? -1 : 0;
}

int gos_interp_trace(void)
{
	static int t = -1;
	if (t < 0) {
		const char *e = getenv("GOS_INTERP_TRACE");
		t = e && *e && *e != '0';
	}
	return t;
}
