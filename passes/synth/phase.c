/* phase.c -- the `phase` rule (synth.h), exact: a strided transposed
 * convolution written as a masked sum over every tap,
 *   Y[n, k, p, q] = B[k] + sum(c, r, s)
 *       select((p + pad0 - r*dil0) % st0 == 0 && (q + pad1 - s*dil1) % st1 == 0,
 *              X[n, c, (p + pad0 - r*dil0) / st0, (q + pad1 - s*dil1) / st1], 0) * W[c, k, r, s]
 * is split by p = st0*p' + a, q = st1*q' + b into st0*st1 dense
 * convolutions, one per phase (a, b): only the taps r with
 * (a + pad0 - r*dil0) % st0 == 0 contribute, each reading X row
 * p' + (a + pad0 - r*dil0) / st0, so
 *   Z_ab[n, k, p', q'] = B[k] + sum(c, j, l) X[n, c, p' + j*d0 - t0, q' + l*d1 - t1] * W_ab[k, c, j, l]
 * (a conv2d: no select, no multiply by a masked zero), and one data
 * movement node interleaves the phases:
 *   Y[n, k, p, q] = Z_{p % st0, q % st1}[n, k, p / st0, q / st1].
 * The rule recognises the form by evaluating the node's index
 * expressions and its mask at sample points, not by the operator's name. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

/* Value of instruction i (no loads) at v[]; *ok = 0 when it reads
 * memory or is not a plain arithmetic/comparison instruction. */
static double insv(const gos_stmt *s, int i, const int64_t *v, int *ok, int depth)
{
	if (i < 0 || i >= s->n_ins || depth > 64) {
		*ok = 0;
		return 0;
	}
	const gos_ins *in = &s->ins[i];
	double a = 0, b = 0, c = 0;
	int ar = in->op < GOS_NOPS ? gos_opinfo_tab[in->op].arity : 0;
	if (in->op == GOS_OP_CONST)
		return in->f;
	if (in->op == GOS_OP_INDEX)
		return (double)gos_ix_eval(s, in->idx[0], v);
	if (in->op == GOS_OP_LOAD) {
		*ok = 0;
		return 0;
	}
	if (ar >= 1)
		a = insv(s, in->arg[0], v, ok, depth + 1);
	if (ar >= 2)
		b = insv(s, in->arg[1], v, ok, depth + 1);
	if (ar >= 3)
		c = insv(s, in->arg[2], v, ok, depth + 1);
	switch (in->op) {
	case GOS_OP_ADD: return a + b;
	case GOS_OP_SUB: return a - b;
	case GOS_OP_MUL: return a * b;
	case GOS_OP_MAX: return a > b ? a : b;
	case GOS_OP_MIN: return a < b ? a : b;
	case GOS_OP_LT: return a < b;
	case GOS_OP_LE: return a <= b;
	case GOS_OP_EQ: return a == b;
	case GOS_OP_NE: return a != b;
	case GOS_OP_NEG: return -a;
	case GOS_OP_ABS: return a < 0 ? -a : a;
	case GOS_OP_SELECT: return a != 0 ? b : c;
	default: *ok = 0; return 0;
	}
}

typedef struct form {
	int64_t N, C, K, H, W, P, Q, R, S;
	int64_t st[2], pad[2], dil[2]; /* per spatial axis */
	int x, w, b, y;                /* values */
} form;

/* Whether node ni is the masked transposed convolution; fills f. */
static int form_of(const gos_module *m, int ni, form *f)
{
	const gos_node *n = &m->nodes[ni];
	int has_b = n->n_in == 3;
	if (n->n_out != 1 || n->n_in < 2 || n->n_in > 3 || n->n_stmt != 1 + has_b ||
	    n->n_buf != n->n_in + 1)
		return 0;
	const gos_stmt *s = &n->stmts[0];
	const gos_buf *xb = &n->bufs[0], *wb = &n->bufs[1], *yb = &n->bufs[n->n_in];
	if (s->dst != n->n_in || s->red != GOS_RED_SUM || s->n_red != 3 || xb->rank != 4 ||
	    wb->rank != 4 || yb->rank != 4 || m->vals[n->in[1]].kind != GOS_VAL_WEIGHT ||
	    (has_b && m->vals[n->in[2]].kind != GOS_VAL_WEIGHT))
		return 0;
	/* result = mul(select(cond, loadX (pad 0), 0), loadW) in either order */
	const gos_ins *mu = &s->ins[s->result];
	if (mu->op != GOS_OP_MUL)
		return 0;
	int sel = -1, lw = -1;
	for (int j = 0; j < 2; j++) {
		const gos_ins *a = &s->ins[mu->arg[j]];
		if (a->op == GOS_OP_SELECT)
			sel = mu->arg[j];
		else if (a->op == GOS_OP_LOAD && a->buf == 1 && !a->has_pad)
			lw = mu->arg[j];
	}
	if (sel < 0 || lw < 0)
		return 0;
	const gos_ins *se = &s->ins[sel];
	const gos_ins *lx = &s->ins[se->arg[1]], *z = &s->ins[se->arg[2]];
	if (lx->op != GOS_OP_LOAD || lx->buf != 0 || (lx->has_pad && lx->f != 0.0f) ||
	    z->op != GOS_OP_CONST || z->f != 0.0f)
		return 0;
	const gos_ins *wl = &s->ins[lw];
	f->N = yb->shape[0], f->K = yb->shape[1], f->P = yb->shape[2], f->Q = yb->shape[3];
	f->C = xb->shape[1], f->H = xb->shape[2], f->W = xb->shape[3];
	f->R = wb->shape[2], f->S = wb->shape[3];
	if (xb->shape[0] != f->N || wb->shape[0] != f->C || wb->shape[1] != f->K ||
	    s->red_extent[0] != f->C || s->red_extent[1] != f->R || s->red_extent[2] != f->S)
		return 0;
	/* spatial X indices: DIV(e, st) with e = p + pad - r*dil */
	for (int a = 0; a < 2; a++) {
		const gos_ix *dv = &s->ix[lx->idx[2 + a]];
		if (dv->op != GOS_IX_DIV || dv->k < 2)
			return 0;
		int pv = 2 + a, rv = 5 + a;
		int64_t v[GOS_MAX_VARS] = {0};
		int64_t e00 = gos_ix_eval(s, dv->a, v);
		v[pv] = 1;
		int64_t e10 = gos_ix_eval(s, dv->a, v);
		v[pv] = 0, v[rv] = 1;
		int64_t e01 = gos_ix_eval(s, dv->a, v);
		if (e10 - e00 != 1 || e00 - e01 < 1 || e00 < 0)
			return 0;
		f->st[a] = dv->k, f->pad[a] = e00, f->dil[a] = e00 - e01;
	}
	/* every index and the mask, checked at sample points of the whole
	 * iteration space against the form above */
	int64_t v[GOS_MAX_VARS] = {0};
	for (int64_t t = 0; t < 97; t++) {
		v[0] = t % f->N, v[1] = (t * 7) % f->K, v[2] = (t * 5) % f->P, v[3] = (t * 3) % f->Q;
		v[4] = (t * 11) % f->C, v[5] = (t * 13) % f->R, v[6] = (t * 17) % f->S;
		int64_t ep = v[2] + f->pad[0] - v[5] * f->dil[0], eq = v[3] + f->pad[1] - v[6] * f->dil[1];
		int64_t mp = ((ep % f->st[0]) + f->st[0]) % f->st[0], mq = ((eq % f->st[1]) + f->st[1]) % f->st[1];
		int ok = 1;
		double cond = insv(s, se->arg[0], v, &ok, 0);
		if (!ok || (cond != 0) != (mp == 0 && mq == 0))
			return 0;
		if (gos_ix_eval(s, lx->idx[0], v) != v[0] || gos_ix_eval(s, lx->idx[1], v) != v[4] ||
		    gos_ix_eval(s, lx->idx[2], v) * f->st[0] != ep - mp || gos_ix_eval(s, lx->idx[3], v) * f->st[1] != eq - mq)
			return 0;
		if (gos_ix_eval(s, wl->idx[0], v) != v[4] || gos_ix_eval(s, wl->idx[1], v) != v[1] ||
		    gos_ix_eval(s, wl->idx[2], v) != v[5] || gos_ix_eval(s, wl->idx[3], v) != v[6])
			return 0;
	}
	if (has_b) {
		const gos_stmt *bs = &n->stmts[1];
		if (bs->n_ins != 3 || bs->ins[1].op != GOS_OP_LOAD || bs->ins[1].buf != 2)
			return 0;
		for (int64_t k = 0; k < f->K; k++) {
			v[1] = k;
			if (gos_ix_eval(bs, bs->ins[1].idx[0], v) != k)
				return 0;
		}
	}
	f->x = n->in[0], f->w = n->in[1], f->b = has_b ? n->in[2] : -1, f->y = n->out[0];
	return 1;
}

/* Taps of phase a along one axis: their count, the first X offset, the
 * offset step (the phase conv's dilation) and the taps in offset order. */
static int64_t taps(const form *f, int axis, int64_t a, int64_t *o0, int64_t *step, int64_t *tap)
{
	int64_t R = axis ? f->S : f->R, n = 0;
	for (int64_t r = R - 1; r >= 0; r--) { /* ascending offsets */
		int64_t e = a + f->pad[axis] - r * f->dil[axis];
		if (((e % f->st[axis]) + f->st[axis]) % f->st[axis] == 0) {
			int64_t o = (e - (((e % f->st[axis]) + f->st[axis]) % f->st[axis])) / f->st[axis];
			if (n == 0)
				*o0 = o;
			else if (n == 1)
				*step = o - *o0;
			tap[n++] = r;
		}
	}
	if (n < 2)
		*step = 1;
	return n;
}

static int phases_ok(const form *f)
{
	int64_t tap[256], o0, step;
	for (int axis = 0; axis < 2; axis++) {
		if ((axis ? f->S : f->R) > 256)
			return 0;
		for (int64_t a = 0; a < f->st[axis]; a++)
			if (taps(f, axis, a, &o0, &step, tap) < 1 || o0 > 0)
				return 0; /* a phase with no taps, or one that starts past X's edge */
	}
	return f->st[0] * f->st[1] <= 64;
}

int gos_synth_phase_params(const gos_module *m, int ni, int *vals, int max)
{
	form f;
	if (max < 1 || !form_of(m, ni, &f) || !phases_ok(&f) || !m->vals[f.w].data)
		return 0;
	vals[0] = 0;
	return 1;
}

/* Appends the interleaving node Y[n,k,p,q] = Z_{p%s0,q%s1}[n,k,p/s0,q/s1]
 * reading zv[s0*s1] (phase-major) into result value y; returns 0/-1. */
static int interleave(gos_module *m, const char *name, const form *f, const int *zv, int y,
                      gos_loc loc, gos_diags *d)
{
	int np = (int)(f->st[0] * f->st[1]);
	int ni = gos_module_add_node(m, name, "phase_interleave");
	if (ni < 0) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	gos_arena *A = m->arena;
	gos_node *n = &m->nodes[ni];
	n->loc = loc;
	n->n_in = np, n->n_out = 1, n->n_buf = np + 1, n->n_stmt = 1;
	n->in = GOS_NEWN(A, int, np);
	n->out = GOS_NEWN(A, int, 1);
	n->bufs = GOS_NEWN(A, gos_buf, np + 1);
	n->stmts = GOS_NEWN(A, gos_stmt, 1);
	gos_stmt *s = n->stmts;
	/* loads, two indices, then a const, an eq and a select per choice */
	int nins = np + 2 + 3 * (int)(f->st[0] * (f->st[1] - 1) + f->st[0] - 1);
	s->ix = GOS_NEWN(A, gos_ix, 8);
	s->ins = GOS_NEWN(A, gos_ins, nins);
	s->var_names = GOS_NEWN(A, const char *, 4);
	int *idx = GOS_NEWN(A, int, 6);
	if (!n->in || !n->out || !n->bufs || !s->ix || !s->ins || !s->var_names || !idx) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	for (int i = 0; i < np; i++) {
		n->in[i] = zv[i];
		const gos_value *zvv = &m->vals[zv[i]];
		n->bufs[i] = (gos_buf){gos_arena_printf(A, "Z%d", i), 4, {0}, zv[i]};
		memcpy(n->bufs[i].shape, zvv->shape, sizeof(int64_t) * 4);
	}
	n->out[0] = y;
	n->bufs[np] = (gos_buf){"Y", 4, {f->N, f->K, f->P, f->Q}, y};
	static const char *const vn[] = {"n", "k", "p", "q"};
	for (int i = 0; i < 4; i++) {
		s->var_names[i] = vn[i];
		s->ix[i] = (gos_ix){GOS_IX_VAR, 0, 0, i};
	}
	s->ix[4] = (gos_ix){GOS_IX_DIV, 2, 0, f->st[0]};
	s->ix[5] = (gos_ix){GOS_IX_DIV, 3, 0, f->st[1]};
	s->ix[6] = (gos_ix){GOS_IX_MOD, 2, 0, f->st[0]};
	s->ix[7] = (gos_ix){GOS_IX_MOD, 3, 0, f->st[1]};
	s->n_ix = 8;
	idx[0] = 0, idx[1] = 1, idx[2] = 4, idx[3] = 5, idx[4] = 6, idx[5] = 7;
	s->dst = np;
	s->red = GOS_RED_NONE;
	int k = 0;
	for (int i = 0; i < np; i++) /* the phase loads */
		s->ins[k++] = (gos_ins){GOS_OP_LOAD, {0, 0, 0}, 0.0f, i, 1, 4, idx};
	int ip = k, iq = k + 1;
	s->ins[k++] = (gos_ins){GOS_OP_INDEX, {0, 0, 0}, 0, 0, 0, 1, idx + 4};
	s->ins[k++] = (gos_ins){GOS_OP_INDEX, {0, 0, 0}, 0, 0, 0, 1, idx + 5};
	/* per row phase a: select over the column phases, then over rows */
	int rowv[64] = {0};
	for (int64_t a = 0; a < f->st[0]; a++) {
		int v = (int)(a * f->st[1] + f->st[1] - 1);
		for (int64_t b = f->st[1] - 2; b >= 0; b--) {
			s->ins[k] = (gos_ins){GOS_OP_CONST, {0, 0, 0}, (float)b, 0, 0, 0, NULL};
			s->ins[k + 1] = (gos_ins){GOS_OP_EQ, {iq, k, 0}, 0, 0, 0, 0, NULL};
			s->ins[k + 2] = (gos_ins){GOS_OP_SELECT, {k + 1, (int)(a * f->st[1] + b), v}, 0, 0, 0, 0, NULL};
			v = k + 2;
			k += 3;
		}
		rowv[a] = v;
	}
	int v = rowv[f->st[0] - 1];
	for (int64_t a = f->st[0] - 2; a >= 0; a--) {
		s->ins[k] = (gos_ins){GOS_OP_CONST, {0, 0, 0}, (float)a, 0, 0, 0, NULL};
		s->ins[k + 1] = (gos_ins){GOS_OP_EQ, {ip, k, 0}, 0, 0, 0, 0, NULL};
		s->ins[k + 2] = (gos_ins){GOS_OP_SELECT, {k + 1, rowv[a], v}, 0, 0, 0, 0, NULL};
		v = k + 2;
		k += 3;
	}
	s->n_ins = k;
	s->result = v;
	return 0;
}

int gos_synth_phase_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d)
{
	gos_loc loc = m->nodes[ni].loc;
	const char *nm = m->nodes[ni].name;
	*exact = 1;
	*err = -1;
	form f;
	if (!form_of(m, ni, &f) || !phases_ok(&f)) {
		gos_error(d, loc, "phase: node '%s' is not a strided transposed convolution it can split", nm);
		return -1;
	}
	int np = (int)(f.st[0] * f.st[1]), zv[64];
	int first = m->n_node, rc = -1;
	float *wp = gos_malloc(sizeof(float) * (size_t)(f.K * f.C * f.R * f.S));
	if (!wp) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	const char *yname = m->vals[f.y].name;
	for (int64_t a = 0; a < f.st[0]; a++)
		for (int64_t b = 0; b < f.st[1]; b++) {
			int64_t tr[256], ts[256], o0r, o0s, dr, ds;
			int64_t nr = taps(&f, 0, a, &o0r, &dr, tr), ns = taps(&f, 1, b, &o0s, &ds, ts);
			const float *w = m->vals[f.w].data; /* [C][K][R][S] */
			for (int64_t k = 0; k < f.K; k++)
				for (int64_t cc = 0; cc < f.C; cc++)
					for (int64_t j = 0; j < nr; j++)
						for (int64_t l = 0; l < ns; l++)
							wp[((k * f.C + cc) * nr + j) * ns + l] =
								w[((cc * f.K + k) * f.R + tr[j]) * f.S + ts[l]];
			int64_t ws[4] = {f.K, f.C, nr, ns};
			int wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.phase%lld%lld",
			                                              m->vals[f.w].name, (long long)a,
			                                              (long long)b),
			                          4, ws, wp);
			/* phase outputs: rows a, a+st, ... of Y */
			int64_t Pa = (f.P - a + f.st[0] - 1) / f.st[0], Qb = (f.Q - b + f.st[1] - 1) / f.st[1];
			double pad[4] = {(double)-o0r, (double)-o0s, 0, 0};
			int64_t hb = Pa - f.H + o0r + dr * (nr - 1), wb2 = Qb - f.W + o0s + ds * (ns - 1);
			pad[2] = (double)(hb > 0 ? hb : 0);
			pad[3] = (double)(wb2 > 0 ? wb2 : 0);
			double st1[2] = {1, 1}, dl[2] = {(double)dr, (double)ds};
			int z = wv < 0 ? -1
			               : gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.phase%lld%lld", nm,
			                                                      (long long)a, (long long)b),
			                                  f.x, wv, f.b, st1, pad, dl, 1, loc, d);
			if (z < 0)
				goto done;
			zv[a * f.st[1] + b] = z;
		}
	int64_t ys[4] = {f.N, f.K, f.P, f.Q};
	int y = gos_module_add_value(m, gos_arena_printf(m->arena, "%s.phased", yname), GOS_VAL_TEMP,
	                             GOS_F32, 4, ys);
	if (y < 0 || interleave(m, gos_arena_printf(m->arena, "%s.interleave", nm), &f, zv, y, loc, d))
		goto done;
	(void)np;
	rc = gos_synth_splice(m, ni, first, y, d);
done:
	free(wp);
	return rc;
}
