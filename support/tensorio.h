/* tensorio.h -- tensors on disk: .npy (float32, C order) and safetensors. */
#ifndef GOS_TENSORIO_H
#define GOS_TENSORIO_H

#include "ir/ir.h"

/* Reads a .npy file holding float32 (or float64/int, converted) data in C
 * order. On success fills t (t->data malloc'd) and returns 0; otherwise
 * adds an error naming the file and returns -1. Never trusts the header:
 * truncated or inconsistent files are errors. */
int gos_npy_read(const char *path, gos_tensor *t, gos_diags *d);
/* Writes t as a version 1.0 float32 .npy. Writes to a temporary file and
 * renames it, so a failure leaves no partial file. Returns 0 or -1. */
int gos_npy_write(const char *path, const gos_tensor *t, gos_diags *d);

/* Reads tensor `key` from safetensors file `path` (F32, F16 or F64 data,
 * converted to float). Needs: the tensor's shape equals rank/shape.
 * Fills out[numel]. Returns 0 or -1 with an error in d. */
int gos_safetensors_read(const char *path, const char *key, int rank,
                         const int64_t *shape, float *out, gos_diags *d);
/* Writes n tensors (all F32) to a safetensors file (atomically). */
int gos_safetensors_write(const char *path, int n, const char *const *keys,
                          const gos_tensor *ts, gos_diags *d);

#endif
