/* arena.h -- bump allocation; everything is freed at once. */
#ifndef GOS_ARENA_H
#define GOS_ARENA_H

#include <setjmp.h>
#include <stddef.h>

typedef struct gos_arena gos_arena;

/* Returns a new empty arena, or NULL if out of memory. */
gos_arena *gos_arena_new(void);
/* Frees the arena and every block it handed out. NULL is allowed. */
void gos_arena_free(gos_arena *a);
/* Returns n zeroed bytes aligned for any type; aborts never: NULL if
 * the system is out of memory. */
void *gos_arena_alloc(gos_arena *a, size_t n);
/* Copies s (NUL-terminated) into the arena. NULL gives NULL. */
char *gos_arena_strdup(gos_arena *a, const char *s);
char *gos_arena_strndup(gos_arena *a, const char *s, size_t n);
/* printf into the arena. */
char *gos_arena_printf(gos_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Arena copy of n bytes at p (zeroed bytes when p is NULL). */
void *gos_arena_memdup(gos_arena *a, const void *p, size_t n);

/* Out of memory as a jump: after gos_arena_set_oom_jump(a, j) an
 * allocation from a that fails calls longjmp(*j, 1) instead of returning
 * NULL, and so does gos_arena_oom(a) (for allocations that belong to a's
 * owner but come from the heap, such as a module's arrays). j = NULL
 * restores returning NULL. Returns the previous jump (restore it when the
 * code that set j returns, so that recovery points nest). */
jmp_buf *gos_arena_set_oom_jump(gos_arena *a, jmp_buf *j);
/* Jumps to a's recovery point if it has one; returns otherwise. */
void gos_arena_oom(gos_arena *a);

/* Growable arrays in an arena: returns v if it has room for element n,
 * else a copy of its n elements (elem bytes each) with twice the capacity
 * (at least 16), updating *cap. NULL if out of memory. */
void *gos_arena_grow(gos_arena *a, void *v, int n, int *cap, size_t elem);
#define GOS_NEW(a, T) ((T *)gos_arena_alloc((a), sizeof(T)))
#define GOS_NEWN(a, T, n) ((T *)gos_arena_alloc((a), sizeof(T) * (size_t)(n)))

#endif
