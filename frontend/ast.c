/* ast.c -- construction of .gos syntax trees in the parse arena. */
#include "frontend/ast.h"

#include <string.h>

void *gos_pctx_mem(gos_pctx *c, void *p)
{
	if (!p) {
		gos_error(c->diags, (gos_loc){c->file, c->line, c->col}, "out of memory");
		c->errors++;
		longjmp(c->fatal, 1);
	}
	return p;
}

gos_ast *gos_ast_new(gos_pctx *c, gos_akind k, gos_loc loc)
{
	gos_ast *a = gos_pctx_mem(c, GOS_NEW(c->arena, gos_ast));
	a->kind = k;
	a->loc = loc;
	return a;
}

void gos_alist_push(gos_pctx *c, gos_alist *l, gos_ast *a)
{
	l->v = gos_pctx_mem(c, gos_arena_grow(c->arena, l->v, l->n, &l->cap, sizeof *l->v));
	l->v[l->n++] = a;
}

gos_sast *gos_sast_new(gos_pctx *c, gos_skind k, gos_loc loc)
{
	gos_sast *s = gos_pctx_mem(c, GOS_NEW(c->arena, gos_sast));
	s->kind = k;
	s->loc = loc;
	return s;
}

void gos_slist_push(gos_pctx *c, gos_slist *l, gos_sast *s)
{
	l->v = gos_pctx_mem(c, gos_arena_grow(c->arena, l->v, l->n, &l->cap, sizeof *l->v));
	l->v[l->n++] = s;
}

void gos_plist_push(gos_pctx *c, gos_plist *l, gos_param p)
{
	l->v = gos_pctx_mem(c, gos_arena_grow(c->arena, l->v, l->n, &l->cap, sizeof *l->v));
	l->v[l->n++] = p;
}

void gos_names_push(gos_pctx *c, gos_sast *s, const char *name)
{
	int cap = s->n_names; /* exact-size copies: name lists are short */
	const char **nv = gos_pctx_mem(c, GOS_NEWN(c->arena, const char *, cap + 1));
	if (s->n_names)
		memcpy(nv, s->names, sizeof *nv * (size_t)s->n_names);
	nv[s->n_names++] = name;
	s->names = nv;
}
