/* test_synth_winograd.c -- the exact `winograd` rule (passes/synth/winograd.c):
 * randomised equivalence with the direct convolution on the interpreter
 * (several weight and input seeds; pad 0 and 1, asymmetric padding, odd
 * output sizes, batch > 1, bias and none, channel counts that are not
 * multiples of 8, m = 2 and 4), host code of the candidates, and refusals:
 * stride 2, 5x5, dilation 2, and m = 3. */
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
#include "passes/synth/synth.h"

/* A one-layer model: conv2d(x[N, C, H, W], param[K, C, k, k]) + relu. */
static gos_module *layer(int N, int C, int K, int H, int W, int k, const char *opts, int bias,
                         int seed)
{
	char text[512], bp[32] = "";
	if (bias)
		snprintf(bp, sizeof bp, ", param[%d]", K);
	snprintf(text, sizeof text,
	         "model w {\n  input x: f32[%d, %d, %d, %d];\n  weights seed %d;\n"
	         "  h = conv2d(x, param[%d, %d, %d, %d]%s%s);\n  output y = relu(h);\n}\n",
	         N, C, H, W, seed, K, C, k, k, bp, opts);
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("w.gos", text, strlen(text), NULL, &d);
	if (!m || gos_verify(m, &d) || gos_module_materialize(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test model does not load:\n%s", text);
	}
	gos_diags_free(&d);
	return m;
}

static float *random_inputs(int64_t numel, uint64_t seed)
{
	gos_rng r;
	gos_rng_seed(&r, seed);
	float *x = malloc(sizeof(float) * (size_t)numel);
	for (int64_t i = 0; i < numel; i++)
		x[i] = (float)(2 * gos_rng_uniform(&r) - 1);
	return x;
}

static float *run(const gos_module *m, const char *target, const float *x, int64_t *numel)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_engine_opts o = {target, 1, -1};
	gos_engine *e = gos_engine_new(m, &o, &d);
	if (!e) {
		gos_diags_render(&d, stderr);
		fail();
	}
	*numel = gos_engine_output_numel(e, 0);
	float *y = malloc(sizeof(float) * (size_t)*numel);
	const float *in[1] = {x};
	float *out[1] = {y};
	assert_int_equal(gos_engine_run(e, 1, in, out, &d), 0);
	gos_engine_free(e);
	gos_diags_free(&d);
	return y;
}

static double rel_max(const float *a, const float *b, int64_t n)
{
	double e = 0, s = 0;
	for (int64_t i = 0; i < n; i++) {
		e = fmax(e, fabs((double)a[i] - b[i]));
		s = fmax(s, fabs(a[i]));
	}
	return s > 0 ? e / s : e;
}

typedef struct geo {
	int N, C, K, H, W;
	const char *opts;
	int bias;
} geo;

static const geo geos[] = {
	{1, 3, 5, 8, 8, "; pad = 1", 1},                  /* even output */
	{2, 5, 7, 9, 7, "; pad = 1", 0},                  /* odd output, batch 2, no bias */
	{1, 4, 6, 11, 10, "", 1},                         /* pad 0: 9x8 */
	{3, 9, 10, 7, 13, "; pad = [1, 0, 2, 1]", 1},     /* asymmetric pad, batch 3 */
	{1, 12, 17, 6, 5, "; pad = 1", 1},                /* C, K not multiples of 8 */
	{1, 16, 24, 15, 15, "; stride = 1, pad = 1", 0}, /* attributes spelt out */
};

/* Every geometry, both m, three weight seeds and two input seeds: the
 * candidate verifies and equals the direct form on the interpreter; for
 * the first weight seed its host code agrees too. */
static void test_winograd_equivalence(void **state)
{
	(void)state;
	for (size_t gi = 0; gi < sizeof geos / sizeof *geos; gi++)
		for (int seed = 1; seed <= 3; seed++) {
			const geo *g = &geos[gi];
			gos_module *m = layer(g->N, g->C, g->K, g->H, g->W, 3, g->opts, g->bias, seed);
			gos_diags d;
			gos_diags_init(&d);
			gos_synth_cand *v;
			int n = gos_synth_list(m, -1, NULL, &v, &d);
			int listed = 0;
			for (int i = 0; i < n; i++)
				if (!strcmp(v[i].rule->name, "winograd")) {
					assert_true(v[i].exact);
					assert_true(v[i].param == 2 || v[i].param == 4);
					listed++;
				}
			free(v);
			assert_int_equal(listed, 2);
			for (int mt = 2; mt <= 4; mt += 2) {
				char spec[64];
				snprintf(spec, sizeof spec, "h/winograd:m=%d", mt);
				gos_module *c = gos_synth_apply(m, spec, NULL, &d);
				if (!c) {
					gos_diags_render(&d, stderr);
					fail_msg("geometry %zu: %s", gi, spec);
				}
				assert_int_equal(gos_verify(c, &d), 0);
				assert_int_equal(c->n_node, m->n_node + 2);
				int64_t numel = (int64_t)g->N * g->C * g->H * g->W, yn, yn2;
				for (uint64_t is = 1; is <= 2; is++) {
					float *x = random_inputs(numel, is * 7 + (uint64_t)seed);
					float *y0 = run(m, "interp", x, &yn);
					float *y1 = run(c, "interp", x, &yn2);
					assert_int_equal(yn, yn2);
					double e = rel_max(y0, y1, yn);
					/* F(4x4) amplifies rounding by its larger matrix entries */
					if (e > (mt == 2 ? 1e-5 : 1e-4))
						fail_msg("geometry %zu seed %d m %d: rel. error %g", gi, seed, mt, e);
					if (seed == 1 && is == 1) {
						float *yh = run(c, "host", x, &yn2);
						double eh = rel_max(y0, yh, yn);
						if (eh > (mt == 2 ? 1e-5 : 1e-4))
							fail_msg("geometry %zu m %d: host code rel. error %g", gi, mt, eh);
						free(yh);
					}
					free(x);
					free(y0);
					free(y1);
				}
				gos_module_free(c);
			}
			gos_diags_free(&d);
			gos_module_free(m);
		}
}

/* The rule does not apply to a strided, a 5x5 or a dilated convolution,
 * and asking for it says so. */
static void test_winograd_refuses(void **state)
{
	(void)state;
	struct {
		int k;
		const char *opts;
	} bad[] = {{3, "; stride = 2, pad = 1"}, {5, "; pad = 2"}, {3, "; dilation = 2, pad = 2"}};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		gos_module *m = layer(1, 4, 4, 12, 12, bad[i].k, bad[i].opts, 1, 1);
		int ni = -1;
		for (int j = 0; j < m->n_node; j++)
			if (!strcmp(m->nodes[j].name, "h"))
				ni = j;
		assert_true(ni >= 0);
		int vals[16];
		assert_int_equal(gos_synth_winograd_params(m, ni, vals, 16), 0);
		gos_diags d;
		gos_diags_init(&d);
		assert_null(gos_synth_apply(m, "h/winograd:m=2", NULL, &d));
		assert_true(d.n_errors > 0);
		gos_diags_free(&d);
		gos_module_free(m);
	}
}

/* m = 3 is not a Winograd tile the rule knows: a clear error. */
static void test_winograd_bad_param(void **state)
{
	(void)state;
	gos_module *m = layer(1, 4, 4, 8, 8, 3, "; pad = 1", 1, 1);
	gos_diags d;
	gos_diags_init(&d);
	assert_null(gos_synth_apply(m, "h/winograd:m=3", NULL, &d));
	assert_true(d.n_errors > 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gos_diags_render(&d, f);
	fclose(f);
	assert_non_null(strstr(buf, "m must be 2"));
	free(buf);
	gos_diags_free(&d);
	gos_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_winograd_equivalence),
		cmocka_unit_test(test_winograd_refuses),
		cmocka_unit_test(test_winograd_bad_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
