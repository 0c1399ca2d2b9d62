/* test_search.c -- the search's model-free pieces: NSGA-II ranking and
 * crowding, the hypervolume, linear CKA, the predictors (ridge, RBF-SVR,
 * the choice by cross-validated MAPE). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "passes/search/search.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rank_fronts), cmocka_unit_test(test_rank_duplicates),
	    cmocka_unit_test(test_hypervolume), cmocka_unit_test(test_cka),
	    cmocka_unit_test(test_predictors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
