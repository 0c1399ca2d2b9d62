/* test_arena.c -- arena and diagnostics basics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "support/arena.h"
#include "support/diag.h"

static void test_alloc_zeroed_and_aligned(void **state)
{
	(void)state;
	gos_arena *a = gos_arena_new();
	for (int i = 1; i < 5000; i += 7) {
		unsigned char *p = gos_arena_alloc(a, (size_t)i);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (int j = 0; j < i; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xab, (size_t)i);
	}
	void *big = gos_arena_alloc(a, 1 << 20);
	assert_non_null(big);
	assert_string_equal(gos_arena_printf(a, "%s.%d", "x", 3), "x.3");
	gos_arena_free(a);
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(gos_edit_distance("conv2d", "conv2d", 3), 0);
	assert_int_equal(gos_edit_distance("conv2", "conv2d", 3), 1);
	assert_int_equal(gos_edit_distance("relu", "gelu", 3), 1);
	assert_int_equal(gos_edit_distance("abc", "xyzw", 2), 3);
}

static void test_render_caret(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	const char *f = gos_diags_source(&d, "a.gos", "line one\n  bad thing\n", 20);
	gos_error(&d, (gos_loc){f, 2, 3}, "unknown name '%s'", "bad");
	char buf[256] = {0};
	FILE *m = fmemopen(buf, sizeof buf, "w");
	gos_diags_render(&d, m);
	fclose(m);
	assert_string_equal(buf, "a.gos:2:3: error: unknown name 'bad'\n    bad thing\n    ^\n");
	assert_int_equal(d.n_errors, 1);
	gos_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_zeroed_and_aligned),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_render_caret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
