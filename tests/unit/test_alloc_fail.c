/* test_alloc_fail.c -- every allocation of libgos can fail cleanly
 * (issue 15). A workload -- load a small model (.gos through the parser
 * and elaboration, ONNX through protobuf-c), verify it, run the default
 * pipeline, compile it for this machine -- is run once to count its
 * allocations, then again with the n-th allocation failing, for every n.
 * Each run must end either in an error reported in gos_diags or, where
 * the failure was recovered from, in exactly the output of the clean run
 * (the object file byte for byte). No crash, no leak (the sanitizer build
 * runs this test with LeakSanitizer), no silent wrong result. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <execinfo.h>

#include "backends/llvm/llvm.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "support/alloc.h"

/* The gate: counts allocations; the fail_at-th one fails (0: none). */
typedef struct counter {
	long n, fail_at, failed;
} counter;

static int gate(size_t n, void *ctx)
{
	counter *c = ctx;
	long k = __atomic_add_fetch(&c->n, 1, __ATOMIC_RELAXED);
	if (k == c->fail_at) {
		c->failed = 1;
		if (getenv("GOS_ALLOC_FAIL_TRACE")) { /* debugging: where it failed */
			void *bt[16];
			backtrace_symbols_fd(bt, backtrace(bt, 16), 2);
		}
		return 0;
	}
	return 1;
}

static const char *source_dir(void)
{
	const char *e = getenv("GOS_SOURCE_DIR");
	return e ? e : "."; /* ctest sets it */
}

/* One workload run: load path, verify, pipeline, compile for the host.
 * Returns 0 with the object in *obj (malloc'd, *len bytes), or -1; the
 * diagnostics are in d. */
static const char *stage; /* where the last workload run failed */

static int workload(const char *path, gos_diags *d, char **obj, size_t *len)
{
	*obj = NULL;
	*len = 0;
	stage = "load";
	gos_module *m = gos_load(path, NULL, d);
	if (!m)
		return -1;
	int rc = -1;
	gos_pipeline_opts po = {.level = 1, .verify_each = 1};
	gos_target t;
	if ((stage = "verify", gos_verify(m, d)) ||
	    (stage = "pipeline", gos_pipeline_run(m, &po, d)) ||
	    (stage = "target", gos_target_load(&t, "host", d)))
		goto done;
	stage = "compile";
	gos_llvm_opts o = {.opt_level = 1};
	gos_llvm_output out;
	memset(&out, 0, sizeof out);
	if (gos_llvm_compile(m, &t, &o, GOS_EMIT_OBJ, &out, d) == 0) {
		*obj = out.code;
		*len = out.code_len;
		out.code = NULL;
		rc = 0;
	}
	gos_llvm_output_free(&out);
done:
	gos_module_free(m);
	return rc;
}

/* Runs the workload on path failing each allocation in turn (every
 * stride-th when the count is large). */
static void fail_each(const char *rel, long stride)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", source_dir(), rel);
	const char *which = getenv("GOS_ALLOC_FAIL_MODEL"); /* debugging: only that one */
	if (which && !strstr(rel, which))
		return;
	counter c = {0, 0, 0};
	gos_alloc_set_gate(gate, &c);
	gos_diags d;
	gos_diags_init(&d);
	char *ref;
	size_t ref_len;
	if (workload(path, &d, &ref, &ref_len)) {
		gos_diags_render(&d, stderr);
		gos_alloc_set_gate(NULL, NULL);
		fail_msg("%s: the clean run failed", rel);
	}
	gos_diags_free(&d);
	long total = c.n;
	print_message("%s: %ld allocations in a clean run; failing every %ld-th in turn\n", rel,
	              total, stride);
	assert_true(total > 10);
	long errors = 0, recovered = 0, first = 1;
	const char *only = getenv("GOS_ALLOC_FAIL_AT"); /* debugging: that one run */
	if (only) {
		first = atol(only);
		total = first;
	}
	for (long k = first; k <= total; k += stride) {
		c = (counter){0, k, 0};
		gos_diags_init(&d);
		char *obj;
		size_t len;
		int rc = workload(path, &d, &obj, &len);
		if (rc == 0) {
			/* recovered (or the workload took another path): same result */
			if (c.failed && (len != ref_len || memcmp(obj, ref, len)))
				fail_msg("%s: allocation %ld failed, the run succeeded with a different object",
				         rel, k);
			free(obj);
			obj = NULL;
			recovered += c.failed;
		} else {
			if (!c.failed)
				fail_msg("%s: the run failed with no allocation failing (k=%ld)", rel, k);
			if (d.n_errors == 0)
				fail_msg("%s: allocation %ld failed, the run failed in %s without an error", rel,
				         k, stage);
			errors++;
		}
		free(obj);
		gos_diags_free(&d);
	}
	gos_alloc_set_gate(NULL, NULL);
	free(ref);
	print_message("%s: %ld runs ended in an error, %ld recovered with the same object\n", rel,
	              errors, recovered);
}

static void test_gos_model(void **state)
{
	(void)state;
	fail_each("examples/tiny.gos", 1);
}

static void test_onnx_model(void **state)
{
	(void)state;
	fail_each("tests/fuzz/onnx_struct/conv.onnx", 1);
}

/* The gate itself: calloc's overflow check, realloc keeping the block. */
static void test_gate(void **state)
{
	(void)state;
	assert_null(gos_calloc(SIZE_MAX / 2, 4));
	counter c = {0, 2, 0};
	char *p = gos_malloc(4);
	gos_alloc_set_gate(gate, &c);
	assert_non_null(p);
	memcpy(p, "abc", 4);
	char *q = gos_realloc(p, 1 << 20); /* the 1st: passes */
	assert_non_null(q);
	assert_null(gos_realloc(q, 2 << 20)); /* the 2nd fails; q is kept */
	assert_string_equal(q, "abc");
	gos_alloc_set_gate(NULL, NULL);
	free(q);
	char *s = gos_strndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_gos_model),
		cmocka_unit_test(test_onnx_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
