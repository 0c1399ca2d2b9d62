/* fuzz_gir.c -- textual IR through the parser and the verifier. */
#include "fuzz/fuzz.h"
#include "ir/ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_ir_parse("fuzz.gir", (const char *)data, size, &d);
	fuzz_check(m ? 0 : -1, &d, "gos_ir_parse");
	if (m && !d.n_errors)
		gos_verify(m, &d);
	gos_module_free(m);
	gos_diags_free(&d);
	return 0;
}
