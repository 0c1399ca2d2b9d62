/* winograd.c -- the `winograd` rule (synth.h), exact: a stride-1,
 * dilation-1 3x3 convolution with constant weights,
 *   Y[n, k, p, q] = B[k] + sum(c, r, s) X[n, c, p + r - pt, q + s - pl] * W[k, c, r, s],
 * becomes Winograd's F(m x m, 3 x 3) (m = 2 or 4, tiles of A = m + 2):
 *   U[e, f, k, c] = sum(r, s) G[e, r] W[k, c, r, s] G[f, s]         (at compile time)
 *   V[e, f, c, t] = sum(i, j) Bt[e, i] X[n, c, a*m + i - pt, b*m + j - pl] Bt[f, j]
 *   M[e, f, k, t] = sum(c) U[e, f, k, c] V[e, f, c, t]              (A*A matrix products)
 *   Y[n, k, p, q] = B[k] + sum(i, j) At[p % m, i] M[i, j, k, t(n, p/m, q/m)] At[q % m, j]
 * with t = (n*th + a)*tw + b the tile (a, b) of sample n. The input and
 * output transforms are the prelude's winograd_input / winograd_output,
 * the products its matmul; Bt, G and At are Lavin and Gray's matrices
 * (points 0, +-1 for m = 2; 0, +-1, +-2 for m = 4). Tiles past the
 * output's edge read zeros and their extra outputs are cropped, so any
 * output size and padding work. The form is read from the node's
 * structure (gos_synth_contraction_of, gos_synth_conv_geometry). */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

static const double bt2[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
static const double g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double at2[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
static const double bt4[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                 {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const double g4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};
static const double at4[4][6] = {
	{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

/* Whether node ni is a stride-1, dilation-1 3x3 conv2d contraction with
 * constant weights; fills cv and the padding (top, left, bottom, right). */
static int form_of(const gos_module *m, int ni, gos_synth_contraction *cv, double pad[4])
{
	double st[2], dil[2];
	if (!gos_synth_contraction_of(m, ni, cv) || !cv->conv || cv->R != 3 || cv->S != 3 ||
	    !gos_synth_conv_geometry(m, ni, st, pad, dil))
		return 0;
	return st[0] == 1 && st[1] == 1 && dil[0] == 1 && dil[1] == 1;
}

int gos_synth_winograd_params(const gos_module *m, int ni, int *vals, int max)
{
	gos_synth_contraction cv;
	double pad[4];
	if (max < 2 || !form_of(m, ni, &cv, pad) || !m->vals[cv.w].data)
		return 0;
	vals[0] = 2;
	vals[1] = 4;
	return 2;
}

/* Appends prelude operator op as node name; returns its result or -1. */
static int apply_op(gos_module *m, const char *op, const char *name, int n_in, const int *in,
                    int n_attr, const gos_attr *at, gos_loc loc, gos_diags *d)
{
	gos_oplib *lib = gos_oplib_new(NULL, d);
	if (!lib)
		return -1;
	int out[8];
	int k = gos_oplib_apply(lib, m, op, name, n_in, in, n_attr, at, out, loc, d);
	gos_oplib_free(lib);
	return k == 1 ? out[0] : -1;
}

int gos_synth_winograd_derive(gos_module *m, int ni, int mt, const gos_synth_calib *c,
                              int *exact, double *err, gos_diags *d)
{
	(void)c;
	/* the module's name outlives this copy (derive_one); its locations may not */
	gos_loc loc = {m->name, m->nodes[ni].loc.line, m->nodes[ni].loc.col};
	const char *nm = m->nodes[ni].name;
	*exact = 1;
	*err = -1;
	if (mt != 2 && mt != 4) {
		gos_error(d, loc,
		          "winograd: m must be 2 (F(2x2,3x3)) or 4 (F(4x4,3x3)), not %d", mt);
		return -1;
	}
	gos_synth_contraction cv;
	double pad[4];
	if (!form_of(m, ni, &cv, pad) || !m->vals[cv.w].data) {
		gos_error(d, loc,
		          "winograd: node '%s' is not a 3x3 stride-1 undilated convolution with "
		          "constant weights",
		          nm);
		return -1;
	}
	int A = mt + 2;
	const double *bt = mt == 2 ? &bt2[0][0] : &bt4[0][0];
	const double *g = mt == 2 ? &g2[0][0] : &g4[0][0];
	const double *at = mt == 2 ? &at2[0][0] : &at4[0][0];
	int64_t K = cv.K, C = cv.C, TP = (cv.P + mt - 1) / mt, TQ = (cv.Q + mt - 1) / mt;
	/* U[e, f, k, c] = G g[k, c] G^T, in double, stored as f32 */
	float *u = gos_malloc(sizeof(float) * (size_t)(A * A * K * C));
	float btf[36], atf[24];
	if (!u) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	const float *w = m->vals[cv.w].data;
	for (int64_t k = 0; k < K; k++)
		for (int64_t cc = 0; cc < C; cc++) {
			const float *gk = w + (k * C + cc) * 9;
			double tmp[6][3]; /* G g */
			for (int e = 0; e < A; e++)
				for (int s = 0; s < 3; s++)
					tmp[e][s] = g[e * 3] * gk[s] + g[e * 3 + 1] * gk[3 + s] + g[e * 3 + 2] * gk[6 + s];
			for (int e = 0; e < A; e++)
				for (int f = 0; f < A; f++)
					u[((e * A + f) * K + k) * C + cc] =
						(float)(tmp[e][0] * g[f * 3] + tmp[e][1] * g[f * 3 + 1] + tmp[e][2] * g[f * 3 + 2]);
		}
	for (int i = 0; i < A * A; i++)
		btf[i] = (float)bt[i];
	for (int i = 0; i < mt * A; i++)
		atf[i] = (float)at[i];
	const char *wn = m->vals[cv.w].name;
	int64_t us[4] = {A, A, K, C}, bs[2] = {A, A}, as[2] = {mt, A};
	int uv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.wino%d", wn, mt), 4, us, u);
	int btv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.wino%d.Bt", wn, mt), 2, bs, btf);
	int atv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.wino%d.At", wn, mt), 2, as, atf);
	free(u);
	double *av = GOS_NEWN(m->arena, double, 8);
	if (uv < 0 || btv < 0 || atv < 0 || !av) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	av[0] = mt, av[1] = (double)TP, av[2] = (double)TQ, av[3] = pad[0], av[4] = pad[1];
	av[5] = (double)cv.P, av[6] = (double)cv.Q, av[7] = (double)cv.N;
	gos_attr ia[3] = {{"m", 1, av}, {"tiles", 2, av + 1}, {"pad", 2, av + 3}};
	gos_attr oa[2] = {{"size", 2, av + 5}, {"batch", 1, av + 7}};
	int first = m->n_node;
	int in1[2] = {cv.x, btv};
	int v = apply_op(m, "winograd_input", gos_arena_printf(m->arena, "%s.wino_in", nm), 2, in1,
	                 3, ia, loc, d);
	int in2[2] = {uv, v};
	int mm = v < 0 ? -1
	               : apply_op(m, "matmul", gos_arena_printf(m->arena, "%s.wino_gemm", nm), 2, in2,
	                          0, NULL, loc, d);
	int in3[3] = {mm, atv, cv.b};
	int y = mm < 0 ? -1
	               : apply_op(m, "winograd_output", gos_arena_printf(m->arena, "%s.wino_out", nm),
	                          cv.b >= 0 ? 3 : 2, in3, 2, oa, loc, d);
	if (y < 0)
		return -1;
	return gos_synth_splice(m, ni, first, y, d);
}
