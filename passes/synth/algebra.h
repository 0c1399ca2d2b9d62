/* algebra.h -- what the algebraic exact rules (fold.c, simplify.c,
 * merge.c, share.c) share: reading constants and index forms off a
 * node's statements, and removing a node whose results other values
 * replace (passes/synth/algebra.c). */
#ifndef GOS_SYNTH_ALGEBRA_H
#define GOS_SYNTH_ALGEBRA_H

#include "ir/ir.h"

/* Whether value v is a model output. */
int gos_alg_is_output(const gos_module *m, int v);

/* Whether weight value v holds one value in every element (a fill, or
 * materialised data that is all equal); the value goes to *f. */
int gos_alg_weight_fill(const gos_module *m, int v, float *f);

/* Whether instruction i of statement s of node n is a constant: a
 * `const`, or a load of an input buffer whose value is a weight filled
 * with one value (gos_alg_weight_fill; a padded load only when its pad
 * is that value). The constant goes to *f. */
int gos_alg_ins_const(const gos_module *m, const gos_node *n, const gos_stmt *s, int i,
                      float *f);


/* Whether load instruction li of s reads, at every point, the element
 * of its buffer at the destination's own indices (index d is variable
 * d), with nothing but those variables involved. */
int gos_alg_load_is_identity(const gos_node *n, const gos_stmt *s, int li);

/* Removes node ni of m; every reader of value old[j] (and the model's
 * outputs) reads rep[j] instead, j < cnt. Values are left to DCE. */
void gos_alg_remove_node(gos_module *m, int ni, int cnt, const int *old, const int *rep);

/* Number of node inputs reading v (plus 1000 for a model output). */
int gos_alg_uses(const gos_module *m, int v);

/* The node defining value v, or -1. */
int gos_alg_def(const gos_module *m, int v);

#endif
