/* test_passes.c -- the default pipeline keeps every example and golden
 * model valid after each pass and its outputs equal (interpreter before
 * vs after, same random inputs); batchnorm folding and fusion happen
 * where they should; the pass table and lists work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <glob.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frontend/frontend.h"
#include "passes/passes.h"

static const char *src_dir(void)
{
	const char *s = getenv("GOS_SOURCE_DIR");
	return s ? s : ".";
}

/* Runs m on inputs made from seed; returns malloc'd outputs. */
static gos_tensor *run(const gos_module *m, uint64_t seed)
{
	int ni = 0;
	for (int i = 0; i < m->n_val; i++)
		ni += m->vals[i].kind == GOS_VAL_INPUT;
	gos_tensor *in = calloc((size_t)ni + 1, sizeof *in);
	gos_rng r;
	gos_rng_seed(&r, seed);
	int k = 0;
	for (int i = 0; i < m->n_val; i++) {
		const gos_value *v = &m->vals[i];
		if (v->kind != GOS_VAL_INPUT)
			continue;
		gos_tensor *t = &in[k++];
		t->rank = v->rank;
		memcpy(t->shape, v->shape, sizeof t->shape);
		int64_t n = gos_numel(v->rank, v->shape);
		t->data = malloc(sizeof(float) * (size_t)n);
		for (int64_t j = 0; j < n; j++)
			t->data[j] = (float)(2 * gos_rng_uniform(&r) - 1);
	}
	gos_tensor *out = calloc((size_t)m->n_output + 1, sizeof *out);
	gos_diags d;
	gos_diags_init(&d);
	int rc = gos_interp_run(m, in, out, &d);
	if (rc)
		gos_diags_render(&d, stderr);
	assert_int_equal(rc, 0);
	gos_diags_free(&d);
	for (int i = 0; i < ni; i++)
		free(in[i].data);
	free(in);
	return out;
}

/* Pipeline on a clone of every model file; outputs must agree. */
static void check_file(const char *path, int *fused_nodes)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load(path, NULL, &d);
	if (!m)
		gos_diags_render(&d, stderr);
	assert_non_null(m);
	assert_int_equal(gos_module_materialize(m, &d), 0);
	gos_module *o = gos_module_clone(m);
	gos_pipeline_opts opts = {1, 1, NULL, NULL};
	int rc = gos_pipeline_run(o, &opts, &d);
	if (rc)
		gos_diags_render(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(gos_verify(o, &d), 0);
	*fused_nodes += m->n_node - o->n_node;
	gos_tensor *a = run(m, 11), *b = run(o, 11);
	assert_int_equal(m->n_output, o->n_output);
	for (int i = 0; i < m->n_output; i++) {
		assert_int_equal(a[i].rank, b[i].rank);
		int64_t n = gos_numel(a[i].rank, a[i].shape);
		double scale = 0, err = 0;
		for (int64_t j = 0; j < n; j++) {
			scale = fmax(scale, fabs(a[i].data[j]));
			err = fmax(err, fabs((double)a[i].data[j] - b[i].data[j]));
		}
		if (err > 1e-5 * (scale > 0 ? scale : 1))
			fprintf(stderr, "%s: output %d differs by %g (scale %g)\n", path, i, err, scale);
		assert_true(err <= 1e-5 * (scale > 0 ? scale : 1));
		free(a[i].data);
		free(b[i].data);
	}
	free(a);
	free(b);
	gos_module_free(o);
	gos_module_free(m);
	gos_diags_free(&d);
}

static void test_pipeline_keeps_outputs(void **state)
{
	(void)state;
	const char *pats[] = {"examples/*.gos", "examples/*/*.gos", "tests/ir/*.gos"};
	int files = 0, fused = 0;
	for (int p = 0; p < 3; p++) {
		char pat[4096];
		snprintf(pat, sizeof pat, "%s/%s", src_dir(), pats[p]);
		glob_t g;
		if (glob(pat, 0, NULL, &g))
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++, files++)
			check_file(g.gl_pathv[i], &fused);
		globfree(&g);
	}
	assert_true(files >= 20);
	assert_true(fused > 100); /* the CNNs lose most of their nodes */
}

/* Output 0 of a and b (run's, one output each) agree within tol
 * relative to 1 + |a|; frees both. */
static void expect_same_output(gos_tensor *a, gos_tensor *b, double tol)
{
	int64_t n = gos_numel(a[0].rank, a[0].shape);
	for (int64_t j = 0; j < n; j++)
		assert_float_equal(a[0].data[j], b[0].data[j], tol * (1 + fabs(a[0].data[j])));
	free(a[0].data);
	free(b[0].data);
	free(a);
	free(b);
}

static const char *conv_bn_relu =
	"model m {\n"
	"  input x: f32[1, 3, 6, 6];\n"
	"  weights seed 5;\n"
	"  c = conv2d(x, param[4, 3, 3, 3]; pad = 1);\n"
	"  b = batchnorm(c, param[4] init uniform(0.5, 2), param[4] init normal(0, 1),\n"
	"                param[4] init normal(0, 1), param[4] init uniform(0.5, 2); eps = 0.001);\n"
	"  output y = relu(b);\n"
	"}\n";

static void test_fold_and_fuse_shape(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("t.gos", conv_bn_relu, strlen(conv_bn_relu), NULL, &d);
	assert_non_null(m);
	assert_int_equal(gos_module_materialize(m, &d), 0);
	gos_tensor *a = run(m, 3);
	assert_int_equal(gos_pipeline_run_list(m, "fold_bn", &(gos_pipeline_opts){1, 1, NULL, NULL}, &d), 0);
	assert_int_equal(m->n_node, 2);
	assert_string_equal(m->nodes[0].op, "conv2d");
	assert_int_equal(m->nodes[0].n_in, 3); /* a bias appeared */
	assert_int_equal(gos_pipeline_run_list(m, "fuse,dce", &(gos_pipeline_opts){1, 1, NULL, NULL}, &d), 0);
	assert_int_equal(m->n_node, 1);
	assert_string_equal(m->nodes[0].op, "conv2d+relu");
	assert_string_equal(m->vals[m->outputs[0]].name, "y");
	expect_same_output(a, run(m, 3), 1e-4);
	assert_int_equal(gos_pipeline_run_list(m, "fuse,nosuch", &(gos_pipeline_opts){1, 1, NULL, NULL}, &d), -1);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* Hard-swish after a convolution, x * hard_sigmoid(x): the sigmoid is
 * composed into the multiply (one elementwise statement reading x twice)
 * and that joins the convolution; so does an elementwise tail reading
 * the result twice and another input; the results stay the same. */
static void test_fuse_hard_swish(void **state)
{
	(void)state;
	const char *t = "model m {\n"
	                "  input x: f32[1, 3, 6, 6];\n"
	                "  input z: f32[1, 4, 6, 6];\n"
	                "  weights seed 7;\n"
	                "  c = conv2d(x, param[4, 3, 3, 3], param[4]; pad = 1);\n"
	                "  h = hard_sigmoid(c; alpha = 0.16666667, beta = 0.5);\n"
	                "  s = mul(c, h);\n"
	                "  e = sigmoid(s);\n"
	                "  output y = add(s, mul(z, e));\n"
	                "}\n";
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("t.gos", t, strlen(t), NULL, &d);
	assert_non_null(m);
	assert_int_equal(gos_module_materialize(m, &d), 0);
	gos_tensor *a = run(m, 9);
	int conv_stmts = m->nodes[0].n_stmt;
	gos_pipeline_opts opts = {1, 1, NULL, NULL};
	assert_int_equal(gos_pipeline_run_list(m, "fuse,dce", &opts, &d), 0);
	assert_int_equal(gos_verify(m, &d), 0);
	/* one node: the convolution, hard-swish composed into one epilogue
	 * statement, the tail (reading z too) into another */
	assert_int_equal(m->n_node, 1);
	assert_string_equal(m->nodes[0].op, "conv2d+hard_sigmoid+mul+sigmoid+mul+add");
	assert_int_equal(m->nodes[0].n_stmt, conv_stmts + 2); /* hard-swish; the tail */
	expect_same_output(a, run(m, 9), 1e-5);
	gos_module_free(m);
	gos_diags_free(&d);
}

/* A batchnorm whose input is also used elsewhere must not be folded. */
static void test_no_fold_when_shared(void **state)
{
	(void)state;
	const char *t = "model m {\n"
	                "  input x: f32[1, 2, 4, 4];\n"
	                "  c = conv2d(x, param[2, 2, 1, 1]);\n"
	                "  b = batchnorm(c, param[2], param[2], param[2], param[2] init ones);\n"
	                "  output y = add(b, c);\n"
	                "}\n";
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("t.gos", t, strlen(t), NULL, &d);
	assert_non_null(m);
	assert_int_equal(gos_pass_fold_bn(m, &d), 0);
	assert_int_equal(m->n_node, 3);
	gos_module_free(m);
	gos_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_and_fuse_shape),
		cmocka_unit_test(test_fuse_hard_swish),
		cmocka_unit_test(test_no_fold_when_shared),
		cmocka_unit_test(test_pipeline_keeps_outputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
