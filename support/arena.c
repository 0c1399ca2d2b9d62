/* arena.c -- bump allocator over a chain of malloc'd blocks. */
#include "support/arena.h"
#include "support/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
	struct block *next;
	size_t used, cap;
	_Alignas(max_align_t) unsigned char mem[];
} block;

struct gos_arena {
	block *head;
	jmp_buf *oom; /* where an allocation failure jumps, or NULL */
};

enum { BLOCK_SIZE = 64 * 1024, ALIGN = _Alignof(max_align_t) };

gos_arena *gos_arena_new(void)
{
	return gos_calloc(1, sizeof(gos_arena));
}

void gos_arena_free(gos_arena *a)
{
	if (!a)
		return;
	for (block *b = a->head, *n; b; b = n) {
		n = b->next;
		free(b);
	}
	free(a);
}

void *gos_arena_alloc(gos_arena *a, size_t n)
{
	n = (n + ALIGN - 1) / ALIGN * ALIGN;
	if (n == 0)
		n = ALIGN;
	block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > BLOCK_SIZE / 4 ? n : BLOCK_SIZE;
		b = gos_malloc(sizeof(block) + cap);
		if (!b) {
			gos_arena_oom(a);
			return NULL;
		}
		b->cap = cap;
		b->used = 0;
		if (cap == n && a->head) {
			/* big block: keep the current block as the one to fill */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = b->mem + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

jmp_buf *gos_arena_set_oom_jump(gos_arena *a, jmp_buf *j)
{
	jmp_buf *old = a->oom;
	a->oom = j;
	return old;
}

void gos_arena_oom(gos_arena *a)
{
	if (a && a->oom)
		longjmp(*a->oom, 1);
}

char *gos_arena_strndup(gos_arena *a, const char *s, size_t n)
{
	if (!s)
		return NULL;
	char *p = gos_arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

char *gos_arena_strdup(gos_arena *a, const char *s)
{
	return s ? gos_arena_strndup(a, s, strlen(s)) : NULL;
}

void *gos_arena_memdup(gos_arena *a, const void *p, size_t n)
{
	void *q = gos_arena_alloc(a, n);
	if (q && p && n)
		memcpy(q, p, n);
	return q;
}

char *gos_arena_printf(gos_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = gos_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void *gos_arena_grow(gos_arena *a, void *v, int n, int *cap, size_t elem)
{
	if (n < *cap)
		return v;
	int ncap = *cap > 8 ? *cap * 2 : 16;
	void *nv = gos_arena_alloc(a, elem * (size_t)ncap);
	if (!nv)
		return NULL;
	if (n)
		memcpy(nv, v, elem * (size_t)n);
	*cap = ncap;
	return nv;
}
