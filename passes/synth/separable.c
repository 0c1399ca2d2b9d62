/* separable.c -- the `separable:m` rule (synth.h): a k_h x k_w
 * convolution becomes a k_h x 1 convolution to m channels followed by a
 * 1 x k_w convolution:
 *   Z[n, j, p, x] = sum(c, r) X[n, c, p*st0 + r*dil0 - pad0, x] * A[j, c, r, 0]      (j < m)
 *   Y[n, k, p, q] = B'[k] + sum(j, s) Z[n, j, p, q*st1 + s*dil1 - pad1] * G[k, j, 0, s]
 * Seen as a (C k_h) x (K k_w) matrix M[(c, r), (k, s)] = W[k, c, r, s],
 * the weight factors as U S V^T (LAPACKE_dgesvd): A = U_m, G = S_m V_m^T.
 * Exact when m is at least that matrix's numerical rank (an exactly
 * separable filter bank); otherwise fitted: A is fitted to the
 * calibration batch's outputs (gos_synth_stage1: the SVD in the data's
 * metric, then alternating least squares), and G and B' are refitted by
 * least squares from the k_h x 1 outputs (the m k_w values each output
 * position reads) to the original outputs. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <lapacke.h>
#include <stdlib.h>

typedef struct shape {
	int64_t C, R, S, K, P, Q, Win;
	double stride[2], pad[4], dil[2];
} shape;

static int shape_of(const gos_module *m, int ni, shape *sh)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv) || !m->vals[cv.w].data ||
	    !gos_synth_conv_geometry(m, ni, sh->stride, sh->pad, sh->dil))
		return 0;
	sh->C = cv.C, sh->R = cv.R, sh->S = cv.S, sh->K = cv.K, sh->P = cv.P, sh->Q = cv.Q;
	sh->Win = m->vals[cv.x].shape[3];
	return cv.R > 1 && cv.S > 1;
}

/* Multiply-adds per image of the pair at m, and of the original. */
static double pair_macs(const shape *sh, int64_t mm)
{
	return (double)mm * (double)(sh->C * sh->R * sh->P * sh->Win) +
	       (double)(sh->K * mm * sh->S * sh->P * sh->Q);
}

/* The rank of the (C R) x (K S) reshape of W and its SVD. */
static int svd(const gos_module *m, int ni, const shape *sh, double **u, double **sv, double **vt,
               int64_t *r0)
{
	gos_synth_contraction cv;
	gos_synth_contraction_of(m, ni, &cv);
	const float *w = m->vals[cv.w].data;
	int64_t rows = sh->C * sh->R, cols = sh->K * sh->S, kk = rows < cols ? rows : cols;
	double *a = gos_malloc(sizeof(double) * (size_t)(rows * cols)), *sup = gos_malloc(sizeof(double) * (size_t)kk);
	*u = gos_malloc(sizeof(double) * (size_t)(rows * kk));
	*sv = gos_malloc(sizeof(double) * (size_t)kk);
	*vt = gos_malloc(sizeof(double) * (size_t)(kk * cols));
	int rc = -1;
	if (a && sup && *u && *sv && *vt) {
		for (int64_t k = 0; k < sh->K; k++)
			for (int64_t c = 0; c < sh->C; c++)
				for (int64_t r = 0; r < sh->R; r++)
					for (int64_t s = 0; s < sh->S; s++)
						a[(c * sh->R + r) * cols + k * sh->S + s] =
							w[((k * sh->C + c) * sh->R + r) * sh->S + s];
		if (!LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', (lapack_int)rows, (lapack_int)cols, a,
		                    (lapack_int)cols, *sv, *u, (lapack_int)kk, *vt, (lapack_int)cols, sup)) {
			*r0 = gos_synth_num_rank(*sv, kk, rows, cols);
			rc = 0;
		}
	}
	free(a);
	free(sup);
	if (rc) {
		free(*u), free(*sv), free(*vt);
		*u = *sv = *vt = NULL;
	}
	return rc;
}

int gos_synth_separable_params(const gos_module *m, int ni, int *vals, int max)
{
	shape sh;
	if (!shape_of(m, ni, &sh))
		return 0;
	double full = (double)(sh.K * sh.C * sh.R * sh.S * sh.P * sh.Q);
	int64_t kk = sh.C * sh.R < sh.K * sh.S ? sh.C * sh.R : sh.K * sh.S;
	int n = 0;
	double *u, *sv, *vt;
	int64_t r0;
	if (!svd(m, ni, &sh, &u, &sv, &vt, &r0)) {
		if (r0 >= 1 && r0 < kk && pair_macs(&sh, r0) < full && n < max)
			vals[n++] = (int)r0; /* exact */
		free(u), free(sv), free(vt);
	}
	static const double ratio[] = {0.5, 0.25, 0.375};
	for (int i = 0; i < 3 && n < max; i++) {
		int64_t mm = (int64_t)(ratio[i] * full / pair_macs(&sh, 1));
		mm = gos_synth_round_width(mm);
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= vals[j] == mm;
		if (mm >= 1 && mm < kk && !dup)
			vals[n++] = (int)mm;
	}
	return n;
}

int gos_synth_separable_derive(gos_module *m, int ni, int mm, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d)
{
	gos_loc loc = m->nodes[ni].loc;
	const char *nm = m->nodes[ni].name;
	*err = -1;
	shape sh;
	if (!shape_of(m, ni, &sh)) {
		gos_error(d, loc, "separable: node '%s' is not a 2-D convolution with a kxk kernel", nm);
		return -1;
	}
	int64_t kk = sh.C * sh.R < sh.K * sh.S ? sh.C * sh.R : sh.K * sh.S;
	if (mm < 1 || mm >= kk) {
		gos_error(d, loc, "separable: m = %d for node '%s' must be from 1 to %lld", mm, nm,
		          (long long)(kk - 1));
		return -1;
	}
	gos_synth_contraction cv;
	gos_synth_contraction_of(m, ni, &cv);
	double *u, *sv, *vt;
	int64_t r0;
	if (svd(m, ni, &sh, &u, &sv, &vt, &r0)) {
		gos_error(d, loc, "separable: the SVD of the weight of '%s' failed", nm);
		return -1;
	}
	*exact = mm >= r0;
	int64_t K = sh.K, cols = sh.K * sh.S, nf = mm * sh.S;
	float *a = gos_malloc(sizeof(float) * (size_t)(mm * sh.C * sh.R));
	float *g = gos_malloc(sizeof(float) * (size_t)(K * nf));
	float *b = gos_calloc((size_t)K, sizeof(float));
	double *ls = gos_malloc(sizeof(double) * (size_t)((nf + 1) * K));
	double *am = NULL;
	gos_synth_data sd = {0};
	int rc = -1;
	if (!a || !g || !b || !ls) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	for (int64_t j = 0; j < mm; j++)
		for (int64_t cr = 0; cr < sh.C * sh.R; cr++)
			a[j * sh.C * sh.R + cr] = (float)u[cr * kk + j];
	for (int64_t k = 0; k < K; k++)
		for (int64_t j = 0; j < mm; j++)
			for (int64_t s = 0; s < sh.S; s++)
				g[(k * mm + j) * sh.S + s] = (float)(sv[j] * vt[j * cols + k * sh.S + s]);
	for (int64_t k = 0; k < K; k++)
		b[k] = cv.b >= 0 ? m->vals[cv.b].data[k] : 0;
	int have = c && c->n > 0;
	if (!*exact && !have) {
		gos_error(d, loc,
		          "separable:m=%d of node '%s' is not exact (the weight's separable rank is %lld): "
		          "fitting it needs calibration data (gos-opt --calib, gosc -calib=)",
		          mm, nm, (long long)r0);
		goto done;
	}
	if (have && gos_synth_data_get(m, ni, c, &sd, d))
		goto done;
	/* the k_h x 1 stage as a map from the patch: Z[(j, s)] reads (c, r, s) */
	int64_t D = sh.C * sh.R * sh.S;
	am = gos_calloc((size_t)(nf * D + K * nf + K), sizeof(double));
	if (!am) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	if (!*exact) { /* the k_h x 1 stage fitted to the data (stages.c) */
		/* am's first mm C R entries as scratch, zeroed again for the map */
		int st = gos_synth_stage1(c, &sd, sh.S, mm, m->vals[cv.w].data, am);
		if (st < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		for (int64_t i = 0; i < mm * sh.C * sh.R; i++) {
			if (!st)
				a[i] = (float)am[i];
			am[i] = 0;
		}
	}
	for (int64_t j = 0; j < mm; j++)
		for (int64_t s = 0; s < sh.S; s++)
			for (int64_t cr = 0; cr < sh.C * sh.R; cr++)
				am[(j * sh.S + s) * D + cr * sh.S + s] = a[j * sh.C * sh.R + cr];
	gos_synth_map mp = {nf, am, NULL, NULL};
	if (!*exact) {
		if (gos_synth_lsq_map(&sd, &mp, NULL, (int)K, ls, "separable", d))
			goto done;
		for (int64_t k = 0; k < K; k++) {
			for (int64_t t = 0; t < nf; t++)
				g[k * nf + t] = (float)ls[t * K + k];
			b[k] = (float)ls[nf * K + k];
		}
	}
	double *gd = am + nf * D;
	for (int64_t i = 0; i < K * nf; i++)
		gd[i] = g[i];
	for (int64_t k = 0; k < K; k++)
		gd[K * nf + k] = b[k];
	if (have && (*err = gos_synth_error_map(&sd, &mp, gd, gd + K * nf)) < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	int64_t as[4] = {mm, sh.C, sh.R, 1}, gs[4] = {K, mm, 1, sh.S};
	int av = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.sep1", m->vals[cv.w].name), 4, as, a);
	int gv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.sep2", m->vals[cv.w].name), 4, gs, g);
	int bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.sep2.B", nm), 1, &K, b);
	if (av < 0 || gv < 0 || bv < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	int first = m->n_node;
	double st1[2] = {sh.stride[0], 1}, pad1[4] = {sh.pad[0], 0, sh.pad[2], 0},
	       dl1[2] = {sh.dil[0], 1};
	double st2[2] = {1, sh.stride[1]}, pad2[4] = {0, sh.pad[1], 0, sh.pad[3]},
	       dl2[2] = {1, sh.dil[1]};
	int z = gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.sep1", nm), cv.x, av, -1, st1, pad1,
	                         dl1, 1, loc, d);
	int y = z < 0 ? -1
	              : gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.sep2", nm), z, gv, bv, st2,
	                                 pad2, dl2, 1, loc, d);
	if (y >= 0)
		rc = gos_synth_splice(m, ni, first, y, d);
done:
	gos_synth_data_free(&sd);
	free(u);
	free(sv);
	free(vt);
	free(a);
	free(g);
	free(b);
	free(ls);
	free(am);
	return rc;
}
