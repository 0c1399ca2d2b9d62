/* elab.c -- elaboration of .gos: models and blocks are executed at
 * compile time (bindings, loops, conditions), every operator application
 * is instantiated with concrete shapes and attributes into an IR node
 * whose statements are built from the operator's comprehension.
 *
 * Values during elaboration (val): a list of numbers (every attribute,
 * shape and integer is a list; a scalar has one element; inside a
 * statement an element may be symbolic, an index expression over the
 * statement's variables), a tensor (a module value in models and
 * blocks, a body buffer in op bodies) or a float (a scalar instruction of
 * the statement being built). */
#include "frontend/elab.h"
#include "support/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 8
#define MAX_DEPTH 200
#define MAX_LOOP 100000
#define MAX_NODES 20000      /* operator applications per model */
#define MAX_STEPS 1000000    /* statements executed while elaborating a model */
#define MAX_NUMEL 2147483647LL /* elements of one tensor */

/* ---- values ------------------------------------------------------------ */

typedef struct item {
	int sym;    /* 1: ix is a root in the current statement's pool */
	int is_int; /* constant known to be an integer */
	double c;
	int ix;
} item;

typedef enum vkind { V_NONE, V_LIST, V_TENSOR, V_FLOAT, V_ABSENT, V_MULTI } vkind;

typedef struct val {
	vkind k;
	int n;
	item *it;  /* V_LIST */
	int t;     /* V_TENSOR: module value (models) or body buffer (ops) */
	int ins;   /* V_FLOAT */
	int nm;    /* V_MULTI: several tensors from one call */
	int mt[MAX_RESULTS];
} val;

typedef struct bind {
	const char *name;
	val v;
	gos_loc loc;
} bind;

/* ---- name sets ---------------------------------------------------------- */

typedef struct nameset {
	const char **v;
	int *next; /* per name: the next _N suffix to try for it */
	int cap, n;
	int failed; /* out of memory once: the set is incomplete */
} nameset;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Slot of name, or -1. */
static int ns_find(const nameset *s, const char *name)
{
	if (!s->cap)
		return -1;
	for (uint64_t i = hash_str(name) & (uint64_t)(s->cap - 1);; i = (i + 1) & (uint64_t)(s->cap - 1)) {
		if (!s->v[i])
			return -1;
		if (strcmp(s->v[i], name) == 0)
			return (int)i;
	}
}

static int ns_has(const nameset *s, const char *name) { return ns_find(s, name) >= 0; }

static void ns_add(nameset *s, const char *name)
{
	if (ns_has(s, name))
		return;
	if (2 * (s->n + 1) > s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		nameset t = {gos_calloc((size_t)cap, sizeof(char *)), gos_calloc((size_t)cap, sizeof(int)), cap, 0, 0};
		if (!t.v || !t.next) {
			free(t.v);
			free(t.next);
			s->failed = 1;
			return;
		}
		for (int i = 0; i < s->cap; i++)
			if (s->v[i]) {
				ns_add(&t, s->v[i]);
				t.next[ns_find(&t, s->v[i])] = s->next[i];
			}
		free(s->v);
		free(s->next);
		t.failed = s->failed;
		*s = t;
	}
	uint64_t i = hash_str(name) & (uint64_t)(s->cap - 1);
	while (s->v[i])
		i = (i + 1) & (uint64_t)(s->cap - 1);
	s->v[i] = name;
	s->next[i] = 1;
	s->n++;
}

static void ns_free(nameset *s)
{
	free(s->v);
	free(s->next);
}

/* base, or base_N with the smallest N not yet in s (remembered per base,
 * so repeated names cost O(1)); the result is added to s. */
static const char *ns_unique(nameset *s, gos_arena *a, const char *base)
{
	int slot = ns_find(s, base);
	if (slot < 0) {
		const char *n = gos_arena_strdup(a, base);
		ns_add(s, n);
		return n;
	}
	int k = s->next[slot];
	const char *n;
	for (;; k++) {
		n = gos_arena_printf(a, "%s_%d", base, k);
		if (!ns_has(s, n))
			break;
	}
	s->next[slot] = k + 1;
	ns_add(s, n);
	return n;
}

/* ---- state ---------------------------------------------------------------- */

/* One statement under construction. Pools start with VAR 0..rank-1 at
 * indices 0..rank-1, so hoisted statements can share the variables. */
typedef struct sb {
	gos_ix *ix;
	int nix, capix;
	gos_ins *ins;
	int nins, capins;
	int nvar, rank;
	int64_t ext[GOS_MAX_VARS];
	const char *vn[GOS_MAX_VARS];
	int n_red;
} sb;

/* An operator application under construction. */
typedef struct opi {
	const gos_def *op;
	int n_in, n_out;
	gos_buf *bufs;
	int n_buf, cap_buf;
	int *known;   /* per buf: shape known */
	int *written; /* per buf: defined by a statement */
	gos_stmt *stmts;
	int n_stmt, cap_stmt;
	int n_hoist;
} opi;

/* Per model: names and parameters. */
typedef struct mstate {
	nameset vnames, nnames, pnames, reserved;
	uint64_t seed;
	int has_file;
	long steps;
} mstate;

typedef struct E {
	gos_fe *fe;
	gos_diags *d;
	gos_arena *tmp;
	gos_module *m;
	bind *env;
	int n_env, cap_env;
	/* models and blocks */
	mstate *ms;
	const char *prefix; /* block instance path, "" in the model */
	const char *bind;   /* binding being evaluated, names nodes and params */
	int is_model, depth;
	/* op bodies */
	opi *oi;
	sb *b;
	gos_loc call;       /* application site */
	int in_op;
	int cur_dst;        /* buffer the statement being built writes (-1: none) */
} E;

static void note_call(E *e)
{
	if (e->in_op && e->call.line)
		gos_note(e->d, e->call, "in this application of '%s'", e->oi->op->name);
}

/* Reports an error at loc (plus the application site inside op bodies);
 * returns -1. */
static int err_at(E *e, gos_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int err_at(E *e, gos_loc loc, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	gos_error(e->d, loc, "%s", buf);
	note_call(e);
	return -1;
}
#define ERR err_at

static void push(E *e, const char *name, val v, gos_loc loc)
{
	e->env = gos_arena_grow(e->tmp, e->env, e->n_env, &e->cap_env, sizeof *e->env);
	e->env[e->n_env++] = (bind){name, v, loc};
}

static bind *lookup(E *e, const char *name);

/* Binds name in a model or block (no nested scopes there): a rebinding
 * replaces the old entry, so loops do not grow the environment. */
static void set(E *e, const char *name, val v, gos_loc loc)
{
	for (int i = e->n_env - 1; i >= 0; i--)
		if (strcmp(e->env[i].name, name) == 0) {
			e->env[i].v = v;
			e->env[i].loc = loc;
			return;
		}
	push(e, name, v, loc);
}

static bind *lookup(E *e, const char *name)
{
	for (int i = e->n_env - 1; i >= 0; i--)
		if (strcmp(e->env[i].name, name) == 0)
			return &e->env[i];
	return NULL;
}

static const char *const builtin_fns[] = {
	"exp", "log", "sqrt", "rsqrt", "tanh", "erf", "abs", "floor", "pow", "fma",
	"select", "float", "max", "min", "dim", "rank", "len", "prod", "present",
	"permute", "ipermute", "set", "unravel", "ravel", "take", "list", NULL};

/* Adds "did you mean" for the closest of the env names, builtins and defs. */
static void suggest(E *e, gos_loc loc, const char *name, int want_defs, int want_env, int want_fns)
{
	const char *best = NULL;
	int bd = 3;
	int len = (int)strlen(name);
	int cap = len <= 2 ? 0 : len <= 4 ? 1 : 2;
	if (!cap)
		return;
	if (want_env)
		for (int i = e->n_env - 1; i >= 0; i--) {
			int dd = gos_edit_distance(name, e->env[i].name, cap);
			if (dd <= cap && dd < bd) {
				bd = dd;
				best = e->env[i].name;
			}
		}
	if (want_defs)
		for (int i = 0; i < e->fe->n_defs; i++) {
			int dd = gos_edit_distance(name, e->fe->defs[i]->name, cap);
			if (dd <= cap && dd < bd) {
				bd = dd;
				best = e->fe->defs[i]->name;
			}
		}
	if (want_fns)
		for (int i = 0; builtin_fns[i]; i++) {
			int dd = gos_edit_distance(name, builtin_fns[i], cap);
			if (dd <= cap && dd < bd) {
				bd = dd;
				best = builtin_fns[i];
			}
		}
	if (best)
		gos_note(e->d, loc, "did you mean '%s'?", best);
}

/* ---- lists ------------------------------------------------------------------- */

static val vnone(void)
{
	val v;
	memset(&v, 0, sizeof v);
	return v;
}

static val vlist(E *e, int n)
{
	val v = vnone();
	v.k = V_LIST;
	v.n = n;
	v.it = GOS_NEWN(e->tmp, item, n > 0 ? n : 1);
	return v;
}

static val vnum(E *e, double c, int is_int)
{
	val v = vlist(e, 1);
	v.it[0].c = c;
	v.it[0].is_int = is_int;
	return v;
}

static item inum(double c)
{
	item it = {0, c == floor(c) && fabs(c) < 9e15, c, 0};
	return it;
}

static int is_const_list(const val *v)
{
	if (v->k != V_LIST)
		return 0;
	for (int i = 0; i < v->n; i++)
		if (v->it[i].sym)
			return 0;
	return 1;
}

/* Formats a shape like [1, 3, 224, 224]. */
static const char *shape_str(E *e, int rank, const int64_t *shape)
{
	char buf[256];
	int k = snprintf(buf, sizeof buf, "[");
	for (int i = 0; i < rank && k < 200; i++)
		k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%lld", i ? ", " : "", (long long)shape[i]);
	snprintf(buf + k, sizeof buf - (size_t)k, "]");
	return gos_arena_strdup(e->tmp, buf);
}

/* Shape of tensor v (module value or buffer). */
static void tshape(E *e, const val *v, int *rank, const int64_t **shape)
{
	if (e->in_op) {
		*rank = e->oi->bufs[v->t].rank;
		*shape = e->oi->bufs[v->t].shape;
	} else {
		*rank = e->m->vals[v->t].rank;
		*shape = e->m->vals[v->t].shape;
	}
}

/* Whether a shape's element count is within MAX_NUMEL. */
static int numel_ok(int rank, const int64_t *shape)
{
	double n = 1;
	for (int i = 0; i < rank; i++)
		n *= (double)shape[i];
	return n <= (double)MAX_NUMEL;
}

/* ---- statement pools ------------------------------------------------------ */

static int ix_add(E *e, gos_ixop op, int a, int b, int64_t k)
{
	sb *s = e->b;
	for (int i = 0; i < s->nix; i++) {
		gos_ix *x = &s->ix[i];
		if (x->op == op && x->a == a && x->b == b && x->k == k)
			return i;
	}
	s->ix = gos_arena_grow(e->tmp, s->ix, s->nix, &s->capix, sizeof *s->ix);
	s->ix[s->nix] = (gos_ix){op, a, b, k};
	return s->nix++;
}

static int ix_const(E *e, int64_t k) { return ix_add(e, GOS_IX_CONST, 0, 0, k); }

static int ix_is_const(E *e, int r, int64_t *k)
{
	if (e->b->ix[r].op != GOS_IX_CONST)
		return 0;
	*k = e->b->ix[r].k;
	return 1;
}

static int64_t floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t floormod(int64_t a, int64_t b) { return a - b * floordiv(a, b); }

/* a op b over pool roots, folding constants. DIV/MOD need a constant b > 0
 * (checked by the caller). */
static int ix_bin(E *e, gos_ixop op, int a, int b)
{
	int64_t ka = 0, kb = 0;
	int ca = ix_is_const(e, a, &ka), cb = ix_is_const(e, b, &kb);
	if (ca && cb) {
		switch (op) {
		case GOS_IX_ADD: return ix_const(e, ka + kb);
		case GOS_IX_SUB: return ix_const(e, ka - kb);
		case GOS_IX_MUL: return ix_const(e, ka * kb);
		case GOS_IX_DIV: return ix_const(e, floordiv(ka, kb));
		case GOS_IX_MOD: return ix_const(e, floormod(ka, kb));
		case GOS_IX_MIN: return ix_const(e, ka < kb ? ka : kb);
		case GOS_IX_MAX: return ix_const(e, ka > kb ? ka : kb);
		default: break;
		}
	}
	if (op == GOS_IX_ADD && cb && kb == 0)
		return a;
	if (op == GOS_IX_ADD && ca && ka == 0)
		return b;
	if (op == GOS_IX_SUB && cb && kb == 0)
		return a;
	if (op == GOS_IX_MUL && ((cb && kb == 1)))
		return a;
	if (op == GOS_IX_MUL && ((ca && ka == 1)))
		return b;
	if (op == GOS_IX_MUL && ((ca && ka == 0) || (cb && kb == 0)))
		return ix_const(e, 0);
	if (op == GOS_IX_DIV && cb && kb == 1)
		return a;
	if (op == GOS_IX_MOD && cb && kb == 1)
		return ix_const(e, 0);
	if (op == GOS_IX_MUL && ca && !cb) /* constant on the right */
		return ix_add(e, op, b, a, 0);
	if (op == GOS_IX_DIV || op == GOS_IX_MOD)
		return ix_add(e, op, a, -1, kb);
	return ix_add(e, op, a, b, 0);
}

/* Interval of pool root r given the variable extents. */
static void ix_range(const sb *s, int r, int64_t *lo, int64_t *hi)
{
	const gos_ix *x = &s->ix[r];
	int64_t al, ah, bl, bh;
	switch (x->op) {
	case GOS_IX_CONST: *lo = *hi = x->k; return;
	case GOS_IX_VAR: *lo = 0; *hi = s->ext[x->k] - 1; return;
	default: break;
	}
	ix_range(s, x->a, &al, &ah);
	if (x->op == GOS_IX_DIV) {
		*lo = floordiv(al, x->k);
		*hi = floordiv(ah, x->k);
		return;
	}
	if (x->op == GOS_IX_MOD) {
		if (floordiv(al, x->k) == floordiv(ah, x->k)) {
			*lo = floormod(al, x->k);
			*hi = floormod(ah, x->k);
		} else {
			*lo = 0;
			*hi = x->k - 1;
		}
		return;
	}
	ix_range(s, x->b, &bl, &bh);
	switch (x->op) {
	case GOS_IX_ADD: *lo = al + bl; *hi = ah + bh; return;
	case GOS_IX_SUB: *lo = al - bh; *hi = ah - bl; return;
	case GOS_IX_MIN: *lo = al < bl ? al : bl; *hi = ah < bh ? ah : bh; return;
	case GOS_IX_MAX: *lo = al > bl ? al : bl; *hi = ah > bh ? ah : bh; return;
	case GOS_IX_MUL: {
		int64_t p[4] = {al * bl, al * bh, ah * bl, ah * bh};
		*lo = *hi = p[0];
		for (int i = 1; i < 4; i++) {
			if (p[i] < *lo) *lo = p[i];
			if (p[i] > *hi) *hi = p[i];
		}
		return;
	}
	default: *lo = *hi = 0; return;
	}
}

static int ins_add(E *e, gos_ins in)
{
	sb *s = e->b;
	for (int i = 0; i < s->nins; i++) {
		gos_ins *x = &s->ins[i];
		if (x->op != in.op || x->arg[0] != in.arg[0] || x->arg[1] != in.arg[1] ||
		    x->arg[2] != in.arg[2] || x->buf != in.buf || x->has_pad != in.has_pad ||
		    x->nidx != in.nidx || memcmp(&x->f, &in.f, sizeof in.f) != 0)
			continue;
		if (in.nidx && memcmp(x->idx, in.idx, sizeof(int) * (size_t)in.nidx) != 0)
			continue;
		return i;
	}
	s->ins = gos_arena_grow(e->tmp, s->ins, s->nins, &s->capins, sizeof *s->ins);
	s->ins[s->nins] = in;
	return s->nins++;
}

static int ins_op(E *e, gos_opcode op, int a, int b, int c)
{
	gos_ins in;
	memset(&in, 0, sizeof in);
	in.op = op;
	in.arg[0] = a;
	in.arg[1] = b;
	in.arg[2] = c;
	in.buf = -1;
	return ins_add(e, in);
}

static int ins_const(E *e, float f)
{
	gos_ins in;
	memset(&in, 0, sizeof in);
	in.op = GOS_OP_CONST;
	in.f = f;
	in.buf = -1;
	return ins_add(e, in);
}

/* ---- conversions ------------------------------------------------------------ */

static const char *kind_name(const val *v)
{
	switch (v->k) {
	case V_LIST: return v->n == 1 ? "a number" : "a list";
	case V_TENSOR: return "a tensor";
	case V_FLOAT: return "a float expression";
	case V_ABSENT: return "an absent optional tensor";
	case V_MULTI: return "several tensors";
	default: return "nothing";
	}
}

/* The pool root of integer item it. */
static int item_ix(E *e, const item *it, gos_loc loc)
{
	if (it->sym)
		return it->ix;
	if (!it->is_int)
		return ERR(e, loc, "expected an integer, got %g", it->c);
	return ix_const(e, (int64_t)it->c);
}

/* Converts v to a scalar instruction of the current statement. */
static int to_float(E *e, const val *v, gos_loc loc)
{
	if (v->k == V_FLOAT)
		return v->ins;
	if (v->k == V_LIST && v->n == 1) {
		if (!v->it[0].sym)
			return ins_const(e, (float)v->it[0].c);
		gos_ins in;
		memset(&in, 0, sizeof in);
		in.op = GOS_OP_INDEX;
		in.buf = -1;
		in.nidx = 1;
		in.idx = GOS_NEW(e->tmp, int);
		in.idx[0] = v->it[0].ix;
		return ins_add(e, in);
	}
	if (v->k == V_NONE)
		return -1;
	if (v->k == V_TENSOR)
		return ERR(e, loc, "a tensor used as a number; index it (X[...]) to read an element");
	return ERR(e, loc, "expected a number, got %s", kind_name(v));
}

/* A compile-time integer. */
static int const_int(E *e, const val *v, gos_loc loc, int64_t *out)
{
	if (v->k == V_NONE)
		return -1;
	if (v->k != V_LIST || v->n != 1)
		return ERR(e, loc, "expected an integer known at compile time, got %s", kind_name(v));
	if (v->it[0].sym)
		return ERR(e, loc, "expected an integer known at compile time, got an index expression");
	if (!v->it[0].is_int)
		return ERR(e, loc, "expected an integer, got %g", v->it[0].c);
	*out = (int64_t)v->it[0].c;
	return 0;
}

/* ---- evaluation ---------------------------------------------------------------- */

static int eval(E *e, const gos_ast *a, val *out);
static int apply_call(E *e, const gos_ast *a, const gos_def *def, val *out);
static int reduce_into(E *e, const gos_ast *red, int dst, gos_red *kind);

/* Evaluates items (expanding ..spreads) into one list; spread[i] (may be
 * NULL) tells which elements came from a spread. */
static int eval_items(E *e, const gos_alist *l, val *out, int **spread)
{
	int n = 0, cap = l->n + 8;
	item *it = GOS_NEWN(e->tmp, item, cap);
	int *sp = GOS_NEWN(e->tmp, int, cap);
	int rc = 0;
	for (int i = 0; i < l->n; i++) {
		const gos_ast *x = l->v[i];
		int is_spread = x->kind == GOS_A_SPREAD;
		val v;
		if (eval(e, is_spread ? x->a : x, &v)) {
			rc = -1;
			continue;
		}
		if (v.k != V_LIST) {
			rc = ERR(e, x->loc, "expected %s, got %s", is_spread ? "a list after '..'" : "a number", kind_name(&v));
			continue;
		}
		if (!is_spread && v.n != 1) {
			rc = ERR(e, x->loc, "a list of %d elements used as one number; write '..' before it to insert its elements", v.n);
			continue;
		}
		if (n + v.n > cap) {
			cap = 2 * (n + v.n);
			item *ni = GOS_NEWN(e->tmp, item, cap);
			int *ns = GOS_NEWN(e->tmp, int, cap);
			memcpy(ni, it, sizeof *it * (size_t)n);
			memcpy(ns, sp, sizeof *sp * (size_t)n);
			it = ni;
			sp = ns;
		}
		for (int j = 0; j < v.n; j++) {
			it[n] = v.it[j];
			sp[n++] = is_spread ? i + 1 : 0;
		}
	}
	if (rc)
		return -1;
	*out = vlist(e, n);
	memcpy(out->it, it, sizeof *it * (size_t)n);
	if (spread)
		*spread = sp;
	return 0;
}

/* A load X[items] (else pad) in the current statement. */
static int eval_load(E *e, const gos_ast *a, const val *tv, val *out)
{
	const gos_buf *bf = &e->oi->bufs[tv->t];
	if (!e->oi->known[tv->t])
		return ERR(e, a->loc, "'%s' is read before its shape is known", bf->name);
	val iv;
	int *sp;
	if (eval_items(e, &a->items, &iv, &sp))
		return -1;
	int pad = a->c != NULL;
	float padv = 0;
	if (pad) {
		val pv;
		if (eval(e, a->c, &pv))
			return -1;
		if (pv.k != V_LIST || pv.n != 1 || pv.it[0].sym)
			return ERR(e, a->c->loc, "the value after 'else' must be a number known at compile time");
		padv = (float)pv.it[0].c;
	}
	/* Broadcasting through packs: drop leading spread elements, read
	 * size-1 dimensions at 0. */
	int first = 0, n = iv.n;
	while (n > bf->rank && sp[first]) {
		first++;
		n--;
	}
	if (n != bf->rank)
		return ERR(e, a->loc, "'%s' has rank %d (shape %s) but is indexed with %d indices",
		           bf->name, bf->rank, shape_str(e, bf->rank, bf->shape), iv.n);
	gos_ins in;
	memset(&in, 0, sizeof in);
	in.op = GOS_OP_LOAD;
	in.buf = tv->t;
	in.has_pad = pad;
	in.f = padv;
	in.nidx = bf->rank;
	in.idx = GOS_NEWN(e->tmp, int, bf->rank > 0 ? bf->rank : 1);
	for (int d = 0; d < bf->rank; d++) {
		item *it = &iv.it[first + d];
		if (sp[first + d] && it->sym && bf->shape[d] == 1) {
			int64_t lo, hi;
			ix_range(e->b, it->ix, &lo, &hi);
			if (lo != 0 || hi != 0) {
				in.idx[d] = ix_const(e, 0);
				continue;
			}
		}
		in.idx[d] = item_ix(e, it, a->items.v[0]->loc);
		if (in.idx[d] < 0)
			return -1;
		if (!pad) {
			int64_t lo, hi;
			ix_range(e->b, in.idx[d], &lo, &hi);
			if (lo < 0 || hi >= bf->shape[d])
				return ERR(e, a->loc,
				           "index %d of '%s' ranges over %lld..%lld but its dimension has size %lld; "
				           "write `else 0.0` after the load to read a padding value out of range",
				           d, bf->name, (long long)lo, (long long)hi, (long long)bf->shape[d]);
		}
	}
	/* the IR's read rules: results and locals only after a statement
	 * wrote them, the destination only at the element being written */
	if (tv->t >= e->oi->n_in && !e->oi->written[tv->t])
		return ERR(e, a->loc, "'%s' is read before any statement writes it", bf->name);
	if (tv->t == e->cur_dst) {
		int ident = !pad;
		for (int d = 0; d < bf->rank && ident; d++)
			ident = in.idx[d] == d && e->b->ix[d].op == GOS_IX_VAR && e->b->ix[d].k == d;
		if (!ident)
			return ERR(e, a->loc, "a statement may read its destination '%s' only at the element it writes", bf->name);
	}
	*out = vnone();
	out->k = V_FLOAT;
	out->ins = ins_add(e, in);
	return 0;
}

static int eval_index(E *e, const gos_ast *a, val *out)
{
	val base;
	if (eval(e, a->a, &base))
		return -1;
	if (base.k == V_TENSOR) {
		if (!e->in_op || !e->b)
			return ERR(e, a->loc, "tensor elements can only be read in op statements");
		return eval_load(e, a, &base, out);
	}
	if (base.k == V_ABSENT)
		return ERR(e, a->loc, "optional tensor is absent here (test it with present())");
	if (base.k != V_LIST)
		return ERR(e, a->loc, "cannot index %s", kind_name(&base));
	if (a->c)
		return ERR(e, a->c->loc, "`else` is only allowed on tensor loads");
	if (a->items.n != 1 || a->items.v[0]->kind == GOS_A_SPREAD)
		return ERR(e, a->loc, "a list is indexed with one integer");
	val iv;
	int64_t k = 0;
	if (eval(e, a->items.v[0], &iv) || const_int(e, &iv, a->items.v[0]->loc, &k))
		return -1;
	if (base.n == 0)
		return ERR(e, a->loc, "indexing an empty list");
	int64_t j = k < 0 ? k + base.n : k;
	if (base.n == 1)
		j = 0;
	if (j < 0 || j >= base.n)
		return ERR(e, a->items.v[0]->loc, "index %lld is out of range for a list of %d elements", (long long)k, base.n);
	*out = vlist(e, 1);
	out->it[0] = base.it[j];
	return 0;
}

/* Integer or float arithmetic on scalars. */
static int arith(E *e, int op, const val *x, const val *y, gos_loc loc, val *out)
{
	if (x->k == V_TENSOR || y->k == V_TENSOR) {
		if (!e->in_op)
			return ERR(e, loc, "arithmetic between tensors is not allowed here; apply an operator (add, sub, mul, div)");
		return ERR(e, loc, "a tensor used as a number; index it (X[...]) to read an element");
	}
	if ((x->k == V_LIST && x->n != 1) || (y->k == V_LIST && y->n != 1))
		return ERR(e, loc, "arithmetic needs single numbers, not lists");
	if (x->k != V_LIST && x->k != V_FLOAT)
		return ERR(e, loc, "arithmetic on %s", kind_name(x));
	if (y->k != V_LIST && y->k != V_FLOAT)
		return ERR(e, loc, "arithmetic on %s", kind_name(y));
	int cmp = op == '<' || op == '>' || op == GOS_TOK_LE || op == GOS_TOK_GE ||
	          op == GOS_TOK_EQ || op == GOS_TOK_NE;
	if (x->k == V_LIST && y->k == V_LIST && !x->it[0].sym && !y->it[0].sym) {
		double a = x->it[0].c, b = y->it[0].c, r = 0;
		int ii = x->it[0].is_int && y->it[0].is_int;
		switch (op) {
		case '+': r = a + b; break;
		case '-': r = a - b; break;
		case '*': r = a * b; break;
		case '/':
			if (b == 0 && ii)
				return ERR(e, loc, "division by zero");
			r = ii ? (double)floordiv((int64_t)a, (int64_t)b) : a / b;
			break;
		case '%':
			if (!ii)
				return ERR(e, loc, "'%%' needs integers");
			if (b == 0)
				return ERR(e, loc, "division by zero");
			r = (double)floormod((int64_t)a, (int64_t)(b < 0 ? -b : b));
			break;
		case '<': r = a < b; ii = 1; break;
		case '>': r = a > b; ii = 1; break;
		case GOS_TOK_LE: r = a <= b; ii = 1; break;
		case GOS_TOK_GE: r = a >= b; ii = 1; break;
		case GOS_TOK_EQ: r = a == b; ii = 1; break;
		case GOS_TOK_NE: r = a != b; ii = 1; break;
		case GOS_TOK_AND: r = a != 0 && b != 0; ii = 1; break;
		case GOS_TOK_OR: r = a != 0 || b != 0; ii = 1; break;
		default: break;
		}
		if (ii && fabs(r) > 9e15)
			return ERR(e, loc, "integer overflow");
		*out = vnum(e, r, ii);
		return 0;
	}
	if (op == GOS_TOK_AND || op == GOS_TOK_OR)
		return ERR(e, loc, "'&&' and '||' need conditions known at compile time");
	if (!e->b)
		return ERR(e, loc, "index expressions are only allowed in op statements");
	/* integer index expressions */
	if (x->k == V_LIST && y->k == V_LIST && !cmp &&
	    (x->it[0].sym || x->it[0].is_int) && (y->it[0].sym || y->it[0].is_int)) {
		int a = item_ix(e, &x->it[0], loc), b = item_ix(e, &y->it[0], loc);
		if (a < 0 || b < 0)
			return -1;
		gos_ixop o = GOS_IX_ADD;
		switch (op) {
		case '+': o = GOS_IX_ADD; break;
		case '-': o = GOS_IX_SUB; break;
		case '*': o = GOS_IX_MUL; break;
		case '/': case '%': {
			int64_t k;
			if (!ix_is_const(e, b, &k))
				return ERR(e, loc, "the divisor of an index expression must be known at compile time");
			if (k <= 0)
				return ERR(e, loc, "the divisor of an index expression must be positive (got %lld)", (long long)k);
			o = op == '/' ? GOS_IX_DIV : GOS_IX_MOD;
			break;
		}
		}
		*out = vlist(e, 1);
		out->it[0].sym = 1;
		out->it[0].is_int = 1;
		out->it[0].ix = ix_bin(e, o, a, b);
		return 0;
	}
	if (op == '%')
		return ERR(e, loc, "'%%' needs integers");
	int a = to_float(e, x, loc), b = to_float(e, y, loc);
	if (a < 0 || b < 0)
		return -1;
	int r;
	switch (op) {
	case '+': r = ins_op(e, GOS_OP_ADD, a, b, 0); break;
	case '-': r = ins_op(e, GOS_OP_SUB, a, b, 0); break;
	case '*': r = ins_op(e, GOS_OP_MUL, a, b, 0); break;
	case '/': r = ins_op(e, GOS_OP_DIV, a, b, 0); break;
	case '<': r = ins_op(e, GOS_OP_LT, a, b, 0); break;
	case '>': r = ins_op(e, GOS_OP_LT, b, a, 0); break;
	case GOS_TOK_LE: r = ins_op(e, GOS_OP_LE, a, b, 0); break;
	case GOS_TOK_GE: r = ins_op(e, GOS_OP_LE, b, a, 0); break;
	case GOS_TOK_EQ: r = ins_op(e, GOS_OP_EQ, a, b, 0); break;
	default: r = ins_op(e, GOS_OP_NE, a, b, 0); break;
	}
	*out = vnone();
	out->k = V_FLOAT;
	out->ins = r;
	return 0;
}

static int eval_list_arg(E *e, const gos_ast *a, val *out)
{
	if (eval(e, a, out))
		return -1;
	if (out->k != V_LIST)
		return ERR(e, a->loc, "expected a list, got %s", kind_name(out));
	return 0;
}

static int eval_int_arg(E *e, const gos_ast *a, int64_t *k)
{
	val v;
	if (eval(e, a, &v))
		return -1;
	return const_int(e, &v, a->loc, k);
}

static int nargs(E *e, const gos_ast *a, int lo, int hi)
{
	if (a->named.n)
		return ERR(e, a->named.v[0]->loc, "'%s' takes no attributes", a->name);
	for (int i = 0; i < a->items.n; i++)
		if (a->items.v[i]->kind == GOS_A_SPREAD && strcmp(a->name, "list") && strcmp(a->name, "ravel"))
			return ERR(e, a->items.v[i]->loc, "'..' is not allowed in the arguments of '%s'", a->name);
	if (a->items.n < lo || a->items.n > hi) {
		if (lo == hi)
			return ERR(e, a->loc, "'%s' takes %d argument%s, got %d", a->name, lo, lo == 1 ? "" : "s", a->items.n);
		return ERR(e, a->loc, "'%s' takes %d to %d arguments, got %d", a->name, lo, hi, a->items.n);
	}
	return 0;
}

/* Unary float functions: name, opcode, C function for folding. */
static const struct {
	const char *name;
	gos_opcode op;
	double (*fold)(double);
} unary_fns[] = {
	{"exp", GOS_OP_EXP, exp}, {"log", GOS_OP_LOG, log}, {"sqrt", GOS_OP_SQRT, sqrt},
	{"rsqrt", GOS_OP_RSQRT, NULL}, {"tanh", GOS_OP_TANH, tanh}, {"erf", GOS_OP_ERF, erf},
	{"abs", GOS_OP_ABS, fabs}, {"floor", GOS_OP_FLOOR, floor},
};

/* Calls of builtin functions; returns 1 when name is not a builtin. */
static int eval_builtin(E *e, const gos_ast *a, val *out)
{
	const char *f = a->name;
	for (size_t i = 0; i < sizeof unary_fns / sizeof unary_fns[0]; i++) {
		if (strcmp(f, unary_fns[i].name))
			continue;
		val x;
		if (nargs(e, a, 1, 1) || eval(e, a->items.v[0], &x))
			return -1;
		if (x.k == V_LIST && x.n == 1 && !x.it[0].sym) {
			double c = x.it[0].c;
			double r = unary_fns[i].fold ? unary_fns[i].fold(c) : 1.0 / sqrt(c);
			int ii = (unary_fns[i].op == GOS_OP_ABS || unary_fns[i].op == GOS_OP_FLOOR) && x.it[0].is_int;
			*out = vnum(e, r, ii || (unary_fns[i].op == GOS_OP_FLOOR && fabs(r) < 9e15));
			return 0;
		}
		if (!e->b)
			return ERR(e, a->loc, "'%s' of a non-constant outside an op statement", f);
		int xi = to_float(e, &x, a->items.v[0]->loc);
		if (xi < 0)
			return -1;
		*out = vnone();
		out->k = V_FLOAT;
		out->ins = ins_op(e, unary_fns[i].op, xi, 0, 0);
		return 0;
	}
	if (!strcmp(f, "max") || !strcmp(f, "min") || !strcmp(f, "pow")) {
		val x, y;
		if (nargs(e, a, 2, 2) || eval(e, a->items.v[0], &x) || eval(e, a->items.v[1], &y))
			return -1;
		int ismax = !strcmp(f, "max"), ispow = !strcmp(f, "pow");
		if (x.k == V_LIST && y.k == V_LIST && x.n == 1 && y.n == 1) {
			if (!x.it[0].sym && !y.it[0].sym) {
				double p = x.it[0].c, q = y.it[0].c;
				if (ispow)
					*out = vnum(e, pow(p, q), 0);
				else
					*out = vnum(e, ismax ? fmax(p, q) : fmin(p, q), x.it[0].is_int && y.it[0].is_int);
				return 0;
			}
			if (!ispow && (x.it[0].sym || x.it[0].is_int) && (y.it[0].sym || y.it[0].is_int)) {
				int p = item_ix(e, &x.it[0], a->loc), q = item_ix(e, &y.it[0], a->loc);
				if (p < 0 || q < 0)
					return -1;
				*out = vlist(e, 1);
				out->it[0].sym = 1;
				out->it[0].is_int = 1;
				out->it[0].ix = ix_bin(e, ismax ? GOS_IX_MAX : GOS_IX_MIN, p, q);
				return 0;
			}
		}
		if (!e->b)
			return ERR(e, a->loc, "'%s' of non-constants outside an op statement", f);
		int p = to_float(e, &x, a->items.v[0]->loc), q = to_float(e, &y, a->items.v[1]->loc);
		if (p < 0 || q < 0)
			return -1;
		*out = vnone();
		out->k = V_FLOAT;
		out->ins = ins_op(e, ispow ? GOS_OP_POW : ismax ? GOS_OP_MAX : GOS_OP_MIN, p, q, 0);
		return 0;
	}
	if (!strcmp(f, "fma") || !strcmp(f, "select")) {
		val x[3];
		if (nargs(e, a, 3, 3))
			return -1;
		for (int i = 0; i < 3; i++)
			if (eval(e, a->items.v[i], &x[i]))
				return -1;
		int sel = f[0] == 's';
		if (sel && x[0].k == V_LIST && x[0].n == 1 && !x[0].it[0].sym) {
			*out = x[0].it[0].c != 0 ? x[1] : x[2];
			return 0;
		}
		if (!sel && x[0].k == V_LIST && x[1].k == V_LIST && x[2].k == V_LIST &&
		    x[0].n == 1 && x[1].n == 1 && x[2].n == 1 &&
		    !x[0].it[0].sym && !x[1].it[0].sym && !x[2].it[0].sym) {
			*out = vnum(e, x[0].it[0].c * x[1].it[0].c + x[2].it[0].c, 0);
			return 0;
		}
		if (!e->b)
			return ERR(e, a->loc, "'%s' of non-constants outside an op statement", f);
		int r[3];
		for (int i = 0; i < 3; i++)
			if ((r[i] = to_float(e, &x[i], a->items.v[i]->loc)) < 0)
				return -1;
		*out = vnone();
		out->k = V_FLOAT;
		out->ins = ins_op(e, sel ? GOS_OP_SELECT : GOS_OP_FMA, r[0], r[1], r[2]);
		return 0;
	}
	if (!strcmp(f, "float")) {
		val x;
		if (nargs(e, a, 1, 1) || eval(e, a->items.v[0], &x))
			return -1;
		if (x.k == V_LIST && x.n == 1 && !x.it[0].sym) {
			*out = vnum(e, x.it[0].c, 0);
			return 0;
		}
		if (!e->b)
			return ERR(e, a->loc, "'float' outside an op statement");
		int r = to_float(e, &x, a->items.v[0]->loc);
		if (r < 0)
			return -1;
		*out = vnone();
		out->k = V_FLOAT;
		out->ins = r;
		return 0;
	}
	if (!strcmp(f, "dim") || !strcmp(f, "rank")) {
		int isdim = f[0] == 'd';
		val x;
		if (nargs(e, a, isdim ? 2 : 1, isdim ? 2 : 1) || eval(e, a->items.v[0], &x))
			return -1;
		if (x.k != V_TENSOR)
			return ERR(e, a->items.v[0]->loc, "'%s' needs a tensor, got %s", f, kind_name(&x));
		int rank;
		const int64_t *shape;
		tshape(e, &x, &rank, &shape);
		if (!isdim) {
			*out = vnum(e, rank, 1);
			return 0;
		}
		int64_t k;
		if (eval_int_arg(e, a->items.v[1], &k))
			return -1;
		if (k < -rank || k >= rank)
			return ERR(e, a->items.v[1]->loc, "dimension %lld is out of range for rank %d", (long long)k, rank);
		*out = vnum(e, (double)shape[k < 0 ? k + rank : k], 1);
		return 0;
	}
	if (!strcmp(f, "present")) {
		if (nargs(e, a, 1, 1))
			return -1;
		if (a->items.v[0]->kind != GOS_A_NAME)
			return ERR(e, a->items.v[0]->loc, "'present' takes the name of an optional tensor");
		bind *b = lookup(e, a->items.v[0]->name);
		if (!b || (b->v.k != V_TENSOR && b->v.k != V_ABSENT))
			return ERR(e, a->items.v[0]->loc, "'%s' is not a tensor parameter", a->items.v[0]->name);
		*out = vnum(e, b->v.k == V_TENSOR, 1);
		return 0;
	}
	if (!strcmp(f, "len") || !strcmp(f, "prod")) {
		val x;
		if (nargs(e, a, 1, 1) || eval_list_arg(e, a->items.v[0], &x))
			return -1;
		if (f[0] == 'l') {
			*out = vnum(e, x.n, 1);
			return 0;
		}
		double p = 1;
		for (int i = 0; i < x.n; i++) {
			if (x.it[i].sym || !x.it[i].is_int)
				return ERR(e, a->loc, "'prod' needs integers known at compile time");
			p *= x.it[i].c;
		}
		*out = vnum(e, p, 1);
		return 0;
	}
	if (!strcmp(f, "list"))
		return nargs(e, a, 0, 1000) ? -1 : eval_items(e, &a->items, out, NULL);
	if (!strcmp(f, "take")) {
		val x;
		int64_t lo, hi;
		if (nargs(e, a, 3, 3) || eval_list_arg(e, a->items.v[0], &x) ||
		    eval_int_arg(e, a->items.v[1], &lo) || eval_int_arg(e, a->items.v[2], &hi))
			return -1;
		if (lo < 0 || hi < lo || hi > x.n)
			return ERR(e, a->loc, "take(P, %lld, %lld) of a list of %d elements", (long long)lo, (long long)hi, x.n);
		*out = vlist(e, (int)(hi - lo));
		memcpy(out->it, x.it + lo, sizeof(item) * (size_t)(hi - lo));
		return 0;
	}
	if (!strcmp(f, "set")) {
		val x, y;
		int64_t k;
		if (nargs(e, a, 3, 3) || eval_list_arg(e, a->items.v[0], &x) ||
		    eval_int_arg(e, a->items.v[1], &k) || eval(e, a->items.v[2], &y))
			return -1;
		if (k < -x.n || k >= x.n)
			return ERR(e, a->items.v[1]->loc, "set: position %lld is out of range for %d elements", (long long)k, x.n);
		if (y.k != V_LIST || y.n != 1)
			return ERR(e, a->items.v[2]->loc, "set: expected a number, got %s", kind_name(&y));
		*out = vlist(e, x.n);
		memcpy(out->it, x.it, sizeof(item) * (size_t)x.n);
		out->it[k < 0 ? k + x.n : k] = y.it[0];
		return 0;
	}
	if (!strcmp(f, "permute") || !strcmp(f, "ipermute")) {
		val x, p;
		if (nargs(e, a, 2, 2) || eval_list_arg(e, a->items.v[0], &x) || eval_list_arg(e, a->items.v[1], &p))
			return -1;
		if (p.n != x.n)
			return ERR(e, a->items.v[1]->loc, "the permutation has %d elements but the list has %d", p.n, x.n);
		int seen[GOS_MAX_RANK * 4] = {0};
		if (x.n > (int)(sizeof seen / sizeof seen[0]))
			return ERR(e, a->loc, "permutation too long");
		for (int i = 0; i < p.n; i++) {
			double c = p.it[i].c;
			if (p.it[i].sym || !p.it[i].is_int || c < 0 || c >= x.n || seen[(int)c]++)
				return ERR(e, a->items.v[1]->loc, "not a permutation of 0..%d", x.n - 1);
		}
		*out = vlist(e, x.n);
		for (int i = 0; i < x.n; i++) {
			int pi = (int)p.it[i].c;
			if (f[0] == 'p')
				out->it[i] = x.it[pi];
			else
				out->it[pi] = x.it[i];
		}
		return 0;
	}
	if (!strcmp(f, "unravel")) {
		val x, p;
		if (nargs(e, a, 2, 2) || eval(e, a->items.v[0], &x) || eval_list_arg(e, a->items.v[1], &p))
			return -1;
		if (x.k != V_LIST || x.n != 1)
			return ERR(e, a->items.v[0]->loc, "unravel: expected an integer, got %s", kind_name(&x));
		for (int i = 0; i < p.n; i++)
			if (p.it[i].sym || !p.it[i].is_int || p.it[i].c < 1)
				return ERR(e, a->items.v[1]->loc, "unravel: the shape must be positive integers");
		*out = vlist(e, p.n);
		if (!x.it[0].sym) {
			int64_t v = (int64_t)x.it[0].c;
			for (int d = p.n - 1; d >= 0; d--) {
				out->it[d] = inum((double)floormod(v, (int64_t)p.it[d].c));
				v = floordiv(v, (int64_t)p.it[d].c);
			}
			return 0;
		}
		int64_t stride = 1;
		for (int d = p.n - 1; d >= 0; d--) {
			int64_t pd = (int64_t)p.it[d].c;
			if (pd == 1) {
				out->it[d] = inum(0);
			} else {
				int q = ix_bin(e, GOS_IX_DIV, x.it[0].ix, ix_const(e, stride));
				if (d > 0)
					q = ix_bin(e, GOS_IX_MOD, q, ix_const(e, pd));
				out->it[d] = (item){1, 1, 0, q};
			}
			stride *= pd;
		}
		return 0;
	}
	if (!strcmp(f, "ravel")) {
		if (a->named.n || a->items.n < 1)
			return ERR(e, a->loc, "ravel(..index, shape) takes an index list and a shape");
		gos_alist idx = a->items;
		idx.n--;
		val x, p;
		if (eval_items(e, &idx, &x, NULL) || eval_list_arg(e, a->items.v[a->items.n - 1], &p))
			return -1;
		if (x.n != p.n)
			return ERR(e, a->loc, "ravel: %d indices for a shape of %d dimensions", x.n, p.n);
		int acc = -1;
		double cacc = 0;
		int64_t stride = 1;
		for (int d = p.n - 1; d >= 0; d--) {
			if (p.it[d].sym || !p.it[d].is_int)
				return ERR(e, a->loc, "ravel: the shape must be integers known at compile time");
			if (x.it[d].sym) {
				if (!e->b)
					return ERR(e, a->loc, "ravel outside an op statement");
				int t = ix_bin(e, GOS_IX_MUL, x.it[d].ix, ix_const(e, stride));
				acc = acc < 0 ? t : ix_bin(e, GOS_IX_ADD, t, acc);
			} else {
				cacc += x.it[d].c * (double)stride;
			}
			stride *= (int64_t)p.it[d].c;
		}
		if (acc < 0) {
			*out = vnum(e, cacc, 1);
		} else {
			*out = vlist(e, 1);
			out->it[0] = (item){1, 1, 0, cacc ? ix_bin(e, GOS_IX_ADD, acc, ix_const(e, (int64_t)cacc)) : acc};
		}
		return 0;
	}
	return 1;
}

static int eval_call(E *e, const gos_ast *a, val *out)
{
	const gos_def *def = gos_fe_find(e->fe, a->name);
	if (!e->in_op && def && (def->kind == GOS_D_OP || def->kind == GOS_D_BLOCK))
		return apply_call(e, a, def, out);
	int rc = eval_builtin(e, a, out);
	if (rc <= 0)
		return rc;
	if (def && e->in_op)
		return ERR(e, a->loc, "'%s' is an operator; operators cannot be applied inside an op body", a->name);
	gos_error(e->d, a->loc, "unknown %s '%s'", e->in_op ? "function" : "operator or block", a->name);
	suggest(e, a->loc, a->name, !e->in_op, 0, 1);
	note_call(e);
	return -1;
}

static int new_param(E *e, const char *name, const gos_alist *shape, const gos_ast *init, gos_loc loc, val *out);

static int eval(E *e, const gos_ast *a, val *out)
{
	*out = vnone();
	switch (a->kind) {
	case GOS_A_NUM:
		*out = vnum(e, a->num, a->is_int);
		return 0;
	case GOS_A_STR:
		return ERR(e, a->loc, "a string is not allowed here");
	case GOS_A_NAME: {
		bind *b = lookup(e, a->name);
		if (!b) {
			gos_error(e->d, a->loc, "unknown name '%s'", a->name);
			suggest(e, a->loc, a->name, 0, 1, 0);
			note_call(e);
			return -1;
		}
		if (b->v.k == V_NONE)
			return -1; /* already reported */
		*out = b->v;
		return 0;
	}
	case GOS_A_LIST:
		return eval_items(e, &a->items, out, NULL);
	case GOS_A_SPREAD:
		return ERR(e, a->loc, "'..' is only allowed in lists, index lists and shapes");
	case GOS_A_INDEX:
		return eval_index(e, a, out);
	case GOS_A_CALL:
		return eval_call(e, a, out);
	case GOS_A_UN: {
		val x;
		if (eval(e, a->a, &x))
			return -1;
		if (a->op == '!') {
			if (x.k != V_LIST || x.n != 1 || x.it[0].sym)
				return ERR(e, a->loc, "'!' needs a condition known at compile time");
			*out = vnum(e, x.it[0].c == 0, 1);
			return 0;
		}
		val zero = vnum(e, 0, 1);
		if (x.k == V_LIST && x.n == 1 && !x.it[0].sym) {
			*out = vnum(e, -x.it[0].c, x.it[0].is_int);
			return 0;
		}
		if (x.k == V_FLOAT) {
			*out = x;
			out->ins = ins_op(e, GOS_OP_NEG, x.ins, 0, 0);
			return 0;
		}
		return arith(e, '-', &zero, &x, a->loc, out);
	}
	case GOS_A_BIN: {
		val x, y;
		if (eval(e, a->a, &x) || eval(e, a->b, &y))
			return -1;
		return arith(e, a->op, &x, &y, a->loc, out);
	}
	case GOS_A_RED: {
		if (!e->in_op || !e->b)
			return ERR(e, a->loc, "reductions are only allowed in op statements");
		if (e->b->n_red)
			return ERR(e, a->loc, "a reduction inside a reduction's body is not supported; compute the inner one into a `local`");
		/* hoist into a temporary with the destination's shape */
		opi *oi = e->oi;
		sb *outer = e->b;
		int dst = -1;
		if (oi->n_buf == oi->cap_buf) {
			oi->cap_buf *= 2;
			gos_buf *nb = GOS_NEWN(e->tmp, gos_buf, oi->cap_buf);
			int *nk = GOS_NEWN(e->tmp, int, oi->cap_buf), *nw = GOS_NEWN(e->tmp, int, oi->cap_buf);
			memcpy(nb, oi->bufs, sizeof *nb * (size_t)oi->n_buf);
			memcpy(nk, oi->known, sizeof *nk * (size_t)oi->n_buf);
			memcpy(nw, oi->written, sizeof *nw * (size_t)oi->n_buf);
			oi->bufs = nb;
			oi->known = nk;
			oi->written = nw;
		}
		dst = oi->n_buf++;
		gos_buf *tb = &oi->bufs[dst];
		memset(tb, 0, sizeof *tb);
		tb->name = gos_arena_printf(e->tmp, "red%d", oi->n_hoist++);
		tb->rank = outer->rank;
		for (int d = 0; d < outer->rank; d++)
			tb->shape[d] = outer->ext[d];
		tb->value = -1;
		oi->known[dst] = 1;
		sb inner;
		memset(&inner, 0, sizeof inner);
		inner.rank = outer->rank;
		inner.nvar = outer->rank;
		memcpy(inner.ext, outer->ext, sizeof inner.ext);
		memcpy(inner.vn, outer->vn, sizeof inner.vn);
		e->b = &inner;
		for (int d = 0; d < outer->rank; d++)
			ix_add(e, GOS_IX_VAR, 0, 0, d);
		gos_red kind;
		int outer_dst = e->cur_dst;
		e->cur_dst = dst;
		int rc = reduce_into(e, a, dst, &kind);
		e->cur_dst = outer_dst;
		e->b = outer;
		if (rc)
			return -1;
		gos_ins in;
		memset(&in, 0, sizeof in);
		in.op = GOS_OP_LOAD;
		in.buf = dst;
		in.nidx = outer->rank;
		in.idx = GOS_NEWN(e->tmp, int, outer->rank > 0 ? outer->rank : 1);
		for (int d = 0; d < outer->rank; d++)
			in.idx[d] = d;
		*out = vnone();
		out->k = V_FLOAT;
		out->ins = ins_add(e, in);
		return 0;
	}
	case GOS_A_PARAM:
		if (e->in_op)
			return ERR(e, a->loc, "'param' is not allowed in an op body");
		return new_param(e, NULL, &a->items, a->c, a->loc, out);
	default:
		return ERR(e, a->loc, "unexpected expression");
	}
}

/* ---- statements of op bodies ------------------------------------------------- */

/* Finds the extent of variable `name` from loads in a that index a tensor
 * dimension with it alone; 0 when none. */
static int64_t infer_extent(E *e, const gos_ast *a, const char *name)
{
	if (!a)
		return 0;
	if (a->kind == GOS_A_INDEX && a->a && a->a->kind == GOS_A_NAME) {
		bind *b = lookup(e, a->a->name);
		if (b && b->v.k == V_TENSOR && e->oi->known[b->v.t]) {
			const gos_buf *bf = &e->oi->bufs[b->v.t];
			int sp = -1, n = a->items.n;
			for (int i = 0; i < n; i++)
				if (a->items.v[i]->kind == GOS_A_SPREAD)
					sp = sp < 0 ? i : -2;
			for (int i = 0; i < n && sp != -2; i++) {
				const gos_ast *x = a->items.v[i];
				if (x->kind != GOS_A_NAME || strcmp(x->name, name))
					continue;
				int d = sp < 0 || i <= sp ? i : bf->rank - (n - i);
				if (sp < 0 && n != bf->rank)
					continue;
				if (d >= 0 && d < bf->rank)
					return bf->shape[d];
			}
		}
	}
	int64_t r = infer_extent(e, a->a, name);
	if (!r) r = infer_extent(e, a->b, name);
	if (!r) r = infer_extent(e, a->c, name);
	for (int i = 0; !r && i < a->items.n; i++)
		r = infer_extent(e, a->items.v[i], name);
	for (int i = 0; !r && i < a->named.n; i++)
		r = infer_extent(e, a->named.v[i], name);
	return r;
}

/* Shape inference for a result without a declared shape, from the loads
 * of rhs indexed by the left-hand variables (numpy broadcasting). */
typedef struct inf {
	const gos_alist *lhs;
	int pack;            /* position of the ..pack in lhs, or -1 */
	int packlen;
	int64_t pdims[GOS_MAX_RANK]; /* pack dims, right-aligned at packlen */
	int64_t sdims[GOS_MAX_RANK]; /* per lhs position (non-pack) */
	int err;
	gos_loc errloc;
	const char *other_name;
	int other_rank;
	const int64_t *other_shape;
} inf;

static int bcast(int64_t *have, int64_t got)
{
	if (*have == 0 || *have == 1)
		*have = got;
	else if (got != 1 && got != *have)
		return -1;
	return 0;
}

static void infer_walk(E *e, const gos_ast *a, inf *f)
{
	if (!a || f->err)
		return;
	if (a->kind == GOS_A_INDEX && a->a && a->a->kind == GOS_A_NAME) {
		bind *b = lookup(e, a->a->name);
		if (b && b->v.k == V_TENSOR && e->oi->known[b->v.t]) {
			const gos_buf *bf = &e->oi->bufs[b->v.t];
			int sp = -1, n = a->items.n;
			for (int i = 0; i < n; i++)
				if (a->items.v[i]->kind == GOS_A_SPREAD)
					sp = sp < 0 ? i : -2;
			if (sp != -2 && (sp >= 0 || n == bf->rank) && (sp < 0 || n - 1 <= bf->rank)) {
				for (int i = 0; i < n; i++) {
					const gos_ast *x = a->items.v[i];
					int d = sp < 0 || i <= sp ? i : bf->rank - (n - i);
					if (x->kind == GOS_A_SPREAD && x->a->kind == GOS_A_NAME && f->pack >= 0 &&
					    !strcmp(x->a->name, f->lhs->v[f->pack]->a->name)) {
						int len = bf->rank - (n - 1);
						if (len > f->packlen) {
							/* shift right-aligned dims */
							int sh = len - f->packlen;
							for (int k = GOS_MAX_RANK - 1; k >= 0; k--)
								f->pdims[k] = k >= sh ? f->pdims[k - sh] : 0;
							f->packlen = len;
						}
						for (int k = 0; k < len; k++)
							if (bcast(&f->pdims[f->packlen - len + k], bf->shape[d + k])) {
								f->err = 1;
								f->errloc = a->loc;
								f->other_name = bf->name;
								f->other_rank = bf->rank;
								f->other_shape = bf->shape;
							}
						continue;
					}
					if (x->kind != GOS_A_NAME)
						continue;
					for (int j = 0; j < f->lhs->n; j++)
						if (j != f->pack && !strcmp(f->lhs->v[j]->name, x->name) && d >= 0 && d < bf->rank)
							if (bcast(&f->sdims[j], bf->shape[d])) {
								f->err = 1;
								f->errloc = a->loc;
								f->other_name = bf->name;
								f->other_rank = bf->rank;
								f->other_shape = bf->shape;
							}
				}
			}
		}
	}
	infer_walk(e, a->a, f);
	infer_walk(e, a->b, f);
	infer_walk(e, a->c, f);
	for (int i = 0; i < a->items.n; i++)
		infer_walk(e, a->items.v[i], f);
	for (int i = 0; i < a->named.n; i++)
		infer_walk(e, a->named.v[i], f);
}

static int infer_shape(E *e, const gos_sast *s, int dst)
{
	inf f;
	memset(&f, 0, sizeof f);
	f.lhs = &s->lhs->items;
	f.pack = -1;
	for (int i = 0; i < f.lhs->n; i++)
		if (f.lhs->v[i]->kind == GOS_A_SPREAD)
			f.pack = i;
	infer_walk(e, s->e, &f);
	gos_buf *bf = &e->oi->bufs[dst];
	if (f.err) {
		/* find a tensor in the pack's loads to name both shapes */
		return ERR(e, f.errloc, "cannot infer the shape of '%s': '%s' %s does not broadcast with the other operands",
		           bf->name, f.other_name, shape_str(e, f.other_rank, f.other_shape));
	}
	int rank = f.lhs->n - (f.pack >= 0) + (f.pack >= 0 ? f.packlen : 0);
	if (rank > GOS_MAX_RANK)
		return ERR(e, s->loc, "'%s' would have rank %d (at most %d)", bf->name, rank, GOS_MAX_RANK);
	int d = 0;
	for (int i = 0; i < f.lhs->n; i++) {
		if (i == f.pack) {
			for (int k = 0; k < f.packlen; k++)
				bf->shape[d++] = f.pdims[k] ? f.pdims[k] : 1;
			continue;
		}
		if (!f.sdims[i])
			return ERR(e, f.lhs->v[i]->loc, "cannot infer the range of '%s' (the shape of '%s' is not declared); declare the result's shape",
			           f.lhs->v[i]->name, bf->name);
		bf->shape[d++] = f.sdims[i];
	}
	bf->rank = rank;
	e->oi->known[dst] = 1;
	return 0;
}

/* Copies the statement built in e->b into the node. */
static void finish_stmt(E *e, int dst, gos_red red, int result)
{
	opi *oi = e->oi;
	sb *b = e->b;
	oi->stmts = gos_arena_grow(e->tmp, oi->stmts, oi->n_stmt, &oi->cap_stmt, sizeof *oi->stmts);
	gos_arena *ar = e->m->arena;
	gos_stmt *st = &oi->stmts[oi->n_stmt++];
	memset(st, 0, sizeof *st);
	st->dst = dst;
	st->red = red;
	st->n_red = b->n_red;
	st->red_extent = GOS_NEWN(ar, int64_t, b->n_red > 0 ? b->n_red : 1);
	for (int j = 0; j < b->n_red; j++)
		st->red_extent[j] = b->ext[b->rank + j];
	st->var_names = GOS_NEWN(ar, const char *, b->nvar > 0 ? b->nvar : 1);
	for (int v = 0; v < b->nvar; v++)
		st->var_names[v] = gos_arena_strdup(ar, b->vn[v]);
	st->n_ix = b->nix;
	st->ix = gos_arena_memdup(ar, b->ix, sizeof *b->ix * (size_t)(b->nix > 0 ? b->nix : 1));
	st->n_ins = b->nins;
	st->ins = gos_arena_memdup(ar, b->ins, sizeof *b->ins * (size_t)(b->nins > 0 ? b->nins : 1));
	for (int i = 0; i < b->nins; i++)
		if (st->ins[i].nidx)
			st->ins[i].idx = gos_arena_memdup(ar, st->ins[i].idx, sizeof(int) * (size_t)st->ins[i].nidx);
		else
			st->ins[i].idx = NULL;
	st->result = result;
	oi->written[dst] = 1;
}

/* Builds a reduction statement red (a GOS_A_RED) writing dst; the
 * builder e->b holds the destination variables. */
static int reduce_into(E *e, const gos_ast *red, int dst, gos_red *kind)
{
	sb *b = e->b;
	int mark = e->n_env;
	*kind = red->op == 's' ? GOS_RED_SUM : red->op == 'M' ? GOS_RED_MAX : GOS_RED_MIN;
	for (int i = 0; i < red->items.n; i++) {
		const gos_ast *r = red->items.v[i];
		int64_t ext = 0;
		if (r->a) {
			if (eval_int_arg(e, r->a, &ext))
				return -1;
			if (ext < 1)
				return ERR(e, r->a->loc, "the range of '%s' must be at least 1 (got %lld)", r->name, (long long)ext);
		} else {
			ext = infer_extent(e, red->a, r->name);
			if (!ext)
				return ERR(e, r->loc, "cannot infer the range of '%s': it is not used alone as an index of a tensor; write `%s: extent`",
				           r->name, r->name);
		}
		if (b->nvar >= GOS_MAX_VARS)
			return ERR(e, r->loc, "too many index variables in one statement (at most %d)", GOS_MAX_VARS);
		int v = b->nvar++;
		b->ext[v] = ext;
		b->vn[v] = r->name;
		b->n_red++;
		val iv = vlist(e, 1);
		iv.it[0] = (item){1, 1, 0, ix_add(e, GOS_IX_VAR, 0, 0, v)};
		push(e, r->name, iv, r->loc);
	}
	val body;
	int rc = eval(e, red->a, &body);
	int res = rc ? -1 : to_float(e, &body, red->a->loc);
	e->n_env = mark;
	if (res < 0)
		return -1;
	finish_stmt(e, dst, *kind, res);
	return 0;
}

static int op_stmts(E *e, const gos_slist *l, int from);

static int op_store(E *e, const gos_sast *s)
{
	bind *tb = lookup(e, s->lhs->name);
	if (!tb) {
		gos_error(e->d, s->loc, "unknown tensor '%s'", s->lhs->name);
		suggest(e, s->loc, s->lhs->name, 0, 1, 0);
		note_call(e);
		return -1;
	}
	if (tb->v.k != V_TENSOR || tb->v.t < e->oi->n_in)
		return ERR(e, s->loc, "'%s' is not a result or local of '%s'; only those can be written", s->lhs->name, e->oi->op->name);
	int dst = tb->v.t;
	gos_buf *bf = &e->oi->bufs[dst];
	const gos_alist *lhs = &s->lhs->items;
	int pack = -1;
	for (int i = 0; i < lhs->n; i++) {
		const gos_ast *x = lhs->v[i];
		if (x->kind == GOS_A_SPREAD) {
			if (pack >= 0)
				return ERR(e, x->loc, "only one '..' pack is allowed on the left");
			if (x->a->kind != GOS_A_NAME)
				return ERR(e, x->loc, "expected a pack name after '..'");
			pack = i;
		} else if (x->kind != GOS_A_NAME) {
			return ERR(e, x->loc, "the left side is indexed by variable names");
		}
	}
	if (!e->oi->known[dst] && infer_shape(e, s, dst))
		return -1;
	int plen = bf->rank - (lhs->n - (pack >= 0));
	if (plen < 0 || (pack < 0 && plen != 0))
		return ERR(e, s->loc, "'%s' has rank %d but the left side has %d indices", bf->name, bf->rank, lhs->n);
	sb b;
	memset(&b, 0, sizeof b);
	sb *saved = e->b;
	e->b = &b;
	b.rank = b.nvar = bf->rank;
	int mark = e->n_env;
	int d = 0;
	for (int i = 0; i < lhs->n; i++) {
		const gos_ast *x = lhs->v[i];
		if (i == pack) {
			val pv = vlist(e, plen);
			for (int k = 0; k < plen; k++, d++) {
				b.ext[d] = bf->shape[d];
				b.vn[d] = gos_arena_printf(e->tmp, "%s%d", x->a->name, k);
				pv.it[k] = (item){1, 1, 0, ix_add(e, GOS_IX_VAR, 0, 0, d)};
			}
			push(e, x->a->name, pv, x->loc);
			continue;
		}
		b.ext[d] = bf->shape[d];
		b.vn[d] = x->name;
		val iv = vlist(e, 1);
		iv.it[0] = (item){1, 1, 0, ix_add(e, GOS_IX_VAR, 0, 0, d)};
		push(e, x->name, iv, x->loc);
		d++;
	}
	/* the pool starts with VAR 0..rank-1 (fresh pool: ix_add keeps order) */
	int rc;
	int saved_dst = e->cur_dst;
	e->cur_dst = dst;
	if (s->e->kind == GOS_A_RED) {
		gos_red kind;
		rc = reduce_into(e, s->e, dst, &kind);
	} else {
		val v;
		rc = eval(e, s->e, &v);
		int r = rc ? -1 : to_float(e, &v, s->e->loc);
		if (r < 0)
			rc = -1;
		else
			finish_stmt(e, dst, GOS_RED_NONE, r);
	}
	e->n_env = mark;
	e->b = saved;
	e->cur_dst = saved_dst;
	return rc;
}

static int add_local(E *e, const gos_sast *s)
{
	val sh;
	if (eval_items(e, &s->lhs->items, &sh, NULL))
		return -1;
	opi *oi = e->oi;
	if (sh.n > GOS_MAX_RANK)
		return ERR(e, s->loc, "'%s' has rank %d (at most %d)", s->lhs->name, sh.n, GOS_MAX_RANK);
	if (oi->n_buf == oi->cap_buf)
		return ERR(e, s->loc, "too many locals");
	int t = oi->n_buf++;
	gos_buf *bf = &oi->bufs[t];
	memset(bf, 0, sizeof *bf);
	bf->name = s->lhs->name;
	bf->rank = sh.n;
	bf->value = -1;
	for (int i = 0; i < sh.n; i++) {
		if (sh.it[i].sym || !sh.it[i].is_int || sh.it[i].c < 1)
			return ERR(e, s->loc, "dimension %d of local '%s' must be a positive integer", i, s->lhs->name);
		bf->shape[i] = (int64_t)sh.it[i].c;
	}
	if (!numel_ok(bf->rank, bf->shape))
		return ERR(e, s->loc, "local '%s' has more than %lld elements", s->lhs->name, MAX_NUMEL);
	oi->known[t] = 1;
	val v = vnone();
	v.k = V_TENSOR;
	v.t = t;
	push(e, s->lhs->name, v, s->loc);
	return 0;
}

/* Shapes of the op's tensor arguments, for require messages. */
static const char *arg_shapes(E *e)
{
	char buf[512];
	int k = 0;
	buf[0] = 0;
	for (int i = 0; i < e->oi->n_in && k < 400; i++) {
		const gos_buf *bf = &e->oi->bufs[i];
		k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%s %s", i ? ", " : "", bf->name,
		              shape_str(e, bf->rank, bf->shape));
	}
	return gos_arena_strdup(e->tmp, buf);
}

static int cond(E *e, const gos_ast *a, int *out)
{
	val v;
	if (eval(e, a, &v))
		return -1;
	if (v.k != V_LIST || v.n != 1 || v.it[0].sym)
		return ERR(e, a->loc, "the condition must be known at compile time");
	*out = v.it[0].c != 0;
	return 0;
}

static int op_require(E *e, const gos_sast *s)
{
	int ok;
	if (cond(e, s->e, &ok))
		return -1;
	if (ok)
		return 0;
	gos_error(e->d, e->call, "%s: %s (%s)", e->oi->op->name, s->str, arg_shapes(e));
	gos_note(e->d, s->loc, "required here");
	return -1;
}

static int op_stmts(E *e, const gos_slist *l, int from)
{
	int rc = 0;
	for (int i = from; i < l->n && !rc; i++) {
		const gos_sast *s = l->v[i];
		switch (s->kind) {
		case GOS_S_STORE: rc = op_store(e, s); break;
		case GOS_S_LOCAL: rc = add_local(e, s); break;
		case GOS_S_REQUIRE: rc = op_require(e, s); break;
		case GOS_S_IF: {
			int c;
			rc = cond(e, s->e, &c);
			if (!rc)
				rc = op_stmts(e, c ? &s->body : &s->els, 0);
			break;
		}
		default:
			rc = ERR(e, s->loc, "this statement is not allowed in an op body");
		}
	}
	return rc;
}

/* ---- instantiation of operators ---------------------------------------------- */

/* Matches the pattern of tensor parameter p against shape (rank, shape),
 * binding names in e. */
static int match_pattern(E *e, const char *what, const gos_param *p, int rank, const int64_t *shape, gos_loc at)
{
	const gos_alist *pat = &p->shape;
	int sp = -1;
	for (int i = 0; i < pat->n; i++)
		if (pat->v[i]->kind == GOS_A_SPREAD)
			sp = i;
	int fixed = pat->n - (sp >= 0);
	const char *want = NULL;
	if ((sp < 0 && rank != fixed) || (sp >= 0 && rank < fixed)) {
		want = sp < 0 ? gos_arena_printf(e->tmp, "rank %d", fixed) : gos_arena_printf(e->tmp, "rank >= %d", fixed);
		gos_error(e->d, at, "'%s' expects %s of %s, got shape %s", what,
		          p->name, want, shape_str(e, rank, shape));
		return -1;
	}
	for (int i = 0; i < pat->n; i++) {
		const gos_ast *x = pat->v[i];
		int d = sp < 0 || i < sp ? i : rank - (pat->n - i);
		if (i == sp) {
			int len = rank - fixed;
			val pv = vlist(e, len);
			for (int k = 0; k < len; k++)
				pv.it[k] = inum((double)shape[i + k]);
			if (x->a->kind != GOS_A_NAME)
				return ERR(e, x->loc, "expected a pack name after '..'");
			push(e, x->a->name, pv, x->loc);
			continue;
		}
		if (x->kind == GOS_A_NUM) {
			if ((double)shape[d] != x->num) {
				gos_error(e->d, at, "'%s': dimension %d of %s must be %g, got shape %s",
				          what, d, p->name, x->num, shape_str(e, rank, shape));
				return -1;
			}
			continue;
		}
		if (x->kind != GOS_A_NAME) {
			gos_error(e->d, x->loc, "a shape pattern holds names, integers, '_' and one '..pack'");
			return -1;
		}
		if (!strcmp(x->name, "_"))
			continue;
		bind *b = lookup(e, x->name);
		if (b && b->v.k == V_LIST && b->v.n == 1 && b->v.it[0].c != (double)shape[d]) {
			gos_error(e->d, at, "shape mismatch: %s %s has %s = %lld but %s was bound to %g before",
			          p->name, shape_str(e, rank, shape), x->name, (long long)shape[d], x->name, b->v.it[0].c);
			return -1;
		}
		if (!b)
			push(e, x->name, vnum(e, (double)shape[d], 1), x->loc);
	}
	return 0;
}

/* Converts attribute value v (a numeric list) into a node attribute. */
static gos_attr mk_attr(E *e, const char *name, const val *v)
{
	gos_attr a;
	a.name = gos_arena_strdup(e->m->arena, name);
	a.n = v->n;
	a.v = GOS_NEWN(e->m->arena, double, v->n > 0 ? v->n : 1);
	for (int i = 0; i < v->n; i++)
		a.v[i] = v->it[i].c;
	return a;
}

/* A given attribute: name, value (numeric list) and where it was written. */
typedef struct given {
	const char *name;
	val v;
	gos_loc loc;
} given;

/* Binds attributes: given ones, then defaults in order. */
static int bind_attrs(E *e, const gos_def *def, given *g, int ng, gos_loc call, gos_attr *out)
{
	int rc = 0;
	for (int i = 0; i < ng; i++) {
		int found = -1;
		for (int j = 0; j < def->aparams.n; j++)
			if (!strcmp(def->aparams.v[j].name, g[i].name))
				found = j;
		for (int j = 0; j < i; j++)
			if (!strcmp(g[j].name, g[i].name)) {
				gos_error(e->d, g[i].loc, "attribute '%s' is given twice", g[i].name);
				gos_note(e->d, g[j].loc, "first given here");
				rc = -1;
			}
		if (found < 0) {
			gos_error(e->d, g[i].loc, "'%s' has no attribute '%s'", def->name, g[i].name);
			const char *best = NULL;
			int bd = 3;
			for (int j = 0; j < def->aparams.n; j++) {
				int dd = gos_edit_distance(g[i].name, def->aparams.v[j].name, 3);
				if (dd < bd) {
					bd = dd;
					best = def->aparams.v[j].name;
				}
			}
			if (best)
				gos_note(e->d, g[i].loc, "did you mean '%s'?", best);
			else if (def->aparams.n)
				gos_note(e->d, def->loc, "'%s' is defined here", def->name);
			rc = -1;
		}
	}
	if (rc)
		return -1;
	for (int j = 0; j < def->aparams.n; j++) {
		const gos_param *p = &def->aparams.v[j];
		int gi = -1;
		for (int i = 0; i < ng; i++)
			if (!strcmp(g[i].name, p->name))
				gi = i;
		if (gi >= 0) {
			push(e, p->name, g[gi].v, g[gi].loc);
			if (out)
				out[j] = mk_attr(e, p->name, &g[gi].v);
		}
	}
	for (int j = 0; j < def->aparams.n; j++) {
		const gos_param *p = &def->aparams.v[j];
		int gi = -1;
		for (int i = 0; i < ng; i++)
			if (!strcmp(g[i].name, p->name))
				gi = i;
		if (gi >= 0)
			continue;
		if (!p->dflt) {
			gos_error(e->d, call, "'%s' needs attribute '%s'", def->name, p->name);
			gos_note(e->d, p->loc, "'%s' is declared here", p->name);
			rc = -1;
			continue;
		}
		val v;
		if (eval(e, p->dflt, &v)) {
			rc = -1;
			continue;
		}
		if (v.k != V_LIST || !is_const_list(&v)) {
			rc = ERR(e, p->dflt->loc, "an attribute default must be a number or a list of numbers");
			continue;
		}
		push(e, p->name, v, p->loc);
		if (out)
			out[j] = mk_attr(e, p->name, &v);
	}
	return rc;
}

/* Makes name unique among the module's values. */
static const char *unique_value_name(E *e, const char *base)
{
	gos_module *m = e->m;
	if (e->ms)
		return ns_unique(&e->ms->vnames, e->tmp, base);
	const char *n = base;
	for (int k = 1; gos_module_find_value(m, n) >= 0; k++)
		n = gos_arena_printf(e->tmp, "%s_%d", base, k);
	return n;
}

/* Instantiates op def on tensors in[] (module values, -1 = absent) with
 * given attributes; appends the node named node_name. Results in out[]. */
static int instantiate(E *caller, const gos_def *def, const char *node_name, int n_in, const int *in,
                       given *g, int ng, gos_loc call, int *out)
{
	gos_module *m = caller->m;
	if (n_in > def->tparams.n) {
		gos_error(caller->d, call, "'%s' takes %d tensor argument%s, got %d", def->name, def->tparams.n,
		          def->tparams.n == 1 ? "" : "s", n_in);
		return -1;
	}
	E e;
	memset(&e, 0, sizeof e);
	e.fe = caller->fe;
	e.d = caller->d;
	e.tmp = caller->tmp;
	e.m = m;
	e.in_op = 1;
	e.call = call;
	e.cur_dst = -1;
	opi oi;
	memset(&oi, 0, sizeof oi);
	oi.op = def;
	e.oi = &oi;
	oi.cap_buf = def->tparams.n + def->results.n + 64;
	oi.bufs = GOS_NEWN(e.tmp, gos_buf, oi.cap_buf);
	oi.known = GOS_NEWN(e.tmp, int, oi.cap_buf);
	oi.written = GOS_NEWN(e.tmp, int, oi.cap_buf);
	int rc = 0;
	for (int i = 0; i < def->tparams.n; i++) {
		const gos_param *p = &def->tparams.v[i];
		int v = i < n_in ? in[i] : -1;
		if (v < 0) {
			if (!p->optional) {
				gos_error(e.d, call, "'%s' needs tensor '%s' (argument %d)", def->name, p->name, i + 1);
				return -1;
			}
			val a = vnone();
			a.k = V_ABSENT;
			push(&e, p->name, a, p->loc);
			continue;
		}
		const gos_value *vv = &m->vals[v];
		if (p->has_shape && match_pattern(&e, def->name, p, vv->rank, vv->shape, call)) {
			rc = -1;
			continue;
		}
		int t = oi.n_buf++;
		gos_buf *bf = &oi.bufs[t];
		bf->name = p->name;
		bf->rank = vv->rank;
		memcpy(bf->shape, vv->shape, sizeof bf->shape);
		bf->value = v;
		oi.known[t] = 1;
		val tv = vnone();
		tv.k = V_TENSOR;
		tv.t = t;
		push(&e, p->name, tv, p->loc);
	}
	oi.n_in = oi.n_buf;
	if (rc)
		return -1;
	gos_attr *attrs = GOS_NEWN(m->arena, gos_attr, def->aparams.n > 0 ? def->aparams.n : 1);
	if (bind_attrs(&e, def, g, ng, call, attrs))
		return -1;
	/* leading requires first, so their messages win over shape errors */
	int lead = 0;
	while (lead < def->body.n && def->body.v[lead]->kind == GOS_S_REQUIRE) {
		if (op_require(&e, def->body.v[lead]))
			return -1;
		lead++;
	}
	if (m->n_node >= MAX_NODES) {
		gos_error(e.d, call, "the model has more than %d operator applications", MAX_NODES);
		return -1;
	}
	if (def->results.n > MAX_RESULTS)
		return ERR(&e, def->loc, "at most %d results", MAX_RESULTS);
	for (int i = 0; i < def->results.n; i++) {
		const gos_param *p = &def->results.v[i];
		int t = oi.n_buf++;
		gos_buf *bf = &oi.bufs[t];
		bf->name = p->name;
		bf->value = -1;
		if (p->has_shape) {
			val sh;
			if (eval_items(&e, &p->shape, &sh, NULL))
				return -1;
			if (sh.n > GOS_MAX_RANK)
				return ERR(&e, p->loc, "result '%s' would have rank %d (at most %d)", p->name, sh.n, GOS_MAX_RANK);
			bf->rank = sh.n;
			for (int k = 0; k < sh.n; k++) {
				if (sh.it[k].sym || !sh.it[k].is_int)
					return ERR(&e, p->loc, "dimension %d of result '%s' is not an integer", k, p->name);
				bf->shape[k] = (int64_t)sh.it[k].c;
			}
			for (int k = 0; k < sh.n; k++)
				if (bf->shape[k] < 1) {
					gos_error(e.d, call, "'%s': result '%s' would have shape %s (%s); every dimension must be at least 1",
					          def->name, p->name, shape_str(&e, bf->rank, bf->shape), arg_shapes(&e));
					return -1;
				}
			if (!numel_ok(bf->rank, bf->shape)) {
				gos_error(e.d, call, "'%s': result '%s' would have shape %s, more than %lld elements",
				          def->name, p->name, shape_str(&e, bf->rank, bf->shape), MAX_NUMEL);
				return -1;
			}
			oi.known[t] = 1;
		}
		val tv = vnone();
		tv.k = V_TENSOR;
		tv.t = t;
		push(&e, p->name, tv, p->loc);
	}
	oi.n_out = def->results.n;
	if (op_stmts(&e, &def->body, lead))
		return -1;
	for (int i = 0; i < oi.n_out; i++)
		if (!oi.written[oi.n_in + i])
			return ERR(&e, def->results.v[i].loc, "result '%s' of '%s' is never written", def->results.v[i].name, def->name);
	/* the node */
	int ni = gos_module_add_node(m, node_name, def->name);
	gos_node *n = &m->nodes[ni];
	n->loc = call;
	n->n_in = oi.n_in;
	n->in = GOS_NEWN(m->arena, int, oi.n_in > 0 ? oi.n_in : 1);
	for (int i = 0; i < oi.n_in; i++)
		n->in[i] = oi.bufs[i].value;
	n->n_out = oi.n_out;
	n->out = GOS_NEWN(m->arena, int, oi.n_out);
	for (int i = 0; i < oi.n_out; i++) {
		gos_buf *bf = &oi.bufs[oi.n_in + i];
		const char *vn = i == 0 ? node_name : gos_arena_printf(e.tmp, "%s.%d", node_name, i);
		vn = unique_value_name(caller, vn);
		int v = gos_module_add_value(m, vn, GOS_VAL_TEMP, GOS_F32, bf->rank, bf->shape);
		m->vals[v].loc = call;
		n = &m->nodes[ni];
		n->out[i] = v;
		bf->value = v;
		out[i] = v;
	}
	n->n_attr = def->aparams.n;
	n->attr = attrs;
	n->n_buf = oi.n_buf;
	n->bufs = GOS_NEWN(m->arena, gos_buf, oi.n_buf);
	for (int i = 0; i < oi.n_buf; i++) {
		n->bufs[i] = oi.bufs[i];
		n->bufs[i].name = gos_arena_strdup(m->arena, oi.bufs[i].name);
	}
	n->n_stmt = oi.n_stmt;
	n->stmts = GOS_NEWN(m->arena, gos_stmt, oi.n_stmt > 0 ? oi.n_stmt : 1);
	memcpy(n->stmts, oi.stmts, sizeof *n->stmts * (size_t)oi.n_stmt);
	return oi.n_out;
}

/* ---- models and blocks ----------------------------------------------------------- */

static const char *path_join(E *e, const char *a, const char *b)
{
	if (!a || !*a)
		return b;
	if (!b || !*b)
		return a;
	return gos_arena_printf(e->tmp, "%s.%s", a, b);
}

static const char *unique_in(E *e, nameset *s, const char *base)
{
	return ns_unique(s, e->tmp, base);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* A new weight value: param[shape] init spec. name NULL = anonymous
 * (named after the binding and e->bind). */
static int new_param(E *e, const char *name, const gos_alist *shape, const gos_ast *init, gos_loc loc, val *out)
{
	val sh;
	if (eval_items(e, shape, &sh, NULL))
		return -1;
	int64_t dims[GOS_MAX_RANK];
	if (sh.n > GOS_MAX_RANK)
		return ERR(e, loc, "a parameter of rank %d (at most %d)", sh.n, GOS_MAX_RANK);
	for (int i = 0; i < sh.n; i++) {
		if (sh.it[i].sym || !sh.it[i].is_int || sh.it[i].c < 1)
			return ERR(e, loc, "dimension %d of the parameter must be a positive integer (got %g)", i, sh.it[i].c);
		dims[i] = (int64_t)sh.it[i].c;
	}
	if (!numel_ok(sh.n, dims))
		return ERR(e, loc, "a parameter of shape %s has more than %lld elements", shape_str(e, sh.n, dims), MAX_NUMEL);
	const char *base = path_join(e, e->prefix, name ? name : e->bind);
	if (!base || !*base)
		base = "param";
	const char *vn = unique_value_name(e, base);
	int v = gos_module_add_value(e->m, vn, GOS_VAL_WEIGHT, GOS_F32, sh.n, dims);
	gos_value *w = &e->m->vals[v];
	w->loc = loc;
	int64_t fan = 1;
	for (int i = 1; i < sh.n; i++)
		fan *= dims[i];
	const char *kind = "he";
	val args[2];
	int na = 0;
	gos_loc iloc = init ? init->loc : loc;
	if (init) {
		if (init->kind == GOS_A_NAME) {
			kind = init->name;
		} else if (init->kind == GOS_A_CALL) {
			kind = init->name;
			if (init->named.n || init->items.n > 2)
				return ERR(e, iloc, "an initialiser takes at most two numbers");
			for (int i = 0; i < init->items.n; i++) {
				if (eval(e, init->items.v[i], &args[i]))
					return -1;
				if (args[i].k != V_LIST || args[i].n != 1 || args[i].it[0].sym)
					return ERR(e, init->items.v[i]->loc, "expected a number");
			}
			na = init->items.n;
		} else {
			return ERR(e, iloc, "expected an initialiser: he, zeros, ones, uniform(lo, hi), normal(mean, std) or fill(v)");
		}
	}
	static const struct { const char *name; int na; } inits[] = {
		{"he", 0}, {"zeros", 0}, {"ones", 0}, {"uniform", 2}, {"normal", 2}, {"fill", 1}};
	int ki = -1;
	for (int i = 0; i < 6; i++)
		if (!strcmp(kind, inits[i].name))
			ki = i;
	if (ki < 0)
		return ERR(e, iloc, "unknown initialiser '%s' (known: he, zeros, ones, uniform(lo, hi), normal(mean, std), fill(v))", kind);
	if (na != inits[ki].na)
		return ERR(e, iloc, "'%s' takes %d number%s", kind, inits[ki].na, inits[ki].na == 1 ? "" : "s");
	switch (ki) {
	case 0: {
		double b = sqrt(3.0 / (double)fan);
		w->init = GOS_INIT_UNIFORM;
		w->lo = -b;
		w->hi = b;
		break;
	}
	case 1: w->init = GOS_INIT_FILL; w->lo = 0; break;
	case 2: w->init = GOS_INIT_FILL; w->lo = 1; break;
	case 3: w->init = GOS_INIT_UNIFORM; w->lo = args[0].it[0].c; w->hi = args[1].it[0].c; break;
	case 4: w->init = GOS_INIT_NORMAL; w->lo = args[0].it[0].c; w->hi = args[1].it[0].c; break;
	default: w->init = GOS_INIT_FILL; w->lo = args[0].it[0].c; break;
	}
	if (ki == 3 && !(w->lo <= w->hi))
		return ERR(e, iloc, "uniform(lo, hi) needs lo <= hi");
	if (ki == 4 && !(w->hi >= 0))
		return ERR(e, iloc, "normal(mean, std) needs std >= 0");
	*out = vnone();
	out->k = V_TENSOR;
	out->t = v;
	return 0;
}

static int run_block(E *caller, const gos_def *def, const int *in, int n_in, given *g, int ng,
                     gos_loc call, val *out);

/* f(args; attrs) in a model or block. */
static int apply_call(E *e, const gos_ast *a, const gos_def *def, val *out)
{
	int n = a->items.n;
	int in[64];
	if (n > 64)
		return ERR(e, a->loc, "too many arguments");
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const gos_ast *x = a->items.v[i];
		val v;
		const char *saved = e->bind;
		if (x->kind == GOS_A_PARAM) {
			const char *pn = i < def->tparams.n ? def->tparams.v[i].name : "arg";
			e->bind = path_join(e, e->bind, pn);
		}
		int r = x->kind == GOS_A_SPREAD ? ERR(e, x->loc, "'..' is not allowed here") : eval(e, x, &v);
		e->bind = saved;
		if (r) {
			rc = -1;
			continue;
		}
		if (v.k != V_TENSOR) {
			rc = ERR(e, x->loc, "argument %d of '%s' must be a tensor, got %s%s", i + 1, def->name, kind_name(&v),
			         v.k == V_LIST ? " (attributes go after ';': f(x; name = value))" : "");
			continue;
		}
		in[i] = v.t;
	}
	given *g = GOS_NEWN(e->tmp, given, a->named.n > 0 ? a->named.n : 1);
	for (int i = 0; i < a->named.n; i++) {
		const gos_ast *x = a->named.v[i];
		g[i].name = x->name;
		g[i].loc = x->loc;
		if (eval(e, x->a, &g[i].v)) {
			rc = -1;
			continue;
		}
		if (g[i].v.k != V_LIST || !is_const_list(&g[i].v))
			rc = ERR(e, x->a->loc, "attribute '%s' must be a number or a list of numbers, got %s", x->name, kind_name(&g[i].v));
	}
	if (rc)
		return -1;
	if (def->kind == GOS_D_BLOCK)
		return run_block(e, def, in, n, g, a->named.n, a->loc, out);
	const char *base = path_join(e, e->prefix, e->bind);
	if (!base || !*base)
		base = def->name;
	const char *nn = unique_in(e, &e->ms->nnames, base);
	int res[MAX_RESULTS];
	int nr = instantiate(e, def, nn, n, in, g, a->named.n, a->loc, res);
	if (nr < 0)
		return -1;
	*out = vnone();
	if (nr == 1) {
		out->k = V_TENSOR;
		out->t = res[0];
	} else {
		out->k = V_MULTI;
		out->nm = nr;
		memcpy(out->mt, res, sizeof res);
	}
	return 0;
}

static int body_stmts(E *e, const gos_slist *l, val *ret, int *has_ret);

static int run_block(E *caller, const gos_def *def, const int *in, int n_in, given *g, int ng,
                     gos_loc call, val *out)
{
	if (caller->depth >= MAX_DEPTH)
		return ERR(caller, call, "blocks nested more than %d deep (is '%s' recursive?)", MAX_DEPTH, def->name);
	if (n_in != def->tparams.n) {
		gos_error(caller->d, call, "block '%s' takes %d tensor argument%s, got %d", def->name, def->tparams.n,
		          def->tparams.n == 1 ? "" : "s", n_in);
		return -1;
	}
	E e = *caller;
	e.env = NULL;
	e.n_env = e.cap_env = 0;
	e.depth = caller->depth + 1;
	e.is_model = 0;
	const char *base = path_join(caller, caller->prefix, caller->bind);
	if (!base || !*base)
		base = def->name;
	e.prefix = unique_in(caller, &caller->ms->pnames, base);
	e.bind = NULL;
	int rc = 0;
	for (int i = 0; i < n_in; i++) {
		const gos_param *p = &def->tparams.v[i];
		const gos_value *vv = &e.m->vals[in[i]];
		if (p->has_shape && match_pattern(&e, def->name, p, vv->rank, vv->shape, call)) {
			gos_note(e.d, p->loc, "'%s' is declared here", p->name);
			rc = -1;
			continue;
		}
		val tv = vnone();
		tv.k = V_TENSOR;
		tv.t = in[i];
		push(&e, p->name, tv, p->loc);
	}
	if (rc || bind_attrs(&e, def, g, ng, call, NULL))
		return -1;
	int has_ret = 0;
	if (body_stmts(&e, &def->body, out, &has_ret)) {
		gos_note(e.d, call, "in this application of block '%s'", def->name);
		return -1;
	}
	if (!has_ret)
		return ERR(caller, def->loc, "block '%s' ends without `return`", def->name);
	return 0;
}

static int bind_names(E *e, const gos_sast *s, val *v)
{
	if (s->n_names == 1) {
		if (v->k == V_MULTI)
			return ERR(e, s->loc, "the right side gives %d tensors; bind them with `a, b = ...`", v->nm);
		set(e, s->names[0], *v, s->loc);
		return 0;
	}
	if (v->k != V_MULTI || v->nm != s->n_names)
		return ERR(e, s->loc, "%d names bound to %s", s->n_names,
		           v->k == V_MULTI ? gos_arena_printf(e->tmp, "%d tensors", v->nm) : kind_name(v));
	for (int i = 0; i < s->n_names; i++) {
		val one = vnone();
		one.k = V_TENSOR;
		one.t = v->mt[i];
		set(e, s->names[i], one, s->loc);
	}
	return 0;
}

/* Poisons names after an error so later uses do not cascade. */
static void poison(E *e, const gos_sast *s)
{
	for (int i = 0; i < s->n_names; i++)
		set(e, s->names[i], vnone(), s->loc);
}

/* The shape of `input NAME: f32[...]`, checked. */
static int input_shape(E *e, const gos_sast *s, val *sh, int64_t *dims)
{
	if (strcmp(s->str, "f32"))
		return ERR(e, s->e2->loc, "unsupported element type '%s' (only f32)", s->str);
	if (eval_items(e, &s->lhs->items, sh, NULL))
		return -1;
	if (sh->n > GOS_MAX_RANK)
		return ERR(e, s->loc, "input '%s' has rank %d; at most %d is supported", s->lhs->name, sh->n, GOS_MAX_RANK);
	for (int i = 0; i < sh->n; i++) {
		gos_loc l = i < s->lhs->items.n ? s->lhs->items.v[i]->loc : s->loc;
		if (!sh->it[i].is_int)
			return ERR(e, l, "dimension %d of '%s' is %g, not an integer", i, s->lhs->name, sh->it[i].c);
		if (sh->it[i].c < 1)
			return ERR(e, l, "dimension %d of '%s' is %g; dimensions must be at least 1", i, s->lhs->name, sh->it[i].c);
		dims[i] = (int64_t)sh->it[i].c;
	}
	if (!numel_ok(sh->n, dims))
		return ERR(e, s->loc, "input '%s' has more than %lld elements", s->lhs->name, MAX_NUMEL);
	if (ns_has(&e->ms->vnames, s->lhs->name))
		return ERR(e, s->loc, "'%s' is already used as a value name", s->lhs->name);
	return 0;
}

static int model_input(E *e, const gos_sast *s)
{
	bind *old = lookup(e, s->lhs->name);
	if (old) {
		gos_error(e->d, s->loc, "'%s' is already defined", s->lhs->name);
		gos_note(e->d, old->loc, "previous definition here");
		return -1;
	}
	val sh;
	int64_t dims[GOS_MAX_RANK];
	if (input_shape(e, s, &sh, dims)) {
		push(e, s->lhs->name, vnone(), s->loc);
		return -1;
	}
	ns_add(&e->ms->vnames, s->lhs->name);
	int v = gos_module_add_value(e->m, s->lhs->name, GOS_VAL_INPUT, GOS_F32, sh.n, dims);
	e->m->vals[v].loc = s->loc;
	val tv = vnone();
	tv.k = V_TENSOR;
	tv.t = v;
	push(e, s->lhs->name, tv, s->loc);
	return 0;
}

static int model_output(E *e, const gos_sast *s)
{
	val v;
	const char *name = s->names[0];
	if (s->e) {
		e->bind = name;
		int rc = eval(e, s->e, &v);
		e->bind = NULL;
		if (rc) {
			poison(e, s);
			return -1;
		}
		if (bind_names(e, s, &v))
			return -1;
	} else {
		bind *b = lookup(e, name);
		if (!b) {
			gos_error(e->d, s->loc, "unknown name '%s'", name);
			suggest(e, s->loc, name, 0, 1, 0);
			return -1;
		}
		if (b->v.k == V_NONE)
			return -1;
		v = b->v;
	}
	if (v.k != V_TENSOR)
		return ERR(e, s->loc, "an output must be a tensor, got %s", kind_name(&v));
	gos_value *val_ = &e->m->vals[v.t];
	/* outputs are named as written where that name is free */
	if (val_->kind == GOS_VAL_TEMP && strcmp(val_->name, name)) {
		int j = gos_module_find_value(e->m, name);
		int j_out = 0;
		for (int i = 0; j >= 0 && i < e->m->n_output; i++)
			j_out |= e->m->outputs[i] == j;
		if (j >= 0 && e->m->vals[j].kind == GOS_VAL_TEMP && !j_out) {
			/* the name belongs to an earlier intermediate: rename it */
			e->m->vals[j].name = gos_arena_strdup(e->m->arena, unique_value_name(e, name));
			j = -1;
		}
		if (j < 0) {
			val_->name = gos_arena_strdup(e->m->arena, name);
			ns_add(&e->ms->vnames, val_->name);
		}
	}
	for (int i = 0; i < e->m->n_output; i++)
		if (e->m->outputs[i] == v.t)
			return ERR(e, s->loc, "'%s' is already an output", name);
	gos_module_add_output(e->m, v.t);
	return 0;
}

static int body_stmts(E *e, const gos_slist *l, val *ret, int *has_ret)
{
	int rc = 0;
	for (int i = 0; i < l->n && !*has_ret; i++) {
		const gos_sast *s = l->v[i];
		if (e->d->n_errors >= e->d->max_errors)
			return -1;
		if (e->ms && ++e->ms->steps > MAX_STEPS)
			return ERR(e, s->loc, "elaboration takes more than %d steps (an enormous loop?)", MAX_STEPS);
		int r = 0;
		switch (s->kind) {
		case GOS_S_BIND: {
			val v;
			e->bind = s->n_names == 1 ? s->names[0] : s->names[0];
			r = eval(e, s->e, &v);
			e->bind = NULL;
			if (r)
				poison(e, s);
			else
				r = bind_names(e, s, &v);
			break;
		}
		case GOS_S_PARAM: {
			val v;
			r = new_param(e, s->lhs->name, &s->lhs->items, s->e2, s->loc, &v);
			set(e, s->lhs->name, r ? vnone() : v, s->loc);
			break;
		}
		case GOS_S_IF: {
			int c;
			r = cond(e, s->e, &c);
			if (!r)
				r = body_stmts(e, c ? &s->body : &s->els, ret, has_ret);
			break;
		}
		case GOS_S_FOR: {
			int64_t lo, hi;
			if (eval_int_arg(e, s->e, &lo) || eval_int_arg(e, s->e2, &hi)) {
				r = -1;
				break;
			}
			if (hi - lo > MAX_LOOP) {
				r = ERR(e, s->loc, "a loop of %lld iterations (at most %d)", (long long)(hi - lo), MAX_LOOP);
				break;
			}
			for (int64_t k = lo; k < hi && !r && !*has_ret; k++) {
				set(e, s->names[0], vnum(e, (double)k, 1), s->loc);
				r = body_stmts(e, &s->body, ret, has_ret);
			}
			break;
		}
		case GOS_S_REQUIRE: {
			int c;
			r = cond(e, s->e, &c);
			if (!r && !c)
				r = ERR(e, s->loc, "%s", s->str);
			break;
		}
		case GOS_S_RETURN: {
			if (e->is_model) {
				r = ERR(e, s->loc, "`return` is only allowed in blocks");
				break;
			}
			val vs[MAX_RESULTS];
			if (s->items.n > MAX_RESULTS) {
				r = ERR(e, s->loc, "at most %d results", MAX_RESULTS);
				break;
			}
			for (int k = 0; k < s->items.n && !r; k++) {
				e->bind = NULL;
				r = eval(e, s->items.v[k], &vs[k]);
				if (!r && vs[k].k != V_TENSOR)
					r = ERR(e, s->items.v[k]->loc, "a block returns tensors, got %s", kind_name(&vs[k]));
			}
			if (r)
				break;
			*ret = vnone();
			if (s->items.n == 1) {
				*ret = vs[0];
			} else {
				ret->k = V_MULTI;
				ret->nm = s->items.n;
				for (int k = 0; k < s->items.n; k++)
					ret->mt[k] = vs[k].t;
			}
			*has_ret = 1;
			break;
		}
		case GOS_S_INPUT:
		case GOS_S_OUTPUT:
		case GOS_S_SEED:
		case GOS_S_WFILE:
			if (!e->is_model) {
				r = ERR(e, s->loc, "this statement is only allowed in a model");
				break;
			}
			if (s->kind == GOS_S_INPUT)
				r = model_input(e, s);
			else if (s->kind == GOS_S_OUTPUT)
				r = model_output(e, s);
			break; /* weights statements were read before */
		default:
			r = ERR(e, s->loc, "this statement is only allowed in op bodies");
		}
		if (r)
			rc = -1;
		if (r && !e->is_model)
			return -1; /* stop a failing block at its first error */
	}
	return rc;
}

/* ---- entry points ----------------------------------------------------------------- */

gos_module *gos_elab_model(gos_fe *fe, const gos_def *md, const char *weights_dir)
{
	gos_module *m = gos_module_new(md->name);
	gos_arena *tmp = gos_arena_new();
	mstate ms;
	memset(&ms, 0, sizeof ms);
	if (!m || !tmp) {
		gos_module_free(m);
		gos_arena_free(tmp);
		gos_error(fe->d, md->loc, "out of memory");
		return NULL;
	}
	int errs = fe->d->n_errors;
	/* out of memory anywhere below: report, free, return NULL */
	jmp_buf oom;
	if (setjmp(oom)) {
		ns_free(&ms.vnames);
		ns_free(&ms.nnames);
		ns_free(&ms.pnames);
		ns_free(&ms.reserved);
		gos_arena_free(tmp);
		gos_module_free(m);
		gos_error(fe->d, md->loc, "out of memory");
		return NULL;
	}
	gos_arena_set_oom_jump(tmp, &oom);
	gos_arena_set_oom_jump(m->arena, &oom);
	E e;
	memset(&e, 0, sizeof e);
	e.fe = fe;
	e.d = fe->d;
	e.tmp = tmp;
	e.m = m;
	e.ms = &ms;
	e.prefix = "";
	e.is_model = 1;
	/* weights statements apply to the whole model */
	int seen_w = 0;
	for (int i = 0; i < md->body.n; i++) {
		const gos_sast *s = md->body.v[i];
		if (s->kind != GOS_S_SEED && s->kind != GOS_S_WFILE)
			continue;
		if (seen_w++) {
			ERR(&e, s->loc, "the weights are already given");
			continue;
		}
		if (s->kind == GOS_S_SEED) {
			int64_t k;
			if (!eval_int_arg(&e, s->e, &k)) {
				if (k < 0)
					ERR(&e, s->loc, "the seed must not be negative");
				ms.seed = (uint64_t)k;
			}
		} else {
			const char *path = s->str[0] == '/' || !weights_dir ? s->str
			                   : gos_arena_printf(tmp, "%s/%s", weights_dir, s->str);
			FILE *f = fopen(path, "rb");
			if (!f) {
				ERR(&e, s->loc, "cannot open weights file '%s'", path);
			} else {
				fclose(f);
				m->weights_file = gos_arena_strdup(m->arena, s->str);
				m->base_dir = gos_arena_strdup(m->arena, weights_dir ? weights_dir : ".");
				ms.has_file = 1;
			}
		}
	}
	val ret;
	int has_ret = 0;
	body_stmts(&e, &md->body, &ret, &has_ret);
	if (fe->d->n_errors == errs && m->n_output == 0)
		gos_error(fe->d, md->loc, "model '%s' has no outputs", md->name);
	/* initialisers: per-parameter seeds, or the weights file */
	for (int i = 0; i < m->n_val; i++) {
		gos_value *w = &m->vals[i];
		if (w->kind != GOS_VAL_WEIGHT)
			continue;
		if (ms.has_file) {
			w->init = GOS_INIT_FILE;
			w->key = w->name;
		} else if (w->init == GOS_INIT_UNIFORM || w->init == GOS_INIT_NORMAL) {
			w->seed = mix64(ms.seed * 0x9e3779b97f4a7c15ull + hash_str(w->name));
		}
	}
	ns_free(&ms.vnames);
	ns_free(&ms.nnames);
	ns_free(&ms.pnames);
	ns_free(&ms.reserved);
	gos_arena_free(tmp);
	gos_arena_set_oom_jump(m->arena, NULL);
	if (fe->d->n_errors == errs &&
	    (ms.vnames.failed || ms.nnames.failed || ms.pnames.failed || ms.reserved.failed ||
	     gos_module_own_locs(m)))
		gos_error(fe->d, md->loc, "out of memory");
	if (fe->d->n_errors != errs) {
		gos_module_free(m);
		return NULL;
	}
	return m;
}

int gos_elab_apply(gos_fe *fe, gos_module *m, const gos_def *op, const char *node_name, int n_in,
                   const int *in, int n_attr, const gos_attr *attrs, int *out, gos_loc loc)
{
	gos_arena *tmp = gos_arena_new();
	if (!tmp) {
		gos_error(fe->d, loc, "out of memory");
		return -1;
	}
	/* out of memory below: report, return -1 (m keeps what was added;
	 * the caller drops it) */
	jmp_buf oom;
	jmp_buf *volatile outer = gos_arena_set_oom_jump(m->arena, &oom);
	if (setjmp(oom)) {
		gos_arena_set_oom_jump(m->arena, outer);
		gos_arena_free(tmp);
		gos_error(fe->d, loc, "out of memory");
		return -1;
	}
	gos_arena_set_oom_jump(tmp, &oom);
	E e;
	memset(&e, 0, sizeof e);
	e.fe = fe;
	e.d = fe->d;
	e.tmp = tmp;
	e.m = m;
	given *g = GOS_NEWN(tmp, given, n_attr > 0 ? n_attr : 1);
	for (int i = 0; i < n_attr; i++) {
		g[i].name = attrs[i].name;
		g[i].loc = loc;
		g[i].v = vlist(&e, attrs[i].n);
		for (int k = 0; k < attrs[i].n; k++)
			g[i].v.it[k] = inum(attrs[i].v[k]);
	}
	for (int i = 0; i < n_in; i++)
		if (in[i] >= m->n_val) {
			gos_error(fe->d, loc, "'%s': argument %d is not a value of the module", op->name, i + 1);
			gos_arena_set_oom_jump(m->arena, outer);
			gos_arena_free(tmp);
			return -1;
		}
	const char *nn = node_name;
	for (int k = 1;; k++) {
		int clash = 0;
		for (int i = 0; i < m->n_node && !clash; i++)
			clash = !strcmp(m->nodes[i].name, nn);
		if (!clash)
			break;
		nn = gos_arena_printf(tmp, "%s_%d", node_name, k);
	}
	int r = instantiate(&e, op, gos_arena_strdup(m->arena, nn), n_in, in, g, n_attr, loc, out);
	gos_arena_set_oom_jump(m->arena, outer);
	gos_arena_free(tmp);
	return r;
}
