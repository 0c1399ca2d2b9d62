/* interp.h -- internals of the reference interpreter shared by its files.
 * The public entry point is gos_interp_run (ir/ir.h). */
#ifndef GOS_INTERP_H
#define GOS_INTERP_H

#include "ir/ir.h"

/* Runs statement si of node n once. bufdata[j] is the storage of body
 * buffer j (row-major, numel of n->bufs[j].shape floats; input buffers
 * are only read). Needs: the node's counts and arrays are as long as they
 * say (interp.c checks the node level; this checks the statement: every
 * index, operand and variable number is range-checked, index pools are
 * checked for cycles). Returns 0, or -1 with an error in d naming the
 * node and statement (out-of-range load without padding, malformed
 * statement, out of memory). */
int gos_interp_stmt(const gos_node *n, int si, float *const *bufdata,
                    gos_diags *d);

/* For tests: makes every statement use variable v as its lane variable
 * where that is allowed (an output variable or the last reduction
 * variable); -1 (the default) lets the cost model choose. Results must not
 * depend on it (the reduction order is the same). Not thread-safe. */
void gos_interp_set_lane(int v);

/* Optional trace of the interpreter's decisions on stderr (lane variable,
 * level of each instruction), enabled by GOS_INTERP_TRACE=1 in the
 * environment; 0 otherwise. For tuning only. */
int gos_interp_trace(void);

#endif
