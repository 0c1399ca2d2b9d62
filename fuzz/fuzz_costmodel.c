/* fuzz_costmodel.c -- a fitted cost-model file (gos-cost fit -o) through
 * gos_cost_model_load; a model that loads is applied to a row of features. */
#include "fuzz/fuzz.h"
#include "passes/cost/cost.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_model m;
	int rc = gos_cost_model_load(&m, "fuzz.model", (const char *)data, size, &d);
	fuzz_check(rc, &d, "gos_cost_model_load");
	if (rc == 0) {
		gos_cost_sample s = {.proxy = 1.0, .y = 1.0};
		for (int i = 0; i < GOS_COST_NFEAT; i++)
			s.x_all[i] = s.x_fold[i] = 1.0 + i;
		double row[GOS_COST_MAX_COLS];
		gos_cost_model_row(&m, &s, row);
		(void)gos_cost_model_eval(&m, row);
	}
	gos_diags_free(&d);
	return 0;
}
