/* test_synth_util.h -- what the synthesis tests (test_synth.c,
 * test_synth_prune.c) measure independently of the rules: a value's
 * error as its readers see it, by running both modules. Static inline so
 * a test using part of it stays warning-free; include after cmocka.h. */
#ifndef TEST_SYNTH_UTIL_H
#define TEST_SYNTH_UTIL_H

#include <math.h>
#include <string.h>

#include "eval/eval.h"
#include "ir/ir.h"
#include "passes/synth/synth.h"

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
