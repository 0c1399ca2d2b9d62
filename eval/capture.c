/* capture.c -- recording intermediate tensors on a batch (eval.h): the
 * values asked for become extra outputs of a copy of the module, which an
 * engine then runs. */
#include "eval/eval.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

/* Adds value v to the outputs of m (once) and to the record list. */
static int want_value(gos_module *m, int v, int *list, int *n)
{
	for (int k = 0; k < *n; k++)
		if (list[k] == v)
			return 0;
	list[(*n)++] = v;
	for (int o = 0; o < m->n_output; o++)
		if (m->outputs[o] == v)
			return 0;
	gos_module_add_output(m, v);
	return 0;
}

/* The closest node or value name to `name`, or NULL. */
static const char *closest(const gos_module *m, const char *name)
{
	int cap = (int)strlen(name) / 3 + 2, best = cap + 1;
	const char *b = NULL;
	for (int i = 0; i < m->n_node; i++) {
		int dist = gos_edit_distance(name, m->nodes[i].name, cap);
		if (dist < best)
			best = dist, b = m->nodes[i].name;
	}
	for (int v = 0; v < m->n_val; v++) {
		int dist = gos_edit_distance(name, m->vals[v].name, cap);
		if (dist < best)
			best = dist, b = m->vals[v].name;
	}
	return b;
}

/* The src entries of m's copy cm become inputs: their producers go.
 * Fills ins[] (one per input of cm in value order: m's own from in[],
 * src's from its tensors). Returns 0, or -1 with an error in d. */
static int take_given(gos_module *cm, const gos_capture *src, int64_t n, const float *const *in,
                      const float **ins, gos_diags *d)
{
	gos_loc loc = {cm->name, 0, 0};
	int *from = gos_malloc(sizeof *from * (size_t)(cm->n_val + 1)), own = 0, k = 0;
	if (!from) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	for (int v = 0; v < cm->n_val; v++)
		from[v] = -1;
	for (int j = 0; src && j < src->n; j++) {
		int v = gos_module_find_value(cm, src->names[j]), p = -1;
		for (int i = 0; v >= 0 && i < cm->n_node && p < 0; i++)
			for (int q = 0; q < cm->nodes[i].n_out; q++)
				if (cm->nodes[i].out[q] == v)
					p = i;
		if (p < 0 || cm->nodes[p].n_out != 1 || cm->vals[v].kind != GOS_VAL_TEMP ||
		    gos_numel(src->t[j].rank, src->t[j].shape) !=
		            n * gos_numel(cm->vals[v].rank, cm->vals[v].shape)) {
			gos_error(d, loc, "'%s' cannot be given to model '%s'", src->names[j], cm->name);
			free(from);
			return -1;
		}
		cm->vals[v].kind = GOS_VAL_INPUT;
		from[v] = j;
		memmove(&cm->nodes[p], &cm->nodes[p + 1], sizeof *cm->nodes * (size_t)(cm->n_node - p - 1));
		cm->n_node--;
	}
	for (int v = 0; v < cm->n_val; v++)
		if (cm->vals[v].kind == GOS_VAL_INPUT)
			ins[k++] = from[v] >= 0 ? src->t[from[v]].data : in[own++];
	free(from);
	return 0;
}

int gos_capture_run(const gos_module *m, int n_names, const char *const *names,
                    const gos_engine_opts *o, int64_t n, const float *const *in,
                    gos_capture *c, gos_diags *d)
{
	return gos_capture_run_from(m, NULL, n_names, names, o, n, in, c, d);
}

int gos_capture_run_from(const gos_module *m, const gos_capture *src, int n_names,
                         const char *const *names, const gos_engine_opts *o, int64_t n,
                         const float *const *in, gos_capture *c, gos_diags *d)
{
	memset(c, 0, sizeof *c);
	gos_loc loc = {m->name, 0, 0};
	gos_module *cm = gos_module_clone(m);
	if (cm) /* diagnostics outlive the copy: they name the caller's module */
		cm->name = m->name;
	int *list = cm ? gos_calloc((size_t)cm->n_val + 1, sizeof *list) : NULL;
	const float **ins = cm ? gos_calloc((size_t)cm->n_val + 1, sizeof *ins) : NULL;
	int nl = 0, rc = -1;
	gos_engine *e = NULL;
	float **outs = NULL;
	if (!list || !ins) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	if (take_given(cm, src, n, in, ins, d))
		goto done;
	/* only what is asked for is computed: the copy's own outputs go, and
	 * the engine's dead-code pass drops every node no record needs */
	if (n_names > 0)
		cm->n_output = 0;
	else
		for (int i = 0; i < cm->n_node; i++)
			for (int k = 0; k < cm->nodes[i].n_out; k++)
				want_value(cm, cm->nodes[i].out[k], list, &nl);
	for (int j = 0; j < n_names; j++) {
		int found = 0;
		for (int i = 0; i < cm->n_node && !found; i++)
			if (!strcmp(cm->nodes[i].name, names[j])) {
				found = 1;
				for (int k = 0; k < cm->nodes[i].n_out; k++)
					want_value(cm, cm->nodes[i].out[k], list, &nl);
			}
		int v = found ? -1 : gos_module_find_value(cm, names[j]);
		if (v >= 0)
			want_value(cm, v, list, &nl);
		else if (!found) {
			const char *b = closest(cm, names[j]);
			if (b)
				gos_error(d, loc, "model '%s' has no node or value '%s' (did you mean '%s'?)",
				          m->name, names[j], b);
			else
				gos_error(d, loc, "model '%s' has no node or value '%s'", m->name, names[j]);
		}
	}
	if (d->n_errors)
		goto done;
	e = gos_engine_new(cm, o, d);
	if (!e)
		goto done;
	int no = gos_engine_n_outputs(e);
	outs = gos_calloc((size_t)no + 1, sizeof *outs);
	c->names = gos_calloc((size_t)nl + 1, sizeof *c->names);
	c->t = gos_calloc((size_t)nl + 1, sizeof *c->t);
	if (!outs || !c->names || !c->t) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	for (int k = 0; k < no; k++) {
		outs[k] = gos_malloc(sizeof(float) * (size_t)(n * gos_engine_output_numel(e, k)) + 1);
		if (!outs[k]) {
			gos_error(d, loc, "out of memory for the recorded values");
			goto done;
		}
	}
	if (gos_engine_run(e, n, ins, outs, d))
		goto done;
	/* the record list in order; each is an output of the copy */
	for (int k = 0; k < nl; k++) {
		const gos_value *v = &cm->vals[list[k]];
		int oi = -1;
		for (int q = 0; q < cm->n_output && oi < 0; q++)
			if (cm->outputs[q] == list[k])
				oi = q;
		gos_tensor *t = &c->t[c->n];
		c->names[c->n] = gos_strdup(v->name);
		if (!c->names[c->n]) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		c->n++;
		if (v->rank == 0) {
			t->rank = 1;
			t->shape[0] = n;
		} else {
			t->rank = v->rank;
			memcpy(t->shape, v->shape, sizeof t->shape);
			t->shape[0] *= n;
		}
		t->data = outs[oi];
		outs[oi] = NULL;
	}
	rc = 0;
done:
	for (int k = 0; outs && e && k < gos_engine_n_outputs(e); k++)
		free(outs[k]);
	free(outs);
	free(list);
	free(ins);
	gos_engine_free(e);
	gos_module_free(cm);
	if (rc)
		gos_capture_free(c);
	return rc;
}

void gos_capture_free(gos_capture *c)
{
	for (int k = 0; k < c->n; k++) {
		free(c->names[k]);
		free(c->t[k].data);
	}
	free(c->names);
	free(c->t);
	memset(c, 0, sizeof *c);
}

int gos_capture_inputs(const gos_module *m, const gos_dataset *ds, float **in,
                       int64_t *n_samples, gos_diags *d)
{
	*in = NULL;
	*n_samples = 0;
	int v0 = -1, n_in = 0;
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].kind == GOS_VAL_INPUT)
			v0 = v0 < 0 ? v : v0, n_in++;
	if (n_in != 1) {
		gos_error(d, (gos_loc){m->name, 0, 0},
		          "model '%s' has %d inputs; a batch of images feeds exactly one", m->name, n_in);
		return -1;
	}
	int64_t B;
	if (gos_eval_fit_input(&m->vals[v0], ds, &B, d))
		return -1;
	if (ds->n % B) {
		gos_error(d, (gos_loc){ds->name, 0, 0},
		          "%lld images do not fill whole samples of %lld (the model's batch)",
		          (long long)ds->n, (long long)B);
		return -1;
	}
	size_t bytes = sizeof(float) * (size_t)(ds->n * ds->c * ds->h * ds->w);
	*in = gos_malloc(bytes + 1);
	if (!*in) {
		gos_error(d, (gos_loc){ds->name, 0, 0}, "out of memory");
		return -1;
	}
	memcpy(*in, ds->x, bytes);
	*n_samples = ds->n / B;
	return 0;
}
