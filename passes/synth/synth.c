/* synth.c -- the synthesis driver (synth.h): the rule table, listing and
 * applying candidates, and what rules share (reading a contraction from a
 * node's structure, splicing new nodes in, calibration captures). */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "passes/passes.h"


const gos_synth_rule gos_synth_rules[] = {
	{"phase", NULL, 0,
	 "strided transposed convolution (masked sum over every tap) -> one dense convolution "
	 "per output phase and an interleave; exact",
	 gos_synth_phase_params, gos_synth_phase_derive},
	{"winograd", "m", 0,
	 "3x3 stride-1 convolution -> Winograd F(mxm,3x3), m = 2 or 4: input transform, "
	 "(m+2)^2 matrix products with weights transformed at compile time, output transform; "
	 "exact up to rounding",
	 gos_synth_winograd_params, gos_synth_winograd_derive},
	{"lowrank", "r", 1,
	 "contraction -> rank-r pair (r filters, then a 1x1 mix); exact at the weight's "
	 "numerical rank, else fitted: SVD start, least-squares refit of the mix and bias",
	 gos_synth_lowrank_params, gos_synth_lowrank_derive},
	{"separable", "m", 1,
	 "kxk convolution -> kx1 to m channels then 1xk (SVD of the (C k) x (K k) reshape); "
	 "exact at that reshape's numerical rank, else the 1xk stage and bias refitted",
	 gos_synth_separable_params, gos_synth_separable_derive},
	{"shrink1x1", NULL, 1,
	 "kxk convolution -> 1x1 on the centre tap, weights and bias refitted by least squares; "
	 "exact when the other taps are zero",
	 gos_synth_shrink1x1_params, gos_synth_shrink1x1_derive},
	{"shrinkkx1", NULL, 1, "kxk convolution -> kx1 (the centre column), refitted",
	 gos_synth_shrinkkx1_params, gos_synth_shrinkkx1_derive},
	{"shrink1xk", NULL, 1, "kxk convolution -> 1xk (the centre row), refitted",
	 gos_synth_shrink1xk_params, gos_synth_shrink1xk_derive},
	{"grouped", "g", 1,
	 "convolution -> grouped convolution (g groups), each group refitted by least squares; "
	 "exact when the weight is block-diagonal",
	 gos_synth_grouped_params, gos_synth_grouped_derive},
	{"dwsep", NULL, 1,
	 "kxk convolution -> depthwise kxk + pointwise 1x1 (rank-1 split per input channel, "
	 "pointwise and bias refitted); exact when every channel's filters are rank 1",
	 gos_synth_dwsep_params, gos_synth_dwsep_derive},
	{"prune", "c", 1,
	 "contraction -> c of its input channels, chosen greedily on reconstruction error, "
	 "weights and bias refitted; the producer's other channels removed with them",
	 gos_synth_prune_params, gos_synth_prune_derive},
	{"freeze", NULL, 1,
	 "gate computed from the data that its elementwise readers broadcast (a squeeze-excite "
	 "sigmoid) -> its mean over the calibration samples, a constant; the branch computing it "
	 "removed; exact when the gate never varies",
	 gos_synth_freeze_params, gos_synth_freeze_derive},
	{"zerochan", NULL, 0,
	 "input channels that are zero in the weight, or constant (the producer's all-zero "
	 "output channels, folded into the bias), removed with the producer's; exact",
	 gos_synth_zerochan_params, gos_synth_zerochan_derive},
	{"fold", NULL, 0,
	 "node reading only constant weights -> its results as constants (evaluated on the "
	 "interpreter); exact",
	 gos_synth_fold_params, gos_synth_fold_derive},
	{"simplify", NULL, 0,
	 "x*1, x+0, x-0, x/1 dropped, x/c -> x*(1/c); a node left as a pure copy is removed; exact",
	 gos_synth_simplify_params, gos_synth_simplify_derive},
	{"share", NULL, 0,
	 "node computing what an earlier node computes (same statements, inputs, weights by "
	 "content) -> its readers read the earlier one; exact",
	 gos_synth_share_params, gos_synth_share_derive},
	{"merge", NULL, 0,
	 "linear operator (through a per-channel affine) then a 1x1 conv / dense -> one operator "
	 "with W2 diag(a) W1, when that has fewer FLOPs; exact",
	 gos_synth_merge_params, gos_synth_merge_derive},
	{NULL, NULL, 0, NULL, NULL, NULL},
};

const gos_synth_rule *gos_synth_rule_find(const char *name)
{
	for (const gos_synth_rule *r = gos_synth_rules; r->name; r++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

/* ---- reading a contraction ------------------------------------------- */

static int ix_uses(const gos_stmt *s, int root, int v, int depth)
{
	if (root < 0 || root >= s->n_ix || depth > 64)
		return 1; /* malformed: treat as a use (no rewrite) */
	const gos_ix *x = &s->ix[root];
	switch (x->op) {
	case GOS_IX_CONST:
		return 0;
	case GOS_IX_VAR:
		return x->k == v;
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		return ix_uses(s, x->a, v, depth + 1);
	default:
		return ix_uses(s, x->a, v, depth + 1) || ix_uses(s, x->b, v, depth + 1);
	}
}

int gos_synth_ix_uses(const gos_stmt *s, int root, int v)
{
	return ix_uses(s, root, v, 0);
}

static int ix_is_var(const gos_stmt *s, int root, int v)
{
	return root >= 0 && root < s->n_ix && s->ix[root].op == GOS_IX_VAR && s->ix[root].k == v;
}

int gos_synth_contraction_of(const gos_module *m, int ni, gos_synth_contraction *cv)
{
	const gos_node *n = &m->nodes[ni];
	if (!gos_pass_plain_contraction(n))
		return 0;
	int w = n->in[1], b = n->n_in == 3 ? n->in[2] : -1;
	if (m->vals[w].kind != GOS_VAL_WEIGHT || (b >= 0 && m->vals[b].kind != GOS_VAL_WEIGHT))
		return 0;
	const gos_stmt *s = &n->stmts[0];
	const gos_buf *yb = &n->bufs[n->n_in], *wb = &n->bufs[1], *xb = &n->bufs[0];
	int rank = yb->rank;
	/* Y[n, k, spatial...] = sum(red) X[f(n, spatial, red)] * W[k, red...] */
	if (rank < 2 || rank > 4 || wb->rank != 1 + s->n_red || xb->rank != rank)
		return 0;
	const gos_ins *lx = &s->ins[0], *lw = &s->ins[1];
	if (!ix_is_var(s, lw->idx[0], 1))
		return 0;
	for (int j = 0; j < s->n_red; j++)
		if (!ix_is_var(s, lw->idx[1 + j], rank + j) || s->red_extent[j] != wb->shape[1 + j])
			return 0;
	for (int j = 0; j < xb->rank; j++)
		if (ix_uses(s, lx->idx[j], 1, 0))
			return 0;
	/* X's batch index is the output's: rows of different samples never mix */
	if (!ix_is_var(s, lx->idx[0], 0))
		return 0;
	if (b >= 0) {
		const gos_stmt *bs = &n->stmts[1];
		if (!ix_is_var(bs, bs->ins[1].idx[0], 1))
			return 0;
	}
	memset(cv, 0, sizeof *cv);
	cv->conv = rank > 2;
	cv->N = yb->shape[0];
	cv->K = yb->shape[1];
	cv->C = wb->shape[1];
	cv->R = wb->rank > 2 ? wb->shape[2] : 1;
	cv->S = wb->rank > 3 ? wb->shape[3] : 1;
	cv->P = rank > 2 ? yb->shape[2] : 1;
	cv->Q = rank > 3 ? yb->shape[3] : 1;
	cv->w = w;
	cv->b = b;
	cv->x = n->in[0];
	cv->y = n->out[0];
	return wb->shape[0] == cv->K;
}

int gos_synth_depthwise_of(const gos_module *m, int ni, gos_synth_contraction *cv)
{
	const gos_node *n = &m->nodes[ni];
	/* with a bias (its own statement) or without one */
	if (!gos_pass_plain_contraction(n) || !((n->n_in == 3 && n->n_stmt == 2) ||
	                                         (n->n_in == 2 && n->n_stmt == 1)))
		return 0;
	int w = n->in[1], b = n->n_in == 3 ? n->in[2] : -1;
	if (m->vals[w].kind != GOS_VAL_WEIGHT || (b >= 0 && m->vals[b].kind != GOS_VAL_WEIGHT))
		return 0;
	const gos_stmt *s = &n->stmts[0], *bs = b >= 0 ? &n->stmts[1] : NULL;
	const gos_buf *yb = &n->bufs[n->n_in], *wb = &n->bufs[1], *xb = &n->bufs[0];
	int rank = yb->rank;
	if (rank < 3 || rank > 4 || xb->rank != rank || xb->shape[1] != yb->shape[1] ||
	    wb->shape[0] != yb->shape[1] || s->n_red < 1)
		return 0;
	const gos_ins *lx = &s->ins[0], *lw = &s->ins[1];
	/* X[n, k, f(sp, red)] */
	if (!ix_is_var(s, lx->idx[0], 0) || !ix_is_var(s, lx->idx[1], 1))
		return 0;
	for (int j = 2; j < rank; j++)
		if (ix_uses(s, lx->idx[j], 0, 0) || ix_uses(s, lx->idx[j], 1, 0))
			return 0;
	/* W[k, ...]: the reduction variables in order, 0 where the extent is 1 */
	if (!ix_is_var(s, lw->idx[0], 1))
		return 0;
	int next = 0;
	int64_t taps = 1;
	for (int j = 1; j < wb->rank; j++) {
		int root = lw->idx[j];
		if (root < 0 || root >= s->n_ix)
			return 0;
		if (next < s->n_red && ix_is_var(s, root, rank + next) &&
		    s->red_extent[next] == wb->shape[j]) {
			taps *= wb->shape[j];
			next++;
		} else if (!(s->ix[root].op == GOS_IX_CONST && s->ix[root].k == 0 && wb->shape[j] == 1)) {
			return 0;
		}
	}
	if (next != s->n_red || (bs && !ix_is_var(bs, bs->ins[1].idx[0], 1)))
		return 0;
	memset(cv, 0, sizeof *cv);
	cv->conv = 1;
	cv->N = yb->shape[0];
	cv->K = yb->shape[1];
	cv->C = 1;
	cv->R = taps;
	cv->S = 1;
	cv->P = yb->shape[2];
	cv->Q = rank > 3 ? yb->shape[3] : 1;
	cv->w = w;
	cv->b = b;
	cv->x = n->in[0];
	cv->y = n->out[0];
	return 1;
}

/* One output position of the contraction: row g of the ns * pos rows
 * (sample-major). Fills patch[D] with the X elements the reduction reads
 * there and yk[K] with the node's recorded outputs. */
void gos_synth_patch_row(const gos_node *node, const float *x, const float *y, int64_t g,
                      int64_t D, double *patch, double *yk)
{
	const gos_stmt *s = &node->stmts[0];
	const gos_buf *xb = &node->bufs[0], *yb = &node->bufs[node->n_in];
	const gos_ins *lx = &s->ins[0];
	int rank = yb->rank;
	int64_t K = yb->shape[1], xn = gos_numel(xb->rank, xb->shape),
	        yn = gos_numel(yb->rank, yb->shape), pos = yn / K;
	int64_t smp = g / pos, p = g % pos, v[GOS_MAX_VARS];
	/* output variables from p over dims {0, 2, 3, ..}; k (var 1) is 0 */
	int64_t rem = p;
	for (int dd = rank - 1; dd >= 0; dd--) {
		if (dd == 1) {
			v[1] = 0;
			continue;
		}
		v[dd] = rem % yb->shape[dd];
		rem /= yb->shape[dd];
	}
	const float *xs = x + smp * xn;
	for (int64_t col = 0; col < D; col++) {
		gos_synth_red_point(s, col, v + rank);
		int64_t off = 0;
		int in = 1;
		for (int a = 0; a < xb->rank && in; a++) {
			int64_t i = gos_ix_eval(s, lx->idx[a], v);
			in = i >= 0 && i < xb->shape[a];
			off = off * xb->shape[a] + i;
		}
		patch[col] = in ? xs[off] : lx->has_pad ? lx->f : 0.0;
	}
	int64_t stride = 1;
	for (int dd = 2; dd < rank; dd++)
		stride *= yb->shape[dd];
	int64_t sp = rank > 2 ? p % stride : 0;
	for (int64_t k = 0; k < K; k++)
		yk[k] = y[smp * yn + (v[0] * K + k) * stride + sp];
}

/* Whether index expression root of s is affine: c + sum(v) co[v] var_v
 * (co[GOS_MAX_VARS], added to; scaled by f). */
static int ix_affine(const gos_stmt *s, int root, int64_t f, int64_t *c, int64_t *co, int depth)
{
	if (root < 0 || root >= s->n_ix || depth > 64)
		return 0;
	const gos_ix *x = &s->ix[root];
	switch (x->op) {
	case GOS_IX_CONST:
		*c += f * x->k;
		return 1;
	case GOS_IX_VAR:
		if (x->k < 0 || x->k >= GOS_MAX_VARS)
			return 0;
		co[x->k] += f;
		return 1;
	case GOS_IX_ADD:
		return ix_affine(s, x->a, f, c, co, depth + 1) && ix_affine(s, x->b, f, c, co, depth + 1);
	case GOS_IX_SUB:
		return ix_affine(s, x->a, f, c, co, depth + 1) && ix_affine(s, x->b, -f, c, co, depth + 1);
	case GOS_IX_MUL: {
		/* one side constant: evaluate it (no variable) and scale the other */
		int side[2] = {x->a, x->b};
		for (int t = 0; t < 2; t++) {
			int64_t kc = 0, kco[GOS_MAX_VARS] = {0};
			if (!ix_affine(s, side[t], 1, &kc, kco, depth + 1))
				continue;
			int any = 0;
			for (int v = 0; v < GOS_MAX_VARS; v++)
				any |= kco[v] != 0;
			if (!any)
				return ix_affine(s, side[1 - t], f * kc, c, co, depth + 1);
		}
		return 0;
	}
	default:
		return 0;
	}
}

int gos_synth_plan_init(gos_synth_plan *pl, const gos_node *node, int64_t D)
{
	memset(pl, 0, sizeof *pl);
	const gos_stmt *s = &node->stmts[0];
	const gos_buf *xb = &node->bufs[0], *yb = &node->bufs[node->n_in];
	const gos_ins *lx = &s->ins[0];
	pl->node = node;
	pl->D = D;
	pl->xr = xb->rank;
	pl->yr = yb->rank;
	pl->K = yb->shape[1];
	pl->xn = gos_numel(xb->rank, xb->shape);
	pl->yn = gos_numel(yb->rank, yb->shape);
	pl->pos = pl->yn / pl->K;
	pl->pad = lx->has_pad ? lx->f : 0.0;
	int rank = yb->rank, nv = rank + s->n_red;
	if (nv > GOS_MAX_VARS || xb->rank > GOS_MAX_RANK || rank > GOS_MAX_RANK)
		return 0;
	int64_t red[GOS_MAX_RANK][GOS_MAX_VARS];
	for (int a = 0; a < xb->rank; a++) {
		int64_t co[GOS_MAX_VARS] = {0};
		if (!ix_affine(s, lx->idx[a], 1, &pl->c0[a], co, 0))
			return 0;
		for (int v = nv; v < GOS_MAX_VARS; v++)
			if (co[v])
				return 0;
		if (co[1])
			return 0; /* X never depends on the output channel */
		for (int dd = 0; dd < rank; dd++)
			pl->co[a][dd] = co[dd];
		for (int j = 0; j < s->n_red; j++)
			red[a][j] = co[rank + j];
	}
	pl->cix = gos_malloc(sizeof(int64_t) * (size_t)(xb->rank * D + 1));
	pl->coff = gos_malloc(sizeof(int64_t) * (size_t)(D + 1));
	if (!pl->cix || !pl->coff) {
		gos_synth_plan_free(pl);
		return -1;
	}
	for (int a = 0; a < xb->rank; a++)
		pl->lo[a] = INT64_MAX, pl->hi[a] = INT64_MIN;
	int64_t v[GOS_MAX_VARS];
	for (int64_t col = 0; col < D; col++) {
		gos_synth_red_point(s, col, v);
		int64_t off = 0;
		for (int a = 0; a < xb->rank; a++) {
			int64_t i = 0;
			for (int j = 0; j < s->n_red; j++)
				i += red[a][j] * v[j];
			pl->cix[a * D + col] = i;
			pl->lo[a] = i < pl->lo[a] ? i : pl->lo[a];
			pl->hi[a] = i > pl->hi[a] ? i : pl->hi[a];
			off = off * xb->shape[a] + i;
		}
		pl->coff[col] = off;
	}
	pl->affine = 1;
	return 0;
}

void gos_synth_plan_free(gos_synth_plan *pl)
{
	free(pl->cix);
	free(pl->coff);
	memset(pl, 0, sizeof *pl);
}

void gos_synth_plan_row(const gos_synth_plan *pl, const float *x, const float *y, int64_t g,
                        double *patch, double *yk)
{
	if (!pl->affine) {
		gos_synth_patch_row(pl->node, x, y, g, pl->D, patch, yk);
		return;
	}
	const gos_node *node = pl->node;
	const gos_buf *xb = &node->bufs[0], *yb = &node->bufs[node->n_in];
	int rank = pl->yr, xr = pl->xr;
	int64_t D = pl->D, K = pl->K, smp = g / pl->pos, p = g % pl->pos, v[GOS_MAX_RANK];
	int64_t rem = p;
	for (int dd = rank - 1; dd >= 0; dd--) {
		if (dd == 1) {
			v[1] = 0;
			continue;
		}
		v[dd] = rem % yb->shape[dd];
		rem /= yb->shape[dd];
	}
	int64_t base[GOS_MAX_RANK], boff = 0;
	int edge[GOS_MAX_RANK], ne = 0; /* the dimensions some column leaves */
	for (int a = 0; a < xr; a++) {
		int64_t b = pl->c0[a];
		for (int dd = 0; dd < rank; dd++)
			b += pl->co[a][dd] * v[dd];
		base[a] = b;
		boff = boff * xb->shape[a] + b;
		if (b + pl->lo[a] < 0 || b + pl->hi[a] >= xb->shape[a])
			edge[ne++] = a;
	}
	const float *xs = x + smp * pl->xn; /* (xs + boff may lie outside X) */
	if (!ne) {
		for (int64_t col = 0; col < D; col++)
			patch[col] = xs[boff + pl->coff[col]];
	} else {
		for (int64_t col = 0; col < D; col++) {
			int in = 1;
			for (int e = 0; e < ne && in; e++) {
				int a = edge[e];
				int64_t i = base[a] + pl->cix[a * D + col];
				in = i >= 0 && i < xb->shape[a];
			}
			patch[col] = in ? xs[boff + pl->coff[col]] : pl->pad;
		}
	}
	int64_t stride = 1;
	for (int dd = 2; dd < rank; dd++)
		stride *= yb->shape[dd];
	int64_t sp = rank > 2 ? p % stride : 0;
	for (int64_t k = 0; k < K; k++)
		yk[k] = y[smp * pl->yn + (v[0] * K + k) * stride + sp];
}

int gos_synth_conv_geometry(const gos_module *m, int ni, double stride[2], double pad[4],
                            double dil[2])
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv) || !cv.conv || m->vals[cv.w].rank != 4)
		return 0;
	const gos_node *n = &m->nodes[ni];
	const gos_stmt *s = &n->stmts[0];
	const gos_ins *lx = &s->ins[0];
	const gos_buf *xb = &n->bufs[0];
	if (s->n_red != 3 || !ix_is_var(s, lx->idx[1], 4))
		return 0;
	for (int a = 0; a < 2; a++) {
		int pv = 2 + a, rv = 5 + a, root = lx->idx[2 + a];
		int64_t v[GOS_MAX_VARS] = {0};
		int64_t f00 = gos_ix_eval(s, root, v);
		v[pv] = 1;
		int64_t f10 = gos_ix_eval(s, root, v);
		v[rv] = 1;
		int64_t f11 = gos_ix_eval(s, root, v);
		v[pv] = 0;
		int64_t f01 = gos_ix_eval(s, root, v);
		v[pv] = 3, v[rv] = 2;
		int64_t f32 = gos_ix_eval(s, root, v);
		int64_t st = f10 - f00, dl = f01 - f00;
		/* affine in (p, r), no other variable */
		if (st < 1 || dl < 1 || f11 != f00 + st + dl || f32 != f00 + 3 * st + 2 * dl ||
		    f00 > 0)
			return 0;
		for (int u = 0; u < 7; u++)
			if (u != pv && u != rv && ix_uses(s, root, u, 0))
				return 0;
		int64_t P = n->bufs[n->n_in].shape[2 + a], R = a ? cv.S : cv.R, H = xb->shape[2 + a];
		int64_t lo = -f00, hi = (P - 1) * st + (R - 1) * dl - lo - (H - 1);
		stride[a] = (double)st;
		dil[a] = (double)dl;
		pad[a] = (double)lo;
		pad[2 + a] = (double)(hi > 0 ? hi : 0);
	}
	return lx->has_pad ? lx->f == 0.0f : 1;
}

/* ---- editing modules ------------------------------------------------- */

int gos_synth_weight(gos_module *m, const char *base, int rank, const int64_t *shape,
                     const float *data)
{
	const char *name = base;
	for (int k = 1; gos_module_find_value(m, name) >= 0; k++)
		name = gos_arena_printf(m->arena, "%s_%d", base, k);
	int v = gos_module_add_value(m, name, GOS_VAL_WEIGHT, GOS_F32, rank, shape);
	if (v < 0)
		return -1;
	m->vals[v].init = GOS_INIT_DATA;
	m->vals[v].data =
		gos_arena_memdup(m->arena, data, sizeof(float) * (size_t)gos_numel(rank, shape));
	return m->vals[v].data ? v : -1;
}

int gos_synth_splice(gos_module *m, int ni, int first, int res, gos_diags *d)
{
	int cnt = m->n_node - first;
	if (ni < 0 || ni >= first || cnt < 1) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "internal error: bad splice");
		return -1;
	}
	int old = m->nodes[ni].out[0];
	gos_node *tmp = gos_malloc(sizeof *tmp * (size_t)cnt);
	if (!tmp) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
		return -1;
	}
	memcpy(tmp, &m->nodes[first], sizeof *tmp * (size_t)cnt);
	memmove(&m->nodes[ni + cnt], &m->nodes[ni + 1], sizeof *tmp * (size_t)(first - ni - 1));
	memcpy(&m->nodes[ni], tmp, sizeof *tmp * (size_t)cnt);
	free(tmp);
	m->n_node = first - 1 + cnt;
	const char *name = m->vals[old].name;
	m->vals[old].name = gos_arena_printf(m->arena, "%s.replaced", name);
	m->vals[res].name = name;
	m->vals[res].loc = m->vals[old].loc;
	for (int i = ni + cnt; i < m->n_node; i++) {
		gos_node *n = &m->nodes[i];
		for (int j = 0; j < n->n_in; j++)
			if (n->in[j] == old)
				n->in[j] = res;
		for (int b = 0; b < n->n_buf; b++)
			if (n->bufs[b].value == old)
				n->bufs[b].value = res;
	}
	for (int i = 0; i < m->n_output; i++)
		if (m->outputs[i] == old)
			m->outputs[i] = res;
	return 0;
}

/* The entry of c->acts holding value `name` of m with m's shape on c's
 * samples, or -1 (absent, or recorded before a rewrite changed it). */
static int recorded(const gos_module *m, const char *name, const gos_synth_calib *c)
{
	int v = gos_module_find_value(m, name);
	if (v < 0 || !c->acts)
		return -1;
	const gos_value *val = &m->vals[v];
	int64_t want = c->n * gos_numel(val->rank, val->shape);
	for (int k = 0; k < c->acts->n; k++) {
		const gos_tensor *t = &c->acts->t[k];
		if (strcmp(c->acts->names[k], name))
			continue;
		if (gos_numel(t->rank, t->shape) == want)
			return k;
		/* a recording of more samples, batched along dimension 0, serves
		 * its first c->n (a search's candidates fit on a prefix of what
		 * its final checks refit on) */
		int same = t->rank == val->rank && val->rank > 0 && val->shape[0] > 0;
		for (int i = 1; same && i < val->rank; i++)
			same = t->shape[i] == val->shape[i];
		if (same && t->shape[0] % val->shape[0] == 0 && t->shape[0] / val->shape[0] >= c->n)
			return k;
	}
	return -1;
}

int gos_synth_recorded(const gos_module *m, const char *name, const gos_synth_calib *c)
{
	return recorded(m, name, c) >= 0;
}

int gos_synth_activation(const gos_module *m, const char *name, const gos_synth_calib *c,
                         const float **x, int *owned, gos_diags *d)
{
	int k = recorded(m, name, c);
	if (k >= 0) {
		*x = c->acts->t[k].data;
		*owned = 0;
		return 0;
	}
	const char *names[1] = {name};
	gos_engine_opts eo = {"host", 0, -1};
	gos_capture cap;
	if (gos_capture_run(m, 1, names, &eo, c->n, c->in, &cap, d))
		return -1;
	*x = cap.t[0].data;
	*owned = 1;
	cap.t[0].data = NULL;
	gos_capture_free(&cap);
	return 0;
}

/* ---- the driver ------------------------------------------------------ */

/* The node called name, or -1 (with a suggestion in the error). */
static int find_node(const gos_module *m, const char *name, gos_diags *d)
{
	int best = -1, cap = (int)strlen(name) / 3 + 2, bd = cap + 1;
	for (int i = 0; i < m->n_node; i++) {
		if (!strcmp(m->nodes[i].name, name))
			return i;
		int e = gos_edit_distance(name, m->nodes[i].name, cap);
		if (e < bd)
			bd = e, best = i;
	}
	if (best >= 0)
		gos_error(d, (gos_loc){m->name, 0, 0}, "model '%s' has no node '%s' (did you mean '%s'?)",
		          m->name, name, m->nodes[best].name);
	else
		gos_error(d, (gos_loc){m->name, 0, 0}, "model '%s' has no node '%s'", m->name, name);
	return -1;
}

/* Derives candidate (rule r, param) of node ni on a copy of m; fills the
 * candidate's figures. Returns the copy or NULL. */
static gos_module *derive_one(const gos_module *m, int ni, const gos_synth_rule *r, int param,
                              const gos_synth_calib *c, gos_synth_cand *cd, gos_diags *d)
{
	gos_module *cm = gos_module_clone(m);
	if (cm) /* diagnostics outlive the copy: they name the caller's module */
		cm->name = m->name;
	if (!cm) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
		return NULL;
	}
	double before = gos_flops(cm), err = -1;
	int exact = 0;
	const char *node = m->nodes[ni].name;
	if (r->derive(cm, ni, param, c, &exact, &err, d) || gos_pass_dce(cm, d) < 0) {
		gos_module_free(cm);
		return NULL;
	}
	if (gos_verify(cm, d)) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "internal error: %s/%s (%d) does not verify",
		          node, r->name, param);
		gos_module_free(cm);
		return NULL;
	}
	if (cd) {
		double node_flops = gos_synth_rewritten_flops(m, ni, r);
		if (r->param)
			snprintf(cd->name, sizeof cd->name, "%s/%s:%s=%d", node, r->name, r->param, param);
		else
			snprintf(cd->name, sizeof cd->name, "%s/%s", node, r->name);
		cd->rule = r;
		cd->node = ni;
		cd->param = param;
		cd->exact = exact;
		cd->flops_before = node_flops;
		cd->flops_after = gos_flops(cm) - (before - node_flops);
		cd->err = err;
	}
	return cm;
}

static int list(const gos_module *m0, int ni, const gos_synth_calib *c, gos_synth_cand **out,
                gos_diags *d)
{
	*out = NULL;
	gos_module *m = gos_module_clone(m0);
	if (m) /* diagnostics outlive the copy: they name the caller's module */
		m->name = m0->name;
	if (!m || gos_module_materialize(m, d)) {
		if (!m)
			gos_error(d, (gos_loc){m0->name, 0, 0}, "out of memory");
		gos_module_free(m);
		return -1;
	}
	int n = 0, cap = 0, rc = 0;
	gos_synth_cand *v = NULL;
	int have_calib = c && c->n > 0;
	/* one recording of the inputs and results of every node a rule applies to */
	gos_capture acts = {0};
	gos_synth_calib cc = {0, NULL, NULL, 0, NULL};
	if (have_calib && !c->acts) {
		const char **names = gos_calloc((size_t)(2 * m->n_node) + 1, sizeof *names);
		int nn = 0;
		for (int i = ni < 0 ? 0 : ni; names && i < (ni < 0 ? m->n_node : ni + 1); i++) {
			int any = 0, vals[16];
			for (const gos_synth_rule *r = gos_synth_rules; r->name; r++)
				any |= r->params(m, i, vals, 16) > 0;
			if (any && m->nodes[i].n_in > 0 && m->nodes[i].n_out > 0) {
				names[nn++] = m->vals[m->nodes[i].in[0]].name;
				names[nn++] = m->vals[m->nodes[i].out[0]].name;
			}
		}
		gos_engine_opts eo = {"host", 0, -1};
		if (!names || (nn && gos_capture_run(m, nn, names, &eo, c->n, c->in, &acts, d))) {
			if (!names)
				gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
			free(names);
			gos_module_free(m);
			return -1;
		}
		free(names);
		cc = *c;
		cc.acts = &acts;
		cc.memo = NULL; /* kept fits belong to c->acts */
		c = &cc;
	}
	for (int i = ni < 0 ? 0 : ni; i < (ni < 0 ? m->n_node : ni + 1) && !rc; i++)
		for (const gos_synth_rule *r = gos_synth_rules; r->name && !rc; r++) {
			int vals[16];
			int np = r->params(m, i, vals, 16);
			for (int k = 0; k < np && !rc; k++) {
				if (n == cap) {
					cap = cap ? 2 * cap : 16;
					gos_synth_cand *nv = gos_realloc(v, sizeof *v * (size_t)cap);
					if (!nv) {
						gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
						rc = -1;
						break;
					}
					v = nv;
				}
				gos_synth_cand *cd = &v[n];
				/* without data, a fitted rule lists only its exact settings */
				int quiet = !have_calib && r->fitted;
				gos_diags tmp;
				gos_diags_init(&tmp);
				gos_module *cm = derive_one(m, i, r, vals[k], have_calib ? c : NULL, cd,
				                            quiet ? &tmp : d);
				gos_diags_free(&tmp);
				if (!cm) {
					if (quiet)
						continue;
					rc = -1;
					break;
				}
				gos_module_free(cm);
				n++;
			}
		}
	gos_capture_free(&acts);
	gos_module_free(m);
	if (rc) {
		free(v);
		return -1;
	}
	*out = v;
	return n;
}

static gos_module *apply(const gos_module *m0, const char *spec, const gos_synth_calib *c,
                         gos_diags *d)
{
	gos_loc loc = {m0->name, 0, 0};
	gos_module *m = gos_module_clone(m0);
	if (m) /* diagnostics outlive the copy: they name the caller's module */
		m->name = m0->name;
	char *list = gos_strdup(spec);
	if (!m || !list || gos_module_materialize(m, d)) {
		if (!m || !list)
			gos_error(d, loc, "out of memory");
		free(list);
		gos_module_free(m);
		return NULL;
	}
	char *save = NULL;
	for (char *item = strtok_r(list, ",", &save); item && m; item = strtok_r(NULL, ",", &save)) {
		char *slash = strrchr(item, '/');
		if (!slash || slash == item || !slash[1]) {
			gos_error(d, loc, "'%s': want NODE/RULE[:PARAM=VALUE]", item);
			break;
		}
		*slash = 0;
		char *rule = slash + 1, *colon = strchr(rule, ':');
		if (colon)
			*colon = 0;
		const gos_synth_rule *r = gos_synth_rule_find(rule);
		if (!r) {
			char known[256] = "";
			size_t u = 0;
			for (const gos_synth_rule *q = gos_synth_rules; q->name && u < sizeof known; q++)
				u += (size_t)snprintf(known + u, sizeof known - u, "%s%s", u ? ", " : "", q->name);
			gos_error(d, loc, "unknown rule '%s' (known: %s)", rule, known);
			break;
		}
		int ni = find_node(m, item, d);
		if (ni < 0)
			break;
		int vals[16];
		int np = r->params(m, ni, vals, 16);
		if (np == 0) {
			gos_error(d, loc, "rule '%s' does not apply to node '%s' (%s)", r->name, item,
			          m->nodes[ni].op);
			break;
		}
		int param = vals[0];
		if (colon && !r->param) {
			gos_error(d, loc, "rule '%s' takes no parameter", r->name);
			break;
		}
		if (colon) {
			char *p = colon + 1, *eq = strchr(p, '='), *end;
			if (eq && (size_t)(eq - p) == strlen(r->param) && !strncmp(p, r->param, (size_t)(eq - p)))
				p = eq + 1;
			else if (eq) {
				gos_error(d, loc, "rule '%s' has parameter '%s', not '%.*s'", r->name, r->param,
				          (int)(eq - p), p);
				break;
			}
			long v = strtol(p, &end, 10);
			if (!*p || *end || v < 1 || v > 1 << 24) {
				gos_error(d, loc, "'%s': %s wants a positive integer", p, r->param);
				break;
			}
			param = (int)v;
		}
		gos_module *next = derive_one(m, ni, r, param, c, NULL, d);
		gos_module_free(m);
		m = next;
	}
	free(list);
	if (m && d->n_errors) {
		gos_module_free(m);
		m = NULL;
	}
	if (m) /* the result owns its name */
		m->name = gos_arena_printf(m->arena, "%s", m0->name);
	return m;
}

/* The fits' BLAS calls are many and mid-sized (blocks of positions, Gram
 * matrices of a few hundred features): OpenBLAS's threads spend more time
 * spinning for work (sched_yield) than they save, more so on a loaded
 * machine (docs/synthesis.md, "Speed of fitting"). Listing and applying
 * run BLAS on one thread and restore the caller's setting (so they must
 * not run concurrently with other OpenBLAS users that change it). */
int gos_synth_list(const gos_module *m0, int ni, const gos_synth_calib *c, gos_synth_cand **out,
                   gos_diags *d)
{
	int nt = openblas_get_num_threads();
	openblas_set_num_threads(1);
	int n = list(m0, ni, c, out, d);
	openblas_set_num_threads(nt);
	return n;
}

gos_module *gos_synth_apply(const gos_module *m0, const char *spec, const gos_synth_calib *c,
                            gos_diags *d)
{
	int nt = openblas_get_num_threads();
	openblas_set_num_threads(1);
	gos_module *m = apply(m0, spec, c, d);
	openblas_set_num_threads(nt);
	return m;
}
