/* fuzz_safetensors.c -- a safetensors file through the header parser and
 * the reader of tensor "w" of shape [2, 3] (the seeds hold one). */
#include "fuzz/fuzz.h"
#include "support/tensorio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, "in.safetensors");
	gos_diags d;
	gos_diags_init(&d);
	const int64_t shape[2] = {2, 3};
	float out[6];
	int rc = gos_safetensors_read(path, "w", 2, shape, out, &d);
	fuzz_check(rc, &d, "gos_safetensors_read");
	gos_diags_free(&d);
	return 0;
}
