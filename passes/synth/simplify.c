/* simplify.c -- the `simplify` rule (synth.h): scalar-instruction algebra
 * in a node's statements.
 *   x * 1, 1 * x, x + 0, 0 + x, x - 0, x / 1   =>  x
 *   x / c                                      =>  x * (1/c)   (c finite, not 0)
 * A constant is a `const` instruction or a load of a weight filled with
 * one value. Instructions nothing reads any more are dropped (the
 * node's inputs stay as they are), a statement that copies
 * its destination onto itself is dropped, and a node left as a pure copy
 * of one input (Y[i..] = X[i..], same shape) is removed: its readers read
 * X. Works on any statement, user-written or imported; a node in the
 * plain contraction form (gos_pass_plain_contraction) is left as it is,
 * since the fast kernels need that form. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "passes/synth/algebra.h"

/* What instruction i becomes: SAME (kept), or forwarded to operand
 * instruction *to, or RECIP (x / c => x * (1/c), *rc = 1/c). */
enum { SAME, FORWARD, RECIP };

static int classify(const gos_module *m, const gos_node *n, const gos_stmt *s, int i, int *to,
                    float *rc)
{
	const gos_ins *x = &s->ins[i];
	float a = 0, b = 0;
	int ca, cb;
	switch (x->op) {
	case GOS_OP_MUL:
		ca = gos_alg_ins_const(m, n, s, x->arg[0], &a);
		cb = gos_alg_ins_const(m, n, s, x->arg[1], &b);
		if (cb && b == 1.0f)
			return *to = x->arg[0], FORWARD;
		if (ca && a == 1.0f)
			return *to = x->arg[1], FORWARD;
		return SAME;
	case GOS_OP_ADD:
		ca = gos_alg_ins_const(m, n, s, x->arg[0], &a);
		cb = gos_alg_ins_const(m, n, s, x->arg[1], &b);
		if (cb && b == 0.0f)
			return *to = x->arg[0], FORWARD;
		if (ca && a == 0.0f)
			return *to = x->arg[1], FORWARD;
		return SAME;
	case GOS_OP_SUB:
		if (gos_alg_ins_const(m, n, s, x->arg[1], &b) && b == 0.0f)
			return *to = x->arg[0], FORWARD;
		return SAME;
	case GOS_OP_DIV:
		if (!gos_alg_ins_const(m, n, s, x->arg[1], &b) || b == 0.0f || !isfinite(b))
			return SAME;
		if (b == 1.0f)
			return *to = x->arg[0], FORWARD;
		*rc = 1.0f / b;
		return isfinite(*rc) && *rc != 0.0f ? RECIP : SAME;
	default:
		return SAME;
	}
}

/* Whether statement s of n writes its destination with itself. */
static int self_copy(const gos_node *n, const gos_stmt *s)
{
	return s->red == GOS_RED_NONE && s->n_red == 0 && s->ins[s->result].op == GOS_OP_LOAD &&
	       s->ins[s->result].buf == s->dst && gos_alg_load_is_identity(n, s, s->result);
}

/* The input buffer node n is a pure copy of (one statement, the
 * result a load of that input at the destination's indices, same
 * shape), or -1. */
static int copy_of(const gos_node *n)
{
	if (n->n_stmt != 1 || n->n_out != 1)
		return -1;
	const gos_stmt *s = &n->stmts[0];
	const gos_ins *r = &s->ins[s->result];
	if (s->dst != n->n_in || s->red != GOS_RED_NONE || s->n_red || r->op != GOS_OP_LOAD ||
	    r->buf >= n->n_in || r->has_pad || !gos_alg_load_is_identity(n, s, s->result))
		return -1;
	return r->buf;
}

int gos_synth_simplify_params(const gos_module *m, int ni, int *vals, int max)
{
	const gos_node *n = &m->nodes[ni];
	/* a plain contraction keeps its form (a weight of ones, a bias of
	 * zeros): the backends' fast kernels recognise that form */
	if (max < 1 || gos_pass_plain_contraction(n))
		return 0;
	int found = 0;
	for (int si = 0; si < n->n_stmt && !found; si++) {
		const gos_stmt *s = &n->stmts[si];
		for (int i = 0; i < s->n_ins && !found; i++) {
			int to;
			float rc;
			found = classify(m, n, s, i, &to, &rc) != SAME;
		}
		found |= n->n_stmt > 1 && self_copy(n, s);
	}
	if (!found && copy_of(n) >= 0 && !gos_alg_is_output(m, n->out[0]))
		found = 1;
	if (found)
		vals[0] = 0;
	return found;
}

/* Rewrites statement s in place (arena memory of m): forwards, turns
 * divisions by constants into multiplications, drops dead instructions.
 * Returns 0 or -1 (out of memory). */
static int simplify_stmt(gos_module *m, const gos_node *n, gos_stmt *s)
{
	int N = s->n_ins;
	/* at most one new constant per instruction */
	gos_ins *out = GOS_NEWN(m->arena, gos_ins, 2 * N);
	int *map = gos_malloc(sizeof(int) * (size_t)N), *live = gos_calloc((size_t)N, sizeof(int));
	int *kind = gos_malloc(sizeof(int) * (size_t)N), *to = gos_malloc(sizeof(int) * (size_t)N);
	float *rc = gos_malloc(sizeof(float) * (size_t)N);
	int ok = out && map && live && kind && to && rc;
	if (ok) {
		/* forwarding chains resolve to an instruction that stays */
		for (int i = 0; i < N; i++) {
			kind[i] = classify(m, n, s, i, &to[i], &rc[i]);
			if (kind[i] != FORWARD)
				to[i] = i;
			else
				to[i] = to[to[i]];
		}
		/* liveness from the result, through the rewritten operands */
		live[to[s->result]] = 1;
		for (int i = N - 1; i >= 0; i--) {
			if (!live[i])
				continue;
			const gos_ins *x = &s->ins[i];
			int ar = x->op == GOS_OP_CONST || x->op == GOS_OP_LOAD || x->op == GOS_OP_INDEX
			                 ? 0
			                 : gos_opinfo_tab[x->op].arity;
			if (kind[i] == RECIP)
				ar = 1; /* the divisor becomes a new constant */
			for (int k = 0; k < ar; k++)
				live[to[x->arg[k]]] = 1;
		}
		int k = 0;
		for (int i = 0; i < N; i++) {
			if (!live[i]) {
				map[i] = -1;
				continue;
			}
			gos_ins x = s->ins[i];
			int ar = x.op == GOS_OP_CONST || x.op == GOS_OP_LOAD || x.op == GOS_OP_INDEX
			                 ? 0
			                 : gos_opinfo_tab[x.op].arity;
			for (int a = 0; a < ar; a++)
				x.arg[a] = map[to[x.arg[a]]];
			if (kind[i] == RECIP) {
				memset(&out[k], 0, sizeof out[k]);
				out[k].op = GOS_OP_CONST;
				out[k].f = rc[i];
				x.op = GOS_OP_MUL;
				x.arg[1] = k++;
			}
			map[i] = k;
			out[k++] = x;
		}
		s->ins = out;
		s->n_ins = k;
		s->result = map[to[s->result]];
	}
	free(map);
	free(live);
	free(kind);
	free(to);
	free(rc);
	return ok ? 0 : -1;
}

int gos_synth_simplify_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                              int *exact, double *err, gos_diags *d)
{
	(void)param;
	(void)c;
	*exact = 1;
	*err = -1;
	gos_node *n = &m->nodes[ni];
	int vals[1];
	if (!gos_synth_simplify_params(m, ni, vals, 1)) {
		gos_error(d, n->loc, "simplify: nothing to simplify in node '%s'", n->name);
		return -1;
	}
	/* statements are rewritten into fresh arrays (the copy shares the
	 * original's arena pointers only until now) */
	gos_stmt *st = GOS_NEWN(m->arena, gos_stmt, n->n_stmt);
	if (!st) {
		gos_error(d, n->loc, "out of memory");
		return -1;
	}
	memcpy(st, n->stmts, sizeof *st * (size_t)n->n_stmt);
	n->stmts = st;
	for (int si = 0; si < n->n_stmt; si++)
		if (simplify_stmt(m, n, &n->stmts[si])) {
			gos_error(d, n->loc, "out of memory");
			return -1;
		}
	/* self copies go (never the first writer: it reads what an earlier
	 * statement wrote) */
	int k = 0;
	for (int si = 0; si < n->n_stmt; si++)
		if (!self_copy(n, &n->stmts[si]))
			n->stmts[k++] = n->stmts[si];
	n->n_stmt = k;
	/* the node keeps its inputs (even a weight nothing loads now): passes
	 * that read an operator's signature, as fold_bn does, still see it */
	/* a pure copy: its readers read the input */
	int b = copy_of(n);
	if (b >= 0 && !gos_alg_is_output(m, n->out[0])) {
		int old = n->out[0], rep = n->in[b];
		gos_alg_remove_node(m, ni, 1, &old, &rep);
	}
	return 0;
}
