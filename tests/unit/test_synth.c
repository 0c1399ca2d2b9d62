/* test_synth.c -- operator synthesis (passes/synth/synth.h): randomised
 * equivalence of exact candidates on the interpreter (several seeds and
 * operator shapes: strided, padded, dilated convolutions, conv1d, dense),
 * fitted candidates (error falls with the rank; the reported error is what
 * the candidate's outputs show when measured independently), host code
 * of candidates, frozen squeeze-excite gates, rank-deficient fits, and bad
 * requests. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "test_synth_util.h"

#include "eval/eval.h"
#include "frontend/frontend.h"
#include "passes/synth/synth.h"

static gos_module *load_text(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("synth.gos", text, strlen(text), NULL, &d);
	if (!m || gos_verify(m, &d) || gos_module_materialize(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test model does not load");
	}
	gos_diags_free(&d);
	return m;
}

/* Replaces weight `name` (K x D) by a random product of rank r. */
static void make_rank(gos_module *m, const char *name, int r, uint64_t seed)
{
	int v = gos_module_find_value(m, name);
	assert_true(v >= 0);
	gos_value *w = &m->vals[v];
	w->init = GOS_INIT_DATA; /* the data below is the weight now */
	int64_t K = w->shape[0], D = gos_numel(w->rank, w->shape) / K;
	gos_rng g;
	gos_rng_seed(&g, seed);
	double *a = malloc(sizeof(double) * (size_t)(K * r)), *b = malloc(sizeof(double) * (size_t)(r * D));
	for (int64_t i = 0; i < K * r; i++)
		a[i] = gos_rng_normal(&g);
	for (int64_t i = 0; i < r * D; i++)
		b[i] = gos_rng_normal(&g) * 0.3;
	for (int64_t k = 0; k < K; k++)
		for (int64_t i = 0; i < D; i++) {
			double s = 0;
			for (int j = 0; j < r; j++)
				s += a[k * r + j] * b[j * D + i];
			w->data[k * D + i] = (float)s;
		}
	free(a);
	free(b);
}

/* Output 0 of m on n samples x with engine target. */
static float *run(const gos_module *m, const char *target, int64_t n, const float *x,
                  int64_t *numel)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts o = {target, 1, -1};
	gos_engine *e = gos_engine_new(m, &o, &d);
	if (!e) {
		gos_diags_render(&d, stderr);
		fail();
	}
	*numel = gos_engine_output_numel(e, 0);
	float *y = malloc(sizeof(float) * (size_t)(n * *numel));
	const float *in[1] = {x};
	float *out[1] = {y};
	assert_int_equal(gos_engine_run(e, n, in, out, &d), 0);
	gos_engine_free(e);
	gos_diags_free(&d);
	return y;
}

/* max |a - b| / max |a| */
static double rel_max(const float *a, const float *b, int64_t n)
{
	double e = 0, s = 0;
	for (int64_t i = 0; i < n; i++) {
		e = fmax(e, fabs((double)a[i] - b[i]));
		s = fmax(s, fabs(a[i]));
	}
	return s > 0 ? e / s : e;
}

static const char *const exact_models[] = {
	/* strided, padded 3x3 */
	"model a {\n  input x: f32[1, 6, 9, 9];\n  weights seed 5;\n"
	"  h = conv2d(x, param[10, 6, 3, 3], param[10]; stride = 2, pad = 1);\n"
	"  output y = relu(h);\n}\n",
	/* dilated, asymmetric padding, no bias */
	"model b {\n  input x: f32[2, 4, 11, 10];\n  weights seed 6;\n"
	"  h = conv2d(x, param[12, 4, 3, 2]; dilation = 2, pad = [2, 1, 1, 0]);\n"
	"  output y = sigmoid(h);\n}\n",
	/* 1-D */
	"model c {\n  input x: f32[1, 5, 16];\n  weights seed 7;\n"
	"  h = conv1d(x, param[9, 5, 5], param[9]; pad = 2);\n"
	"  output y = relu(h);\n}\n",
	/* dense */
	"model e {\n  input x: f32[3, 40];\n  weights seed 8;\n"
	"  h = dense(x, param[24, 40], param[24]);\n"
	"  output y = relu(h);\n}\n",
};

/* Exact low-rank pairs: a weight of rank 2 (or 3) is listed as an exact
 * candidate at its rank and gives the original outputs (interpreter,
 * several input seeds), and the candidate's host code agrees. */
static void test_lowrank_exact(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < sizeof exact_models / sizeof *exact_models; mi++)
		for (int rank = 2; rank <= 3; rank++) {
			gos_module *m = load_text(exact_models[mi]);
			const gos_node *h = NULL;
			for (int i = 0; i < m->n_node; i++)
				if (!strcmp(m->nodes[i].name, "h"))
					h = &m->nodes[i];
			assert_non_null(h);
			make_rank(m, m->vals[h->in[1]].name, rank, 100 + mi);
			gos_diags d;
			gos_diags_init(&d);
			gos_synth_cand *v;
			int n = gos_synth_list(m, -1, NULL, &v, &d);
			if (n < 1) {
				gos_diags_render(&d, stderr);
				fail_msg("model %zu rank %d: %d candidates", mi, rank, n);
			}
			assert_string_equal(v[0].rule->name, "lowrank");
			assert_int_equal(v[0].param, rank);
			assert_true(v[0].exact);
			assert_true(v[0].flops_after < v[0].flops_before);
			free(v);
			char spec[64];
			snprintf(spec, sizeof spec, "h/lowrank:r=%d", rank);
			gos_module *c = gos_synth_apply(m, spec, NULL, &d);
			if (!c) {
				gos_diags_render(&d, stderr);
				fail_msg("apply %s to model %zu", spec, mi);
			}
			assert_int_equal(gos_verify(c, &d), 0);
			assert_int_equal(c->n_node, m->n_node + 1);
			int64_t numel = synth_input_numel(m), yn, yn2;
			for (uint64_t seed = 1; seed <= 3; seed++) {
				float *x = synth_random_inputs(2, numel, seed);
				float *y0 = run(m, "interp", 2, x, &yn);
				float *y1 = run(c, "interp", 2, x, &yn2);
				assert_int_equal(yn, yn2);
				double e = rel_max(y0, y1, 2 * yn);
				if (e > 2e-5)
					fail_msg("model %zu rank %d seed %llu: rel. error %g", mi, rank,
					         (unsigned long long)seed, e);
				if (seed == 1) {
					float *yh = run(c, "host", 2, x, &yn2);
					assert_true(rel_max(y1, yh, 2 * yn) < 1e-4);
					free(yh);
				}
				free(x);
				free(y0);
				free(y1);
			}
			gos_module_free(c);
			gos_module_free(m);
			gos_diags_free(&d);
		}
}

/* Fitted low-rank pairs on a full-rank weight: listed only with data;
 * each reported error matches the measured one; errors fall as the rank
 * grows; the same request gives the same weights; a weight of rank 4
 * without data gets the exact SVD pair (error at rounding level). */
/* a and b give bit-identical outputs on one sample x (interpreter). */
static void assert_same_outputs(const gos_module *a, const gos_module *b, const float *x)
{
	int64_t yn;
	float *ya = run(a, "interp", 1, x, &yn), *yb = run(b, "interp", 1, x, &yn);
	assert_memory_equal(ya, yb, sizeof(float) * (size_t)yn);
	free(ya);
	free(yb);
}

static void test_lowrank_fitted(void **state)
{
	(void)state;
	gos_module *m = load_text(exact_models[0]);
	gos_diags d;
	gos_diags_init(&d);
	gos_synth_cand *v;
	assert_int_equal(gos_synth_list(m, -1, NULL, &v, &d), 0); /* nothing exact */
	free(v);
	int64_t numel = synth_input_numel(m), n = 6;
	float *x = synth_random_inputs(n, numel, 42);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	int k = gos_synth_list(m, -1, &c, &v, &d);
	assert_true(k >= 2);
	for (int i = 0; i < k; i++) {
		if (strcmp(v[i].rule->name, "lowrank"))
			continue; /* the other rules: test_fitted_rules */
		assert_false(v[i].exact);
		assert_true(v[i].err > 0 && v[i].err < 1);
		for (int j = 0; j < k; j++)
			if (!strcmp(v[j].rule->name, "lowrank") && v[j].param > v[i].param)
				assert_true(v[j].err <= v[i].err * (1 + 1e-9));
		char spec[64];
		snprintf(spec, sizeof spec, "h/lowrank:r=%d", v[i].param);
		gos_module *a = gos_synth_apply(m, spec, &c, &d);
		assert_non_null(a);
		double me = synth_measured_err(m, a, &c, "h");
		if (fabs(me - v[i].err) > 1e-3 * v[i].err + 1e-7)
			fail_msg("r=%d: reported %g, measured %g", v[i].param, v[i].err, me);
		/* deterministic: the same request gives the same weights */
		gos_module *b = gos_synth_apply(m, spec, &c, &d);
		assert_non_null(b);
		assert_same_outputs(a, b, x);
		gos_module_free(a);
		gos_module_free(b);
	}
	free(v);

	gos_module *w = load_text(exact_models[0]);
	make_rank(w, w->vals[w->nodes[0].in[1]].name, 4, 9);
	gos_module *t = gos_synth_apply(w, "h/lowrank:r=4", NULL, &d); /* exact: SVD pair */
	assert_non_null(t);
	assert_true(synth_measured_err(w, t, &c, "h") < 1e-10);
	gos_module_free(t);
	gos_module_free(w);
	free(x);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* A recording of more samples than the calibration names serves its
 * first ones (the search's candidates fit on a prefix of what its final
 * checks refit on): the same weights as a recording of exactly those; a
 * recording whose trailing shape differs (a value a rewrite changed) is
 * not read. */
static void test_recorded_prefix(void **state)
{
	(void)state;
	gos_module *m = load_text(exact_models[0]);
	gos_diags d;
	gos_diags_init(&d);
	int64_t numel = synth_input_numel(m), n = 6;
	float *x = synth_random_inputs(2 * n, numel, 43);
	const float *in[1] = {x};
	const char *names[2] = {"x", "h"};
	gos_engine_opts eo = {"interp", 0, -1};
	gos_capture wide = {0}, own = {0};
	assert_int_equal(gos_capture_run(m, 2, names, &eo, 2 * n, in, &wide, &d), 0);
	assert_int_equal(gos_capture_run(m, 2, names, &eo, n, in, &own, &d), 0);
	gos_synth_calib cw = {n, in, &wide, 0, NULL}, co = {n, in, &own, 0, NULL};
	assert_true(gos_synth_recorded(m, "h", &cw));
	gos_module *a = gos_synth_apply(m, "h/lowrank:r=3", &cw, &d);
	gos_module *b = gos_synth_apply(m, "h/lowrank:r=3", &co, &d);
	assert_non_null(a);
	assert_non_null(b);
	assert_same_outputs(a, b, x);
	/* the same name with other channels is someone else's value */
	wide.t[1].shape[1] += 1;
	assert_false(gos_synth_recorded(m, "h", &cw));
	gos_module_free(a);
	gos_module_free(b);
	gos_capture_free(&wide);
	gos_capture_free(&own);
	free(x);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* Sets the taps of weight `name` [K][C][R][S] that keep(k, c, r, s)
 * rejects to zero (marking the data as the weight's value). */
static void zero_taps(gos_module *m, const char *name, int (*keep)(int64_t, int64_t, int64_t, int64_t, const int64_t *))
{
	int v = gos_module_find_value(m, name);
	assert_true(v >= 0);
	gos_value *w = &m->vals[v];
	w->init = GOS_INIT_DATA;
	const int64_t *sh = w->shape;
	for (int64_t k = 0; k < sh[0]; k++)
		for (int64_t c = 0; c < sh[1]; c++)
			for (int64_t r = 0; r < sh[2]; r++)
				for (int64_t t = 0; t < sh[3]; t++)
					if (!keep(k, c, r, t, sh))
						w->data[((k * sh[1] + c) * sh[2] + r) * sh[3] + t] = 0;
}

static int keep_centre(int64_t k, int64_t c, int64_t r, int64_t s, const int64_t *sh)
{
	return r == sh[2] / 2 && s == sh[3] / 2;
}
static int keep_column(int64_t k, int64_t c, int64_t r, int64_t s, const int64_t *sh)
{
	return s == sh[3] / 2;
}
static int keep_row(int64_t k, int64_t c, int64_t r, int64_t s, const int64_t *sh)
{
	return r == sh[2] / 2;
}
static int keep_blocks(int64_t k, int64_t c, int64_t r, int64_t s, const int64_t *sh)
{
	return k / (sh[0] / 2) == c / (sh[1] / 2); /* 2 groups */
}

/* 3x3 convolutions of several geometries (for the rules that rewrite them) */
static const char *const conv_models[] = {
	"model a {\n  input x: f32[1, 6, 9, 9];\n  weights seed 5;\n"
	"  h = conv2d(x, param[10, 6, 3, 3], param[10]; stride = 2, pad = 1);\n"
	"  output y = relu(h);\n}\n",
	"model d {\n  input x: f32[2, 4, 12, 11];\n  weights seed 9;\n"
	"  h = conv2d(x, param[8, 4, 3, 5]; dilation = [2, 1], pad = [2, 2, 2, 2]);\n"
	"  output y = sigmoid(h);\n}\n",
	"model f {\n  input x: f32[1, 8, 10, 10];\n  weights seed 10;\n"
	"  h = conv2d(x, param[12, 8, 3, 3], param[12]; pad = [1, 1, 1, 2], stride = [1, 2]);\n"
	"  output y = relu(h);\n}\n",
};

/* The other rules, exact: a weight that already has the replacement's
 * form (centre taps only, centre column, centre row, block-diagonal,
 * rank-1 filters per input channel) gives the original outputs. */
static void test_exact_rules(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		int (*keep)(int64_t, int64_t, int64_t, int64_t, const int64_t *);
	} rules[] = {
		{"h/shrink1x1", keep_centre}, {"h/shrinkkx1", keep_column}, {"h/shrink1xk", keep_row},
		{"h/grouped:g=2", keep_blocks}, {"h/dwsep", NULL}, {"h/separable:m=2", NULL},
	};
	for (size_t mi = 0; mi < sizeof conv_models / sizeof *conv_models; mi++)
		for (size_t ri = 0; ri < sizeof rules / sizeof *rules; ri++) {
			gos_module *m = load_text(conv_models[mi]);
			const char *wname = m->vals[m->nodes[0].in[1]].name;
			if (rules[ri].keep) {
				zero_taps(m, wname, rules[ri].keep);
			} else if (strstr(rules[ri].spec, "separable")) {
				/* W[k, c, r, s] = sum(j < 2) A_j[c, r] G_j[k, s] */
				int v = gos_module_find_value(m, wname);
				gos_value *w = &m->vals[v];
				w->init = GOS_INIT_DATA;
				int64_t K = w->shape[0], C = w->shape[1], R = w->shape[2], S = w->shape[3];
				for (int64_t k = 0; k < K; k++)
					for (int64_t c = 0; c < C; c++)
						for (int64_t r = 0; r < R; r++)
							for (int64_t t = 0; t < S; t++)
								w->data[((k * C + c) * R + r) * S + t] =
									(float)(0.3 * (double)((c * 3 + r) % 5 - 2) * (double)((k + t) % 3 - 1) +
									        0.2 * (double)((c + 2 * r) % 3) * (double)((k * 5 + t * 2) % 7 - 3));
			} else { /* W[k, c] = a[k, c] f[c] */
				int v = gos_module_find_value(m, wname);
				gos_value *w = &m->vals[v];
				w->init = GOS_INIT_DATA;
				int64_t K = w->shape[0], C = w->shape[1], rs = w->shape[2] * w->shape[3];
				for (int64_t k = 0; k < K; k++)
					for (int64_t c = 0; c < C; c++)
						for (int64_t t = 0; t < rs; t++)
							w->data[(k * C + c) * rs + t] =
								(float)((0.1 + (double)((k * 7 + c * 3) % 5)) *
								        (0.2 * (double)((c + t) % 4) - 0.3));
			}
			gos_diags d;
			gos_diags_init(&d);
			gos_module *c = gos_synth_apply(m, rules[ri].spec, NULL, &d);
			if (!c) {
				gos_diags_render(&d, stderr);
				fail_msg("model %zu: %s", mi, rules[ri].spec);
			}
			int64_t numel = synth_input_numel(m), yn;
			for (uint64_t seed = 1; seed <= 3; seed++) {
				float *x = synth_random_inputs(2, numel, seed);
				float *y0 = run(m, "interp", 2, x, &yn), *y1 = run(c, "interp", 2, x, &yn);
				double e = rel_max(y0, y1, 2 * yn);
				if (e > 2e-5)
					fail_msg("model %zu %s seed %llu: rel. error %g", mi, rules[ri].spec,
					         (unsigned long long)seed, e);
				if (seed == 1) {
					float *yh = run(c, "host", 2, x, &yn);
					assert_true(rel_max(y1, yh, 2 * yn) < 1e-4);
					free(yh);
				}
				free(x);
				free(y0);
				free(y1);
			}
			gos_module_free(c);
			gos_module_free(m);
			gos_diags_free(&d);
		}
}

/* Every fitted candidate of every rule, on every geometry: the error the
 * rule reports (its own model of the new operator over every output
 * position) equals the error measured by running the rewritten module,
 * so the new operator reads exactly the pixels the rule fitted on. The
 * least-squares refit never loses to the rule's unrefitted start: for
 * lowrank, error falls with the rank (checked above); here every error
 * is below 1 (better than predicting zero). */
static void test_fitted_rules(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < sizeof conv_models / sizeof *conv_models; mi++) {
		gos_module *m = load_text(conv_models[mi]);
		int64_t numel = synth_input_numel(m), n = 5;
		float *x = synth_random_inputs(n, numel, 77 + mi);
		const float *in[1] = {x};
		gos_synth_calib c = {n, in, NULL, 0, NULL};
		gos_diags d;
		gos_diags_init(&d);
		gos_synth_cand *v;
		int k = gos_synth_list(m, 0, &c, &v, &d);
		if (k < 5) {
			gos_diags_render(&d, stderr);
			fail_msg("model %zu: %d candidates", mi, k);
		}
		int rules_seen = 0;
		for (int i = 0; i < k; i++) {
			const char *spec = strchr(v[i].name, '/') ? v[i].name : NULL;
			assert_non_null(spec);
			rules_seen |= 1 << (int)(v[i].rule - gos_synth_rules);
			assert_true(v[i].err > 0 && v[i].err < 1);
			assert_true(v[i].flops_after < v[i].flops_before);
			gos_module *a = gos_synth_apply(m, v[i].name, &c, &d);
			if (!a) {
				gos_diags_render(&d, stderr);
				fail_msg("%s", v[i].name);
			}
			double me = synth_measured_err(m, a, &c, "h");
			if (fabs(me - v[i].err) > 1e-3 * v[i].err + 1e-7)
				fail_msg("model %zu %s: reported %g, measured %g", mi, v[i].name, v[i].err, me);
			gos_module_free(a);
		}
		/* lowrank, the three shrinks (where the kernel has a centre), grouped, dwsep */
		assert_true(rules_seen & (1 << (int)(gos_synth_rule_find("lowrank") - gos_synth_rules)));
		assert_true(rules_seen & (1 << (int)(gos_synth_rule_find("dwsep") - gos_synth_rules)));
		free(v);
		free(x);
		gos_module_free(m);
		gos_diags_free(&d);
	}
}

/* The node writing value `name` of m. */
static int node_writing(const gos_module *m, const char *name)
{
	for (int i = 0; i < m->n_node; i++)
		if (m->nodes[i].n_out > 0 && !strcmp(m->vals[m->nodes[i].out[0]].name, name))
			return i;
	fail_msg("no node writes '%s'", name);
	return -1;
}

/* A squeeze-excite gate: `freeze` applies to the gate the multiply
 * broadcasts (and to nothing else), replaces it by its mean over the
 * calibration samples, removes the branch computing it (pool and both
 * FCs), reports the gate's own relative error (measured here on the
 * original), and is exact when the gate is the same for every sample
 * (its last FC's weight zero). */
/* Fitted widths come in whole vector blocks (a remainder runs scalar
 * code): every width lowrank, separable and prune list from 4 up is a
 * multiple of 4, from 16 up of 8, on layers of 16 and 40 channels. */
static void test_widths_whole_blocks(void **state)
{
	(void)state;
	assert_int_equal(gos_synth_round_width(3), 3);
	assert_int_equal(gos_synth_round_width(6), 4);
	assert_int_equal(gos_synth_round_width(9), 8);
	assert_int_equal(gos_synth_round_width(15), 12);
	assert_int_equal(gos_synth_round_width(16), 16);
	assert_int_equal(gos_synth_round_width(23), 16);
	static const char *text =
		"model w {\n  input x: f32[1, 16, 12, 12];\n  weights seed 4;\n"
		"  h = relu(conv2d(x, param[16, 16, 3, 3], param[16]; pad = 1));\n"
		"  g = relu(conv2d(h, param[40, 16, 3, 3], param[40]; pad = 1));\n"
		"  output y = conv2d(g, param[16, 40, 3, 3], param[16]; pad = 1);\n}\n";
	gos_module *m = load_text(text);
	int (*const params[])(const gos_module *, int, int *, int) = {
		gos_synth_lowrank_params, gos_synth_separable_params, gos_synth_prune_params};
	int listed = 0;
	for (int r = 0; r < 3; r++)
		for (int i = 0; i < m->n_node; i++) {
			int vals[8], n = params[r](m, i, vals, 8);
			for (int k = 0; k < n; k++, listed++) {
				if (vals[k] >= 4)
					assert_int_equal(vals[k] % 4, 0);
				if (vals[k] >= 16)
					assert_int_equal(vals[k] % 8, 0);
			}
		}
	assert_true(listed >= 12);
	gos_module_free(m);
}

/* Rows spread over a batch reach every column and every image, whatever
 * the ratio of positions to rows (an even stride of 196 over 2048 images
 * of 28 x 28 outputs read column 0 only). */
static void test_rows_spread(void **state)
{
	(void)state;
	gos_synth_data sd = {0};
	const int64_t sizes[][2] = {{2048, 784}, {256, 784}, {256, 49}, {7, 196}};
	for (int t = 0; t < 4; t++) {
		int64_t n = sizes[t][0], pos = sizes[t][1], rows = 8192;
		sd.total = n * pos;
		if (rows > sd.total)
			rows = sd.total / 2;
		char col[28] = {0};
		char *img = calloc((size_t)n, 1);
		int64_t prev = -1, cols = 0, imgs = 0, side = pos == 49 ? 7 : pos == 196 ? 14 : 28;
		for (int64_t i = 0; i < rows; i++) {
			int64_t g = gos_synth_data_pos(&sd, i, rows);
			assert_true(g >= 0 && g < sd.total);
			assert_true(g != prev);
			prev = g;
			cols += !col[g % pos % side];
			imgs += !img[g / pos];
			col[g % pos % side] = img[g / pos] = 1;
		}
		assert_int_equal(cols, side);
		assert_true(imgs >= (n < rows / 2 ? n : rows / 2));
		free(img);
		assert_int_equal(gos_synth_data_pos(&sd, 5, sd.total), 5);
	}
}

static void test_freeze_gate(void **state)
{
	(void)state;
	static const char *text =
		"model se {\n  input x: f32[1, 8, 6, 6];\n  weights seed 3;\n"
		"  c = conv2d(x, param[8, 8, 3, 3], param[8]; pad = 1);\n"
		"  h = relu(c);\n"
		"  s = relu(conv2d(global_avgpool(h), param[4, 8, 1, 1], param[4]));\n"
		"  t = conv2d(s, param[8, 4, 1, 1], param[8]);\n"
		"  g = sigmoid(t);\n"
		"  z = mul(h, g);\n"
		"  output y = conv2d(z, param[6, 8, 1, 1], param[6]);\n}\n";
	for (int zero = 0; zero < 2; zero++) {
		gos_module *m = load_text(text);
		int gn = node_writing(m, "g"), vals[4];
		for (int i = 0; i < m->n_node; i++)
			assert_int_equal(gos_synth_freeze_params(m, i, vals, 4), i == gn);
		if (zero) { /* the last FC's weight is zero: g = sigmoid(bias) */
			gos_value *w = &m->vals[m->nodes[node_writing(m, "t")].in[1]];
			w->init = GOS_INIT_DATA;
			memset(w->data, 0, sizeof(float) * (size_t)gos_numel(w->rank, w->shape));
		}
		int64_t n = 6;
		float *x = synth_random_inputs(n, synth_input_numel(m), 91);
		const float *in[1] = {x};
		gos_synth_calib c = {n, in, NULL, 0, NULL};
		gos_diags d;
		gos_diags_init(&d);
		gos_synth_cand *v;
		int k = gos_synth_list(m, gn, &c, &v, &d);
		int f = -1;
		for (int i = 0; i < k; i++)
			if (!strcmp(v[i].rule->name, "freeze"))
				f = i;
		assert_true(f >= 0);
		assert_int_equal(v[f].exact, zero);
		assert_true(v[f].flops_after == 0 && v[f].flops_before > 0);
		/* the gate's error, recorded independently: sum (g - mean)^2 / sum g^2 */
		const char *names[1] = {"g"};
		gos_engine_opts o = {"interp", 1, -1};
		gos_capture cg;
		assert_int_equal(gos_capture_run(m, 1, names, &o, n, in, &cg, &d), 0);
		double num = 0, den = 0;
		for (int e = 0; e < 8; e++) {
			double mean = 0;
			for (int64_t r = 0; r < n; r++)
				mean += cg.t[0].data[r * 8 + e] / (double)n;
			for (int64_t r = 0; r < n; r++) {
				double gv = cg.t[0].data[r * 8 + e];
				num += (gv - mean) * (gv - mean);
				den += gv * gv;
			}
		}
		gos_capture_free(&cg);
		if (zero)
			assert_true(v[f].err == 0);
		else
			assert_true(num > 0 && fabs(v[f].err - num / den) < 1e-6 * num / den);
		gos_module *a = gos_synth_apply(m, v[f].name, &c, &d);
		if (!a) {
			gos_diags_render(&d, stderr);
			fail();
		}
		/* only the convolutions before and after the gate are left */
		int convs = 0;
		for (int i = 0; i < a->n_node; i++)
			convs += !strcmp(a->nodes[i].op, "conv2d");
		assert_int_equal(convs, 2);
		assert_int_equal(a->vals[gos_module_find_value(a, "g")].kind, GOS_VAL_WEIGHT);
		if (zero) {
			int64_t ne;
			float *y0 = run(m, "interp", n, x, &ne), *y1 = run(a, "interp", n, x, &ne);
			assert_true(rel_max(y0, y1, n * ne) < 1e-6);
			free(y0);
			free(y1);
		}
		gos_module_free(a);
		free(v);
		free(x);
		gos_diags_free(&d);
		gos_module_free(m);
	}
}

/* A convolution whose result joins a residual sum before a relu: its
 * fits are floored at minus the other term, so each fitted candidate's
 * reported error is the relative error of the block's output relu(h + s),
 * measured by running the rewritten module. */
static void test_residual_floor(void **state)
{
	(void)state;
	gos_module *m = load_text("model res {\n  input x: f32[1, 4, 8, 8];\n  weights seed 5;\n"
	                          "  a = conv2d(x, param[6, 4, 1, 1], param[6]);\n"
	                          "  s = relu(a);\n"
	                          "  h = conv2d(s, param[6, 6, 3, 3], param[6]; pad = 1);\n"
	                          "  t = add(h, s);\n"
	                          "  output y = relu(t);\n}\n");
	int hi = node_writing(m, "h");
	int sv = gos_synth_residual_value(m, hi);
	assert_true(sv >= 0);
	assert_string_equal(m->vals[sv].name, "s");
	assert_int_equal(gos_synth_residual_value(m, node_writing(m, "a")), -1); /* read by a relu */
	/* a linear bottleneck's sum, read by no relu, has its other term too */
	gos_module *lin = load_text("model lin {\n  input x: f32[1, 4, 8, 8];\n  weights seed 5;\n"
	                            "  s = conv2d(x, param[6, 4, 1, 1], param[6]);\n"
	                            "  h = conv2d(s, param[6, 6, 1, 1], param[6]);\n"
	                            "  output y = add(h, s);\n}\n");
	sv = gos_synth_residual_value(lin, node_writing(lin, "h"));
	assert_true(sv >= 0);
	assert_string_equal(lin->vals[sv].name, "s");
	gos_module_free(lin);
	int64_t numel = synth_input_numel(m), n = 5;
	float *x = synth_random_inputs(n, numel, 31);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_diags d;
	gos_diags_init(&d);
	gos_synth_cand *v;
	int k = gos_synth_list(m, hi, &c, &v, &d);
	assert_true(k >= 3);
	int fitted = 0;
	for (int i = 0; i < k; i++) {
		if (v[i].exact)
			continue;
		fitted++;
		gos_module *a = gos_synth_apply(m, v[i].name, &c, &d);
		assert_non_null(a);
		double me = synth_measured_err(m, a, &c, "y"); /* a result: no floor */
		if (fabs(me - v[i].err) > 1e-3 * v[i].err + 1e-7)
			fail_msg("%s: reported %g, measured %g", v[i].name, v[i].err, me);
		gos_module_free(a);
	}
	assert_true(fitted >= 3);
	free(v);
	free(x);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* A convolution read by a relu that a 2x2 max pool reads: each output
 * position below its window's recorded maximum is floored at that
 * maximum (it reaches nothing while it stays below), the maximum itself
 * at the relu's 0, and the last row and column, which no window reads,
 * at +INFINITY. Overlapping windows give the relu's floor alone. */
static void test_pool_floor(void **state)
{
	(void)state;
	const char *fmt = "model pool {\n  input x: f32[1, 3, 5, 5];\n  weights seed 9;\n"
	                  "  r = relu(x);\n"
	                  "  h = conv2d(r, param[4, 3, 3, 3], param[4]; pad = 1);\n"
	                  "  q = relu(h);\n"
	                  "  output y = maxpool2d(q; kernel = 2, stride = %d);\n}\n";
	char text[512];
	snprintf(text, sizeof text, fmt, 2);
	gos_module *m = load_text(text);
	int hi = node_writing(m, "h");
	int64_t numel = synth_input_numel(m), n = 3;
	float *x = synth_random_inputs(n, numel, 12);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_diags d;
	gos_diags_init(&d);
	gos_synth_data sd;
	assert_int_equal(gos_synth_data_get(m, hi, &c, &sd, &d), 0);
	assert_true(sd.pool[0] == 2 && sd.pool[1] == 2 && gos_synth_data_floored(&sd));
	int tops = 0, below = 0, none = 0;
	for (int64_t g = 0; g < sd.total; g++) {
		double lk[4];
		gos_synth_data_floor(&sd, g, lk);
		int64_t smp = g / 25, p = (g % 25) / 5, q = g % 5;
		for (int k = 0; k < 4; k++) {
			const float *y = sd.y + (smp * 4 + k) * 25;
			if (p == 4 || q == 4) {
				assert_true(lk[k] == INFINITY);
				none++;
				continue;
			}
			double top = -INFINITY;
			for (int i = p - p % 2; i < p - p % 2 + 2; i++)
				for (int j = q - q % 2; j < q - q % 2 + 2; j++)
					top = fmax(top, y[i * 5 + j]);
			if (y[p * 5 + q] < top && top > 0) {
				assert_true(lk[k] == top);
				below++;
			} else {
				assert_true(lk[k] == 0);
				tops++;
			}
		}
	}
	assert_true(tops > 0 && below > 0 && none == n * 9 * 4);
	gos_synth_data_free(&sd);
	gos_module_free(m);
	/* stride 1: windows overlap, only the relu's floor */
	snprintf(text, sizeof text, fmt, 1);
	m = load_text(text);
	assert_int_equal(gos_synth_data_get(m, node_writing(m, "h"), &c, &sd, &d), 0);
	assert_true(sd.pool[0] == 0 && sd.lo == 0);
	gos_synth_data_free(&sd);
	gos_module_free(m);
	free(x);
	gos_diags_free(&d);
}

/* The loss gos_synth_solve minimises with a floor lo. */
static double floor_loss(int rows, int nf, const double *f, const double *y, const double *a,
                         double lo)
{
	double l = 0;
	for (int i = 0; i < rows; i++) {
		double o = a[nf];
		for (int j = 0; j < nf; j++)
			o += f[i * nf + j] * a[j];
		double e = y[i] > lo ? o - y[i] : o > lo ? o - lo : 0;
		l += e * e;
	}
	return l;
}

/* Least squares towards a result its readers clamp at 0 (a relu): on
 * targets the features cannot express, the clamped fit has a lower
 * clamped loss than the plain one; on targets they express exactly, both
 * give the same coefficients. */
static void test_solve_floor(void **state)
{
	(void)state;
	enum { ROWS = 400, NF = 3 };
	double f[ROWS * NF], y[ROWS], f0[ROWS * NF], y0[ROWS], t[ROWS * NF], u[ROWS];
	double plain[NF + 1], fl[NF + 1], zero[ROWS] = {0};
	gos_rng g;
	gos_rng_seed(&g, 8);
	for (int i = 0; i < ROWS; i++) {
		for (int j = 0; j < NF; j++)
			f0[i * NF + j] = gos_rng_normal(&g);
		double lin = f0[i * NF] - 0.5 * f0[i * NF + 1] + 0.2;
		y0[i] = lin > 0 ? lin + 0.8 * lin * lin : lin; /* not linear */
	}
	memcpy(f, f0, sizeof f);
	memcpy(y, y0, sizeof y);
	assert_int_equal(gos_synth_solve(ROWS, NF, 1, f, y, NULL, plain), 0);
	memcpy(f, f0, sizeof f);
	memcpy(y, y0, sizeof y);
	assert_int_equal(gos_synth_solve(ROWS, NF, 1, f, y, zero, fl), 0);
	double lp = floor_loss(ROWS, NF, f0, y0, plain, 0), lf = floor_loss(ROWS, NF, f0, y0, fl, 0);
	assert_true(lf < 0.9 * lp);
	/* exact: y = f . w + b */
	for (int i = 0; i < ROWS; i++)
		y0[i] = 0.7 * f0[i * NF] - 1.1 * f0[i * NF + 2] - 0.3;
	memcpy(t, f0, sizeof t);
	memcpy(u, y0, sizeof u);
	assert_int_equal(gos_synth_solve(ROWS, NF, 1, t, u, zero, fl), 0);
	const double w[NF + 1] = {0.7, 0, -1.1, -0.3};
	for (int j = 0; j <= NF; j++)
		assert_true(fabs(fl[j] - w[j]) < 1e-9);
}

/* Rank-deficient least squares: gos_synth_solve on features with a zero
 * column, a duplicated column and a constant column fits y exactly with
 * finite coefficients near the minimum-norm ones; and a ReLU channel that never fires
 * (its producer's filters zero, its bias negative) leaves the reader's
 * fitted candidates listed, each with an error in [0, 1), where a
 * QR solve (LAPACKE_dgels) failed and with it the whole list. */
static void test_rank_deficient(void **state)
{
	(void)state;
	enum { ROWS = 300, NF = 4 };
	double *f = malloc(sizeof(double) * ROWS * NF), *y = malloc(sizeof(double) * ROWS);
	double a[NF + 1];
	gos_rng g;
	gos_rng_seed(&g, 3);
	for (int i = 0; i < ROWS; i++) {
		double u = gos_rng_normal(&g);
		f[i * NF + 0] = u, f[i * NF + 1] = 0, f[i * NF + 2] = u, f[i * NF + 3] = 5;
		y[i] = 2 * u + 3;
	}
	assert_int_equal(gos_synth_solve(ROWS, NF, 1, f, y, NULL, a), 0);
	/* the duplicated pair shares 2 about evenly (the ridge against rounding) */
	assert_true(fabs(a[0] + a[2] - 2) < 1e-6 && fabs(a[0] - a[2]) < 1e-2);
	assert_true(fabs(a[1]) < 1e-9 && fabs(a[3]) < 1e-9);
	assert_true(fabs(a[4] - 3) < 1e-6);
	free(f);
	free(y);

	gos_module *m = load_text("model dead {\n  input x: f32[1, 3, 8, 8];\n  weights seed 4;\n"
	                          "  a = conv2d(x, param[4, 3, 3, 3], param[4]; pad = 1);\n"
	                          "  r = relu(a);\n"
	                          "  h = conv2d(r, param[6, 4, 3, 3], param[6]; pad = 1);\n"
	                          "  output y = h;\n}\n");
	const gos_node *an = &m->nodes[node_writing(m, "a")];
	gos_value *w = &m->vals[an->in[1]], *b = &m->vals[an->in[2]];
	assert_non_null(w->data);
	assert_non_null(b->data);
	w->init = b->init = GOS_INIT_DATA;
	int64_t per = gos_numel(w->rank, w->shape) / w->shape[0];
	for (int64_t q = 0; q < per; q++)
		w->data[q] = 0; /* channel 0 of a: 0 + bias */
	b->data[0] = -1; /* never fires */
	int hi = node_writing(m, "y"); /* h, the output */
	int64_t numel = synth_input_numel(m), n = 4;
	float *x = synth_random_inputs(n, numel, 21);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_diags d;
	gos_diags_init(&d);
	gos_synth_cand *v;
	int k = gos_synth_list(m, hi, &c, &v, &d);
	if (k < 5) {
		gos_diags_render(&d, stderr);
		fail_msg("dead channel: %d candidates", k);
	}
	int fitted = 0;
	for (int i = 0; i < k; i++) {
		if (!v[i].rule->fitted)
			continue;
		fitted++;
		if (!(v[i].err >= 0 && v[i].err < 1))
			fail_msg("%s: error %g", v[i].name, v[i].err);
	}
	assert_true(fitted >= 5);
	free(v);
	free(x);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* Bad requests: unknown node (with a suggestion), unknown rule, a rule
 * that does not apply, a rank out of range, a fitted rank without data,
 * a malformed spec. Each is an error; nothing is returned. */
static void test_bad_requests(void **state)
{
	(void)state;
	gos_module *m = load_text(exact_models[0]);
	static const struct {
		const char *spec, *msg;
	} cases[] = {
		{"hh/lowrank:r=2", "did you mean 'h'"},
		{"h/lowrnk:r=2", "unknown rule 'lowrnk'"},
		{"y/lowrank:r=2", "does not apply"},
		{"h/lowrank:r=10", "must be from 1 to"},
		{"h/lowrank:r=3", "calibration data"},
		{"h/lowrank:k=3", "has parameter 'r'"},
		{"h/lowrank:r=x", "positive integer"},
		{"lowrank", "NODE/RULE"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		gos_diags d;
		gos_diags_init(&d);
		gos_module *r = gos_synth_apply(m, cases[i].spec, NULL, &d);
		assert_null(r);
		assert_true(d.n_errors > 0);
		int found = 0;
		for (int k = 0; k < d.n; k++)
			found |= strstr(d.v[k].msg, cases[i].msg) != NULL;
		if (!found)
			fail_msg("'%s': no error mentioning '%s' (got '%s')", cases[i].spec, cases[i].msg,
			         d.v[0].msg);
		gos_diags_free(&d);
	}
	gos_module_free(m);
}

/* The measured error of node "h" of m rewritten by spec, fitted on the n
 * samples x (c filled with them); the rewritten module in *out. */
static double fitted_err(gos_module *m, int64_t n, const float *const *in, const char *spec,
                         gos_synth_calib *c, gos_module **out)
{
	*c = (gos_synth_calib){n, in, NULL, 0, NULL};
	gos_diags d;
	gos_diags_init(&d);
	*out = gos_synth_apply(m, spec, c, &d);
	gos_diags_free(&d);
	assert_non_null(*out);
	return synth_measured_err(m, *out, c, "h");
}

/* The fitted first stage (gos_synth_stage1). The weight is 10x larger
 * on input channels 2 to 7, but the data lives in channels 0 and 1 (and
 * 0.01x in 2 and 3): 12 dimensions of a 3x1 sub-patch, 6 of which carry
 * nearly everything. The weight's SVD spends separable:m=6's directions
 * mostly on channels without data (error 0.0083 here); the one fitted
 * to the data finds the 6 that matter (0.00054). With a memo and
 * recorded data, a second build gives the same weights. */
static void test_stage1_subspace(void **state)
{
	(void)state;
	gos_module *m = load_text("model s {\n  input x: f32[1, 8, 10, 10];\n  weights seed 9;\n"
	                          "  h = conv2d(x, param[8, 8, 3, 3], param[8]; pad = 1);\n"
	                          "  output y = sigmoid(h);\n}\n");
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].rank == 4 && m->vals[v].data) {
			m->vals[v].init = GOS_INIT_DATA;
			for (int64_t k = 0; k < 8; k++)
				for (int64_t e = 2 * 9; e < 8 * 9; e++)
					m->vals[v].data[k * 72 + e] *= 10;
		}
	int64_t numel = synth_input_numel(m), n = 8;
	float *x = synth_random_inputs(n, numel, 7);
	for (int64_t i = 0; i < n; i++)
		for (int64_t e = 2 * 100; e < numel; e++)
			x[i * numel + e] *= e < 4 * 100 ? 0.01f : 0;
	const float *in[1] = {x};
	gos_synth_calib c;
	gos_module *a;
	double me = fitted_err(m, n, in, "h/separable:m=6", &c, &a);
	gos_diags d;
	gos_diags_init(&d);
	if (!(me < 0.002))
		fail_msg("separable:m=6, data in 6 main directions: error %g", me);
	/* the memo keeps fits on recorded data only */
	const char *names[2] = {"x", "h"};
	gos_engine_opts eo = {"interp", 1, -1};
	gos_capture cap;
	assert_int_equal(gos_capture_run(m, 2, names, &eo, n, in, &cap, &d), 0);
	gos_synth_memo *mo = gos_synth_memo_new();
	assert_non_null(mo);
	c.acts = &cap;
	c.memo = mo;
	gos_module *b = gos_synth_apply(m, "h/separable:m=6", &c, &d);
	gos_module *b2 = gos_synth_apply(m, "h/separable:m=6", &c, &d);
	assert_non_null(b);
	assert_non_null(b2);
	assert_true(synth_measured_err(m, b, &c, "h") < 0.002);
	assert_same_outputs(b, b2, x); /* the second from the memo */
	gos_synth_memo_free(mo);
	gos_capture_free(&cap);
	gos_module_free(a);
	gos_module_free(b);
	gos_module_free(b2);
	gos_module_free(m);
	gos_diags_free(&d);
	free(x);
}

/* dwsep's depthwise filters fitted to the data: inputs constant down
 * each column, so only each filter's column sums reach the output (per
 * input channel, a large rank-1 part and a small second one); on top, a
 * larger part with zero column sums ((1, -2, 1) down the rows) that
 * weighs in the weight's SVD but never shows. Filters from the SVD lean
 * towards the invisible part; fitted ones follow the visible. */
static void test_dwsep_fitted_stage(void **state)
{
	(void)state;
	gos_module *m = load_text("model s {\n  input x: f32[1, 4, 8, 8];\n  weights seed 3;\n"
	                          "  h = conv2d(x, param[6, 4, 3, 3], param[6]);\n"
	                          "  output y = sigmoid(h);\n}\n");
	uint64_t st = 12345;
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].rank == 4 && m->vals[v].data) {
			m->vals[v].init = GOS_INIT_DATA;
			float *w = m->vals[v].data;
			for (int64_t k = 0; k < 6; k++)
				for (int64_t c = 0; c < 4; c++)
					for (int64_t j = 0; j < 3; j++) {
						st = st * 6364136223846793005ULL + 1442695040888963407ULL;
						float r = (float)((st >> 40) % 1000) / 50.0f - 10.0f;
						/* visible: rank 2 per channel, one part far larger */
						float pq = (float)(k + 1) * (c % 2 ? 0.4f : -0.4f) * (float)(c + j + 1) +
						           (float)(k % 3 - 1) * (float)(j == 1 ? 1 : -1);
						for (int64_t i = 0; i < 3; i++)
							w[((k * 4 + c) * 3 + i) * 3 + j] = pq + r * (i == 1 ? -2.0f : 1.0f);
					}
		}
	int64_t numel = synth_input_numel(m), n = 16;
	float *x = synth_random_inputs(n, numel, 5);
	for (int64_t s = 0; s < n; s++) /* constant down each column */
		for (int64_t c = 0; c < 4; c++)
			for (int64_t i = 1; i < 8; i++)
				for (int64_t j = 0; j < 8; j++)
					x[s * numel + (c * 8 + i) * 8 + j] = x[s * numel + c * 64 + j];
	const float *in[1] = {x};
	gos_synth_calib c;
	gos_module *a;
	double me = fitted_err(m, n, in, "h/dwsep", &c, &a);
	if (!(me < 0.019)) /* 0.0164; filters from the SVD alone: 0.0233 */
		fail_msg("dwsep, fitted depthwise filters: error %g", me);
	gos_module_free(a);
	gos_module_free(m);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lowrank_exact),
		cmocka_unit_test(test_lowrank_fitted),
		cmocka_unit_test(test_stage1_subspace),
		cmocka_unit_test(test_dwsep_fitted_stage),
		cmocka_unit_test(test_recorded_prefix),
		cmocka_unit_test(test_exact_rules),
		cmocka_unit_test(test_fitted_rules),
		cmocka_unit_test(test_widths_whole_blocks),
		cmocka_unit_test(test_rows_spread),
		cmocka_unit_test(test_solve_floor),
		cmocka_unit_test(test_pool_floor),
		cmocka_unit_test(test_residual_floor),
		cmocka_unit_test(test_freeze_gate),
		cmocka_unit_test(test_rank_deficient),
		cmocka_unit_test(test_bad_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
