/* lowrank.c -- the `lowrank` rule (synth.h): a contraction
 *   Y[n, k, sp] = B[k] + sum(red) X[f(n, sp, red)] * W[k, red]
 * with W seen as a K x D matrix (D = the reduction's size) becomes the
 * pair
 *   Z[n, j, sp] = sum(red) X[f(n, sp, red)] * W1[j, red]     (j < r)
 *   Y[n, k, sp] = B'[k] + sum(j) Z[n, j, sp] * W2[k, j]
 * The first node is the original comprehension with r output channels
 * (same indexing: stride, padding, dilation carry over whatever they are),
 * the second a 1x1 convolution (dense for rank-2 results).
 * W = U S V^T (LAPACKE_dgesvd); W1 = V_r^T. Exact when r is at least the
 * numerical rank of W (W2 = U_r S_r, B' = B). Otherwise fitted: W1 is
 * fitted to the calibration outputs (gos_synth_stage1 with one shift:
 * the SVD of W in the metric of the patches' second moment, then
 * alternating least squares), and W2 and B' solve the least-squares problem
 * min || [Z 1] [W2 B']^T - Y || over the node's outputs (gos_synth_solve). */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "frontend/frontend.h"
#include "passes/passes.h"

/* Singular values and vectors of the node's weight (K x D, row-major):
 * u[K][K'], sv[K'], vt[K'][D] with K' = min(K, D). Returns 0 or -1. */
static int weight_svd(const float *w, int64_t K, int64_t D, double **u, double **sv,
                      double **vt)
{
	int64_t kk = K < D ? K : D;
	double *a = gos_malloc(sizeof(double) * (size_t)(K * D));
	*u = gos_malloc(sizeof(double) * (size_t)(K * kk));
	*sv = gos_malloc(sizeof(double) * (size_t)kk);
	*vt = gos_malloc(sizeof(double) * (size_t)(kk * D));
	double *super = gos_malloc(sizeof(double) * (size_t)(kk + 1));
	int rc = -1;
	if (a && *u && *sv && *vt && super) {
		for (int64_t i = 0; i < K * D; i++)
			a[i] = w[i];
		rc = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', (lapack_int)K, (lapack_int)D, a,
		                    (lapack_int)D, *sv, *u, (lapack_int)kk, *vt, (lapack_int)D, super)
		             ? -1
		             : 0;
	}
	free(a);
	free(super);
	if (rc) {
		free(*u);
		free(*sv);
		free(*vt);
		*u = *sv = *vt = NULL;
	}
	return rc;
}

int gos_synth_lowrank_params(const gos_module *m, int ni, int *vals, int max)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv) || !m->vals[cv.w].data)
		return 0;
	int64_t K = cv.K, D = gos_numel(m->vals[cv.w].rank, m->vals[cv.w].shape) / K;
	int64_t kk = K < D ? K : D;
	/* r is worth it when r (D + K) < K D */
	int64_t rmax = (K * D - 1) / (D + K);
	if (rmax < 1 || kk < 2)
		return 0;
	int n = 0;
	double *u, *sv, *vt;
	if (!weight_svd(m->vals[cv.w].data, K, D, &u, &sv, &vt)) {
		int64_t r0 = gos_synth_num_rank(sv, kk, K, D);
		if (r0 >= 1 && r0 <= rmax && n < max)
			vals[n++] = (int)r0; /* exact */
		free(u);
		free(sv);
		free(vt);
	}
	/* FLOPs ratios 1/2, 1/4, 3/4 */
	static const double ratio[] = {0.5, 0.25, 0.75};
	for (int i = 0; i < 3 && n < max; i++) {
		int64_t r = (int64_t)(ratio[i] * (double)(K * D) / (double)(D + K));
		r = gos_synth_round_width(r); /* a rank of 57 runs slower than 56 */
		if (r < 1 || r > rmax)
			continue;
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= vals[j] == r;
		if (!dup)
			vals[n++] = (int)r;
	}
	return n;
}

/* Relative MSE of the pair (w1 [r][D], w2 [K][r], b2) against the
 * recorded outputs over sd's error positions (every one by default),
 * in blocks of positions (two cblas_dgemm each), or -1 when out of
 * memory. */
static double pair_error(const gos_synth_data *sd, int64_t r, const float *w1, const float *w2,
                         const float *b2)
{
	enum { B = 1024 };
	int64_t rows = sd->err_rows, D = sd->D, K = sd->K;
	double *w1d = gos_malloc(sizeof(double) * (size_t)(r * D + K * r));
	double *pb = gos_malloc(sizeof(double) * (size_t)(B * (D + 2 * K + r) + K));
	double num = 0, den = 0;
	if (!w1d || !pb) {
		free(w1d);
		free(pb);
		return -1;
	}
	double *w2d = w1d + r * D, *yb = pb + B * D, *zb = yb + B * K, *ob = zb + B * r;
	double *lk = ob + B * K;
	for (int64_t i = 0; i < r * D; i++)
		w1d[i] = w1[i];
	for (int64_t i = 0; i < K * r; i++)
		w2d[i] = w2[i];
	for (int64_t g0 = 0; g0 < rows; g0 += B) {
		int64_t nb = rows - g0 < B ? rows - g0 : B;
		for (int64_t i = 0; i < nb; i++)
			gos_synth_data_row(sd, gos_synth_data_pos(sd, g0 + i, rows), pb + i * D, yb + i * K);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nb, (blasint)r, (blasint)D,
		            1.0, pb, (blasint)D, w1d, (blasint)D, 0.0, zb, (blasint)r);
		for (int64_t i = 0; i < nb * r; i++)
			zb[i] = (float)zb[i]; /* the intermediate is stored in float */
		for (int64_t i = 0; i < nb; i++)
			for (int64_t k = 0; k < K; k++)
				ob[i * K + k] = b2[k];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nb, (blasint)K, (blasint)r,
		            1.0, zb, (blasint)r, w2d, (blasint)r, 1.0, ob, (blasint)K);
		for (int64_t i = 0; i < nb; i++) {
			gos_synth_data_floor(sd, gos_synth_data_pos(sd, g0 + i, rows), lk);
			for (int64_t k = 0; k < K; k++)
				gos_synth_err_add(ob[i * K + k], yb[i * K + k], lk[k], &num, &den);
		}
	}
	free(w1d);
	free(pb);
	return den > 0 ? num / den : num > 0;
}

/* The 1x1 mixing operator for results of this rank. */
static const char *mix_op(int rank)
{
	return rank == 4 ? "conv2d" : rank == 3 ? "conv1d" : "dense";
}

int gos_synth_lowrank_derive(gos_module *m, int ni, int r, const gos_synth_calib *c, int *exact,
                             double *err, gos_diags *d)
{
	*err = -1;
	gos_loc loc = m->nodes[ni].loc;
	const char *nm = m->nodes[ni].name;
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv)) {
		gos_error(d, loc, "lowrank: node '%s' is not a contraction with constant weights", nm);
		return -1;
	}
	int64_t K = cv.K, D = gos_numel(m->vals[cv.w].rank, m->vals[cv.w].shape) / K;
	int64_t kk = K < D ? K : D;
	if (r < 1 || r >= kk) {
		gos_error(d, loc, "lowrank: rank %d of node '%s' must be from 1 to %lld (its weight is %lld x %lld)",
		          r, nm, (long long)(kk - 1), (long long)K, (long long)D);
		return -1;
	}
	double *u, *sv, *vt;
	if (weight_svd(m->vals[cv.w].data, K, D, &u, &sv, &vt)) {
		gos_error(d, loc, "lowrank: the SVD of the weight of '%s' failed", nm);
		return -1;
	}
	int64_t r0 = gos_synth_num_rank(sv, kk, K, D);
	*exact = r >= r0;
	int rc = -1;
	float *w1 = gos_malloc(sizeof(float) * (size_t)(r * D));
	float *w2 = gos_malloc(sizeof(float) * (size_t)(K * r));
	float *b2 = gos_calloc((size_t)K, sizeof(float));
	double *pm = NULL, *yr = NULL, *z = NULL, *w1d = NULL, *ab = NULL, *lo = NULL;
	gos_synth_data sd = {0};
	if (!w1 || !w2 || !b2) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	for (int64_t j = 0; j < r; j++)
		for (int64_t i = 0; i < D; i++)
			w1[j * D + i] = (float)vt[j * D + i];
	for (int64_t k = 0; k < K; k++)
		for (int64_t j = 0; j < r; j++)
			w2[k * r + j] = (float)(u[k * kk + j] * sv[j]);
	if (cv.b >= 0)
		memcpy(b2, m->vals[cv.b].data, sizeof(float) * (size_t)K);
	int have = c && c->n > 0;
	if (!*exact && !have) {
		gos_error(d, loc,
		          "lowrank: rank %d of node '%s' is not exact (the weight's numerical rank "
		          "is %lld): fitting it needs calibration data (gos-opt --calib, gosc -calib=)",
		          r, nm, (long long)r0);
		goto done;
	}
	/* the node's input and output on the calibration batch */
	if (have && gos_synth_data_get(m, ni, c, &sd, d))
		goto done;
	int64_t total = sd.total;
	if (!*exact) {
		int64_t rows_max = (1 << 24) / D; /* patches stay within 128 MB */
		rows_max = rows_max > GOS_SYNTH_FIT_ROWS ? GOS_SYNTH_FIT_ROWS : rows_max < 4096 ? 4096 : rows_max;
		rows_max = rows_max > sd.fit_rows ? sd.fit_rows : rows_max;
		int64_t rows = total < rows_max ? total : rows_max;
		pm = gos_malloc(sizeof(double) * (size_t)(rows * D + 1));
		yr = gos_malloc(sizeof(double) * (size_t)(rows * K + 1));
		z = gos_malloc(sizeof(double) * (size_t)(rows * r + 1));
		w1d = gos_malloc(sizeof(double) * (size_t)(r * D));
		ab = gos_malloc(sizeof(double) * (size_t)((r + 1) * K));
		lo = gos_synth_data_floored(&sd) ? gos_malloc(sizeof(double) * (size_t)(rows * K + 1))
		                                 : NULL;
		if (!pm || !yr || !z || !w1d || !ab || (gos_synth_data_floored(&sd) && !lo)) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		if (rows < r + 1) {
			gos_error(d, loc, "lowrank: %lld calibration positions cannot fit rank %d of '%s'",
			          (long long)rows, r, nm);
			goto done;
		}
		/* the first factor fitted to the data (stages.c), w1d as scratch */
		int st = gos_synth_stage1(c, &sd, 1, r, m->vals[cv.w].data, w1d);
		if (st < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		for (int64_t i = 0; !st && i < r * D; i++)
			w1[i] = (float)w1d[i];
		for (int64_t i = 0; i < rows; i++) { /* spread over the batch */
			int64_t g = gos_synth_data_pos(&sd, i, rows);
			gos_synth_data_row(&sd, g, pm + i * D, yr + i * K);
			if (lo)
				gos_synth_data_floor(&sd, g, lo + i * K);
		}
		/* Z = patches . W1^T (W1 rounded to float as it will be stored, Z
		 * stored in float as the first node will) */
		for (int64_t i = 0; i < r * D; i++)
			w1d[i] = w1[i];
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)r, (blasint)D,
		            1.0, pm, (blasint)D, w1d, (blasint)D, 0.0, z, (blasint)r);
		for (int64_t i = 0; i < rows * r; i++)
			z[i] = (float)z[i];
		if (gos_synth_solve(rows, r, K, z, yr, lo, ab)) {
			gos_error(d, loc, "lowrank: the least-squares refit of '%s' failed", nm);
			goto done;
		}
		for (int64_t k = 0; k < K; k++) {
			for (int64_t j = 0; j < r; j++)
				w2[k * r + j] = (float)ab[j * K + k];
			b2[k] = (float)ab[r * K + k];
		}
	}
	if (have && (*err = pair_error(&sd, r, w1, w2, b2)) < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	/* the first factor: the node's comprehension with r output channels */
	{
		gos_node orig = m->nodes[ni];
		const gos_value *wv = &m->vals[cv.w];
		int64_t wshape[GOS_MAX_RANK];
		memcpy(wshape, wv->shape, sizeof wshape);
		wshape[0] = r;
		int wrank = wv->rank;
		int w1v = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.lowrank1", m->vals[cv.w].name),
		                           wrank, wshape, w1);
		const gos_value *yv = &m->vals[cv.y];
		int64_t zshape[GOS_MAX_RANK];
		memcpy(zshape, yv->shape, sizeof zshape);
		zshape[1] = r;
		int zrank = yv->rank;
		const char *zname = gos_arena_printf(m->arena, "%s.lowrank1", yv->name);
		int zv = gos_module_add_value(m, zname, GOS_VAL_TEMP, GOS_F32, zrank, zshape);
		int first = m->n_node;
		int n1 = gos_module_add_node(m, gos_arena_printf(m->arena, "%s.lowrank1", orig.name),
		                             orig.op);
		if (w1v < 0 || zv < 0 || n1 < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		gos_node *a = &m->nodes[n1];
		const char *keep_name = a->name;
		*a = orig;
		a->name = keep_name;
		a->n_in = 2;
		a->in = GOS_NEWN(m->arena, int, 2);
		a->out = GOS_NEWN(m->arena, int, 1);
		a->n_buf = orig.n_buf - (orig.n_in - 2); /* without the bias */
		a->bufs = GOS_NEWN(m->arena, gos_buf, a->n_buf);
		a->n_stmt = 1;
		a->stmts = GOS_NEWN(m->arena, gos_stmt, 1);
		if (!a->in || !a->out || !a->bufs || !a->stmts) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		a->in[0] = orig.in[0];
		a->in[1] = w1v;
		a->out[0] = zv;
		/* buffers: X, W1, Z, then the original locals */
		a->bufs[0] = orig.bufs[0];
		a->bufs[1] = orig.bufs[1];
		a->bufs[1].shape[0] = r;
		a->bufs[1].value = w1v;
		a->bufs[2] = orig.bufs[orig.n_in];
		a->bufs[2].shape[1] = r;
		a->bufs[2].value = zv;
		for (int j = orig.n_in + 1; j < orig.n_buf; j++)
			a->bufs[3 + j - (orig.n_in + 1)] = orig.bufs[j];
		a->stmts[0] = orig.stmts[0];
		a->stmts[0].dst = 2;
		/* the second: a 1x1 mix of the r channels, with the bias */
		int64_t kr[4] = {K, r, 1, 1};
		int w2v = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.lowrank2", m->vals[cv.w].name),
		                           zrank, kr, w2);
		int b2v = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.lowrank2.B", orig.name), 1, &K,
		                           b2);
		if (w2v < 0 || b2v < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		gos_oplib *lib = gos_oplib_new(NULL, d);
		if (!lib)
			goto done;
		int in[3] = {zv, w2v, b2v}, out[8];
		int k = gos_oplib_apply(lib, m, mix_op(zrank),
		                        gos_arena_printf(m->arena, "%s.lowrank2", orig.name), 3, in, 0, NULL,
		                        out, orig.loc, d);
		gos_oplib_free(lib);
		if (k != 1)
			goto done;
		rc = gos_synth_splice(m, ni, first, out[0], d);
	}
done:
	free(u);
	free(sv);
	free(vt);
	free(w1);
	free(w2);
	free(b2);
	free(pm);
	free(yr);
	free(z);
	free(w1d);
	free(ab);
	free(lo);
	gos_synth_data_free(&sd);
	return rc;
}
