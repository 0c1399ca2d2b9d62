/* match.c -- def-use counts, and shape checks for the passes that trust an operator's
 * name only after checking its body has the prelude's form. */
#include "passes/passes.h"
#include "support/alloc.h"

#include <stdlib.h>

/* Whether statement s is `dst[...] = dst[...] + B[v]` (a bias add: load
 * of the destination, load of input buffer b, add). */
static int bias_stmt(const gos_node *n, const gos_stmt *s, int dst, int b)
{
	if (s->dst != dst || s->red != GOS_RED_NONE || s->n_red || s->n_ins != 3 || s->result != 2)
		return 0;
	const gos_ins *x = &s->ins[0], *y = &s->ins[1], *a = &s->ins[2];
	(void)n;
	return x->op == GOS_OP_LOAD && x->buf == dst && !x->has_pad && y->op == GOS_OP_LOAD &&
	       y->buf == b && !y->has_pad && a->op == GOS_OP_ADD &&
	       ((a->arg[0] == 0 && a->arg[1] == 1) || (a->arg[0] == 1 && a->arg[1] == 0));
}

int gos_pass_plain_contraction(const gos_node *n)
{
	int has_bias = n->n_in == 3;
	if (n->n_out != 1 || n->n_in < 2 || n->n_in > 3 || n->n_stmt != 1 + has_bias)
		return 0;
	const gos_stmt *s = &n->stmts[0];
	int dst = n->n_in;
	if (s->dst != dst || s->red != GOS_RED_SUM || s->n_ins != 3 || s->result != 2)
		return 0;
	const gos_ins *x = &s->ins[0], *w = &s->ins[1], *m = &s->ins[2];
	if (x->op != GOS_OP_LOAD || x->buf != 0 || w->op != GOS_OP_LOAD || w->buf != 1 || w->has_pad ||
	    m->op != GOS_OP_MUL || m->arg[0] != 0 || m->arg[1] != 1)
		return 0;
	return !has_bias || bias_stmt(n, &n->stmts[1], dst, 2);
}

int gos_pass_def_use(const gos_module *m, int **def, int **uses, gos_diags *d)
{
	int nv = m->n_val;
	int *df = gos_malloc(sizeof(int) * (size_t)(nv + 1)), *us = gos_calloc((size_t)nv + 1, sizeof(int));
	if (!df || !us) {
		free(df);
		free(us);
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	for (int i = 0; i < nv; i++)
		df[i] = -1;
	for (int i = 0; i < m->n_node; i++) {
		for (int j = 0; j < m->nodes[i].n_out; j++)
			df[m->nodes[i].out[j]] = i;
		for (int j = 0; j < m->nodes[i].n_in; j++)
			us[m->nodes[i].in[j]]++;
	}
	for (int i = 0; i < m->n_output; i++)
		us[m->outputs[i]] += 1000;
	*def = df;
	*uses = us;
	return 0;
}
