/* kernels.c -- hand-written lowerings for recognised comprehension shapes
 * (lower.h). gos_lw_stmt asks each entry in order whether it matches a
 * statement and uses the first that does; the generic loop-nest lowering
 * of stmt.c handles everything else, so an entry only has to be faster,
 * never more general. A kernel must compute exactly the statement's
 * meaning (docs/ir.md), including padded loads and reads of the
 * destination.
 *
 * To add one (e.g. a packed GEMM micro-kernel for `sum(c) X[..c..] *
 * W[k,c]` contractions, or an NCHWc direct convolution): write
 * match(L, node, si) that checks the statement's shape (use the
 * buffers' shapes and the index pools; the cost model's classifier in
 * passes/cost/cost.c shows how contractions are recognised) and emit(L, node,
 * si, buf) that builds the loops with the helpers of lower.h, then add
 * the pair to the table below. */
#include "backends/llvm/lower.h"

/* kconv.c: direct convolution with in-register epilogues. */
int gos_kconv_match(gos_lw *L, const gos_node *n, int si);
int gos_kconv_emit(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf);
/* kwino.c: Winograd input and output transforms. */
int gos_kwino_match(gos_lw *L, const gos_node *n, int si);
int gos_kwino_emit(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf);

const gos_lw_kernel gos_lw_kernels[] = {
	{"conv2d-direct", gos_kconv_match, gos_kconv_emit},
	{"winograd-transform", gos_kwino_match, gos_kwino_emit},
	{NULL, NULL, NULL},
};
