/* fuzz_target.c -- a .target file through both of its readers: the
 * backend's (gos_target_parse) and the cost model's
 * (gos_cost_target_parse). */
#include "fuzz/fuzz.h"
#include "backends/llvm/llvm.h"
#include "passes/cost/cost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	int rc = gos_target_parse(&t, "fuzz.target", (const char *)data, size, &d);
	fuzz_check(rc, &d, "gos_target_parse");
	gos_diags_free(&d);

	gos_diags_init(&d);
	gos_cost_target ct;
	rc = gos_cost_target_parse(&ct, "fuzz.target", (const char *)data, size, &d);
	fuzz_check(rc, &d, "gos_cost_target_parse");
	gos_diags_free(&d);
	return 0;
}
