/* cost.h -- hardware cost models: latency of a module on a target.
 *
 * Three layers (docs/cost-models.md):
 *  1. Analysis (cost.c): every node of a module is classified by the shape
 *     of its comprehensions into an operator kind, and gets FLOPs (product
 *     of loop extents x arithmetic instructions), bytes moved and an
 *     analytic time: a roofline per node with an efficiency per kind, a
 *     bandwidth chosen by the cache level the node's data fits in, and a
 *     fixed dispatch overhead (an elementwise node whose only tensor input
 *     comes from a node it alone consumes is fused into it: no dispatch,
 *     no traffic) -- all from a target description
 *     (target.c, targets/<name>.target). Dead nodes (not reaching an
 *     output) cost nothing; nodes whose result does not depend on the model
 *     inputs (constant-foldable, e.g. relu/conv/batchnorm of x * 0) are
 *     flagged so a fitted model can decide whether the device folds them.
 *  2. Features: per operator kind, analytic ms, GFLOP, MB moved and node
 *     count, over the executed nodes (gos_cost_features).
 *  3. Adaptation (fit.c): from 10..60 measured models of a device,
 *     a robust (quantile) ridge regression of latency on the features,
 *     with the quantile, the ridge strength and the folding assumption
 *     chosen by leave-one-out rank correlation. The result is a small
 *     text file that `gos-cost predict --model-file` applies.
 * Plus rank correlations (rank.c), the host proxy measurement
 * (proxy.c: compile with gosc -emit=exe, time with the runner) and
 * the choice of which models to measure on a device (select.c).
 *
 * The library never prints; errors go to gos_diags.
 */
#ifndef GOS_COST_H
#define GOS_COST_H

#include "ir/ir.h"

/* ---- operator kinds -------------------------------------------------- */

/* Operator kinds recognised from the comprehension shape (name, meaning). */
#define GOS_COST_KINDS(X) \
	X(CONTRACTION, "contraction") /* sum of products, both operands reused (conv, matmul) */ \
	X(DEPTHWISE, "depthwise")     /* sum of products, one operand not reused (depthwise conv, matrix-vector) */ \
	X(POOLING, "pooling")         /* reduction of one tensor (pools, reduce, softmax sums) */ \
	X(ELEMENTWISE, "elementwise") /* no reduction, arithmetic per element (relu, bn, add) */ \
	X(DATAMOVE, "datamove")       /* no arithmetic: copies, reshape, transpose, concat, pad */

typedef enum gos_cost_kind {
#define X(e, s) GOS_KIND_##e,
	GOS_COST_KINDS(X)
#undef X
	GOS_NKINDS
} gos_cost_kind;

const char *gos_cost_kind_name(gos_cost_kind k);

/* ---- target description ---------------------------------------------- */

/* What the analytic model needs of a target. Loaded from a `key = value`
 * text file (the same targets/<name>.target files gosc reads); unknown
 * keys are ignored, missing keys get documented defaults. */
typedef struct gos_cost_target {
	char name[64];       /* `name` key, else the file's base name */
	double clock_ghz;    /* clock (default 2.0) */
	int cores;           /* cores (default 1); the model assumes 1 thread */
	int threads;         /* threads the runtime uses (default 1) */
	int vector_bits;     /* SIMD width (default 128) */
	int fma_units;       /* vector FMA pipes per core (default 2) */
	double peak_gflops;  /* per-thread fp32 peak; default clock*lanes*2*fma */
	double l1_kb, l2_kb, l3_kb; /* data cache sizes (defaults 32, 256, 0) */
	double bw_l1_gbs, bw_l2_gbs, bw_l3_gbs; /* default from clock and width */
	double dram_gbs;     /* memory bandwidth (`bandwidth_gbs`, default 10) */
	double overhead_us;  /* fixed cost per executed node (default 2) */
	int fuse_elementwise; /* elementwise ops fuse into their producer (default 1) */
	double eff[GOS_NKINDS]; /* fraction of peak per kind (`eff_<kind>`) */
} gos_cost_target;

/* Fills t with the defaults above (name "generic"). */
void gos_cost_target_default(gos_cost_target *t);
/* Parses a target file (text, len bytes). Returns 0, or -1 with errors
 * (file:line) in d for malformed lines or out-of-range numbers. */
int gos_cost_target_parse(gos_cost_target *t, const char *file,
                          const char *text, size_t len, gos_diags *d);
/* Resolves spec to a file and parses it: spec is a path (contains '/' or
 * ends in .target), else <spec>.target in $GOS_TARGET_DIR, the install's
 * share/gosc/targets or <source dir>/targets (support/datadir.h). Returns 0 or -1 with errors in d. */
int gos_cost_target_load(gos_cost_target *t, const char *spec, gos_diags *d);

/* ---- per-node analysis ------------------------------------------------ */

typedef struct gos_cost_node {
	int node;          /* index in the module's nodes[] */
	gos_cost_kind kind;
	double flops;      /* arithmetic operations */
	double bytes;      /* bytes of the node's inputs, outputs and temps */
	double ms;         /* analytic time on the target */
	int live;          /* reaches a module output */
	int foldable;      /* result independent of the model inputs */
	int fused;         /* elementwise, fused into its producer: no dispatch,
	                      no memory traffic of its own (target fuse_elementwise) */
} gos_cost_node;

typedef struct gos_cost_report {
	int n;             /* == module's n_node */
	gos_cost_node *v;  /* [n], malloc'd (gos_cost_report_free) */
	double total_ms;   /* sum of ms over live nodes */
	double flops;      /* sum of flops over live nodes */
	double bytes;      /* sum of bytes over live nodes */
} gos_cost_report;

/* The kind, FLOPs and bytes of one node (no target needed). */
gos_cost_kind gos_cost_node_kind(const gos_node *n);
double gos_cost_node_flops(const gos_node *n);
double gos_cost_node_bytes(const gos_node *n);

/* Analyses every node of m on target t. m must verify. Returns 0, or -1
 * (out of memory) with an error in d. */
int gos_cost_analyze(const gos_module *m, const gos_cost_target *t,
                     gos_cost_report *r, gos_diags *d);
void gos_cost_report_free(gos_cost_report *r);

/* ---- features ----------------------------------------------------------- */

/* Per kind: analytic ms, GFLOP, MB moved and nodes dispatched (fused
 * nodes move no bytes and are not dispatched). */
#define GOS_COST_PER_KIND 4
#define GOS_COST_NFEAT (GOS_NKINDS * GOS_COST_PER_KIND)

/* Feature i's name, e.g. "contraction_ms", "pooling_gflop". */
const char *gos_cost_feature_name(int i);
/* Writes the GOS_COST_NFEAT features of report r to x. With fold != 0
 * nodes that are foldable are left out (the device folds constants);
 * dead nodes are always left out. */
void gos_cost_features(const gos_cost_report *r, int fold, double *x);

/* ---- rank correlation (rank.c) ------------------------------------- */

/* Spearman's rho (Pearson correlation of mid-ranks; ties averaged) of
 * a[0..n) and b[0..n). NaN if n < 2 or either side is constant. */
double gos_spearman(const double *a, const double *b, int n);
/* Kendall's tau-b (tie-corrected). NaN if n < 2 or a side is constant. */
double gos_kendall(const double *a, const double *b, int n);
/* Mid-ranks (0-based, ties get their average rank) of v[0..n) into r. */
void gos_rank(const double *v, int n, double *r);

/* ---- adaptation (fit.c) -------------------------------------------- */

/* columns: the features, the prior, the total GFLOP (the FLOPs-only family) */
#define GOS_COST_MAX_COLS (GOS_COST_NFEAT + 2)

/* Column groups a fit may use: the per-kind quantities and the prior. */
#define GOS_COST_COL_MS 1u
#define GOS_COST_COL_GFLOP 2u
#define GOS_COST_COL_MB 4u
#define GOS_COST_COL_NODES 8u
#define GOS_COST_COL_PRIOR 16u
#define GOS_COST_COL_FLOPS 32u /* total GFLOP of the live nodes */

/* What fit may choose from. Zero-initialise, then set fields; 0 means
 * "the default" for every field. */
typedef struct gos_cost_fitopts {
	int n_tau;          /* candidate quantiles (default: by residual skew) */
	double tau[8];
	int n_lambda;       /* candidate ridge strengths (default 1: 1e-3) */
	double lambda[8];
	int fold;           /* 0: choose by leave-one-out; 1: fold; -1: don't */
	int no_prior;       /* penalise the prior column like the others */
	unsigned columns;   /* GOS_COST_COL_* bits of the columns to use (0: all) */
	int no_fallback;    /* only the requested columns: no prior-only,
	                       FLOPs-only or analytic family */
	int allow_negative; /* let weights go negative (default: every column
	                       is a cost, so its weight is >= 0) */
	int irls_iters;     /* quantile IRLS iterations (default 50) */
} gos_cost_fitopts;

/* A fitted latency model:
 *   y = intercept + sum_j w[j] * (col[j] - mu[j]) / sd[j]
 * over the used columns: the GOS_COST_NFEAT features (taken with the
 * fold setting) and a last prior column -- the analytic total (sum of the
 * *_ms features) or, with prior_proxy, the host proxy measurement. The
 * prior column is not penalised, so small samples shrink the model
 * towards a scaled prior (the AdaProxy idea). */
typedef struct gos_cost_model {
	char target[64];      /* target name the features were computed for */
	char family[16];      /* model family fit chose (gos_cost_fit) */
	int fold;             /* 1: features leave foldable nodes out; 0: keep
	                         them; GOS_COST_FOLD_UNKNOWN: the mean of both
	                         (no sample had foldable work to tell) */
	int prior_proxy;      /* prior column = proxy ms (else analytic ms) */
	double tau, lambda;   /* chosen quantile and ridge strength */
	int n_samples;        /* models it was fitted on */
	double loo_spearman;  /* leave-one-out rank correlation at the choice */
	double loo_mape;      /* leave-one-out mean abs. percentage error (%) */
	double intercept;
	int used[GOS_COST_MAX_COLS];  /* column used (non-constant in the fit) */
	double mu[GOS_COST_MAX_COLS], sd[GOS_COST_MAX_COLS], w[GOS_COST_MAX_COLS];
} gos_cost_model;

#define GOS_COST_FOLD_UNKNOWN 2

/* One training row: features without and with folding, proxy ms (NaN if
 * not measured), measured latency (ms). */
typedef struct gos_cost_sample {
	double x_all[GOS_COST_NFEAT];  /* dead nodes out, foldable nodes in */
	double x_fold[GOS_COST_NFEAT]; /* foldable nodes out too */
	double proxy;                  /* host proxy ms, or NaN */
	double y;                      /* measured ms */
} gos_cost_sample;

/* Fits m to s[0..n), n >= 3. With prior_proxy every sample needs a
 * proxy value. Weights are >= 0 unless opts->allow_negative. The
 * quantile follows the bulk of the noise: 0.7 if the residuals of a
 * median fit have a long lower tail (Bowley skewness < -0.1), 0.3 if a
 * long upper tail (> 0.1), else 0.5. Chooses among model families
 * (gos_cost_family_name: the scaled prior, which ranks as the unfitted
 * analytic model; the scaled FLOPs count; per-kind times and counts, all columns; only
 * the last with opts->no_fallback) and, when several are given, quantiles
 * and ridge strengths, by leave-one-out Spearman correlation on the
 * samples (ties broken by the leave-one-out absolute error; a richer
 * family must win by GOS_COST_FIT_MARGIN); records the family in
 * m->family. When opts->fold == 0 chooses folding only if it lowers the
 * leave-one-out absolute error by 20%, and GOS_COST_FOLD_UNKNOWN when no
 * sample has foldable work.
 * Returns 0, or -1 with an error in d. */
int gos_cost_fit(const gos_cost_sample *s, int n, int prior_proxy,
                 const gos_cost_fitopts *opts, gos_cost_model *m, gos_diags *d);
/* How much a richer family's leave-one-out Spearman must exceed a
 * simpler one's for fit to choose it. */
#define GOS_COST_FIT_MARGIN 0.01
/* The i-th model family (0 <= i < gos_cost_nfamilies()), simplest first. */
const char *gos_cost_family_name(int i);
int gos_cost_nfamilies(void);
/* One node of a per-node profile measured on the device: the node's
 * kind and analytic ms on the target, whether it is dispatched (not
 * fused), its measured median ms, and its index in the module parsed
 * against. */
typedef struct gos_cost_prof_node {
	gos_cost_kind kind;
	double analytic_ms;
	int dispatched;
	double measured_ms;
	int node;
} gos_cost_prof_node;

/* Parses a per-node profile CSV of module m (text, len bytes; file names
 * it in messages; passes/cost/profile.c gives the format) against r, the
 * analysis of m (gos_cost_analyze): one row per profiled node, with the
 * node's kind, analytic ms and dispatch from r, into *rows (malloc'd,
 * *nrows of them) and the whole-run median of the (total) row in *total.
 * Returns 0, or -1 with errors (file:line) in d and *rows NULL. */
int gos_cost_profile_parse(const char *file, const char *text, size_t len,
                           const gos_module *m, const gos_cost_report *r,
                           gos_cost_prof_node **rows, int *nrows, double *total,
                           gos_diags *d);
/* Fits m (family "profile") to n per-node measurements p[]: per kind k,
 * measured = a_k * analytic ms + b_k per dispatched node, a_k, b_k >= 0
 * by non-negative least squares on the nodes of that kind (a kind with
 * no node gets the overall ratio measured / analytic and no overhead).
 * m applies to whole models through the *_ms and *_nodes features
 * (fold 0). Returns 0, or -1 with an error in d (n < 1, times not finite
 * and >= 0, solver failure). */
int gos_cost_fit_profile(const gos_cost_prof_node *p, int n, gos_cost_model *m,
                         gos_diags *d);
/* Lower level: the quantile-tau ridge fit of y on the columns X (n x p,
 * row-major, p <= GOS_COST_MAX_COLS); column j is penalised by
 * lambda * n * pen[j] after standardisation (pen NULL: all 1). tau in
 * (0, 1); tau = 0 means least squares. With nonneg every weight is kept
 * >= 0 (Lawson-Hanson active set); the intercept is free. Fills m's
 * used/mu/sd/w/intercept. Returns 0, or -1 if LAPACK fails. */
int gos_cost_fit_quantile(const double *X, const double *y, int n, int p,
                          const double *pen, double tau, double lambda,
                          int nonneg, int iters, gos_cost_model *m);
/* Non-negative least squares: x >= 0 minimising |A x - b| (A m x n,
 * row-major; Lawson and Hanson). Returns 0, or -1 if LAPACK fails. */
int gos_nnls(const double *A, const double *b, int m, int n, double *x);
/* Builds the GOS_COST_MAX_COLS columns of a sample for model m. */
void gos_cost_model_row(const gos_cost_model *m, const gos_cost_sample *s,
                        double *row);
/* The prediction (ms) of m for a row from gos_cost_model_row. */
double gos_cost_model_eval(const gos_cost_model *m, const double *row);
/* Spearman correlation and mean absolute percentage error (%) of m's
 * predictions of the samples s[0..n) against their y. */
void gos_cost_model_score(const gos_cost_model *m, const gos_cost_sample *s, int n,
                          double *spearman, double *mape);
/* Writes m in the text format of docs/cost-models.md. */
void gos_cost_model_save(const gos_cost_model *m, FILE *out);
/* Parses that format; returns 0 or -1 with errors (file:line) in d. */
int gos_cost_model_load(gos_cost_model *m, const char *file, const char *text,
                        size_t len, gos_diags *d);

/* Reads and parses the model file at path (gos_cost_model_load). Returns
 * 0, or -1 with errors in d. */
int gos_cost_model_read(gos_cost_model *m, const char *path, gos_diags *d);

/* ---- which models to measure (select.c) ---------------------------- */

/* Largest candidate pool gos_cost_select takes (its distance matrix is
 * n x n floats: 100 MB at this size). */
#define GOS_COST_SELECT_MAX 5000

/* Chooses k of the n candidate models s[] to measure on a device, so
 * that a fit on them generalises to the rest: greedy facility location
 * (k-medoids) over the standardised fit columns -- features without
 * foldable nodes, the foldable part, the analytic total. The chosen
 * models are representative (dense regions get more) and diverse (every
 * kind of work that varies in the pool tends to vary among them). Only
 * x_all and x_fold are read. Writes the indices, in the order chosen, to
 * chosen[0..k). Deterministic. Returns 0, or -1 with an error in d
 * (k outside 1..n, n > GOS_COST_SELECT_MAX, out of memory). */
int gos_cost_select(const gos_cost_sample *s, int n, int k, int *chosen, gos_diags *d);

/* ---- one call for compilers and searches -------------------------------- */

/* Predicted latency (ms) of module m on target t: the analytic total when
 * fm is NULL, else the fitted model fm applied to m's features. A model
 * fitted with the proxy prior needs proxy_ms (the host measurement of m;
 * NaN otherwise). m must verify. Returns 0, or -1 with an error in d. */
int gos_cost_predict(const gos_module *m, const gos_cost_target *t,
                     const gos_cost_model *fm, double proxy_ms, double *ms,
                     gos_diags *d);

/* ---- proxy measurement (proxy.c) ----------------------------------- */

/* Compiles model_path for the host with the gosc executable at gosc
 * (`gosc MODEL -target=host -emit=exe -o TMP`, with `-input-shape` for
 * each shape of o when o is not NULL), runs the runner with
 * `--random-inputs --bench runs` and stores its median_ms in *median_ms
 * and, if min_ms is not NULL, its min_ms there. Returns 0, or -1 with an
 * error in d (compile or run failure, no timings in its output). */
struct gos_load_options;
int gos_cost_proxy_measure(const char *gosc, const char *model_path,
                           const struct gos_load_options *o, int runs, double *median_ms,
                           double *min_ms, gos_diags *d);

#endif
