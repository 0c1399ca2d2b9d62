/* test_prelude_ops.c -- every prelude operator (frontend/prelude.gos) run on
 * the reference interpreter and compared with values computed here
 * independently: naive C reference loops (in double) over deterministic
 * inputs, plus small hand-worked cases with literal expected numbers.
 *
 * Each case builds a tiny model from .gos text (every operand is a model
 * input, so the test chooses all the data), loads it with
 * gos_gos_load_text, materialises weights, runs gos_interp_run and checks
 * the output shape and values (tolerance ~1e-5 relative; exact for
 * operators that only move or select data). A few cases use seeded
 * parameters (checked against the materialised data) and the operator
 * library (gos_oplib_apply). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "frontend/frontend.h"

/* ---- tensors and deterministic data ----------------------------------- */

static uint32_t rng_state = 12345u;

static void rng_reset(uint32_t s)
{
	rng_state = s ? s : 1u;
}

/* xorshift32: independent of the library's RNG. Uniform in [lo, hi). */
static float frand(float lo, float hi)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return lo + (hi - lo) * (float)((double)(x >> 8) / 16777216.0);
}

static int64_t numel(const gos_tensor *t)
{
	return gos_numel(t->rank, t->shape);
}

/* A tensor of the given shape (rank ints follow), zero-filled. */
static gos_tensor tnew(int rank, ...)
{
	gos_tensor t = {rank, {0}, NULL};
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank; i++)
		t.shape[i] = va_arg(ap, int);
	va_end(ap);
	t.data = calloc((size_t)numel(&t) + 1, sizeof(float));
	assert_non_null(t.data);
	return t;
}

/* Fills t with uniform values in [lo, hi). Returns t. */
static gos_tensor tfill(gos_tensor t, float lo, float hi)
{
	for (int64_t i = 0; i < numel(&t); i++)
		t.data[i] = frand(lo, hi);
	return t;
}

/* Random tensor in [-1, 1). */
#define TR(...) tfill(tnew(__VA_ARGS__), -1.0f, 1.0f)

/* A tensor holding literal values. */
static gos_tensor tlit(gos_tensor t, const float *v)
{
	memcpy(t.data, v, sizeof(float) * (size_t)numel(&t));
	return t;
}

/* Row-major strides of a shape. */
static void strides(int rank, const int64_t *shape, int64_t *st)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		st[i] = s;
		s *= shape[i];
	}
}

/* Multi-index of linear index i in shape. */
static void unravel(int64_t i, int rank, const int64_t *shape, int64_t *idx)
{
	for (int d = rank - 1; d >= 0; d--) {
		idx[d] = i % shape[d];
		i /= shape[d];
	}
}

/* ---- running a model -------------------------------------------------- */

typedef struct arg {
	const char *name;
	gos_tensor t;
} arg;

static char *render(const gos_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	gos_diags_render(d, f);
	fclose(f);
	return buf;
}

/* Loads .gos text; fails the test with the diagnostics on error. */
static gos_module *load_ok(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("ops.gos", text, strlen(text), NULL, &d);
	if (!m || d.n_errors) {
		char *r = render(&d);
		print_error("unexpected load failure for\n%s\n%s\n", text, r);
		free(r);
		gos_diags_free(&d);
		gos_module_free(m);
		fail();
	}
	int nv = gos_verify(m, &d);
	if (nv) {
		char *r = render(&d);
		print_error("module does not verify:\n%s\n", r);
		free(r);
		fail();
	}
	gos_diags_free(&d);
	return m;
}

/* Materialises m and runs it with the inputs matched to args by name;
 * outs[] receives m->n_output tensors. */
static void run_module(gos_module *m, int n, const arg *args, gos_tensor *outs)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_tensor ins[16];
	int k = 0;
	for (int v = 0; v < m->n_val; v++) {
		if (m->vals[v].kind != GOS_VAL_INPUT)
			continue;
		int j = 0;
		while (j < n && strcmp(args[j].name, m->vals[v].name))
			j++;
		if (j == n)
			fail_msg("no data for input '%s'", m->vals[v].name);
		assert_true(k < 16);
		ins[k++] = args[j].t;
	}
	int rc = gos_module_materialize(m, &d);
	if (!rc)
		rc = gos_interp_run(m, ins, outs, &d);
	if (rc || d.n_errors) {
		char *r = render(&d);
		print_error("run failed:\n%s\n", r);
		free(r);
		fail();
	}
	gos_diags_free(&d);
}

/* The model
 *   model m { input a: f32[...]; ...; output y = EXPR; }
 * over the inputs args, run; returns the output (caller frees data). */
static gos_tensor run_expr(const char *expr, int n, const arg *args)
{
	char text[8192];
	size_t u = (size_t)snprintf(text, sizeof text, "model m {\n");
	for (int i = 0; i < n; i++) {
		u += (size_t)snprintf(text + u, sizeof text - u, "  input %s: f32[", args[i].name);
		for (int j = 0; j < args[i].t.rank; j++)
			u += (size_t)snprintf(text + u, sizeof text - u, "%s%lld", j ? ", " : "",
			                      (long long)args[i].t.shape[j]);
		u += (size_t)snprintf(text + u, sizeof text - u, "];\n");
	}
	u += (size_t)snprintf(text + u, sizeof text - u, "  output y = %s;\n}\n", expr);
	assert_true(u < sizeof text);
	gos_module *m = load_ok(text);
	assert_int_equal(m->n_output, 1);
	gos_tensor out[2];
	run_module(m, n, args, out);
	gos_module_free(m);
	return out[0];
}

/* Checks got against ref (numel of the expected shape, rank/shape given):
 * |got - ref| <= tol * (1 + |ref|) element by element; tol 0 = exact
 * (infinities must match exactly either way). Frees got.data. */
static void check(const char *what, gos_tensor *got, int rank, const int64_t *shape,
                  const double *ref, double tol)
{
	if (got->rank != rank) {
		print_error("%s: rank %d, expected %d\n", what, got->rank, rank);
		fail();
	}
	for (int i = 0; i < rank; i++)
		if (got->shape[i] != shape[i]) {
			print_error("%s: dimension %d is %lld, expected %lld\n", what, i,
			            (long long)got->shape[i], (long long)shape[i]);
			fail();
		}
	int64_t n = gos_numel(rank, shape);
	int bad = 0;
	for (int64_t i = 0; i < n; i++) {
		double g = got->data[i], r = ref[i];
		int ok;
		if (isinf(r) || isinf(g))
			ok = g == r;
		else if (tol == 0)
			ok = (float)r == (float)g;
		else
			ok = fabs(g - r) <= tol * (1.0 + fabs(r));
		if (!ok && bad++ < 5)
			print_error("%s: element %lld is %.9g, expected %.9g\n", what, (long long)i, g, r);
	}
	free(got->data);
	got->data = NULL;
	if (bad) {
		print_error("%s: %d of %lld elements differ\n", what, bad, (long long)n);
		fail();
	}
}

/* The default tolerance of check() for computed (not moved) values. */
#define TOL 1e-5

static double *dalloc(int64_t n)
{
	double *p = calloc((size_t)n + 1, sizeof(double));
	assert_non_null(p);
	return p;
}

static void tfree(gos_tensor *t)
{
	free(t->data);
	t->data = NULL;
}

/* ---- convolution -------------------------------------------------------- */

/* Naive conv2d (ONNX Conv): x[N,C,H,W], w[K,C/groups,R,S], b[K] or NULL.
 * Writes the output shape to os and returns the values. */
static double *ref_conv2d(const gos_tensor *x, const gos_tensor *w, const gos_tensor *b,
                          int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw,
                          int groups, int64_t *os)
{
	int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
	int64_t K = w->shape[0], Cg = w->shape[1], R = w->shape[2], S = w->shape[3];
	assert_int_equal(C, Cg * groups);
	int64_t P = (H + pt + pb - dh * (R - 1) - 1) / sh + 1;
	int64_t Q = (W + pl + pr - dw * (S - 1) - 1) / sw + 1;
	os[0] = N, os[1] = K, os[2] = P, os[3] = Q;
	double *y = dalloc(N * K * P * Q);
	for (int64_t n = 0; n < N; n++)
		for (int64_t k = 0; k < K; k++) {
			int64_t g = k / (K / groups);
			for (int64_t p = 0; p < P; p++)
				for (int64_t q = 0; q < Q; q++) {
					double acc = b ? b->data[k] : 0.0;
					for (int64_t c = 0; c < Cg; c++)
						for (int64_t r = 0; r < R; r++)
							for (int64_t s = 0; s < S; s++) {
								int64_t ih = p * sh + r * dh - pt, iw = q * sw + s * dw - pl;
								if (ih < 0 || ih >= H || iw < 0 || iw >= W)
									continue;
								acc += (double)x->data[((n * C + g * Cg + c) * H + ih) * W + iw] *
								       w->data[((k * Cg + c) * R + r) * S + s];
							}
					y[((n * K + k) * P + p) * Q + q] = acc;
				}
		}
	return y;
}

typedef struct convcase {
	int N, C, H, W, K, R, S, groups;
	int sh, sw, pt, pl, pb, pr, dh, dw;
	int bias;
	const char *attrs; /* the attribute text of the call */
} convcase;

static void run_conv2d_case(const convcase *cc)
{
	gos_tensor x = TR(4, cc->N, cc->C, cc->H, cc->W);
	gos_tensor w = TR(4, cc->K, cc->C / cc->groups, cc->R, cc->S);
	gos_tensor b = TR(1, cc->K);
	arg a[3] = {{"x", x}, {"w", w}, {"b", b}};
	char expr[256];
	snprintf(expr, sizeof expr, "conv2d(x, w%s%s%s)", cc->bias ? ", b" : "",
	         cc->attrs[0] ? "; " : "", cc->attrs);
	int64_t os[4];
	double *ref = ref_conv2d(&x, &w, cc->bias ? &b : NULL, cc->sh, cc->sw, cc->pt, cc->pl,
	                         cc->pb, cc->pr, cc->dh, cc->dw, cc->groups, os);
	gos_tensor y = run_expr(expr, cc->bias ? 3 : 2, a);
	check(expr, &y, 4, os, ref, TOL);
	free(ref);
	tfree(&x);
	tfree(&w);
	tfree(&b);
}

static void test_conv2d(void **state)
{
	(void)state;
	rng_reset(1);
	static const convcase cases[] = {
		/* N C H W K R S g  sh sw pt pl pb pr dh dw bias attrs */
		{1, 3, 6, 5, 4, 3, 3, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, ""},
		{2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, ""},
		{1, 2, 7, 7, 3, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, "stride = 2, pad = 1"},
		{1, 2, 8, 8, 3, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, "stride = 2, pad = 1"},
		{1, 2, 7, 9, 2, 3, 2, 1, 2, 1, 0, 1, 2, 3, 1, 2, 1,
		 "stride = [2, 1], pad = [0, 1, 2, 3], dilation = [1, 2]"},
		{2, 3, 9, 8, 2, 3, 3, 1, 1, 3, 3, 0, 1, 2, 2, 1, 0,
		 "stride = [1, 3], pad = [3, 0, 1, 2], dilation = [2, 1]"},
		{1, 2, 9, 9, 3, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2, 1, "pad = 2, dilation = 2"},
		{1, 2, 5, 5, 2, 5, 5, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, ""}, /* kernel = input */
		{1, 3, 4, 4, 5, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, ""}, /* 1x1 */
		{1, 3, 4, 4, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 0, "stride = 2, pad = 1"},
		/* grouped: C = 4 in 2 groups of 2, K = 6 */
		{2, 4, 6, 6, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, "pad = 1, groups = 2"},
		{1, 6, 7, 5, 4, 3, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1, 0,
		 "stride = [2, 1], pad = [1, 0, 0, 1], groups = 2"},
		{1, 6, 6, 6, 9, 2, 2, 3, 1, 1, 0, 0, 0, 0, 2, 2, 1, "dilation = 2, groups = 3"},
		/* depthwise: C = K = groups, Cg = 1 */
		{1, 5, 7, 7, 5, 3, 3, 5, 2, 2, 1, 1, 1, 1, 1, 1, 1, "stride = 2, pad = 1, groups = 5"},
		{2, 4, 6, 6, 4, 3, 3, 4, 1, 1, 1, 1, 1, 1, 1, 1, 0, "pad = 1, groups = 4"},
		{1, 3, 8, 8, 3, 5, 5, 3, 1, 1, 2, 2, 2, 2, 1, 1, 1, "pad = 2, groups = 3"},
		{1, 4, 9, 9, 4, 3, 3, 4, 1, 2, 0, 2, 2, 0, 2, 1, 1,
		 "stride = [1, 2], pad = [0, 2, 2, 0], dilation = [2, 1], groups = 4"},
		/* depthwise with a channel multiplier: K = 2C, Cg = 1 */
		{1, 3, 5, 5, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "pad = 1, groups = 3"},
		/* groups = C but K = C / ... : K = 2, C = 2, groups = 2 */
		{1, 2, 4, 4, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, "groups = 2"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_conv2d_case(&cases[i]);
}

/* conv2d on a hand-worked case: 1..9 in a 3x3 image, a 3x3 kernel of
 * ones, pad 1: each output is the sum of the neighbourhood. */
static void test_conv2d_hand(void **state)
{
	(void)state;
	const float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	const float wv[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	arg a[3] = {{"x", tlit(tnew(4, 1, 1, 3, 3), xv)}, {"w", tlit(tnew(4, 1, 1, 3, 3), wv)},
	            {"b", tnew(1, 1)}};
	a[2].t.data[0] = 0.5f;
	gos_tensor y = run_expr("conv2d(x, w; pad = 1)", 2, a);
	const double e1[9] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
	check("conv2d 3x3 ones pad 1", &y, 4, (int64_t[]){1, 1, 3, 3}, e1, 0);
	/* stride 2 with bias: corners only */
	y = run_expr("conv2d(x, w, b; pad = 1, stride = 2)", 3, a);
	const double e2[4] = {12.5, 16.5, 24.5, 28.5};
	check("conv2d 3x3 ones pad 1 stride 2 bias", &y, 4, (int64_t[]){1, 1, 2, 2}, e2, 0);
	/* dilation 2 without padding on a 3x3 image: only the corners */
	y = run_expr("conv2d(x, w; dilation = 2, pad = 2)", 2, a);
	/* output 3x3; centre reads corners 1+3+7+9 = 20 (+ centre 5 + edges) */
	/* position (1,1): rows -1,1,3 cols -1,1,3 -> only (1,1) = 5 */
	/* position (0,0): rows -2,0,2, cols -2,0,2 -> (0,0),(0,2),(2,0),(2,2) */
	const double e3[9] = {1 + 3 + 7 + 9, 2 + 8, 1 + 3 + 7 + 9, 4 + 6, 5, 4 + 6,
	                      1 + 3 + 7 + 9, 2 + 8, 1 + 3 + 7 + 9};
	check("conv2d dilation 2 pad 2", &y, 4, (int64_t[]){1, 1, 3, 3}, e3, 0);
	for (int i = 0; i < 3; i++)
		tfree(&a[i].t);
}

static void test_conv1d(void **state)
{
	(void)state;
	rng_reset(2);
	static const struct {
		int N, C, L, K, R, groups, stride, p0, p1, dil, bias;
		const char *attrs;
	} cases[] = {
		{1, 3, 10, 4, 3, 1, 1, 0, 0, 1, 0, ""},
		{2, 3, 10, 4, 3, 1, 1, 0, 0, 1, 1, ""},
		{1, 2, 11, 3, 3, 1, 2, 1, 1, 1, 1, "stride = 2, pad = 1"},
		{1, 2, 11, 3, 3, 1, 1, 1, 2, 2, 0, "pad = [1, 2], dilation = 2"},
		{2, 4, 12, 6, 2, 2, 3, 2, 0, 1, 1, "stride = 3, pad = [2, 0], groups = 2"},
		{1, 4, 9, 4, 3, 4, 1, 1, 1, 1, 1, "pad = 1, groups = 4"},        /* depthwise */
		{1, 4, 16, 4, 5, 4, 2, 4, 3, 2, 0, "stride = 2, pad = [4, 3], dilation = 2, groups = 4"},
		{1, 3, 8, 6, 3, 3, 1, 1, 1, 1, 1, "pad = 1, groups = 3"},        /* multiplier 2 */
		{1, 2, 4, 2, 4, 1, 1, 0, 0, 1, 1, ""},                           /* kernel = input */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const int N = cases[i].N, C = cases[i].C, L = cases[i].L, K = cases[i].K,
		          R = cases[i].R, G = cases[i].groups;
		gos_tensor x = TR(3, N, C, L), w = TR(3, K, C / G, R), b = TR(1, K);
		/* the reference: conv2d with H = 1 */
		gos_tensor x4 = x, w4 = w;
		x4.rank = 4;
		x4.shape[0] = N, x4.shape[1] = C, x4.shape[2] = 1, x4.shape[3] = L;
		w4.rank = 4;
		w4.shape[0] = K, w4.shape[1] = C / G, w4.shape[2] = 1, w4.shape[3] = R;
		int64_t os[4];
		double *ref = ref_conv2d(&x4, &w4, cases[i].bias ? &b : NULL, 1, cases[i].stride, 0,
		                         cases[i].p0, 0, cases[i].p1, 1, cases[i].dil, G, os);
		char expr[256];
		snprintf(expr, sizeof expr, "conv1d(x, w%s%s%s)", cases[i].bias ? ", b" : "",
		         cases[i].attrs[0] ? "; " : "", cases[i].attrs);
		arg a[3] = {{"x", x}, {"w", w}, {"b", b}};
		gos_tensor y = run_expr(expr, cases[i].bias ? 3 : 2, a);
		check(expr, &y, 3, (int64_t[]){os[0], os[1], os[3]}, ref, TOL);
		free(ref);
		tfree(&x);
		tfree(&w);
		tfree(&b);
	}
	/* hand-worked: [1 2 3 4] * [1 0 -1], pad 1 -> [-2 -2 -2 3] */
	const float xv[4] = {1, 2, 3, 4}, wv[3] = {1, 0, -1};
	arg a[2] = {{"x", tlit(tnew(3, 1, 1, 4), xv)}, {"w", tlit(tnew(3, 1, 1, 3), wv)}};
	gos_tensor y = run_expr("conv1d(x, w; pad = 1)", 2, a);
	const double e[4] = {-2, -2, -2, 3};
	check("conv1d hand", &y, 3, (int64_t[]){1, 1, 4}, e, 0);
	tfree(&a[0].t);
	tfree(&a[1].t);
}

/* ---- dense, matmul -------------------------------------------------------- */

static void test_dense(void **state)
{
	(void)state;
	rng_reset(3);
	for (int bias = 0; bias < 2; bias++) {
		const int N = 3, C = 7, K = 5;
		gos_tensor x = TR(2, N, C), w = TR(2, K, C), b = TR(1, K);
		double *ref = dalloc(N * K);
		for (int n = 0; n < N; n++)
			for (int k = 0; k < K; k++) {
				double s = bias ? b.data[k] : 0;
				for (int c = 0; c < C; c++)
					s += (double)x.data[n * C + c] * w.data[k * C + c];
				ref[n * K + k] = s;
			}
		arg a[3] = {{"x", x}, {"w", w}, {"b", b}};
		gos_tensor y = run_expr(bias ? "dense(x, w, b)" : "dense(x, w)", 2 + bias, a);
		check(bias ? "dense bias" : "dense", &y, 2, (int64_t[]){N, K}, ref, TOL);
		free(ref);
		tfree(&x);
		tfree(&w);
		tfree(&b);
	}
	/* hand-worked: [1 2] . W^T + b, W = [[1,0],[0,1],[1,1]], b = [.5, 0, -1] */
	const float xv[2] = {1, 2}, wv[6] = {1, 0, 0, 1, 1, 1}, bv[3] = {0.5f, 0, -1};
	arg a[3] = {{"x", tlit(tnew(2, 1, 2), xv)}, {"w", tlit(tnew(2, 3, 2), wv)},
	            {"b", tlit(tnew(1, 3), bv)}};
	gos_tensor y = run_expr("dense(x, w, b)", 3, a);
	const double e[3] = {1.5, 2, 2};
	check("dense hand", &y, 2, (int64_t[]){1, 3}, e, 0);
	for (int i = 0; i < 3; i++)
		tfree(&a[i].t);
}

/* numpy broadcasting of two shapes (right-aligned); returns the rank. */
static int bcast_shape(int ra, const int64_t *a, int rb, const int64_t *b, int64_t *out)
{
	int r = ra > rb ? ra : rb;
	for (int i = 0; i < r; i++) {
		int ia = i - (r - ra), ib = i - (r - rb);
		int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
		assert_true(da == db || da == 1 || db == 1);
		out[i] = da > db ? da : db;
	}
	return r;
}

/* Offset in t of the output multi-index idx (rank r), broadcasting. */
static int64_t bcast_off(const gos_tensor *t, int r, const int64_t *idx)
{
	int64_t st[GOS_MAX_RANK], o = 0;
	strides(t->rank, t->shape, st);
	for (int d = 0; d < t->rank; d++) {
		int64_t i = idx[d + r - t->rank];
		o += (t->shape[d] == 1 ? 0 : i) * st[d];
	}
	return o;
}

static void test_matmul(void **state)
{
	(void)state;
	rng_reset(4);
	static const struct {
		int ra, a[5], rb, b[5];
	} cases[] = {
		{2, {3, 4}, 2, {4, 5}},
		{3, {2, 3, 4}, 3, {2, 4, 5}},
		{3, {2, 3, 4}, 2, {4, 5}},
		{2, {3, 4}, 3, {2, 4, 5}},
		{4, {2, 1, 3, 4}, 3, {5, 4, 2}},
		{4, {1, 3, 2, 4}, 4, {2, 1, 4, 3}},
		{2, {1, 6}, 2, {6, 1}},
	};
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		gos_tensor A = tnew(0), B = tnew(0);
		free(A.data);
		free(B.data);
		A.rank = cases[ci].ra;
		B.rank = cases[ci].rb;
		for (int i = 0; i < A.rank; i++)
			A.shape[i] = cases[ci].a[i];
		for (int i = 0; i < B.rank; i++)
			B.shape[i] = cases[ci].b[i];
		A.data = calloc((size_t)numel(&A), sizeof(float));
		B.data = calloc((size_t)numel(&B), sizeof(float));
		tfill(A, -1, 1);
		tfill(B, -1, 1);
		int64_t M = A.shape[A.rank - 2], K = A.shape[A.rank - 1], Nn = B.shape[B.rank - 1];
		/* batch shapes */
		gos_tensor Ab = A, Bb = B;
		Ab.rank -= 2;
		Bb.rank -= 2;
		int64_t bs[GOS_MAX_RANK], os[GOS_MAX_RANK];
		int br = bcast_shape(Ab.rank, Ab.shape, Bb.rank, Bb.shape, bs);
		memcpy(os, bs, sizeof(int64_t) * (size_t)br);
		os[br] = M;
		os[br + 1] = Nn;
		int64_t nb = gos_numel(br, bs);
		double *ref = dalloc(nb * M * Nn);
		int64_t idx[GOS_MAX_RANK];
		for (int64_t bi = 0; bi < nb; bi++) {
			unravel(bi, br, bs, idx);
			/* offsets of the batch element in A and B (in matrices) */
			int64_t oa = 0, ob = 0;
			if (Ab.rank) {
				int64_t st[GOS_MAX_RANK];
				strides(Ab.rank, Ab.shape, st);
				for (int d = 0; d < Ab.rank; d++)
					oa += (Ab.shape[d] == 1 ? 0 : idx[d + br - Ab.rank]) * st[d];
			}
			if (Bb.rank) {
				int64_t st[GOS_MAX_RANK];
				strides(Bb.rank, Bb.shape, st);
				for (int d = 0; d < Bb.rank; d++)
					ob += (Bb.shape[d] == 1 ? 0 : idx[d + br - Bb.rank]) * st[d];
			}
			const float *pa = A.data + oa * M * K, *pb = B.data + ob * K * Nn;
			for (int64_t i = 0; i < M; i++)
				for (int64_t j = 0; j < Nn; j++) {
					double s = 0;
					for (int64_t k = 0; k < K; k++)
						s += (double)pa[i * K + k] * pb[k * Nn + j];
					ref[(bi * M + i) * Nn + j] = s;
				}
		}
		arg a[2] = {{"a", A}, {"b", B}};
		gos_tensor y = run_expr("matmul(a, b)", 2, a);
		char what[64];
		snprintf(what, sizeof what, "matmul case %zu", ci);
		check(what, &y, br + 2, os, ref, TOL);
		free(ref);
		tfree(&A);
		tfree(&B);
	}
	/* hand-worked 2x2 */
	const float av[4] = {1, 2, 3, 4}, bv[4] = {5, 6, 7, 8};
	arg a[2] = {{"a", tlit(tnew(2, 2, 2), av)}, {"b", tlit(tnew(2, 2, 2), bv)}};
	gos_tensor y = run_expr("matmul(a, b)", 2, a);
	const double e[4] = {19, 22, 43, 50};
	check("matmul hand", &y, 2, (int64_t[]){2, 2}, e, 0);
	tfree(&a[0].t);
	tfree(&a[1].t);
}

/* ---- batchnorm ----------------------------------------------------------- */

static void test_batchnorm(void **state)
{
	(void)state;
	rng_reset(5);
	static const struct {
		int rank, s[5];
		const char *attrs;
		double eps;
	} cases[] = {
		{4, {2, 3, 4, 5}, "", 1e-5},
		{4, {1, 4, 3, 3}, "; eps = 0.001", 1e-3},
		{3, {2, 3, 7}, "; eps = 0.1", 0.1},
		{5, {1, 2, 2, 3, 2}, "", 1e-5},
	};
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		gos_tensor x = tnew(0);
		free(x.data);
		x.rank = cases[ci].rank;
		for (int i = 0; i < x.rank; i++)
			x.shape[i] = cases[ci].s[i];
		x.data = calloc((size_t)numel(&x), sizeof(float));
		tfill(x, -2, 2);
		int C = cases[ci].s[1];
		gos_tensor g = TR(1, C), be = TR(1, C), mu = TR(1, C);
		gos_tensor var = tfill(tnew(1, C), 0.05f, 2.0f);
		var.data[0] = 0.0f; /* eps matters */
		int64_t n = numel(&x), inner = n / (x.shape[0] * C);
		double *ref = dalloc(n);
		for (int64_t i = 0; i < n; i++) {
			int64_t c = i / inner % C;
			ref[i] = ((double)x.data[i] - mu.data[c]) / sqrt((double)var.data[c] + cases[ci].eps) *
			         g.data[c] + be.data[c];
		}
		char expr[128];
		snprintf(expr, sizeof expr, "batchnorm(x, g, be, mu, var%s)", cases[ci].attrs);
		arg a[5] = {{"x", x}, {"g", g}, {"be", be}, {"mu", mu}, {"var", var}};
		gos_tensor y = run_expr(expr, 5, a);
		/* var = 0 with eps = 1e-5 scales by ~316: relative tolerance */
		check(expr, &y, x.rank, x.shape, ref, 2e-5);
		free(ref);
		for (int i = 0; i < 5; i++)
			tfree(&a[i].t);
	}
	/* hand-worked: x = 3, mean 1, var 4 (eps 0), gamma 2, beta 1: 2/2*2+1 = 3 */
	const float one[1] = {3};
	arg a[5] = {{"x", tlit(tnew(2, 1, 1), one)}, {"g", tnew(1, 1)}, {"be", tnew(1, 1)},
	            {"mu", tnew(1, 1)}, {"var", tnew(1, 1)}};
	a[1].t.data[0] = 2, a[2].t.data[0] = 1, a[3].t.data[0] = 1, a[4].t.data[0] = 4;
	gos_tensor y = run_expr("batchnorm(x, g, be, mu, var; eps = 0)", 5, a);
	const double e[1] = {3};
	check("batchnorm hand", &y, 2, (int64_t[]){1, 1}, e, 0);
	for (int i = 0; i < 5; i++)
		tfree(&a[i].t);
}

/* ---- activations ------------------------------------------------------- */

/* Input with special values (0, +-3, +-6 ...) and random ones. */
static gos_tensor act_input(void)
{
	gos_tensor x = tfill(tnew(3, 2, 3, 9), -8, 8);
	const float sp[] = {0.0f, -0.0f, 3.0f, -3.0f, 6.0f, -6.0f, 1.0f, -1.0f, 0.5f, -0.5f,
	                    2.5f, -2.5f, 7.0f, -7.0f, 1e-3f, -1e-3f, 20.0f, -20.0f};
	memcpy(x.data, sp, sizeof sp);
	return x;
}

typedef double (*act_fn)(double x, double p1, double p2);

static double a_relu(double x, double p, double q) { (void)p, (void)q; return x > 0 ? x : 0; }
static double a_relu6(double x, double p, double q) { (void)p, (void)q; return x < 0 ? 0 : x > 6 ? 6 : x; }
static double a_leaky(double x, double p, double q) { (void)q; return x >= 0 ? x : p * x; }
static double a_sigmoid(double x, double p, double q) { (void)p, (void)q; return 1 / (1 + exp(-x)); }
static double a_tanh(double x, double p, double q) { (void)p, (void)q; return tanh(x); }
static double a_hswish(double x, double p, double q)
{
	(void)p, (void)q;
	double t = x + 3;
	t = t < 0 ? 0 : t > 6 ? 6 : t;
	return x * t / 6;
}
static double a_hsig(double x, double p, double q)
{
	double t = p * x + q;
	return t < 0 ? 0 : t > 1 ? 1 : t;
}
static double a_gelu(double x, double p, double q) { (void)p, (void)q; return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double a_clip(double x, double p, double q) { return x < p ? p : x > q ? q : x; }

static void test_activations(void **state)
{
	(void)state;
	rng_reset(6);
	static const struct {
		const char *expr;
		act_fn f;
		double p1, p2, tol;
	} cases[] = {
		{"relu(x)", a_relu, 0, 0, 0},
		{"relu6(x)", a_relu6, 0, 0, 0},
		{"leaky_relu(x)", a_leaky, 0.01, 0, TOL},
		{"leaky_relu(x; alpha = 0.2)", a_leaky, 0.2, 0, TOL},
		{"leaky_relu(x; alpha = 1.5)", a_leaky, 1.5, 0, TOL},
		{"sigmoid(x)", a_sigmoid, 0, 0, TOL},
		{"tanh(x)", a_tanh, 0, 0, TOL},
		{"hard_swish(x)", a_hswish, 0, 0, TOL},
		{"hard_sigmoid(x)", a_hsig, 0.2, 0.5, TOL},
		{"hard_sigmoid(x; alpha = 0.16666666666666666)", a_hsig, 1.0 / 6, 0.5, TOL},
		{"hard_sigmoid(x; alpha = 0.5, beta = 0.25)", a_hsig, 0.5, 0.25, TOL},
		{"gelu(x)", a_gelu, 0, 0, TOL},
		{"clip(x)", a_clip, -INFINITY, INFINITY, 0},
		{"clip(x; lo = -0.5, hi = 0.25)", a_clip, -0.5, 0.25, 0},
		{"clip(x; lo = 0)", a_clip, 0, INFINITY, 0},
		{"clip(x; hi = 2.5)", a_clip, -INFINITY, 2.5, 0},
	};
	gos_tensor x = act_input();
	int64_t n = numel(&x);
	double *ref = dalloc(n);
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		for (int64_t i = 0; i < n; i++)
			ref[i] = cases[ci].f(x.data[i], cases[ci].p1, cases[ci].p2);
		arg a[1] = {{"x", x}};
		gos_tensor y = run_expr(cases[ci].expr, 1, a);
		check(cases[ci].expr, &y, x.rank, x.shape, ref, cases[ci].tol);
	}
	free(ref);
	tfree(&x);

	/* ranks 1 .. 5 for one elementwise op */
	for (int r = 1; r <= 5; r++) {
		gos_tensor t = tnew(0);
		free(t.data);
		t.rank = r;
		for (int i = 0; i < r; i++)
			t.shape[i] = 2 + i % 2;
		t.data = calloc((size_t)numel(&t), sizeof(float));
		tfill(t, -2, 2);
		double *rf = dalloc(numel(&t));
		for (int64_t i = 0; i < numel(&t); i++)
			rf[i] = a_relu6(t.data[i] * 4, 0, 0);
		for (int64_t i = 0; i < numel(&t); i++)
			t.data[i] *= 4;
		arg a[1] = {{"x", t}};
		gos_tensor y = run_expr("relu6(x)", 1, a);
		check("relu6 rank r", &y, t.rank, t.shape, rf, 0);
		free(rf);
		tfree(&t);
	}

	/* hand-worked values */
	const float xv[6] = {-3, -1, 0, 1, 3, 4};
	arg a[1] = {{"x", tlit(tnew(1, 6), xv)}};
	static const struct {
		const char *expr;
		double e[6];
	} hand[] = {
		{"hard_swish(x)", {0, -1.0 / 3, 0, 2.0 / 3, 3, 4}},
		{"hard_sigmoid(x)", {0, 0.3, 0.5, 0.7, 1, 1}},
		{"sigmoid(x)", {0.04742587317756678, 0.2689414213699951, 0.5, 0.7310585786300049,
		                0.9525741268224334, 0.9820137900379085}},
		{"gelu(x)", {-0.00404969409489031, -0.15865525393145707, 0, 0.8413447460685429,
		             2.99595030590511, 3.9998733150326675}},
		{"tanh(x)", {-0.9950547536867305, -0.7615941559557649, 0, 0.7615941559557649,
		             0.9950547536867305, 0.999329299739067}},
		{"leaky_relu(x)", {-0.03, -0.01, 0, 1, 3, 4}},
		{"relu6(x)", {0, 0, 0, 1, 3, 4}},
		{"clip(x; lo = -1, hi = 3)", {-1, -1, 0, 1, 3, 3}},
	};
	for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
		gos_tensor y = run_expr(hand[i].expr, 1, a);
		check(hand[i].expr, &y, 1, (int64_t[]){6}, hand[i].e, 1e-6);
	}
	tfree(&a[0].t);
}

/* ---- elementwise binary with broadcasting ------------------------------- */

static void test_binary_broadcast(void **state)
{
	(void)state;
	rng_reset(7);
	static const struct {
		int ra, a[5], rb, b[5];
	} shapes[] = {
		{3, {2, 3, 4}, 3, {2, 3, 4}},
		{3, {2, 3, 4}, 1, {4}},
		{1, {4}, 3, {2, 3, 4}},
		{3, {2, 1, 4}, 2, {3, 1}},
		{1, {1}, 2, {2, 3}},
		{4, {2, 3, 1, 5}, 4, {1, 3, 4, 1}},
		{2, {3, 1}, 1, {1}},
		{4, {1, 4, 2, 2}, 3, {4, 1, 1}}, /* per-channel bias */
	};
	static const char *ops[4] = {"add", "sub", "mul", "div"};
	for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
		for (int op = 0; op < 4; op++) {
			gos_tensor A = tnew(0), B = tnew(0);
			free(A.data);
			free(B.data);
			A.rank = shapes[si].ra;
			B.rank = shapes[si].rb;
			for (int i = 0; i < A.rank; i++)
				A.shape[i] = shapes[si].a[i];
			for (int i = 0; i < B.rank; i++)
				B.shape[i] = shapes[si].b[i];
			A.data = calloc((size_t)numel(&A), sizeof(float));
			B.data = calloc((size_t)numel(&B), sizeof(float));
			tfill(A, -2, 2);
			tfill(B, 0.5f, 2); /* no division by ~0 */
			for (int64_t i = 0; i < numel(&B); i += 2)
				B.data[i] = -B.data[i];
			int64_t os[GOS_MAX_RANK], idx[GOS_MAX_RANK];
			int r = bcast_shape(A.rank, A.shape, B.rank, B.shape, os);
			int64_t n = gos_numel(r, os);
			double *ref = dalloc(n);
			for (int64_t i = 0; i < n; i++) {
				unravel(i, r, os, idx);
				double x = A.data[bcast_off(&A, r, idx)], y = B.data[bcast_off(&B, r, idx)];
				/* f32 arithmetic is exact-rounded: compare exactly */
				ref[i] = op == 0 ? (float)(x + y) : op == 1 ? (float)(x - y)
				         : op == 2 ? (float)(x * y) : (float)(x / y);
			}
			char expr[64];
			snprintf(expr, sizeof expr, "%s(a, b)", ops[op]);
			arg a[2] = {{"a", A}, {"b", B}};
			gos_tensor y = run_expr(expr, 2, a);
			char what[96];
			snprintf(what, sizeof what, "%s shapes %zu", expr, si);
			check(what, &y, r, os, ref, 0);
			free(ref);
			tfree(&A);
			tfree(&B);
		}
	/* hand-worked: [[1],[2]] + [10, 20, 30] */
	const float av[2] = {1, 2}, bv[3] = {10, 20, 30};
	arg a[2] = {{"a", tlit(tnew(2, 2, 1), av)}, {"b", tlit(tnew(1, 3), bv)}};
	gos_tensor y = run_expr("add(a, b)", 2, a);
	const double e[6] = {11, 21, 31, 12, 22, 32};
	check("add hand", &y, 2, (int64_t[]){2, 3}, e, 0);
	y = run_expr("div(b, a)", 2, a);
	const double e2[6] = {10, 20, 30, 5, 10, 15};
	check("div hand", &y, 2, (int64_t[]){2, 3}, e2, 0);
	tfree(&a[0].t);
	tfree(&a[1].t);
}

/* ---- pooling ---------------------------------------------------------- */

/* Naive 2-D pooling: max (avg = 0) or average with count_include_pad. */
static double *ref_pool2d(const gos_tensor *x, int avg, int kh, int kw, int sh, int sw,
                          int pt, int pl, int pb, int pr, int dh, int dw, int cip, int64_t *os)
{
	int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
	int64_t P = (H + pt + pb - dh * (kh - 1) - 1) / sh + 1;
	int64_t Q = (W + pl + pr - dw * (kw - 1) - 1) / sw + 1;
	os[0] = N, os[1] = C, os[2] = P, os[3] = Q;
	double *y = dalloc(N * C * P * Q);
	for (int64_t nc = 0; nc < N * C; nc++)
		for (int64_t p = 0; p < P; p++)
			for (int64_t q = 0; q < Q; q++) {
				double acc = avg ? 0 : -INFINITY;
				int cnt = 0;
				for (int r = 0; r < kh; r++)
					for (int s = 0; s < kw; s++) {
						int64_t ih = p * sh + r * dh - pt, iw = q * sw + s * dw - pl;
						if (ih < 0 || ih >= H || iw < 0 || iw >= W)
							continue;
						double v = x->data[(nc * H + ih) * W + iw];
						cnt++;
						if (avg)
							acc += v;
						else if (v > acc)
							acc = v;
					}
				if (avg)
					acc /= cip ? kh * kw : cnt;
				y[(nc * P + p) * Q + q] = acc;
			}
	return y;
}

static void test_pool2d(void **state)
{
	(void)state;
	rng_reset(8);
	static const struct {
		int avg, N, C, H, W, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, cip;
		const char *attrs;
	} cases[] = {
		{0, 1, 2, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, "kernel = 2"},
		{0, 2, 3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, "kernel = 3, stride = 2, pad = 1"},
		{0, 1, 2, 6, 7, 2, 3, 1, 2, 0, 1, 1, 0, 2, 1, 0,
		 "kernel = [2, 3], stride = [1, 2], pad = [0, 1, 1, 0], dilation = [2, 1]"},
		{0, 1, 1, 8, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 0, "kernel = 3, stride = 1, pad = 2, dilation = 2"},
		{0, 1, 2, 5, 5, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 0, "kernel = 5, stride = 1"},
		{0, 1, 2, 5, 6, 3, 2, 3, 2, 2, 1, 0, 1, 1, 1, 0, "kernel = [3, 2], stride = [3, 2], pad = [2, 1, 0, 1]"},
		{1, 1, 2, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, "kernel = 2"},
		{1, 2, 3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, "kernel = 3, stride = 2, pad = 1"},
		{1, 2, 3, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		 "kernel = 3, stride = 2, pad = 1, count_include_pad = 1"},
		{1, 1, 2, 6, 7, 3, 2, 1, 2, 2, 1, 0, 1, 1, 1, 0,
		 "kernel = [3, 2], stride = [1, 2], pad = [2, 1, 0, 1]"},
		{1, 1, 2, 6, 7, 3, 2, 1, 2, 2, 1, 0, 1, 1, 1, 1,
		 "kernel = [3, 2], stride = [1, 2], pad = [2, 1, 0, 1], count_include_pad = 1"},
		{1, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, "kernel = 3, stride = 1, pad = 1"},
		{1, 1, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, "kernel = 3, stride = 1, pad = 1, count_include_pad = 1"},
		{1, 1, 2, 5, 5, 5, 5, 1, 1, 0, 0, 0, 0, 1, 1, 0, "kernel = 5"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		gos_tensor x = TR(4, cases[i].N, cases[i].C, cases[i].H, cases[i].W);
		int64_t os[4];
		double *ref = ref_pool2d(&x, cases[i].avg, cases[i].kh, cases[i].kw, cases[i].sh,
		                         cases[i].sw, cases[i].pt, cases[i].pl, cases[i].pb,
		                         cases[i].pr, cases[i].dh, cases[i].dw, cases[i].cip, os);
		char expr[160];
		snprintf(expr, sizeof expr, "%s(x; %s)", cases[i].avg ? "avgpool2d" : "maxpool2d",
		         cases[i].attrs);
		arg a[1] = {{"x", x}};
		gos_tensor y = run_expr(expr, 1, a);
		check(expr, &y, 4, os, ref, cases[i].avg ? TOL : 0);
		free(ref);
		tfree(&x);
	}
	/* hand-worked */
	float v16[16];
	for (int i = 0; i < 16; i++)
		v16[i] = (float)(i + 1);
	arg a[1] = {{"x", tlit(tnew(4, 1, 1, 4, 4), v16)}};
	gos_tensor y = run_expr("maxpool2d(x; kernel = 2)", 1, a);
	const double e1[4] = {6, 8, 14, 16};
	check("maxpool2d hand", &y, 4, (int64_t[]){1, 1, 2, 2}, e1, 0);
	y = run_expr("avgpool2d(x; kernel = 2)", 1, a);
	const double e2[4] = {3.5, 5.5, 11.5, 13.5};
	check("avgpool2d hand", &y, 4, (int64_t[]){1, 1, 2, 2}, e2, 0);
	/* 3x3 window, pad 1, stride 3 on 4x4: windows at -1 and 2 */
	y = run_expr("avgpool2d(x; kernel = 3, stride = 3, pad = 1)", 1, a);
	/* (0,0): rows 0..1, cols 0..1 -> 1+2+5+6 = 14 / 4 = 3.5 */
	/* (0,1): rows 0..1, cols 2..3 (col 4 is out) -> 3+4+7+8 = 22/4 */
	/* (1,0): rows 2..3, cols 0..1 -> 9+10+13+14 = 46/4 */
	/* (1,1): 11+12+15+16 = 54/4 */
	const double e3[4] = {3.5, 5.5, 11.5, 13.5};
	check("avgpool2d pad hand", &y, 4, (int64_t[]){1, 1, 2, 2}, e3, 0);
	y = run_expr("avgpool2d(x; kernel = 3, stride = 3, pad = 1, count_include_pad = 1)", 1, a);
	const double e4[4] = {14.0 / 9, 22.0 / 9, 46.0 / 9, 54.0 / 9};
	check("avgpool2d pad cip hand", &y, 4, (int64_t[]){1, 1, 2, 2}, e4, 1e-6);
	for (int i = 0; i < 16; i++)
		a[0].t.data[i] = -(float)(i + 1);
	y = run_expr("maxpool2d(x; kernel = 3, stride = 3, pad = 1)", 1, a);
	const double e5[4] = {-1, -3, -9, -11}; /* padding must not win (-inf) */
	check("maxpool2d negative pad hand", &y, 4, (int64_t[]){1, 1, 2, 2}, e5, 0);
	tfree(&a[0].t);
}

static void test_pool1d(void **state)
{
	(void)state;
	rng_reset(9);
	static const struct {
		int avg, N, C, L, k, s, p0, p1, d, cip;
		const char *attrs;
	} cases[] = {
		{0, 1, 2, 8, 2, 2, 0, 0, 1, 0, "kernel = 2"},
		{0, 2, 3, 11, 3, 2, 1, 1, 1, 0, "kernel = 3, stride = 2, pad = 1"},
		{0, 1, 2, 10, 3, 1, 2, 0, 2, 0, "kernel = 3, stride = 1, pad = [2, 0], dilation = 2"},
		{0, 1, 1, 9, 4, 3, 0, 3, 1, 0, "kernel = 4, stride = 3, pad = [0, 3]"},
		{1, 1, 2, 8, 2, 2, 0, 0, 1, 0, "kernel = 2"},
		{1, 2, 3, 11, 3, 2, 1, 1, 1, 0, "kernel = 3, stride = 2, pad = 1"},
		{1, 2, 3, 11, 3, 2, 1, 1, 1, 1, "kernel = 3, stride = 2, pad = 1, count_include_pad = 1"},
		{1, 1, 2, 9, 4, 3, 2, 1, 1, 0, "kernel = 4, stride = 3, pad = [2, 1]"},
		{1, 1, 2, 9, 4, 3, 2, 1, 1, 1, "kernel = 4, stride = 3, pad = [2, 1], count_include_pad = 1"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		gos_tensor x = TR(3, cases[i].N, cases[i].C, cases[i].L);
		gos_tensor x4 = x;
		x4.rank = 4;
		x4.shape[2] = 1;
		x4.shape[3] = cases[i].L;
		int64_t os[4];
		double *ref = ref_pool2d(&x4, cases[i].avg, 1, cases[i].k, 1, cases[i].s, 0,
		                         cases[i].p0, 0, cases[i].p1, 1, cases[i].d, cases[i].cip, os);
		char expr[160];
		snprintf(expr, sizeof expr, "%s(x; %s)", cases[i].avg ? "avgpool1d" : "maxpool1d",
		         cases[i].attrs);
		arg a[1] = {{"x", x}};
		gos_tensor y = run_expr(expr, 1, a);
		check(expr, &y, 3, (int64_t[]){os[0], os[1], os[3]}, ref, cases[i].avg ? TOL : 0);
		free(ref);
		tfree(&x);
	}
	/* hand-worked: [1 5 2 4 3], kernel 2 stride 1 pad [1, 1] */
	const float xv[5] = {1, 5, 2, 4, 3};
	arg a[1] = {{"x", tlit(tnew(3, 1, 1, 5), xv)}};
	gos_tensor y = run_expr("maxpool1d(x; kernel = 2, stride = 1, pad = 1)", 1, a);
	const double e1[6] = {1, 5, 5, 4, 4, 3};
	check("maxpool1d hand", &y, 3, (int64_t[]){1, 1, 6}, e1, 0);
	y = run_expr("avgpool1d(x; kernel = 2, stride = 1, pad = 1)", 1, a);
	const double e2[6] = {1, 3, 3.5, 3, 3.5, 3};
	check("avgpool1d hand", &y, 3, (int64_t[]){1, 1, 6}, e2, 0);
	y = run_expr("avgpool1d(x; kernel = 2, stride = 1, pad = 1, count_include_pad = 1)", 1, a);
	const double e3[6] = {0.5, 3, 3.5, 3, 3.5, 1.5};
	check("avgpool1d cip hand", &y, 3, (int64_t[]){1, 1, 6}, e3, 0);
	tfree(&a[0].t);
}

static void test_global_pool(void **state)
{
	(void)state;
	rng_reset(10);
	for (int r = 3; r <= 5; r++)
		for (int avg = 0; avg < 2; avg++) {
			gos_tensor x = tnew(0);
			free(x.data);
			x.rank = r;
			x.shape[0] = 2;
			x.shape[1] = 3;
			for (int i = 2; i < r; i++)
				x.shape[i] = 3 + i;
			x.data = calloc((size_t)numel(&x), sizeof(float));
			tfill(x, -1, 1);
			int64_t inner = numel(&x) / 6;
			double *ref = dalloc(6);
			for (int nc = 0; nc < 6; nc++) {
				double acc = avg ? 0 : -INFINITY;
				for (int64_t j = 0; j < inner; j++) {
					double v = x.data[nc * inner + j];
					if (avg)
						acc += v;
					else if (v > acc)
						acc = v;
				}
				ref[nc] = avg ? acc / (double)inner : acc;
			}
			int64_t os[GOS_MAX_RANK] = {2, 3, 1, 1, 1};
			arg a[1] = {{"x", x}};
			const char *expr = avg ? "global_avgpool(x)" : "global_maxpool(x)";
			gos_tensor y = run_expr(expr, 1, a);
			check(expr, &y, r, os, ref, avg ? TOL : 0);
			free(ref);
			tfree(&x);
		}
	/* hand-worked */
	const float xv[8] = {1, 2, 3, 4, -1, -2, -3, -10};
	arg a[1] = {{"x", tlit(tnew(4, 1, 2, 2, 2), xv)}};
	gos_tensor y = run_expr("global_avgpool(x)", 1, a);
	const double e1[2] = {2.5, -4};
	check("global_avgpool hand", &y, 4, (int64_t[]){1, 2, 1, 1}, e1, 0);
	y = run_expr("global_maxpool(x)", 1, a);
	const double e2[2] = {4, -1};
	check("global_maxpool hand", &y, 4, (int64_t[]){1, 2, 1, 1}, e2, 0);
	tfree(&a[0].t);
}

/* ---- shape operators ------------------------------------------------------ */

static void test_concat(void **state)
{
	(void)state;
	rng_reset(11);
	static const struct {
		int rank, a[4], b[4], axis;
		const char *attrs;
	} cases[] = {
		{4, {1, 2, 3, 3}, {1, 4, 3, 3}, 1, ""},
		{4, {1, 2, 3, 3}, {1, 4, 3, 3}, 1, "; axis = 1"},
		{3, {2, 3, 4}, {1, 3, 4}, 0, "; axis = 0"},
		{3, {2, 3, 4}, {2, 3, 5}, 2, "; axis = -1"},
		{3, {2, 3, 4}, {2, 3, 4}, 2, "; axis = 2"},
		{3, {2, 3, 4}, {5, 3, 4}, 0, "; axis = -3"},
		{3, {2, 1, 4}, {2, 2, 4}, 1, "; axis = -2"},
		{1, {3}, {2}, 0, "; axis = 0"},
		{2, {2, 3}, {2, 1}, 1, ""},
	};
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		int r = cases[ci].rank, ax = cases[ci].axis;
		gos_tensor A = tnew(0), B = tnew(0);
		free(A.data);
		free(B.data);
		A.rank = B.rank = r;
		for (int i = 0; i < r; i++) {
			A.shape[i] = cases[ci].a[i];
			B.shape[i] = cases[ci].b[i];
		}
		A.data = calloc((size_t)numel(&A), sizeof(float));
		B.data = calloc((size_t)numel(&B), sizeof(float));
		tfill(A, -1, 1);
		tfill(B, 2, 3);
		int64_t os[GOS_MAX_RANK], idx[GOS_MAX_RANK], sa[GOS_MAX_RANK], sb[GOS_MAX_RANK];
		memcpy(os, A.shape, sizeof os);
		os[ax] = A.shape[ax] + B.shape[ax];
		strides(r, A.shape, sa);
		strides(r, B.shape, sb);
		int64_t n = gos_numel(r, os);
		double *ref = dalloc(n);
		for (int64_t i = 0; i < n; i++) {
			unravel(i, r, os, idx);
			const gos_tensor *src = &A;
			const int64_t *st = sa;
			if (idx[ax] >= A.shape[ax]) {
				idx[ax] -= A.shape[ax];
				src = &B;
				st = sb;
			}
			int64_t o = 0;
			for (int d = 0; d < r; d++)
				o += idx[d] * st[d];
			ref[i] = src->data[o];
		}
		char expr[64];
		snprintf(expr, sizeof expr, "concat(a, b%s)", cases[ci].attrs);
		arg a[2] = {{"a", A}, {"b", B}};
		gos_tensor y = run_expr(expr, 2, a);
		check(expr, &y, r, os, ref, 0);
		free(ref);
		tfree(&A);
		tfree(&B);
	}
}

static void test_reshape_flatten_transpose(void **state)
{
	(void)state;
	rng_reset(12);
	gos_tensor x = TR(3, 2, 3, 4);
	int64_t n = numel(&x);
	double *same = dalloc(n);
	for (int64_t i = 0; i < n; i++)
		same[i] = x.data[i];
	arg a[1] = {{"x", x}};
	/* reshape and flatten keep row-major order */
	static const struct {
		const char *expr;
		int rank;
		int64_t shape[4];
	} keep[] = {
		{"reshape(x; shape = [4, 6])", 2, {4, 6}},
		{"reshape(x; shape = [24])", 1, {24}},
		{"reshape(x; shape = [2, 12, 1])", 3, {2, 12, 1}},
		{"reshape(x; shape = [1, 2, 2, 6])", 4, {1, 2, 2, 6}},
		{"reshape(x; shape = [2, 3, 4])", 3, {2, 3, 4}},
		{"flatten(x)", 2, {2, 12}},
		{"flatten(x; axis = 0)", 2, {1, 24}},
		{"flatten(x; axis = 1)", 2, {2, 12}},
		{"flatten(x; axis = 2)", 2, {6, 4}},
		{"flatten(x; axis = 3)", 2, {24, 1}},
	};
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
		gos_tensor y = run_expr(keep[i].expr, 1, a);
		check(keep[i].expr, &y, keep[i].rank, keep[i].shape, same, 0);
	}
	free(same);
	/* transpose: y's dimension d is x's dimension perm[d] */
	static const struct {
		const char *expr;
		int perm[3];
	} tr[] = {
		{"transpose(x; perm = [0, 1, 2])", {0, 1, 2}},
		{"transpose(x; perm = [2, 0, 1])", {2, 0, 1}},
		{"transpose(x; perm = [1, 2, 0])", {1, 2, 0}},
		{"transpose(x; perm = [2, 1, 0])", {2, 1, 0}},
		{"transpose(x; perm = [0, 2, 1])", {0, 2, 1}},
	};
	int64_t sx[3];
	strides(3, x.shape, sx);
	for (size_t i = 0; i < sizeof tr / sizeof tr[0]; i++) {
		int64_t os[3], idx[3];
		for (int d = 0; d < 3; d++)
			os[d] = x.shape[tr[i].perm[d]];
		double *ref = dalloc(n);
		for (int64_t j = 0; j < n; j++) {
			unravel(j, 3, os, idx);
			int64_t o = 0;
			for (int d = 0; d < 3; d++)
				o += idx[d] * sx[tr[i].perm[d]];
			ref[j] = x.data[o];
		}
		gos_tensor y = run_expr(tr[i].expr, 1, a);
		check(tr[i].expr, &y, 3, os, ref, 0);
		free(ref);
	}
	tfree(&x);
	/* 4-D NCHW -> NHWC and back, hand-checked on a 1x2x2x3 ramp */
	float v[12];
	for (int i = 0; i < 12; i++)
		v[i] = (float)i;
	gos_tensor t = tlit(tnew(4, 1, 2, 2, 3), v);
	arg b[1] = {{"x", t}};
	gos_tensor y = run_expr("transpose(x; perm = [0, 2, 3, 1])", 1, b);
	const double e[12] = {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11};
	check("transpose nhwc hand", &y, 4, (int64_t[]){1, 2, 3, 2}, e, 0);
	y = run_expr("reshape(transpose(x; perm = [0, 2, 3, 1]); shape = [6, 2])", 1, b);
	check("reshape of transpose hand", &y, 2, (int64_t[]){6, 2}, e, 0);
	tfree(&t);
}

static void test_pad(void **state)
{
	(void)state;
	rng_reset(13);
	gos_tensor x = TR(4, 1, 2, 3, 4);
	static const struct {
		int p[8];
		double value;
		const char *expr;
	} cases[] = {
		{{0, 0, 1, 1, 0, 0, 1, 1}, 0, "pad(x; pads = [0, 0, 1, 1, 0, 0, 1, 1])"},
		{{0, 0, 2, 0, 0, 0, 0, 3}, 0, "pad(x; pads = [0, 0, 2, 0, 0, 0, 0, 3])"},
		{{1, 1, 0, 2, 0, 2, 1, 0}, -1.5, "pad(x; pads = [1, 1, 0, 2, 0, 2, 1, 0], value = -1.5)"},
		{{0, 0, 0, 0, 0, 0, 0, 0}, 0, "pad(x; pads = [0, 0, 0, 0, 0, 0, 0, 0])"},
		{{0, 0, 1, 1, 1, 0, 0, 0}, 7, "pad(x; pads = [0, 0, 1, 1, 1, 0, 0, 0], value = 7)"},
	};
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		int64_t os[4], idx[4], sx[4];
		for (int d = 0; d < 4; d++)
			os[d] = x.shape[d] + cases[ci].p[d] + cases[ci].p[d + 4];
		strides(4, x.shape, sx);
		int64_t n = gos_numel(4, os);
		double *ref = dalloc(n);
		for (int64_t i = 0; i < n; i++) {
			unravel(i, 4, os, idx);
			int in = 1;
			int64_t o = 0;
			for (int d = 0; d < 4; d++) {
				int64_t j = idx[d] - cases[ci].p[d];
				if (j < 0 || j >= x.shape[d])
					in = 0;
				o += j * sx[d];
			}
			ref[i] = in ? x.data[o] : cases[ci].value;
		}
		arg a[1] = {{"x", x}};
		gos_tensor y = run_expr(cases[ci].expr, 1, a);
		check(cases[ci].expr, &y, 4, os, ref, 0);
		free(ref);
	}
	tfree(&x);
}

/* ---- softmax and reduce_mean ----------------------------------------- */

static void test_softmax(void **state)
{
	(void)state;
	rng_reset(14);
	gos_tensor x = tfill(tnew(3, 2, 3, 4), -5, 5);
	x.data[0] = 80.0f; /* large: needs the max subtraction */
	x.data[1] = 79.0f;
	int64_t n = numel(&x), sx[3], idx[3];
	strides(3, x.shape, sx);
	static const struct {
		const char *expr;
		int axis;
	} cases[] = {
		{"softmax(x)", 2},
		{"softmax(x; axis = -1)", 2},
		{"softmax(x; axis = 2)", 2},
		{"softmax(x; axis = 1)", 1},
		{"softmax(x; axis = -2)", 1},
		{"softmax(x; axis = 0)", 0},
		{"softmax(x; axis = -3)", 0},
	};
	for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
		int ax = cases[ci].axis;
		double *ref = dalloc(n);
		for (int64_t i = 0; i < n; i++) {
			unravel(i, 3, x.shape, idx);
			int64_t base = i - idx[ax] * sx[ax];
			double mx = -INFINITY, s = 0;
			for (int64_t j = 0; j < x.shape[ax]; j++)
				mx = fmax(mx, x.data[base + j * sx[ax]]);
			for (int64_t j = 0; j < x.shape[ax]; j++)
				s += exp(x.data[base + j * sx[ax]] - mx);
			ref[i] = exp(x.data[i] - mx) / s;
		}
		arg a[1] = {{"x", x}};
		gos_tensor y = run_expr(cases[ci].expr, 1, a);
		check(cases[ci].expr, &y, 3, x.shape, ref, TOL);
		free(ref);
	}
	tfree(&x);
	/* hand-worked */
	const float xv[3] = {1, 2, 3};
	arg a[1] = {{"x", tlit(tnew(2, 1, 3), xv)}};
	gos_tensor y = run_expr("softmax(x)", 1, a);
	const double e[3] = {0.09003057317038046, 0.24472847105479764, 0.6652409557748218};
	check("softmax hand", &y, 2, (int64_t[]){1, 3}, e, 1e-6);
	y = run_expr("softmax(x; axis = 0)", 1, a); /* axis of size 1: all ones */
	const double e1[3] = {1, 1, 1};
	check("softmax size-1 axis", &y, 2, (int64_t[]){1, 3}, e1, 0);
	tfree(&a[0].t);
}

static void test_reduce_mean(void **state)
{
	(void)state;
	rng_reset(15);
	gos_tensor x = TR(4, 2, 3, 4, 5);
	int64_t n = numel(&x), sx[4], idx[4];
	strides(4, x.shape, sx);
	for (int ax = -4; ax < 4; ax++)
		for (int keep = 0; keep < 2; keep++) {
			int a0 = ax < 0 ? ax + 4 : ax;
			int64_t os[4];
			int r = 0;
			for (int d = 0; d < 4; d++)
				if (d != a0)
					os[r++] = x.shape[d];
				else if (keep)
					os[r++] = 1;
			int64_t m = n / x.shape[a0];
			double *ref = dalloc(m);
			/* accumulate each input element into its output */
			int64_t ks[4], kshape[4];
			memcpy(kshape, x.shape, sizeof kshape);
			kshape[a0] = 1;
			strides(4, kshape, ks);
			for (int64_t i = 0; i < n; i++) {
				unravel(i, 4, x.shape, idx);
				idx[a0] = 0;
				int64_t o = 0;
				for (int d = 0; d < 4; d++)
					o += idx[d] * ks[d];
				ref[o] += x.data[i];
			}
			for (int64_t i = 0; i < m; i++)
				ref[i] /= (double)x.shape[a0];
			char expr[80];
			if (keep && ax == 1)
				snprintf(expr, sizeof expr, "reduce_mean(x; axis = 1)"); /* default */
			else
				snprintf(expr, sizeof expr, "reduce_mean(x; axis = %d, keepdims = %d)", ax, keep);
			arg a[1] = {{"x", x}};
			gos_tensor y = run_expr(expr, 1, a);
			check(expr, &y, r, os, ref, TOL);
			free(ref);
		}
	tfree(&x);
	const float xv[6] = {1, 2, 3, 4, 5, 6};
	arg a[1] = {{"x", tlit(tnew(2, 2, 3), xv)}};
	gos_tensor y = run_expr("reduce_mean(x; axis = 1, keepdims = 0)", 1, a);
	const double e1[2] = {2, 5};
	check("reduce_mean hand", &y, 1, (int64_t[]){2}, e1, 0);
	y = run_expr("reduce_mean(x; axis = 0)", 1, a);
	const double e2[3] = {2.5, 3.5, 4.5};
	check("reduce_mean hand axis 0", &y, 2, (int64_t[]){1, 3}, e2, 0);
	tfree(&a[0].t);
}

/* ---- seeded parameters, a small network, the operator library --------- */

/* A network with seeded parameters: the reference uses the materialised
 * weight data, composed from the reference loops above. */
static void test_small_net_params(void **state)
{
	(void)state;
	rng_reset(16);
	const char *text =
		"model net {\n"
		"  input x: f32[1, 3, 9, 9];\n"
		"  weights seed 3;\n"
		"  c = conv2d(x, param[4, 3, 3, 3], param[4] init uniform(-0.5, 0.5); stride = 2, pad = 1);\n"
		"  h = relu(c);\n"
		"  h = maxpool2d(h; kernel = 2, stride = 1);\n"
		"  f = flatten(h);\n"
		"  output o = dense(f, param[5, 64] init normal(0, 0.3));\n"
		"}\n";
	gos_module *m = load_ok(text);
	gos_tensor x = TR(4, 1, 3, 9, 9);
	arg a[1] = {{"x", x}};
	gos_tensor out[1];
	run_module(m, 1, a, out);
	/* weights after materialisation, found by name */
	const char *names[3] = {"c.Wt", "c.B", "o.Wt"};
	gos_tensor w[3];
	for (int i = 0; i < 3; i++) {
		int v = gos_module_find_value(m, names[i]);
		if (v < 0)
			fail_msg("no weight '%s'", names[i]);
		assert_int_equal(m->vals[v].kind, GOS_VAL_WEIGHT);
		assert_non_null(m->vals[v].data);
		w[i].rank = m->vals[v].rank;
		memcpy(w[i].shape, m->vals[v].shape, sizeof w[i].shape);
		w[i].data = m->vals[v].data;
	}
	/* the uniform bias really is in [-0.5, 0.5) and not constant */
	assert_true(w[1].data[0] != w[1].data[1]);
	for (int i = 0; i < 4; i++)
		assert_true(w[1].data[i] >= -0.5f && w[1].data[i] < 0.5f);
	int64_t os[4], ps[4];
	double *c = ref_conv2d(&x, &w[0], &w[1], 2, 2, 1, 1, 1, 1, 1, 1, 1, os);
	gos_tensor ct = {4, {os[0], os[1], os[2], os[3]}, calloc((size_t)gos_numel(4, os), sizeof(float))};
	for (int64_t i = 0; i < gos_numel(4, os); i++)
		ct.data[i] = (float)(c[i] > 0 ? c[i] : 0);
	double *p = ref_pool2d(&ct, 0, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, ps);
	assert_int_equal(gos_numel(4, ps), 64);
	double ref[5];
	for (int k = 0; k < 5; k++) {
		double s = 0;
		for (int j = 0; j < 64; j++)
			s += p[j] * w[2].data[k * 64 + j];
		ref[k] = s;
	}
	check("small net", &out[0], 2, (int64_t[]){1, 5}, ref, 1e-4);
	free(c);
	free(p);
	free(ct.data);
	tfree(&x);
	gos_module_free(m);
}

/* The operator library: applying prelude ops programmatically gives the
 * same values as the references. */
static void test_oplib_apply(void **state)
{
	(void)state;
	rng_reset(17);
	gos_diags d;
	gos_diags_init(&d);
	gos_oplib *lib = gos_oplib_new(NULL, &d);
	if (!lib) {
		char *r = render(&d);
		print_error("%s\n", r);
		free(r);
		fail();
	}
	gos_module *m = gos_module_new("lib");
	assert_non_null(m);
	int64_t xs[4] = {1, 2, 6, 6}, ws[4] = {4, 1, 3, 3};
	int x = gos_module_add_value(m, "x", GOS_VAL_INPUT, GOS_F32, 4, xs);
	int w = gos_module_add_value(m, "w", GOS_VAL_INPUT, GOS_F32, 4, ws);
	double vstride[1] = {2}, vpad[4] = {1, 0, 0, 1}, vgroups[1] = {2};
	gos_attr attrs[3] = {{"stride", 1, vstride}, {"pad", 4, vpad}, {"groups", 1, vgroups}};
	int ins[3] = {x, w, -1}, out[8];
	gos_loc loc = {"test", 1, 1};
	int nr = gos_oplib_apply(lib, m, "conv2d", "c", 3, ins, 3, attrs, out, loc, &d);
	if (nr != 1) {
		char *r = render(&d);
		print_error("oplib conv2d: %s\n", r);
		free(r);
		fail();
	}
	double vk[1] = {2};
	gos_attr pattrs[1] = {{"kernel", 1, vk}};
	int in2[1] = {out[0]}, out2[8];
	nr = gos_oplib_apply(lib, m, "avgpool2d", "p", 1, in2, 1, pattrs, out2, loc, &d);
	assert_int_equal(nr, 1);
	gos_module_add_output(m, out[0]);
	gos_module_add_output(m, out2[0]);
	assert_int_equal(gos_verify(m, &d), 0);
	assert_int_equal(d.n_errors, 0);

	gos_tensor tx = TR(4, 1, 2, 6, 6), tw = TR(4, 4, 1, 3, 3);
	arg a[2] = {{"x", tx}, {"w", tw}};
	gos_tensor outs[2];
	run_module(m, 2, a, outs);
	int64_t os[4], ps[4];
	double *ref = ref_conv2d(&tx, &tw, NULL, 2, 2, 1, 0, 0, 1, 1, 1, 2, os);
	gos_tensor ct = {4, {os[0], os[1], os[2], os[3]}, calloc((size_t)gos_numel(4, os), sizeof(float))};
	for (int64_t i = 0; i < gos_numel(4, os); i++)
		ct.data[i] = (float)ref[i];
	double *pref = ref_pool2d(&ct, 1, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, ps);
	check("oplib conv2d", &outs[0], 4, os, ref, TOL);
	check("oplib avgpool2d", &outs[1], 4, ps, pref, TOL);
	free(ref);
	free(pref);
	free(ct.data);

	/* errors: unknown op, unknown attribute, shape mismatch -> -1 with a message */
	gos_diags e;
	gos_diags_init(&e);
	assert_int_equal(gos_oplib_apply(lib, m, "no_such_op", "z", 1, in2, 0, NULL, out2, loc, &e), -1);
	assert_true(e.n_errors > 0);
	gos_diags_free(&e);
	gos_diags_init(&e);
	gos_attr bad[1] = {{"stirde", 1, vstride}};
	assert_int_equal(gos_oplib_apply(lib, m, "conv2d", "z", 2, ins, 1, bad, out2, loc, &e), -1);
	assert_true(e.n_errors > 0);
	gos_diags_free(&e);
	gos_diags_init(&e);
	int mism[2] = {x, x}; /* dense wants rank-2 operands; x has rank 4 */
	assert_int_equal(gos_oplib_apply(lib, m, "dense", "z", 2, mism, 0, NULL, out2, loc, &e), -1);
	assert_true(e.n_errors > 0);
	gos_diags_free(&e);

	tfree(&tx);
	tfree(&tw);
	gos_module_free(m);
	gos_oplib_free(lib);
	gos_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conv2d),
		cmocka_unit_test(test_conv2d_hand),
		cmocka_unit_test(test_conv1d),
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_matmul),
		cmocka_unit_test(test_batchnorm),
		cmocka_unit_test(test_activations),
		cmocka_unit_test(test_binary_broadcast),
		cmocka_unit_test(test_pool2d),
		cmocka_unit_test(test_pool1d),
		cmocka_unit_test(test_global_pool),
		cmocka_unit_test(test_concat),
		cmocka_unit_test(test_reshape_flatten_transpose),
		cmocka_unit_test(test_pad),
		cmocka_unit_test(test_softmax),
		cmocka_unit_test(test_reduce_mean),
		cmocka_unit_test(test_small_net_params),
		cmocka_unit_test(test_oplib_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
