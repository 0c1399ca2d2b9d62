/* freeze.c -- the `freeze` rule (synth.h), fitted: a gate computed from
 * the data, a result G that every reader broadcasts in one elementwise
 * statement (a squeeze-excite block's sigmoid, read by the multiply that
 * scales each channel of a feature map),
 *   G[n, c, 1, 1] = f(X)       Z[n, c, h, w] = A[n, c, h, w] * G[n, c, 1, 1]
 * becomes its mean over the calibration samples, a constant:
 *   G = data(mean over the samples of G)
 * The branch that computed G (pooling, FCs) is then dead and removed; the
 * readers are plain per-channel scales, which fuse into their producer.
 * The error is that of G itself, ||G' - G||^2 / ||G||^2 on the batch
 * (with the batch's samples interchangeable, the mean is also taken over
 * the model's own batch dimension). Exact when G is the same for every
 * sample. Trained squeeze-excite gates are often nearly so: on the
 * Fashion-MNIST MobileNet of examples/ every gate sits at 0.50, relative
 * error 1e-6 (docs/synthesis.md). */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "passes/synth/algebra.h"

/* Gates larger than this (elements) are feature maps, not gates. */
#define FREEZE_MAX_NUMEL 65536

int gos_synth_freeze_params(const gos_module *m, int ni, int *vals, int max)
{
	const gos_node *n = &m->nodes[ni];
	if (max < 1 || n->n_out != 1)
		return 0;
	int v = n->out[0], act = 0, readers = 0;
	const gos_value *g = &m->vals[v];
	int64_t ng = gos_numel(g->rank, g->shape);
	if (g->dtype != GOS_F32 || g->rank < 1 || ng > FREEZE_MAX_NUMEL || gos_alg_is_output(m, v))
		return 0;
	for (int j = 0; j < n->n_in; j++)
		act |= m->vals[n->in[j]].kind != GOS_VAL_WEIGHT; /* else: `fold` */
	if (!act)
		return 0;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *r = &m->nodes[i];
		int reads = 0;
		for (int j = 0; j < r->n_in; j++)
			reads |= r->in[j] == v;
		if (!reads)
			continue;
		const gos_value *o = &m->vals[r->out[0]];
		if (!gos_pass_elementwise(r) || gos_numel(o->rank, o->shape) <= ng)
			return 0;
		readers++;
	}
	if (!readers)
		return 0;
	vals[0] = 0;
	return 1;
}

/* Rows and elements per row of gate value gv recorded on n samples:
 * dimension 0 is the model's batch for a gate of rank 2 or more. */
static int64_t gate_rows(const gos_value *gv, int64_t n, int64_t *per)
{
	int64_t ng = gos_numel(gv->rank, gv->shape),
	        nb = gv->rank >= 2 && gv->shape[0] > 0 ? gv->shape[0] : 1;
	*per = ng / nb;
	return n * nb;
}

/* mean[per] gets the mean of the rows of g; returns the relative error
 * sum (g - mean)^2 / sum g^2. */
static double gate_mean(const float *g, int64_t rows, int64_t per, double *mean)
{
	for (int64_t e = 0; e < per; e++)
		mean[e] = 0;
	for (int64_t r = 0; r < rows; r++)
		for (int64_t e = 0; e < per; e++)
			mean[e] += g[r * per + e];
	for (int64_t e = 0; e < per; e++)
		mean[e] /= (double)rows;
	double num = 0, den = 0;
	for (int64_t r = 0; r < rows; r++)
		for (int64_t e = 0; e < per; e++) {
			double x = g[r * per + e], dx = x - mean[e];
			num += dx * dx;
			den += x * x;
		}
	return den > 0 ? num / den : (num > 0 ? 1 : 0);
}

double gos_synth_freeze_error(const gos_module *m, int v, int64_t n, const float *g)
{
	int64_t per, rows = gate_rows(&m->vals[v], n, &per);
	double *mean = gos_malloc(sizeof *mean * (size_t)per + 1);
	double err = mean ? gate_mean(g, rows, per, mean) : -1;
	free(mean);
	return err;
}

int gos_synth_freeze_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                            int *exact, double *err, gos_diags *d)
{
	(void)param;
	*exact = 0;
	*err = -1;
	gos_loc loc = m->nodes[ni].loc;
	int vals[1];
	if (!gos_synth_freeze_params(m, ni, vals, 1)) {
		gos_error(d, loc, "freeze: the result of node '%s' is no gate its readers broadcast",
		          m->nodes[ni].name);
		return -1;
	}
	if (!c || c->n < 1) {
		gos_error(d, loc, "freeze: node '%s' needs calibration data", m->nodes[ni].name);
		return -1;
	}
	int v = m->nodes[ni].out[0];
	/* copies: m->vals may move when the weight is added */
	const char *name = m->vals[v].name;
	int rank = m->vals[v].rank;
	int64_t shape[GOS_MAX_RANK], per, rows = gate_rows(&m->vals[v], c->n, &per),
	                             ng = gos_numel(rank, m->vals[v].shape);
	memcpy(shape, m->vals[v].shape, sizeof shape);
	const float *g;
	int own;
	if (gos_synth_activation(m, name, c, &g, &own, d))
		return -1;
	double *mean = gos_malloc(sizeof *mean * (size_t)per + 1);
	float *data = gos_malloc(sizeof *data * (size_t)ng + 1);
	int rc = -1;
	if (!mean || !data) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	*err = gate_mean(g, rows, per, mean);
	*exact = *err == 0;
	for (int64_t i = 0; i < ng; i++)
		data[i] = (float)mean[i % per];
	int w = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.frozen", name), rank, shape,
	                         data);
	if (w < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	/* the constant takes the gate's name; the branch is left to DCE */
	m->vals[v].name = gos_arena_printf(m->arena, "%s.unfrozen", name);
	m->vals[w].name = name;
	m->vals[w].loc = m->vals[v].loc;
	gos_alg_remove_node(m, ni, 1, &v, &w);
	rc = 0;
done:
	free(mean);
	free(data);
	if (own)
		free((void *)g);
	return rc;
}

int gos_synth_freeze_branch(const gos_module *m, int ni, char *dead)
{
	memset(dead, 0, (size_t)m->n_node);
	dead[ni] = 1;
	int n = 1;
	/* readers come after their producers: one pass backwards */
	for (int p = ni - 1; p >= 0; p--) {
		const gos_node *pn = &m->nodes[p];
		int all = pn->n_out > 0, any = 0;
		for (int k = 0; k < pn->n_out && all; k++) {
			all = !gos_alg_is_output(m, pn->out[k]);
			for (int q = p + 1; q < m->n_node && all; q++)
				for (int j = 0; j < m->nodes[q].n_in && all; j++)
					if (m->nodes[q].in[j] == pn->out[k]) {
						any = 1;
						all = dead[q];
					}
		}
		if (all && any) {
			dead[p] = 1;
			n++;
		}
	}
	return n;
}
