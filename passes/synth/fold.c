/* fold.c -- the `fold` rule (synth.h): a node that reads only constant
 * weights (a weights-only subgraph: a transpose, reshape or scale of a
 * weight, arithmetic on constants) is evaluated at compile time on the
 * reference interpreter and its results become constant weights:
 *   Y[i..] = f(W1[..], W2[..])   =>   Y = data(...)
 * gos_synth_exact repeats it, so whole chains fold. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "passes/synth/algebra.h"

/* Results larger than this (elements) are left alone: folding would
 * store more weight than it saves work. */
#define FOLD_MAX_NUMEL (1 << 24)

int gos_synth_fold_params(const gos_module *m, int ni, int *vals, int max)
{
	const gos_node *n = &m->nodes[ni];
	if (max < 1 || n->n_out < 1)
		return 0;
	for (int j = 0; j < n->n_in; j++)
		if (m->vals[n->in[j]].kind != GOS_VAL_WEIGHT)
			return 0;
	for (int j = 0; j < n->n_out; j++) {
		const gos_value *v = &m->vals[n->out[j]];
		/* a model output keeps its node: outputs are computed values */
		if (v->dtype != GOS_F32 || gos_numel(v->rank, v->shape) > FOLD_MAX_NUMEL ||
		    gos_alg_is_output(m, n->out[j]))
			return 0;
	}
	vals[0] = 0;
	return 1;
}

int gos_synth_fold_derive(gos_module *m, int ni, int param, const gos_synth_calib *c, int *exact,
                          double *err, gos_diags *d)
{
	(void)param;
	(void)c;
	*exact = 1;
	*err = -1;
	gos_loc loc = m->nodes[ni].loc;
	int vals[1];
	if (!gos_synth_fold_params(m, ni, vals, 1)) {
		gos_error(d, loc, "fold: node '%s' reads values that are not constant",
		          m->nodes[ni].name);
		return -1;
	}
	/* a module of just this node and its weights (inputs are kept by DCE:
	 * they get zeros, and nothing reads them) */
	gos_module *sub = gos_module_clone(m);
	if (!sub) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	const gos_node *n = &m->nodes[ni];
	int n_out = n->n_out, rc = -1;
	sub->n_output = 0;
	for (int j = 0; j < n_out; j++)
		gos_module_add_output(sub, n->out[j]);
	gos_tensor *ins = NULL, *outs = gos_calloc((size_t)n_out, sizeof *outs);
	int n_in = 0;
	if (!outs || gos_pass_dce(sub, d) < 0 || gos_module_materialize(sub, d))
		goto done;
	for (int v = 0; v < sub->n_val; v++)
		n_in += sub->vals[v].kind == GOS_VAL_INPUT;
	ins = gos_calloc((size_t)n_in + 1, sizeof *ins);
	if (!ins)
		goto done;
	for (int v = 0, k = 0; v < sub->n_val; v++)
		if (sub->vals[v].kind == GOS_VAL_INPUT) {
			ins[k].rank = sub->vals[v].rank;
			memcpy(ins[k].shape, sub->vals[v].shape, sizeof ins[k].shape);
			ins[k].data = gos_calloc((size_t)gos_numel(ins[k].rank, ins[k].shape), sizeof(float));
			if (!ins[k++].data)
				goto done;
		}
	if (gos_interp_run(sub, ins, outs, d))
		goto done;
	int old[GOS_MAX_VARS], rep[GOS_MAX_VARS];
	if (n_out > GOS_MAX_VARS)
		goto done;
	for (int j = 0; j < n_out; j++) {
		int ov = m->nodes[ni].out[j];
		const gos_value *o = &m->vals[ov];
		int64_t shape[GOS_MAX_RANK];
		memcpy(shape, o->shape, sizeof shape);
		const char *name = o->name;
		int rank = o->rank;
		int w = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.folded", name), rank, shape,
		                         outs[j].data);
		if (w < 0)
			goto done;
		/* the constant takes the value's name */
		m->vals[ov].name = gos_arena_printf(m->arena, "%s.unfolded", name);
		m->vals[w].name = name;
		m->vals[w].loc = m->vals[ov].loc;
		old[j] = ov;
		rep[j] = w;
	}
	gos_alg_remove_node(m, ni, n_out, old, rep);
	rc = 0;
done:
	if (rc && !d->n_errors)
		gos_error(d, loc, "fold: out of memory evaluating node '%s'", m->nodes[ni].name);
	for (int k = 0; ins && k < n_in; k++)
		free(ins[k].data);
	for (int j = 0; outs && j < n_out; j++)
		free(outs[j].data);
	free(ins);
	free(outs);
	gos_module_free(sub);
	return rc;
}
