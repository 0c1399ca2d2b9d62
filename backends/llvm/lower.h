/* lower.h -- internals of the LLVM backend shared by its files:
 * the lowering context, IR building helpers (constants, loops,
 * intrinsics), the vector math library (mathfn.c), statement lowering
 * (stmt.c) and the table of recognised-operator kernels (kernels.c).
 *
 * Values are polymorphic in width: a "value of width w" is an f32 (w == 1)
 * or a <w x float> vector; the math helpers accept either.
 */
#ifndef GOS_LLVM_LOWER_H
#define GOS_LLVM_LOWER_H

#include <stdint.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "backends/llvm/llvm.h"

/* The lowering context of one LLVM module. */
typedef struct gos_lw {
	LLVMContextRef C;
	LLVMModuleRef M;
	LLVMBuilderRef B;
	LLVMTypeRef f32, i1, i8, i32, ity, voidt; /* ity: index integer (pointer width) */
	LLVMTypeRef fptr, i8ptr;                  /* float*, i8* */
	int ity_bits;
	LLVMValueRef fn;       /* function being built */
	const gos_target *t;
	int vl;                /* f32 lanes of one vector register */
	int wmax;              /* lanes of the main vector blocks (multiple of vl) */
	int native_floor;      /* llvm.floor is one instruction for vectors */
	int threads;           /* threads for kernels that split their work (>= 1) */
	int has_fma;           /* fused multiply-add in hardware: use llvm.fma */
	int native_minmax;     /* llvm.maxnum/minnum are instructions for vectors */
	gos_diags *d;
	gos_arena *a;          /* memory that lives as long as the lowering */
	char *stats;           /* lowering report (malloc'd, grows) */
	size_t stats_len, stats_cap;
	int err;               /* an error was reported */
} gos_lw;

/* Appends printf text to the lowering report. */
void gos_lw_stat(gos_lw *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- types and constants ---------------------------------------------- */

/* <w x float> (w > 1) or float. */
LLVMTypeRef gos_lw_fty(gos_lw *L, int w);
/* <w x ity> or ity. */
LLVMTypeRef gos_lw_ity(gos_lw *L, int w);
/* Number of lanes of a value's type (1 for scalars). */
int gos_lw_width(LLVMValueRef v);
/* A float constant of type ty (splat for vectors). */
LLVMValueRef gos_lw_fc(gos_lw *L, LLVMTypeRef ty, double v);
/* An integer constant of type ty (splat for vectors). */
LLVMValueRef gos_lw_ic(LLVMTypeRef ty, long long v);
/* An index-typed constant. */
LLVMValueRef gos_lw_ix(gos_lw *L, long long v);
/* Broadcasts scalar s to w lanes (w == 1 or s a vector: s itself). */
LLVMValueRef gos_lw_splat(gos_lw *L, LLVMValueRef s, int w);
/* <0, 1, ..., w-1> of type <w x ity>. */
LLVMValueRef gos_lw_iota(gos_lw *L, int w);
/* Makes a and b the same width (splatting the scalar one). */
void gos_lw_match(gos_lw *L, LLVMValueRef *a, LLVMValueRef *b);

/* Calls intrinsic `name` overloaded on type ty with n arguments. */
LLVMValueRef gos_lw_call(gos_lw *L, const char *name, LLVMTypeRef ty,
                         LLVMValueRef *args, int n);

/* ---- integer helpers ---------------------------------------------------- */

LLVMValueRef gos_lw_imin(gos_lw *L, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef gos_lw_imax(gos_lw *L, LLVMValueRef a, LLVMValueRef b);
/* floor(a / k) and a mod k (in [0, k)) for a constant k > 0; nonneg says
 * a is known to be >= 0. */
LLVMValueRef gos_lw_floordiv(gos_lw *L, LLVMValueRef a, long long k, int nonneg);
LLVMValueRef gos_lw_floormod(gos_lw *L, LLVMValueRef a, long long k, int nonneg);

/* ---- loops -------------------------------------------------------------- */

/* A counted loop `for (iv = start; iv < limit; iv += step)` built as a
 * header-tested loop; the body is emitted between begin and end. */
typedef struct gos_loop {
	LLVMBasicBlockRef pre, head, exit;
	LLVMValueRef iv;
	int scalar_tail; /* set between begin and end: a few leftover lanes;
	                    LLVM must not vectorise or unroll it */
} gos_loop;

/* Starts the loop at the builder's position; returns the induction
 * variable (ity). The builder is left in the body. */
LLVMValueRef gos_lw_loop_begin(gos_lw *L, gos_loop *lp, LLVMValueRef start,
                               LLVMValueRef limit, const char *name);
/* Closes the loop: iv += step, back to the header; the builder is left
 * after the loop. */
void gos_lw_loop_end(gos_lw *L, gos_loop *lp, long long step);

/* An alloca in the function's entry block (promoted to registers by
 * mem2reg/SROA). */
LLVMValueRef gos_lw_alloca(gos_lw *L, LLVMTypeRef ty, const char *name);

/* ---- math (mathfn.c): f32 semantics of docs/ir.md, vectorisable ------- */

LLVMValueRef gos_lw_exp(gos_lw *L, LLVMValueRef x);
LLVMValueRef gos_lw_log(gos_lw *L, LLVMValueRef x);
LLVMValueRef gos_lw_tanh(gos_lw *L, LLVMValueRef x);
LLVMValueRef gos_lw_erf(gos_lw *L, LLVMValueRef x);
LLVMValueRef gos_lw_pow(gos_lw *L, LLVMValueRef x, LLVMValueRef y);
LLVMValueRef gos_lw_floor(gos_lw *L, LLVMValueRef x);
LLVMValueRef gos_lw_sqrt(gos_lw *L, LLVMValueRef x);
/* fmaxf / fminf: a NaN operand is ignored. */
LLVMValueRef gos_lw_fmax(gos_lw *L, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef gos_lw_fmin(gos_lw *L, LLVMValueRef a, LLVMValueRef b);
/* a * b + c, fused or not (llvm.fmuladd). Widths are matched. */
LLVMValueRef gos_lw_fmuladd(gos_lw *L, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c);
/* Horizontal sum / max / min of a vector (w > 1), as a scalar. */
LLVMValueRef gos_lw_hreduce(gos_lw *L, gos_red red, LLVMValueRef v);

/* ---- the module (lower.c) ----------------------------------------------- */

/* Where a value lives at run time. */
enum { GOS_W_NONE, GOS_W_INPUT, GOS_W_OUTPUT, GOS_W_WEIGHT, GOS_W_SCRATCH };

/* The static memory plan of a module. */
typedef struct gos_mplan {
	int *where;            /* [n_val] GOS_W_* */
	int *slot;             /* [n_val] input / output index */
	int64_t *off;          /* [n_val] byte offset in scratch or the weight blob */
	int64_t **local_off;   /* [n_node][locals] scratch offsets of node-local buffers */
	int *alias;            /* [n_val] the value whose storage it shares, or -1 */
	unsigned char *skip;   /* [n_node] 1: not run (its result aliases its input) */
	int n_inputs;
	int64_t scratch_bytes; /* scratch needed (multiple of 64) */
	int64_t weight_bytes;  /* weight data, 64-byte aligned pieces */
} gos_mplan;

/* Plans storage for m (arrays in a). Returns 0 or -1 (out of memory). */
int gos_lw_plan(const gos_module *m, gos_mplan *p, gos_arena *a);
/* Emits the node functions and `<prefix>_run` into L->M. Weights are
 * embedded from their data unless external. Returns 0 or -1. */
int gos_lw_module(gos_lw *L, const gos_module *m, const gos_mplan *p, const char *prefix,
                  int external);

/* The C header text (malloc'd; NULL if out of memory) of a module
 * compiled with prefix; guard_base names the include guard (NULL: the
 * prefix). */
char *gos_lw_header(const gos_module *m, const gos_mplan *p, const char *prefix,
                    const gos_target *t, int external, const char *guard_base);

/* ---- statements (stmt.c) ------------------------------------------------ */

/* Emits the loop nest of statement si of node n at the builder's
 * position. buf[j] is the float* of body buffer j. Returns 0, or -1 with
 * an error in L->d. */
int gos_lw_stmt(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf);

/* ---- recognised-operator kernels (kernels.c) --------------------------- */

/* A hand-written lowering for a recognised comprehension shape. match
 * says whether it applies to statement si of node n (given the buffers'
 * shapes); emit generates it like gos_lw_stmt and returns how many
 * statements (si, si+1, ...) it lowered (>= 1; a kernel may take the
 * node's epilogue statements too), or -1 on error. The generic lowering
 * of stmt.c (which returns 0 = one statement) is used when no kernel
 * matches. */
typedef struct gos_lw_kernel {
	const char *name;
	int (*match)(gos_lw *L, const gos_node *n, int si);
	int (*emit)(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf);
} gos_lw_kernel;

/* The kernel table, terminated by an entry with name NULL. */
extern const gos_lw_kernel gos_lw_kernels[];

#endif
