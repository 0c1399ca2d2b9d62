/* eval.h -- running a model on many samples, in process: engines,
 * accuracy on a labelled dataset, activation capture (docs/eval.md).
 *
 * An engine runs one module on n samples at a time. The module's inputs
 * and outputs have fixed shapes (the batch the model was written or
 * exported with, often 1); a sample is one set of inputs of exactly those
 * shapes. Engines:
 *   interp  the reference interpreter on the module as given
 *   host    the default pass pipeline, then LLVM code for this machine
 *           linked into the process (gos_jit); the fast path
 *   T       any other target: its static runner (gosc -emit=exe) run
 *           through the target's `qemu` command, one process per call
 *           with every sample in one file (runner --samples)
 * interp and host spread the samples of a call over worker threads; the
 * results do not depend on the thread count (each sample is computed
 * alone, in the same order of operations).
 *
 * The search calls these in process: one engine per candidate, many calls
 * per engine, no process spawned (except for the qemu engines). */
#ifndef GOS_EVAL_H
#define GOS_EVAL_H

#include <stdint.h>

#include "eval/dataset.h"
#include "ir/ir.h"

typedef struct gos_engine_opts {
	const char *target; /* "interp", "host" (NULL = "host") or a target name */
	int threads;        /* worker threads; 0: the online CPUs */
	int opt_level;      /* pipeline and LLVM level of compiled engines (0..3);
	                       -1: the default (2) */
} gos_engine_opts;

typedef struct gos_engine gos_engine;

/* Prepares m (verified; not modified: the engine works on a copy, and m
 * must outlive the engine, whose diagnostics name it) for running. Materialises the copy's weights. Returns NULL with errors in
 * d (unknown target, compilation failed, qemu not installed). */
gos_engine *gos_engine_new(const gos_module *m, const gos_engine_opts *o, gos_diags *d);
void gos_engine_free(gos_engine *e);
/* The module the engine runs (after its passes), for value shapes. */
const gos_module *gos_engine_module(const gos_engine *e);
/* Input / output counts and their values in the caller's module: input
 * i is the i-th GOS_VAL_INPUT value in value order, output o is
 * m->outputs[o]. Per-sample element counts. */
int gos_engine_n_inputs(const gos_engine *e);
int gos_engine_n_outputs(const gos_engine *e);
int64_t gos_engine_input_numel(const gos_engine *e, int i);
int64_t gos_engine_output_numel(const gos_engine *e, int o);
const gos_value *gos_engine_input(const gos_engine *e, int i);
const gos_value *gos_engine_output(const gos_engine *e, int o);

/* Runs n samples: in[i] holds n * input_numel(i) floats (sample-major),
 * out[o] receives n * output_numel(o). Returns 0, or -1 with errors in d
 * (the first failing sample is named). */
int gos_engine_run(gos_engine *e, int64_t n, const float *const *in, float *const *out,
                   gos_diags *d);

/* ---- accuracy (eval/eval.c) ------------------------------------------ */

typedef struct gos_eval_opts {
	int64_t batch; /* images handed to the engine per call (0: 256) */
} gos_eval_opts;

typedef struct gos_eval_result {
	int64_t n;           /* images evaluated */
	int n_class;         /* classes: the model's output count per image */
	int64_t top1, top5;  /* images whose label is the best / among the 5 best */
	int64_t *confusion;  /* [n_class][n_class]: row = label, column = top-1 */
	int32_t *pred;       /* [n] top-1 class of each image */
	double seconds;      /* wall time of the engine calls */
} gos_eval_result;

/* Whether images of ds fit model input value v: v is [B, C, H, W],
 * [B, H, W] (C = 1) or [B, C*H*W] with the per-image part equal to ds's
 * image shape. Sets *per_call = B; returns 0, or -1 with an error in d
 * naming both shapes. */
int gos_eval_fit_input(const gos_value *v, const gos_dataset *ds, int64_t *per_call,
                       gos_diags *d);

/* How the images of ds map onto model input 0: the model has one input
 * of shape [B, C, H, W], [B, H, W] (C = 1) or [B, C*H*W] whose per-image
 * part equals ds's image shape, and output 0 holds B rows of K >=
 * ds->n_class scores. Sets *per_call = B and *classes = K; returns 0, or
 * -1 with an error in d saying what does not fit. */
int gos_eval_check(const gos_engine *e, const gos_dataset *ds, int64_t *per_call,
                   int *classes, gos_diags *d);

/* Runs e on every image of ds (in order; the last call is padded with
 * zero images whose results are dropped) and fills r (caller frees with
 * gos_eval_result_free). Returns 0, or -1 with errors in d. */
int gos_eval_run(gos_engine *e, const gos_dataset *ds, const gos_eval_opts *o,
                 gos_eval_result *r, gos_diags *d);
void gos_eval_result_free(gos_eval_result *r);
/* Share of images where a and b (n predictions each) agree. */
double gos_eval_agreement(const int32_t *a, const int32_t *b, int64_t n);
/* The top-1 of predictions a minus that of b on the same n images with
 * labels y, in points (*change), and its standard error as a paired
 * comparison (*se): only the images exactly one of the two classifies
 * right count, so it is far smaller than two independent measurements'
 * (both 0 when n is 0). */
void gos_eval_paired(const int32_t *a, const int32_t *b, const int32_t *y, int64_t n,
                     double *change, double *se);

/* ---- activation capture (eval/capture.c) ----------------------------- */

/* What gos_capture_run recorded: value names and their tensors, each
 * holding the n samples concatenated along axis 0 (a value of shape
 * [1, C, H, W] gives [n, C, H, W]; [B, ...] gives [n*B, ...]; rank 0
 * gives [n]). */
typedef struct gos_capture {
	int n;           /* recorded values */
	char **names;    /* [n] value names (malloc'd) */
	gos_tensor *t;   /* [n] (data malloc'd) */
} gos_capture;

/* Runs m (not modified) on n samples in[] (as gos_engine_run) with engine
 * options o, recording the values named in names[0..n_names): a node
 * name records every result of that node, a value name that value (an
 * input, a weight or a temp); n_names == 0 records every node's results.
 * The recorded values become the outputs of a copy of m, so compiled
 * engines compute them exactly where the model does (passes do not fuse
 * them away) and skip every node none of them needs. Unknown names are
 * errors (with "did you mean"). Fills c (free with gos_capture_free);
 * returns 0 or -1 with errors in d. */
int gos_capture_run(const gos_module *m, int n_names, const char *const *names,
                    const gos_engine_opts *o, int64_t n, const float *const *in,
                    gos_capture *c, gos_diags *d);
/* As gos_capture_run, but the temps recorded in src (each on the same n
 * samples, produced by a single-result node of m, with m's shape) are
 * taken as given: they become inputs of the copy, so what only they need
 * is not computed again. in[] holds m's own inputs only; names[] names
 * none of src's values (they are no longer computed). A src entry m does
 * not name, or of another shape, is an error. */
int gos_capture_run_from(const gos_module *m, const gos_capture *src, int n_names,
                         const char *const *names, const gos_engine_opts *o, int64_t n,
                         const float *const *in, gos_capture *c, gos_diags *d);
void gos_capture_free(gos_capture *c);

/* The input tensors of a calibration batch: ds's images as the n =
 * ds->n / B samples of m's single input (B its leading dimension; the
 * dataset must fit as in gos_eval_check). *in gets one malloc'd array;
 * *n_samples the sample count. Returns 0 or -1 with errors in d. */
int gos_capture_inputs(const gos_module *m, const gos_dataset *ds, float **in,
                       int64_t *n_samples, gos_diags *d);

#endif
