/* test_search.c -- the search's model-free pieces: NSGA-II ranking and
 * crowding, the hypervolume, linear CKA, the predictors (ridge, RBF-SVR,
 * the choice by cross-validated MAPE). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "passes/search/internal.h"
#include "test_tiny.h"

static void test_rank_fronts(void **state)
{
	(void)state;
	/* front 0: (1,5) (2,3) (4,1); front 1: (3,4) (5,2); front 2: (6,6) */
	const double f[] = {1, 5, 2, 3, 4, 1, 3, 4, 5, 2, 6, 6};
	int rank[6];
	double cr[6];
	assert_int_equal(gos_nsga2_rank(f, 6, rank, cr), 0);
	int want[6] = {0, 0, 0, 1, 1, 2};
	for (int i = 0; i < 6; i++)
		assert_int_equal(rank[i], want[i]);
	/* the ends of a front are infinitely crowded, the middle finite */
	assert_true(isinf(cr[0]) && isinf(cr[2]));
	assert_true(isfinite(cr[1]) && cr[1] > 0);
	/* (2,3) spans (1..4) of 3 in x and (1..5) of 4 in y: 3/3 + 4/4 */
	assert_true(fabs(cr[1] - 2.0) < 1e-12);
}

static void test_rank_duplicates(void **state)
{
	(void)state;
	const double f[] = {1, 1, 1, 1, 2, 2};
	int rank[3];
	double cr[3];
	assert_int_equal(gos_nsga2_rank(f, 3, rank, cr), 0);
	assert_int_equal(rank[0], 0);
	assert_int_equal(rank[1], 0); /* equal points do not dominate each other */
	assert_int_equal(rank[2], 1);
}

static void test_hypervolume(void **state)
{
	(void)state;
	const double ref[2] = {1, 1};
	const double one[] = {0.5, 0.5};
	assert_true(fabs(gos_hypervolume(one, 1, ref) - 0.25) < 1e-12);
	/* two points: union of [0.2,1]x[0.6,1] and [0.6,1]x[0.2,1] */
	const double two[] = {0.2, 0.6, 0.6, 0.2};
	assert_true(fabs(gos_hypervolume(two, 2, ref) - (0.8 * 0.4 + 0.4 * 0.4)) < 1e-12);
	/* a dominated point and one beyond the reference add nothing */
	const double more[] = {0.2, 0.6, 0.6, 0.2, 0.7, 0.7, 1.5, 0.0};
	assert_true(fabs(gos_hypervolume(more, 4, ref) - (0.8 * 0.4 + 0.4 * 0.4)) < 1e-12);
	assert_true(gos_hypervolume(more, 0, ref) == 0);
}

static void fill(float *x, int64_t n, uint64_t seed)
{
	gos_rng r;
	gos_rng_seed(&r, seed);
	for (int64_t i = 0; i < n; i++)
		x[i] = (float)gos_rng_normal(&r);
}

static void test_cka(void **state)
{
	(void)state;
	enum { N = 64, P = 20, Q = 7 };
	float *a = malloc(sizeof *a * N * P), *b = malloc(sizeof *b * N * P);
	float *c = malloc(sizeof *c * N * Q);
	fill(a, N * P, 1);
	/* itself: 1 */
	assert_true(fabs(gos_cka_linear(a, P, a, P, N) - 1) < 1e-9);
	/* a scaled, sign-flipped permutation of the features: still 1 */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < P; j++)
			b[i * P + j] = -3.0f * a[i * P + (j + 5) % P] + 2.0f;
	assert_true(fabs(gos_cka_linear(a, P, b, P, N) - 1) < 1e-6);
	/* unrelated data: well below 1; widths may differ */
	fill(c, N * Q, 2);
	double u = gos_cka_linear(a, P, c, Q, N);
	assert_true(u > 0 && u < 0.6);
	/* a constant representation has no CKA */
	for (int i = 0; i < N * Q; i++)
		c[i] = 1;
	assert_true(isnan(gos_cka_linear(a, P, c, Q, N)));
	free(a);
	free(b);
	free(c);
}

static void test_predictors(void **state)
{
	(void)state;
	enum { N = 60, P = 3 };
	double X[N * P], yl[N], yn[N];
	gos_rng r;
	gos_rng_seed(&r, 3);
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < P; j++)
			X[i * P + j] = gos_rng_uniform(&r);
		yl[i] = 1 + 2 * X[i * P] - X[i * P + 1] + 0.5 * X[i * P + 2];
		yn[i] = 1 + sin(6 * X[i * P]) * X[i * P + 1];
	}
	gos_predictor pr;
	/* ridge recovers a linear function closely */
	assert_int_equal(gos_predictor_fit(&pr, 1, X, yl, N, P), 0);
	double x[P] = {0.5, 0.5, 0.5};
	assert_true(fabs(gos_predictor_eval(&pr, x) - 1.75) < 0.05);
	gos_predictor_free(&pr);
	/* the SVR follows a nonlinear one better than ridge does */
	double eR = 0, eS = 0;
	gos_predictor ps;
	assert_int_equal(gos_predictor_fit(&pr, 1, X, yn, N, P), 0);
	assert_int_equal(gos_predictor_fit(&ps, 2, X, yn, N, P), 0);
	for (int i = 0; i < N; i++) {
		eR += fabs(gos_predictor_eval(&pr, &X[i * P]) - yn[i]);
		eS += fabs(gos_predictor_eval(&ps, &X[i * P]) - yn[i]);
	}
	assert_true(eS < eR);
	gos_predictor_free(&pr);
	gos_predictor_free(&ps);
	/* the choice by cross-validation: ridge for the linear data, SVR for
	 * the other */
	double mape;
	assert_int_equal(gos_predictor_choose(&pr, X, yl, N, P, &mape), 0);
	assert_int_equal(pr.kind, 1);
	assert_true(mape < 5);
	gos_predictor_free(&pr);
	assert_int_equal(gos_predictor_choose(&pr, X, yn, N, P, &mape), 0);
	assert_int_equal(pr.kind, 2);
	gos_predictor_free(&pr);
	/* too few rows: no predictor */
	assert_int_equal(gos_predictor_choose(&pr, X, yl, 5, P, &mape), -1);
}

/* The tape's recording of `logits` equals a fresh one on m. */
static void tape_matches(gos_search_tape *t, const gos_module *m, const float *x, int64_t n)
{
	const char *names[] = {"logits"};
	const float *in[1] = {x};
	gos_engine_opts eo = {"interp", 2, -1};
	gos_diags d;
	gos_diags_init(&d);
	gos_capture a, b;
	assert_int_equal(gos_search_tape_run(t, m, 1, names, &eo, n, in, &a, &d), 0);
	assert_int_equal(gos_capture_run(m, 1, names, &eo, n, in, &b, &d), 0);
	assert_int_equal(a.n, 1);
	assert_memory_equal(a.t[0].data, b.t[0].data, sizeof(float) * (size_t)(n * 10));
	gos_capture_free(&a);
	gos_capture_free(&b);
	gos_diags_free(&d);
}

static int on_tape(const gos_search_tape *t, const char *name)
{
	for (int k = 0; k < t->rec.n; k++)
		if (!strcmp(t->rec.names[k], name))
			return 1;
	return 0;
}

/* Recordings kept while their upstream holds: after the classifier's
 * weights change, the first conv's result is taken from the tape and the
 * logits are still the model's; after the conv's weights change, its
 * recording goes and they are again. */
static void test_tape(void **state)
{
	(void)state;
	gos_module *m = test_load_tiny();
	int64_t n = 2, numel = 3 * 32 * 32;
	float *x = malloc(sizeof(float) * (size_t)(n * numel));
	assert_non_null(x);
	fill(x, n * numel, 3);
	const char *conv = m->vals[m->nodes[0].out[0]].name;
	const char *both[] = {conv, "logits"};
	const float *in[1] = {x};
	gos_engine_opts eo = {"interp", 2, -1};
	gos_diags d;
	gos_diags_init(&d);
	gos_search_tape t = {0};
	gos_capture a;
	assert_int_equal(gos_search_tape_run(&t, m, 2, both, &eo, n, in, &a, &d), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.names[0], conv);
	gos_capture_free(&a);
	assert_true(on_tape(&t, conv) && on_tape(&t, "logits"));
	const gos_node *dense = &m->nodes[m->n_node - 1], *c1 = &m->nodes[0];
	gos_value *w = &m->vals[dense->in[1]], *wc = &m->vals[c1->in[1]];
	for (int64_t i = 0; i < gos_numel(w->rank, w->shape); i++)
		w->data[i] *= -2;
	tape_matches(&t, m, x, n);
	assert_true(on_tape(&t, conv));
	wc->data[0] += 1;
	tape_matches(&t, m, x, n);
	assert_false(on_tape(&t, conv));
	gos_search_tape_free(&t);
	gos_diags_free(&d);
	free(x);
	gos_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rank_fronts), cmocka_unit_test(test_rank_duplicates),
	    cmocka_unit_test(test_hypervolume), cmocka_unit_test(test_cka),
	    cmocka_unit_test(test_predictors), cmocka_unit_test(test_tape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
