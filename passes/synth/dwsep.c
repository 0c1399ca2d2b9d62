/* dwsep.c -- the `dwsep` rule (synth.h): a dense k_h x k_w convolution
 * becomes a depthwise convolution followed by a pointwise one:
 *   Z[n, c, p, q] = sum(r, s) X[n, c, p*st + r*dil - pad0, ...] * F[c, 0, r, s]
 *   Y[n, k, p, q] = B'[k] + sum(c) Z[n, c, p, q] * A[k, c, 0, 0]
 * Start: per input channel c, the best rank-1 split of its filters
 * W[:, c, :, :] (a K x k_h k_w matrix, LAPACKE_dgesvd) gives F[c] (the
 * first right singular vector) and A[:, c] (sigma times the left one).
 * Exact when every channel's filters have rank at most 1; otherwise A and
 * B' are refitted by least squares on the calibration batch from the
 * depthwise outputs Z to the original outputs. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <lapacke.h>
#include <stdlib.h>

typedef struct shape {
	int64_t C, R, S, K;
	double stride[2], pad[4], dil[2];
} shape;

static int shape_of(const gos_module *m, int ni, shape *sh)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv) || !m->vals[cv.w].data ||
	    !gos_synth_conv_geometry(m, ni, sh->stride, sh->pad, sh->dil))
		return 0;
	sh->C = cv.C, sh->R = cv.R, sh->S = cv.S, sh->K = cv.K;
	int64_t rs = cv.R * cv.S;
	/* worth it: C rs + K C multiply-adds per position instead of K C rs */
	return rs > 1 && cv.K > 1 && cv.C * rs + cv.K * cv.C < cv.K * cv.C * rs;
}

int gos_synth_dwsep_params(const gos_module *m, int ni, int *vals, int max)
{
	shape sh;
	if (max < 1 || !shape_of(m, ni, &sh))
		return 0;
	vals[0] = 0;
	return 1;
}

typedef struct fit {
	const shape *sh;
	const float *f;  /* [C][rs] depthwise filters */
} fit;

static void features(const double *patch, double *z, const void *ctx)
{
	const fit *ft = ctx;
	int64_t rs = ft->sh->R * ft->sh->S;
	for (int64_t c = 0; c < ft->sh->C; c++) {
		double acc = 0;
		for (int64_t t = 0; t < rs; t++)
			acc += (double)ft->f[c * rs + t] * patch[c * rs + t];
		z[c] = (float)acc; /* Z is stored in float */
	}
}

int gos_synth_dwsep_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d)
{
	gos_loc loc = m->nodes[ni].loc;
	const char *nm = m->nodes[ni].name;
	*err = -1;
	shape sh;
	if (!shape_of(m, ni, &sh)) {
		gos_error(d, loc, "dwsep: does not apply to node '%s'", nm);
		return -1;
	}
	gos_synth_contraction cv;
	gos_synth_contraction_of(m, ni, &cv);
	const float *w = m->vals[cv.w].data;
	int64_t C = sh.C, K = sh.K, rs = sh.R * sh.S, kk = K < rs ? K : rs;
	float *f = gos_malloc(sizeof(float) * (size_t)(C * rs));
	float *a = gos_malloc(sizeof(float) * (size_t)(K * C));
	float *b = gos_calloc((size_t)K, sizeof(float));
	double *mc = gos_malloc(sizeof(double) * (size_t)(K * rs));
	double *u = gos_malloc(sizeof(double) * (size_t)(K * kk)), *sv = gos_malloc(sizeof(double) * (size_t)kk);
	double *vt = gos_malloc(sizeof(double) * (size_t)(kk * rs)), *sup = gos_malloc(sizeof(double) * (size_t)kk);
	double *ls = gos_malloc(sizeof(double) * (size_t)((C + 1) * K));
	gos_synth_data sd = {0};
	int rc = -1;
	if (!f || !a || !b || !mc || !u || !sv || !vt || !sup || !ls) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	*exact = 1;
	for (int64_t ch = 0; ch < C; ch++) {
		for (int64_t k = 0; k < K; k++)
			for (int64_t t = 0; t < rs; t++)
				mc[k * rs + t] = w[(k * C + ch) * rs + t];
		if (LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', (lapack_int)K, (lapack_int)rs, mc,
		                   (lapack_int)rs, sv, u, (lapack_int)kk, vt, (lapack_int)rs, sup)) {
			gos_error(d, loc, "dwsep: the SVD of a filter bank of '%s' failed", nm);
			goto done;
		}
		if (gos_synth_num_rank(sv, kk, K, rs) > 1)
			*exact = 0;
		for (int64_t t = 0; t < rs; t++)
			f[ch * rs + t] = (float)vt[t];
		for (int64_t k = 0; k < K; k++)
			a[k * C + ch] = (float)(sv[0] * u[k * kk]);
	}
	for (int64_t k = 0; k < K; k++)
		b[k] = cv.b >= 0 ? m->vals[cv.b].data[k] : 0;
	int have = c && c->n > 0;
	if (!*exact && !have) {
		gos_error(d, loc, "dwsep of node '%s' is not exact: fitting it needs calibration data "
		                  "(gos-opt --calib, gosc -calib=)",
		          nm);
		goto done;
	}
	if (have && gos_synth_data_get(m, ni, c, &sd, d))
		goto done;
	fit ft = {&sh, f};
	if (!*exact) { /* the depthwise filters fitted to the data (stages.c) */
		if (gos_synth_depthwise_stage(&sd, C, f) < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		if (gos_synth_lsq(&sd, features, &ft, (int)C, NULL, (int)K, ls, "dwsep", d))
			goto done;
		for (int64_t k = 0; k < K; k++) {
			for (int64_t ch = 0; ch < C; ch++)
				a[k * C + ch] = (float)ls[ch * K + k];
			b[k] = (float)ls[C * K + k];
		}
	}
	if (have) {
		gos_synth_map mp = {C, NULL, features, &ft};
		double *wd = gos_malloc(sizeof(double) * (size_t)(K * C + K));
		if (wd) {
			for (int64_t i = 0; i < K * C; i++)
				wd[i] = a[i];
			for (int64_t k = 0; k < K; k++)
				wd[K * C + k] = b[k];
			*err = gos_synth_error_map(&sd, &mp, wd, wd + K * C);
		}
		free(wd);
		if (*err < 0) { /* out of memory (*err is still -1 without wd) */
			gos_error(d, loc, "out of memory");
			goto done;
		}
	}
	int64_t fs[4] = {C, 1, sh.R, sh.S}, as[4] = {K, C, 1, 1};
	int fv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.dw", m->vals[cv.w].name), 4, fs, f);
	int av = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.pw", m->vals[cv.w].name), 4, as, a);
	int bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.pw.B", nm), 1, &K, b);
	if (fv < 0 || av < 0 || bv < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	int first = m->n_node;
	static const double one[2] = {1, 1}, zero[4] = {0, 0, 0, 0};
	int z = gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.dw", nm), cv.x, fv, -1, sh.stride,
	                         sh.pad, sh.dil, (int)C, loc, d);
	int y = z < 0 ? -1
	              : gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.pw", nm), z, av, bv, one,
	                                 zero, one, 1, loc, d);
	if (y >= 0)
		rc = gos_synth_splice(m, ni, first, y, d);
done:
	gos_synth_data_free(&sd);
	free(f);
	free(a);
	free(b);
	free(mc);
	free(u);
	free(sv);
	free(vt);
	free(sup);
	free(ls);
	return rc;
}
