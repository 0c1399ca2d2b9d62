/* fold_bn.c -- batchnorm folding: Y = bn(conv(X, W, B)) with constant
 * gamma, beta, mean, var becomes conv(X, W', B') where, per output
 * channel k, s = gamma / sqrt(var + eps), W'[k] = W[k] s and
 * B'[k] = (B[k] - mean[k]) s + beta[k]. The new operator is synthesised
 * from the prelude with the original attributes (gos_oplib_apply), so its
 * comprehension is the canonical one. */
#include "passes/passes.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

static int is_const(const gos_module *m, int v)
{
	return v >= 0 && m->vals[v].kind == GOS_VAL_WEIGHT && m->vals[v].data;
}

static double attr0(const gos_node *n, const char *name, double dflt)
{
	for (int i = 0; i < n->n_attr; i++)
		if (n->attr[i].name && !strcmp(n->attr[i].name, name) && n->attr[i].n > 0)
			return n->attr[i].v[0];
	return dflt;
}

/* A new weight holding data (copied), named after base. */
static int new_weight(gos_module *m, const char *base, int rank, const int64_t *shape, const float *data)
{
	const char *name = base;
	char *buf = NULL;
	if (!base)
		return -1;
	for (int k = 1; gos_module_find_value(m, name) >= 0; k++) {
		buf = gos_arena_printf(m->arena, "%s_%d", base, k);
		if (!buf)
			return -1;
		name = buf;
	}
	int v = gos_module_add_value(m, name, GOS_VAL_WEIGHT, GOS_F32, rank, shape);
	if (v < 0 || !m->vals[v].name)
		return -1;
	int64_t n = gos_numel(rank, shape);
	m->vals[v].init = GOS_INIT_DATA;
	m->vals[v].data = gos_arena_memdup(m->arena, data, sizeof(float) * (size_t)n);
	return m->vals[v].data ? v : -1;
}

int gos_pass_fold_bn(gos_module *m, gos_diags *d)
{
	int has_bn = 0;
	for (int i = 0; i < m->n_node; i++)
		has_bn |= !strcmp(m->nodes[i].op, "batchnorm");
	if (!has_bn)
		return 0;
	if (gos_module_materialize(m, d))
		return -1;
	gos_oplib *lib = gos_oplib_new(NULL, d);
	if (!lib)
		return -1;
	int *def, *uses;
	if (gos_pass_def_use(m, &def, &uses, d)) {
		gos_oplib_free(lib);
		return -1;
	}
	char *dead = gos_calloc((size_t)m->n_node + 1, 1);
	if (!dead) {
		free(def);
		free(uses);
		gos_oplib_free(lib);
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	int changed = 0, rc = 0;
	int n_node0 = m->n_node;
	for (int qi = 0; qi < n_node0 && !rc; qi++) {
		const gos_node *q = &m->nodes[qi];
		if (strcmp(q->op, "batchnorm") || q->n_in != 5 || q->n_out != 1 || q->n_stmt != 1 ||
		    q->stmts[0].red != GOS_RED_NONE)
			continue;
		int v = q->in[0];
		int pi = def[v];
		if (pi < 0 || dead[pi] || uses[v] != 1)
			continue;
		const gos_node *p = &m->nodes[pi];
		if (strcmp(p->op, "conv2d") && strcmp(p->op, "conv1d") && strcmp(p->op, "dense"))
			continue;
		if (!gos_pass_plain_contraction(p) || !is_const(m, p->in[1]) || (p->n_in == 3 && !is_const(m, p->in[2])))
			continue;
		int ok = 1;
		for (int j = 1; j < 5; j++)
			ok &= is_const(m, q->in[j]);
		const gos_value *w = &m->vals[p->in[1]];
		int64_t K = w->shape[0];
		for (int j = 1; j < 5; j++)
			ok &= m->vals[q->in[j]].rank == 1 && m->vals[q->in[j]].shape[0] == K;
		if (!ok)
			continue;
		double eps = attr0(q, "eps", 1e-5);
		const float *gamma = m->vals[q->in[1]].data, *beta = m->vals[q->in[2]].data;
		const float *mean = m->vals[q->in[3]].data, *var = m->vals[q->in[4]].data;
		const float *bias = p->n_in == 3 ? m->vals[p->in[2]].data : NULL;
		int64_t per = gos_numel(w->rank, w->shape) / K;
		float *nw = gos_malloc(sizeof(float) * (size_t)(per * K));
		float *nb = gos_malloc(sizeof(float) * (size_t)K);
		if (!nw || !nb) {
			free(nw);
			free(nb);
			gos_error(d, p->loc, "out of memory");
			rc = -1;
			break;
		}
		for (int64_t k = 0; k < K; k++) {
			double s = (double)gamma[k] / sqrt((double)var[k] + eps);
			for (int64_t i = 0; i < per; i++)
				nw[k * per + i] = (float)(w->data[k * per + i] * s);
			nb[k] = (float)(((bias ? bias[k] : 0.0) - mean[k]) * s + beta[k]);
		}
		char *wname = gos_arena_printf(m->arena, "%s.folded", w->name);
		int wrank = w->rank;
		int64_t wshape[GOS_MAX_RANK];
		memcpy(wshape, w->shape, sizeof wshape);
		int wv = new_weight(m, wname, wrank, wshape, nw); /* may move m->vals: w is stale after */
		int64_t kk = K;
		int bv = new_weight(m, gos_arena_printf(m->arena, "%s.B.folded", p->name), 1, &kk, nb);
		free(nw);
		free(nb);
		if (wv < 0 || bv < 0) {
			gos_error(d, m->nodes[pi].loc, "out of memory");
			rc = -1;
			break;
		}
		int in[3] = {m->nodes[pi].in[0], wv, bv};
		int out[8];
		const gos_node *pp = &m->nodes[pi];
		int r = gos_oplib_apply(lib, m, pp->op, pp->name, 3, in, pp->n_attr, pp->attr, out, pp->loc, d);
		if (r != 1) {
			rc = -1;
			break;
		}
		/* the new node takes the batchnorm's place and its result's name */
		int ni = m->n_node - 1;
		int qout = m->nodes[qi].out[0];
		gos_node nn = m->nodes[ni];
		m->n_node--;
		const char *qname = m->nodes[qi].name;
		nn.name = qname;
		m->nodes[qi] = nn;
		const char *oname = m->vals[qout].name;
		m->vals[qout].name = gos_arena_printf(m->arena, "%s.unfolded", oname);
		m->vals[out[0]].name = oname;
		m->vals[out[0]].loc = m->vals[qout].loc;
		for (int i = 0; i < m->n_node; i++) {
			gos_node *n = &m->nodes[i];
			for (int j = 0; j < n->n_in; j++)
				if (n->in[j] == qout) {
					n->in[j] = out[0];
					for (int b = 0; b < n->n_buf; b++)
						if (n->bufs[b].value == qout)
							n->bufs[b].value = out[0];
				}
		}
		for (int i = 0; i < m->n_output; i++)
			if (m->outputs[i] == qout)
				m->outputs[i] = out[0];
		dead[pi] = 1;
		changed++;
	}
	/* drop the folded convolutions */
	int k = 0;
	for (int i = 0; i < m->n_node; i++)
		if (!dead[i])
			m->nodes[k++] = m->nodes[i];
	m->n_node = k;
	free(def);
	free(uses);
	free(dead);
	gos_oplib_free(lib);
	if (rc)
		return -1;
	if (changed && gos_pass_dce(m, d) < 0)
		return -1;
	return changed;
}
