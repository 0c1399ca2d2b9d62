/* zerochan.c -- the `zerochan` rule (synth.h), exact: a contraction
 *   Y[n, k, sp] = B[k] + sum(c < C, red) X[n, c, f(sp, red)] * W[k, c, red]
 * loses the input channels c that
 *   - have zero filters, W[k, c, ..] = 0 for every k; or
 *   - are one constant x_c: every contraction producing X (the region of
 *     chan.c) has an all-zero output row c, and the per-channel nodes in
 *     between map its bias to x_c. Where the reader never reads padding,
 *     or its padding value is x_c, the channel adds the constant
 *     x_c * sum(red) W[k, c, red] at every position, folded into B'[k];
 *     otherwise (x_c meets a different padding value at the borders) the
 *     channel stays.
 *   Y[n, k, sp] = B'[k] + sum(j < c', red) X'[n, j, ..] * W[k, keep[j], red]
 * The producer's matching output channels go with them (chan.c), or the
 * reader gathers X' when another node needs them. The result equals the
 * original up to float rounding (the folded sum is rounded once). */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Marks in drop[C] the removable channels of reader ni and adds the
 * folded constants to fold[K] (may be NULL). Returns their count, or -1. */
static int64_t removable(const gos_module *m, int ni, char *drop, double *fold, gos_diags *d)
{
	gos_synth_contraction cv;
	int64_t C, per;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per))
		return 0;
	gos_synth_chan r;
	if (gos_synth_chan_region(m, ni, 0, &r, d))
		return -1;
	const gos_ins *lx = &m->nodes[ni].stmts[0].ins[0];
	/* whether the reader ever reads padding: not for a convolution with
	 * zero padding, nor when X's indices are plain variables */
	int reads_pad = lx->has_pad;
	double st[2], pd[4], dl[2];
	if (reads_pad && gos_synth_conv_geometry(m, ni, st, pd, dl))
		reads_pad = pd[0] != 0 || pd[1] != 0 || pd[2] != 0 || pd[3] != 0;
	if (reads_pad) {
		const gos_stmt *s = &m->nodes[ni].stmts[0];
		int plain = 1;
		for (int a = 0; a < lx->nidx; a++)
			plain &= s->ix[lx->idx[a]].op == GOS_IX_VAR;
		reads_pad = !plain;
	}
	const float *w = m->vals[cv.w].data;
	int64_t K = cv.K, D = C * per, n = 0;
	for (int64_t ch = 0; ch < C; ch++) {
		int z = 1;
		for (int64_t k = 0; k < K && z; k++)
			for (int64_t q = 0; q < per && z; q++)
				z = w[k * D + ch * per + q] == 0;
		float xc;
		if (!z && gos_synth_chan_const(m, &r, ch, &xc) && isfinite(xc) &&
		    (!reads_pad || lx->f == xc) && (xc == 0 || cv.b >= 0)) {
			z = 1;
			for (int64_t k = 0; fold && xc != 0 && k < K; k++) {
				double s = 0;
				for (int64_t q = 0; q < per; q++)
					s += w[k * D + ch * per + q];
				fold[k] += (double)xc * s;
			}
		}
		drop[ch] = (char)z;
		n += z;
	}
	gos_synth_chan_free(&r);
	if (n == C) /* keep one channel: a contraction over nothing is no operator */
		drop[0] = 0, n--;
	return n;
}

typedef struct kept {
	const int64_t *keep;
	int64_t nk, per, K;
	const float *w, *b; /* [K][nk * per], [K] or NULL */
} kept;

/* The rewritten node's output at one position from the original patch. */
static void predict(const double *patch, double *y, const void *ctx)
{
	const kept *kp = ctx;
	for (int64_t k = 0; k < kp->K; k++) {
		double acc = kp->b ? kp->b[k] : 0;
		const float *wk = kp->w + k * kp->nk * kp->per;
		for (int64_t j = 0; j < kp->nk; j++)
			for (int64_t q = 0; q < kp->per; q++)
				acc += (double)wk[j * kp->per + q] * patch[kp->keep[j] * kp->per + q];
		y[k] = acc;
	}
}

int gos_synth_zerochan_params(const gos_module *m, int ni, int *vals, int max)
{
	gos_synth_contraction cv;
	int64_t C, per;
	if (max < 1 || !gos_synth_chan_of(m, ni, &cv, &C, &per))
		return 0;
	char *drop = gos_malloc((size_t)C);
	gos_diags tmp;
	gos_diags_init(&tmp);
	int64_t n = drop ? removable(m, ni, drop, NULL, &tmp) : 0;
	gos_diags_free(&tmp);
	free(drop);
	if (n < 1)
		return 0;
	vals[0] = 0;
	return 1;
}

int gos_synth_zerochan_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                              int *exact, double *err, gos_diags *d)
{
	(void)param;
	*err = -1;
	*exact = 1;
	gos_loc loc = m->nodes[ni].loc;
	gos_synth_contraction cv;
	int64_t C, per;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per)) {
		gos_error(d, loc, "zerochan: node '%s' is not a contraction over its input's channels "
		                  "with constant weights", m->nodes[ni].name);
		return -1;
	}
	int64_t K = cv.K, D = C * per;
	char *drop = gos_malloc((size_t)C);
	double *fold = gos_calloc((size_t)K, sizeof(double));
	int64_t *keep = gos_malloc(sizeof(int64_t) * (size_t)C);
	float *nw = gos_malloc(sizeof(float) * (size_t)(K * D));
	float *nb = gos_malloc(sizeof(float) * (size_t)K);
	gos_synth_chan r = {0};
	int rc = -1;
	if (!drop || !fold || !keep || !nw || !nb) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	int64_t n = removable(m, ni, drop, fold, d);
	if (n < 0)
		goto done;
	if (n == 0) {
		gos_error(d, loc, "zerochan: node '%s' has no zero or constant input channel",
		          m->nodes[ni].name);
		goto done;
	}
	int64_t nk = 0;
	for (int64_t ch = 0; ch < C; ch++)
		if (!drop[ch])
			keep[nk++] = ch;
	const float *w = m->vals[cv.w].data;
	for (int64_t k = 0; k < K; k++) {
		for (int64_t j = 0; j < nk; j++)
			memcpy(nw + (k * nk + j) * per, w + k * D + keep[j] * per, sizeof(float) * (size_t)per);
		nb[k] = cv.b >= 0 ? (float)(m->vals[cv.b].data[k] + fold[k]) : 0;
	}
	if (c && c->n > 0) { /* exact, and measured on the batch when given */
		gos_synth_data sd;
		if (gos_synth_data_get(m, ni, c, &sd, d))
			goto done;
		kept kp = {keep, nk, per, K, nw, cv.b >= 0 ? nb : NULL};
		*err = gos_synth_error(&sd, predict, &kp);
		gos_synth_data_free(&sd);
		if (*err < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
	}
	if (gos_synth_chan_region(m, ni, 0, &r, d))
		goto done;
	rc = gos_synth_chan_rewrite(m, ni, &r, keep, nk, nw, nb, "zerochan", d);
done:
	gos_synth_chan_free(&r);
	free(drop);
	free(fold);
	free(keep);
	free(nw);
	free(nb);
	return rc;
}
