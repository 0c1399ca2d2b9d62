/* test_tiny.h -- examples/tiny.gos loaded, materialised and verified, for
 * the unit tests that run a real model (test_eval.c, test_search.c).
 * Include after cmocka.h. */
#ifndef TEST_TINY_H
#define TEST_TINY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

/* The source tree: GOS_SOURCE_DIR (ctest sets it), else from __FILE__. */
static inline const char *test_source_dir(void)
{
	static char buf[4096];
	const char *e = getenv("GOS_SOURCE_DIR");
	if (e && *e)
		return e;
	snprintf(buf, sizeof buf, "%s", __FILE__);
	char *p = strstr(buf, "/tests/unit/");
	if (p)
		*p = 0;
	else
		snprintf(buf, sizeof buf, ".");
	return buf;
}

/* examples/tiny.gos (fails the test when it does not load). */
static inline gos_module *test_load_tiny(void)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/examples/tiny.gos", test_source_dir());
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load(path, NULL, &d);
	if (!m || gos_verify(m, &d) || gos_module_materialize(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("cannot load %s", path);
	}
	gos_diags_free(&d);
	return m;
}

#endif
