/* search.h -- adapting a trained model to a device: per-operator choices
 * among synthesised candidates that keep accuracy and cut the target's
 * predicted latency (docs/search.md).
 *
 * The pieces, each replaceable and testable alone (as pymoo / DyNAS-T):
 *   stage 1    (search.c)   the target's cost model ranks the nodes by
 *                           share of latency; the heavy ones are searched
 *   the pool   (search.c)   per heavy node, the synthesis candidates
 *                           (passes/synth) fitted on half of the
 *                           calibration batch, kept when the cost model
 *                           predicts a gain and no other candidate of the
 *                           node is both faster and closer (err)
 *   evaluator  (evaluate.c) a genome (one choice per heavy node) -> a
 *                           module -> predicted latency on the target and
 *                           the one-batch accuracy proxy on the other half:
 *                           linear CKA per stage against the original and
 *                           the increase of the task loss
 *   algorithm  (nsga2.c)    NSGA-II over the genomes (or random search, or
 *                           uniform compression, the baselines), with a
 *                           hypervolume indicator
 *   predictors (predict.c)  ridge and RBF-SVR on the genomes evaluated so
 *                           far, the better by cross-validated MAPE, screen
 *                           offspring so that only promising ones are
 *                           evaluated (LINAS)
 *   final      (search.c)   front members are rebuilt with sequential error
 *                           correction (each replaced node refitted on the
 *                           candidate's own activations) and measured on the
 *                           evaluation data; the fastest within max_drop wins
 *   report     (report.c)   OUT.search/: adapted.gos + safetensors,
 *                           candidates.csv, pareto.csv, pareto.svg, report.md
 * Evaluations go through a map callback, so that a distributed engine
 * (MPI ranks) can spread them; every decision depends only on the
 * evaluation records, so all ranks take the same path and the result is
 * the one of a single process.
 *
 * The library never prints: progress goes to a callback. */
#ifndef GOS_SEARCH_H
#define GOS_SEARCH_H

#include <stdint.h>

#include "eval/dataset.h"
#include "ir/ir.h"
#include "passes/cost/cost.h"
#include "passes/synth/synth.h"

/* Strategies: the search, and the baselines it is compared with. */
typedef enum gos_search_strategy {
	GOS_SEARCH_NSGA2,   /* NSGA-II, offspring screened by predictors */
	GOS_SEARCH_RANDOM,  /* random genomes at the same evaluation budget */
	GOS_SEARCH_UNIFORM, /* every node the same compression level */
} gos_search_strategy;

/* Runs jobs 0..n-1 of job (each writes size bytes to out + j * size) and
 * leaves every job's record in out; returns 0 or -1. A distributed map
 * runs a share of the jobs on each rank and gathers the records on all. */
typedef int (*gos_search_job)(void *ctx, int j, void *rec);
typedef int (*gos_search_map)(void *mctx, int n, size_t size, gos_search_job job, void *jctx,
                              void *out);

typedef struct gos_search_progress {
	const char *phase;     /* "profile", "pool", "search", "final" */
	int evals;             /* genomes evaluated so far */
	double best_speedup;   /* predicted speedup of the best genome within the
	                          proxy's bound so far (1 when none) */
	double elapsed_s, budget_s;
} gos_search_progress;

typedef struct gos_search_opts {
	const char *target;        /* cost target (name or .target path) */
	const gos_cost_model *fitted; /* fitted latency model, or NULL: analytic */
	const char *profile;       /* NULL, or the model's per-node profile measured
	                              on the target (the runner's --profile=FILE.csv):
	                              stage 1 ranks the nodes by it */
	const char *also[4];       /* other targets the report predicts for (NULL-ended) */
	double max_drop;           /* top-1 points allowed to lose (default 1) */
	double latency_ms;         /* > 0: target latency (penalty above it) */
	double speedup;            /* > 0: target speedup (same, as a ratio) */
	double budget_s;           /* wall-clock budget (default 600) */
	int max_evals;             /* > 0: stop after this many evaluations */
	uint64_t seed;
	int max_nodes;             /* heavy nodes searched (default 16) */
	int max_cands;             /* candidates kept per node (default 8) */
	int pop;                   /* NSGA-II population (default 24) */
	int final_checks;          /* with a latency target: front members measured at the end (default 6) */
	gos_search_strategy strategy;
	int no_predictor;          /* plain NSGA-II: every offspring evaluated */
	int no_recon;              /* the final checks' builds without block
	                              reconstruction (least-squares refits only) */
	int threads;               /* engine threads (0: online CPUs) */
	const volatile int *stop;  /* set (e.g. by SIGINT): stop, keep the best */
	void (*progress)(void *ctx, const gos_search_progress *p);
	void *progress_ctx;
	gos_search_map map;        /* NULL: jobs run here, in order */
	void *map_ctx;
	int check_width;           /* final checks after the bisection go in
	                              rounds of this many (default 2; at most
	                              GOS_SEARCH_MAX_WIDTH): mpirun -np 2 runs a
	                              round at once, one process one after the
	                              other, with the same result */
} gos_search_opts;

/* Defaults of every field above. */
void gos_search_opts_default(gos_search_opts *o);

#define GOS_SEARCH_MAX_NODES 32
#define GOS_SEARCH_MAX_PRE 64
#define GOS_SEARCH_MAX_CANDS 12
#define GOS_SEARCH_MAX_STAGES 6
#define GOS_SEARCH_MAX_WIDTH 16

/* One option of one heavy node (option 0 of every node: keep it). */
typedef struct gos_search_opt {
	char choice[96];          /* "RULE:PARAM=V" (or "keep") */
	char spec[384];           /* NODE/RULE:PARAM=V for gos_synth_apply */
	int exact;
	double flops_ratio;       /* flops after / before over what it rewrites */
	double err;               /* reconstruction error on the fit batch */
	double dms;               /* predicted latency change on the target */
} gos_search_opt;

typedef struct gos_search_node {
	int node;                 /* index in the original module */
	char name[256];
	double ms, share;         /* predicted time on the target, share of total */
	int n_opt;                /* options, [0] = keep */
	gos_search_opt opt[GOS_SEARCH_MAX_CANDS + 1];
} gos_search_node;

/* One evaluated genome. */
typedef struct gos_search_cand {
	int id;
	int gen;                   /* generation (-1: initial, -2: a backoff step
	                              of the final checks) */
	unsigned char g[GOS_SEARCH_MAX_NODES]; /* option per heavy node */
	int ok;                    /* 0: building or running it failed */
	double flops;              /* of the module */
	double params;             /* weight elements */
	double ms;                 /* predicted latency on the target */
	double proxy;              /* proxy loss: (1 - mean CKA) + task loss increase */
	double cka[GOS_SEARCH_MAX_STAGES];
	double dloss;              /* task loss increase on the proxy batch (nats) */
	double agree;              /* top-1 agreement with the original there (%) */
	double pred_proxy;         /* the predictor's estimate (NaN: not screened) */
	double top1;               /* on the evaluation data (NaN: not measured) */
	double drop_se;            /* standard error of its drop against the
	                              original there, in points (paired) */
	int corrected;             /* top1 of the sequentially refitted build */
	int front;                 /* on the final Pareto front */
} gos_search_cand;

typedef struct gos_search_result {
	gos_module *adapted;       /* the chosen model (caller frees), NULL if none */
	int chosen;                /* index in cand[] (-1: the original kept) */
	int n_node;
	gos_search_node node[GOS_SEARCH_MAX_NODES];
	int n_pre;                 /* applied before the search, to every candidate */
	char pre[GOS_SEARCH_MAX_PRE][300]; /* NODE/freeze: gates that barely vary */
	double pre_err[GOS_SEARCH_MAX_PRE];
	int n_stage;
	char stage[GOS_SEARCH_MAX_STAGES][256]; /* values compared by CKA */
	int n_cand;
	gos_search_cand *cand;     /* malloc'd */
	double base_ms, base_flops, base_params, base_top1, base_calib_top1;
	double chosen_top1;        /* measured (NaN without evaluation data) */
	double chosen_drop_se;     /* standard error of its drop (points, paired;
	                              NaN when not measured) */
	int n_also;
	char also_name[4][64];     /* the other targets (opts->also) */
	double also_base_ms[4], also_ms[4]; /* their predictions, before / after */
	double hypervolume;        /* of the evaluated set (proxy objectives) */
	int evals;                 /* genomes evaluated in the search proper */
	long long n_fit, n_prx;    /* calibration samples that fit / score the proxy */
	long long n_pool;          /* of the fit samples, those the search's fits use */
	int predictor_used;        /* 1: ridge, 2: RBF-SVR, 0: none */
	double predictor_mape;     /* its cross-validated MAPE (%) */
	int screened;              /* offspring the predictor turned down */
	double seconds;            /* whole search */
	double seconds_pool;       /* stage 1 and the pool */
	double seconds_final;      /* the final checks */
	char profile[256];         /* opts->profile's file name, or "" */
	int profile_nodes;         /* of its rows, those naming a node of the
	                              model searched (others are ignored) */
	int interrupted;           /* stopped by opts->stop or the budget */
	int stopped;               /* of which by opts->stop (an interrupt) */
	int recon;                 /* the final checks reconstructed blocks
	                              (opts->no_recon unset) */
	int tuned;                 /* and tuned the whole adapted model
	                              (gos_synth_tune applies to it) */
	char target[64];
	char model[256];
	gos_search_strategy strategy;
} gos_search_result;

/* Adapts m (verified; not modified) to opts->target. calib: labelled
 * calibration images (at least 16; the last batch, at most 256 and at
 * most half, scores the candidates, the others fit them); eval: labelled
 * data the front is measured on (NULL: the proxy batch decides, with
 * max_drop read as agreement points).
 * Fills r (gos_search_result_free). Returns 0, or -1 with errors in d:
 * unknown target, images that do not fit the model, labels beyond its
 * classes, a budget too small to evaluate anything. */
int gos_search_run(const gos_module *m, const gos_dataset *calib, const gos_dataset *eval,
                   const gos_search_opts *opts, gos_search_result *r, gos_diags *d);
void gos_search_result_free(gos_search_result *r);

/* Writes r into directory dir (created; replaced only when complete:
 * written beside it and renamed): adapted.gos + adapted.safetensors,
 * candidates.csv, pareto.csv, pareto.svg, report.md. Returns 0 or -1 with
 * errors in d (nothing left behind). */
int gos_search_write(const gos_search_result *r, const char *dir, gos_diags *d);

/* ---- the pieces, for tests and baselines -------------------------------- */

/* NSGA-II ranking (nsga2.c): for n points of two objectives to minimise
 * (f[2*i], f[2*i+1]), rank[i] (0 = non-dominated) and crowding[i]
 * (infinite at the ends of each front). Returns 0 or -1 (out of memory). */
int gos_nsga2_rank(const double *f, int n, int *rank, double *crowding);
/* Hypervolume of the points (minimised) dominated region up to ref. */
double gos_hypervolume(const double *f, int n, const double ref[2]);

/* Predictors (predict.c): fits on n rows of p features X (row-major) to
 * y and predicts. kind 1: ridge, 2: RBF-SVR. */
typedef struct gos_predictor {
	int kind, p, n;
	double mu[GOS_SEARCH_MAX_NODES * 2], sd[GOS_SEARCH_MAX_NODES * 2];
	double ymu, ysd;
	double *w;       /* ridge: p + 1 weights; SVR: n dual coefficients */
	double *X;       /* SVR: the standardised training rows */
	double gamma, C, eps;
} gos_predictor;
int gos_predictor_fit(gos_predictor *pr, int kind, const double *X, const double *y, int n, int p);
double gos_predictor_eval(const gos_predictor *pr, const double *x);
void gos_predictor_free(gos_predictor *pr);
/* Fits both kinds, keeps the one with the lower k-fold MAPE (%) in *mape.
 * Returns 0 or -1. */
int gos_predictor_choose(gos_predictor *pr, const double *X, const double *y, int n, int p,
                         double *mape);

/* Linear CKA of two representations of the same n samples (evaluate.c):
 * a is n x pa, b is n x pb (row-major). 1 when they match up to rotation
 * and scale; NaN when one side is constant. */
double gos_cka_linear(const float *a, int64_t pa, const float *b, int64_t pb, int64_t n);

#endif
