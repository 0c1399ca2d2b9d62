/* test_cost.c -- the cost-model library: rank correlations against
 * hand-computed values, the quantile ridge fit on synthetic data with a
 * known answer, model selection (folding), model files, operator kinds,
 * FLOPs, liveness and foldability of a hand-written module, target files. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frontend/frontend.h"
#include "passes/cost/cost.h"

/* ---- rank correlation --------------------------------------------------- */

static void test_rank_ties(void **state)
{
	(void)state;
	double v[6] = {3, 1, 2, 2, 5, 2}, r[6];
	gos_rank(v, 6, r);
	/* sorted: 1 | 2 2 2 | 3 | 5 -> ranks 0 | 2 2 2 | 4 | 5 */
	double want[6] = {4, 0, 2, 2, 5, 2};
	for (int i = 0; i < 6; i++)
		assert_float_equal(r[i], want[i], 1e-12);
}

static void test_spearman_kendall(void **state)
{
	(void)state;
	/* b's order 2,1,4,3,5: sum d^2 = 4 -> rho = 1 - 6*4/(5*24) = 0.8;
	 * 2 of 10 pairs discordant -> tau = (8 - 2) / 10 = 0.6 */
	double a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 1, 4, 3, 5};
	assert_float_equal(gos_spearman(a, b, 5), 0.8, 1e-12);
	assert_float_equal(gos_kendall(a, b, 5), 0.6, 1e-12);
	/* reversed: -1 for both */
	double c[5] = {50, 40, 30, 20, 10};
	assert_float_equal(gos_spearman(a, c, 5), -1.0, 1e-12);
	assert_float_equal(gos_kendall(a, c, 5), -1.0, 1e-12);
	/* monotone but non-linear: 1 */
	double e[5] = {1, 8, 27, 64, 125};
	assert_float_equal(gos_spearman(a, e, 5), 1.0, 1e-12);
}

static void test_rank_corr_with_ties(void **state)
{
	(void)state;
	/* a has a tie: ranks a = 0, 1.5, 1.5, 3; b = 0..3.
	 * Pearson of ranks: 4.5 / sqrt(4.5 * 5) = 0.948683...
	 * tau-b: S = 5 (one pair tied in a), n0 = 6, n1 = 1, n2 = 0:
	 * 5 / sqrt(5 * 6) = 0.912870... */
	double a[4] = {1, 2, 2, 3}, b[4] = {1, 2, 3, 4};
	assert_float_equal(gos_spearman(a, b, 4), 4.5 / sqrt(22.5), 1e-12);
	assert_float_equal(gos_kendall(a, b, 4), 5 / sqrt(30.0), 1e-12);
	double k[4] = {7, 7, 7, 7};
	assert_true(isnan(gos_spearman(a, k, 4)));
	assert_true(isnan(gos_kendall(a, k, 4)));
	assert_true(isnan(gos_spearman(a, b, 1)));
}

/* ---- the quantile ridge fit ------------------------------------------------ */

/* Deterministic pseudo-random numbers in [0, 1). */
static double urand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static double eval_cols(const gos_cost_model *m, const double *x, int p)
{
	double row[GOS_COST_MAX_COLS] = {0};
	memcpy(row, x, sizeof(double) * (size_t)p);
	return gos_cost_model_eval(m, row);
}

static void test_least_squares_exact(void **state)
{
	(void)state;
	/* y = 3 + 2 x0 - x1, exact: least squares without ridge recovers it */
	enum { N = 12, P = 3 };
	double X[N * P], y[N];
	uint64_t s = 1;
	for (int i = 0; i < N; i++) {
		X[i * P + 0] = urand(&s) * 10;
		X[i * P + 1] = urand(&s) * 5;
		X[i * P + 2] = 4; /* constant column: must be dropped */
		y[i] = 3 + 2 * X[i * P + 0] - X[i * P + 1];
	}
	gos_cost_model m;
	memset(&m, 0, sizeof m);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, P, NULL, 0, 0, 0, 0, &m), 0);
	assert_true(m.used[0] && m.used[1]);
	assert_false(m.used[2]);
	assert_float_equal(m.w[0] / m.sd[0], 2.0, 1e-9);
	assert_float_equal(m.w[1] / m.sd[1], -1.0, 1e-9);
	double q[P] = {7.5, 1.25, 4};
	assert_float_equal(eval_cols(&m, q, P), 3 + 15 - 1.25, 1e-9);
}

static void test_nnls(void **state)
{
	(void)state;
	/* A = [1 0; 1 1; 0 1], b = [2 1 -1]: least squares gives (2, -1);
	 * with x >= 0, x2 = 0 and x1 = mean(2, 1) = 1.5 (gradient of x2 at
	 * the optimum is -1.5 < 0, so the constraint is active). */
	double A[6] = {1, 0, 1, 1, 0, 1}, b[3] = {2, 1, -1}, x[2];
	assert_int_equal(gos_nnls(A, b, 3, 2, x), 0);
	assert_float_equal(x[0], 1.5, 1e-12);
	assert_float_equal(x[1], 0.0, 0);
	/* unconstrained optimum already >= 0: same as least squares */
	double b2[3] = {2, 3, 1};
	assert_int_equal(gos_nnls(A, b2, 3, 2, x), 0);
	assert_float_equal(x[0], 2.0, 1e-12);
	assert_float_equal(x[1], 1.0, 1e-12);
}

static void test_nonneg_fit(void **state)
{
	(void)state;
	/* y = 3 + 2 x0 - x1 with independent x0, x1: a cost model keeps the
	 * x1 weight at 0 instead of going negative; allowing negative
	 * weights recovers -1. */
	enum { N = 40 };
	double X[N * 2], y[N];
	uint64_t s = 9;
	for (int i = 0; i < N; i++) {
		X[i * 2] = urand(&s) * 10;
		X[i * 2 + 1] = urand(&s) * 10;
		y[i] = 3 + 2 * X[i * 2] - X[i * 2 + 1];
	}
	gos_cost_model m;
	memset(&m, 0, sizeof m);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 2, NULL, 0, 0, 1, 0, &m), 0);
	assert_float_equal(m.w[1], 0.0, 0);
	assert_true(m.w[0] > 0);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 2, NULL, 0, 0, 0, 0, &m), 0);
	assert_float_equal(m.w[1] / m.sd[1], -1.0, 1e-9);
}

static void test_median_ignores_outliers(void **state)
{
	(void)state;
	/* 20 points on y = 1 + 2x, 4 of them pushed up by 100: the median
	 * (tau 0.5) fit stays on the line, least squares does not. */
	enum { N = 20 };
	double X[N], y[N];
	for (int i = 0; i < N; i++) {
		X[i] = i;
		y[i] = 1 + 2 * i + (i % 5 == 2 ? 100 : 0);
	}
	gos_cost_model med, ls;
	memset(&med, 0, sizeof med);
	memset(&ls, 0, sizeof ls);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 1, NULL, 0.5, 0, 1, 200, &med), 0);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 1, NULL, 0, 0, 1, 0, &ls), 0);
	double x = 30;
	assert_float_equal(eval_cols(&med, &x, 1), 61.0, 0.05);
	assert_true(fabs(eval_cols(&ls, &x, 1) - 61.0) > 5);
}

static void test_upper_quantile(void **state)
{
	(void)state;
	/* for x = 1..10, y = x + u with u = 0..9 each once: the 0.75 quantile
	 * of u is its 8th smallest value (ceil(0.75 * 10)), 7; so the fit is
	 * y = 7 + x. */
	enum { N = 100 };
	double X[N], y[N];
	for (int i = 0; i < N; i++) {
		X[i] = 1 + i / 10;
		y[i] = X[i] + (i % 10);
	}
	gos_cost_model m;
	memset(&m, 0, sizeof m);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 1, NULL, 0.75, 0, 1, 300, &m), 0);
	assert_float_equal(m.w[0] / m.sd[0], 1.0, 0.02);
	double x0 = 0;
	assert_float_equal(eval_cols(&m, &x0, 1), 7.0, 0.1);
}

static void test_ridge_shrinks(void **state)
{
	(void)state;
	/* With a large penalty the slope shrinks towards 0, the intercept
	 * towards the mean of y; a zero penalty weight (pen = 0) is free. */
	enum { N = 10 };
	double X[N * 2], y[N];
	for (int i = 0; i < N; i++) {
		X[i * 2] = i;
		X[i * 2 + 1] = i % 3;
		y[i] = 5 * i;
	}
	gos_cost_model a, b;
	double pen[2] = {0, 1};
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 2, NULL, 0, 1e6, 1, 0, &a), 0);
	assert_true(fabs(a.w[0]) < 1e-3);
	assert_float_equal(a.intercept, 22.5, 1e-9);
	assert_int_equal(gos_cost_fit_quantile(X, y, N, 2, pen, 0, 1e6, 1, 0, &b), 0);
	assert_float_equal(b.w[0] / b.sd[0], 5.0, 1e-6);
}

/* Samples whose latency is a linear function of x_fold (fold_truth) or of
 * x_all: a fifth of them carry extra foldable work. */
static void make_samples(gos_cost_sample *s, int n, int fold_truth, uint64_t seed)
{
	memset(s, 0, sizeof *s * (size_t)n);
	for (int i = 0; i < n; i++) {
		double conv = 1 + 9 * urand(&seed), pool = 3 * urand(&seed);
		double extra = i % 5 == 0 ? 4 + 2 * urand(&seed) : 0;
		int c = GOS_KIND_CONTRACTION * GOS_COST_PER_KIND;
		int p = GOS_KIND_POOLING * GOS_COST_PER_KIND;
		s[i].x_fold[c] = conv;
		s[i].x_fold[p] = pool;
		s[i].x_fold[c + 3] = 10;
		memcpy(s[i].x_all, s[i].x_fold, sizeof s[i].x_all);
		s[i].x_all[c] += extra;
		s[i].proxy = NAN;
		const double *x = fold_truth ? s[i].x_fold : s[i].x_all;
		s[i].y = 2 + 1.5 * x[c] + 0.7 * x[p] + 0.05 * (urand(&seed) - 0.5);
	}
}

static void check_fold_choice(int fold_truth)
{
	enum { N = 30, T = 200 };
	gos_cost_sample s[N], t[T];
	make_samples(s, N, fold_truth, 42);
	make_samples(t, T, fold_truth, 7);
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	assert_int_equal(gos_cost_fit(s, N, 0, NULL, &m, &d), 0);
	gos_diags_free(&d);
	assert_int_equal(m.fold, fold_truth);
	assert_int_equal(m.n_samples, N);
	assert_true(m.loo_spearman > 0.99);
	double pred[T], y[T], row[GOS_COST_MAX_COLS];
	for (int i = 0; i < T; i++) {
		gos_cost_model_row(&m, &t[i], row);
		pred[i] = gos_cost_model_eval(&m, row);
		y[i] = t[i].y;
		assert_float_equal(pred[i], y[i], 0.1);
	}
	assert_true(gos_spearman(pred, y, T) > 0.99);
}

static void test_fit_chooses_folding(void **state)
{
	(void)state;
	check_fold_choice(1);
	check_fold_choice(0);
}

static void test_fit_errors(void **state)
{
	(void)state;
	gos_cost_sample s[2];
	make_samples(s, 2, 0, 1);
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	assert_int_equal(gos_cost_fit(s, 2, 0, NULL, &m, &d), -1);
	assert_int_equal(d.n_errors, 1);
	gos_diags_free(&d);
	gos_cost_sample z[5];
	make_samples(z, 5, 0, 1);
	z[3].y = -1;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_fit(z, 5, 0, NULL, &m, &d), -1);
	assert_int_equal(d.n_errors, 1);
	gos_diags_free(&d);
}

/* Samples whose latency follows the FLOPs count (law 0), the prior
 * (law 1) or per-kind times with different weights (law 2); the other
 * columns are noise unrelated to the latency. */
static void make_family_samples(gos_cost_sample *s, int n, int law, uint64_t seed)
{
	memset(s, 0, sizeof *s * (size_t)n);
	int c = GOS_KIND_CONTRACTION * GOS_COST_PER_KIND;
	int p = GOS_KIND_POOLING * GOS_COST_PER_KIND;
	for (int i = 0; i < n; i++) {
		double *x = s[i].x_all;
		x[c] = 1 + 9 * urand(&seed);      /* ms */
		x[p] = 1 + 4 * urand(&seed);
		x[c + 1] = 1 + 9 * urand(&seed);  /* gflop */
		x[p + 1] = 0.1 * urand(&seed);
		x[c + 3] = 10 + (int)(10 * urand(&seed));
		memcpy(s[i].x_fold, x, sizeof s[i].x_fold);
		s[i].proxy = NAN;
		double e = 0.01 * (urand(&seed) - 0.5);
		s[i].y = law == 0 ? 1 + 2 * (x[c + 1] + x[p + 1]) + e
		         : law == 1 ? 0.5 + 3 * (x[c] + x[p]) + e
		         : 1 + 0.2 * x[c] + 4 * x[p] + e;
	}
}

/* fit chooses the family the samples follow, says so, and the chosen
 * model predicts unseen samples of the same law. */
static void check_family(int law, const char *want)
{
	enum { N = 20, T = 100 };
	gos_cost_sample s[N], t[T];
	make_family_samples(s, N, law, 11 + law);
	make_family_samples(t, T, law, 99 + law);
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	assert_int_equal(gos_cost_fit(s, N, 0, NULL, &m, &d), 0);
	gos_diags_free(&d);
	if (strcmp(m.family, want))
		fail_msg("law %d: fit chose family '%s', expected '%s'", law, m.family, want);
	double sp, mape;
	gos_cost_model_score(&m, t, T, &sp, &mape);
	assert_true(sp > 0.99);
	assert_true(mape < 1.0);
}

static void test_fit_chooses_family(void **state)
{
	(void)state;
	check_family(0, "flops");
	check_family(1, "prior");
	check_family(2, "per-kind");
	/* with no_fallback only the requested columns compete */
	enum { N = 20 };
	gos_cost_sample s[N];
	make_family_samples(s, N, 1, 5);
	gos_cost_fitopts o = {0};
	o.no_fallback = 1;
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	assert_int_equal(gos_cost_fit(s, N, 0, &o, &m, &d), 0);
	gos_diags_free(&d);
	assert_string_equal(m.family, "full");
}

/* No sample with foldable work: fold is unknown and the model costs
 * foldable work at half. */
static void test_fit_fold_unknown(void **state)
{
	(void)state;
	enum { N = 20 };
	gos_cost_sample s[N];
	make_family_samples(s, N, 1, 8);
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	assert_int_equal(gos_cost_fit(s, N, 0, NULL, &m, &d), 0);
	gos_diags_free(&d);
	assert_int_equal(m.fold, GOS_COST_FOLD_UNKNOWN);
	gos_cost_sample a = s[0];
	int c = GOS_KIND_CONTRACTION * GOS_COST_PER_KIND;
	a.x_all[c] += 2; /* 2 ms of foldable work */
	double r0[GOS_COST_MAX_COLS], r1[GOS_COST_MAX_COLS];
	gos_cost_model_row(&m, &s[0], r0);
	gos_cost_model_row(&m, &a, r1);
	assert_true(fabs(r1[c] - r0[c] - 1.0) < 1e-9);
}

/* Per-node profiles under a per-kind law are recovered exactly; a kind
 * without profiled nodes gets the overall ratio; bad times fail. */
static void test_fit_profile(void **state)
{
	(void)state;
	enum { N = 12 };
	gos_cost_prof_node p[N];
	uint64_t seed = 3;
	for (int i = 0; i < N; i++) {
		gos_cost_kind k = i % 3 == 0 ? GOS_KIND_POOLING : GOS_KIND_CONTRACTION;
		double a = 0.01 + urand(&seed);
		p[i] = (gos_cost_prof_node){k, a, 1,
		                            k == GOS_KIND_POOLING ? 3 * a + 0.002 : 2 * a + 0.005, i};
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	assert_int_equal(gos_cost_fit_profile(p, N, &m, &d), 0);
	assert_string_equal(m.family, "profile");
	int c = GOS_KIND_CONTRACTION * GOS_COST_PER_KIND, q = GOS_KIND_POOLING * GOS_COST_PER_KIND;
	int e = GOS_KIND_ELEMENTWISE * GOS_COST_PER_KIND;
	assert_float_equal(m.w[c], 2, 1e-9);
	assert_float_equal(m.w[c + 3], 0.005, 1e-9);
	assert_float_equal(m.w[q], 3, 1e-9);
	assert_float_equal(m.w[q + 3], 0.002, 1e-9);
	double meas = 0, ana = 0;
	for (int i = 0; i < N; i++)
		meas += p[i].measured_ms, ana += p[i].analytic_ms;
	assert_float_equal(m.w[e], meas / ana, 1e-9);
	assert_float_equal(m.w[e + 3], 0, 1e-12);
	/* applied to a whole model: sum of a_k ms_k + b_k nodes_k */
	gos_cost_sample s;
	memset(&s, 0, sizeof s);
	s.x_all[c] = 1.5, s.x_all[c + 3] = 4, s.x_all[q] = 0.5, s.x_all[q + 3] = 2;
	double row[GOS_COST_MAX_COLS];
	gos_cost_model_row(&m, &s, row);
	assert_float_equal(gos_cost_model_eval(&m, row), 2 * 1.5 + 0.02 + 3 * 0.5 + 0.004, 1e-9);
	gos_diags_free(&d);
	p[4].measured_ms = NAN;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_fit_profile(p, N, &m, &d), -1);
	assert_int_equal(d.n_errors, 1);
	gos_diags_free(&d);
	p[4].measured_ms = -1;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_fit_profile(p, N, &m, &d), -1);
	gos_diags_free(&d);
	gos_diags_init(&d);
	assert_int_equal(gos_cost_fit_profile(p, 0, &m, &d), -1);
	gos_diags_free(&d);
}

static void test_model_file_round_trip(void **state)
{
	(void)state;
	enum { N = 15 };
	gos_cost_sample s[N];
	make_samples(s, N, 0, 3);
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m, back;
	assert_int_equal(gos_cost_fit(s, N, 0, NULL, &m, &d), 0);
	strcpy(m.target, "board");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gos_cost_model_save(&m, f);
	fclose(f);
	assert_int_equal(gos_cost_model_load(&back, "m.txt", buf, len, &d), 0);
	assert_int_equal(d.n_errors, 0);
	assert_string_equal(back.target, "board");
	assert_int_equal(back.fold, m.fold);
	double r1[GOS_COST_MAX_COLS], r2[GOS_COST_MAX_COLS];
	for (int i = 0; i < N; i++) {
		gos_cost_model_row(&m, &s[i], r1);
		gos_cost_model_row(&back, &s[i], r2);
		assert_float_equal(gos_cost_model_eval(&m, r1), gos_cost_model_eval(&back, r2), 1e-12);
	}
	free(buf);
	const char *bad = "gos-cost-model 1\ncol nonsense 1 1 1\nintercept x\n";
	assert_int_equal(gos_cost_model_load(&back, "bad.txt", bad, strlen(bad), &d), -1);
	/* unknown column (line 2), malformed intercept (line 3), and so no
	 * intercept at all (whole file) */
	assert_int_equal(d.n_errors, 3);
	assert_int_equal(d.v[0].loc.line, 2);
	assert_int_equal(d.v[1].loc.line, 3);
	assert_int_equal(d.v[2].loc.line, 0);
	gos_diags_free(&d);
}

/* ---- analysis of a hand-written module ------------------------------------------ */

/* x -> conv (3->8, 3x3, pad 1) -> relu -> depthwise 3x3 -> avgpool 2x2 ->
 * flatten -> dense (batch 1); a dead branch (relu of x nobody reads); a
 * zero branch z = x * zeros -> relu -> conv, added to the conv output. */
static const char *gir =
	"gir 1\n"
	"model m\n"
	"input %x : f32[1,3,8,8]\n"
	"weight %w : f32[8,3,3,3] = fill(0.5)\n"
	"weight %dww : f32[8,1,3,3] = fill(0.25)\n"
	"weight %zero : f32[1] = fill(0)\n"
	"weight %fcw : f32[4,128] = fill(0.1)\n"
	"node conv = conv2d(X=%x, Wt=%w) -> (Y=%conv : f32[1,8,8,8]) {\n"
	"  Y[n:1, k:8, p:8, q:8] = sum(c:3, r:3, s:3) {\n"
	"    %0 = load X[n, c, p + r - 1, q + s - 1] else 0\n"
	"    %1 = load Wt[k, c, r, s]\n"
	"    %2 = mul %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node z = mul(A=%x, B=%zero) -> (Y=%z : f32[1,3,8,8]) {\n"
	"  Y[n:1, c:3, h:8, w:8] = {\n"
	"    %0 = load A[n, c, h, w]\n"
	"    %1 = load B[0]\n"
	"    %2 = mul %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node zr = relu(X=%z) -> (Y=%zr : f32[1,3,8,8]) {\n"
	"  Y[n:1, c:3, h:8, w:8] = {\n"
	"    %0 = load X[n, c, h, w]\n"
	"    %1 = const 0\n"
	"    %2 = max %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node zc = conv2d(X=%zr, Wt=%w) -> (Y=%zc : f32[1,8,8,8]) {\n"
	"  Y[n:1, k:8, p:8, q:8] = sum(c:3, r:3, s:3) {\n"
	"    %0 = load X[n, c, p + r - 1, q + s - 1] else 0\n"
	"    %1 = load Wt[k, c, r, s]\n"
	"    %2 = mul %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node sum = add(A=%conv, B=%zc) -> (Y=%sum : f32[1,8,8,8]) {\n"
	"  Y[n:1, c:8, h:8, w:8] = {\n"
	"    %0 = load A[n, c, h, w]\n"
	"    %1 = load B[n, c, h, w]\n"
	"    %2 = add %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node dead = relu(X=%x) -> (Y=%dead : f32[1,3,8,8]) {\n"
	"  Y[n:1, c:3, h:8, w:8] = {\n"
	"    %0 = load X[n, c, h, w]\n"
	"    %1 = const 0\n"
	"    %2 = max %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node act = relu(X=%sum) -> (Y=%act : f32[1,8,8,8]) {\n"
	"  Y[n:1, c:8, h:8, w:8] = {\n"
	"    %0 = load X[n, c, h, w]\n"
	"    %1 = const 0\n"
	"    %2 = max %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node dw = conv2d(X=%act, Wt=%dww) -> (Y=%dw : f32[1,8,8,8]) {\n"
	"  Y[n:1, k:8, p:8, q:8] = sum(c:1, r:3, s:3) {\n"
	"    %0 = load X[n, k + c, p + r - 1, q + s - 1] else 0\n"
	"    %1 = load Wt[k, c, r, s]\n"
	"    %2 = mul %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node pool = avgpool2d(X=%dw) -> (Y=%pool : f32[1,8,4,4]) {\n"
	"  Y[n:1, c:8, p:4, q:4] = sum(r:2, s:2) {\n"
	"    %0 = load X[n, c, 2*p + r, 2*q + s]\n"
	"    %1 = const 0.25\n"
	"    %2 = mul %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"node flat = flatten(X=%pool) -> (Y=%flat : f32[1,128]) {\n"
	"  Y[n:1, j:128] = {\n"
	"    %0 = load X[n, j / 16, j / 4 % 4, j % 4]\n"
	"  } -> %0\n"
	"}\n"
	"node fc = dense(X=%flat, Wt=%fcw) -> (Y=%fc : f32[1,4]) {\n"
	"  Y[n:1, k:4] = sum(c:128) {\n"
	"    %0 = load X[n, c]\n"
	"    %1 = load Wt[k, c]\n"
	"    %2 = mul %0, %1\n"
	"  } -> %2\n"
	"}\n"
	"output %fc\n";

static gos_module *parse_gir(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_ir_parse("t.gir", text, strlen(text), &d);
	if (!m || d.n_errors) {
		gos_diags_render(&d, stderr);
		fail();
	}
	assert_int_equal(gos_verify(m, &d), 0);
	gos_diags_free(&d);
	return m;
}

static int node_index(const gos_module *m, const char *name)
{
	for (int i = 0; i < m->n_node; i++)
		if (!strcmp(m->nodes[i].name, name))
			return i;
	fail_msg("no node %s", name);
	return -1;
}

static void test_kinds_flops_liveness(void **state)
{
	(void)state;
	gos_module *m = parse_gir(gir);
	gos_cost_target t;
	gos_cost_target_default(&t);
	gos_cost_report r;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_analyze(m, &t, &r, &d), 0);
	gos_diags_free(&d);
	struct { const char *name; gos_cost_kind kind; double flops; int live, fold; } want[] = {
		/* 512 outputs x 27 taps x (mul + add) */
		{"conv", GOS_KIND_CONTRACTION, 512 * 27 * 2, 1, 0},
		{"z", GOS_KIND_ELEMENTWISE, 192, 1, 1},
		{"zr", GOS_KIND_ELEMENTWISE, 192, 1, 1},
		{"zc", GOS_KIND_CONTRACTION, 512 * 27 * 2, 1, 1},
		{"sum", GOS_KIND_ELEMENTWISE, 512, 1, 0},
		{"dead", GOS_KIND_ELEMENTWISE, 192, 0, 0},
		{"act", GOS_KIND_ELEMENTWISE, 512, 1, 0},
		/* depthwise: 512 outputs x 9 taps x 2 */
		{"dw", GOS_KIND_DEPTHWISE, 512 * 9 * 2, 1, 0},
		/* 128 outputs x 4 taps x (mul + add) */
		{"pool", GOS_KIND_POOLING, 128 * 4 * 2, 1, 0},
		{"flat", GOS_KIND_DATAMOVE, 0, 1, 0},
		/* matrix-vector: the weights are not reused -> depthwise kind */
		{"fc", GOS_KIND_DEPTHWISE, 4 * 128 * 2, 1, 0},
	};
	double live_flops = 0;
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
		int i = node_index(m, want[k].name);
		const gos_cost_node *c = &r.v[i];
		if (c->kind != want[k].kind)
			fail_msg("%s: kind %s, want %s", want[k].name, gos_cost_kind_name(c->kind),
			         gos_cost_kind_name(want[k].kind));
		assert_float_equal(c->flops, want[k].flops, 0);
		if (c->live != want[k].live || c->foldable != want[k].fold)
			fail_msg("%s: live %d foldable %d", want[k].name, c->live, c->foldable);
		if (!(c->ms > 0))
			fail_msg("%s: ms %g", want[k].name, c->ms);
		if (want[k].live)
			live_flops += want[k].flops;
	}
	assert_float_equal(r.flops, live_flops, 0);
	/* bytes of conv: x 192 + w 216 + y 512 floats, and zc's 512 that the
	 * fused sum reads in its loop */
	assert_float_equal(r.v[node_index(m, "conv")].bytes, 4.0 * (192 + 216 + 512 + 512), 0);

	/* features: fold leaves z, zr, zc out; dead is never in */
	double xa[GOS_COST_NFEAT], xf[GOS_COST_NFEAT];
	gos_cost_features(&r, 0, xa);
	gos_cost_features(&r, 1, xf);
	int ce = GOS_KIND_ELEMENTWISE * GOS_COST_PER_KIND, cc = GOS_KIND_CONTRACTION * GOS_COST_PER_KIND;
	/* zr fuses into z, sum into conv (conv's only consumer; zc, which
	 * is foldable, is read in its loop) and act into sum; z reads the
	 * model input */
	assert_true(r.v[node_index(m, "zr")].fused && r.v[node_index(m, "act")].fused &&
	            r.v[node_index(m, "sum")].fused);
	assert_false(r.v[node_index(m, "z")].fused || r.v[node_index(m, "dead")].fused);
	assert_float_equal(xa[ce + 3], 1, 0); /* dispatched: z */
	assert_float_equal(xf[ce + 3], 0, 0);
	assert_float_equal(xa[cc + 3], 2, 0);
	assert_float_equal(xf[cc + 3], 1, 0);
	assert_float_equal(xa[cc + 1], 2 * 512 * 27 * 2 * 1e-9, 1e-15);
	double ms = 0;
	for (int k = 0; k < GOS_NKINDS; k++)
		ms += xa[k * GOS_COST_PER_KIND];
	assert_float_equal(ms, r.total_ms, 1e-12);
	gos_cost_report_free(&r);

	/* without fusion every live elementwise node is dispatched */
	t.fuse_elementwise = 0;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_analyze(m, &t, &r, &d), 0);
	gos_diags_free(&d);
	gos_cost_features(&r, 0, xa);
	gos_cost_features(&r, 1, xf);
	assert_float_equal(xa[ce + 3], 4, 0); /* z zr sum act */
	assert_float_equal(xf[ce + 3], 2, 0); /* sum act */
	gos_cost_report_free(&r);
	gos_module_free(m);
}

/* Hard-swish, x * hard_sigmoid(x) after a convolution, then a residual
 * add and a relu, costs what the fuse pass makes of it (one node,
 * conv2d+hard_sigmoid+mul+add+relu): every elementwise node inside the
 * convolution's loop (the sigmoid composed into the multiply, which
 * reads x only), the add reading z there. */
static void test_fused_hard_swish(void **state)
{
	(void)state;
	const char *t = "model m {\n"
	                "  input x: f32[1, 3, 6, 6];\n"
	                "  input z: f32[1, 4, 6, 6];\n"
	                "  c = conv2d(x, param[4, 3, 3, 3], param[4]; pad = 1);\n"
	                "  hs = hard_sigmoid(c; alpha = 0.16666667, beta = 0.5);\n"
	                "  sw = mul(c, hs);\n"
	                "  ad = add(sw, z);\n"
	                "  output y = relu(ad);\n"
	                "}\n";
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("t.gos", t, strlen(t), NULL, &d);
	if (!m)
		gos_diags_render(&d, stderr);
	assert_non_null(m);
	gos_cost_target tg;
	gos_cost_target_default(&tg);
	gos_cost_report r;
	assert_int_equal(gos_cost_analyze(m, &tg, &r, &d), 0);
	int hs = -1, sw = -1, sum = -1, y = -1;
	for (int i = 0; i < m->n_node; i++) {
		const char *o = m->vals[m->nodes[i].out[0]].name;
		if (!strcmp(o, "hs"))
			hs = i;
		else if (!strcmp(o, "sw"))
			sw = i;
		else if (!strcmp(o, "ad"))
			sum = i;
		else if (!strcmp(o, "y"))
			y = i;
	}
	assert_true(hs >= 0 && sw >= 0 && sum >= 0 && y >= 0);
	assert_true(r.v[hs].fused && r.v[sw].fused && r.v[sum].fused && r.v[y].fused);
	int c = node_index(m, "c");
	assert_true(c >= 0);
	/* x 108 + w 108 + b 4 + y 144 floats, and z's 144 */
	assert_float_equal(r.v[c].bytes, 4.0 * (108 + 108 + 4 + 144 + 144), 0);
	gos_cost_report_free(&r);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* Profile CSVs are RFC 4180: a quoted node name may hold commas, quotes
 * ("") and line breaks; any field may be quoted, blanks around a field are
 * dropped; a row spanning lines keeps the line count right for the
 * errors after it; an unterminated quote, text after a closing quote and
 * a NUL byte are errors at file:line(:col). */
static void test_profile_parse_quoted(void **state)
{
	(void)state;
	static const char *odd =
		"gir 1\n"
		"model \"m,1\"\n"
		"input %x : f32[1,4]\n"
		"node \"a,\\\"b\\\"\\nc\" = relu(X=%x) -> (Y=%y : f32[1,4]) {\n"
		"  Y[n:1, j:4] = {\n"
		"    %0 = load X[n, j]\n"
		"    %1 = const 0\n"
		"    %2 = max %0, %1\n"
		"  } -> %2\n"
		"}\n"
		"node flat = flatten(X=%y) -> (Y=%z : f32[1,4]) {\n"
		"  Y[n:1, j:4] = {\n"
		"    %0 = load X[n, j]\n"
		"  } -> %0\n"
		"}\n"
		"output %z\n";
	gos_module *m = parse_gir(odd);
	assert_string_equal(m->nodes[0].name, "a,\"b\"\nc");
	gos_cost_target t;
	gos_cost_target_default(&t);
	gos_cost_report r;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_analyze(m, &t, &r, &d), 0);
	const char *csv = "model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share\r\n"
	                  "\"m,1\",\"a,\"\"b\"\"\nc\",relu,elementwise,20,0.5,0.4,4,0,50\r\n"
	                  " \"m,1\" , flat ,\"flat, \"\"moved\"\"\", datamove ,20,\"0.25\",0.2,0,0,25\n"
	                  "\"m,1\",(total),-,-,20,1,0.9,4,0,100\n";
	gos_cost_prof_node *rows;
	int n;
	double total;
	assert_int_equal(gos_cost_profile_parse("q.csv", csv, strlen(csv), m, &r, &rows, &n,
	                                        &total, &d), 0);
	assert_int_equal(n, 2);
	assert_float_equal(rows[0].measured_ms, 0.5, 0);
	assert_int_equal(rows[0].kind, r.v[0].kind);
	assert_float_equal(rows[1].measured_ms, 0.25, 0);
	assert_float_equal(total, 1, 0);
	free(rows);
	assert_int_equal(d.n_errors, 0);
	static const char nul_row[] = "model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share\n"
	                              "\"m,1\",flat,f,datamove,20,0.1\0,0.1,0,0,1\n";
	struct { const char *text; size_t len; int line, col; const char *msg; } bad[] = {
		/* the quote opened on line 3 never closes */
		{"model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share\n"
		 "\"m,1\",flat,f,datamove,20,0.1,0.1,0,0,1\n"
		 "\"m,1\",\"a,b,relu,elementwise,20,0.1,0.1,0,0,1\n",
		 0, 3, 7, "unterminated quoted field"},
		{"model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share\n"
		 "\"m,1\"x,flat,f,datamove,20,0.1,0.1,0,0,1\n",
		 0, 2, 6, "text after the closing quote"},
		/* the row of line 2 spans lines 2-3: the bad row is line 4 */
		{"model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share\n"
		 "\"m,1\",\"a,\"\"b\"\"\nc\",relu,elementwise,20,0.5,0.4,4,0,50\n"
		 "\"m,1\",\"no such\",relu,elementwise,20,0.5,0.4,4,0,50\n",
		 0, 4, 1, "no node 'no such'"},
		{nul_row, sizeof nul_row - 1, 2, 1, "NUL byte"},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		gos_diags_free(&d);
		gos_diags_init(&d);
		size_t len = bad[k].len ? bad[k].len : strlen(bad[k].text);
		assert_int_equal(gos_cost_profile_parse("bad.csv", bad[k].text, len, m, &r, &rows, &n,
		                                        &total, &d), -1);
		assert_null(rows);
		assert_int_equal(d.n_errors, 1);
		if (d.v[0].loc.line != bad[k].line || d.v[0].loc.col != bad[k].col ||
		    !strstr(d.v[0].msg, bad[k].msg))
			fail_msg("case %zu: %d:%d: %s", k, d.v[0].loc.line, d.v[0].loc.col, d.v[0].msg);
	}
	gos_diags_free(&d);
	gos_cost_report_free(&r);
	gos_module_free(m);
}

static void test_roofline(void **state)
{
	(void)state;
	/* One contraction on a target with known numbers: peak 10 GFLOP/s,
	 * eff 0.5, no overhead, everything in L1 at 1000 GB/s: compute-bound,
	 * 27648 flops / 5e9 = 5.5296 us. */
	gos_module *m = parse_gir(gir);
	const char *tt = "name = toy\nclock_ghz = 1\npeak_gflops = 10\nl1_kb = 1024\n"
	                 "bw_l1_gbs = 1000\noverhead_us = 0\neff_contraction = 0.5\n";
	gos_cost_target t;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_target_parse(&t, "toy.target", tt, strlen(tt), &d), 0);
	gos_cost_report r;
	assert_int_equal(gos_cost_analyze(m, &t, &r, &d), 0);
	assert_float_equal(r.v[node_index(m, "conv")].ms, 27648 / 5e9 * 1e3, 1e-12);
	/* flatten moves 1 KB at 1000 GB/s: 1.024 ns */
	assert_float_equal(r.v[node_index(m, "flat")].ms, 1024 / 1e12 * 1e3, 1e-15);
	gos_cost_report_free(&r);
	gos_diags_free(&d);
	gos_module_free(m);
}

static void test_predict_module(void **state)
{
	(void)state;
	/* gos_cost_predict: the analytic total without a model; with a model
	 * whose only column is the contraction ms (y = 2 + 3 * that), that
	 * law; a proxy-prior model without a measurement is an error. */
	gos_module *m = parse_gir(gir);
	gos_cost_target t;
	gos_cost_target_default(&t);
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_report r;
	assert_int_equal(gos_cost_analyze(m, &t, &r, &d), 0);
	double conv_ms = 0; /* live contractions, foldable ones included */
	for (int i = 0; i < r.n; i++)
		if (r.v[i].live && r.v[i].kind == GOS_KIND_CONTRACTION)
			conv_ms += r.v[i].ms;
	double ms;
	assert_int_equal(gos_cost_predict(m, &t, NULL, NAN, &ms, &d), 0);
	assert_float_equal(ms, r.total_ms, 1e-15);
	const char *text = "gos-cost-model 1\ntarget generic\nfold 0\nprior analytic\n"
	                   "intercept 2\ncol contraction_ms 0.5 2 6\n";
	gos_cost_model fm;
	assert_int_equal(gos_cost_model_load(&fm, "f.txt", text, strlen(text), &d), 0);
	assert_int_equal(gos_cost_predict(m, &t, &fm, NAN, &ms, &d), 0);
	assert_float_equal(ms, 2 + 6 * (conv_ms - 0.5) / 2, 1e-12);
	fm.fold = 1; /* the zero branch's convolution is left out */
	double conv_fold = conv_ms - r.v[node_index(m, "zc")].ms;
	assert_int_equal(gos_cost_predict(m, &t, &fm, NAN, &ms, &d), 0);
	assert_float_equal(ms, 2 + 6 * (conv_fold - 0.5) / 2, 1e-12);
	assert_int_equal(d.n_errors, 0);
	fm.prior_proxy = 1;
	assert_int_equal(gos_cost_predict(m, &t, &fm, NAN, &ms, &d), -1);
	assert_int_equal(d.n_errors, 1);
	gos_cost_report_free(&r);
	gos_diags_free(&d);
	gos_module_free(m);
}

static void test_select(void **state)
{
	(void)state;
	/* 100 candidates in three groups: 60 cheap, 25 expensive (more
	 * contraction work), 15 cheap ones carrying foldable work (x_all >
	 * x_fold only). Choosing 3 takes one of each group, the first from the
	 * largest (the medoid of the pool); choosing 1 takes that medoid. */
	enum { N = 100 };
	gos_cost_sample s[N];
	memset(s, 0, sizeof s);
	uint64_t seed = 5;
	int c = GOS_KIND_CONTRACTION * GOS_COST_PER_KIND;
	for (int i = 0; i < N; i++) {
		int g = i < 60 ? 0 : i < 85 ? 1 : 2;
		s[i].x_fold[c] = (g == 1 ? 10 : 1) + 0.1 * urand(&seed);
		s[i].x_fold[c + 1] = 0.01 * s[i].x_fold[c];
		memcpy(s[i].x_all, s[i].x_fold, sizeof s[i].x_all);
		if (g == 2)
			s[i].x_all[c] += 5 + 0.1 * urand(&seed);
	}
	/* shuffle the groups' order so index order does not decide */
	for (int i = N - 1; i > 0; i--) {
		int j = (int)(urand(&seed) * (i + 1));
		gos_cost_sample t = s[i];
		s[i] = s[j];
		s[j] = t;
	}
	int chosen[N], groups = 0;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_select(s, N, 3, chosen, &d), 0);
	for (int k = 0; k < 3; k++) {
		const gos_cost_sample *p = &s[chosen[k]];
		int g = p->x_fold[c] > 5 ? 1 : p->x_all[c] > p->x_fold[c] ? 2 : 0;
		groups |= 1 << g;
		if (k == 0)
			assert_int_equal(g, 0);
	}
	assert_int_equal(groups, 7);
	int one;
	assert_int_equal(gos_cost_select(s, N, 1, &one, &d), 0);
	assert_int_equal(one, chosen[0]);
	assert_int_equal(d.n_errors, 0);
	assert_int_equal(gos_cost_select(s, N, N + 1, chosen, &d), -1);
	assert_int_equal(d.n_errors, 1);
	gos_diags_free(&d);
}

/* ---- target files ------------------------------------------------------------ */

static void test_target_parse(void **state)
{
	(void)state;
	const char *text = "# a board\n"
	                   "name = board\n"
	                   "triple = aarch64-linux-gnu   # backend key, ignored here\n"
	                   "clock_ghz = 1.5\n"
	                   "vector_bits = 128\n"
	                   "l2_kb = 512\n"
	                   "bandwidth_gbs = 4\n"
	                   "eff_pooling = 0.05\n";
	gos_cost_target t;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_cost_target_parse(&t, "b.target", text, strlen(text), &d), 0);
	assert_string_equal(t.name, "board");
	/* peak = clock x 4 lanes x 2 (FMA) x 2 pipes */
	assert_float_equal(t.peak_gflops, 1.5 * 4 * 2 * 2, 1e-12);
	assert_float_equal(t.bw_l1_gbs, 1.5 * 16 * 2, 1e-12);
	assert_float_equal(t.l2_kb, 512, 0);
	assert_float_equal(t.dram_gbs, 4, 0);
	assert_float_equal(t.eff[GOS_KIND_POOLING], 0.05, 0);
	assert_float_equal(t.eff[GOS_KIND_CONTRACTION], 0.6, 0);

	const char *bad = "clock_ghz = fast\nnonsense line\ncores = 0\neff_depthwise = 2\n";
	assert_int_equal(gos_cost_target_parse(&t, "bad.target", bad, strlen(bad), &d), -1);
	assert_int_equal(d.n_errors, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(d.v[i].loc.line, i + 1);
	gos_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rank_ties),
		cmocka_unit_test(test_fused_hard_swish),
		cmocka_unit_test(test_spearman_kendall),
		cmocka_unit_test(test_rank_corr_with_ties),
		cmocka_unit_test(test_least_squares_exact),
		cmocka_unit_test(test_nnls),
		cmocka_unit_test(test_nonneg_fit),
		cmocka_unit_test(test_median_ignores_outliers),
		cmocka_unit_test(test_upper_quantile),
		cmocka_unit_test(test_ridge_shrinks),
		cmocka_unit_test(test_fit_chooses_folding),
		cmocka_unit_test(test_fit_errors),
		cmocka_unit_test(test_fit_chooses_family),
		cmocka_unit_test(test_fit_fold_unknown),
		cmocka_unit_test(test_fit_profile),
		cmocka_unit_test(test_profile_parse_quoted),
		cmocka_unit_test(test_model_file_round_trip),
		cmocka_unit_test(test_kinds_flops_liveness),
		cmocka_unit_test(test_roofline),
		cmocka_unit_test(test_predict_module),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_target_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
