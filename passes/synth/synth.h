/* synth.h -- operator synthesis: cheaper operators derived from a node's
 * comprehension (docs/synthesis.md).
 *
 * Rules are data: gos_synth_rules[] is one table of named rules. Each has
 * an applicability test on the structure of a node (a plain contraction
 * reading a constant weight, its index expressions, its shapes; never the
 * operator's name alone), the parameter values worth listing, and a
 * derivation that replaces the node, in a copy of the module, by one or
 * more new nodes built from the prelude's operators. One driver lists
 * and applies them.
 *
 * Exact rules give the original outputs up to float rounding. Fitted
 * rules approximate the node; their new weights are computed in closed
 * form (LAPACKE) from calibration activations of the node's input, and
 * every fitted candidate reports its reconstruction error: the relative
 * mean squared error ||Y' - Y||^2 / ||Y||^2 of the node's result on the
 * calibration batch.
 *
 * Candidates are named NODE/RULE:PARAM=VALUE, e.g. `layers.2.c1/lowrank:r=8`.
 */
#ifndef GOS_SYNTH_H
#define GOS_SYNTH_H

#include "eval/eval.h"
#include "ir/ir.h"
#include <math.h>

/* What fitted rules are computed from: n samples of the module's inputs
 * (as gos_engine_run takes them). NULL or n == 0: exact rules only.
 * acts (may be NULL) holds values already recorded on these samples
 * (gos_capture_run); rules look there before recording anything. */
typedef struct gos_synth_calib {
	int64_t n;
	const float *const *in;
	const gos_capture *acts;
	int64_t max_rows; /* 0: fits use up to GOS_SYNTH_FIT_ROWS positions and
	                     errors up to GOS_SYNTH_ERR_ROWS; else both at most
	                     this many, spread over the batch (a search's quick builds) */
	struct gos_synth_memo *memo; /* NULL, or fitted stages kept across builds
	                                from the same acts (gos_synth_memo_new) */
} gos_synth_calib;

/* Fitted first stages (gos_synth_stage1) kept by node name, shape,
 * weight, fit positions and data, for many builds on one calibration
 * recording (a search's candidates): a hit returns what the fit would
 * compute. Only fits on data c->acts holds are kept. */
typedef struct gos_synth_memo gos_synth_memo;
gos_synth_memo *gos_synth_memo_new(void);
void gos_synth_memo_free(gos_synth_memo *mo);

typedef struct gos_synth_rule gos_synth_rule;

/* One candidate replacement of one node. */
typedef struct gos_synth_cand {
	char name[256];          /* NODE/RULE:PARAM=VALUE */
	const gos_synth_rule *rule;
	int node;                /* node index in the module */
	int param;               /* the rule's parameter value */
	int exact;               /* 1: equal up to rounding (checked: see err) */
	double flops_before;     /* the node's FLOPs */
	double flops_after;      /* the replacement's FLOPs */
	double err;              /* relative MSE on the calibration batch (fitted
	                            rules; exact ones: on it too when given), or
	                            -1 when not measured */
} gos_synth_cand;

struct gos_synth_rule {
	const char *name;   /* in candidate names */
	const char *param;  /* the parameter's name ("r"); NULL: none (0) */
	int fitted;         /* needs calibration data unless exact */
	const char *what;   /* one line for --help and the docs */
	/* Whether the rule applies to node ni of m; fills the parameter values
	 * worth listing (at most max; the first is the default) and returns
	 * their count (0: does not apply). */
	int (*params)(const gos_module *m, int ni, int *vals, int max);
	/* Replaces node ni of m (a copy the caller owns) by the derived nodes,
	 * keeping the name of its result value, using calibration data c when
	 * given. Sets *exact, and *err to the reconstruction error on c (-1
	 * without c). Returns 0 or -1 with errors in d. */
	int (*derive)(gos_module *m, int ni, int param, const gos_synth_calib *c, int *exact,
	              double *err, gos_diags *d);
};

/* The table of rules, terminated by {NULL}. */
extern const gos_synth_rule gos_synth_rules[];
const gos_synth_rule *gos_synth_rule_find(const char *name);

/* Lists the candidates of node ni of m (every rule, every listed
 * parameter; ni < 0: every node). Fitted candidates need c (skipped
 * without it). Each candidate is derived on a copy and, with c, measured.
 * *out is malloc'd (caller frees). Returns the count or -1. */
int gos_synth_list(const gos_module *m, int ni, const gos_synth_calib *c,
                   gos_synth_cand **out, gos_diags *d);

/* Applies the candidates named by spec ("NODE/RULE:PARAM=V,..." or
 * "NODE/RULE:V"; without a parameter, the rule's default) to a copy of m
 * and returns it, or NULL with errors in d (unknown node or rule, a rule
 * that does not apply, a parameter out of range, a fitted rule without
 * calibration data). m is not modified. */
gos_module *gos_synth_apply(const gos_module *m, const char *spec, const gos_synth_calib *c,
                            gos_diags *d);

/* Applies, node by node, every exact rule that needs no calibration
 * data where the analytic cost model of target (a name or a .target
 * path) predicts the whole module faster (passes/synth/exact.c). *mp may
 * be replaced by a rewritten module (the old one is freed). Returns the
 * number of rewrites, or -1 with errors in d. */
int gos_synth_exact(gos_module **mp, const char *target, gos_diags *d);

/* ---- the rules, one file each (their params / derive functions) ----- */

/* passes/synth/shrink.c: 1x1, kx1 and 1xk kernels from a kxk one */
int gos_synth_shrink1x1_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_shrinkkx1_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_shrink1xk_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_shrink1x1_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d);
int gos_synth_shrinkkx1_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d);
int gos_synth_shrink1xk_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d);
/* passes/synth/grouped.c */
int gos_synth_grouped_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_grouped_derive(gos_module *m, int ni, int g, const gos_synth_calib *c,
                             int *exact, double *err, gos_diags *d);
/* passes/synth/dwsep.c */
int gos_synth_dwsep_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_dwsep_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d);
/* passes/synth/separable.c */
int gos_synth_separable_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_separable_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                               int *exact, double *err, gos_diags *d);
/* passes/synth/phase.c */
int gos_synth_phase_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_phase_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d);
/* passes/synth/fold.c, simplify.c, merge.c, share.c: the algebraic rules.
 * gos_synth_rule_always: whether r is exact, data-free and never slower
 * (fold, simplify, share remove a node or an instruction), so that
 * gos_synth_exact applies it without asking the cost model
 * (passes/synth/algebra.c). */
int gos_synth_rule_always(const gos_synth_rule *r);
int gos_synth_fold_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_fold_derive(gos_module *m, int ni, int param, const gos_synth_calib *c, int *exact,
                          double *err, gos_diags *d);
int gos_synth_simplify_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_simplify_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                              int *exact, double *err, gos_diags *d);
int gos_synth_merge_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_merge_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d);
int gos_synth_share_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_share_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d);
/* passes/synth/winograd.c: param m (output tile), 2 or 4 */
int gos_synth_winograd_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_winograd_derive(gos_module *m, int ni, int mt, const gos_synth_calib *c,
                              int *exact, double *err, gos_diags *d);
/* passes/synth/lowrank.c */
int gos_synth_lowrank_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_lowrank_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                             int *exact, double *err, gos_diags *d);

/* passes/synth/prune.c */
int gos_synth_prune_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_prune_derive(gos_module *m, int ni, int c, const gos_synth_calib *cal, int *exact,
                           double *err, gos_diags *d);
/* passes/synth/freeze.c */
int gos_synth_freeze_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_freeze_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                            int *exact, double *err, gos_diags *d);
/* The relative error of freezing gate value v (a freeze node's result),
 * sum (g - mean)^2 / sum g^2, from its values g recorded on n samples;
 * -1 when out of memory. */
double gos_synth_freeze_error(const gos_module *m, int v, int64_t n, const float *g);
/* Marks in dead[m->n_node] node ni and the nodes that compute only for
 * it, which freezing ni leaves unread (a squeeze-excite branch); returns
 * their count. */
int gos_synth_freeze_branch(const gos_module *m, int ni, char *dead);
/* passes/synth/zerochan.c */
int gos_synth_zerochan_params(const gos_module *m, int ni, int *vals, int max);
int gos_synth_zerochan_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                              int *exact, double *err, gos_diags *d);

/* ---- shared by the rules (passes/synth/synth.c) ---------------------- */

/* A plain 2-D convolution or dense layer, read from the node's structure:
 * gos_pass_plain_contraction holds, the weight (and bias) are constant,
 * X is [N, C, H, W] with weight [K, C, R, S] (ungrouped) or X [N, C]
 * with weight [K, C]. Attributes give stride / pad / dilation. */
typedef struct gos_synth_contraction {
	int conv;                /* 1: conv2d, 0: dense */
	int64_t K, C, R, S;      /* R = S = 1 for dense */
	int64_t P, Q;            /* output spatial size (1 for dense) */
	int64_t N;               /* batch */
	int w, b;                /* weight and bias values (b -1: none) */
	int x, y;                /* input and result values */
} gos_synth_contraction;

/* Fills cv for node ni when it is such a contraction; returns 1, else 0. */
int gos_synth_contraction_of(const gos_module *m, int ni, gos_synth_contraction *cv);
/* Fills cv for node ni when it is a depthwise contraction with constant
 * weights and bias (or no bias: cv->b = -1), each output channel reading
 * its own input channel alone:
 * Y[n, k, sp] = B[k] + sum(red) X[n, k, f(sp, red)] * W[k, red..]
 * (the weight's other dimensions extent 1, indexed 0): C = 1, R x S the
 * taps (R = the reduction's size, S = 1). Returns 1, else 0. */
int gos_synth_depthwise_of(const gos_module *m, int ni, gos_synth_contraction *cv);

/* Replaces node ni of m by the nodes m->nodes[first..n_node) that the
 * derivation appended (in order), the last of which writes value `res`:
 * they move to position ni, res takes the name of ni's result and every
 * reader of that result reads res. Returns 0 or -1. */
int gos_synth_splice(gos_module *m, int ni, int first, int res, gos_diags *d);

/* Rows of least-squares fits: (sample, output position) pairs, at most
 * this many, spread over the calibration batch (gos_synth_data_pos). */
#define GOS_SYNTH_FIT_ROWS 24576
/* Positions errors are measured on: every one up to this many, else
 * this many spread over it (64 images of 32 x 32 positions). */
#define GOS_SYNTH_ERR_ROWS 65536

/* Whether index expression root of statement s mentions variable v
 * (a malformed expression counts as a use, so no rewrite relies on it). */
int gos_synth_ix_uses(const gos_stmt *s, int root, int v);

/* v[0..s->n_red): the reduction point of column col, the reduction
 * variables row-major over s->red_extent (the weight's [red...] order). */
static inline void gos_synth_red_point(const gos_stmt *s, int64_t col, int64_t *v)
{
	for (int j = s->n_red - 1; j >= 0; j--) {
		v[j] = col % s->red_extent[j];
		col /= s->red_extent[j];
	}
}


/* Output position g (of c->n * positions, sample-major) of contraction
 * node `node`: patch[D] gets the elements of X (x: the recorded input)
 * its reduction reads there, in the weight's [red...] order (padding
 * value outside X), yk[K] the node's recorded outputs (y) there. */
void gos_synth_patch_row(const gos_node *node, const float *x, const float *y, int64_t g,
                         int64_t D, double *patch, double *yk);

/* A precomputed gos_synth_patch_row for one contraction node: when
 * every index expression of its X load is affine in the variables
 * (CONST, VAR, ADD, SUB, MUL by a constant), X's index in dimension a at
 * column col of output position g is base_a(g) + cix[a][col], so a row
 * is one gather (and, at the borders, a range test per column). Other
 * index expressions take the generic path. The rows are the same. */
typedef struct gos_synth_plan {
	const gos_node *node;
	int64_t D;
	int affine;                   /* 0: gos_synth_patch_row */
	int xr, yr;                   /* ranks of X and Y */
	int64_t xn, yn, K, pos;       /* elements of X, of Y per sample; positions */
	int64_t c0[GOS_MAX_RANK];     /* X dim a: constant term */
	int64_t co[GOS_MAX_RANK][GOS_MAX_RANK]; /* coefficient of output variable */
	int64_t lo[GOS_MAX_RANK], hi[GOS_MAX_RANK]; /* min / max of cix[a][..] */
	int64_t *cix;                 /* [xr][D] the reduction variables' part */
	int64_t *coff;                /* [D] cix flattened with X's strides */
	double pad;                   /* value outside X */
} gos_synth_plan;

/* Fills pl for contraction node `node` (which must outlive it). Returns
 * 0 or -1 (out of memory). Free with gos_synth_plan_free. */
int gos_synth_plan_init(gos_synth_plan *pl, const gos_node *node, int64_t D);
void gos_synth_plan_free(gos_synth_plan *pl);
/* gos_synth_patch_row through pl (equal results). */
void gos_synth_plan_row(const gos_synth_plan *pl, const float *x, const float *y, int64_t g,
                        double *patch, double *yk);

/* What fitted rules of a contraction node work from: its input and
 * result recorded on the calibration batch (passes/synth/fit.c). */
typedef struct gos_synth_data {
	const gos_node *node;   /* the contraction (in the module given) */
	const float *x, *y;     /* recorded X and Y, c->n samples each */
	int xown, yown;         /* whether gos_synth_data_free frees them */
	int64_t total;          /* output positions: c->n * batch * spatial */
	int64_t fit_rows;       /* positions least-squares fits use */
	int64_t err_rows;       /* positions errors are measured on */
	int64_t D, K;           /* reduction size, output channels */
	double lo;              /* every reader clamps the result below at lo
	                         * (0: relu), else -INFINITY */
	const float *neg;       /* or at minus this recorded value, elementwise
	                         * (relu(y + s): s), else NULL */
	int negown;             /* whether gos_synth_data_free frees it */
	int64_t pool[2];        /* a max pool's window (= its stride) after the
	                         * relu, else 0: positions below their window's
	                         * recorded maximum are floored at it, those no
	                         * window reads at +INFINITY (pool_of in fit.c) */
	gos_synth_plan plan;    /* how rows are gathered */
} gos_synth_data;

/* Whether sd's readers clamp its result (fits and errors use the floors). */
static inline int gos_synth_data_floored(const gos_synth_data *sd)
{
	return sd->neg || sd->lo > -INFINITY || sd->pool[0];
}

/* Adds one output's squared error to *num and its square to *den, both
 * as the readers see them: with a floor lo (not -INFINITY), how far above
 * lo the fit o and the original y are (relu(y + s) for the floor -s). */
static inline void gos_synth_err_add(double o, double y, double lo, double *num, double *den)
{
	if (lo > -INFINITY) {
		o = o < lo ? 0 : o - lo;
		y = y < lo ? 0 : y - lo;
	}
	*num += (o - y) * (o - y);
	*den += y * y;
}

/* Output position g of sd: patch[D] and yk[K] (gos_synth_patch_row). */
void gos_synth_data_row(const gos_synth_data *sd, int64_t g, double *patch, double *yk);
/* The other term s of the residual sum contraction ni's result y feeds
 * (its one reader is add(y, s), s a temporary of y's shape), or -1;
 * whatever reads the sum (a relu, or nothing: a linear bottleneck). When
 * relus alone read the sum, -s floors y too. Fits read s from the
 * calibration's recording when it is there. */
int gos_synth_residual_value(const gos_module *m, int ni);
/* The output position of row i of `rows` (at most sd->total): every
 * position when rows is the total, else spread over sd's batch by a
 * Weyl sequence (the golden ratio's multiples mod 1), which never lines
 * up with the images' rows and columns the way an even stride does (an
 * even stride of 196 over 28 x 28 outputs read column 0 only). */
static inline int64_t gos_synth_data_pos(const gos_synth_data *sd, int64_t i, int64_t rows)
{
	if (rows == sd->total)
		return i;
	uint64_t h = (uint64_t)i * 0x9E3779B97F4A7C15ull;
	return (int64_t)((double)(h >> 11) * 0x1p-53 * (double)sd->total);
}
/* The floors of output position g of sd: lk[K] (-INFINITY: none). */
void gos_synth_data_floor(const gos_synth_data *sd, int64_t g, double *lk);

/* Records (or finds in c->acts) what node ni of m needs; needs c->n > 0
 * and a contraction (gos_synth_contraction_of). Returns 0 or -1. */
int gos_synth_data_get(const gos_module *m, int ni, const gos_synth_calib *c,
                       gos_synth_data *sd, gos_diags *d);
void gos_synth_data_free(gos_synth_data *sd);

/* A rule's features of one output position: f[nf] from patch[D]. */
typedef void (*gos_synth_feat)(const double *patch, double *f, const void *ctx);
/* A rule's prediction of the K outputs at one position from patch[D]. */
typedef void (*gos_synth_pred)(const double *patch, double *y, const void *ctx);

/* A fitted rule's channel count w (a rank, a width, kept channels) in
 * whole vector blocks: from 16 a multiple of 8, from 4 a multiple of 4,
 * below 4 w itself. The kernels block output channels by 4 (NEON) to 16
 * (AVX-512); a remainder runs scalar code, so on the host 9 channels of a
 * 28x28 ResNet layer took 14.5 us where 8 took 3.7 us, 6 took 5.3 us. */
int64_t gos_synth_round_width(int64_t w);

/* Numerical rank of a rows x cols matrix from its kk singular values
 * (descending): those above max(rows, cols) * 2^-23 * sv[0]. */
int64_t gos_synth_num_rank(const double *sv, int64_t kk, int64_t rows, int64_t cols);

/* Least squares with a constant: a[(nf + 1) x nk] (row-major, the
 * constant's row last) minimises ||f a[0..nf) + 1 a[nf] - y|| for f
 * rows x nf and y rows x nk (row-major; both are overwritten). Solved
 * through the normal equations of the centred problem (cblas_dsyrk,
 * LAPACKE_dpotrf) with a ridge of 1e-12 of the mean feature energy, so a
 * rank-deficient f (a feature constant on the batch, a channel that never
 * fires) gets finite, minimum-norm-like coefficients, never a failure.
 * With floors lo (rows x nk; the readers clamp the result below them, as
 * a relu does at 0; NULL: none) an output y <= lo only costs where the
 * fit rises above lo:
 * the loss is sum over y > lo of (fit - y)^2 plus sum over y <= lo of
 * max(fit - lo, 0)^2, convex, minimised by majorisation (each step a
 * least-squares solve on the same factorised normal matrix with targets
 * min(fit, lo) where y <= lo; the loss never rises). Returns 0, or -1
 * when out of memory. */
int gos_synth_solve(int64_t rows, int64_t nf, int64_t nk, double *f, double *y,
                    const double *lo, double *a);
/* The first stage of a fitted two-stage rule, fitted to sd's fit
 * positions (stages.c): a (m x E, row-major, E = sd->D / S) maps each of
 * the S sub-patches x_s[e] = patch[e S + s] to m values, and a linear
 * second stage reads all S m of them. Started from the SVD of wt (the
 * node's K x D weight) in the metric of the sub-patches' second moment,
 * then alternating least squares; c->memo, when set, keeps the result.
 * Returns 0, 1 when it does not apply
 * (too few positions, D above GOS_SYNTH_STAGE1_MAX_D, a singular
 * system: a is untouched), or -1 when out of memory. */
int gos_synth_stage1(const gos_synth_calib *c, const gos_synth_data *sd, int64_t S, int64_t m,
                     const float *wt, double *a);
/* dwsep's depthwise filters f (C x rs, rs = sd->D / C, in place) fitted
 * to sd's fit positions with the pointwise mix behind them: alternating
 * least squares on the patches' moments from the f given (stages.c).
 * Returns 0, 1 when it does not apply (f untouched), or -1 when out of
 * memory. */
int gos_synth_depthwise_stage(const gos_synth_data *sd, int64_t C, float *f);
/* The largest reduction gos_synth_stage1 and gos_synth_depthwise_stage
 * take: their D x D moments stay
 * within 42 MB. */
#define GOS_SYNTH_STAGE1_MAX_D 2304

/* Least squares over up to GOS_SYNTH_FIT_ROWS positions: outputs
 * ks[0..nk) (channel numbers) from nf features plus a constant. a gets
 * (nf + 1) x nk coefficients, row-major, the constant's row last.
 * Returns 0 or -1 with an error naming `what`. */
int gos_synth_lsq(const gos_synth_data *sd, gos_synth_feat feat, const void *ctx, int nf,
                  const int *ks, int nk, double *a, const char *what, gos_diags *d);
/* Refits the weight and bias of plain contraction ni of m (with a bias)
 * by least squares from its input to its result as recorded in c (for
 * sequential error correction: the candidate's own input, the original's
 * result). The new weights replace the old ones when they lower the
 * relative error on c; *err gets the error after (-1: not refitted, with
 * fewer than 4 positions per coefficient or no bias). A depthwise node
 * (gos_synth_depthwise_of) is refitted channel by channel on up to 4096
 * positions, each channel kept when its loss falls; *err is then the
 * loss after relative to before. Returns 0 or -1. */
int gos_synth_refit(gos_module *m, int ni, const gos_synth_calib *c, double *err, gos_diags *d);
/* The clamp every reader of value v applies below, or -INFINITY: 0 when
 * each is a relu; -beta/alpha when they are a hard_sigmoid(v) (alpha >
 * 0) and multiplies by it (hard-swish, v * hard_sigmoid(v), is constant
 * below that); with *addend set to value s, minus s elementwise, when
 * the one reader is add(v, s) (same shape) read by relus only (a
 * residual block's sum). Never for a result of m. */
double gos_synth_floor(const gos_module *m, int v, int *addend);
/* Node ni of m reads new weight and bias values (named after the old
 * ones, ".refit") holding w and b (K entries) instead of w_old and
 * b_old (b_old -1: no bias, b unused). Returns 0, or -1 out of memory. */
int gos_synth_use_weights(gos_module *m, int ni, int w_old, int b_old, const float *w,
                          const float *b, int64_t K, gos_diags *d);

/* ---- block reconstruction (passes/synth/recon.c) ---------------------- */

/* The region block reconstruction refines when it ends at node `last`:
 * last is a plain contraction with constant weights and bias (batch of
 * one); walking back from its input, a value's producer joins when every
 * reader of the value is inside and the producer is a depthwise or plain
 * contraction (a plain one ends the walk there), a relu, a hard_sigmoid,
 * a mul (of two values of its shape, or by a constant per channel), a
 * global_avgpool, or a flatten of one position (a classifier's head).
 * The region must have one input value from outside (*xin), two
 * contractions or more and a nonlinearity. nodes[0..max) get its nodes
 * in module order; returns their count, 0 when there is no such region. */
int gos_synth_recon_region(const gos_module *m, int last, int *nodes, int max, int *xin);
/* Block reconstruction of the region ending at node `last` of m
 * (gos_synth_recon_region): its weights and biases refined together by
 * Adam towards target y from input x, n samples each as the engine
 * records them (NCHW per sample); yc the region's result recorded on m
 * as it is (the region is left alone unless its forward pass as read
 * matches that); s the candidate's residual addend when the result's
 * readers add one (gos_synth_floor; else ignored, may be NULL). The
 * error is floored like the fits' and measured over all n samples; the
 * new weights replace the old only when it falls. err[0], err[1]: the
 * relative error before and after (-1 -1: no region, untouched). Batches
 * are drawn from `seed`. Returns 0, or -1 with an error in d. */
int gos_synth_recon(gos_module *m, int last, int64_t n, const float *x, const float *y,
                    const float *yc, const float *s, uint64_t seed, double err[2], gos_diags *d);
/* The whole model's weights and biases refined together by Adam towards
 * the original's outputs y from the model's inputs x (n samples each,
 * NCHW per sample as the engine records them): a distillation on the
 * calibration samples, after the per-node fits and block
 * reconstructions, so that their errors no longer add up. m needs one
 * input and one output, and every node of a kind the block
 * reconstruction computes, a residual add or an element move (a channel
 * gather); else it is left alone. yvc is m's output as the engine
 * records it on the nv held-out samples xv (the model is left alone
 * unless its forward pass as read matches that); the new weights replace
 * the old only when the squared error against yv, the original's output
 * there, falls. err[0], err[1]: that error, relative, before and after
 * (-1 -1: untouched). Returns 0, or -1 with an error in d. */
int gos_synth_tune(gos_module *m, int64_t n, const float *x, const float *y, int64_t nv,
                   const float *xv, const float *yv, const float *yvc, uint64_t seed,
                   double err[2], gos_diags *d);
/* Whether gos_synth_tune applies to m (it may still leave m alone). */
int gos_synth_tune_applies(const gos_module *m);
/* Relative MSE ||pred - Y||^2 / ||Y||^2 over sd->err_rows output positions of
 * the batch, both clamped below at sd->lo (as the readers see them), or
 * -1 when out of memory. */
double gos_synth_error(const gos_synth_data *sd, gos_synth_pred pred, const void *ctx);

/* Features of a position in blocks of positions: f = (float)(a . patch)
 * (cblas_dgemm; a stage whose result is stored in float) when a is
 * given, else feat(patch) when given, else the patch itself (nf = D). */
typedef struct gos_synth_map {
	int64_t nf;              /* features per position */
	const double *a;         /* [nf][D] or NULL */
	gos_synth_feat feat;     /* used when a is NULL; NULL: the patch */
	const void *ctx;         /* feat's */
} gos_synth_map;
/* gos_synth_lsq from mp's features. */
int gos_synth_lsq_map(const gos_synth_data *sd, const gos_synth_map *mp, const int *ks, int nk,
                      double *a, const char *what, gos_diags *d);
/* gos_synth_error of the linear prediction y = b + w . f (w [K][nf]
 * row-major; b [K] or NULL: 0) from mp's features f, in blocks of
 * positions with cblas_dgemm. */
double gos_synth_error_map(const gos_synth_data *sd, const gos_synth_map *mp, const double *w,
                           const double *b);

/* The node's numeric attribute `name` (n values expanded to want: one
 * value repeats), or dflt when absent. Fills out[want]. */
void gos_synth_attr(const gos_node *n, const char *name, double dflt, int want, double *out);

/* The geometry of a 2-D contraction read from its X load's index
 * expressions (not from attributes): X[n, c, p*st0 + r*dil0 - pad0,
 * q*st1 + s*dil1 - pad1], with the bottom/right padding the output size
 * needs. Returns 1 when node ni has exactly that form, else 0. */
int gos_synth_conv_geometry(const gos_module *m, int ni, double stride[2], double pad[4],
                            double dil[2]);

/* Appends conv2d(x, w, b) (b < 0: none) named name with these
 * attributes (pad: top, left, bottom, right). Returns its result value,
 * or -1 with errors in d. */
int gos_synth_conv2d(gos_module *m, const char *name, int x, int w, int b,
                     const double stride[2], const double pad[4], const double dil[2],
                     int groups, gos_loc loc, gos_diags *d);

/* A new constant weight (data copied) named base (made unique). */
int gos_synth_weight(gos_module *m, const char *base, int rank, const int64_t *shape,
                     const float *data);

/* Value `name` of m recorded on calibration data c: from c->acts when
 * it holds it with m's shape (*owned = 0), else recorded now on host code (*owned = 1:
 * the caller frees *x). *x holds c->n samples of the value, concatenated.
 * Returns 0 or -1. */
int gos_synth_activation(const gos_module *m, const char *name, const gos_synth_calib *c,
                         const float **x, int *owned, gos_diags *d);
/* Whether c->acts holds value `name` of m, with m's shape. */
int gos_synth_recorded(const gos_module *m, const char *name, const gos_synth_calib *c);

/* ---- the channel rules' shared part (passes/synth/chan.c) ------------- */

/* Whether node ni is a contraction (gos_synth_contraction_of) with
 * materialised weights whose first reduction variable is the channel
 * (dimension 1) of its input X and indexes nothing else of X, and which
 * reads X only as X. Then *C is that channel count and *per the weight
 * entries per (output, input channel) pair (R * S for a conv). */
int gos_synth_chan_of(const gos_module *m, int ni, gos_synth_contraction *cv, int64_t *C,
                      int64_t *per);

/* The nodes that produce a channel reader's input channel by channel
 * (chan.c explains which): per-channel nodes (batchnorm, activations,
 * residual adds, pooling) down to the contractions that produce the
 * channels (leaves). */
/* What a region node is to the reader's input channels. */
enum {
	GOS_SYNTH_CHAN_PER = 0,  /* per-channel: its channels shrink */
	GOS_SYNTH_CHAN_LEAF = 1, /* produces the channels: loses output rows */
	GOS_SYNTH_CHAN_SIDE = 2, /* another contraction reading them as its
	                            input channels (an SE block's first FC
	                            after the pool): loses weight columns */
};
typedef struct gos_synth_chan {
	int64_t C;    /* channels of the reader's input */
	int n;        /* region nodes: the walk back from the reader in
	                 descending node order, then the side branches */
	int n_side;   /* of them, side-branch nodes (the last n_side) */
	int *nodes;
	int *leaf;    /* leaf[i]: GOS_SYNTH_CHAN_PER, _LEAF or _SIDE */
	float **side_w; /* [n] or NULL: for a _SIDE reader, its refitted weight
	                   ([K][nk][..]) and bias; NULL: the kept columns */
	float **side_b;
	int shrink;   /* 1: the region can lose channels (no other reader needs
	                 them); 0 (n == 0): the reader must gather them */
} gos_synth_chan;

/* Fills r for reader ni (r->C == 0 when ni is no channel reader). With
 * sides, values of the region may also be read by side branches:
 * per-channel nodes (a global pool) ending in contractions that read
 * the channels as input channels; they lose the channels as well, which
 * changes their results (not exact). Returns 0 or -1 (out of memory).
 * Free with gos_synth_chan_free. */
int gos_synth_chan_region(const gos_module *m, int ni, int sides, gos_synth_chan *r, gos_diags *d);
void gos_synth_chan_free(gos_synth_chan *r);
/* FLOPs of every node rule r rewrites at node ni: node ni's, and for the
 * channel rules (prune, zerochan) those of the region they shrink too.
 * Candidates report flops_before / flops_after over these nodes. */
double gos_synth_rewritten_flops(const gos_module *m, int ni, const gos_synth_rule *r);
/* Node ni reads only input channels keep[0..nk) (ascending) with the new
 * weight w ([K][nk][..], the old layout) and bias b (when it has one):
 * the region loses the other channels when r->shrink, else a gather node
 * feeds the reader. The reader's result keeps its name. Returns 0 or -1. */
int gos_synth_chan_rewrite(gos_module *m, int ni, const gos_synth_chan *r, const int64_t *keep,
                           int64_t nk, const float *w, const float *b, const char *tag,
                           gos_diags *d);
/* Whether channel c of the reader's input is one constant *val: every
 * leaf's weight row c is zero and the per-channel nodes (no reductions)
 * map the leaves' bias to *val. Needs r->shrink. */
int gos_synth_chan_const(const gos_module *m, const gos_synth_chan *r, int64_t c, float *val);

#endif
