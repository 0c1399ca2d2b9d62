/* shrink.c -- the kernel-shrinking rules (synth.h): a k_h x k_w
 * convolution keeps only its centre tap (shrink1x1), centre column
 * (shrinkkx1: k_h x 1) or centre row (shrink1xk: 1 x k_w):
 *   Y[n, k, p, q] = B'[k] + sum(c, r' in kept rows, s' in kept cols)
 *                   X[n, c, p*st + r'*dil - pad0, q*st + s'*dil - pad1] * W'[k, c, r', s']
 * written as a conv2d with the smaller kernel and the padding reduced by
 * the dropped taps (so every output position reads the same pixels). W'
 * and B' are refitted by least squares on the calibration batch, from
 * the kept taps to the original outputs; exact (W' = the kept taps of W,
 * no data needed) when every dropped tap of W is zero. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

/* mode: 0 = 1x1, 1 = kx1 (keep the rows), 2 = 1xk (keep the columns) */
typedef struct shape {
	int64_t C, R, S, K;
	int64_t r0, nr, s0, ns;  /* kept rows [r0, r0+nr), columns [s0, s0+ns) */
	double stride[2], pad[4], dil[2];
} shape;

/* Whether mode applies to node ni; fills sh. */
static int shape_of(const gos_module *m, int ni, int mode, shape *sh)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv) || !m->vals[cv.w].data ||
	    !gos_synth_conv_geometry(m, ni, sh->stride, sh->pad, sh->dil))
		return 0;
	sh->C = cv.C, sh->R = cv.R, sh->S = cv.S, sh->K = cv.K;
	int keep_r = mode == 1, keep_s = mode == 2;
	sh->r0 = keep_r ? 0 : sh->R / 2, sh->nr = keep_r ? sh->R : 1;
	sh->s0 = keep_s ? 0 : sh->S / 2, sh->ns = keep_s ? sh->S : 1;
	/* something is dropped, along odd extents (a centre exists) */
	if (sh->nr * sh->ns == sh->R * sh->S || (!keep_r && sh->R % 2 == 0) ||
	    (!keep_s && sh->S % 2 == 0))
		return 0;
	/* the smaller kernel starts at the kept tap; the far padding is what
	 * the output size needs; the output size must stay the same */
	const gos_node *n = &m->nodes[ni];
	const gos_buf *xb = &n->bufs[0], *yb = &n->bufs[n->n_in];
	int64_t first[2] = {sh->r0, sh->s0}, kept[2] = {sh->nr, sh->ns};
	for (int a = 0; a < 2; a++) {
		double lo = sh->pad[a] - sh->dil[a] * (double)first[a];
		int64_t P = yb->shape[2 + a], H = xb->shape[2 + a], st = (int64_t)sh->stride[a],
		        dl = (int64_t)sh->dil[a];
		int64_t hi = (P - 1) * st + (kept[a] - 1) * dl - (int64_t)lo - (H - 1);
		if (lo < 0)
			return 0;
		hi = hi > 0 ? hi : 0;
		if ((H + (int64_t)lo + hi - dl * (kept[a] - 1) - 1) / st + 1 != P)
			return 0;
		sh->pad[a] = lo;
		sh->pad[2 + a] = (double)hi;
	}
	return 1;
}

static int params(const gos_module *m, int ni, int mode, int *vals, int max)
{
	shape sh;
	if (max < 1 || !shape_of(m, ni, mode, &sh))
		return 0;
	vals[0] = 0;
	return 1;
}

/* Column of the original patch for kept tap (c, i, j). */
static int64_t col(const shape *sh, int64_t c, int64_t i, int64_t j)
{
	return (c * sh->R + sh->r0 + i) * sh->S + sh->s0 + j;
}

static void features(const double *patch, double *f, const void *ctx)
{
	const shape *sh = ctx;
	int64_t t = 0;
	for (int64_t c = 0; c < sh->C; c++)
		for (int64_t i = 0; i < sh->nr; i++)
			for (int64_t j = 0; j < sh->ns; j++)
				f[t++] = patch[col(sh, c, i, j)];
}

static int derive(gos_module *m, int ni, int mode, const gos_synth_calib *c, int *exact,
                  double *err, gos_diags *d)
{
	static const char *const names[] = {"shrink1x1", "shrinkkx1", "shrink1xk"};
	const char *rule = names[mode];
	gos_loc loc = m->nodes[ni].loc;
	*err = -1;
	shape sh;
	if (!shape_of(m, ni, mode, &sh)) {
		gos_error(d, loc, "%s: does not apply to node '%s'", rule, m->nodes[ni].name);
		return -1;
	}
	gos_synth_contraction cv;
	gos_synth_contraction_of(m, ni, &cv);
	const float *w = m->vals[cv.w].data;
	int64_t nf = sh.C * sh.nr * sh.ns, K = sh.K;
	float *nw = gos_malloc(sizeof(float) * (size_t)(K * nf));
	float *nb = gos_calloc((size_t)K, sizeof(float));
	double *a = gos_malloc(sizeof(double) * (size_t)((nf + 1) * K));
	double *wd = gos_malloc(sizeof(double) * (size_t)((nf + 1) * K));
	gos_synth_data sd = {0};
	int rc = -1;
	if (!nw || !nb || !a || !wd) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	/* exact when the dropped taps are all zero */
	*exact = 1;
	for (int64_t k = 0; k < K; k++)
		for (int64_t cc = 0; cc < sh.C; cc++)
			for (int64_t r = 0; r < sh.R; r++)
				for (int64_t s = 0; s < sh.S; s++) {
					int kept = r >= sh.r0 && r < sh.r0 + sh.nr && s >= sh.s0 && s < sh.s0 + sh.ns;
					if (!kept && w[((k * sh.C + cc) * sh.R + r) * sh.S + s] != 0)
						*exact = 0;
				}
	for (int64_t k = 0; k < K; k++) {
		int64_t t = 0;
		for (int64_t cc = 0; cc < sh.C; cc++)
			for (int64_t i = 0; i < sh.nr; i++)
				for (int64_t j = 0; j < sh.ns; j++)
					nw[k * nf + t++] = w[k * sh.C * sh.R * sh.S + col(&sh, cc, i, j)];
		nb[k] = cv.b >= 0 ? m->vals[cv.b].data[k] : 0;
	}
	int have = c && c->n > 0;
	if (!*exact && !have) {
		gos_error(d, loc,
		          "%s of node '%s' is not exact: fitting it needs calibration data "
		          "(gos-opt --calib, gosc -calib=)",
		          rule, m->nodes[ni].name);
		goto done;
	}
	if (have && gos_synth_data_get(m, ni, c, &sd, d))
		goto done;
	if (!*exact) {
		if (gos_synth_lsq(&sd, features, &sh, (int)nf, NULL, (int)K, a, rule, d))
			goto done;
		for (int64_t k = 0; k < K; k++) {
			for (int64_t t = 0; t < nf; t++)
				nw[k * nf + t] = (float)a[t * K + k];
			nb[k] = (float)a[nf * K + k];
		}
	}
	if (have) {
		gos_synth_map mp = {nf, NULL, features, &sh};
		for (int64_t i = 0; i < K * nf; i++)
			wd[i] = nw[i];
		for (int64_t k = 0; k < K; k++)
			wd[K * nf + k] = nb[k];
		if ((*err = gos_synth_error_map(&sd, &mp, wd, wd + K * nf)) < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
	}
	const char *nm = m->nodes[ni].name;
	int64_t ws[4] = {K, sh.C, sh.nr, sh.ns};
	int wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.%s", m->vals[cv.w].name, rule), 4,
	                          ws, nw);
	int bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.%s.B", nm, rule), 1, &K, nb);
	if (wv < 0 || bv < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	int first = m->n_node;
	int y = gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.%s", nm, rule), cv.x, wv, bv,
	                         sh.stride, sh.pad, sh.dil, 1, loc, d);
	if (y < 0)
		goto done;
	rc = gos_synth_splice(m, ni, first, y, d);
done:
	gos_synth_data_free(&sd);
	free(nw);
	free(nb);
	free(a);
	free(wd);
	return rc;
}

int gos_synth_shrink1x1_params(const gos_module *m, int ni, int *vals, int max)
{
	return params(m, ni, 0, vals, max);
}
int gos_synth_shrinkkx1_params(const gos_module *m, int ni, int *vals, int max)
{
	return params(m, ni, 1, vals, max);
}
int gos_synth_shrink1xk_params(const gos_module *m, int ni, int *vals, int max)
{
	return params(m, ni, 2, vals, max);
}
int gos_synth_shrink1x1_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d)
{
	return derive(m, ni, 0, c, exact, err, d);
}
int gos_synth_shrinkkx1_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d)
{
	return derive(m, ni, 1, c, exact, err, d);
}
int gos_synth_shrink1xk_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d)
{
	return derive(m, ni, 2, c, exact, err, d);
}
