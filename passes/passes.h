/* passes.h -- IR-to-IR passes and the pipeline.
 *
 * One pass per file, one entry point `int gos_pass_NAME(gos_module *m,
 * gos_diags *d)` returning the number of changes made (>= 0) or -1 with
 * an error in d. Passes keep the module valid (gos_verify) and its
 * meaning exact: the interpreter gives the same outputs up to float
 * rounding of reassociated arithmetic.
 *
 * The default pipeline (gos_pipeline_run) is one readable list:
 *   fold_bn     batchnorm after a convolution or dense layer -> new weights
 *   pack_dense  dense(X, W) -> matmul(X, W^T) with W^T stored (+ bias add)
 *   fuse        elementwise operators inlined into their producer (epilogues)
 *   dce         nodes and values nothing uses are removed
 */
#ifndef GOS_PASSES_H
#define GOS_PASSES_H

#include "ir/ir.h"

typedef int (*gos_pass_fn)(gos_module *m, gos_diags *d);

typedef struct gos_pass {
	const char *name;
	gos_pass_fn run;
	const char *what; /* one line for --help */
} gos_pass;

/* The table of every pass, terminated by {NULL}. */
extern const gos_pass gos_passes[];
/* The pass called name, or NULL. */
const gos_pass *gos_pass_find(const char *name);

/* Removes nodes whose results nothing uses (not a model output, not read
 * by another node) and values no node or output refers to (inputs are
 * kept), renumbering all references. passes/dce.c */
int gos_pass_dce(gos_module *m, gos_diags *d);
/* conv1d/conv2d/dense whose result only feeds a batchnorm with constant
 * statistics: the batchnorm is folded into new weights and bias.
 * Materialises the weights. passes/fold_bn.c */
int gos_pass_fold_bn(gos_module *m, gos_diags *d);
/* dense(X, W, B) with constant W -> add(matmul(X, WT), B), WT = W^T a new
 * weight (the layout matrix kernels vectorise). passes/pack_dense.c */
int gos_pass_pack_dense(gos_module *m, gos_diags *d);
/* A node whose one result is read only by an elementwise node (one
 * statement, no reduction, reading it at the element it writes) takes
 * that statement into its body, so backends see conv + bias + activation
 * + residual add as one operator. passes/fuse.c */
int gos_pass_fuse(gos_module *m, gos_diags *d);

/* Whether node n's body has the prelude's form of a contraction with an
 * optional bias: one statement `Y = sum(..) X[..] * W[..]` reading
 * inputs 0 and 1, then (with a third input) `Y = Y + B[..]`, nothing
 * else. Passes check this before trusting an operator name.
 * passes/match.c */
int gos_pass_plain_contraction(const gos_node *n);
/* Whether node n is one elementwise statement writing its only result
 * (no reduction, no locals, not reading that result; passes/fuse.c). */
int gos_pass_elementwise(const gos_node *n);

/* Def-use of m's values: (*def)[v] is the node that writes v or -1,
 * (*uses)[v] the number of node inputs reading v, plus 1000 for a model
 * output. Both arrays have m->n_val + 1 entries and are the caller's to
 * free; on -1 (out of memory, reported in d) neither is allocated.
 * passes/match.c */
int gos_pass_def_use(const gos_module *m, int **def, int **uses, gos_diags *d);

/* Floating-point operations of one run of m (a multiply-add counts 2;
 * loads and constants are free). passes/flops.c */
double gos_flops(const gos_module *m);
/* The same count for one node. passes/flops.c */
double gos_node_flops(const gos_node *n);

/* Options of the pipeline. */
typedef struct gos_pipeline_opts {
	int level;          /* 0: nothing; >= 1: the default list */
	int verify_each;    /* run gos_verify after every pass (tests) */
	const char *print_after; /* pass name: print the IR to `dump` after it */
	FILE *dump;
} gos_pipeline_opts;

/* Runs the default pipeline on m. Returns 0, or -1 with errors in d (a
 * pass failed, or verification after a pass found errors). */
int gos_pipeline_run(gos_module *m, const gos_pipeline_opts *o, gos_diags *d);
/* Runs the named passes (comma-separated) in order, with o's checks. */
int gos_pipeline_run_list(gos_module *m, const char *list, const gos_pipeline_opts *o,
                          gos_diags *d);

#endif
