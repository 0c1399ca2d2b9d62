/* dataset.h -- labelled image datasets: IDX (optionally gzipped), .npy
 * pairs and .npz archives, normalised for a model (docs/eval.md).
 *
 * A dataset is n images of one shape (C, H, W) as float32 after
 * normalisation, plus n integer labels in [0, n_class). Normalisation:
 * integer pixels (uint8 files) are scaled to [0, 1] by 1/255, float pixels
 * are taken as they are; then x = (x - mean[c]) / std[c] per channel c.
 *
 * Dataset specs (what users type after --data / --calib):
 *   fashion-mnist:train | fashion-mnist:test   Debian's dataset-fashion-mnist
 *                             (/usr/share/datasets/fashion-mnist, or
 *                             $GOS_FASHION_MNIST_DIR)
 *   IMAGES.idx[.gz],LABELS.idx[.gz]   an IDX pair (ubyte or float images)
 *   IMAGES.npy,LABELS.npy             a .npy pair
 *   FILE.npz                          arrays 'x' / 'images' and 'y' / 'labels'
 *                                     (stored or deflated members)
 * Image arrays are [N, H, W] (one channel), [N, C, H, W], or [N, H, W, C]
 * when the last dimension is 1 or 3 and the second is not (stored
 * channel-first here); labels are [N] integers.
 * Nothing in a file is trusted: truncated, corrupt, or inconsistent files,
 * mismatched image / label counts, and labels out of range are errors that
 * name the file. */
#ifndef GOS_DATASET_H
#define GOS_DATASET_H

#include <stdint.h>

#include "ir/ir.h"

#define GOS_DATA_MAX_CHANNELS 16

/* Normalisation of the pixels (see above). n_mean / n_std are 0 (no
 * shift / scale), 1 (every channel) or the channel count. */
typedef struct gos_norm {
	int n_mean, n_std;
	double mean[GOS_DATA_MAX_CHANNELS];
	double std[GOS_DATA_MAX_CHANNELS];
} gos_norm;

typedef struct gos_dataset {
	char name[256];   /* the spec it was loaded from (for messages) */
	int64_t n;        /* images */
	int c, h, w;      /* shape of one image, channel first */
	float *x;         /* [n][c][h][w], normalised; malloc'd */
	int32_t *y;       /* [n] labels in [0, n_class); malloc'd */
	int n_class;      /* 1 + the largest label (at least 1) */
} gos_dataset;

/* Parses "M[,M..]" (what --mean / --std take) into v[], at most
 * GOS_DATA_MAX_CHANNELS numbers; std values must be > 0 (is_std).
 * Returns the count, or -1 with an error naming `what` in d. */
int gos_norm_parse(const char *text, int is_std, double *v, const char *what,
                   gos_diags *d);

/* Loads the dataset named by spec (see above), at most limit images
 * (limit <= 0: all) taken from the start, normalised by norm (NULL: none).
 * Needs: norm's counts are 0, 1 or the images' channel count (else an
 * error). Returns 0 and fills ds, or -1 with errors in d (ds is then
 * empty and needs no free). */
int gos_dataset_load(gos_dataset *ds, const char *spec, int64_t limit,
                     const gos_norm *norm, gos_diags *d);
void gos_dataset_free(gos_dataset *ds);

/* A calibration sample: "DATA[:N]" (N default 256) names n images drawn
 * without replacement from DATA by a seeded shuffle (the same seed gives
 * the same images in the same order; N larger than the dataset is an
 * error). Loads DATA (normalised by norm) and keeps only the sample, in
 * ds. Returns 0, or -1 with errors in d. */
int gos_dataset_load_calib(gos_dataset *ds, const char *spec, uint64_t seed,
                           const gos_norm *norm, gos_diags *d);

/* Keeps the images idx[0..k) of ds, in that order (each < ds->n).
 * Returns 0, or -1 (out of memory) with an error in d. */
int gos_dataset_select(gos_dataset *ds, const int64_t *idx, int64_t k,
                       gos_diags *d);

#endif
