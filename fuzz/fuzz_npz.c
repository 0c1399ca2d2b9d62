/* fuzz_npz.c -- a .npz (ZIP) archive through the dataset reader. */
#include "fuzz/fuzz.h"
#include "eval/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, "in.npz");
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset ds;
	int rc = gos_dataset_load(&ds, path, 0, NULL, &d);
	fuzz_check(rc, &d, "gos_dataset_load");
	if (rc == 0)
		gos_dataset_free(&ds);
	gos_diags_free(&d);
	return 0;
}
