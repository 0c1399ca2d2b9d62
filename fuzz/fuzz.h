/* fuzz.h -- what the libFuzzer targets of fuzz/ share (docs/fuzzing.md).
 *
 * Every target defines LLVMFuzzerTestOneInput: it feeds the bytes to one
 * reader of libgos and checks that the reader either succeeds or returns
 * an error in gos_diags -- never crashes, hangs or leaks (the sanitizers
 * and libFuzzer see to that). The same sources link with regress.c in the
 * normal build to replay the inputs under tests/fuzz/<target>/. */
#ifndef GOS_FUZZ_H
#define GOS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "support/diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a file named `name` (e.g. "in.npy": readers pick their
 * format by extension) in a private temporary directory made on first
 * use and removed at exit; returns its path (static storage, valid until
 * the next call). Aborts when the file cannot be written. */
const char *fuzz_file(const uint8_t *data, size_t size, const char *name);

/* Aborts (a finding) when a reader failed without saying why: rc != 0
 * but no error in d. With $GOS_FUZZ_VERBOSE set, prints the outcome and
 * the diagnostics to stderr (to see how far seeds get). */
void fuzz_check(int rc, const gos_diags *d, const char *what);

#endif
