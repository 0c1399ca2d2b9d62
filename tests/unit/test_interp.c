/* test_interp.c -- the reference interpreter (backends/interp) against a
 * naive evaluator written here: for every point of the destination
 * (row-major), start the accumulator at 0 / -inf / +inf, evaluate every
 * instruction at every reduction point (row-major, last variable fastest)
 * with the C float functions the IR names, and combine. The interpreter
 * promises the same summation order whatever lane variable it picks, so
 * results must agree bit for bit (NaN with NaN, a zero with a zero of
 * either sign), for every lane choice (gos_interp_set_lane).
 *
 * Cases: hand-written .gir with literal expected numbers (every GOS_OPS
 * opcode, index operators on negative operands, reductions sum/max/min,
 * padded loads with several pad values, in-place `Y = Y + B`, rank-0
 * tensors, extents that cross the interpreter's 128-lane blocks), random
 * statements built with the C API (verified first), and invalid modules
 * (which must give an error, never a crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "backends/interp/interp.h"
#include "test_ir_fixtures.h"

/* ---- helpers ------------------------------------------------------------- */

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

static uint32_t rng_state = 1;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static int rint_(int lo, int hi) /* [lo, hi] */
{
	return lo + (int)(rnd() % (uint32_t)(hi - lo + 1));
}

static float frand(float lo, float hi)
{
	return lo + (hi - lo) * (float)((double)(rnd() >> 8) / 16777216.0);
}

static gos_module *parse_ok(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_ir_parse("t.gir", text, strlen(text), &d);
	if (!m || d.n_errors) {
		char *r = render(&d);
		print_error("parse failed:\n%s\n", r);
		free(r);
		fail();
	}
	int nv = gos_verify(m, &d);
	if (nv) {
		char *r = render(&d);
		print_error("does not verify:\n%s\n", r);
		free(r);
		fail();
	}
	if (gos_module_materialize(m, &d)) {
		char *r = render(&d);
		print_error("materialize:\n%s\n", r);
		free(r);
		fail();
	}
	gos_diags_free(&d);
	return m;
}

/* ---- the naive evaluator ------------------------------------------------- */

static int64_t fdiv(int64_t a, int64_t k)
{
	int64_t q = a / k;
	return (a % k != 0 && (a % k < 0)) ? q - 1 : q;
}

static int64_t fmod_(int64_t a, int64_t k)
{
	int64_t r = a % k;
	return r < 0 ? r + k : r;
}

static int64_t ev_ix(const gos_stmt *s, int x, const int64_t *var)
{
	const gos_ix *e = &s->ix[x];
	switch (e->op) {
	case GOS_IX_CONST: return e->k;
	case GOS_IX_VAR: return var[e->k];
	case GOS_IX_ADD: return ev_ix(s, e->a, var) + ev_ix(s, e->b, var);
	case GOS_IX_SUB: return ev_ix(s, e->a, var) - ev_ix(s, e->b, var);
	case GOS_IX_MUL: return ev_ix(s, e->a, var) * ev_ix(s, e->b, var);
	case GOS_IX_DIV: return fdiv(ev_ix(s, e->a, var), e->k);
	case GOS_IX_MOD: return fmod_(ev_ix(s, e->a, var), e->k);
	case GOS_IX_MIN: {
		int64_t a = ev_ix(s, e->a, var), b = ev_ix(s, e->b, var);
		return a < b ? a : b;
	}
	case GOS_IX_MAX: {
		int64_t a = ev_ix(s, e->a, var), b = ev_ix(s, e->b, var);
		return a > b ? a : b;
	}
	default: fail_msg("bad ix op"); return 0;
	}
}

/* Evaluates every instruction of s at var; returns the result value. */
static float ev_point(const gos_node *n, const gos_stmt *s, float *const *bd, const int64_t *var,
                      float *v)
{
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		float a = 0, b = 0, c = 0;
		int ar = gos_opinfo_tab[in->op].arity;
		if (ar > 0)
			a = v[in->arg[0]];
		if (ar > 1)
			b = v[in->arg[1]];
		if (ar > 2)
			c = v[in->arg[2]];
		float r = 0;
		switch (in->op) {
		case GOS_OP_CONST: r = in->f; break;
		case GOS_OP_LOAD: {
			const gos_buf *B = &n->bufs[in->buf];
			int64_t off = 0;
			int inr = 1;
			for (int d = 0; d < B->rank; d++) {
				int64_t k = ev_ix(s, in->idx[d], var);
				if (k < 0 || k >= B->shape[d])
					inr = 0;
				off = off * B->shape[d] + k;
			}
			if (inr)
				r = bd[in->buf][off];
			else if (in->has_pad)
				r = in->f;
			else
				fail_msg("naive: out-of-range load without padding");
			break;
		}
		case GOS_OP_INDEX: r = (float)ev_ix(s, in->idx[0], var); break;
		case GOS_OP_ADD: r = a + b; break;
		case GOS_OP_SUB: r = a - b; break;
		case GOS_OP_MUL: r = a * b; break;
		case GOS_OP_DIV: r = a / b; break;
		case GOS_OP_MAX: r = fmaxf(a, b); break;
		case GOS_OP_MIN: r = fminf(a, b); break;
		case GOS_OP_POW: r = powf(a, b); break;
		case GOS_OP_LT: r = a < b ? 1.0f : 0.0f; break;
		case GOS_OP_LE: r = a <= b ? 1.0f : 0.0f; break;
		case GOS_OP_EQ: r = a == b ? 1.0f : 0.0f; break;
		case GOS_OP_NE: r = a != b ? 1.0f : 0.0f; break;
		case GOS_OP_NEG: r = -a; break;
		case GOS_OP_ABS: r = fabsf(a); break;
		case GOS_OP_EXP: r = expf(a); break;
		case GOS_OP_LOG: r = logf(a); break;
		case GOS_OP_SQRT: r = sqrtf(a); break;
		case GOS_OP_RSQRT: r = 1.0f / sqrtf(a); break;
		case GOS_OP_TANH: r = tanhf(a); break;
		case GOS_OP_ERF: r = erff(a); break;
		case GOS_OP_FLOOR: r = floorf(a); break;
		case GOS_OP_FMA: r = fmaf(a, b, c); break;
		case GOS_OP_SELECT: r = a != 0.0f ? b : c; break;
		default: fail_msg("bad opcode");
		}
		v[i] = r;
	}
	return v[s->result];
}

/* Runs statement s of node n naively. */
static void ev_stmt(const gos_node *n, const gos_stmt *s, float *const *bd)
{
	const gos_buf *D = &n->bufs[s->dst];
	int r = D->rank, nv = r + s->n_red;
	int64_t ext[GOS_MAX_VARS], var[GOS_MAX_VARS];
	for (int i = 0; i < r; i++)
		ext[i] = D->shape[i];
	for (int j = 0; j < s->n_red; j++)
		ext[r + j] = s->red_extent[j];
	float *v = calloc((size_t)s->n_ins + 1, sizeof(float));
	assert_non_null(v);
	int64_t npts = gos_numel(r, D->shape);
	for (int64_t p = 0; p < npts; p++) {
		int64_t rem = p;
		for (int d = r - 1; d >= 0; d--) {
			var[d] = rem % ext[d];
			rem /= ext[d];
		}
		float acc;
		if (s->red == GOS_RED_NONE) {
			acc = ev_point(n, s, bd, var, v);
		} else {
			acc = s->red == GOS_RED_SUM ? 0.0f : s->red == GOS_RED_MAX ? -INFINITY : INFINITY;
			for (int j = r; j < nv; j++)
				var[j] = 0;
			for (;;) {
				float x = ev_point(n, s, bd, var, v);
				acc = s->red == GOS_RED_SUM ? acc + x
				      : s->red == GOS_RED_MAX ? fmaxf(acc, x) : fminf(acc, x);
				int j = nv - 1;
				for (; j >= r; j--) {
					if (++var[j] < ext[j])
						break;
					var[j] = 0;
				}
				if (j < r)
					break;
			}
		}
		bd[s->dst][p] = acc;
	}
	free(v);
}

/* Runs m naively: inputs in input order; returns malloc'd outputs. */
static void naive_run(const gos_module *m, const gos_tensor *ins, gos_tensor *outs)
{
	float **data = calloc((size_t)m->n_val + 1, sizeof *data);
	char *owned = calloc((size_t)m->n_val + 1, 1);
	assert_non_null(data);
	assert_non_null(owned);
	for (int v = 0, k = 0; v < m->n_val; v++) {
		if (m->vals[v].kind == GOS_VAL_INPUT)
			data[v] = ins[k++].data;
		else if (m->vals[v].kind == GOS_VAL_WEIGHT)
			data[v] = m->vals[v].data;
	}
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		float **bd = calloc((size_t)n->n_buf + 1, sizeof *bd);
		assert_non_null(bd);
		for (int j = 0; j < n->n_buf; j++) {
			if (j < n->n_in) {
				bd[j] = data[n->in[j]];
			} else if (j < n->n_in + n->n_out) {
				int v = n->out[j - n->n_in];
				data[v] = calloc((size_t)gos_numel(m->vals[v].rank, m->vals[v].shape), sizeof(float));
				owned[v] = 1;
				bd[j] = data[v];
			} else {
				bd[j] = calloc((size_t)gos_numel(n->bufs[j].rank, n->bufs[j].shape), sizeof(float));
			}
		}
		for (int si = 0; si < n->n_stmt; si++)
			ev_stmt(n, &n->stmts[si], bd);
		for (int j = n->n_in + n->n_out; j < n->n_buf; j++)
			free(bd[j]);
		free(bd);
	}
	for (int i = 0; i < m->n_output; i++) {
		const gos_value *val = &m->vals[m->outputs[i]];
		int64_t k = gos_numel(val->rank, val->shape);
		outs[i].rank = val->rank;
		memcpy(outs[i].shape, val->shape, sizeof outs[i].shape);
		outs[i].data = malloc(sizeof(float) * (size_t)k + 1);
		memcpy(outs[i].data, data[m->outputs[i]], sizeof(float) * (size_t)k);
	}
	for (int v = 0; v < m->n_val; v++)
		if (owned[v])
			free(data[v]);
	free(data);
	free(owned);
}

/* Equal bits, or both NaN, or both zero: the sign of a zero is not
 * reproducible, since fmaxf/fminf of +0 and -0 may return either (C11
 * F.10.9.2 leaves it open; glibc's inline and library versions differ). */
static int same_float(float a, float b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	if (a == 0.0f && b == 0.0f)
		return 1;
	uint32_t x, y;
	memcpy(&x, &a, 4);
	memcpy(&y, &b, 4);
	return x == y;
}

static int max_vars(const gos_module *m)
{
	int mx = 0;
	for (int i = 0; i < m->n_node; i++)
		for (int s = 0; s < m->nodes[i].n_stmt; s++) {
			const gos_stmt *st = &m->nodes[i].stmts[s];
			int nv = m->nodes[i].bufs[st->dst].rank + st->n_red;
			mx = nv > mx ? nv : mx;
		}
	return mx;
}

/* Runs m on the interpreter with every lane choice and compares with the
 * naive evaluator bit for bit. Returns the naive outputs (caller frees). */
static void compare_all_lanes(const gos_module *m, const gos_tensor *ins, gos_tensor *ref,
                              const char *what)
{
	naive_run(m, ins, ref);
	int nv = max_vars(m);
	gos_tensor *outs = calloc((size_t)m->n_output + 1, sizeof *outs);
	assert_non_null(outs);
	for (int lane = -1; lane < nv; lane++) {
		gos_interp_set_lane(lane);
		gos_diags d;
		gos_diags_init(&d);
		int rc = gos_interp_run(m, ins, outs, &d);
		gos_interp_set_lane(-1);
		if (rc) {
			char *r = render(&d);
			print_error("%s: interpreter failed (lane %d):\n%s\n", what, lane, r);
			free(r);
			fail();
		}
		gos_diags_free(&d);
		for (int o = 0; o < m->n_output; o++) {
			int64_t k = gos_numel(ref[o].rank, ref[o].shape);
			assert_int_equal(outs[o].rank, ref[o].rank);
			for (int dd = 0; dd < ref[o].rank; dd++)
				assert_int_equal(outs[o].shape[dd], ref[o].shape[dd]);
			int bad = 0;
			for (int64_t i = 0; i < k; i++)
				if (!same_float(outs[o].data[i], ref[o].data[i]) && bad++ < 5)
					print_error("%s: lane %d output %d element %lld: interp %.9g naive %.9g\n",
					            what, lane, o, (long long)i, outs[o].data[i], ref[o].data[i]);
			if (bad) {
				char *buf = NULL;
				size_t len = 0;
				FILE *f = open_memstream(&buf, &len);
				gos_ir_print(f, m);
				fclose(f);
				print_error("module:\n%s\n", buf);
				free(buf);
				fail_msg("%s: %d elements differ (lane %d)", what, bad, lane);
			}
			free(outs[o].data);
			outs[o].data = NULL;
		}
	}
	free(outs);
}

/* Random inputs for m (in input order). */
static gos_tensor *make_inputs(const gos_module *m, int *n_in)
{
	int n = 0;
	for (int v = 0; v < m->n_val; v++)
		n += m->vals[v].kind == GOS_VAL_INPUT;
	gos_tensor *t = calloc((size_t)n + 1, sizeof *t);
	assert_non_null(t);
	for (int v = 0, k = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (val->kind != GOS_VAL_INPUT)
			continue;
		t[k].rank = val->rank;
		memcpy(t[k].shape, val->shape, sizeof t[k].shape);
		int64_t e = gos_numel(val->rank, val->shape);
		t[k].data = malloc(sizeof(float) * (size_t)e + 1);
		for (int64_t i = 0; i < e; i++) {
			uint32_t c = rnd() % 16;
			t[k].data[i] = c == 0 ? 0.0f : c == 1 ? 1.0f : c == 2 ? -1.0f : frand(-2, 2);
		}
		k++;
	}
	*n_in = n;
	return t;
}

static void free_tensors(gos_tensor *t, int n)
{
	for (int i = 0; i < n; i++)
		free(t[i].data);
}

/* Parses text, runs it with inputs given as float arrays, checks output o
 * against expected (exactly when tol == 0) and against the naive
 * evaluator for every lane. */
static void run_gir(const char *text, int n_in, const float *const *in_data, int n_exp,
                    const float *const *expected, double tol)
{
	gos_module *m = parse_ok(text);
	gos_tensor ins[8];
	int k = 0;
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].kind == GOS_VAL_INPUT) {
			assert_true(k < n_in);
			ins[k].rank = m->vals[v].rank;
			memcpy(ins[k].shape, m->vals[v].shape, sizeof ins[k].shape);
			ins[k].data = (float *)in_data[k];
			k++;
		}
	assert_int_equal(k, n_in);
	gos_tensor ref[16];
	assert_true(m->n_output <= 16);
	compare_all_lanes(m, ins, ref, m->name);
	for (int o = 0; o < n_exp && o < m->n_output; o++) {
		if (!expected[o])
			continue;
		int64_t e = gos_numel(ref[o].rank, ref[o].shape);
		for (int64_t i = 0; i < e; i++) {
			float g = ref[o].data[i], w = expected[o][i];
			int ok = isnan(w) ? isnan(g)
			         : tol == 0 || isinf(w) ? same_float(g, w) || (g == w)
			         : fabs((double)g - w) <= tol * (1 + fabs((double)w));
			if (!ok)
				fail_msg("%s output %d element %lld: got %.9g, expected %.9g", m->name, o,
				         (long long)i, g, w);
		}
	}
	free_tensors(ref, m->n_output);
	gos_module_free(m);
}

/* ---- hand-written cases -------------------------------------------------- */

static void test_opcodes_unary_binary(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel ops\n"
		"input %a : f32[6]\ninput %b : f32[6]\ninput %c : f32[6]\n"
		"node n = f(A=%a, B=%b, C=%c) -> (Y0=%y0 : f32[6], Y1=%y1 : f32[6], Y2=%y2 : f32[6],"
		" Y3=%y3 : f32[6], Y4=%y4 : f32[6], Y5=%y5 : f32[6], Y6=%y6 : f32[6], Y7=%y7 : f32[6]) {\n"
		"  Y0[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = add %0, %1 } -> %2\n"
		"  Y1[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = sub %0, %1 } -> %2\n"
		"  Y2[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = mul %0, %1 } -> %2\n"
		"  Y3[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = div %0, %1 } -> %2\n"
		"  Y4[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = max %0, %1 } -> %2\n"
		"  Y5[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = min %0, %1 } -> %2\n"
		"  Y6[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = pow %0, %1 } -> %2\n"
		"  Y7[i:6] = { %0 = load A[i]\n %1 = load B[i]\n %2 = load C[i]\n %3 = fma %0, %1, %2 } -> %3\n"
		"}\n"
		"output %y0\noutput %y1\noutput %y2\noutput %y3\noutput %y4\noutput %y5\noutput %y6\noutput %y7\n";
	const float a[6] = {1, -2, 3, 0.5f, 4, 2};
	const float b[6] = {2, 4, -1, 0.25f, 0.5f, 10};
	const float c[6] = {1, 1, 1, -1, 0, 0.5f};
	const float e0[6] = {3, 2, 2, 0.75f, 4.5f, 12};
	const float e1[6] = {-1, -6, 4, 0.25f, 3.5f, -8};
	const float e2[6] = {2, -8, -3, 0.125f, 2, 20};
	const float e3[6] = {0.5f, -0.5f, -3, 2, 8, 0.2f};
	const float e4[6] = {2, 4, 3, 0.5f, 4, 10};
	const float e5[6] = {1, -2, -1, 0.25f, 0.5f, 2};
	const float e6[6] = {1, 16, 1.0f / 3.0f, 0.840896415f, 2, 1024};
	const float e7[6] = {3, -7, -2, -0.875f, 2, 20.5f};
	const float *in[3] = {a, b, c};
	const float *ex[8] = {e0, e1, e2, e3, e4, e5, e6, e7};
	run_gir(text, 3, in, 8, ex, 1e-6);

	const char *text2 =
		"gir 1\nmodel un\n"
		"input %a : f32[8]\n"
		"node n = f(A=%a) -> (N=%n : f32[8], B=%ab : f32[8], F=%fl : f32[8], T=%t : f32[8],"
		" E=%e : f32[8], L=%l : f32[8], S=%s : f32[8], R=%r : f32[8], X=%x : f32[8]) {\n"
		"  N[i:8] = { %0 = load A[i]\n %1 = neg %0 } -> %1\n"
		"  B[i:8] = { %0 = load A[i]\n %1 = abs %0 } -> %1\n"
		"  F[i:8] = { %0 = load A[i]\n %1 = floor %0 } -> %1\n"
		"  T[i:8] = { %0 = load A[i]\n %1 = tanh %0 } -> %1\n"
		"  E[i:8] = { %0 = load A[i]\n %1 = exp %0 } -> %1\n"
		"  L[i:8] = { %0 = load A[i]\n %1 = log %0 } -> %1\n"
		"  S[i:8] = { %0 = load A[i]\n %1 = sqrt %0 } -> %1\n"
		"  R[i:8] = { %0 = load A[i]\n %1 = rsqrt %0 } -> %1\n"
		"  X[i:8] = { %0 = load A[i]\n %1 = erf %0 } -> %1\n"
		"}\n"
		"output %n\noutput %ab\noutput %fl\noutput %t\noutput %e\noutput %l\noutput %s\noutput %r\noutput %x\n";
	const float u[8] = {-2.5f, -1, 0, 0.25f, 1, 4, 2.75f, -0.0f};
	const float n[8] = {2.5f, 1, -0.0f, -0.25f, -1, -4, -2.75f, 0};
	const float ab[8] = {2.5f, 1, 0, 0.25f, 1, 4, 2.75f, 0};
	const float fl[8] = {-3, -1, 0, 0, 1, 4, 2, -0.0f};
	const float th[8] = {-0.986614298f, -0.761594156f, 0, 0.244918662f, 0.761594156f,
	                     0.999329300f, 0.991859462f, 0};
	const float ex_[8] = {0.0820849986f, 0.367879441f, 1, 1.28402542f, 2.71828183f,
	                      54.5981500f, 15.6426319f, 1};
	const float lg[8] = {NAN, NAN, -INFINITY, -1.38629436f, 0, 1.38629436f, 1.01160091f,
	                     -INFINITY};
	const float sq[8] = {NAN, NAN, 0, 0.5f, 1, 2, 1.6583124f, -0.0f};
	const float rs[8] = {NAN, NAN, INFINITY, 2, 1, 0.5f, 0.603022689f, -INFINITY};
	const float er[8] = {-0.999593048f, -0.842700793f, 0, 0.276326390f, 0.842700793f,
	                     0.999999985f, 0.999899378f, 0};
	const float *in2[1] = {u};
	const float *ex2[9] = {n, ab, fl, th, ex_, lg, sq, rs, er};
	run_gir(text2, 1, in2, 9, ex2, 1e-6);
}

static void test_opcodes_compare_select_index(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel cmp\n"
		"input %a : f32[5]\ninput %b : f32[5]\n"
		"node n = f(A=%a, B=%b) -> (LT=%lt : f32[5], LE=%le : f32[5], EQ=%eq : f32[5],"
		" NE=%ne : f32[5], S=%s : f32[5], I=%ix : f32[5], K=%k : f32[5]) {\n"
		"  LT[i:5] = { %0 = load A[i]\n %1 = load B[i]\n %2 = lt %0, %1 } -> %2\n"
		"  LE[i:5] = { %0 = load A[i]\n %1 = load B[i]\n %2 = le %0, %1 } -> %2\n"
		"  EQ[i:5] = { %0 = load A[i]\n %1 = load B[i]\n %2 = eq %0, %1 } -> %2\n"
		"  NE[i:5] = { %0 = load A[i]\n %1 = load B[i]\n %2 = ne %0, %1 } -> %2\n"
		"  S[i:5] = { %0 = load A[i]\n %1 = load B[i]\n %2 = sub %0, %1\n %3 = select %2, %0, %1 } -> %3\n"
		"  I[i:5] = { %0 = index i*3 - 7 } -> %0\n"
		"  K[i:5] = { %0 = const -1.5 } -> %0\n"
		"}\n"
		"output %lt\noutput %le\noutput %eq\noutput %ne\noutput %s\noutput %ix\noutput %k\n";
	const float a[5] = {1, 2, 3, NAN, -0.0f};
	const float b[5] = {2, 2, 1, 1, 0.0f};
	const float lt[5] = {1, 0, 0, 0, 0}, le[5] = {1, 1, 0, 0, 1}, eq[5] = {0, 1, 0, 0, 1},
	            ne[5] = {1, 0, 1, 1, 0};
	/* select: c != 0 picks a; NaN != 0 is true */
	const float s[5] = {1, 2, 3, NAN, 0.0f};
	const float ix[5] = {-7, -4, -1, 2, 5};
	const float k[5] = {-1.5f, -1.5f, -1.5f, -1.5f, -1.5f};
	const float *in[2] = {a, b};
	const float *ex[7] = {lt, le, eq, ne, s, ix, k};
	run_gir(text, 2, in, 7, ex, 0);
}

/* Index operators: floor division and non-negative remainder of negative
 * values, min, max, products of variables. */
static void test_index_ops(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel ix\n"
		"input %a : f32[1]\n"
		"node n = f(A=%a) -> (D=%d : f32[7], M=%m : f32[7], X=%x : f32[7], P=%p : f32[3,4]) {\n"
		"  D[i:7] = { %0 = index (i - 3) / 2 } -> %0\n"
		"  M[i:7] = { %0 = index (i - 3) % 3 } -> %0\n"
		"  X[i:7] = { %0 = index min(i, 4) - max(i - 5, 0) } -> %0\n"
		"  P[i:3, j:4] = { %0 = index i*j - j } -> %0\n"
		"}\n"
		"output %d\noutput %m\noutput %x\noutput %p\n";
	const float a[1] = {0};
	const float d[7] = {-2, -1, -1, 0, 0, 1, 1};
	const float m[7] = {0, 1, 2, 0, 1, 2, 0};
	const float x[7] = {0, 1, 2, 3, 4, 4, 3};
	const float p[12] = {0, -1, -2, -3, 0, 0, 0, 0, 0, 1, 2, 3};
	const float *in[1] = {a};
	const float *ex[4] = {d, m, x, p};
	run_gir(text, 1, in, 4, ex, 0);
}

static void test_reductions(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel red\n"
		"input %a : f32[2,3]\n"
		"node n = f(A=%a) -> (S=%s : f32[2], X=%x : f32[3], N=%n : f32[], T=%t : f32[2,3]) {\n"
		"  S[i:2] = sum(j:3) { %0 = load A[i, j] } -> %0\n"
		"  X[j:3] = max(i:2) { %0 = load A[i, j] } -> %0\n"
		"  N[] = min(i:2, j:3) { %0 = load A[i, j] } -> %0\n"
		"  T[i:2, j:3] = sum(k:4) { %0 = load A[i, j]\n %1 = index k\n %2 = mul %0, %1 } -> %2\n"
		"}\n"
		"output %s\noutput %x\noutput %n\noutput %t\n";
	const float a[6] = {1, -2, 3, 4, 5, -6};
	const float s[2] = {2, 3}, x[3] = {4, 5, 3}, n[1] = {-6};
	const float t[6] = {6, -12, 18, 24, 30, -36};
	const float *in[1] = {a};
	const float *ex[4] = {s, x, n, t};
	run_gir(text, 1, in, 4, ex, 0);

	/* empty-looking reductions: max over -inf values stays -inf; NaN is
	 * ignored by max/min (fmaxf) but poisons sums */
	const char *text2 =
		"gir 1\nmodel red2\n"
		"input %a : f32[4]\n"
		"node n = f(A=%a) -> (X=%x : f32[], N=%n : f32[], S=%s : f32[], P=%p : f32[]) {\n"
		"  X[] = max(i:4) { %0 = load A[i] } -> %0\n"
		"  N[] = min(i:4) { %0 = load A[i] } -> %0\n"
		"  S[] = sum(i:4) { %0 = load A[i] } -> %0\n"
		"  P[] = max(i:4) { %0 = load A[i + 10] else -inf } -> %0\n"
		"}\n"
		"output %x\noutput %n\noutput %s\noutput %p\n";
	const float a2[4] = {1, NAN, -3, 2};
	const float x2[1] = {2}, n2[1] = {-3}, s2[1] = {NAN}, p2[1] = {-INFINITY};
	const float *in2[1] = {a2};
	const float *ex2[4] = {x2, n2, s2, p2};
	run_gir(text2, 1, in2, 4, ex2, 0);
}

static void test_padded_loads(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel pad\n"
		"input %a : f32[2,3]\n"
		"node n = f(A=%a) -> (Y=%y : f32[4,5], Z=%z : f32[4,5], W=%w : f32[6]) {\n"
		"  Y[i:4, j:5] = { %0 = load A[i - 1, j - 1] else 0 } -> %0\n"
		"  Z[i:4, j:5] = { %0 = load A[i - 1, j - 1] else -inf\n %1 = load A[3 - i, 4 - j] else 2.5\n"
		"                  %2 = max %0, %1 } -> %2\n"
		"  W[k:6] = { %0 = load A[k / 3, k % 3 + 1] else nan } -> %0\n"
		"}\n"
		"output %y\noutput %z\noutput %w\n";
	const float a[6] = {1, 2, 3, 4, 5, 6};
	const float y[20] = {0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0};
	/* Z[i,j] = max(A[i-1, j-1] or -inf, A[3-i, 4-j] or 2.5) */
	float z[20];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 5; j++) {
			float p = (i - 1 >= 0 && i - 1 < 2 && j - 1 >= 0 && j - 1 < 3) ? a[(i - 1) * 3 + j - 1]
			                                                                : -INFINITY;
			float q = (3 - i >= 0 && 3 - i < 2 && 4 - j >= 0 && 4 - j < 3) ? a[(3 - i) * 3 + 4 - j]
			                                                                : 2.5f;
			z[i * 5 + j] = fmaxf(p, q);
		}
	const float w[6] = {2, 3, NAN, 5, 6, NAN};
	const float *in[1] = {a};
	const float *ex[3] = {y, z, w};
	run_gir(text, 1, in, 3, ex, 0);
}

/* Statements that read the element they write (bias, scaling), a local
 * used by later statements, a weight and a rank-0 value. */
static void test_in_place(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel inplace\n"
		"input %x : f32[2,3]\n"
		"weight %b : f32[3] = data(10, 20, 30)\n"
		"weight %s : f32[] = data(0.5)\n"
		"node n = f(X=%x, B=%b, S=%s) -> (Y=%y : f32[2,3]) {\n"
		"  local T[3]\n"
		"  Y[i:2, j:3] = { %0 = load X[i, j] } -> %0\n"
		"  Y[i:2, j:3] = { %0 = load Y[i, j]\n %1 = load B[j]\n %2 = add %0, %1 } -> %2\n"
		"  T[j:3] = sum(i:2) { %0 = load Y[i, j] } -> %0\n"
		"  Y[i:2, j:3] = { %0 = load Y[i, j]\n %1 = load S[]\n %2 = mul %0, %1\n"
		"                  %3 = load T[j]\n %4 = sub %2, %3 } -> %4\n"
		"  Y[i:2, j:3] = sum(k:2) { %0 = load Y[i, j]\n %1 = load X[k, j]\n %2 = mul %0, %1 } -> %2\n"
		"}\n"
		"output %y\n";
	const float x[6] = {1, 2, 3, 4, 5, 6};
	float y[6];
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 3; j++) {
			float b = (float)(10 * (j + 1));
			float t = (x[j] + b) + (x[3 + j] + b);
			float v = (x[i * 3 + j] + b) * 0.5f - t;
			y[i * 3 + j] = 0.0f + v * x[j] + v * x[3 + j];
		}
	const float *in[1] = {x};
	const float *ex[1] = {y};
	run_gir(text, 1, in, 1, ex, 0);
}

/* Extents around the interpreter's 128-lane blocks, strided and
 * reversed loads, a reduction over many points. */
static void test_block_boundaries(void **state)
{
	(void)state;
	rng_state = 77;
	const int sizes[] = {1, 2, 127, 128, 129, 255, 256, 257, 300};
	for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
		int L = sizes[si];
		char text[2048];
		snprintf(text, sizeof text,
		         "gir 1\nmodel blk\n"
		         "input %%a : f32[3,%d]\n"
		         "node n = f(A=%%a) -> (R=%%r : f32[3,%d], S=%%s : f32[3], T=%%t : f32[%d,3],"
		         " P=%%p : f32[3,%d], M=%%m : f32[%d]) {\n"
		         "  R[i:3, j:%d] = { %%0 = load A[i, %d - j]\n %%1 = load A[2 - i, j]\n %%2 = sub %%0, %%1 } -> %%2\n"
		         "  S[i:3] = sum(j:%d) { %%0 = load A[i, j]\n %%1 = load A[0, j]\n %%2 = mul %%0, %%1 } -> %%2\n"
		         "  T[j:%d, i:3] = { %%0 = load A[i, j] } -> %%0\n"
		         "  P[i:3, j:%d] = { %%0 = load A[i, 2*j - 5] else -1\n %%1 = load A[i, j + 3] else 0.5\n"
		         "                   %%2 = add %%0, %%1 } -> %%2\n"
		         "  M[j:%d] = max(i:3, k:2) { %%0 = load A[i, (j + k) %% %d] } -> %%0\n"
		         "}\n"
		         "output %%r\noutput %%s\noutput %%t\noutput %%p\noutput %%m\n",
		         L, L, L, L, L, L, L - 1, L, L, L, L, L);
		gos_module *m = parse_ok(text);
		int n_in;
		gos_tensor *ins = make_inputs(m, &n_in);
		gos_tensor ref[5];
		char what[64];
		snprintf(what, sizeof what, "block boundaries L=%d", L);
		compare_all_lanes(m, ins, ref, what);
		/* and against values computed directly */
		const float *a = ins[0].data;
		for (int i = 0; i < 3; i++) {
			float s = 0;
			for (int j = 0; j < L; j++) {
				assert_true(same_float(ref[0].data[i * L + j], a[i * L + L - 1 - j] - a[(2 - i) * L + j]));
				s += a[i * L + j] * a[j];
				assert_true(same_float(ref[2].data[j * 3 + i], a[i * L + j]));
				int c = 2 * j - 5;
				float p = (c >= 0 && c < L) ? a[i * L + c] : -1.0f;
				float q = j + 3 < L ? a[i * L + j + 3] : 0.5f;
				assert_true(same_float(ref[3].data[i * L + j], p + q));
			}
			assert_true(same_float(ref[1].data[i], s));
		}
		for (int j = 0; j < L; j++) {
			float mx = -INFINITY;
			for (int i = 0; i < 3; i++)
				for (int k = 0; k < 2; k++)
					mx = fmaxf(mx, a[i * L + (j + k) % L]);
			assert_true(same_float(ref[4].data[j], mx));
		}
		free_tensors(ref, 5);
		free_tensors(ins, n_in);
		free(ins);
		gos_module_free(m);
	}
}

/* A chain of nodes where temps are freed after their last reader and an
 * output is also read by a later node; an input that is an output. */
static void test_graph(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel g\n"
		"input %x : f32[4]\n"
		"node a = f(X=%x) -> (Y=%a : f32[4]) {\n  Y[i:4] = { %0 = load X[i]\n %1 = const 2\n %2 = mul %0, %1 } -> %2\n}\n"
		"node b = f(X=%a) -> (Y=%b : f32[4]) {\n  Y[i:4] = { %0 = load X[3 - i] } -> %0\n}\n"
		"node c = f(X=%a, Z=%b) -> (Y=%c : f32[4]) {\n  Y[i:4] = { %0 = load X[i]\n %1 = load Z[i]\n %2 = add %0, %1 } -> %2\n}\n"
		"output %c\noutput %a\noutput %x\noutput %c\n";
	const float x[4] = {1, 2, 3, 4};
	const float c[4] = {10, 10, 10, 10}, a[4] = {2, 4, 6, 8};
	const float *in[1] = {x};
	const float *ex[4] = {c, a, x, c};
	run_gir(text, 1, in, 4, ex, 0);
}

/* The small_cnn and opcodes fixtures of tests/ir run and agree with the
 * naive evaluator. */
static void test_fixture_modules(void **state)
{
	(void)state;
	gos_module *ms[5] = {fx_conv(), fx_softmax(), fx_maxpool(), fx_select(), fx_chain()};
	for (int i = 0; i < 5; i++) {
		gos_diags d;
		gos_diags_init(&d);
		assert_int_equal(gos_verify(ms[i], &d), 0);
		assert_int_equal(gos_module_materialize(ms[i], &d), 0);
		gos_diags_free(&d);
		int n_in;
		gos_tensor *ins = make_inputs(ms[i], &n_in);
		gos_tensor ref[4];
		compare_all_lanes(ms[i], ins, ref, ms[i]->name);
		free_tensors(ref, ms[i]->n_output);
		free_tensors(ins, n_in);
		free(ins);
		gos_module_free(ms[i]);
	}
}

/* ---- random statements ---------------------------------------------------- */

/* A random index expression over the variables (extents ext[0..nv)) for
 * a dimension of size D. *need_pad is set when it may leave [0, D). */
static int rand_ix(gos_stmt *s, int nv, const int64_t *ext, int64_t D, int *need_pad)
{
	int kind = rint_(0, 7);
	/* a variable whose extent equals D, if any */
	int match = -1;
	for (int v = 0; v < nv; v++)
		if (ext[v] == D && (match < 0 || rnd() % 2))
			match = v;
	if (kind <= 1 && match >= 0) {
		*need_pad = 0;
		return fx_v(s, match);
	}
	if (kind == 2) {
		*need_pad = 0;
		return fx_c(s, rint_(0, (int)D - 1));
	}
	/* affine: c0 + sum c_v * v over up to 3 variables */
	int e = fx_c(s, rint_(-3, 3));
	int nt = nv ? rint_(1, 3) : 0;
	for (int t = 0; t < nt; t++) {
		int v = rint_(0, nv - 1), c = rint_(-2, 2);
		int term = c == 1 ? fx_v(s, v) : fx_bin(s, GOS_IX_MUL, fx_c(s, c), fx_v(s, v));
		e = fx_bin(s, rnd() % 4 ? GOS_IX_ADD : GOS_IX_SUB, e, term);
	}
	switch (kind) {
	case 3: /* clamped */
		*need_pad = 0;
		return fx_bin(s, GOS_IX_MIN, fx_bin(s, GOS_IX_MAX, e, fx_c(s, 0)), fx_c(s, D - 1));
	case 4: /* modulo */
		*need_pad = 0;
		return fx_ix(s, GOS_IX_MOD, e, 0, D);
	case 5: /* division, padded */
		*need_pad = 1;
		return fx_ix(s, GOS_IX_DIV, e, 0, rint_(1, 3));
	case 6: /* product of two variables, padded */
		if (nv >= 2) {
			*need_pad = 1;
			return fx_bin(s, GOS_IX_MUL, fx_v(s, rint_(0, nv - 1)), fx_v(s, rint_(0, nv - 1)));
		}
		/* fall through */
	default: /* plain affine, padded */
		*need_pad = 1;
		return e;
	}
}

static const gos_opcode arith_ops[] = {
	GOS_OP_ADD, GOS_OP_SUB, GOS_OP_MUL, GOS_OP_DIV, GOS_OP_MAX, GOS_OP_MIN, GOS_OP_POW,
	GOS_OP_LT, GOS_OP_LE, GOS_OP_EQ, GOS_OP_NE, GOS_OP_NEG, GOS_OP_ABS, GOS_OP_EXP,
	GOS_OP_LOG, GOS_OP_SQRT, GOS_OP_RSQRT, GOS_OP_TANH, GOS_OP_ERF, GOS_OP_FLOOR,
	GOS_OP_FMA, GOS_OP_SELECT, GOS_OP_ADD, GOS_OP_MUL, GOS_OP_ADD, GOS_OP_MUL,
};

/* Fills statement s with random instructions reading buffers bufs[0..nb)
 * of node n (plus, when self >= 0, the destination at its own element). */
static void rand_body(gos_module *m, gos_node *n, gos_stmt *s, const int *bufs, int nb, int self)
{
	int r = n->bufs[s->dst].rank, nv = r + s->n_red;
	int64_t ext[GOS_MAX_VARS];
	for (int v = 0; v < r; v++)
		ext[v] = n->bufs[s->dst].shape[v];
	for (int j = 0; j < s->n_red; j++)
		ext[r + j] = s->red_extent[j];
	int nins = rint_(2, 10);
	while (s->n_ins < nins && s->n_ix < 1024 - 200) {
		int k = s->n_ins;
		int choice = k == 0 ? 0 : rint_(0, 9);
		if (choice <= 2) { /* load */
			int b;
			if (self >= 0 && rnd() % 3 == 0) {
				int idx[GOS_MAX_RANK];
				for (int d = 0; d < r; d++)
					idx[d] = fx_v(s, d);
				fx_load(m, s, self, r, idx, 0, 0);
				continue;
			}
			b = bufs[rnd() % (uint32_t)nb];
			const gos_buf *B = &n->bufs[b];
			int idx[GOS_MAX_RANK], pad = 0;
			for (int d = 0; d < B->rank; d++) {
				int np = 0;
				idx[d] = rand_ix(s, nv, ext, B->shape[d], &np);
				pad |= np;
			}
			static const float pads[] = {0.0f, -INFINITY, INFINITY, 2.5f, -1.0f};
			fx_load(m, s, b, B->rank, idx, pad || rnd() % 4 == 0, pads[rnd() % 5]);
		} else if (choice == 3) {
			fx_const(s, (float)rint_(-4, 4) * 0.75f);
		} else if (choice == 4 && nv) {
			int np;
			fx_index(m, s, rand_ix(s, nv, ext, 1000, &np));
		} else {
			gos_opcode op = arith_ops[rnd() % (sizeof arith_ops / sizeof arith_ops[0])];
			int a = rint_(0, k - 1), b = rint_(0, k - 1), c = rint_(0, k - 1);
			fx_ins(s, op, a, b, c);
		}
	}
	/* the result: usually the last instruction, sometimes an earlier one
	 * (later instructions are then dead) */
	s->result = rnd() % 5 ? s->n_ins - 1 : rint_(0, s->n_ins - 1);
}

/* fx_stmt with room for 1024 index nodes and 256 instructions. */
static gos_stmt *big_stmt(gos_module *m, int ni, int dst, gos_red red, const char *vars,
                          const int64_t *red_ext)
{
	gos_stmt *s = fx_stmt(m, ni, dst, red, vars, red_ext);
	s->ix = GOS_NEWN(m->arena, gos_ix, 1024);
	s->ins = GOS_NEWN(m->arena, gos_ins, 256);
	assert_non_null(s->ix);
	assert_non_null(s->ins);
	return s;
}

static void rand_shape(int rank, int64_t *shape, int big)
{
	for (int d = 0; d < rank; d++)
		shape[d] = big && d == rank - 1 ? rint_(120, 140) : rint_(1, 5);
}

/* A random node: inputs, a local written by one statement, the output
 * written by a statement reading inputs and the local, and optionally an
 * in-place update of the output. */
static gos_module *rand_module(void)
{
	gos_module *m = gos_module_new("rand");
	int big = rnd() % 6 == 0;
	int n_in = rint_(1, 3), vin[3];
	const char *names[3] = {"A", "B", "C"};
	char inames[16] = "";
	for (int i = 0; i < n_in; i++) {
		int64_t sh[GOS_MAX_RANK];
		int rank = rint_(0, 3);
		rand_shape(rank, sh, big && i == 0);
		char nm[8];
		snprintf(nm, sizeof nm, "x%d", i);
		vin[i] = fx_val(m, nm, GOS_VAL_INPUT, rank, sh);
		snprintf(inames + strlen(inames), sizeof inames - strlen(inames), "%s%s", i ? " " : "",
		         names[i]);
	}
	int64_t osh[GOS_MAX_RANK];
	int orank = rint_(0, 3);
	rand_shape(orank, osh, big);
	int y = fx_val(m, "y", GOS_VAL_TEMP, orank, osh);
	int ni = fx_node(m, "n", "rand", inames, vin, "Y", &y);
	gos_node *n = &m->nodes[ni];
	int ydst = n_in;
	int bufs[5];
	for (int i = 0; i < n_in; i++)
		bufs[i] = i;
	int nb = n_in;
	static const gos_red reds[4] = {GOS_RED_NONE, GOS_RED_SUM, GOS_RED_MAX, GOS_RED_MIN};
	static const char *const vn[] = {"i j k l m", "i j k l", "i j k", "i j", "i", ""};
	if (rnd() % 2) { /* a local */
		int64_t tsh[GOS_MAX_RANK];
		int trank = rint_(0, 2);
		rand_shape(trank, tsh, 0);
		int t = fx_local(m, ni, "T", trank, tsh);
		gos_red red = reds[rnd() % 4];
		int nred = red == GOS_RED_NONE ? 0 : rint_(1, 2);
		int64_t rext[2] = {rint_(1, 4), big ? rint_(125, 135) : rint_(1, 4)};
		char vars[64];
		snprintf(vars, sizeof vars, "%s", vn[5 - trank - nred]);
		gos_stmt *s = big_stmt(m, ni, t, red, vars, rext);
		rand_body(m, n, s, bufs, nb, -1);
		bufs[nb++] = t;
	}
	gos_red red = reds[rnd() % 4];
	int nred = red == GOS_RED_NONE ? 0 : rint_(1, 2);
	if (orank + nred > 5)
		nred = 5 - orank;
	if (!nred)
		red = GOS_RED_NONE;
	int64_t rext[2] = {rint_(1, 4), big ? rint_(125, 135) : rint_(1, 4)};
	gos_stmt *s = big_stmt(m, ni, ydst, red, vn[5 - orank - nred], rext);
	rand_body(m, n, s, bufs, nb, -1);
	if (rnd() % 2) { /* in place */
		gos_red r2 = reds[rnd() % 4];
		int nr2 = r2 == GOS_RED_NONE ? 0 : 1;
		if (orank + nr2 > 5) {
			nr2 = 0;
			r2 = GOS_RED_NONE;
		}
		int64_t e2[1] = {rint_(1, 3)};
		s = big_stmt(m, ni, ydst, r2, vn[5 - orank - nr2], e2);
		rand_body(m, n, s, bufs, nb, ydst);
	}
	gos_module_add_output(m, y);
	return m;
}

static void test_random_statements(void **state)
{
	(void)state;
	rng_state = 0xC0FFEE;
	int ran = 0, rejected = 0;
	const char *env = getenv("GOS_INTERP_FUZZ");
	int rounds = env ? atoi(env) : 400;
	for (int it = 0; it < rounds; it++) {
		gos_module *m = rand_module();
		gos_diags d;
		gos_diags_init(&d);
		if (gos_verify(m, &d)) { /* e.g. an index the interval analysis cannot bound */
			rejected++;
			gos_diags_free(&d);
			gos_module_free(m);
			continue;
		}
		gos_diags_free(&d);
		int n_in;
		gos_tensor *ins = make_inputs(m, &n_in);
		gos_tensor ref[1];
		char what[64];
		snprintf(what, sizeof what, "random module %d", it);
		compare_all_lanes(m, ins, ref, what);
		free_tensors(ref, 1);
		free_tensors(ins, n_in);
		free(ins);
		gos_module_free(m);
		ran++;
	}
	print_message("random statements: %d ran, %d not valid\n", ran, rejected);
	assert_true(ran > rounds / 2);
}

/* ---- invalid modules: errors, never crashes -------------------------------- */

/* Runs m (not verified) with inputs shaped like its input values and
 * expects failure with an error mentioning want. */
static void expect_run_error(gos_module *m, const char *want)
{
	int n_in;
	gos_tensor *ins = make_inputs(m, &n_in);
	gos_tensor outs[4];
	gos_diags d;
	gos_diags_init(&d);
	int rc = gos_interp_run(m, ins, outs, &d);
	char *r = render(&d);
	if (rc != -1 || d.n_errors == 0)
		fail_msg("expected an interpreter error (%s), got rc %d:\n%s", want, rc, r);
	if (want && !strstr(r, want))
		fail_msg("expected '%s' in:\n%s", want, r);
	for (int i = 0; i < m->n_output && i < 4; i++)
		assert_null(outs[i].data);
	free(r);
	gos_diags_free(&d);
	free_tensors(ins, n_in);
	free(ins);
}

static void test_invalid_modules(void **state)
{
	(void)state;
	/* out-of-range load without padding (the verifier would reject it) */
	gos_module *m = gos_module_new("oob");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 1, SHAPE(4));
	int y = fx_val(m, "y", GOS_VAL_TEMP, 1, SHAPE(4));
	int ni = fx_node(m, "n", "f", "X", &x, "Y", &y);
	gos_stmt *s = fx_stmt(m, ni, 1, GOS_RED_NONE, "i", NULL);
	int ix = fx_bin(s, GOS_IX_ADD, fx_v(s, 0), fx_c(s, 1));
	fx_load(m, s, 0, 1, &ix, 0, 0);
	gos_module_add_output(m, y);
	expect_run_error(m, "out of range");
	/* the same through a reduction and a lane-dependent atom */
	s->ix[ix] = (gos_ix){GOS_IX_DIV, fx_bin(s, GOS_IX_MUL, fx_v(s, 0), fx_c(s, 3)), 0, 2};
	expect_run_error(m, "out of range");
	gos_module_free(m);

	/* a malformed statement: bad buffer, forward operand, bad variable,
	 * cyclic index pool, zero divisor, bad opcode, result out of range */
	for (int k = 0; k < 9; k++) {
		m = gos_module_new("bad");
		x = fx_val(m, "x", GOS_VAL_INPUT, 1, SHAPE(4));
		y = fx_val(m, "y", GOS_VAL_TEMP, 1, SHAPE(4));
		ni = fx_node(m, "n", "f", "X", &x, "Y", &y);
		s = fx_stmt(m, ni, 1, GOS_RED_NONE, "i", NULL);
		int v = fx_v(s, 0);
		int l = fx_load(m, s, 0, 1, &v, 0, 0);
		int e = fx_ins(s, GOS_OP_EXP, l, 0, 0);
		(void)e;
		switch (k) {
		case 0: s->ins[l].buf = 7; break;
		case 1: s->ins[e].arg[0] = 5; break;
		case 2: s->ix[v].k = 3; break;
		case 3: s->ix[v] = (gos_ix){GOS_IX_ADD, v, v, 0}; break;
		case 4: s->ix[v] = (gos_ix){GOS_IX_DIV, fx_v(s, 0), 0, 0}; break;
		case 5: s->ins[e].op = (gos_opcode)99; break;
		case 6: s->result = 9; break;
		case 7: s->dst = 0; break; /* writes an input */
		case 8: s->ix[v].op = (gos_ixop)77; break;
		}
		gos_module_add_output(m, y);
		expect_run_error(m, NULL);
		gos_module_free(m);
	}

	/* input shape mismatch; missing inputs; unmaterialised weight */
	m = gos_module_new("shape");
	x = fx_val(m, "x", GOS_VAL_INPUT, 1, SHAPE(4));
	int w = fx_val(m, "w", GOS_VAL_WEIGHT, 1, SHAPE(4));
	m->vals[w].init = GOS_INIT_FILL;
	y = fx_val(m, "y", GOS_VAL_TEMP, 1, SHAPE(4));
	ni = fx_node(m, "n", "f", "X W", (int[]){x, w}, "Y", &y);
	s = fx_stmt(m, ni, 2, GOS_RED_NONE, "i", NULL);
	fx_ins(s, GOS_OP_ADD, fx_load_vars(m, s, 0, 1), fx_load_vars(m, s, 1, 1), 0);
	gos_module_add_output(m, y);
	expect_run_error(m, "materialise");
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_module_materialize(m, &d), 0);
	gos_diags_free(&d);
	float buf[5] = {1, 2, 3, 4, 5};
	gos_tensor bad_in = {1, {5}, buf};
	gos_tensor outs[1];
	gos_diags_init(&d);
	assert_int_equal(gos_interp_run(m, &bad_in, outs, &d), -1);
	assert_true(d.n_errors > 0);
	assert_null(outs[0].data);
	gos_diags_free(&d);
	gos_diags_init(&d);
	assert_int_equal(gos_interp_run(m, NULL, outs, &d), -1);
	assert_true(d.n_errors > 0);
	gos_diags_free(&d);
	gos_tensor nodata = {1, {4}, NULL};
	gos_diags_init(&d);
	assert_int_equal(gos_interp_run(m, &nodata, outs, &d), -1);
	gos_diags_free(&d);
	/* an output that names no value; a node that reads a temp before it
	 * is defined; a node that defines an input */
	m->outputs[0] = 99;
	expect_run_error(m, NULL);
	m->outputs[0] = y;
	m->nodes[0].in[0] = y;
	m->nodes[0].bufs[0].value = y;
	expect_run_error(m, "before");
	m->nodes[0].in[0] = x;
	m->nodes[0].bufs[0].value = x;
	m->nodes[0].out[0] = x;
	expect_run_error(m, NULL);
	m->nodes[0].out[0] = y;
	/* a buffer whose shape differs from its value's */
	m->nodes[0].bufs[0].shape[0] = 3;
	expect_run_error(m, "shape");
	m->nodes[0].bufs[0].shape[0] = 4;
	/* still fine afterwards */
	int n_in;
	gos_tensor *ins = make_inputs(m, &n_in);
	gos_tensor ref[1];
	compare_all_lanes(m, ins, ref, "repaired");
	free_tensors(ref, 1);
	free_tensors(ins, n_in);
	free(ins);
	gos_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opcodes_unary_binary),
		cmocka_unit_test(test_opcodes_compare_select_index),
		cmocka_unit_test(test_index_ops),
		cmocka_unit_test(test_reductions),
		cmocka_unit_test(test_padded_loads),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_block_boundaries),
		cmocka_unit_test(test_graph),
		cmocka_unit_test(test_fixture_modules),
		cmocka_unit_test(test_random_statements),
		cmocka_unit_test(test_invalid_modules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
