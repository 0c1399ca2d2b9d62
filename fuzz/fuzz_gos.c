/* fuzz_gos.c -- .gos source through parsing and elaboration
 * (gos_gos_load_text), then the verifier on what elaboration built. */
#include "fuzz/fuzz.h"
#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_gos_load_text("fuzz.gos", (const char *)data, size, NULL, &d);
	fuzz_check(m ? 0 : -1, &d, "gos_gos_load_text");
	if (m && !d.n_errors)
		gos_verify(m, &d);
	gos_module_free(m);
	gos_diags_free(&d);
	return 0;
}
