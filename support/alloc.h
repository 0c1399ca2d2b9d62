/* alloc.h -- every heap allocation of libgos passes one gate, so that a
 * test can make the n-th allocation fail and check that each failure
 * ends in a clean error (tests/unit/test_alloc_fail.c). Memory comes from
 * the C library: release it with free(). The gate never sees LLVM's or
 * LAPACK's own allocations. */
#ifndef GOS_ALLOC_H
#define GOS_ALLOC_H

#include <stddef.h>

/* Returns nonzero to let an allocation of n bytes proceed, 0 to make it
 * fail (the caller then sees NULL, as from an exhausted malloc). Called
 * from any thread that uses libgos. */
typedef int (*gos_alloc_gate_fn)(size_t n, void *ctx);

/* Installs fn (NULL: every allocation proceeds). Set it while no other
 * thread uses libgos. */
void gos_alloc_set_gate(gos_alloc_gate_fn fn, void *ctx);

/* malloc, calloc, realloc, strdup and strndup through the gate. calloc
 * fails (NULL) when count * size overflows; realloc(p, n) leaves p
 * untouched when it fails. */
void *gos_malloc(size_t n);
void *gos_calloc(size_t count, size_t size);
void *gos_realloc(void *p, size_t n);
void *gos_aligned_alloc(size_t align, size_t n);
char *gos_strdup(const char *s);
char *gos_strndup(const char *s, size_t n);

#endif
