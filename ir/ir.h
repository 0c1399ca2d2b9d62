/* ir.h -- the gosc IR: a graph of operator applications whose meaning is
 * tensor comprehensions of scalar math instructions.
 *
 * Ownership: every pointer inside a gos_module points into the module's
 * arena (or, for weight data, into arena-allocated float arrays) and lives
 * until gos_module_free. All references between objects are indices.
 *
 * Shape of a module:
 *   values[]  tensors: inputs, weights, intermediates (kind)
 *   nodes[]   operator applications in topological order; node i reads
 *             values in[] and defines values out[] (each value has at most
 *             one defining node; inputs and weights have none)
 *   outputs[] value indices that are the model's results
 * Shape of a node body (the operator's semantics):
 *   bufs[]    tensors visible in the body: bufs[0..n_in) are the node's
 *             inputs, bufs[n_in..n_in+n_out) its outputs, the rest are
 *             node-local temporaries
 *   stmts[]   executed in order; statement s writes every element of
 *             bufs[s.dst] exactly once:
 *               dst[v0..v(r-1)] = red over v(r)..v(r+n_red-1) of ins[result]
 *             where r = rank of dst; index variable d < r ranges over
 *             dst.shape[d] and reduction variable r+j over red_extent[j].
 */
#ifndef GOS_IR_H
#define GOS_IR_H

#include <stdint.h>
#include <stdio.h>
#include <stddef.h>

#include "support/arena.h"
#include "support/diag.h"

#define GOS_MAX_RANK 8
#define GOS_MAX_VARS 24 /* index + reduction variables of one statement */

typedef enum gos_dtype {
	GOS_F32, /* the only dtype the interpreter and backends compute in */
	GOS_I64, /* integer tensors (shapes from ONNX); folded away at import */
} gos_dtype;

/* ---- index expressions: integer trees over index variables ---------- */

/* Opcodes of index (integer) expressions. b is a constant for DIV/MOD. */
#define GOS_IX_OPS(X) \
	X(IX_CONST, "const") /* value k */ \
	X(IX_VAR, "var")     /* index variable number k */ \
	X(IX_ADD, "add")     /* a + b */ \
	X(IX_SUB, "sub")     /* a - b */ \
	X(IX_MUL, "mul")     /* a * b (one side constant after folding) */ \
	X(IX_DIV, "div")     /* floor(a / k), k > 0 */ \
	X(IX_MOD, "mod")     /* a mod k in [0, k), k > 0 */ \
	X(IX_MIN, "min")     /* min(a, b) */ \
	X(IX_MAX, "max")     /* max(a, b) */

typedef enum gos_ixop {
#define X(e, s) GOS_##e,
	GOS_IX_OPS(X)
#undef X
	GOS_IX_NOPS
} gos_ixop;

/* One node of an index expression; a, b index the statement's ix[]. */
typedef struct gos_ix {
	gos_ixop op;
	int a, b;  /* operand ix indices (ADD..MAX; for DIV/MOD only a) */
	int64_t k; /* CONST: value; VAR: variable number; DIV/MOD: divisor */
} gos_ix;

/* ---- scalar instructions ------------------------------------------- */

/* Opcodes of scalar instructions: name, arity, commutative.
 * Comparisons yield 1.0 or 0.0; select(c, a, b) is a where c != 0. */
#define GOS_OPS(X) \
	X(CONST, "const", 0, 0)   /* f */ \
	X(LOAD, "load", 0, 0)     /* buf[idx...], pad value if out of range */ \
	X(INDEX, "index", 0, 0)   /* value of index expression ix[idx[0]] */ \
	X(ADD, "add", 2, 1) \
	X(SUB, "sub", 2, 0) \
	X(MUL, "mul", 2, 1) \
	X(DIV, "div", 2, 0) \
	X(MAX, "max", 2, 1) \
	X(MIN, "min", 2, 1) \
	X(POW, "pow", 2, 0) \
	X(LT, "lt", 2, 0) \
	X(LE, "le", 2, 0) \
	X(EQ, "eq", 2, 1) \
	X(NE, "ne", 2, 1) \
	X(NEG, "neg", 1, 0) \
	X(ABS, "abs", 1, 0) \
	X(EXP, "exp", 1, 0) \
	X(LOG, "log", 1, 0) \
	X(SQRT, "sqrt", 1, 0) \
	X(RSQRT, "rsqrt", 1, 0) \
	X(TANH, "tanh", 1, 0) \
	X(ERF, "erf", 1, 0) \
	X(FLOOR, "floor", 1, 0) \
	X(FMA, "fma", 3, 0)       /* a * b + c */ \
	X(SELECT, "select", 3, 0) /* c ? a : b; args = {c, a, b} */

typedef enum gos_opcode {
#define X(e, s, n, c) GOS_OP_##e,
	GOS_OPS(X)
#undef X
	GOS_NOPS
} gos_opcode;

typedef struct gos_opinfo {
	const char *name;
	int arity;       /* operand count for arithmetic ops */
	int commutative; /* operands may be swapped */
} gos_opinfo;
extern const gos_opinfo gos_opinfo_tab[GOS_NOPS];

/* One scalar instruction. Instructions of a statement form a DAG in
 * topological order: arg[] only names earlier instructions. */
typedef struct gos_ins {
	gos_opcode op;
	int arg[3];   /* operand instruction indices */
	float f;      /* CONST: value; LOAD with has_pad: the padding value */
	int buf;      /* LOAD: body buffer index */
	int has_pad;  /* LOAD: out-of-range reads give f instead of an error */
	int nidx;     /* LOAD: == rank of buf; INDEX: 1 */
	int *idx;     /* LOAD/INDEX: roots in the statement's ix[] */
} gos_ins;

typedef enum gos_red {
	GOS_RED_NONE, /* plain assignment; n_red == 0 */
	GOS_RED_SUM,  /* starts at 0 */
	GOS_RED_MAX,  /* starts at -inf */
	GOS_RED_MIN,  /* starts at +inf */
} gos_red;

typedef struct gos_stmt {
	int dst;              /* body buffer written */
	gos_red red;          /* reduction combining the values */
	int n_red;            /* reduction variables */
	int64_t *red_extent;  /* [n_red] ranges of the reduction variables */
	const char **var_names; /* [rank(dst) + n_red] for printing */
	int n_ix;
	gos_ix *ix;           /* index expression pool */
	int n_ins;
	gos_ins *ins;         /* scalar instructions, topological */
	int result;           /* instruction giving the element value */
} gos_stmt;

/* A tensor visible inside a node body. */
typedef struct gos_buf {
	const char *name;   /* the operator's parameter or temporary name */
	int rank;
	int64_t shape[GOS_MAX_RANK];
	int value;          /* module value for inputs/outputs, -1 for temps */
} gos_buf;

typedef struct gos_attr {
	const char *name;
	int n;
	double *v; /* n numbers (a scalar attribute has n == 1) */
} gos_attr;

typedef struct gos_node {
	const char *name;  /* unique instance name, e.g. "layer1.0.conv1" */
	const char *op;    /* operator it instantiates, e.g. "conv2d" */
	int n_in, n_out;
	int *in, *out;     /* module value indices */
	int n_attr;
	gos_attr *attr;    /* attributes it was instantiated with (informative) */
	int n_buf;
	gos_buf *bufs;
	int n_stmt;
	gos_stmt *stmts;
	gos_loc loc;       /* where it was applied in the source */
} gos_node;

typedef enum gos_valkind {
	GOS_VAL_INPUT,  /* supplied by the caller */
	GOS_VAL_WEIGHT, /* constant, given by init */
	GOS_VAL_TEMP,   /* defined by a node */
} gos_valkind;

typedef enum gos_initkind {
	GOS_INIT_NONE,    /* inputs and temps */
	GOS_INIT_UNIFORM, /* uniform in [lo, hi) from seed (gos_rng) */
	GOS_INIT_NORMAL,  /* lo + hi * N(0,1) from seed; lo = mean, hi = stddev */
	GOS_INIT_FILL,    /* every element = lo */
	GOS_INIT_FILE,    /* tensor `key` of the module's weights file */
	GOS_INIT_DATA,    /* inline data (data[] holds the values) */
} gos_initkind;

typedef struct gos_value {
	const char *name;   /* unique in the module */
	gos_valkind kind;
	gos_dtype dtype;
	int rank;
	int64_t shape[GOS_MAX_RANK];
	gos_initkind init;  /* weights only */
	double lo, hi;      /* UNIFORM: bounds; NORMAL: mean, stddev; FILL: lo */
	uint64_t seed;      /* UNIFORM/NORMAL */
	const char *key;    /* FILE: tensor name in the weights file */
	float *data;        /* weights: values once materialised, else NULL */
	gos_loc loc;
} gos_value;

typedef struct gos_module {
	gos_arena *arena;
	const char *name;          /* model name */
	const char *weights_file;  /* path of the safetensors file, or NULL */
	const char *base_dir;      /* directory weights_file is relative to */
	int n_val, cap_val;
	gos_value *vals;
	int n_node, cap_node;
	gos_node *nodes;
	int n_output, cap_output;
	int *outputs;
} gos_module;

/* ---- construction (ir/ir.c) ---------------------------------------- */

/* Returns an empty module owning a fresh arena, or NULL if out of memory. */
gos_module *gos_module_new(const char *name);
void gos_module_free(gos_module *m);
/* Appends a value; name is copied; returns its index (-1: out of memory).
 * Shape has rank dims. */
int gos_module_add_value(gos_module *m, const char *name, gos_valkind kind,
                         gos_dtype dtype, int rank, const int64_t *shape);
/* Appends a zeroed node and returns its index; fill fields with arena memory. */
int gos_module_add_node(gos_module *m, const char *name, const char *op);
/* Appends value to the outputs; 0, or -1 when out of memory. */
int gos_module_add_output(gos_module *m, int value);
/* Value with this name, or -1. */
int gos_module_find_value(const gos_module *m, const char *name);
/* Makes every loc.file of m's nodes and values point to a copy in m's
 * arena (loaders point them at the diagnostics' copy of the source name,
 * which may go first). Returns 0 or -1 (out of memory). */
int gos_module_own_locs(gos_module *m);
/* Deep copy (own arena). */
gos_module *gos_module_clone(const gos_module *m);
int64_t gos_numel(int rank, const int64_t *shape);
/* Value of index expression root of statement s at variable values v[]
 * (floor division and non-negative modulo, as the interpreter). */
int64_t gos_ix_eval(const gos_stmt *s, int root, const int64_t *v);
const char *gos_dtype_name(gos_dtype t);

/* Fills data[] of every weight (from seed, fill value or the weights file).
 * Needs: weights of kind FILE have a readable weights_file holding `key`
 * with the value's shape. Returns 0, or -1 with an error added to d. */
int gos_module_materialize(gos_module *m, gos_diags *d);

/* ---- textual form (ir/print.c, ir/parse.c) ------------------------- */

/* Writes the textual IR (docs/ir.md). Deterministic; parse(print(m))
 * prints identically. */
void gos_ir_print(FILE *out, const gos_module *m);
/* Writes index expression ix[root] of statement s of node n in the infix
 * form of the textual IR (e.g. `2*p + r - 1`), for messages and dumps. */
void gos_ir_print_ix(FILE *out, const gos_node *n, const gos_stmt *s, int root);
/* Parses textual IR from text (len bytes; need not be NUL-terminated).
 * file names the source in diagnostics. Returns NULL with errors in d. */
gos_module *gos_ir_parse(const char *file, const char *text, size_t len,
                         gos_diags *d);

/* ---- verifier (ir/verify.c) ---------------------------------------- */

/* Checks every invariant stated in this header: index ranges, single
 * definition, topological order, shapes of node bufs match their values,
 * instruction operands precede their use, loads without padding stay in
 * bounds for every value of the index variables (interval analysis).
 * Returns the number of errors added to d (0 = valid). */
int gos_verify(const gos_module *m, gos_diags *d);

/* ---- reference interpreter (backends/interp/interp.c) -------------- */

typedef struct gos_tensor {
	int rank;
	int64_t shape[GOS_MAX_RANK];
	float *data; /* numel floats, row-major */
} gos_tensor;

/* Runs m. inputs[i] is the tensor for the i-th GOS_VAL_INPUT value in
 * value order; outputs[i] receives a malloc'd tensor for m->outputs[i]
 * (caller frees data). Weights must be materialised. Returns 0, or -1
 * with an error in d (shape mismatch, out-of-range load). */
int gos_interp_run(const gos_module *m, const gos_tensor *inputs,
                   gos_tensor *outputs, gos_diags *d);

/* Deterministic RNG shared by weight init and --random-inputs. */
typedef struct gos_rng { uint64_t s; } gos_rng;
void gos_rng_seed(gos_rng *r, uint64_t seed);
uint64_t gos_rng_next(gos_rng *r);
double gos_rng_uniform(gos_rng *r);  /* [0, 1) */
double gos_rng_normal(gos_rng *r);   /* N(0, 1) */

#endif
