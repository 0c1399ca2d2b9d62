/* flops.c -- floating-point operations of a module: per statement, the
 * points of its loop nest (destination elements x reduction extents)
 * times its arithmetic instructions, plus one for the reduction's
 * combine; so a multiply-accumulate counts 2, as is usual. Loads,
 * constants and index conversions are free. */
#include "passes/passes.h"

double gos_node_flops(const gos_node *n)
{
	double total = 0;
	for (int si = 0; si < n->n_stmt; si++) {
		const gos_stmt *s = &n->stmts[si];
		const gos_buf *dst = &n->bufs[s->dst];
		double points = (double)gos_numel(dst->rank, dst->shape);
		for (int j = 0; j < s->n_red; j++)
			points *= (double)s->red_extent[j];
		int arith = s->red != GOS_RED_NONE;
		for (int k = 0; k < s->n_ins; k++) {
			gos_opcode op = s->ins[k].op;
			arith += op != GOS_OP_CONST && op != GOS_OP_LOAD && op != GOS_OP_INDEX;
		}
		total += points * arith;
	}
	return total;
}

double gos_flops(const gos_module *m)
{
	double total = 0;
	for (int i = 0; i < m->n_node; i++)
		total += gos_node_flops(&m->nodes[i]);
	return total;
}
