/* test_eval.c -- engines (interpreter, in-process host code), accuracy
 * counting and activation capture (eval/eval.h), on examples/tiny.gos
 * with random inputs and on datasets built in memory. The interpreter is
 * the oracle throughout. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eval/eval.h"
#include "frontend/frontend.h"
#include "test_tiny.h"

/* n samples of tiny's input (3x32x32), uniform in [-1, 1). */
static float *random_inputs(int64_t n, uint64_t seed)
{
	gos_rng r;
	gos_rng_seed(&r, seed);
	float *x = malloc(sizeof(float) * (size_t)(n * 3 * 32 * 32));
	assert_non_null(x);
	for (int64_t i = 0; i < n * 3 * 32 * 32; i++)
		x[i] = (float)(2 * gos_rng_uniform(&r) - 1);
	return x;
}

static float *run_engine(const gos_module *m, const char *target, int threads, int64_t n,
                         const float *x)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts o = {target, threads, -1};
	gos_engine *e = gos_engine_new(m, &o, &d);
	if (!e) {
		gos_diags_render(&d, stderr);
		fail_msg("engine %s", target);
	}
	assert_int_equal(gos_engine_n_inputs(e), 1);
	assert_int_equal(gos_engine_n_outputs(e), 1);
	assert_int_equal(gos_engine_output_numel(e, 0), 10);
	float *y = malloc(sizeof(float) * (size_t)(n * 10));
	const float *in[1] = {x};
	float *out[1] = {y};
	if (gos_engine_run(e, n, in, out, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("run %s", target);
	}
	gos_engine_free(e);
	gos_diags_free(&d);
	return y;
}

/* Host code in process agrees with the interpreter sample by sample, and
 * the thread count does not change a bit of the results. */
static void test_engine_host_matches_interp(void **state)
{
	(void)state;
	gos_module *m = test_load_tiny();
	int64_t n = 7;
	float *x = random_inputs(n, 3);
	float *ref = run_engine(m, "interp", 1, n, x);
	float *ref2 = run_engine(m, "interp", 3, n, x);
	float *h1 = run_engine(m, "host", 1, n, x);
	float *h2 = run_engine(m, "host", 2, n, x);
	double scale = 0, err = 0;
	for (int i = 0; i < n * 10; i++) {
		scale = fmax(scale, fabs(ref[i]));
		err = fmax(err, fabs(ref[i] - h1[i]));
		assert_true(h1[i] == h2[i]);
		assert_true(ref[i] == ref2[i]);
	}
	assert_true(scale > 0);
	assert_true(err <= 1e-4 * scale);
	/* samples are independent: sample 5 alone gives the same result */
	float *one = run_engine(m, "host", 1, 1, x + 5 * 3 * 32 * 32);
	assert_memory_equal(one, h1 + 50, 10 * sizeof(float));
	free(one);
	free(x);
	free(ref);
	free(ref2);
	free(h1);
	free(h2);
	gos_module_free(m);
}

/* A dataset of tiny-shaped images whose labels are chosen against the
 * interpreter's scores: top-1, top-5 and the confusion matrix must count
 * exactly what was planted. */
static void test_eval_counts(void **state)
{
	(void)state;
	gos_module *m = test_load_tiny();
	int64_t n = 23;
	float *x = random_inputs(n, 11);
	float *s = run_engine(m, "interp", 1, n, x);
	gos_dataset ds = {.n = n, .c = 3, .h = 32, .w = 32, .x = x, .n_class = 10};
	snprintf(ds.name, sizeof ds.name, "planted");
	ds.y = malloc(sizeof(int32_t) * (size_t)n);
	int64_t want1 = 0, want5 = 0;
	for (int64_t i = 0; i < n; i++) {
		/* rank order of the classes of image i */
		int order[10];
		for (int k = 0; k < 10; k++)
			order[k] = k;
		for (int a = 0; a < 10; a++)
			for (int b = a + 1; b < 10; b++)
				if (s[i * 10 + order[b]] > s[i * 10 + order[a]]) {
					int t = order[a];
					order[a] = order[b];
					order[b] = t;
				}
		int r = (int)(i % 10); /* plant the label at rank r */
		ds.y[i] = order[r];
		want1 += r == 0;
		want5 += r < 5;
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts o = {"host", 2, -1};
	gos_engine *e = gos_engine_new(m, &o, &d);
	assert_non_null(e);
	gos_eval_result r;
	gos_eval_opts eo = {5}; /* several calls, the last one partial */
	assert_int_equal(gos_eval_run(e, &ds, &eo, &r, &d), 0);
	assert_int_equal(r.n, n);
	assert_int_equal(r.n_class, 10);
	assert_int_equal(r.top1, want1);
	assert_int_equal(r.top5, want5);
	int64_t diag = 0, total = 0;
	for (int k = 0; k < 10; k++)
		for (int j = 0; j < 10; j++) {
			total += r.confusion[k * 10 + j];
			diag += k == j ? r.confusion[k * 10 + j] : 0;
		}
	assert_int_equal(total, n);
	assert_int_equal(diag, want1);
	for (int64_t i = 0; i < n; i++)
		assert_int_equal(r.pred[i] == ds.y[i], i % 10 == 0);
	assert_true(gos_eval_agreement(r.pred, r.pred, n) == 1.0);
	gos_eval_result_free(&r);

	/* images of the wrong shape: a clear error, nothing evaluated */
	ds.h = 28;
	assert_int_equal(gos_eval_run(e, &ds, &eo, &r, &d), -1);
	assert_true(d.n_errors > 0);
	assert_non_null(strstr(d.v[d.n - 1].msg, "3x28x32"));
	gos_engine_free(e);
	gos_diags_free(&d);
	free(ds.y);
	free(x);
	free(s);
	gos_module_free(m);
}

/* Recording values: a named node gives its result for every sample
 * concatenated on axis 0; the recorded output equals what the model
 * returns; host code records what the interpreter records. */
static void test_capture(void **state)
{
	(void)state;
	gos_module *m = test_load_tiny();
	int64_t n = 3;
	float *x = random_inputs(n, 5);
	float *y = run_engine(m, "interp", 1, n, x);
	const char *names[] = {"logits", m->nodes[0].name, "x"};
	const float *in[1] = {x};
	gos_diags d;
	gos_diags_init(&d);
	gos_capture ci, ch;
	gos_engine_opts oi = {"interp", 2, -1}, oh = {"host", 2, -1};
	if (gos_capture_run(m, 3, names, &oi, n, in, &ci, &d)) {
		gos_diags_render(&d, stderr);
		fail();
	}
	assert_int_equal(gos_capture_run(m, 3, names, &oh, n, in, &ch, &d), 0);
	assert_int_equal(ci.n, 3);
	assert_string_equal(ci.names[0], "logits");
	assert_int_equal(ci.t[0].rank, 2);
	assert_int_equal(ci.t[0].shape[0], n);
	assert_memory_equal(ci.t[0].data, y, sizeof(float) * (size_t)(n * 10));
	/* the conv's result: [n, 16, 32, 32] */
	assert_int_equal(ci.t[1].rank, 4);
	assert_int_equal(ci.t[1].shape[0], n);
	assert_int_equal(ci.t[1].shape[1], 16);
	assert_memory_equal(ci.t[2].data, x, sizeof(float) * (size_t)(n * 3 * 32 * 32));
	for (int k = 0; k < 3; k++) {
		assert_string_equal(ci.names[k], ch.names[k]);
		int64_t numel = gos_numel(ci.t[k].rank, ci.t[k].shape);
		double scale = 0, err = 0;
		for (int64_t i = 0; i < numel; i++) {
			scale = fmax(scale, fabs(ci.t[k].data[i]));
			err = fmax(err, fabs(ci.t[k].data[i] - ch.t[k].data[i]));
		}
		assert_true(err <= 1e-4 * scale);
	}
	gos_capture_free(&ci);
	gos_capture_free(&ch);

	/* every node: one tensor per node result */
	assert_int_equal(gos_capture_run(m, 0, NULL, &oi, 1, in, &ci, &d), 0);
	int results = 0;
	for (int i = 0; i < m->n_node; i++)
		results += m->nodes[i].n_out;
	assert_int_equal(ci.n, results);
	gos_capture_free(&ci);

	/* an unknown name: error with a suggestion, nothing recorded */
	const char *bad[] = {"logit"};
	assert_int_equal(gos_capture_run(m, 1, bad, &oi, 1, in, &ci, &d), -1);
	assert_non_null(strstr(d.v[d.n - 1].msg, "did you mean 'logits'"));
	assert_int_equal(ci.n, 0);
	gos_diags_free(&d);
	free(x);
	free(y);
	gos_module_free(m);
}

/* Values taken as given: the logits from the conv's recorded result are
 * the model's; from another tensor there, they differ (the given one is
 * what is used); an input or an unknown value cannot be given. */
static void test_capture_from(void **state)
{
	(void)state;
	gos_module *m = test_load_tiny();
	int64_t n = 3;
	float *x = random_inputs(n, 5);
	const char *conv = m->vals[m->nodes[0].out[0]].name;
	const char *names[] = {"logits", conv};
	const float *in[1] = {x};
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts oi = {"interp", 2, -1}, oh = {"host", 2, -1};
	gos_capture full, from, other;
	assert_int_equal(gos_capture_run(m, 2, names, &oi, n, in, &full, &d), 0);
	gos_capture given = {1, &full.names[1], &full.t[1]};
	assert_int_equal(gos_capture_run_from(m, &given, 1, names, &oi, n, in, &from, &d), 0);
	assert_memory_equal(from.t[0].data, full.t[0].data, sizeof(float) * (size_t)(n * 10));
	gos_capture_free(&from);
	assert_int_equal(gos_capture_run_from(m, &given, 1, names, &oh, n, in, &from, &d), 0);
	for (int64_t i = 0; i < n * 10; i++)
		assert_float_equal(from.t[0].data[i], full.t[0].data[i], 1e-4);
	for (int64_t i = 0; i < gos_numel(full.t[1].rank, full.t[1].shape); i++)
		full.t[1].data[i] *= 0.5f;
	assert_int_equal(gos_capture_run_from(m, &given, 1, names, &oi, n, in, &other, &d), 0);
	double diff = 0;
	for (int64_t i = 0; i < n * 10; i++)
		diff = fmax(diff, fabs(other.t[0].data[i] - from.t[0].data[i]));
	assert_true(diff > 1e-3);
	gos_capture_free(&from);
	gos_capture_free(&other);
	/* the input x: not a node's result */
	gos_capture bad = {1, (char *[]){"x"}, &full.t[1]};
	assert_int_equal(gos_capture_run_from(m, &bad, 1, names, &oi, n, in, &from, &d), -1);
	assert_non_null(strstr(d.v[d.n - 1].msg, "'x' cannot be given"));
	assert_int_equal(from.n, 0);
	gos_capture_free(&full);
	gos_diags_free(&d);
	free(x);
	gos_module_free(m);
}

static gos_module *load_text(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("batch.gos", text, strlen(text), NULL, &d);
	if (!m || gos_verify(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test model does not load");
	}
	gos_diags_free(&d);
	return m;
}

/* The batch of the model does not matter: a model written for 4 images
 * per run gives, on 9 images (3 calls, the last padded), the predictions
 * the same weights give one image at a time. */
static void test_eval_model_batch(void **state)
{
	(void)state;
	static const char *fmt = "model b {\n"
	                         "  input x: f32[%d, 1, 6, 6];\n"
	                         "  weights seed 3;\n"
	                         "  h = flatten(x);\n"
	                         "  output y = dense(h, param[10, 36], param[10] init zeros);\n"
	                         "}\n";
	char t1[512], t4[512];
	snprintf(t1, sizeof t1, fmt, 1);
	snprintf(t4, sizeof t4, fmt, 4);
	gos_module *m1 = load_text(t1), *m4 = load_text(t4);
	int64_t n = 9;
	gos_dataset ds = {.n = n, .c = 1, .h = 6, .w = 6, .n_class = 10};
	snprintf(ds.name, sizeof ds.name, "nine");
	ds.x = malloc(sizeof(float) * 36 * (size_t)n);
	ds.y = calloc((size_t)n, sizeof(int32_t));
	gos_rng r;
	gos_rng_seed(&r, 9);
	for (int i = 0; i < 36 * n; i++)
		ds.x[i] = (float)gos_rng_uniform(&r);
	for (int i = 0; i < n; i++)
		ds.y[i] = i % 10;
	gos_diags d;
	gos_diags_init(&d);
	gos_eval_result r1, r4;
	for (int k = 0; k < 2; k++) {
		gos_engine_opts o = {k ? "host" : "interp", 2, -1};
		gos_engine *e1 = gos_engine_new(m1, &o, &d), *e4 = gos_engine_new(m4, &o, &d);
		assert_non_null(e1);
		assert_non_null(e4);
		int64_t per;
		int K;
		assert_int_equal(gos_eval_check(e4, &ds, &per, &K, &d), 0);
		assert_int_equal(per, 4);
		assert_int_equal(K, 10);
		gos_eval_opts eo = {4};
		assert_int_equal(gos_eval_run(e1, &ds, &eo, &r1, &d), 0);
		assert_int_equal(gos_eval_run(e4, &ds, &eo, &r4, &d), 0);
		assert_int_equal(r4.n, n);
		assert_memory_equal(r1.pred, r4.pred, sizeof(int32_t) * (size_t)n);
		assert_int_equal(r1.top1, r4.top1);
		gos_eval_result_free(&r1);
		gos_eval_result_free(&r4);
		gos_engine_free(e1);
		gos_engine_free(e4);
	}
	gos_diags_free(&d);
	free(ds.x);
	free(ds.y);
	gos_module_free(m1);
	gos_module_free(m4);
}

/* A target that is not this machine cannot run in process; an unknown
 * target is an error, not a crash. */
static void test_engine_errors(void **state)
{
	(void)state;
	gos_module *m = test_load_tiny();
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts o = {"no-such-device", 1, -1};
	assert_null(gos_engine_new(m, &o, &d));
	assert_true(d.n_errors > 0);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* A paired comparison counts only the images exactly one side gets
 * right: 2 gained, 1 lost of 10 is +10 points with standard error
 * 100 sqrt(3 - 1/10) / 10. */
static void test_paired_change(void **state)
{
	(void)state;
	int32_t y[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	int32_t a[10] = {0, 1, 2, 3, 4, 5, 6, 0, 8, 0}; /* wrong on 7, 9 */
	int32_t b[10] = {0, 1, 2, 3, 4, 5, 0, 0, 0, 9}; /* wrong on 6, 7, 8 */
	double change, se;
	gos_eval_paired(a, b, y, 10, &change, &se);
	assert_float_equal(change, 10.0, 1e-12);
	assert_float_equal(se, 100.0 * sqrt(2.9) / 10.0, 1e-12);
	gos_eval_paired(b, a, y, 10, &change, &se);
	assert_float_equal(change, -10.0, 1e-12);
	assert_float_equal(se, 100.0 * sqrt(2.9) / 10.0, 1e-12);
	gos_eval_paired(a, a, y, 10, &change, &se);
	assert_true(change == 0 && se == 0);
	gos_eval_paired(a, b, y, 0, &change, &se);
	assert_true(change == 0 && se == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paired_change),
		cmocka_unit_test(test_engine_host_matches_interp),
		cmocka_unit_test(test_eval_counts),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_capture_from),
		cmocka_unit_test(test_eval_model_batch),
		cmocka_unit_test(test_engine_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
