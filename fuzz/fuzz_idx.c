/* fuzz_idx.c -- an IDX file (plain or gzipped) through the dataset reader,
 * as the images of a pair whose labels are a fixed valid file of 2 labels,
 * and as the labels of a pair whose images are a fixed file of 2 images. */
#include "fuzz/fuzz.h"
#include "eval/dataset.h"

#include <stdio.h>
#include <string.h>

static const uint8_t images[] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2,
                                 1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t labels[] = {0, 0, 8, 1, 0, 0, 0, 2, 0, 1};

static void load(const char *a, const char *b)
{
	char spec[2100];
	snprintf(spec, sizeof spec, "%s,%s", a, b);
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset ds;
	int rc = gos_dataset_load(&ds, spec, 0, NULL, &d);
	fuzz_check(rc, &d, "gos_dataset_load");
	if (rc == 0)
		gos_dataset_free(&ds);
	gos_diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char im[1024], lb[1024], in[1024];
	snprintf(im, sizeof im, "%s", fuzz_file(images, sizeof images, "fix_images.idx"));
	snprintf(lb, sizeof lb, "%s", fuzz_file(labels, sizeof labels, "fix_labels.idx"));
	snprintf(in, sizeof in, "%s", fuzz_file(data, size, "in.idx"));
	load(in, lb);
	load(im, in);
	return 0;
}
