/* test_synth_prune.c -- the channel rules (passes/synth/prune.c,
 * zerochan.c, chan.c): zerochan by randomised equivalence on the
 * interpreter over constructed models with zeroed channels (conv -> bn ->
 * relu -> conv, zero output rows folded into the consumer's bias, a
 * residual add, a shared producer read twice); every candidate verifies;
 * prune's error falls as c grows, is ~0 when the dropped channels are
 * zero and equals the error measured by running the rewritten module;
 * through a squeeze-excite block the pool and its first FC lose the
 * channels too (exact when they ignore them); gos_synth_refit restores
 * a perturbed convolution from the original's results; bad requests
 * give clear errors. */
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
#include "passes/passes.h"
#include "passes/synth/synth.h"

/* conv -> batchnorm -> relu -> conv (seed substituted) */
static const char chain_fmt[] =
	"model chain {\n  input x: f32[1, 3, 8, 8];\n  weights seed %d;\n"
	"  a = conv2d(x, param[16, 3, 3, 3], param[16]; pad = 1);\n"
	"  b = batchnorm(a, param[16], param[16], param[16], param[16]);\n"
	"  r = relu(b);\n"
	"  h = conv2d(r, param[10, 16, 3, 3], param[10]; pad = %d);\n"
	"  output y = relu(h);\n}\n";
/* a residual add of two convolutions read by h */
static const char resid_fmt[] =
	"model resid {\n  input x: f32[2, 4, 7, 7];\n  weights seed %d;\n"
	"  a = conv2d(x, param[12, 4, 3, 3], param[12]; pad = 1);\n"
	"  s = conv2d(x, param[12, 4, 1, 1], param[12]);\n"
	"  t = add(relu(a), s);\n"
	"  h = conv2d(t, param[6, 12, 3, 3], param[6]; pad = 1);\n"
	"  output y = h;\n}\n";
/* a producer whose result two convolutions read */
static const char shared_fmt[] =
	"model shared {\n  input x: f32[1, 3, 6, 6];\n  weights seed %d;\n"
	"  a = conv2d(x, param[8, 3, 3, 3], param[8]; pad = 1);\n"
	"  r = relu(a);\n"
	"  h = conv2d(r, param[5, 8, 3, 3], param[5]; pad = 1);\n"
	"  g = conv2d(r, param[4, 8, 1, 1], param[4]);\n"
	"  output y = h;\n  output z = g;\n}\n";

/* a squeeze-excite block between producer and reader (pad unused) */
static const char se_fmt[] =
	"model se {\n  input x: f32[1, 4, 6, 6];\n  weights seed %d;\n"
	"  a = conv2d(x, param[16, 4, 1, 1], param[16]);\n"
	"  r = relu(a);\n"
	"  p = global_avgpool(r);\n"
	"  f = relu(conv2d(p, param[4, 16, 1, 1], param[4]));\n"
	"  g = sigmoid(conv2d(f, param[16, 4, 1, 1], param[16]));\n"
	"  s = mul(r, g);\n"
	"  h = conv2d(s, param[6, 16, 1, 1], param[6]; pad = %d);\n"
	"  output y = h;\n}\n";

static gos_module *load_fmt(const char *fmt, int seed, int extra)
{
	char text[1024];
	snprintf(text, sizeof text, fmt, seed, extra);
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("prune.gos", text, strlen(text), NULL, &d);
	if (!m || gos_verify(m, &d) || gos_module_materialize(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test model does not load");
	}
	gos_diags_free(&d);
	/* batchnorm variances positive */
	for (int v = 0; v < m->n_val; v++)
		if (strstr(m->vals[v].name, ".var")) {
			m->vals[v].init = GOS_INIT_DATA;
			for (int64_t i = 0; i < m->vals[v].shape[0]; i++)
				m->vals[v].data[i] = 0.5f + fabsf(m->vals[v].data[i]);
		}
	return m;
}

static int node_of(const gos_module *m, const char *name)
{
	for (int i = 0; i < m->n_node; i++)
		if (!strcmp(m->nodes[i].name, name))
			return i;
	fail_msg("no node %s", name);
	return -1;
}

static gos_value *weight_of(gos_module *m, const char *node, int j)
{
	gos_value *w = &m->vals[m->nodes[node_of(m, node)].in[j]];
	w->init = GOS_INIT_DATA; /* its data is the weight now */
	return w;
}

/* Zeroes input channel c of weight w [K][C][..]. */
static void zero_in(gos_value *w, int64_t c)
{
	int64_t K = w->shape[0], C = w->shape[1], per = gos_numel(w->rank, w->shape) / (K * C);
	for (int64_t k = 0; k < K; k++)
		for (int64_t q = 0; q < per; q++)
			w->data[(k * C + c) * per + q] = 0;
}

/* Zeroes output row k of weight w [K][..]. */
static void zero_out(gos_value *w, int64_t k)
{
	int64_t D = gos_numel(w->rank, w->shape) / w->shape[0];
	for (int64_t q = 0; q < D; q++)
		w->data[k * D + q] = 0;
}

/* Every output of m on n samples x (engine target), concatenated. */
static float *run_on(const gos_module *m, const char *target, int64_t n, const float *x,
                     int64_t *total)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts o = {target, 1, -1};
	gos_engine *e = gos_engine_new(m, &o, &d);
	if (!e) {
		gos_diags_render(&d, stderr);
		fail();
	}
	int no = gos_engine_n_outputs(e);
	int64_t sz[8], sum = 0;
	for (int i = 0; i < no; i++)
		sum += sz[i] = n * gos_engine_output_numel(e, i);
	float *y = malloc(sizeof(float) * (size_t)sum);
	float *out[8];
	for (int i = 0, off = 0; i < no; off += (int)sz[i], i++)
		out[i] = y + off;
	const float *in[1] = {x};
	assert_int_equal(gos_engine_run(e, n, in, out, &d), 0);
	gos_engine_free(e);
	gos_diags_free(&d);
	*total = sum;
	return y;
}

static float *run_all(const gos_module *m, int64_t n, const float *x, int64_t *total)
{
	return run_on(m, "interp", n, x, total);
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

/* Applies spec to m (verifying the result) and checks on three input
 * seeds that every output equals m's up to rounding; host code of the
 * result agrees with the interpreter. */
static gos_module *check_equal(const gos_module *m, const char *spec, const gos_synth_calib *c)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *r = gos_synth_apply(m, spec, c, &d);
	if (!r || gos_verify(r, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("%s: %s", m->name, spec);
	}
	int64_t numel = synth_input_numel(m), n0, n1;
	for (uint64_t seed = 1; seed <= 3; seed++) {
		float *x = synth_random_inputs(2, numel, seed);
		float *y0 = run_all(m, 2, x, &n0), *y1 = run_all(r, 2, x, &n1);
		assert_int_equal(n0, n1);
		double e = rel_max(y0, y1, n0);
		if (e > 2e-5)
			fail_msg("%s %s seed %llu: rel. error %g", m->name, spec, (unsigned long long)seed, e);
		if (seed == 1) {
			int64_t nh;
			float *yh = run_on(r, "host", 2, x, &nh);
			assert_int_equal(nh, n1);
			if (rel_max(y1, yh, n1) > 1e-4)
				fail_msg("%s %s: host code differs from the interpreter", m->name, spec);
			free(yh);
		}
		free(x);
		free(y0);
		free(y1);
	}
	gos_diags_free(&d);
	return r;
}

/* Channels of value `name` in m. */
static int64_t chans(const gos_module *m, const char *name)
{
	int v = gos_module_find_value(m, name);
	assert_true(v >= 0);
	return m->vals[v].shape[1];
}

/* The exact candidates of node h: zerochan listed without data, exact,
 * and FLOPs counted over the nodes it rewrites. */
static void expect_listed(const gos_module *m)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_synth_cand *v;
	int n = gos_synth_list(m, node_of(m, "h"), NULL, &v, &d);
	int found = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].rule->name, "zerochan")) {
			found = 1;
			assert_true(v[i].exact);
			assert_true(v[i].flops_after < v[i].flops_before);
			assert_true(v[i].flops_after > 0);
		}
	if (!found)
		fail_msg("%s: zerochan not listed", m->name);
	free(v);
	gos_diags_free(&d);
}

/* Zero input channels of h's weight: removed from h and, through relu
 * and batchnorm, from the producing convolution; two weight seeds, both
 * paddings. */
static void test_zerochan_chain(void **state)
{
	(void)state;
	for (int seed = 1; seed <= 2; seed++)
		for (int pad = 0; pad <= 1; pad++) {
			gos_module *m = load_fmt(chain_fmt, seed, pad);
			gos_value *w = weight_of(m, "h", 1);
			for (int64_t c = 0; c < 16; c += 3)
				zero_in(w, c); /* 6 of 16 */
			expect_listed(m);
			gos_module *r = check_equal(m, "h/zerochan", NULL);
			assert_int_equal(chans(r, "a"), 10);
			assert_int_equal(chans(r, "r"), 10);
			gos_module_free(r);
			gos_module_free(m);
		}
}

/* All-zero output rows of the producer: the channel is the constant
 * relu(bn(bias)), folded into h's bias when h reads no padding (pad 0);
 * with padding only the rows whose constant is 0 go. */
static void test_zerochan_constant(void **state)
{
	(void)state;
	for (int seed = 3; seed <= 4; seed++)
		for (int pad = 0; pad <= 1; pad++) {
			gos_module *m = load_fmt(chain_fmt, seed, pad);
			gos_value *wa = weight_of(m, "a", 1);
			for (int64_t k = 1; k < 16; k += 2)
				zero_out(wa, k); /* 8 of 16 */
			/* make two of them exactly 0 after relu: bn(bias) <= 0 */
			gos_value *beta = weight_of(m, "b", 2), *gam = weight_of(m, "b", 1);
			gos_value *mean = weight_of(m, "b", 3), *ba = weight_of(m, "a", 2);
			for (int64_t k = 1; k <= 3; k += 2) {
				ba->data[k] = 0.0f;
				mean->data[k] = 0.0f;
				gam->data[k] = 1.0f;
				beta->data[k] = -1.0f;
			}
			/* and one positive constant */
			beta->data[5] = 1.5f;
			ba->data[5] = 0.0f;
			mean->data[5] = 0.0f;
			gos_module *r = check_equal(m, "h/zerochan", NULL);
			/* with data, the candidate's measured error is at rounding level */
			int64_t numel = synth_input_numel(m);
			float *x = synth_random_inputs(4, numel, 9);
			const float *in[1] = {x};
			gos_synth_calib cal = {4, in, NULL, 0, NULL};
			gos_module *t = gos_module_clone(m);
			gos_diags d;
			gos_diags_init(&d);
			int exact;
			double err;
			assert_int_equal(gos_synth_zerochan_derive(t, node_of(t, "h"), 0, &cal, &exact, &err, &d), 0);
			assert_true(exact);
			if (!(err >= 0 && err < 1e-10))
				fail_msg("zerochan: error %g on the batch", err);
			gos_diags_free(&d);
			gos_module_free(t);
			free(x);
			int64_t left = chans(r, "a");
			if (pad == 0)
				assert_int_equal(left, 8); /* every constant channel folded */
			else
				assert_true(left <= 14 && left > 8); /* the zeros at least */
			gos_module_free(r);
			gos_module_free(m);
		}
}

/* A residual add: both convolutions feeding it lose the channels. */
static void test_zerochan_residual(void **state)
{
	(void)state;
	for (int seed = 5; seed <= 6; seed++) {
		gos_module *m = load_fmt(resid_fmt, seed, 0);
		gos_value *w = weight_of(m, "h", 1);
		zero_in(w, 0);
		zero_in(w, 5);
		zero_in(w, 11);
		gos_module *r = check_equal(m, "h/zerochan", NULL);
		assert_int_equal(chans(r, "a"), 9);
		assert_int_equal(chans(r, "s"), 9);
		gos_module_free(r);
		gos_module_free(m);
	}
}

/* A producer read twice: h's zero channels go from h only (a gather
 * feeds it); the producer keeps all its channels for g. */
static void test_zerochan_shared(void **state)
{
	(void)state;
	for (int seed = 7; seed <= 8; seed++) {
		gos_module *m = load_fmt(shared_fmt, seed, 0);
		gos_value *w = weight_of(m, "h", 1);
		zero_in(w, 2);
		zero_in(w, 3);
		zero_in(w, 7);
		gos_module *r = check_equal(m, "h/zerochan", NULL);
		assert_int_equal(chans(r, "a"), 8);
		assert_int_equal(chans(r, "r"), 8);
		int h = -1;
		for (int i = 0; i < r->n_node; i++)
			if (!strcmp(r->nodes[i].name, "h.zerochan"))
				h = i;
		assert_true(h >= 0);
		gos_synth_contraction cv;
		int64_t C, per;
		assert_true(gos_synth_chan_of(r, h, &cv, &C, &per));
		assert_int_equal(C, 5);
		gos_module_free(r);
		gos_module_free(m);
	}
}

/* prune on the chain, the residual and the shared model: every listed
 * candidate verifies (gos_synth_list verifies each) and reports the error
 * measured by running it; errors fall as c grows; FLOPs too. */
static void test_prune_fitted(void **state)
{
	(void)state;
	const char *fmts[] = {chain_fmt, resid_fmt, shared_fmt};
	for (size_t mi = 0; mi < 3; mi++) {
		gos_module *m = load_fmt(fmts[mi], 11, 1);
		int64_t numel = synth_input_numel(m), n = 8;
		float *x = synth_random_inputs(n, numel, 77);
		const float *in[1] = {x};
		gos_synth_calib c = {n, in, NULL, 0, NULL};
		gos_diags d;
		gos_diags_init(&d);
		int vals[16], np = gos_synth_prune_params(m, node_of(m, "h"), vals, 16);
		double errs[16], flops[16];
		for (int i = 0; i < np; i++) {
			/* the candidate as gos_synth_list derives it */
			gos_module *a = gos_module_clone(m);
			int exact;
			if (gos_synth_prune_derive(a, node_of(a, "h"), vals[i], &c, &exact, &errs[i], &d) ||
			    gos_pass_dce(a, &d) < 0 || gos_verify(a, &d)) {
				gos_diags_render(&d, stderr);
				fail_msg("%s c=%d", m->name, vals[i]);
			}
			assert_false(exact);
			assert_true(errs[i] > 0 && errs[i] < 1);
			flops[i] = gos_flops(a);
			double me = synth_measured_err(m, a, &c, m->vals[m->nodes[node_of(m, "h")].out[0]].name);
			if (fabs(me - errs[i]) > 1e-3 * errs[i] + 1e-7)
				fail_msg("%s c=%d: reported %g, measured %g", m->name, vals[i], errs[i], me);
			gos_module_free(a);
		}
		for (int i = 0; i < np; i++)
			for (int j = 0; j < np; j++)
				if (vals[j] > vals[i]) {
					assert_true(errs[j] <= errs[i] * (1 + 1e-9));
					assert_true(flops[j] > flops[i]);
				}
		if (np < 2)
			fail_msg("%s: %d prune candidates", m->name, np);
		free(x);
		gos_diags_free(&d);
		gos_module_free(m);
	}
}

/* Dropped channels that are zero: the error is ~0 and the candidate
 * exact, with and without calibration data, and the outputs equal. */
static void test_prune_zero_dropped(void **state)
{
	(void)state;
	gos_module *m = load_fmt(chain_fmt, 12, 1);
	gos_value *w = weight_of(m, "h", 1);
	for (int64_t ch = 0; ch < 16; ch += 2)
		zero_in(w, ch); /* 8 of 16 */
	int64_t numel = synth_input_numel(m), n = 6;
	float *x = synth_random_inputs(n, numel, 5);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_diags d;
	gos_diags_init(&d);
	int vals[16], np = gos_synth_prune_params(m, node_of(m, "h"), vals, 16);
	assert_true(np >= 1 && vals[0] == 8);
	gos_module *t = gos_module_clone(m);
	int exact;
	double err;
	assert_int_equal(gos_synth_prune_derive(t, node_of(t, "h"), 8, &c, &exact, &err, &d), 0);
	assert_true(exact);
	assert_true(err >= 0 && err < 1e-10);
	gos_module_free(t);
	gos_module *a = check_equal(m, "h/prune:c=8", &c);
	assert_int_equal(chans(a, "a"), 8);
	gos_module_free(a);
	a = check_equal(m, "h/prune:c=8", NULL);
	gos_module_free(a);
	free(x);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* prune through a squeeze-excite block: the producer, the pool, the
 * block's first FC (a side reader: weight columns) and second FC (output
 * rows) lose the channels; with the dropped channels zero in both
 * readers the result is exact; with random weights the candidate
 * verifies and stays close. */
static void test_prune_squeeze_excite(void **state)
{
	(void)state;
	gos_module *m = load_fmt(se_fmt, 14, 0);
	int64_t numel = synth_input_numel(m), n = 32;
	float *x = synth_random_inputs(n, numel, 9);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_diags d;
	gos_diags_init(&d);
	int fc1 = -1;
	for (int i = 0; i < m->n_node; i++)
		if (m->vals[m->nodes[i].in[0]].shape[1] == 16 && m->vals[m->nodes[i].out[0]].shape[1] == 4)
			fc1 = i;
	assert_true(fc1 >= 0);
	gos_synth_chan r;
	assert_int_equal(gos_synth_chan_region(m, node_of(m, "h"), 1, &r, &d), 0);
	assert_true(r.shrink);
	assert_int_equal(r.n_side, 2); /* the pool and the first FC */
	gos_synth_chan_free(&r);
	assert_int_equal(gos_synth_chan_region(m, node_of(m, "h"), 0, &r, &d), 0);
	assert_false(r.shrink); /* without side branches: a gather */
	gos_synth_chan_free(&r);
	/* random weights: fitted, smaller, close */
	gos_module *a = gos_synth_apply(m, "h/prune:c=8", &c, &d);
	if (!a || gos_verify(a, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("se: h/prune:c=8");
	}
	assert_int_equal(chans(a, "a"), 8);
	assert_int_equal(chans(a, "p"), 8);
	assert_int_equal(chans(a, "g"), 8);
	int64_t n0, n1;
	float *y0 = run_all(m, n, x, &n0), *y1 = run_all(a, n, x, &n1);
	assert_int_equal(n0, n1);
	assert_true(rel_max(y0, y1, n0) < 0.5);
	free(y0);
	free(y1);
	gos_module_free(a);
	/* dropped channels ignored by both readers: exact */
	gos_value *wh = weight_of(m, "h", 1), *wf = &m->vals[m->nodes[fc1].in[1]];
	wf->init = GOS_INIT_DATA;
	for (int64_t ch = 1; ch < 16; ch += 2) {
		zero_in(wh, ch);
		zero_in(wf, ch);
	}
	a = check_equal(m, "h/prune:c=8", &c);
	assert_int_equal(chans(a, "a"), 8);
	gos_module_free(a);
	a = check_equal(m, "h/prune:c=8", NULL); /* exact: no data needed */
	assert_int_equal(chans(a, "p"), 8);
	gos_module_free(a);
	free(x);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* Adds uniform noise of width `scale` (seeded) to weight w. */
static void perturb(gos_value *w, uint64_t seed, double scale)
{
	gos_rng rng;
	gos_rng_seed(&rng, seed);
	for (int64_t i = 0; i < gos_numel(w->rank, w->shape); i++)
		w->data[i] += (float)(scale * (gos_rng_uniform(&rng) - 0.5));
}

/* a is m with node's weights perturbed: records node's input and result
 * in m on c's inputs (into *cm, which the caller frees), refits a's node
 * towards them and checks that it gives m's result back. */
static void assert_refit_restores(const gos_module *m, gos_module *a, const char *node,
                                  gos_synth_calib *c, gos_capture *cm, gos_diags *d)
{
	int ni = node_of(m, node);
	const char *names[2] = {m->vals[m->nodes[ni].in[0]].name, m->vals[m->nodes[ni].out[0]].name};
	assert_true(synth_measured_err(m, a, c, names[1]) > 1e-3);
	gos_engine_opts o = {"interp", 2, -1};
	assert_int_equal(gos_capture_run(m, 2, names, &o, c->n, c->in, cm, d), 0);
	c->acts = cm;
	double err;
	assert_int_equal(gos_synth_refit(a, node_of(a, node), c, &err, d), 0);
	assert_true(err >= 0 && err < 1e-8);
	assert_int_equal(gos_verify(a, d), 0);
	c->acts = NULL;
	assert_true(synth_measured_err(m, a, c, names[1]) < 1e-8);
}

/* gos_synth_refit: h's weights perturbed, refitted towards the
 * original's result recorded on a batch, give the original back; with
 * too few positions it leaves the node alone. */
static void test_refit(void **state)
{
	(void)state;
	gos_module *m = load_fmt(chain_fmt, 15, 1);
	gos_module *a = gos_module_clone(m);
	perturb(weight_of(a, "h", 1), 3, 0.2);
	int64_t numel = synth_input_numel(m), n = 16;
	float *x = synth_random_inputs(n, numel, 21);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_capture cm;
	gos_diags d;
	gos_diags_init(&d);
	/* h's input from a (equal to m's), its result from m */
	assert_refit_restores(m, a, "h", &c, &cm, &d);
	double err;
	gos_module_free(a);
	/* 2 samples x 64 positions < 4 x 145 coefficients: unchanged */
	gos_synth_calib c2 = {2, in, NULL, 0, NULL};
	a = gos_module_clone(m);
	assert_int_equal(gos_synth_refit(a, node_of(a, "h"), &c2, &err, &d), 0);
	assert_true(err == -1);
	gos_module_free(a);
	gos_capture_free(&cm);
	free(x);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* A strided depthwise convolution (seed substituted, pad unused) */
static const char dw_fmt[] =
	"model dw {\n  input x: f32[1, 6, 9, 9];\n  weights seed %d;\n"
	"  r = relu(x);\n"
	"  a = conv2d(r, param[6, 1, 3, 3], param[6]; stride = 2, pad = 1, groups = 6);\n"
	"  output y = relu(a);\n}\n";

/* gos_synth_refit on a depthwise convolution (gos_synth_depthwise_of):
 * its perturbed taps, refitted channel by channel towards the original's
 * recorded result, give the original back; a result recorded at another
 * shape is no target. */
static void test_refit_depthwise(void **state)
{
	(void)state;
	gos_module *m = load_fmt(dw_fmt, 4, 0);
	gos_synth_contraction cv;
	assert_true(gos_synth_depthwise_of(m, node_of(m, "a"), &cv));
	assert_true(cv.K == 6 && cv.C == 1 && cv.R == 9 && cv.P == 5 && cv.Q == 5);
	assert_false(gos_synth_contraction_of(m, node_of(m, "a"), &cv));
	gos_module *c3 = load_fmt(chain_fmt, 4, 1);
	assert_false(gos_synth_depthwise_of(c3, node_of(c3, "h"), &cv));
	gos_module_free(c3);

	gos_module *a = gos_module_clone(m);
	perturb(weight_of(a, "a", 1), 5, 0.3);
	int64_t numel = synth_input_numel(m), n = 16;
	float *x = synth_random_inputs(n, numel, 8);
	const float *in[1] = {x};
	gos_synth_calib c = {n, in, NULL, 0, NULL};
	gos_capture cm;
	gos_diags d;
	gos_diags_init(&d);
	assert_refit_restores(m, a, "a", &c, &cm, &d); /* r recorded, then a */
	double err;
	gos_module_free(a);
	/* the result recorded for 3 channels: not a's shape, left alone */
	cm.t[1].shape[1] = 3;
	c.acts = &cm;
	a = gos_module_clone(m);
	assert_int_equal(gos_synth_refit(a, node_of(a, "a"), &c, &err, &d), 0);
	assert_true(err == -1);
	cm.t[1].shape[1] = 6;
	gos_module_free(a);
	gos_capture_free(&cm);
	free(x);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* Bad requests: c out of range, no calibration data, zerochan where
 * nothing is zero. */
static void test_bad_requests(void **state)
{
	(void)state;
	gos_module *m = load_fmt(chain_fmt, 13, 1);
	int64_t numel = synth_input_numel(m);
	float *x = synth_random_inputs(4, numel, 3);
	const float *in[1] = {x};
	gos_synth_calib c = {4, in, NULL, 0, NULL};
	static const struct {
		const char *spec, *msg;
		int calib;
	} cases[] = {
		{"h/prune:c=16", "must be from 1 to 15", 1},
		{"h/prune:c=40", "must be from 1 to 15", 1},
		{"h/prune:c=0", "positive integer", 1},
		{"h/prune:c=-3", "positive integer", 1},
		{"h/prune:c=8", "calibration data", 0},
		{"h/zerochan", "does not apply", 0},
		{"y/prune:c=4", "does not apply", 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		gos_diags d;
		gos_diags_init(&d);
		gos_module *r = gos_synth_apply(m, cases[i].spec, cases[i].calib ? &c : NULL, &d);
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
	/* the derivation itself refuses c <= 0 */
	gos_module *cm = gos_module_clone(m);
	gos_diags d;
	gos_diags_init(&d);
	int exact;
	double err;
	assert_int_equal(gos_synth_prune_derive(cm, node_of(cm, "h"), 0, &c, &exact, &err, &d), -1);
	assert_true(d.n_errors > 0 && strstr(d.v[0].msg, "must be from 1 to"));
	gos_diags_free(&d);
	gos_module_free(cm);
	free(x);
	gos_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zerochan_chain),
		cmocka_unit_test(test_zerochan_constant),
		cmocka_unit_test(test_zerochan_residual),
		cmocka_unit_test(test_zerochan_shared),
		cmocka_unit_test(test_prune_fitted),
		cmocka_unit_test(test_prune_zero_dropped),
		cmocka_unit_test(test_prune_squeeze_excite),
		cmocka_unit_test(test_refit),
		cmocka_unit_test(test_refit_depthwise),
		cmocka_unit_test(test_bad_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
