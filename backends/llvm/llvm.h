/* llvm.h -- the LLVM backend: gosc modules to native code through the
 * LLVM 14 C API (docs/backends.md).
 *
 * Pipeline: gos_target_load (a target description file) ->
 * gos_llvm_compile (lower every statement to loop nests in LLVM IR,
 * optimise with the new pass manager, emit object / assembly / LLVM IR
 * through a TargetMachine, and write the C header of the model's API) ->
 * optionally gos_llvm_link_runner (compile runtime/runner.c with the
 * target's C compiler and link it with the object into a standalone
 * program).
 *
 * The library never prints; errors go to gos_diags.
 */
#ifndef GOS_LLVM_H
#define GOS_LLVM_H

#include <stddef.h>

#include "ir/ir.h"

/* ---- targets ----------------------------------------------------------- */

/* What the backend reads of a target description: `key = value` lines of
 * targets/<name>.target (the cost model reads the same files, see
 * passes/cost/cost.h; keys of the other side are ignored). `triple`, `cpu` and
 * `features` may be `native` (this machine). */
typedef struct gos_target {
	char name[64];       /* `name`, else the file's base name */
	char path[4096];     /* the file it was read from */
	char triple[128];    /* LLVM target triple */
	char cpu[64];        /* LLVM CPU name ("generic" when not given) */
	char features[2048]; /* LLVM feature string, e.g. "+neon,+fp-armv8" */
	char float_abi[16];  /* "hard", "soft", "softfp" or "" (triple default) */
	char cc[256];        /* C compiler that builds runners for the target */
	char cflags[512];    /* its flags for compiling the runner */
	char ldflags[512];   /* its flags for linking (e.g. -static) */
	char qemu[256];      /* command prefix that runs target binaries here
	                        ("" = native), informative for scripts */
	int vector_bits;     /* SIMD register width used for vector code */
	int ptr_bits;        /* pointer width of the triple (32 or 64) */
} gos_target;

/* Resolves spec and reads the target: spec is a file path when it
 * contains '/' or ends in ".target"; otherwise the first of
 * $GOS_TARGET_DIR, the install's share/gosc/targets and <source dir>/targets
 * holding <spec>.target (support/datadir.h).
 * Unknown names get an error listing the known targets. Returns 0 or -1
 * with errors in d. */
int gos_target_load(gos_target *t, const char *spec, gos_diags *d);
/* Parses target text (len bytes) named file; fills t (defaults first).
 * Returns 0 or -1 with errors (file:line) in d. */
int gos_target_parse(gos_target *t, const char *file, const char *text,
                     size_t len, gos_diags *d);
/* Writes the names of the known targets (both directories, sorted,
 * without duplicates) separated by ", " into buf (n bytes). */
void gos_target_list(char *buf, size_t n);
/* -mcpu / -mattr: cpu (if not NULL) replaces the CPU; attr (if not NULL)
 * is appended to the features (later entries win in LLVM). */
void gos_target_override(gos_target *t, const char *cpu, const char *attr);

/* ---- compilation ------------------------------------------------------- */

typedef enum gos_emit {
	GOS_EMIT_LL,  /* optimised LLVM IR text */
	GOS_EMIT_ASM, /* assembly text */
	GOS_EMIT_OBJ, /* ELF object */
} gos_emit;

typedef struct gos_llvm_opts {
	int opt_level;        /* 0..3 (default<On> pipeline and codegen level) */
	int external_weights; /* weights go to a separate blob (see below) */
	const char *prefix;   /* C name prefix; NULL: from the model name */
	int vector_width;     /* lanes of the main vector blocks; 0: from the
	                         target (4 registers of vector_bits) */
	int threads;          /* threads of the convolution/matrix kernels
	                         (0 or 1: none). More than 1: the run function
	                         starts them with pthread_create and joins them
	                         before returning (link with -pthread); results
	                         are identical for any count */
} gos_llvm_opts;

/* What gos_llvm_compile produces; everything malloc'd. */
typedef struct gos_llvm_output {
	char *code;          /* the object, assembly or LLVM IR */
	size_t code_len;
	char *header;        /* the C header (model.h), NUL-terminated */
	char *weights;       /* external weights blob (external_weights only) */
	size_t weights_len;
	char prefix[128];    /* the C prefix used: <prefix>_run */
	int64_t scratch_bytes;
	int64_t weight_bytes;  /* embedded or external weight data */
	char *stats;         /* human-readable lowering report, one line per
	                        statement (NUL-terminated) */
} gos_llvm_output;

/* Compiles m (verified; weights are materialised here if they are not)
 * for target t. Generated code: one exported function
 *   int <prefix>_run(const float *const *inputs, float *const *outputs,
 *                    void *scratch)
 * (with external weights: a leading `const void *weights` argument),
 * no global state, no heap allocation, no libm calls; weights in
 * read-only data (or the blob). Returns 0, or -1 with errors in d. */
int gos_llvm_compile(gos_module *m, const gos_target *t,
                     const gos_llvm_opts *o, gos_emit emit,
                     gos_llvm_output *out, gos_diags *d);
void gos_llvm_output_free(gos_llvm_output *out);

/* The C identifier gosc uses for a model name (letters, digits and '_';
 * never starting with a digit) into buf (n bytes). */
void gos_llvm_c_name(const char *name, char *buf, size_t n);

/* ---- in-process code (backends/llvm/jit.c) ----------------------------- */

/* A model compiled for this machine and loaded into this process's
 * memory through LLVM's ORC JIT (the object gos_llvm_compile writes for
 * a native target, linked in memory; libc symbols such as pthread_create
 * come from the process). The run function is the one of the header:
 * thread-safe when each thread passes its own scratch. */
typedef struct gos_jit gos_jit;
typedef int (*gos_jit_run_fn)(const float *const *inputs, float *const *outputs,
                              void *scratch);
/* The profiling entry point of the header (<prefix>_run_profile): the
 * same computation, calling tick(ctx, 0) before the first node and
 * tick(ctx, i + 1) after node i of the compiled module. */
typedef int (*gos_jit_profile_fn)(const float *const *inputs, float *const *outputs,
                                  void *scratch, void (*tick)(void *ctx, int k), void *ctx);

/* Compiles m (verified; weights materialised here if they are not) for
 * target t, which must describe this machine (triple/cpu `native` or
 * equal to the host's), with embedded weights, and loads it. Returns the
 * handle, or NULL with errors in d. */
gos_jit *gos_jit_new(gos_module *m, const gos_target *t, const gos_llvm_opts *o,
                     gos_diags *d);
gos_jit_run_fn gos_jit_run(const gos_jit *j);
gos_jit_profile_fn gos_jit_run_profile(const gos_jit *j);
/* Bytes of scratch one call needs (aligned to 64 by the caller). */
int64_t gos_jit_scratch_bytes(const gos_jit *j);
void gos_jit_free(gos_jit *j);

/* Per-node times of a profile (backends/llvm/profile.c). */
typedef struct gos_profile {
	int n;                  /* nodes */
	long runs;              /* timed runs */
	double *median_ms;      /* [n] median over the runs, malloc'd */
	double *min_ms;         /* [n] minimum */
	double whole_median_ms; /* the plain entry's whole run */
	double whole_min_ms;
} gos_profile;

/* Times j: after warm-up, runs calls of the plain entry interleaved with
 * runs calls of the profiling entry on in/out (the model's inputs and
 * outputs; n_node nodes, those of the module j was compiled from, in
 * order). Fills p (gos_profile_free). Returns 0, or -1 with errors in d. */
int gos_jit_profile(const gos_jit *j, int n_node, const float *const *in, float *const *out,
                    long runs, gos_profile *p, gos_diags *d);
void gos_profile_free(gos_profile *p);

/* ---- runners ----------------------------------------------------------- */

/* Builds the standalone runner: compiles runtime/runner.c (found in
 * $GOS_RUNTIME_DIR, the install's share/gosc/runtime or <source
 * dir>/runtime: support/datadir.h) with the target's C
 * compiler against header_path, links it with obj_path and writes
 * exe_path. prefix is the model's C prefix; external says the model takes
 * a weights blob (the runner then reads <exe>.weights or --weights FILE).
 * Returns 0, or -1 with errors (including the compiler's output) in d. */
int gos_llvm_link_runner(const gos_target *t, const char *obj_path,
                         const char *header_path, const char *prefix,
                         int external, const char *exe_path, gos_diags *d);

#endif
