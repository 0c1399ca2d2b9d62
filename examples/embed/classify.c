/* classify.c -- a C program that embeds a gosc model (examples/tiny.gos,
 * compiled to tiny.o + tiny.h by gos.mk): the way an application uses the
 * generated API. All memory is the caller's: static buffers sized by the
 * header's macros, no allocation.
 *
 * Usage: classify [INPUT.f32]   (raw little-endian floats, 1x3x32x32;
 *                                default: a synthetic image)
 * Prints the ten logits and the arg-max. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tiny.h"

static float image[TINY_INPUT_X_NUMEL];
static float logits[TINY_OUTPUT_LOGITS_NUMEL];
static float logits2[TINY_OUTPUT_LOGITS_NUMEL];
static _Alignas(TINY_SCRATCH_ALIGN) unsigned char scratch[TINY_SCRATCH_BYTES + 1];
static _Alignas(TINY_SCRATCH_ALIGN) unsigned char scratch2[TINY_SCRATCH_BYTES + 1];

int main(int argc, char **argv)
{
	static const long long shape[] = TINY_INPUT_X_SHAPE;
	if (argc > 1) {
		FILE *f = fopen(argv[1], "rb");
		if (!f || fread(image, sizeof image, 1, f) != 1) {
			fprintf(stderr, "classify: cannot read %d floats from '%s'\n",
			        TINY_INPUT_X_NUMEL, argv[1]);
			return 1;
		}
		fclose(f);
	} else {
		for (long long i = 0; i < TINY_INPUT_X_NUMEL; i++)
			image[i] = (float)sin(0.01 * (double)i) * 0.5f;
	}
	const float *inputs[TINY_NUM_INPUTS] = {image};
	float *outputs[TINY_NUM_OUTPUTS] = {logits};
	if (tiny_run(inputs, outputs, scratch) != 0)
		return 1;
	/* no hidden state: another scratch buffer gives the same result */
	float *outputs2[TINY_NUM_OUTPUTS] = {logits2};
	memset(scratch2, 0x7f, sizeof scratch2);
	if (tiny_run(inputs, outputs2, scratch2) != 0 || memcmp(logits, logits2, sizeof logits)) {
		fprintf(stderr, "classify: runs differ\n");
		return 1;
	}
	int best = 0;
	for (int k = 0; k < TINY_OUTPUT_LOGITS_NUMEL; k++) {
		printf("%.9g\n", logits[k]);
		if (logits[k] > logits[best])
			best = k;
	}
	printf("input %lldx%lldx%lldx%lld, class %d\n", shape[0], shape[1], shape[2], shape[3], best);
	return 0;
}
