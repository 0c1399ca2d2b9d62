/* test_synth_recon.c -- block reconstruction (passes/synth/recon.c): the
 * region it finds (an inverted-residual block: expand, hard-swish,
 * depthwise, relu, a constant per-channel scale, project; through both
 * stages of a separable pair, the first without a bias; a classifier's
 * head through its pooling and flatten; none past a
 * value read outside; none of a single contraction); on a copy of the
 * block with every stage's weights perturbed it brings the block's
 * result back towards the original's, measured by running both modules
 * on the interpreter, further than a least-squares refit of the last
 * stage can; a region whose recorded result is not what its forward
 * pass computes is left alone. */
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

static const char block_src[] =
	"model blk {\n  input x: f32[1, 4, 6, 6];\n  weights seed 7;\n"
	"  e = conv2d(x, param[16, 4, 1, 1], param[16]);\n"
	"  g = hard_sigmoid(e; alpha = 0.16666667, beta = 0.5);\n"
	"  h = mul(e, g);\n"
	"  dw = conv2d(h, param[16, 1, 3, 3], param[16]; pad = 1, groups = 16);\n"
	"  r = relu(dw);\n"
	"  s = mul(r, param[1, 16, 1, 1]);\n"
	"  output p = conv2d(s, param[6, 16, 1, 1], param[6]);\n}\n";
/* a separable pair after the relu (its first stage without a bias):
 * the region goes through both stages to a */
static const char sep_src[] =
	"model sep {\n  input x: f32[1, 3, 6, 6];\n  weights seed 5;\n"
	"  a = conv2d(x, param[8, 3, 3, 3], param[8]; pad = 1);\n"
	"  r = relu(a);\n"
	"  s1 = conv2d(r, param[4, 8, 3, 1]; pad = [1, 0, 1, 0]);\n"
	"  output h = conv2d(s1, param[5, 4, 1, 3], param[5]; pad = [0, 1, 0, 1]);\n}\n";
/* a classifier's head: 1x1 convolution, hard-swish, global average
 * pooling, flatten, dense */
static const char head_src[] =
	"model head {\n  input x: f32[1, 4, 5, 5];\n  weights seed 9;\n"
	"  c = conv2d(x, param[12, 4, 1, 1], param[12]);\n"
	"  g = hard_sigmoid(c; alpha = 0.16666667, beta = 0.5);\n"
	"  h = mul(c, g);\n"
	"  a = global_avgpool(h);\n"
	"  f = flatten(a);\n"
	"  output z = dense(f, param[6, 12], param[6]);\n}\n";
/* r read by two convolutions: no region ends at h */
static const char shared_src[] =
	"model shared {\n  input x: f32[1, 3, 6, 6];\n  weights seed 3;\n"
	"  a = conv2d(x, param[8, 3, 3, 3], param[8]; pad = 1);\n"
	"  r = relu(a);\n"
	"  output h = conv2d(r, param[5, 8, 3, 3], param[5]; pad = 1);\n"
	"  output g = conv2d(r, param[4, 8, 1, 1], param[4]);\n}\n";

/* a whole network: stem, hard-swish, an inverted residual block (its
 * depthwise filter without a bias, as dwsep writes them) with its sum, a
 * strided convolution, a flatten of 3 x 3 positions (it moves
 * elements), a classifier */
static const char net_src[] =
	"model net {\n  input x: f32[1, 3, 6, 6];\n  weights seed 4;\n"
	"  a = conv2d(x, param[8, 3, 3, 3], param[8]; pad = 1);\n"
	"  g = hard_sigmoid(a; alpha = 0.16666667, beta = 0.5);\n"
	"  h = mul(a, g);\n"
	"  e = conv2d(h, param[16, 8, 1, 1], param[16]);\n"
	"  r = relu(e);\n"
	"  dw = conv2d(r, param[16, 1, 3, 3]; pad = 1, groups = 16);\n"
	"  r2 = relu(dw);\n"
	"  p = conv2d(r2, param[8, 16, 1, 1], param[8]);\n"
	"  s = add(h, p);\n"
	"  c = conv2d(s, param[4, 8, 3, 3], param[4]; stride = 2, pad = 1);\n"
	"  f = flatten(c);\n"
	"  output z = dense(f, param[5, 36], param[5]);\n}\n";

static gos_module *load(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("recon.gos", text, strlen(text), NULL, &d);
	if (!m || gos_verify(m, &d) || gos_module_materialize(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test model does not load");
	}
	gos_diags_free(&d);
	/* weights of three times their initial size: the biases do not
	 * drown the result */
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].kind == GOS_VAL_WEIGHT && m->vals[v].rank == 4) {
			m->vals[v].init = GOS_INIT_DATA;
			for (int64_t i = 0; i < gos_numel(m->vals[v].rank, m->vals[v].shape); i++)
				m->vals[v].data[i] *= 3;
		}
	return m;
}

static int node_of(const gos_module *m, const char *name)
{
	for (int i = 0; i < m->n_node; i++)
		if (!strcmp(m->vals[m->nodes[i].out[0]].name, name))
			return i;
	fail_msg("no node writes '%s'", name);
	return -1;
}

/* Adds uniform noise of width scale times the weight's largest entry to
 * input j of the node writing `name`. */
static void perturb(gos_module *m, const char *name, int j, uint64_t seed, double scale)
{
	gos_value *w = &m->vals[m->nodes[node_of(m, name)].in[j]];
	w->init = GOS_INIT_DATA;
	double mx = 0;
	int64_t n = gos_numel(w->rank, w->shape);
	for (int64_t i = 0; i < n; i++)
		mx = fmax(mx, fabs(w->data[i]));
	gos_rng rng;
	gos_rng_seed(&rng, seed);
	for (int64_t i = 0; i < n; i++)
		w->data[i] += (float)(scale * mx * (gos_rng_uniform(&rng) - 0.5));
}

static void test_region(void **state)
{
	(void)state;
	gos_module *m = load(block_src);
	int nodes[16], xin;
	int n = gos_synth_recon_region(m, node_of(m, "p"), nodes, 16, &xin);
	assert_int_equal(n, 7); /* e, g, h, dw, r, s, p */
	assert_string_equal(m->vals[xin].name, "x");
	assert_int_equal(nodes[0], node_of(m, "e"));
	assert_int_equal(nodes[6], node_of(m, "p"));
	/* at most 3 nodes: no region (the walk cannot reach a contraction) */
	assert_int_equal(gos_synth_recon_region(m, node_of(m, "p"), nodes, 3, &xin), 0);
	/* e alone is one contraction */
	assert_int_equal(gos_synth_recon_region(m, node_of(m, "e"), nodes, 16, &xin), 0);
	gos_module_free(m);
	m = load(sep_src);
	assert_int_equal(gos_synth_recon_region(m, node_of(m, "h"), nodes, 16, &xin), 4);
	assert_string_equal(m->vals[xin].name, "x");
	assert_int_equal(nodes[0], node_of(m, "a"));
	/* from s1 (no bias; before the relu): a, r, s1 */
	assert_int_equal(gos_synth_recon_region(m, node_of(m, "s1"), nodes, 16, &xin), 3);
	gos_module_free(m);
	m = load(shared_src);
	assert_int_equal(gos_synth_recon_region(m, node_of(m, "h"), nodes, 16, &xin), 0);
	gos_module_free(m);
	m = load(head_src); /* c, g, h, a, f, z */
	assert_int_equal(gos_synth_recon_region(m, node_of(m, "z"), nodes, 16, &xin), 6);
	assert_string_equal(m->vals[xin].name, "x");
	gos_module_free(m);
}

/* A model and a copy with three stages' weights perturbed (seeds
 * seed, seed + 1, seed + 2), 2048 random samples (xseed), and the
 * region input x and result `out` recorded on both by the interpreter. */
typedef struct pair {
	gos_module *m, *a;
	int64_t n;
	float *x;
	const float *in[1];
	gos_synth_calib c;
	gos_capture cm, ca;
	gos_diags d;
} pair;

static void pair_init(pair *t, const char *src, const char *const stages[3], uint64_t seed,
                      uint64_t xseed, const char *out)
{
	t->m = load(src);
	t->a = gos_module_clone(t->m);
	for (int i = 0; i < 3; i++)
		perturb(t->a, stages[i], 1, seed + (uint64_t)i, 0.4);
	t->n = 2048;
	t->x = synth_random_inputs(t->n, synth_input_numel(t->m), xseed);
	t->in[0] = t->x;
	t->c = (gos_synth_calib){t->n, t->in, NULL, 0, NULL};
	gos_engine_opts o = {"interp", 2, -1};
	const char *names[2] = {"x", out};
	gos_diags_init(&t->d);
	assert_int_equal(gos_capture_run(t->m, 2, names, &o, t->n, t->in, &t->cm, &t->d), 0);
	assert_int_equal(gos_capture_run(t->a, 2, names, &o, t->n, t->in, &t->ca, &t->d), 0);
}

static void pair_free(pair *t)
{
	gos_capture_free(&t->cm);
	gos_capture_free(&t->ca);
	gos_module_free(t->a);
	gos_module_free(t->m);
	gos_diags_free(&t->d);
	free(t->x);
}

/* Reconstructs t's perturbed copy in the region ending at `out`: e[0]
 * and e[1] the error there before and after, measured by running both
 * modules; err the reconstruction's own figures. */
static void pair_recon(pair *t, const char *out, double e[2], double err[2])
{
	e[0] = synth_measured_err(t->m, t->a, &t->c, out);
	assert_int_equal(gos_synth_recon(t->a, node_of(t->a, out), t->n, t->cm.t[0].data,
	                                 t->cm.t[1].data, t->ca.t[1].data, NULL, 1, err, &t->d),
	                 0);
	e[1] = synth_measured_err(t->m, t->a, &t->c, out);
}

static void test_restores(void **state)
{
	(void)state;
	static const char *const stages[3] = {"e", "dw", "p"};
	pair t;
	pair_init(&t, block_src, stages, 11, 5, "p");

	/* least squares on the last stage alone, from a's own input to it */
	gos_module *b = gos_module_clone(t.a);
	gos_engine_opts o = {"interp", 2, -1};
	const char *sn[2] = {"s", "p"};
	gos_capture cs, cp;
	assert_int_equal(gos_capture_run(b, 1, sn, &o, t.n, t.in, &cs, &t.d), 0);
	assert_int_equal(gos_capture_run(t.m, 1, sn + 1, &o, t.n, t.in, &cp, &t.d), 0);
	char *an[2] = {cs.names[0], cp.names[0]};
	gos_tensor at[2] = {cs.t[0], cp.t[0]};
	gos_capture mixed = {2, an, at};
	gos_synth_calib cal = {t.n, t.in, &mixed, 0, NULL};
	double lerr;
	assert_int_equal(gos_synth_refit(b, node_of(b, "p"), &cal, &lerr, &t.d), 0);
	double e_lsq = synth_measured_err(t.m, b, &t.c, "p");

	double e[2], err[2];
	pair_recon(&t, "p", e, err);
	double e0 = e[0], e1 = e[1];
	if (!(e0 > 0.05))
		fail_msg("perturbed: error %g", e0);
	/* its own figures are what running the modules measures */
	assert_true(fabs(err[0] - e0) < 1e-3 * e0);
	assert_true(fabs(err[1] - e1) < 1e-2 * e0);
	print_message("perturbed %g, least squares on p %g, reconstruction %g\n", e0, e_lsq, e1);
	if (!(e1 < 0.5 * e_lsq && e_lsq < e0))
		fail_msg("reconstruction %g, least squares on p %g, perturbed %g", e1, e_lsq, e0);
	gos_capture_free(&cs);
	gos_capture_free(&cp);
	gos_module_free(b);
	pair_free(&t);
}

/* The separable pair: its bias-less first stage moves too. */
static void test_restores_separable(void **state)
{
	(void)state;
	static const char *const stages[3] = {"a", "s1", "h"};
	pair t;
	pair_init(&t, sep_src, stages, 21, 6, "h");
	int s1 = node_of(t.a, "s1"), w = t.a->nodes[s1].in[1];
	assert_int_equal(t.a->nodes[s1].n_in, 2);
	double e[2], err[2];
	pair_recon(&t, "h", e, err);
	if (!(e[0] > 0.05 && e[1] < 0.5 * e[0]))
		fail_msg("separable pair: perturbed %g, reconstructed %g", e[0], e[1]);
	assert_int_not_equal(t.a->nodes[s1].in[1], w);
	assert_int_equal(t.a->nodes[s1].n_in, 2);
	pair_free(&t);
}

/* The head: pooling and flatten inside, towards the logits. */
static void test_restores_head(void **state)
{
	(void)state;
	static const char *const stages[3] = {"c", "z", "c"};
	pair t;
	pair_init(&t, head_src, stages, 31, 7, "z");
	double e[2], err[2];
	pair_recon(&t, "z", e, err);
	print_message("head: perturbed %g, reconstructed %g\n", e[0], e[1]);
	if (!(e[0] > 0.005 && e[1] < 0.5 * e[0])) /* (0.0124 -> 0.0002) */
		fail_msg("head: perturbed %g, reconstructed %g", e[0], e[1]);
	pair_free(&t);
}

/* The whole network tuned towards the original's output: the error
 * measured by running both modules falls, on samples the tuning did not
 * see; a recording that is not what the model computes leaves it alone. */
static void test_tune(void **state)
{
	(void)state;
	static const char *const stages[3] = {"a", "dw", "c"};
	pair t;
	pair_init(&t, net_src, stages, 41, 8, "z");
	int64_t nv = 256;
	float *xv = synth_random_inputs(nv, synth_input_numel(t.m), 99);
	const float *vin[1] = {xv};
	gos_synth_calib cv = {nv, vin, NULL, 0, NULL};
	gos_engine_opts o = {"interp", 2, -1};
	const char *zn[1] = {"z"};
	gos_capture vm, va;
	assert_int_equal(gos_capture_run(t.m, 1, zn, &o, nv, vin, &vm, &t.d), 0);
	assert_int_equal(gos_capture_run(t.a, 1, zn, &o, nv, vin, &va, &t.d), 0);
	double err[2];
	/* the original's output given as the candidate's own: untouched */
	gos_module *b = gos_module_clone(t.a);
	int w = b->nodes[node_of(b, "c")].in[1];
	assert_int_equal(gos_synth_tune(b, t.n, t.x, t.cm.t[1].data, nv, xv, vm.t[0].data,
	                                vm.t[0].data, 1, err, &t.d),
	                 0);
	assert_true(err[0] == -1 && err[1] == -1);
	assert_int_equal(b->nodes[node_of(b, "c")].in[1], w);
	gos_module_free(b);

	double e0 = synth_measured_err(t.m, t.a, &cv, "z");
	assert_int_equal(gos_synth_tune(t.a, t.n, t.x, t.cm.t[1].data, nv, xv, vm.t[0].data,
	                                va.t[0].data, 1, err, &t.d),
	                 0);
	double e1 = synth_measured_err(t.m, t.a, &cv, "z");
	print_message("network: perturbed %g, tuned %g (its own figures %g -> %g)\n", e0, e1,
	              err[0], err[1]);
	assert_true(fabs(err[0] - e0) < 1e-3 * e0);
	if (!(e0 > 0.05 && e1 < 0.7 * e0)) /* (0.222 -> 0.133) */
		fail_msg("network: perturbed %g, tuned %g", e0, e1);
	assert_int_equal(t.d.n_errors, 0);
	gos_capture_free(&vm);
	gos_capture_free(&va);
	free(xv);
	pair_free(&t);
}

static void test_mismatch_untouched(void **state)
{
	(void)state;
	gos_module *m = load(block_src), *a = gos_module_clone(m);
	perturb(a, "p", 1, 13, 0.4);
	int64_t n = 128, numel = synth_input_numel(m);
	float *x = synth_random_inputs(n, numel, 9);
	const float *in[1] = {x};
	gos_engine_opts o = {"interp", 2, -1};
	const char *names[2] = {"x", "p"};
	gos_capture cm;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_capture_run(m, 2, names, &o, n, in, &cm, &d), 0);
	/* the original's result passed as a's own: not what a computes */
	int p = node_of(a, "p"), w = a->nodes[p].in[1];
	double err[2];
	assert_int_equal(gos_synth_recon(a, p, n, cm.t[0].data, cm.t[1].data, cm.t[1].data, NULL,
	                                 1, err, &d),
	                 0);
	assert_true(err[0] == -1 && err[1] == -1);
	assert_int_equal(a->nodes[p].in[1], w);
	/* too few samples for a batch: untouched too */
	assert_int_equal(gos_synth_recon(a, p, 8, cm.t[0].data, cm.t[1].data, cm.t[1].data, NULL,
	                                 1, err, &d),
	                 0);
	assert_int_equal(a->nodes[p].in[1], w);
	assert_int_equal(d.n_errors, 0);
	gos_capture_free(&cm);
	gos_module_free(a);
	gos_module_free(m);
	gos_diags_free(&d);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_restores),
		cmocka_unit_test(test_restores_separable),
		cmocka_unit_test(test_restores_head),
		cmocka_unit_test(test_tune),
		cmocka_unit_test(test_mismatch_untouched),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
