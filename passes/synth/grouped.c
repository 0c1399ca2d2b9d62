/* grouped.c -- the `grouped` rule (synth.h): a dense convolution becomes a
 * grouped one with g groups, output channel k reading only the input
 * channels of its group:
 *   Y[n, k, p, q] = B'[k] + sum(c < C/g, r, s)
 *                   X[n, (k / (K/g)) * (C/g) + c, ...] * W'[k, c, r, s]
 * (conv2d with groups = g; the geometry is read from the node's index
 * expressions). Each group's W' and B' are refitted by least squares on
 * the calibration batch from the group's input channels to its outputs;
 * exact (W' = the diagonal blocks of W) when W is block-diagonal. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <stdlib.h>

typedef struct shape {
	int64_t C, R, S, K, g;
	double stride[2], pad[4], dil[2];
} shape;

static int shape_of(const gos_module *m, int ni, int g, shape *sh)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv) || !m->vals[cv.w].data ||
	    !gos_synth_conv_geometry(m, ni, sh->stride, sh->pad, sh->dil))
		return 0;
	sh->C = cv.C, sh->R = cv.R, sh->S = cv.S, sh->K = cv.K, sh->g = g;
	return g >= 2 && g < cv.C && cv.C % g == 0 && cv.K % g == 0;
}

int gos_synth_grouped_params(const gos_module *m, int ni, int *vals, int max)
{
	static const int gs[] = {2, 4};
	int n = 0;
	shape sh;
	for (int i = 0; i < 2 && n < max; i++)
		if (shape_of(m, ni, gs[i], &sh))
			vals[n++] = gs[i];
	return n;
}

typedef struct fit {
	const shape *sh;
	int64_t gi;     /* the group being fitted */
} fit;

static void features(const double *patch, double *f, const void *ctx)
{
	const fit *ft = ctx;
	const shape *sh = ft->sh;
	int64_t per = sh->C / sh->g * sh->R * sh->S;
	for (int64_t t = 0; t < per; t++)
		f[t] = patch[ft->gi * per + t];
}

int gos_synth_grouped_derive(gos_module *m, int ni, int g, const gos_synth_calib *c, int *exact,
                             double *err, gos_diags *d)
{
	gos_loc loc = m->nodes[ni].loc;
	const char *nm = m->nodes[ni].name;
	*err = -1;
	shape sh;
	if (!shape_of(m, ni, g, &sh)) {
		gos_error(d, loc, "grouped: %d groups do not divide the channels of node '%s' "
		                  "(or it is not a dense 2-D convolution)",
		          g, nm);
		return -1;
	}
	gos_synth_contraction cv;
	gos_synth_contraction_of(m, ni, &cv);
	const float *w = m->vals[cv.w].data;
	int64_t K = sh.K, kg = K / g, rs = sh.R * sh.S, per = sh.C / g * rs, full = sh.C * rs;
	float *nw = gos_malloc(sizeof(float) * (size_t)(K * per));
	float *nb = gos_calloc((size_t)K, sizeof(float));
	double *a = gos_malloc(sizeof(double) * (size_t)((per + 1) * kg));
	int *ks = gos_malloc(sizeof(int) * (size_t)kg);
	gos_synth_data sd = {0};
	int rc = -1;
	if (!nw || !nb || !a || !ks) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	*exact = 1;
	for (int64_t k = 0; k < K; k++) {
		int64_t gk = k / kg;
		for (int64_t t = 0; t < full; t++) {
			if (t / per == gk)
				nw[k * per + t - gk * per] = w[k * full + t];
			else if (w[k * full + t] != 0)
				*exact = 0;
		}
		nb[k] = cv.b >= 0 ? m->vals[cv.b].data[k] : 0;
	}
	int have = c && c->n > 0;
	if (!*exact && !have) {
		gos_error(d, loc, "grouped:g=%d of node '%s' is not exact: fitting it needs calibration "
		                  "data (gos-opt --calib, gosc -calib=)",
		          g, nm);
		goto done;
	}
	if (have && gos_synth_data_get(m, ni, c, &sd, d))
		goto done;
	for (int64_t gi = 0; gi < g && !*exact; gi++) {
		fit ft = {&sh, gi};
		for (int64_t j = 0; j < kg; j++)
			ks[j] = (int)(gi * kg + j);
		if (gos_synth_lsq(&sd, features, &ft, (int)per, ks, (int)kg, a, "grouped", d))
			goto done;
		for (int64_t j = 0; j < kg; j++) {
			for (int64_t t = 0; t < per; t++)
				nw[(gi * kg + j) * per + t] = (float)a[t * kg + j];
			nb[gi * kg + j] = (float)a[per * kg + j];
		}
	}
	if (have) {
		/* the grouped weight as a dense one, zero outside the groups */
		double *wd = gos_calloc((size_t)(K * full + K), sizeof(double));
		gos_synth_map mp = {full, NULL, NULL, NULL};
		if (wd) {
			for (int64_t k = 0; k < K; k++) {
				for (int64_t t = 0; t < per; t++)
					wd[k * full + (k / kg) * per + t] = nw[k * per + t];
				wd[K * full + k] = nb[k];
			}
			*err = gos_synth_error_map(&sd, &mp, wd, wd + K * full);
		}
		free(wd);
		if (*err < 0) { /* out of memory (*err is still -1 without wd) */
			gos_error(d, loc, "out of memory");
			goto done;
		}
	}
	int64_t ws[4] = {K, sh.C / g, sh.R, sh.S};
	int wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.grouped", m->vals[cv.w].name), 4,
	                          ws, nw);
	int bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.grouped.B", nm), 1, &K, nb);
	if (wv < 0 || bv < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	int first = m->n_node;
	int y = gos_synth_conv2d(m, gos_arena_printf(m->arena, "%s.grouped", nm), cv.x, wv, bv,
	                         sh.stride, sh.pad, sh.dil, g, loc, d);
	if (y >= 0)
		rc = gos_synth_splice(m, ni, first, y, d);
done:
	gos_synth_data_free(&sd);
	free(nw);
	free(nb);
	free(a);
	free(ks);
	return rc;
}
