/* alloc.c -- the C library's allocator behind one gate. */
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

static gos_alloc_gate_fn gate;
static void *gate_ctx;

void gos_alloc_set_gate(gos_alloc_gate_fn fn, void *ctx)
{
	gate = fn;
	gate_ctx = ctx;
}

static int allowed(size_t n)
{
	return !gate || gate(n, gate_ctx);
}

void *gos_malloc(size_t n)
{
	return allowed(n) ? malloc(n) : NULL;
}

void *gos_calloc(size_t count, size_t size)
{
	size_t n;
	if (__builtin_mul_overflow(count, size, &n) || !allowed(n))
		return NULL;
	return calloc(count, size);
}

void *gos_realloc(void *p, size_t n)
{
	return allowed(n) ? realloc(p, n) : NULL;
}

void *gos_aligned_alloc(size_t align, size_t n)
{
	/* C11: n a multiple of align */
	n = (n + align - 1) / align * align;
	return allowed(n) ? aligned_alloc(align, n) : NULL;
}

char *gos_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = gos_malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

char *gos_strdup(const char *s)
{
	return gos_strndup(s, strlen(s));
}
