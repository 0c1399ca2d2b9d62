/* test_synth_algebra.c -- the algebraic exact rules (passes/synth/fold.c,
 * simplify.c, share.c, merge.c): for each, randomised equivalence on the
 * interpreter (several seeds of weights and inputs), the node count the
 * rewrite leaves, gos_verify on the result; and the cases each must leave
 * alone. gos_synth_exact (-O2) is checked to apply them to a fixed point. */
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
#include "passes/passes.h"
#include "passes/synth/synth.h"

/* Loads .gos text; weights drawn from `he` / uniform / normal
 * initialisers are redrawn from seed (uniform ones within their bounds) (fills stay: they are what
 * simplify looks for). */
static gos_module *load(const char *text, uint64_t seed)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("alg.gos", text, strlen(text), NULL, &d);
	if (!m || gos_verify(m, &d) || gos_module_materialize(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test model does not load");
	}
	gos_diags_free(&d);
	gos_rng g;
	gos_rng_seed(&g, seed);
	for (int v = 0; v < m->n_val; v++) {
		gos_value *w = &m->vals[v];
		if (w->kind != GOS_VAL_WEIGHT || (w->init != GOS_INIT_UNIFORM && w->init != GOS_INIT_NORMAL))
			continue;
		/* within the initialiser's range (a variance stays positive) */
		double lo = w->init == GOS_INIT_UNIFORM ? w->lo : -1, hi = w->init == GOS_INIT_UNIFORM ? w->hi : 1;
		w->init = GOS_INIT_DATA;
		for (int64_t i = 0; i < gos_numel(w->rank, w->shape); i++)
			w->data[i] = (float)(lo + (hi - lo) * gos_rng_uniform(&g));
	}
	return m;
}

static int node_of(const gos_module *m, const char *name)
{
	for (int i = 0; i < m->n_node; i++)
		if (!strcmp(m->nodes[i].name, name))
			return i;
	fail_msg("no node '%s'", name);
	return -1;
}

/* max |a - b| / max |a| over output 0 of a and b on random inputs
 * (seed), on the interpreter. */
static double compare(const gos_module *a, const gos_module *b, uint64_t seed)
{
	gos_tensor in[4] = {{0}};
	int ni = 0;
	gos_rng g;
	gos_rng_seed(&g, seed);
	for (int v = 0; v < a->n_val && ni < 4; v++)
		if (a->vals[v].kind == GOS_VAL_INPUT) {
			in[ni].rank = a->vals[v].rank;
			memcpy(in[ni].shape, a->vals[v].shape, sizeof in[ni].shape);
			int64_t n = gos_numel(in[ni].rank, in[ni].shape);
			in[ni].data = malloc(sizeof(float) * (size_t)n);
			for (int64_t i = 0; i < n; i++)
				in[ni].data[i] = (float)(2 * gos_rng_uniform(&g) - 1);
			ni++;
		}
	gos_tensor ya[4], yb[4];
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_interp_run(a, in, ya, &d), 0);
	assert_int_equal(gos_interp_run(b, in, yb, &d), 0);
	gos_diags_free(&d);
	assert_int_equal(a->n_output, b->n_output);
	int64_t n = gos_numel(ya[0].rank, ya[0].shape);
	assert_int_equal(n, gos_numel(yb[0].rank, yb[0].shape));
	double e = 0, s = 0;
	for (int64_t i = 0; i < n; i++) {
		e = fmax(e, fabs((double)ya[0].data[i] - yb[0].data[i]));
		s = fmax(s, fabs(ya[0].data[i]));
	}
	for (int k = 0; k < a->n_output; k++) {
		free(ya[k].data);
		free(yb[k].data);
	}
	for (int k = 0; k < ni; k++)
		free(in[k].data);
	return s > 0 ? e / s : e;
}

/* Applies spec to text's model for three weight seeds: the result
 * verifies, has `nodes` nodes, and equals the original on three inputs. */
static void check_apply(const char *text, const char *spec, int nodes)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		gos_module *m = load(text, seed);
		gos_diags d;
		gos_diags_init(&d);
		gos_module *r = gos_synth_apply(m, spec, NULL, &d);
		if (!r)
			gos_diags_render(&d, stderr);
		assert_non_null(r);
		assert_int_equal(gos_verify(r, &d), 0);
		gos_diags_free(&d);
		assert_int_equal(r->n_node, nodes);
		for (uint64_t s = 10; s < 13; s++) {
			double e = compare(m, r, s * 7 + seed);
			if (e > 1e-5)
				fail_msg("%s (weights seed %d): relative error %g", spec, (int)seed, e);
		}
		gos_module_free(r);
		gos_module_free(m);
	}
}

/* Whether rule applies to node `node` of text's model. */
static int applies(const char *text, const char *rule, const char *node)
{
	gos_module *m = load(text, 1);
	int vals[16];
	int k = gos_synth_rule_find(rule)->params(m, node_of(m, node), vals, 16);
	gos_module_free(m);
	return k > 0;
}

/* ---- fold ------------------------------------------------------------ */

static const char fold_model[] =
	"model f {\n  input x: f32[1, 4, 8, 8];\n  weights seed 3;\n"
	"  s = mul(param[8, 4, 3, 3], param[8, 1, 1, 1]);\n"
	"  t = add(s, param[1] init fill(0.25));\n"
	"  h = conv2d(x, t, param[8]; pad = 1);\n"
	"  output y = relu(h);\n}\n";

static void test_fold(void **state)
{
	(void)state;
	check_apply(fold_model, "s/fold", 3);
	check_apply(fold_model, "s/fold,t/fold", 2);
	assert_false(applies(fold_model, "fold", "t")); /* reads s, not yet a constant */
	assert_false(applies(fold_model, "fold", "h")); /* reads the input */
	assert_false(applies(fold_model, "fold", "y"));
}

/* ---- simplify -------------------------------------------------------- */

static const char simplify_model[] =
	"op unit(X[..P]) -> Y[..P] { Y[..i] = (1.0 * X[..i] + 0.0 - 0.0) / 1.0; }\n"
	"op halve(X[..P]) -> Y[..P] { Y[..i] = X[..i] / 4.0; }\n"
	"op twice(X[..P]) -> Y[..P] { Y[..i] = X[..i] * 2.0; }\n"
	"model s {\n  input x: f32[1, 3, 6, 6];\n  weights seed 4;\n"
	"  a = unit(x);\n"
	"  b = mul(a, param[3, 1, 1] init ones);\n"
	"  c = add(param[1] init zeros, b);\n"
	"  h = conv2d(c, param[5, 3, 3, 3], param[5]; pad = 1);\n"
	"  q = halve(h);\n"
	"  t = twice(q);\n"
	"  output y = relu(t);\n}\n";

static void test_simplify(void **state)
{
	(void)state;
	check_apply(simplify_model, "a/simplify", 6);
	check_apply(simplify_model, "a/simplify,b/simplify,c/simplify", 4);
	/* x / 4 -> x * 0.25: the node stays, the division goes */
	gos_module *m = load(simplify_model, 1);
	gos_diags d;
	gos_diags_init(&d);
	gos_module *r = gos_synth_apply(m, "q/simplify", NULL, &d);
	assert_non_null(r);
	const gos_stmt *s = &r->nodes[node_of(r, "q")].stmts[0];
	int divs = 0, muls = 0;
	for (int i = 0; i < s->n_ins; i++)
		divs += s->ins[i].op == GOS_OP_DIV, muls += s->ins[i].op == GOS_OP_MUL;
	assert_int_equal(divs, 0);
	assert_int_equal(muls, 1);
	assert_true(compare(m, r, 5) < 1e-6);
	gos_module_free(r);
	gos_module_free(m);
	gos_diags_free(&d);
	check_apply(simplify_model, "q/simplify", 7);
	/* a contraction keeps its form, even with a weight of ones and a
	 * bias of zeros (the fast kernels need it) */
	static const char conv_ones[] =
		"model co {\n  input x: f32[1, 3, 6, 6];\n"
		"  h = conv2d(x, param[4, 3, 3, 3] init ones, param[4] init zeros; pad = 1);\n"
		"  output y = relu(h);\n}\n";
	assert_false(applies(conv_ones, "simplify", "h"));
	/* x * 2 stays; a multiply by a random weight stays */
	assert_false(applies(simplify_model, "simplify", "t"));
	assert_false(applies(simplify_model, "simplify", "h"));
	assert_false(applies(simplify_model, "simplify", "y"));
}

/* ---- share ----------------------------------------------------------- */

static const char share_model[] =
	"model h {\n  input x: f32[1, 3, 6, 6];\n  weights seed 5;\n"
	"  param w[4, 3, 3, 3] init he;\n"
	"  a = conv2d(x, w; pad = 1);\n"
	"  b = conv2d(x, w; pad = 1);\n"
	"  c = conv2d(x, param[4, 3, 3, 3]; pad = 1);\n"
	"  r1 = relu(a);\n  r2 = relu(b);\n"
	"  s = add(r1, r2);\n"
	"  output y = add(s, c);\n}\n";

static void test_share(void **state)
{
	(void)state;
	check_apply(share_model, "b/share", 6);
	check_apply(share_model, "b/share,r2/share", 5);
	/* c reads a weight of its own: equal by content once copied */
	for (uint64_t seed = 1; seed <= 3; seed++) {
		gos_module *m = load(share_model, seed);
		int c = node_of(m, "c"), a = node_of(m, "a");
		gos_value *wc = &m->vals[m->nodes[c].in[1]], *wa = &m->vals[m->nodes[a].in[1]];
		memcpy(wc->data, wa->data, sizeof(float) * (size_t)gos_numel(wa->rank, wa->shape));
		int vals[16];
		assert_int_equal(gos_synth_share_params(m, c, vals, 16), 1);
		/* one value different: not shared */
		float keep = wc->data[7];
		wc->data[7] = keep + 0.5f;
		assert_int_equal(gos_synth_share_params(m, c, vals, 16), 0);
		wc->data[7] = keep;
		gos_diags d;
		gos_diags_init(&d);
		gos_module *r = gos_synth_apply(m, "c/share", NULL, &d);
		if (!r)
			gos_diags_render(&d, stderr);
		assert_non_null(r);
		assert_int_equal(r->n_node, 6);
		assert_true(compare(m, r, seed) < 1e-6);
		gos_module_free(r);
		gos_module_free(m);
		gos_diags_free(&d);
	}
	assert_false(applies(share_model, "share", "c")); /* different random weights */
	assert_false(applies(share_model, "share", "a"));
	assert_false(applies(share_model, "share", "s"));
}

/* ---- merge ----------------------------------------------------------- */

static const char merge_model[] =
	"op mydense(X[N, C], W[K, C], B[K]) -> Y[N, K] {\n"
	"  Y[n, k] = sum(c: C) X[n, c] * W[k, c];\n  Y[n, k] = Y[n, k] + B[k];\n}\n"
	"model g {\n  input x: f32[2, 4, 7, 7];\n  input z: f32[3, 64];\n  weights seed 6;\n"
	/* 3x3 to 16 channels, then a 1x1 down to 4: merged */
	"  a = conv2d(x, param[16, 4, 3, 3], param[16]; pad = 1, stride = 2);\n"
	"  b = conv2d(a, param[4, 16, 1, 1], param[4]);\n"
	/* through a batchnorm (no bias on the first) */
	"  c = conv2d(b, param[16, 4, 3, 3]; pad = 1);\n"
	"  cn = batchnorm(c, param[16], param[16], param[16], param[16] init uniform(0.5, 2));\n"
	"  e = conv2d(cn, param[4, 16, 1, 1]);\n"
	/* a ReLU between: not merged */
	"  f = conv2d(e, param[16, 4, 3, 3], param[16]; pad = 1);\n"
	"  fr = relu(f);\n"
	"  g = conv2d(fr, param[4, 16, 1, 1], param[4]);\n"
	/* 1x1 up to more channels: more FLOPs merged, not merged */
	"  h = conv2d(g, param[4, 4, 3, 3], param[4]; pad = 1);\n"
	"  i = conv2d(h, param[16, 4, 1, 1], param[16]);\n"
	"  output y = relu(i);\n"
	/* dense after dense, and a user-written contraction */
	"  d1 = dense(z, param[32, 64], param[32]);\n"
	"  d2 = mydense(d1, param[8, 32], param[8]);\n"
	"  output v = relu(d2);\n}\n";

static void test_merge(void **state)
{
	(void)state;
	check_apply(merge_model, "b/merge", 13);
	check_apply(merge_model, "e/merge", 12);
	check_apply(merge_model, "b/merge,e/merge", 11);
	assert_true(applies(merge_model, "merge", "d2"));
	assert_false(applies(merge_model, "merge", "g")); /* a ReLU between */
	assert_false(applies(merge_model, "merge", "i")); /* would add FLOPs */
	assert_false(applies(merge_model, "merge", "a")); /* reads an input */
	assert_false(applies(merge_model, "merge", "f")); /* 3x3 second operator */
	/* the dense pair: compare output 1 through a model of it alone */
	static const char dense_model[] =
		"op mydense(X[N, C], W[K, C], B[K]) -> Y[N, K] {\n"
		"  Y[n, k] = sum(c: C) X[n, c] * W[k, c];\n  Y[n, k] = Y[n, k] + B[k];\n}\n"
		"model dd {\n  input z: f32[3, 64];\n  weights seed 7;\n"
		"  d1 = dense(z, param[32, 64], param[32]);\n"
		"  d2 = mydense(d1, param[8, 32], param[8]);\n"
		"  output v = relu(d2);\n}\n";
	check_apply(dense_model, "d2/merge", 2);
	/* the merged node needs fewer FLOPs */
	gos_module *m = load(merge_model, 1);
	gos_diags d;
	gos_diags_init(&d);
	gos_module *r = gos_synth_apply(m, "b/merge,e/merge,d2/merge", NULL, &d);
	assert_non_null(r);
	assert_true(gos_flops(r) < gos_flops(m));
	gos_module_free(r);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* ---- -O2 --------------------------------------------------------------- */

/* gos_synth_exact applies the rules to a fixed point: the fold chain,
 * the identity, the shared relu, the merge, on every seed. */
static void test_exact_fixpoint(void **state)
{
	(void)state;
	static const char model[] =
		"op unit(X[..P]) -> Y[..P] { Y[..i] = X[..i] * 1.0; }\n"
		"model o {\n  input x: f32[1, 4, 8, 8];\n  weights seed 8;\n"
		"  s = mul(param[16, 4, 3, 3], param[16, 1, 1, 1]);\n"
		"  t = add(s, param[1] init fill(0.25));\n"
		"  h = conv2d(x, t, param[16]; pad = 1);\n"
		"  u = unit(h);\n"
		"  g = conv2d(u, param[2, 16, 1, 1], param[2]);\n"
		"  r1 = relu(g);\n  r2 = relu(g);\n"
		"  output y = add(r1, r2);\n}\n";
	for (uint64_t seed = 1; seed <= 3; seed++) {
		gos_module *m = load(model, seed);
		gos_module *r = gos_module_clone(m);
		gos_diags d;
		gos_diags_init(&d);
		int k = gos_synth_exact(&r, "host", &d);
		if (k < 0)
			gos_diags_render(&d, stderr);
		/* fold s, fold t, simplify u, merge g, share r2 */
		assert_int_equal(k, 5);
		assert_int_equal(gos_verify(r, &d), 0);
		assert_int_equal(m->n_node, 8);
		assert_int_equal(r->n_node, 3); /* merged conv, relu, add */
		for (uint64_t s = 1; s <= 3; s++)
			assert_true(compare(m, r, s) < 1e-5);
		gos_module_free(r);
		gos_module_free(m);
		gos_diags_free(&d);
	}
}

/* A compiled -O2 engine (gos_synth_exact, the pipeline, host code) of
 * the model all four rules rewrite gives the interpreter's outputs of
 * the original. */
static void test_exact_host(void **state)
{
	(void)state;
	static const char model[] =
		"op unit(X[..P]) -> Y[..P] { Y[..i] = X[..i] * 1.0; }\n"
		"op quarter(X[..P]) -> Y[..P] { Y[..i] = X[..i] / 4.0; }\n"
		"model oh {\n  input x: f32[1, 4, 8, 8];\n  weights seed 9;\n"
		"  s = mul(param[16, 4, 3, 3], param[16, 1, 1, 1]);\n"
		"  h = conv2d(x, s, param[16]; pad = 1);\n"
		"  hn = batchnorm(h, param[16] init ones, param[16] init zeros, param[16],"
		" param[16] init uniform(0.5, 2));\n"
		"  u = unit(hn);\n"
		"  g = conv2d(u, param[2, 16, 1, 1], param[2]);\n"
		"  r1 = relu(g);\n  r2 = relu(g);\n"
		"  output y = quarter(add(r1, r2));\n}\n";
	for (uint64_t seed = 1; seed <= 2; seed++) {
		gos_module *m = load(model, seed);
		gos_tensor in = {4, {1, 4, 8, 8}, NULL}, out;
		in.data = malloc(sizeof(float) * 256);
		gos_rng g;
		gos_rng_seed(&g, seed + 100);
		for (int i = 0; i < 256; i++)
			in.data[i] = (float)(2 * gos_rng_uniform(&g) - 1);
		gos_diags d;
		gos_diags_init(&d);
		assert_int_equal(gos_interp_run(m, &in, &out, &d), 0);
		gos_engine_opts o = {"host", 1, 2};
		gos_engine *e = gos_engine_new(m, &o, &d);
		if (!e)
			gos_diags_render(&d, stderr);
		assert_non_null(e);
		float y[128];
		const float *ins[1] = {in.data};
		float *outs[1] = {y};
		assert_int_equal(gos_engine_output_numel(e, 0), 128);
		assert_int_equal(gos_engine_run(e, 1, ins, outs, &d), 0);
		double err = 0, sc = 0;
		for (int i = 0; i < 128; i++) {
			err = fmax(err, fabs((double)y[i] - out.data[i]));
			sc = fmax(sc, fabs(out.data[i]));
		}
		assert_true(err <= 1e-5 * sc);
		gos_engine_free(e);
		gos_diags_free(&d);
		free(out.data);
		free(in.data);
		gos_module_free(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_simplify),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_exact_fixpoint),
		cmocka_unit_test(test_exact_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
