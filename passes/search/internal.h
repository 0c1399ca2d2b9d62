/* internal.h -- what the search's files share (not installed). */
#ifndef GOS_SEARCH_INTERNAL_H
#define GOS_SEARCH_INTERNAL_H

#include "eval/eval.h"
#include "passes/search/search.h"

/* The state one search works on. */
typedef struct gos_search_ctx {
	const gos_search_opts *o;
	gos_search_result *r;
	gos_module *orig;          /* materialised copy of the model */
	gos_module *base;          /* what candidates start from: orig with stage 0's
	                              frozen gates */
	double start_ms;           /* base's predicted latency on the target */
	gos_cost_target t;
	gos_synth_calib fit;       /* the fit half; .n: its first samples, which the
	                              pool and the search's fits use (the checks
	                              refit on all n_fit) */
	gos_capture fit_acts;      /* inputs and results of the heavy nodes there
	                              (all n_fit samples, for the final checks) */
	gos_synth_memo *memo;      /* the quick builds' fitted stages (fit_acts
	                              only), or NULL */
	float *in;                 /* every calibration sample's input */
	int64_t numel;             /* input elements per sample */
	int64_t n_fit, n_prx;      /* samples in each half (the proxy's first) */
	int64_t rows_per;          /* logits rows per sample (batch of the model) */
	const int32_t *prx_y;      /* labels of the proxy half's rows */
	gos_capture base_stage;    /* stages + logits of the original, proxy half */
	gos_capture fit_out;       /* the original's output on the fit half (the
	                              final checks' tuning target; recorded by the
	                              first check that needs it) */
	double base_loss;          /* its mean cross-entropy there */
	int32_t *base_pred;        /* its top-1 per proxy row */
	int32_t *eval_pred;        /* the original's top-1 per evaluation image
	                              (NULL without -eval) */
	int64_t n_eval;
	int n_class;
	double t0;                 /* start (monotonic seconds) */
	double clock;              /* latest elapsed time seen in a record */
	int stopped;               /* a record said stop */
	gos_module *built[GOS_SEARCH_MAX_WIDTH]; /* the last round of final checks'
	                              builds by job, on the process that ran
	                              each (else NULL) */
	gos_module *kept;          /* the build of r->chosen when a check made
	                              the choice here (take_build), else NULL */
} gos_search_ctx;

/* What an evaluation job sends back (fixed size, for distributed maps). */
typedef struct gos_search_rec {
	double ok, ms, flops, params, proxy, dloss, agree, top1;
	double drop_se;            /* standard error of its top-1 drop (points,
	                              paired, gos_eval_paired; NaN: not measured) */
	double cka[GOS_SEARCH_MAX_STAGES];
	double elapsed, stop;
	double skipped;            /* 1: not evaluated (no time left) */
} gos_search_rec;

/* Positions the fits of a candidate's quick build use (the candidates
 * the search scores; the final checks' builds use the synthesis default). */
#define GOS_SEARCH_QUICK_ROWS 8192
/* The share of the budget kept for the final checks: the search proper
 * plans no evaluations past 1 - this (0.35 while block reconstruction
 * made each MobileNet check about 25 s longer; the tape and recon.c's
 * vectorised loops took a check from 32.5 s to 17 s, and 35% then
 * checked 11 members, most of them slow). */
#define GOS_SEARCH_RESERVE 0.25
/* Samples the proxy scores on at most (one batch); the rest fit. */
#define GOS_SEARCH_PROXY_MAX 256
/* Fit samples the pool and the scored candidates' fits use at most
 * (independent fits gain nothing from more: the Fashion-MNIST ResNet with
 * nine separable layers fitted on 256 or 2048 images tests at 91.67%
 * either way); the final checks' sequential correction refits on all. */
#define GOS_SEARCH_POOL_FIT 256
/* Rounds of checks of front members faster than the bisection's choice
 * after it, while the budget allows; a round checks check_width of them
 * (search.c, final_checks). */
#define GOS_SEARCH_EXTRA_CHECKS 4
/* Accuracy-aware backoff after them (search.c, backoff): a member that
 * missed max_drop by at most this many points is backed off, node by
 * node, for at most GOS_SEARCH_BACKOFF_STEPS checks. */
#define GOS_SEARCH_BACKOFF_MARGIN 0.5
#define GOS_SEARCH_BACKOFF_STEPS 3
/* Of two members within max_drop whose predicted latencies differ by less
 * than this share, the more accurate is chosen (the README's demo once
 * chose 2.604 ms at -0.98 over 2.605 ms at -0.82). */
#define GOS_SEARCH_TIE 0.01
/* Stage 0 freezes gates whose `freeze` error is below this. */
#define GOS_SEARCH_FREEZE_TOL 1e-5

/* Engines that run n calibration samples on the host: without
 * optimisation up to one proxy batch, where compiling dominates (about
 * half the time per candidate of -O2, the same results up to rounding);
 * at -O2 beyond, where running does (a ResNet's corrected build on
 * 1,792 samples spent 45% of its time in unoptimised code). */
gos_engine_opts gos_search_engine_opts(const gos_search_ctx *c, int64_t n);
/* Monotonic wall time in seconds. */
double gos_search_now(void);
/* The spec of genome g for gos_synth_apply ("" when it keeps every node). */
void gos_search_spec(const gos_search_ctx *c, const unsigned char *g, char *out, size_t cap);
/* Builds genome g on the original: candidates fitted independently on the
 * fit half (corrected = 0), or one node after the other, each refitted on
 * the activations of the model built so far (corrected = 1). Returns the
 * module or NULL with errors in d. */
gos_module *gos_search_build(gos_search_ctx *c, const unsigned char *g, int corrected,
                             gos_diags *d);
/* Scores module cm into rec: predicted latency, FLOPs, weights, the proxy
 * on the proxy half; with ds, top-1 on it (else NaN). Returns 0 or -1. */
int gos_search_score(gos_search_ctx *c, const gos_module *cm, const gos_dataset *ds,
                     gos_search_rec *rec, gos_diags *d);
/* Prepares the proxy: records the original's stages and logits on the
 * proxy half. Returns 0 or -1. */
int gos_search_proxy_init(gos_search_ctx *c, gos_diags *d);
/* Recordings of a module that changes between them (tape.c): values
 * on n samples, each with the hash of its upstream when recorded. */
typedef struct gos_search_tape {
	gos_capture rec;
	uint64_t *key;             /* [rec.n] */
	int64_t bytes;             /* rec's tensors' */
	int cap;
} gos_search_tape;
/* As gos_capture_run on m (value names only; every call on the same n
 * samples in[]), but values recorded by an earlier call on t whose
 * upstream in m is unchanged are taken as given rather than computed
 * again, and the new recordings join t (at most 3 GiB, the oldest go
 * first). Fills out (free with gos_capture_free). Returns 0 or -1. */
int gos_search_tape_run(gos_search_tape *t, const gos_module *m, int n_names,
                        const char *const *names, const gos_engine_opts *eo, int64_t n,
                        const float *const *in, gos_capture *out, gos_diags *d);
void gos_search_tape_free(gos_search_tape *t);
/* Weight elements read by the nodes of m. */
double gos_search_params(const gos_module *m);

#endif
