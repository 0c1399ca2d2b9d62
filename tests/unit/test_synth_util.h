/* test_synth_util.h -- what the synthesis tests (test_synth.c,
 * test_synth_prune.c) measure independently of the rules: a value's
 * error as its readers see it, by running both modules; and the random
 * inputs they feed. Static inline so
 * a test using part of it stays warning-free; include after cmocka.h. */
#ifndef TEST_SYNTH_UTIL_H
#define TEST_SYNTH_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "ir/ir.h"
#include "passes/synth/synth.h"

/* Elements of m's (first) input. */
static inline int64_t synth_input_numel(const gos_module *m)
{
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].kind == GOS_VAL_INPUT)
			return gos_numel(m->vals[v].rank, m->vals[v].shape);
	fail();
	return 0;
}

/* n samples of numel elements, uniform in [-1, 1) from seed (malloc'd). */
static inline float *synth_random_inputs(int64_t n, int64_t numel, uint64_t seed)
{
	gos_rng r;
	gos_rng_seed(&r, seed);
	float *x = malloc(sizeof(float) * (size_t)(n * numel));
	for (int64_t i = 0; i < n * numel; i++)
		x[i] = (float)(2 * gos_rng_uniform(&r) - 1);
	return x;
}

/* 0 when every reader of value `name` of m is a relu (the floor fitted
 * rules fit and report errors above), else -INFINITY. */
static inline double synth_relu_floor(const gos_module *m, const char *name)
{
	int readers = 0;
	for (int i = 0; i < m->n_node; i++)
		for (int k = 0; k < m->nodes[i].n_in; k++)
			if (!strcmp(m->vals[m->nodes[i].in[k]].name, name)) {
				if (strcmp(m->nodes[i].op, "relu"))
					return -INFINITY;
				readers++;
			}
	return readers ? 0 : -INFINITY;
}

/* Relative MSE of value `name` between modules a and b on calibration c,
 * as its readers see it (synth_relu_floor), measured by recording it with
 * the interpreter (independent of the rule's own figure). */
static inline double synth_measured_err(const gos_module *a, const gos_module *b,
                                        const gos_synth_calib *c, const char *name)
{
	const char *names[1] = {name};
	gos_engine_opts o = {"interp", 2, -1};
	gos_capture ca, cb;
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_capture_run(a, 1, names, &o, c->n, c->in, &ca, &d), 0);
	assert_int_equal(gos_capture_run(b, 1, names, &o, c->n, c->in, &cb, &d), 0);
	int64_t n = gos_numel(ca.t[0].rank, ca.t[0].shape);
	double num = 0, den = 0, lo = synth_relu_floor(a, name);
	for (int64_t i = 0; i < n; i++) {
		double ya = fmax(ca.t[0].data[i], lo), e = ya - fmax(cb.t[0].data[i], lo);
		num += e * e;
		den += ya * ya;
	}
	gos_capture_free(&ca);
	gos_capture_free(&cb);
	gos_diags_free(&d);
	return num / den;
}

#endif
