/* tape.c -- recordings of a module under construction, reused while
 * what they depend on is unchanged. The final checks' sequential
 * correction records the candidate's activations at node after node on
 * every fit sample, changing the candidate between recordings; computing
 * each from the model's input again compiled and ran a longer prefix
 * each time (on the MobileNet, LLVM took 38% of a check). A value
 * recorded earlier whose upstream (nodes, statements, weights, back to
 * the inputs) hashes alike is taken as given instead
 * (gos_capture_run_from), so a recording computes the nodes since the
 * last change only. */
#include <stdlib.h>
#include <string.h>

#include "passes/search/internal.h"
#include "support/alloc.h"

/* Recorded values kept at most (bytes); the oldest go first. */
#define TAPE_BYTES (3LL << 30)

static uint64_t mix(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? mix(h, s, strlen(s) + 1) : mix(h, "", 1);
}

/* h[v] for every value of m: a hash of everything v's elements depend on. */
static void upstream(const gos_module *m, uint64_t *h)
{
	for (int v = 0; v < m->n_val; v++) {
		const gos_value *x = &m->vals[v];
		uint64_t k = mix_str(0xcbf29ce484222325ULL, x->name);
		k = mix(k, &x->kind, sizeof x->kind);
		k = mix(k, x->shape, sizeof(int64_t) * (size_t)x->rank);
		if (x->kind == GOS_VAL_WEIGHT) {
			k = mix(k, &x->init, sizeof x->init);
			k = mix(k, &x->lo, sizeof x->lo);
			k = mix(k, &x->hi, sizeof x->hi);
			k = mix(k, &x->seed, sizeof x->seed);
			k = mix_str(k, x->key);
			if (x->data)
				k = mix(k, x->data, sizeof(float) * (size_t)gos_numel(x->rank, x->shape));
		}
		h[v] = k;
	}
	/* nodes in topological order: a result's hash takes its inputs' */
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		uint64_t k = mix_str(mix_str(0x84222325cbf29ce4ULL, n->name), n->op);
		for (int j = 0; j < n->n_in; j++)
			k = mix(k, &h[n->in[j]], sizeof h[0]);
		for (int j = 0; j < n->n_buf; j++)
			k = mix(k, n->bufs[j].shape, sizeof(int64_t) * (size_t)n->bufs[j].rank);
		for (int s = 0; s < n->n_stmt; s++) {
			const gos_stmt *st = &n->stmts[s];
			k = mix(k, &st->dst, sizeof st->dst);
			k = mix(k, &st->red, sizeof st->red);
			k = mix(k, st->red_extent, sizeof(int64_t) * (size_t)st->n_red);
			for (int q = 0; q < st->n_ix; q++) { /* (field by field: no padding) */
				k = mix(k, &st->ix[q].op, sizeof st->ix[q].op);
				k = mix(k, &st->ix[q].a, sizeof st->ix[q].a);
				k = mix(k, &st->ix[q].b, sizeof st->ix[q].b);
				k = mix(k, &st->ix[q].k, sizeof st->ix[q].k);
			}
			k = mix(k, &st->result, sizeof st->result);
			for (int q = 0; q < st->n_ins; q++) {
				const gos_ins *in = &st->ins[q];
				k = mix(k, &in->op, sizeof in->op);
				k = mix(k, in->arg, sizeof in->arg);
				k = mix(k, &in->f, sizeof in->f);
				k = mix(k, &in->buf, sizeof in->buf);
				k = mix(k, &in->has_pad, sizeof in->has_pad);
				if (in->idx)
					k = mix(k, in->idx, sizeof(int) * (size_t)in->nidx);
			}
		}
		for (int j = 0; j < n->n_out; j++)
			h[n->out[j]] = mix(k, &j, sizeof j);
	}
}

static int64_t bytes_of(const gos_tensor *x)
{
	return (int64_t)sizeof(float) * gos_numel(x->rank, x->shape);
}

/* Drops entry k of t (its tensor freed). */
static void drop(gos_search_tape *t, int k)
{
	size_t after = (size_t)(t->rec.n - k - 1);
	t->bytes -= bytes_of(&t->rec.t[k]);
	free(t->rec.names[k]);
	free(t->rec.t[k].data);
	memmove(&t->rec.names[k], &t->rec.names[k + 1], sizeof *t->rec.names * after);
	memmove(&t->rec.t[k], &t->rec.t[k + 1], sizeof *t->rec.t * after);
	memmove(&t->key[k], &t->key[k + 1], sizeof *t->key * after);
	t->rec.n--;
}

/* Appends a copy of tensor x as value `name` (hash key); 0 or -1. */
static int keep(gos_search_tape *t, const char *name, const gos_tensor *x, uint64_t key)
{
	if (t->rec.n == t->cap) {
		int cap = t->cap ? 2 * t->cap : 16;
		char **nm = gos_realloc(t->rec.names, sizeof *nm * (size_t)cap);
		if (nm)
			t->rec.names = nm;
		gos_tensor *tt = nm ? gos_realloc(t->rec.t, sizeof *tt * (size_t)cap) : NULL;
		if (tt)
			t->rec.t = tt;
		uint64_t *ky = tt ? gos_realloc(t->key, sizeof *ky * (size_t)cap) : NULL;
		if (!ky)
			return -1;
		t->key = ky;
		t->cap = cap;
	}
	int64_t bytes = bytes_of(x);
	gos_tensor c = *x;
	c.data = gos_malloc((size_t)bytes + 1);
	char *nm = gos_strdup(name);
	if (!c.data || !nm) {
		free(c.data);
		free(nm);
		return -1;
	}
	memcpy(c.data, x->data, (size_t)bytes);
	int k = t->rec.n++;
	t->rec.names[k] = nm;
	t->rec.t[k] = c;
	t->key[k] = key;
	t->bytes += bytes;
	while (t->bytes > TAPE_BYTES && t->rec.n > 1)
		drop(t, 0);
	return 0;
}

int gos_search_tape_run(gos_search_tape *t, const gos_module *m, int n_names,
                        const char *const *names, const gos_engine_opts *eo, int64_t n,
                        const float *const *in, gos_capture *out, gos_diags *d)
{
	memset(out, 0, sizeof *out);
	uint64_t *h = gos_malloc(sizeof *h * (size_t)(m->n_val + 1));
	const char **want = gos_malloc(sizeof *want * (size_t)(n_names + 1));
	int nw = 0, rc = -1;
	gos_capture run = {0};
	if (!h || !want)
		goto oom;
	upstream(m, h);
	/* entries still valid stay (as given), the others go */
	for (int k = t->rec.n - 1; k >= 0; k--) {
		int v = gos_module_find_value(m, t->rec.names[k]);
		if (v < 0 || h[v] != t->key[k] || m->vals[v].kind != GOS_VAL_TEMP)
			drop(t, k);
	}
	/* what is not on the tape is recorded (from what is) */
	for (int j = 0; j < n_names; j++) {
		int found = 0;
		for (int k = 0; k < t->rec.n && !found; k++)
			found = !strcmp(t->rec.names[k], names[j]);
		if (!found)
			want[nw++] = names[j];
	}
	if (nw && gos_capture_run_from(m, &t->rec, nw, want, eo, n, in, &run, d))
		goto fail;
	for (int k = 0; k < run.n; k++) {
		int v = gos_module_find_value(m, run.names[k]), single = 0;
		for (int i = 0; v >= 0 && i < m->n_node; i++)
			for (int q = 0; q < m->nodes[i].n_out; q++)
				single |= m->nodes[i].out[q] == v && m->nodes[i].n_out == 1;
		/* (what gos_capture_run_from can take as given) */
		if (single && m->vals[v].kind == GOS_VAL_TEMP && keep(t, run.names[k], &run.t[k], h[v]))
			goto oom;
	}
	/* the caller's copy, in its order */
	out->names = gos_calloc((size_t)n_names + 1, sizeof *out->names);
	out->t = gos_calloc((size_t)n_names + 1, sizeof *out->t);
	if (!out->names || !out->t)
		goto oom;
	for (int j = 0; j < n_names; j++) {
		const gos_capture *from = &run;
		int k = -1;
		for (int q = 0; q < run.n && k < 0; q++)
			if (!strcmp(run.names[q], names[j]))
				k = q;
		if (k < 0) {
			from = &t->rec;
			for (int q = 0; q < t->rec.n && k < 0; q++)
				if (!strcmp(t->rec.names[q], names[j]))
					k = q;
		}
		if (k < 0) {
			gos_error(d, (gos_loc){m->name, 0, 0}, "internal error: '%s' was not recorded",
			          names[j]);
			goto fail;
		}
		size_t bytes = (size_t)bytes_of(&from->t[k]);
		out->t[out->n] = from->t[k];
		out->t[out->n].data = gos_malloc(bytes + 1);
		out->names[out->n] = gos_strdup(names[j]);
		if (!out->t[out->n].data || !out->names[out->n]) {
			free(out->t[out->n].data);
			free(out->names[out->n]);
			goto oom;
		}
		memcpy(out->t[out->n].data, from->t[k].data, bytes);
		out->n++;
	}
	rc = 0;
	goto done;
oom:
	gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory for the recorded values");
fail:
	gos_capture_free(out);
done:
	gos_capture_free(&run);
	free(h);
	free(want);
	return rc;
}

void gos_search_tape_free(gos_search_tape *t)
{
	gos_capture_free(&t->rec);
	free(t->key);
	memset(t, 0, sizeof *t);
}
