/* fuzz_npy.c -- a .npy file through both readers: the tensor reader
 * (gos_npy_read) and the dataset reader, as the images of a pair whose
 * labels are a fixed valid file of 2 labels and as the labels of a pair
 * whose images are a fixed file of 2 images. */
#include "fuzz/fuzz.h"
#include "eval/dataset.h"
#include "support/tensorio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A version 1.0 .npy of dtype descr and shape, then n bytes of data. */
static size_t npy(uint8_t *out, const char *descr, const char *shape, const void *p, size_t n)
{
	char h[128];
	int k = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
	                 descr, shape);
	while ((10 + k + 1) % 64)
		h[k++] = ' ';
	h[k++] = '\n';
	memcpy(out, "\x93NUMPY\x01\x00", 8);
	out[8] = (uint8_t)k;
	out[9] = 0;
	memcpy(out + 10, h, (size_t)k);
	memcpy(out + 10 + k, p, n);
	return 10 + (size_t)k + n;
}

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
	static char im[1024], lb[1024];
	if (!im[0]) {
		uint8_t buf[256];
		static const uint8_t px[8] = {1, 2, 3, 4, 5, 6, 7, 8};
		static const int64_t y[2] = {0, 1};
		snprintf(im, sizeof im, "%s", fuzz_file(buf, npy(buf, "|u1", "(2, 2, 2)", px, 8),
		                                        "fix_images.npy"));
		snprintf(lb, sizeof lb, "%s", fuzz_file(buf, npy(buf, "<i8", "(2,)", y, 16),
		                                        "fix_labels.npy"));
	}
	char in[1024];
	snprintf(in, sizeof in, "%s", fuzz_file(data, size, "in.npy"));
	gos_diags d;
	gos_diags_init(&d);
	gos_tensor t = {0};
	int rc = gos_npy_read(in, &t, &d);
	fuzz_check(rc, &d, "gos_npy_read");
	if (rc == 0)
		free(t.data);
	gos_diags_free(&d);
	load(in, lb);
	load(im, in);
	return 0;
}
