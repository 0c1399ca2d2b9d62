/* algebra.c -- helpers of the algebraic exact rules (algebra.h). */
#include "passes/synth/algebra.h"

#include <string.h>

#include "passes/synth/synth.h"

int gos_alg_is_output(const gos_module *m, int v)
{
	for (int i = 0; i < m->n_output; i++)
		if (m->outputs[i] == v)
			return 1;
	return 0;
}

int gos_alg_weight_fill(const gos_module *m, int v, float *f)
{
	if (v < 0 || v >= m->n_val)
		return 0;
	const gos_value *w = &m->vals[v];
	if (w->kind != GOS_VAL_WEIGHT || w->dtype != GOS_F32)
		return 0;
	if (w->data) {
		int64_t n = gos_numel(w->rank, w->shape);
		for (int64_t i = 1; i < n; i++)
			if (memcmp(&w->data[i], &w->data[0], sizeof(float)))
				return 0;
		*f = w->data[0];
		return 1;
	}
	if (w->init == GOS_INIT_FILL) {
		*f = (float)w->lo;
		return 1;
	}
	if (w->init == GOS_INIT_UNIFORM && w->lo == w->hi) {
		*f = (float)w->lo;
		return 1;
	}
	return 0;
}

int gos_alg_ins_const(const gos_module *m, const gos_node *n, const gos_stmt *s, int i,
                      float *f)
{
	const gos_ins *x = &s->ins[i];
	if (x->op == GOS_OP_CONST) {
		*f = x->f;
		return 1;
	}
	if (x->op != GOS_OP_LOAD || x->buf < 0 || x->buf >= n->n_in)
		return 0;
	float v;
	if (!gos_alg_weight_fill(m, n->in[x->buf], &v) || (x->has_pad && x->f != v))
		return 0;
	*f = v;
	return 1;
}

int gos_alg_load_is_identity(const gos_node *n, const gos_stmt *s, int li)
{
	const gos_ins *x = &s->ins[li];
	const gos_buf *dst = &n->bufs[s->dst];
	if (x->op != GOS_OP_LOAD || x->buf < 0 || x->buf >= n->n_buf)
		return 0;
	const gos_buf *b = &n->bufs[x->buf];
	if (b->rank != dst->rank || x->nidx != b->rank)
		return 0;
	int nv = dst->rank + s->n_red;
	for (int d = 0; d < b->rank; d++) {
		if (b->shape[d] != dst->shape[d])
			return 0;
		for (int u = 0; u < nv; u++)
			if (u != d && gos_synth_ix_uses(s, x->idx[d], u))
				return 0;
		/* a function of variable d alone: the identity on its whole range */
		int64_t v[GOS_MAX_VARS] = {0};
		for (int64_t t = 0; t < dst->shape[d]; t++) {
			v[d] = t;
			if (gos_ix_eval(s, x->idx[d], v) != t)
				return 0;
		}
	}
	return 1;
}

void gos_alg_remove_node(gos_module *m, int ni, int cnt, const int *old, const int *rep)
{
	memmove(&m->nodes[ni], &m->nodes[ni + 1], sizeof *m->nodes * (size_t)(m->n_node - ni - 1));
	m->n_node--;
	for (int i = 0; i < m->n_node; i++) {
		gos_node *n = &m->nodes[i];
		for (int j = 0; j < cnt; j++) {
			for (int k = 0; k < n->n_in; k++)
				if (n->in[k] == old[j])
					n->in[k] = rep[j];
			for (int b = 0; b < n->n_in; b++)
				if (n->bufs[b].value == old[j])
					n->bufs[b].value = rep[j];
		}
	}
	for (int i = 0; i < m->n_output; i++)
		for (int j = 0; j < cnt; j++)
			if (m->outputs[i] == old[j])
				m->outputs[i] = rep[j];
}

int gos_alg_uses(const gos_module *m, int v)
{
	int u = gos_alg_is_output(m, v) ? 1000 : 0;
	for (int i = 0; i < m->n_node; i++)
		for (int j = 0; j < m->nodes[i].n_in; j++)
			u += m->nodes[i].in[j] == v;
	return u;
}

int gos_alg_def(const gos_module *m, int v)
{
	for (int i = 0; i < m->n_node; i++)
		for (int j = 0; j < m->nodes[i].n_out; j++)
			if (m->nodes[i].out[j] == v)
				return i;
	return -1;
}

/* (synth.h) */
int gos_synth_rule_always(const gos_synth_rule *r)
{
	return r->derive == gos_synth_fold_derive || r->derive == gos_synth_simplify_derive ||
	       r->derive == gos_synth_share_derive;
}
