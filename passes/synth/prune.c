/* prune.c -- the `prune` rule (synth.h): a contraction whose first
 * reduction variable is its input's channel,
 *   Y[n, k, sp] = B[k] + sum(c < C, red) X[n, c, f(sp, red)] * W[k, c, red]
 * keeps c of the C channels:
 *   Y[n, k, sp] = B'[k] + sum(j < c, red) X'[n, j, f(sp, red)] * W'[k, j, red]
 * with X'[n, j, ..] = X[n, keep[j], ..]. The producer stops computing the
 * other channels (chan.c: its output rows and the per-channel nodes in
 * between shrink) unless something else reads them; then the reader
 * gathers X' instead.
 *
 * Channels are chosen on the calibration batch by backward elimination:
 * with Z_c the part of the output that channel c contributes (its patch
 * times its filters), start from every channel and repeatedly drop the one
 * whose loss raises min over beta of ||Y - B - sum_c beta_c Z_c||^2 least
 * (beta_j^2 / [G^-1]_jj for the Gram matrix G of the kept Z_c; LAPACKE
 * Cholesky). W' and B' are then refitted by least squares on the kept
 * channels' patches (gos_synth_lsq). Exact, with W' and B' the original
 * rows, when every dropped channel's filters are zero. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int gos_synth_prune_params(const gos_module *m, int ni, int *vals, int max)
{
	gos_synth_contraction cv;
	int64_t C, per;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per) || C < 2)
		return 0;
	static const double frac[] = {0.5, 0.25, 0.75, 0.375};
	int n = 0;
	for (int i = 0; i < 4 && n < max; i++) {
		int64_t c = (int64_t)(frac[i] * (double)C);
		c = c >= 8 ? c - c % 8 : gos_synth_round_width(c); /* whole vector blocks */
		if (c < 1 || c >= C)
			continue;
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= vals[j] == c;
		if (!dup)
			vals[n++] = (int)c;
	}
	return n;
}

/* Marks in drop[C] the C - c channels backward elimination removes (see
 * the top), from up to 8192 positions of sd; energy[C] gets each
 * channel's sum of squared patch entries there, scale[C] the kept
 * channels' least-squares scales beta. Returns 0 or -1. */
static int choose(const gos_synth_data *sd, const float *w, const float *b, int64_t C,
                  int64_t per, int64_t c, char *drop, double *energy, double *scale,
                  gos_diags *d)
{
	/* positions: up to 8192, fewer for wide layers (the Gram matrix costs
	 * rows * K * C^2) */
	int64_t K = sd->K, D = sd->D, cap = ((int64_t)1 << 25) / (K * C);
	cap = cap > 8192 ? 8192 : cap < 1024 ? 1024 : cap;
	cap = cap > sd->fit_rows ? sd->fit_rows : cap;
	int64_t rows = sd->total < cap ? sd->total : cap, B = 256;
	double *g = gos_calloc((size_t)(C * C), sizeof(double)), *t = gos_calloc((size_t)C, sizeof(double));
	double *pb = gos_malloc(sizeof(double) * (size_t)(B * (D + K) + K * D));
	double *z = gos_malloc(sizeof(double) * (size_t)(C * B * K)); /* [C][B K] */
	double *a = gos_malloc(sizeof(double) * (size_t)(C * C)), *beta = gos_malloc(sizeof(double) * (size_t)C);
	int64_t *idx = gos_malloc(sizeof(int64_t) * (size_t)C);
	int rc = -1;
	if (!g || !t || !pb || !z || !a || !beta || !idx) {
		gos_error(d, sd->node->loc, "prune: out of memory");
		goto done;
	}
	double *yb = pb + B * D, *wd = yb + B * K;
	for (int64_t i = 0; i < K * D; i++)
		wd[i] = w[i];
	for (int64_t i0 = 0; i0 < rows; i0 += B) {
		int64_t nb = rows - i0 < B ? rows - i0 : B;
		for (int64_t i = 0; i < nb; i++) {
			int64_t row = gos_synth_data_pos(sd, i0 + i, rows);
			double *patch = pb + i * D;
			gos_synth_data_row(sd, row, patch, yb + i * K);
			for (int64_t q = 0; q < D; q++)
				energy[q / per] += patch[q] * patch[q];
			for (int64_t k = 0; k < K; k++)
				yb[i * K + k] -= b ? b[k] : 0; /* the residual the channels explain */
		}
		/* Z_c = patches of channel c . its filters (nb x K), per channel */
		for (int64_t ch = 0; ch < C; ch++) {
			double *zc = z + ch * B * K, tc = 0;
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nb, (blasint)K,
			            (blasint)per, 1.0, pb + ch * per, (blasint)D, wd + ch * per, (blasint)D,
			            0.0, zc, (blasint)K);
			for (int64_t i = 0; i < nb * K; i++)
				tc += zc[i] * yb[i];
			t[ch] += tc;
		}
		/* g += Z Z^T over the block (lower triangle) */
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, (blasint)C, (blasint)(nb * K), 1.0, z,
		            (blasint)(B * K), 1.0, g, (blasint)C);
	}
	double tr = 0;
	for (int64_t u = 0; u < C; u++) {
		for (int64_t v = 0; v < u; v++)
			g[v * C + u] = g[u * C + v];
		tr += g[u * C + u];
	}
	for (int64_t u = 0; u < C; u++)
		drop[u] = 0;
	double ridge = 1e-9 * (tr > 0 ? tr / (double)C : 1);
	for (int64_t left = C;;) {
		int64_t s = 0;
		for (int64_t u = 0; u < C; u++)
			if (!drop[u])
				idx[s++] = u;
		for (int64_t i = 0; i < s; i++) {
			for (int64_t j = 0; j < s; j++)
				a[i * s + j] = g[idx[i] * C + idx[j]];
			a[i * s + i] += ridge;
		}
		lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)s, a, (lapack_int)s);
		if (!info)
			info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)s, a, (lapack_int)s);
		if (info > 0) { /* not positive definite at this ridge: raise it */
			ridge *= 100;
			continue;
		}
		if (info) {
			gos_error(d, sd->node->loc, "prune: the channel choice failed (LAPACK info %d)", (int)info);
			goto done;
		}
		for (int64_t i = 0; i < s; i++) /* the inverse is in the lower triangle */
			for (int64_t j = i + 1; j < s; j++)
				a[i * s + j] = a[j * s + i];
		int64_t best = -1;
		double bc = INFINITY;
		for (int64_t i = 0; i < s; i++) {
			double bi = 0;
			for (int64_t j = 0; j < s; j++)
				bi += a[i * s + j] * t[idx[j]];
			beta[i] = bi;
			double cost = bi * bi / a[i * s + i];
			if (cost < bc)
				bc = cost, best = i;
		}
		if (left == c) { /* the kept channels' scales */
			for (int64_t i = 0; i < s; i++)
				scale[idx[i]] = beta[i];
			break;
		}
		drop[idx[best]] = 1;
		left--;
	}
	rc = 0;
done:
	free(g);
	free(t);
	free(pb);
	free(z);
	free(a);
	free(beta);
	free(idx);
	return rc;
}

typedef struct fit {
	const int64_t *keep;
	int64_t nk, per;
} fit;

static void features(const double *patch, double *f, const void *ctx)
{
	const fit *ft = ctx;
	for (int64_t j = 0; j < ft->nk; j++)
		memcpy(f + j * ft->per, patch + ft->keep[j] * ft->per, sizeof(double) * (size_t)ft->per);
}

/* Whether every side reader of r has zero weights on the channels
 * drop[] marks (then removing them changes nothing). */
static int sides_ignore(const gos_module *m, const gos_synth_chan *r, const char *drop)
{
	for (int i = 0; i < r->n; i++) {
		gos_synth_contraction cv;
		int64_t C, per;
		if (r->leaf[i] != GOS_SYNTH_CHAN_SIDE || !gos_synth_chan_of(m, r->nodes[i], &cv, &C, &per))
			continue;
		const float *w = m->vals[cv.w].data;
		for (int64_t k = 0; k < cv.K; k++)
			for (int64_t ch = 0; ch < C; ch++)
				for (int64_t q = 0; drop[ch] && q < per; q++)
					if (w[(k * C + ch) * per + q] != 0)
						return 0;
	}
	return 1;
}

/* Refits every side reader of region r (chan.c) on the kept channels
 * keep[nk] of its input, towards its recorded results, by least squares
 * (r->side_w, r->side_b); with too few positions for that, or when
 * cal->acts lacks its activations, it keeps those columns of its
 * weight. Returns 0 or -1. */
static int refit_sides(const gos_module *m, gos_synth_chan *r, const gos_synth_calib *cal,
                       const int64_t *keep, int64_t nk, gos_diags *d)
{
	if (!r->n_side)
		return 0;
	r->side_w = gos_calloc((size_t)r->n, sizeof(float *));
	r->side_b = gos_calloc((size_t)r->n, sizeof(float *));
	if (!r->side_w || !r->side_b) {
		gos_error(d, m->nodes[r->nodes[0]].loc, "out of memory");
		return -1;
	}
	for (int i = 0; i < r->n; i++) {
		if (r->leaf[i] != GOS_SYNTH_CHAN_SIDE)
			continue;
		/* given recorded activations (a search), only from them: the
		 * side reader of a rewritten module keeps its kept columns */
		const gos_node *sn = &m->nodes[r->nodes[i]];
		if (cal->acts && (!gos_synth_recorded(m, m->vals[sn->in[0]].name, cal) ||
		                  !gos_synth_recorded(m, m->vals[sn->out[0]].name, cal)))
			continue;
		gos_synth_data sd;
		if (gos_synth_data_get(m, r->nodes[i], cal, &sd, d))
			return -1;
		int64_t K = sd.K, per = sd.D / r->C, nf = nk * per;
		double *a = NULL;
		int rc = -1;
		if (sd.total < nf + 1) {
			rc = 0; /* too few positions: the kept columns */
			goto next;
		}
		a = gos_malloc(sizeof(double) * (size_t)((nf + 1) * K));
		r->side_w[i] = gos_malloc(sizeof(float) * (size_t)(K * nf));
		r->side_b[i] = gos_malloc(sizeof(float) * (size_t)K);
		if (!a || !r->side_w[i] || !r->side_b[i]) {
			gos_error(d, sd.node->loc, "out of memory");
			goto next;
		}
		fit ft = {keep, nk, per};
		if (gos_synth_lsq(&sd, features, &ft, (int)nf, NULL, (int)K, a, "prune", d))
			goto next;
		for (int64_t k = 0; k < K; k++) {
			for (int64_t f = 0; f < nf; f++)
				r->side_w[i][k * nf + f] = (float)a[f * K + k];
			r->side_b[i][k] = (float)a[nf * K + k];
		}
		rc = 0;
	next:
		free(a);
		gos_synth_data_free(&sd);
		if (rc)
			return -1;
	}
	return 0;
}

int gos_synth_prune_derive(gos_module *m, int ni, int c, const gos_synth_calib *cal, int *exact,
                           double *err, gos_diags *d)
{
	gos_loc loc = m->nodes[ni].loc;
	const char *nm = m->nodes[ni].name;
	*err = -1;
	gos_synth_contraction cv;
	int64_t C, per;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per)) {
		gos_error(d, loc, "prune: node '%s' is not a contraction over its input's channels "
		                  "with constant weights", nm);
		return -1;
	}
	if (c < 1 || c >= C) {
		gos_error(d, loc, "prune: c=%d kept channels of node '%s' must be from 1 to %lld (it reads "
		                  "%lld input channels)", c, nm, (long long)(C - 1), (long long)C);
		return -1;
	}
	int64_t K = cv.K, D = C * per, nf = (int64_t)c * per;
	const float *w = m->vals[cv.w].data, *b = cv.b >= 0 ? m->vals[cv.b].data : NULL;
	char *drop = gos_calloc((size_t)C, 1);
	int64_t *keep = gos_malloc(sizeof(int64_t) * (size_t)C), *live = gos_malloc(sizeof(int64_t) * (size_t)C);
	double *energy = gos_calloc((size_t)C, sizeof(double)), *scale = gos_calloc((size_t)C, sizeof(double));
	float *nw = gos_malloc(sizeof(float) * (size_t)(K * nf));
	float *nb = gos_calloc((size_t)K, sizeof(float));
	double *a = gos_malloc(sizeof(double) * (size_t)((nf + 1) * K));
	gos_synth_data sd = {0};
	gos_synth_chan r = {0};
	int rc = -1;
	if (!drop || !keep || !live || !energy || !scale || !nw || !nb || !a) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	/* exact without data: at least C - c channels whose filters are zero */
	int64_t zero = 0;
	for (int64_t ch = 0; ch < C; ch++) {
		int z = 1;
		for (int64_t k = 0; k < K && z; k++)
			for (int64_t q = 0; q < per && z; q++)
				z = w[k * D + ch * per + q] == 0;
		if (z && zero < C - c)
			drop[ch] = 1, zero++;
	}
	*exact = zero == C - c;
	int have = cal && cal->n > 0;
	if (!*exact && !have) {
		gos_error(d, loc, "prune:c=%d of node '%s' is not exact: choosing and refitting channels "
		                  "needs calibration data (gos-opt --calib, gosc -calib=)", c, nm);
		goto done;
	}
	if (have && gos_synth_data_get(m, ni, cal, &sd, d))
		goto done;
	if (!*exact && choose(&sd, w, b, C, per, c, drop, energy, scale, d))
		goto done;
	int64_t nk = 0;
	for (int64_t ch = 0; ch < C; ch++)
		if (!drop[ch])
			keep[nk++] = ch;
	/* a choice that drops only zero filters is exact as well */
	int zero_only = 1;
	for (int64_t ch = 0; ch < C; ch++)
		for (int64_t k = 0; drop[ch] && k < K && zero_only; k++)
			for (int64_t q = 0; q < per && zero_only; q++)
				zero_only = w[k * D + ch * per + q] == 0;
	*exact = zero_only;
	fit ft = {keep, nk, per};
	int64_t nlive = 0;
	for (int64_t j = 0; j < nk; j++)
		nlive += energy[keep[j]] > 0;
	int64_t fit_rows = sd.fit_rows;
	if (*exact) {
		for (int64_t k = 0; k < K; k++) {
			for (int64_t j = 0; j < nk; j++)
				memcpy(nw + k * nf + j * per, w + k * D + keep[j] * per, sizeof(float) * (size_t)per);
			nb[k] = b ? b[k] : 0;
		}
	} else if (fit_rows < nlive * per + 1) {
		/* fewer positions than coefficients: the kept filters, scaled by
		 * the choice's least-squares scales, and the old bias */
		for (int64_t k = 0; k < K; k++) {
			for (int64_t j = 0; j < nk; j++)
				for (int64_t q = 0; q < per; q++)
					nw[k * nf + j * per + q] = (float)(scale[keep[j]] * w[k * D + keep[j] * per + q]);
			nb[k] = b ? b[k] : 0;
		}
	} else {
		/* kept channels that are zero on the whole batch (a dead relu) give
		 * no equation: they keep their filters and stay out of the fit */
		int64_t nl = 0;
		for (int64_t j = 0; j < nk; j++)
			if (energy[keep[j]] > 0)
				live[nl++] = keep[j];
		fit lf = {live, nl, per};
		if (gos_synth_lsq(&sd, features, &lf, (int)(nl * per), NULL, (int)K, a, "prune", d))
			goto done;
		for (int64_t k = 0; k < K; k++) {
			for (int64_t j = 0, l = 0; j < nk; j++) {
				float *dst = nw + k * nf + j * per;
				if (l < nl && live[l] == keep[j]) {
					for (int64_t q = 0; q < per; q++)
						dst[q] = (float)a[(l * per + q) * K + k];
					l++;
				} else {
					memcpy(dst, w + k * D + keep[j] * per, sizeof(float) * (size_t)per);
				}
			}
			nb[k] = (float)a[nl * per * K + k];
		}
	}
	if (have) {
		gos_synth_map mp = {nf, NULL, features, &ft};
		double *wd = gos_malloc(sizeof(double) * (size_t)(K * nf + K));
		if (wd) {
			for (int64_t i = 0; i < K * nf; i++)
				wd[i] = nw[i];
			for (int64_t k = 0; k < K; k++)
				wd[K * nf + k] = nb[k];
			/* without a bias the fit's constant is dropped */
			*err = gos_synth_error_map(&sd, &mp, wd, cv.b >= 0 ? wd + K * nf : NULL);
		}
		free(wd);
		if (*err < 0) { /* out of memory (*err is still -1 without wd) */
			gos_error(d, loc, "out of memory");
			goto done;
		}
	}
	if (gos_synth_chan_region(m, ni, 1, &r, d))
		goto done;
	if (r.n_side && !sides_ignore(m, &r, drop)) {
		/* the side branches read the dropped channels: refitted, not
		 * exact; without data the reader gathers its channels instead */
		if (*exact && !have) {
			gos_synth_chan_free(&r);
			r.shrink = 0;
		}
		*exact = 0;
	}
	if (have && r.shrink && refit_sides(m, &r, cal, keep, nk, d))
		goto done;
	rc = gos_synth_chan_rewrite(m, ni, &r, keep, nk, nw, nb, "pruned", d);
done:
	gos_synth_chan_free(&r);
	gos_synth_data_free(&sd);
	free(drop);
	free(keep);
	free(live);
	free(energy);
	free(scale);
	free(nw);
	free(nb);
	free(a);
	return rc;
}
