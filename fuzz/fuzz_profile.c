/* fuzz_profile.c -- a per-node profile CSV through gos_cost_profile_parse,
 * against one fixed model (below, after -O1, analysed on the default
 * target) whose node names the seeds use. */
#include "fuzz/fuzz.h"
#include "frontend/frontend.h"
#include "passes/cost/cost.h"
#include "passes/passes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char model_text[] =
	"model net_a {\n"
	"  input x: f32[1, 4, 8, 8];\n"
	"  weights seed 1;\n"
	"  c1 = conv2d(x, param[8, 4, 3, 3]; pad = 1);\n"
	"  r1 = relu(c1);\n"
	"  c2 = conv2d(r1, param[8, 8, 1, 1]);\n"
	"  p = avgpool2d(c2; kernel = 2, stride = 2);\n"
	"  output p;\n"
	"}\n";

static gos_module *model;
static gos_cost_report report;

static void cleanup(void)
{
	gos_cost_report_free(&report);
	gos_module_free(model);
}

/* The fixed model, built on first use; aborts when it does not build. */
static void setup(void)
{
	if (model)
		return;
	gos_diags d;
	gos_diags_init(&d);
	model = gos_gos_load_text("net_a.gos", model_text, strlen(model_text), NULL, &d);
	gos_pipeline_opts po = {1, 0, NULL, NULL};
	gos_cost_target t;
	gos_cost_target_default(&t);
	if (!model || d.n_errors || gos_pipeline_run(model, &po, &d) || d.n_errors ||
	    gos_cost_analyze(model, &t, &report, &d)) {
		gos_diags_render(&d, stderr);
		abort();
	}
	gos_diags_free(&d);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	gos_diags d;
	gos_diags_init(&d);
	gos_cost_prof_node *rows;
	int n;
	double total;
	int rc = gos_cost_profile_parse("fuzz.csv", (const char *)data, size, model, &report,
	                                &rows, &n, &total, &d);
	fuzz_check(rc, &d, "gos_cost_profile_parse");
	free(rows);
	gos_diags_free(&d);
	return 0;
}
