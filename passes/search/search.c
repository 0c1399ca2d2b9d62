/* search.c -- the search pass, gos_search_run: stage 1 (heavy nodes by the
 * target's cost model), the candidate pool, the search loop (NSGA-II with
 * predictor screening, or a baseline), the final checks on evaluation data.
 * search.h explains the pieces; evaluate.c scores genomes, nsga2.c ranks
 * them, predict.c screens them, report.c writes the result. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "support/alloc.h"
#include "passes/search/internal.h"

#include <cblas.h>

void gos_search_opts_default(gos_search_opts *o)
{
	memset(o, 0, sizeof *o);
	o->target = "host";
	o->max_drop = 1.0;
	o->budget_s = 600;
	o->max_nodes = 16;
	o->max_cands = 8;
	o->pop = 24;
	o->final_checks = 6;
	o->check_width = 2;
}

/* ---- the map: jobs here, or through the caller's distributed map ---- */

static int run_map(gos_search_ctx *c, int n, size_t size, gos_search_job job, void *out)
{
	if (n <= 0)
		return 0;
	if (c->o->map)
		return c->o->map(c->o->map_ctx, n, size, job, c, out);
	for (int j = 0; j < n; j++)
		if (job(c, j, (char *)out + (size_t)j * size))
			return -1;
	return 0;
}

/* Every job stamps its record with the time and the stop flag; decisions
 * are taken on the stamps (the same on every rank). */
static void stamp(gos_search_ctx *c, double *elapsed, double *stop)
{
	*elapsed = gos_search_now() - c->t0;
	*stop = c->o->stop && *c->o->stop;
}

static void observe(gos_search_ctx *c, double elapsed, double stop)
{
	if (elapsed > c->clock)
		c->clock = elapsed;
	if (stop)
		c->stopped = 1;
}

/* ---- stage 1 and the pool ------------------------------------------ */

typedef struct pool_rec {
	int n;
	struct {
		int rule, param, exact;
		double fr, err, dms;
	} v[GOS_SEARCH_MAX_CANDS];
	double elapsed, stop;
} pool_rec;

/* Whether a rule is one the search chooses (not the algebra that -O2
 * applies anyway). */
static int searchable(const gos_synth_rule *r)
{
	return !gos_synth_rule_always(r) && strcmp(r->name, "merge") != 0;
}

static int job_pool(void *ctx, int j, void *out)
{
	gos_search_ctx *c = ctx;
	pool_rec *pr = out;
	memset(pr, 0, sizeof *pr);
	const gos_search_node *sn = &c->r->node[j];
	if (gos_search_now() - c->t0 >= c->o->budget_s) { /* the run ends in an error anyway */
		stamp(c, &pr->elapsed, &pr->stop);
		return 0;
	}
	gos_diags tmp;
	gos_diags_init(&tmp);
	gos_synth_cand *v = NULL;
	int n = gos_synth_list(c->base, sn->node, &c->fit, &v, &tmp);
	int *keep = gos_calloc((size_t)(n > 0 ? n : 1), sizeof *keep);
	double *dms = gos_calloc((size_t)(n > 0 ? n : 1), sizeof *dms);
	for (int i = 0; keep && dms && i < n; i++) {
		if (!searchable(v[i].rule))
			continue;
		double err = v[i].exact ? 0 : v[i].err;
		if (!v[i].exact && !(err >= 0 && err < 0.9))
			continue;
		/* fitted candidates another fitted one beats in FLOPs saved and
		 * error are not worth a derivation (saved, not left: a channel
		 * rule's FLOPs count the producers it shrinks too) */
		int dom = 0;
		double si = v[i].flops_before - v[i].flops_after;
		for (int k = 0; k < n && !v[i].exact && !dom; k++) {
			double sk = v[k].flops_before - v[k].flops_after;
			dom = k != i && !v[k].exact && searchable(v[k].rule) && v[k].err >= 0 &&
			      sk >= si && v[k].err <= err && (sk > si || v[k].err < err);
		}
		if (dom)
			continue;
		gos_module *cm = gos_synth_apply(c->base, v[i].name, &c->fit, &tmp);
		double ms;
		if (cm && !gos_cost_predict(cm, &c->t, c->o->fitted, NAN, &ms, &tmp)) {
			dms[i] = ms - c->start_ms;
			keep[i] = dms[i] < -0.01 * sn->ms;
		}
		gos_module_free(cm);
	}
	/* options of the node: not beaten in both latency and error by another */
	int cand[256], nc = 0;
	for (int i = 0; keep && dms && i < n && nc < 256; i++) {
		if (!keep[i])
			continue;
		double ei = v[i].exact ? 0 : v[i].err;
		int dom = 0;
		for (int k = 0; k < n && !dom; k++) {
			double ek = v[k].exact ? 0 : v[k].err;
			dom = k != i && keep[k] && dms[k] <= dms[i] && ek <= ei &&
			      (dms[k] < dms[i] || ek < ei || k < i);
		}
		if (!dom)
			cand[nc++] = i;
	}
	/* by latency gain, best first; at most max_cands spread evenly */
	for (int a = 1; a < nc; a++)
		for (int b = a; b > 0 && dms[cand[b]] < dms[cand[b - 1]]; b--) {
			int t = cand[b];
			cand[b] = cand[b - 1];
			cand[b - 1] = t;
		}
	int want = c->o->max_cands < GOS_SEARCH_MAX_CANDS ? c->o->max_cands : GOS_SEARCH_MAX_CANDS;
	for (int k = 0; k < nc && pr->n < want; k++) {
		int i = cand[nc <= want ? k : (int)((double)k * (nc - 1) / (want - 1) + 0.5)];
		if (nc > want && k >= want)
			break;
		pr->v[pr->n].rule = (int)(v[i].rule - gos_synth_rules);
		pr->v[pr->n].param = v[i].param;
		pr->v[pr->n].exact = v[i].exact;
		pr->v[pr->n].fr = v[i].flops_before > 0 ? v[i].flops_after / v[i].flops_before : 1;
		pr->v[pr->n].err = v[i].exact ? 0 : v[i].err;
		pr->v[pr->n].dms = dms[i];
		pr->n++;
	}
	free(keep);
	free(dms);
	free(v);
	gos_diags_free(&tmp);
	stamp(c, &pr->elapsed, &pr->stop);
	return 0;
}

/* o->profile (the runner's per-node profile of the model on the target,
 * node names after -O1) read into ms[i] for node i of c->base: the
 * row's median, or 0 when no row names the node (the compiled model fused
 * it into another, whose row holds its time). Returns the rows that named
 * a node of c->base, or -1 with errors (file:line) in d: a profile of
 * another model, bad rows, or none naming a node here. */
static int read_profile(gos_search_ctx *c, double *ms, gos_diags *d)
{
	const char *path = c->o->profile;
	gos_module *m = gos_module_clone(c->orig);
	gos_pipeline_opts po = {1, 0, NULL, NULL};
	gos_cost_report rep = {0};
	gos_cost_prof_node *rows = NULL;
	int nrows = 0, hit = -1;
	double total;
	size_t len;
	char *text = NULL;
	if (!m) {
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
		return -1;
	}
	m->name = c->orig->name;
	if (gos_pipeline_run(m, &po, d) || gos_cost_analyze(m, &c->t, &rep, d) ||
	    !(text = gos_read_file(d, path, &len)))
		goto done;
	const char *file = gos_diags_source(d, path, text, len);
	if (gos_cost_profile_parse(file, text, len, m, &rep, &rows, &nrows, &total, d))
		goto done;
	for (int i = 0; i < c->base->n_node; i++)
		ms[i] = 0;
	hit = 0;
	for (int k = 0; k < nrows; k++) {
		const char *name = m->nodes[rows[k].node].name;
		for (int i = 0; i < c->base->n_node; i++)
			if (!strcmp(c->base->nodes[i].name, name)) {
				ms[i] = rows[k].measured_ms;
				hit++;
				break;
			}
	}
	if (!hit) {
		gos_error(d, (gos_loc){file, 0, 0},
		          "no row of the profile names a node of model '%s' (a profile of another "
		          "model?)",
		          c->base->name);
		hit = -1;
	}
done:
	free(rows);
	free(text);
	gos_cost_report_free(&rep);
	gos_module_free(m);
	return hit;
}

/* Stage 1: the nodes some searchable rule applies to, by the predicted
 * time their rules can reach (their own, plus for a channel reader the
 * producers pruning shrinks with it: a block's projection carries its
 * expansion, depthwise and squeeze-excite; for a gate, the branch that
 * freezing it removes), until 97% of their own time (or max_nodes), in
 * module order. */
static int pick_nodes(gos_search_ctx *c, gos_diags *d)
{
	gos_search_result *r = c->r;
	gos_cost_report rep;
	if (gos_cost_analyze(c->base, &c->t, &rep, d))
		return -1;
	/* the time ranking reads: predicted, or measured with a profile */
	double *own = gos_malloc(sizeof *own * (size_t)(c->base->n_node + 1));
	int hit = !own ? -1 : c->o->profile ? read_profile(c, own, d) : 0;
	if (hit < 0) {
		if (!own)
			gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
		free(own);
		gos_cost_report_free(&rep);
		return -1;
	}
	if (c->o->profile) {
		snprintf(r->profile, sizeof r->profile, "%s", c->o->profile);
		r->profile_nodes = hit;
	} else {
		for (int i = 0; i < c->base->n_node; i++)
			own[i] = rep.v[i].ms;
	}
	c->start_ms = 0;
	if (gos_cost_predict(c->base, &c->t, c->o->fitted, NAN, &c->start_ms, d)) {
		free(own);
		gos_cost_report_free(&rep);
		return -1;
	}
	int nn = c->base->n_node, *order = gos_malloc(sizeof *order * (size_t)(nn + 1)), no = 0;
	double total = 0, *reach = gos_calloc((size_t)(nn + 1), sizeof *reach);
	char *dead = gos_malloc((size_t)nn + 1); /* a gate's branch (freeze) */
	for (int i = 0; order && reach && dead && i < nn; i++) {
		int any = 0, vals[16];
		for (const gos_synth_rule *ru = gos_synth_rules; ru->name && !any; ru++)
			any = searchable(ru) && ru->params(c->base, i, vals, 16) > 0;
		if (!any || !rep.v[i].live)
			continue;
		order[no++] = i;
		total += own[i];
		reach[i] = own[i];
		gos_synth_chan cr;
		if (gos_synth_chan_region(c->base, i, 1, &cr, d)) {
			free(order);
			free(reach);
			free(dead);
			free(own);
			gos_cost_report_free(&rep);
			return -1;
		}
		for (int k = 0; k < cr.n; k++)
			reach[i] += own[cr.nodes[k]];
		gos_synth_chan_free(&cr);
		if (gos_synth_freeze_params(c->base, i, vals, 16) > 0) {
			gos_synth_freeze_branch(c->base, i, dead);
			for (int k = 0; k < nn; k++)
				reach[i] += dead[k] && k != i ? own[k] : 0;
		}
	}
	if (!order || !reach || !dead) {
		free(order);
		free(reach);
		free(dead);
		free(own);
		gos_cost_report_free(&rep);
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
		return -1;
	}
	free(dead);
	for (int a = 1; a < no; a++)
		for (int b = a; b > 0 && reach[order[b]] > reach[order[b - 1]]; b--) {
			int t = order[b];
			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	int lim = c->o->max_nodes < GOS_SEARCH_MAX_NODES ? c->o->max_nodes : GOS_SEARCH_MAX_NODES;
	double acc = 0;
	r->n_node = 0;
	for (int k = 0; k < no && r->n_node < lim && acc < 0.97 * total; k++) {
		acc += own[order[k]];
		r->node[r->n_node++].node = order[k];
	}
	for (int a = 1; a < r->n_node; a++)
		for (int b = a; b > 0 && r->node[b].node < r->node[b - 1].node; b--) {
			int t = r->node[b].node;
			r->node[b].node = r->node[b - 1].node;
			r->node[b - 1].node = t;
		}
	double all = rep.total_ms > 0 ? rep.total_ms : 1;
	for (int k = 0; k < r->n_node; k++) {
		gos_search_node *sn = &r->node[k];
		snprintf(sn->name, sizeof sn->name, "%s", c->base->nodes[sn->node].name);
		sn->ms = rep.v[sn->node].ms;
		sn->share = sn->ms / all;
		sn->n_opt = 1;
		snprintf(sn->opt[0].choice, sizeof sn->opt[0].choice, "keep");
		sn->opt[0].exact = 1;
		sn->opt[0].flops_ratio = 1;
	}
	free(order);
	free(reach);
	free(own);
	gos_cost_report_free(&rep);
	if (!r->n_node) {
		gos_error(d, (gos_loc){c->base->name, 0, 0},
		          "no node of the model has synthesised candidates to search over");
		return -1;
	}
	/* stages compared by CKA: results of heavy nodes spread over the model */
	int ns = r->n_node < 4 ? r->n_node : 4;
	r->n_stage = 0;
	for (int s = 0; s < ns; s++) {
		int k = (int)((double)(s + 1) * r->n_node / (ns + 1));
		const char *name = c->base->vals[c->base->nodes[r->node[k].node].out[0]].name;
		if (r->n_stage && !strcmp(r->stage[r->n_stage - 1], name))
			continue;
		snprintf(r->stage[r->n_stage++], sizeof r->stage[0], "%s", name);
	}
	return 0;
}

static int build_pool(gos_search_ctx *c, gos_diags *d)
{
	gos_search_result *r = c->r;
	pool_rec *pr = gos_calloc((size_t)r->n_node, sizeof *pr);
	if (!pr || run_map(c, r->n_node, sizeof *pr, job_pool, pr)) {
		free(pr);
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "building the candidate pool failed");
		return -1;
	}
	for (int k = 0; k < r->n_node; k++) {
		gos_search_node *sn = &r->node[k];
		observe(c, pr[k].elapsed, pr[k].stop);
		for (int i = 0; i < pr[k].n; i++) {
			const gos_synth_rule *ru = &gos_synth_rules[pr[k].v[i].rule];
			gos_search_opt *op = &sn->opt[sn->n_opt++];
			char ch[sizeof op->choice];
			if (ru->param)
				snprintf(ch, sizeof ch, "%s:%s=%d", ru->name, ru->param, pr[k].v[i].param);
			else
				snprintf(ch, sizeof ch, "%s", ru->name);
			memcpy(op->choice, ch, sizeof ch);
			snprintf(op->spec, sizeof op->spec, "%s/%s", sn->name, ch);
			op->exact = pr[k].v[i].exact;
			op->flops_ratio = pr[k].v[i].fr;
			op->err = pr[k].v[i].err;
			op->dms = pr[k].v[i].dms;
		}
	}
	free(pr);
	return 0;
}

/* ---- evaluations ------------------------------------------------------ */

typedef struct batch {
	int n;
	unsigned char (*g)[GOS_SEARCH_MAX_NODES];
	const gos_dataset *eval; /* final checks: measured there, both builds */
	int backoff;             /* the final checks' backoff steps: the budget
	                            was checked before the batch started */
} batch;

typedef struct final_rec {
	gos_search_rec cor; /* the sequentially refitted build */
} final_rec;

static batch *cur_batch(gos_search_ctx *c);

static int job_eval(void *ctx, int j, void *out)
{
	gos_search_ctx *c = ctx;
	gos_search_rec *rec = out;
	/* past the search's share of the budget (or once stopped), a batch's
	 * jobs after its first two are skipped: the first generation has no
	 * earlier one to plan with (a backoff step's budget was checked
	 * before it started) */
	int late = !cur_batch(c)->backoff &&
	           gos_search_now() - c->t0 >= (1 - GOS_SEARCH_RESERVE) * c->o->budget_s;
	if (j >= 2 && (late || (c->o->stop && *c->o->stop))) {
		memset(rec, 0, sizeof *rec);
		rec->top1 = NAN;
		rec->skipped = 1;
		stamp(c, &rec->elapsed, &rec->stop);
		return 0;
	}
	gos_diags tmp;
	gos_diags_init(&tmp);
	gos_module *cm = gos_search_build(c, cur_batch(c)->g[j], 0, &tmp);
	if (!cm || gos_search_score(c, cm, NULL, rec, &tmp)) {
		memset(rec, 0, sizeof *rec);
		rec->top1 = NAN;
	}
	gos_module_free(cm);
	gos_diags_free(&tmp);
	stamp(c, &rec->elapsed, &rec->stop);
	return 0;
}

static int job_final(void *ctx, int j, void *out)
{
	gos_search_ctx *c = ctx;
	final_rec *fr = out;
	const batch *b = cur_batch(c);
	gos_diags tmp;
	gos_diags_init(&tmp);
	gos_module *cm = gos_search_build(c, b->g[j], 1, &tmp);
	if (!cm || gos_search_score(c, cm, b->eval, &fr->cor, &tmp)) {
		memset(&fr->cor, 0, sizeof fr->cor);
		fr->cor.top1 = NAN;
	}
	/* kept for the choice (take_build; check_members empties the slots) */
	c->built[j] = fr->cor.ok ? cm : NULL;
	if (!c->built[j])
		gos_module_free(cm);
	gos_diags_free(&tmp);
	stamp(c, &fr->cor.elapsed, &fr->cor.stop);
	return 0;
}

/* The batch being evaluated (one search runs at a time per context). */
typedef struct ctx_ext {
	gos_search_ctx c;
	batch b;
} ctx_ext;
static batch *cur_batch(gos_search_ctx *c)
{
	return &((ctx_ext *)c)->b;
}

static int find_cand(const gos_search_result *r, const unsigned char *g)
{
	for (int i = 0; i < r->n_cand; i++)
		if (!memcmp(r->cand[i].g, g, (size_t)r->n_node))
			return i;
	return -1;
}

/* Objectives of candidate i: latency relative to the original, proxy
 * (+ the threshold penalty of a latency or speedup target). */
static void objectives(const gos_search_ctx *c, const gos_search_cand *k, double *f)
{
	const gos_search_result *r = c->r;
	if (!k->ok) {
		f[0] = f[1] = 10;
		return;
	}
	f[0] = k->ms / r->base_ms;
	f[1] = k->proxy;
	double thr = c->o->latency_ms > 0 ? c->o->latency_ms
	             : c->o->speedup > 0  ? r->base_ms / c->o->speedup
	                                  : 0;
	if (thr > 0 && k->ms > thr)
		f[1] += 10 * (k->ms - thr) / thr;
}

/* Evaluates the genomes of c's batch and appends them to the result. */
static int evaluate_batch(gos_search_ctx *c, int gen, const double *pred, gos_diags *d)
{
	batch *b = cur_batch(c);
	gos_search_result *r = c->r;
	gos_search_rec *rec = gos_calloc((size_t)b->n + 1, sizeof *rec);
	gos_search_cand *nc = gos_realloc(r->cand, sizeof *nc * (size_t)(r->n_cand + b->n + 1));
	if (!rec || !nc) {
		free(rec);
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
		return -1;
	}
	r->cand = nc;
	if (run_map(c, b->n, sizeof *rec, job_eval, rec)) {
		free(rec);
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "evaluating candidates failed");
		return -1;
	}
	for (int j = 0; j < b->n; j++) {
		observe(c, rec[j].elapsed, rec[j].stop);
		if (rec[j].skipped)
			continue;
		gos_search_cand *k = &r->cand[r->n_cand];
		memset(k, 0, sizeof *k);
		k->id = r->n_cand++;
		k->gen = gen;
		memcpy(k->g, b->g[j], sizeof k->g);
		k->ok = rec[j].ok != 0;
		k->ms = rec[j].ms;
		k->flops = rec[j].flops;
		k->params = rec[j].params;
		k->proxy = rec[j].proxy;
		k->dloss = rec[j].dloss;
		k->agree = rec[j].agree;
		memcpy(k->cka, rec[j].cka, sizeof k->cka);
		k->pred_proxy = pred ? pred[j] : NAN;
		k->top1 = k->drop_se = NAN;
		r->evals += gen != -2; /* the search proper's */
	}
	free(rec);
	return 0;
}

/* Predictor features of genome g: the reconstruction error of each node's
 * option (0 when kept or exact). */
static void features(const gos_search_ctx *c, const unsigned char *g, double *x)
{
	for (int i = 0; i < c->r->n_node; i++)
		x[i] = c->r->node[i].opt[g[i]].err;
}

static double additive_ms(const gos_search_ctx *c, const unsigned char *g)
{
	double ms = c->start_ms;
	for (int i = 0; i < c->r->n_node; i++)
		ms += c->r->node[i].opt[g[i]].dms;
	return ms;
}

/* The genome where every node takes, among its fitted options of at most
 * `ratio` FLOPs, the one of least error (kept when none): uniform
 * compression. */
static void uniform_genome(const gos_search_ctx *c, double ratio, unsigned char *g)
{
	for (int i = 0; i < c->r->n_node; i++) {
		const gos_search_node *sn = &c->r->node[i];
		int best = 0;
		for (int k = 1; k < sn->n_opt; k++)
			if (!sn->opt[k].exact && sn->opt[k].flops_ratio <= ratio + 1e-9 &&
			    (!best || sn->opt[k].err < sn->opt[best].err))
				best = k;
		g[i] = (unsigned char)best;
	}
}

static void random_genome(const gos_search_ctx *c, gos_rng *rng, unsigned char *g)
{
	double q = gos_rng_uniform(rng);
	for (int i = 0; i < c->r->n_node; i++) {
		int no = c->r->node[i].n_opt;
		g[i] = 0;
		if (no > 1 && gos_rng_uniform(rng) < q)
			g[i] = (unsigned char)(1 + gos_rng_next(rng) % (uint64_t)(no - 1));
	}
}

/* Binary tournament on (rank, crowding) among pop[0..np). */
static int tournament(gos_rng *rng, const int *pop, int np, const int *rank, const double *crowd)
{
	int a = (int)(gos_rng_next(rng) % (uint64_t)np), b = (int)(gos_rng_next(rng) % (uint64_t)np);
	if (rank[a] != rank[b])
		return pop[rank[a] < rank[b] ? a : b];
	return pop[crowd[a] >= crowd[b] ? a : b];
}

/* Keeps the best np of the candidates idx[0..n) by (rank, crowding) in
 * out; returns the count kept. */
static int survivors(const gos_search_ctx *c, const int *idx, int n, int np, int *out)
{
	double *f = gos_malloc(sizeof *f * (size_t)(2 * n + 2));
	int *rank = gos_malloc(sizeof *rank * (size_t)(n + 1));
	double *crowd = gos_malloc(sizeof *crowd * (size_t)(n + 1));
	int *ord = gos_malloc(sizeof *ord * (size_t)(n + 1));
	int kept = 0;
	if (f && rank && crowd && ord) {
		for (int i = 0; i < n; i++)
			objectives(c, &c->r->cand[idx[i]], &f[2 * i]);
		if (!gos_nsga2_rank(f, n, rank, crowd)) {
			for (int i = 0; i < n; i++)
				ord[i] = i;
			for (int a = 1; a < n; a++)
				for (int b = a; b > 0; b--) {
					int x = ord[b], y = ord[b - 1];
					if (rank[x] < rank[y] || (rank[x] == rank[y] && crowd[x] > crowd[y])) {
						ord[b] = y;
						ord[b - 1] = x;
					} else
						break;
				}
			for (int i = 0; i < n && kept < np; i++)
				out[kept++] = idx[ord[i]];
		}
	}
	free(f);
	free(rank);
	free(crowd);
	free(ord);
	return kept;
}

static void report_progress(gos_search_ctx *c, const char *phase)
{
	if (!c->o->progress)
		return;
	gos_search_progress p = {phase, c->r->evals, 1.0, c->clock, c->o->budget_s};
	for (int i = 0; i < c->r->n_cand; i++) {
		const gos_search_cand *k = &c->r->cand[i];
		if (k->ok && k->agree >= 100 - c->o->max_drop && k->ms > 0 &&
		    c->r->base_ms / k->ms > p.best_speedup)
			p.best_speedup = c->r->base_ms / k->ms;
	}
	c->o->progress(c->o->progress_ctx, &p);
}

/* Whether another round of `per` evaluations fits before the reserve for
 * the final checks. */
static int time_left(const gos_search_ctx *c, double round_s)
{
	const gos_search_opts *o = c->o;
	if (c->stopped || (o->max_evals > 0 && c->r->evals >= o->max_evals))
		return 0;
	double reserve = GOS_SEARCH_RESERVE * o->budget_s;
	return c->clock + round_s < o->budget_s - reserve;
}

/* The search loop: fills r->cand. */
static int search_loop(gos_search_ctx *c, gos_diags *d)
{
	const gos_search_opts *o = c->o;
	gos_search_result *r = c->r;
	batch *b = cur_batch(c);
	int np = o->pop > 4 ? o->pop : 4, per = np / 2;
	if (o->max_evals > 0 && per > o->max_evals)
		per = o->max_evals;
	int cap = 8 * np + 8;
	b->g = gos_calloc((size_t)cap, sizeof *b->g);
	int *pop = gos_malloc(sizeof *pop * (size_t)(cap + r->n_cand + 2 * np));
	double *pred = gos_malloc(sizeof *pred * (size_t)cap);
	if (!b->g || !pop || !pred) {
		free(pop);
		free(pred);
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
		return -1;
	}
	gos_rng rng;
	gos_rng_seed(&rng, o->seed ^ 0x5ea4c4ULL);
	int rc = 0, gen = -1, n_pop = 0;
	double round_s = 0;
	int uniform_levels = o->max_evals > 0 ? o->max_evals : 24, level = 0;
	while (!rc) {
		double t_start = c->clock;
		b->n = 0;
		int limit = o->max_evals > 0 ? o->max_evals - r->evals : cap;
		int want = gen < 0 ? np : per;
		if (want > limit)
			want = limit;
		if (want > cap)
			want = cap;
		int screened_here = 0;
		for (int j = 0; j < cap; j++)
			pred[j] = NAN;
		if (o->strategy == GOS_SEARCH_UNIFORM) {
			/* the ladder of ratios 1 .. 1/levels; the first genome keeps all */
			while (b->n < want && level < uniform_levels) {
				double ratio = 1.0 - (double)level / uniform_levels;
				unsigned char g[GOS_SEARCH_MAX_NODES] = {0};
				if (level > 0)
					uniform_genome(c, ratio, g);
				level++;
				if (find_cand(r, g) < 0) {
					int dup = 0;
					for (int k = 0; k < b->n && !dup; k++)
						dup = !memcmp(b->g[k], g, sizeof g);
					if (!dup)
						memcpy(b->g[b->n++], g, sizeof g);
				}
			}
		} else if (gen < 0 || o->strategy == GOS_SEARCH_RANDOM) {
			/* NSGA-II starts from the original and the uniform ladder (so
			 * its front is never below uniform compression's), the rest
			 * random; random search from random genomes only */
			int lv = 1;
			for (int tries = 0; b->n < want && tries < 50 * want; tries++) {
				unsigned char g[GOS_SEARCH_MAX_NODES] = {0};
				int k0 = b->n;
				if (o->strategy == GOS_SEARCH_RANDOM || lv >= np)
					random_genome(c, &rng, g);
				else if (k0 > 0)
					uniform_genome(c, 1.0 - (double)lv++ / np, g);
				if (o->strategy == GOS_SEARCH_RANDOM && r->n_cand == 0 && k0 == 0)
					memset(g, 0, sizeof g);
				if (find_cand(r, g) >= 0)
					continue;
				int dup = 0;
				for (int k = 0; k < b->n && !dup; k++)
					dup = !memcmp(b->g[k], g, sizeof g);
				if (!dup)
					memcpy(b->g[b->n++], g, sizeof g);
			}
		} else {
			/* NSGA-II offspring of the population; with a predictor, 4x as
			 * many are generated and the most promising are evaluated */
			int *rank = gos_malloc(sizeof *rank * (size_t)(n_pop + 1));
			double *crowd = gos_malloc(sizeof *crowd * (size_t)(n_pop + 1));
			double *f = gos_malloc(sizeof *f * (size_t)(2 * n_pop + 2));
			gos_predictor prd = {0};
			int use_pred = 0;
			if (!o->no_predictor) {
				int no = 0, p = r->n_node;
				double *X = gos_malloc(sizeof *X * (size_t)(r->n_cand * p + 1));
				double *y = gos_malloc(sizeof *y * (size_t)(r->n_cand + 1));
				for (int i = 0; X && y && i < r->n_cand; i++)
					if (r->cand[i].ok) {
						features(c, r->cand[i].g, &X[no * p]);
						y[no++] = r->cand[i].proxy;
					}
				double mape = NAN;
				if (X && y && !gos_predictor_choose(&prd, X, y, no, p, &mape)) {
					use_pred = 1;
					r->predictor_used = prd.kind;
					r->predictor_mape = mape;
				}
				free(X);
				free(y);
			}
			int gen_n = use_pred ? 4 * want : want;
			if (gen_n > cap)
				gen_n = cap;
			if (rank && crowd && f) {
				for (int i = 0; i < n_pop; i++)
					objectives(c, &r->cand[pop[i]], &f[2 * i]);
				gos_nsga2_rank(f, n_pop, rank, crowd);
			}
			for (int tries = 0; rank && crowd && f && b->n < gen_n && tries < 50 * gen_n;
			     tries++) {
				const gos_search_cand *pa = &r->cand[tournament(&rng, pop, n_pop, rank, crowd)];
				const gos_search_cand *pb = &r->cand[tournament(&rng, pop, n_pop, rank, crowd)];
				unsigned char g[GOS_SEARCH_MAX_NODES] = {0};
				for (int i = 0; i < r->n_node; i++) {
					g[i] = gos_rng_uniform(&rng) < 0.5 ? pa->g[i] : pb->g[i];
					int no = r->node[i].n_opt;
					if (no > 1 && gos_rng_uniform(&rng) < 1.0 / r->n_node)
						g[i] = (unsigned char)(gos_rng_next(&rng) % (uint64_t)no);
				}
				if (find_cand(r, g) >= 0)
					continue;
				int dup = 0;
				for (int k = 0; k < b->n && !dup; k++)
					dup = !memcmp(b->g[k], g, sizeof g);
				if (!dup)
					memcpy(b->g[b->n++], g, sizeof g);
			}
			if (use_pred && b->n > want) {
				/* screen: rank the offspring on predicted objectives */
				int n = b->n;
				double *pf = gos_malloc(sizeof *pf * (size_t)(2 * n + 2));
				int *pr = gos_malloc(sizeof *pr * (size_t)(n + 1));
				double *pc = gos_malloc(sizeof *pc * (size_t)(n + 1));
				int *ord = gos_malloc(sizeof *ord * (size_t)(n + 1));
				if (pf && pr && pc && ord) {
					for (int j = 0; j < n; j++) {
						double x[GOS_SEARCH_MAX_NODES];
						features(c, b->g[j], x);
						pf[2 * j] = additive_ms(c, b->g[j]) / r->base_ms;
						pf[2 * j + 1] = pred[j] = gos_predictor_eval(&prd, x);
					}
					gos_nsga2_rank(pf, n, pr, pc);
					for (int j = 0; j < n; j++)
						ord[j] = j;
					for (int a = 1; a < n; a++)
						for (int q = a; q > 0; q--) {
							int x = ord[q], y = ord[q - 1];
							if (pr[x] < pr[y] || (pr[x] == pr[y] && pc[x] > pc[y])) {
								ord[q] = y;
								ord[q - 1] = x;
							} else
								break;
						}
					unsigned char (*keep)[GOS_SEARCH_MAX_NODES] =
					    gos_malloc(sizeof *keep * (size_t)want);
					double *kp = gos_malloc(sizeof *kp * (size_t)want);
					if (keep && kp) {
						for (int j = 0; j < want; j++) {
							memcpy(keep[j], b->g[ord[j]], sizeof keep[j]);
							kp[j] = pred[ord[j]];
						}
						memcpy(b->g, keep, sizeof *keep * (size_t)want);
						memcpy(pred, kp, sizeof *kp * (size_t)want);
						screened_here = n - want;
						b->n = want;
					}
					free(keep);
					free(kp);
				}
				free(pf);
				free(pr);
				free(pc);
				free(ord);
			}
			gos_predictor_free(&prd);
			free(rank);
			free(crowd);
			free(f);
			if (!use_pred)
				screened_here = -1;
		}
		if (b->n == 0)
			break;
		if (evaluate_batch(c, gen, screened_here >= 0 && o->strategy == GOS_SEARCH_NSGA2 &&
		                                gen >= 0 ? pred : NULL, d)) {
			rc = -1;
			break;
		}
		if (screened_here > 0)
			r->screened += screened_here;
		/* (mu + lambda): the population and the new ones, the best np kept */
		int *all = gos_malloc(sizeof *all * (size_t)(n_pop + b->n + 1));
		if (!all) {
			rc = -1;
			break;
		}
		int na = 0;
		for (int i = 0; i < n_pop; i++)
			all[na++] = pop[i];
		for (int i = r->n_cand - b->n; i < r->n_cand; i++)
			all[na++] = i;
		n_pop = survivors(c, all, na, np, pop);
		free(all);
		gen++;
		report_progress(c, "search");
		round_s = c->clock - t_start;
		if (!time_left(c, round_s))
			break;
	}
	free(pop);
	free(pred);
	free(b->g);
	b->g = NULL;
	b->n = 0;
	return rc;
}

/* Final checks of members kc[0..n) (n at most GOS_SEARCH_MAX_WIDTH), run
 * as one batch: each rebuilt with sequential error correction and measured
 * on the evaluation data; pass[i] says whether kc[i] stays within
 * max_drop. Starts only when n times the longest time a member has
 * taken so far (*last, updated here; checks: how many ran) still fits
 * the budget. Returns 0, 2 when there was no time to run it, or -1 on
 * error. */
static int check_members(gos_search_ctx *c, gos_search_cand *const *kc, int n, int checks,
                         double *last, int *pass)
{
	batch *b = cur_batch(c);
	if (checks > 0 && (c->stopped || c->clock + *last * n > c->o->budget_s))
		return 2;
	double t_start = c->clock;
	final_rec rec[GOS_SEARCH_MAX_WIDTH];
	for (int i = 0; i < GOS_SEARCH_MAX_WIDTH; i++) { /* the last round's */
		gos_module_free(c->built[i]);
		c->built[i] = NULL;
	}
	for (int i = 0; i < n; i++)
		memcpy(b->g[i], kc[i]->g, sizeof b->g[0]);
	b->n = n;
	if (run_map(c, n, sizeof rec[0], job_final, rec))
		return -1;
	for (int i = 0; i < n; i++) {
		observe(c, rec[i].cor.elapsed, rec[i].cor.stop);
		if (rec[i].cor.ok) {
			kc[i]->top1 = rec[i].cor.top1;
			kc[i]->drop_se = rec[i].cor.drop_se;
			kc[i]->corrected = 1;
			kc[i]->ms = rec[i].cor.ms;
			kc[i]->flops = rec[i].cor.flops;
			kc[i]->params = rec[i].cor.params;
		}
		pass[i] = rec[i].cor.ok && c->r->base_top1 - rec[i].cor.top1 <= c->o->max_drop;
	}
	/* the longest a member has taken so far: a round of two members
	 * after one of one, or a slower member, must still fit */
	*last = fmax(*last, (c->clock - t_start) / n);
	report_progress(c, "final");
	return 0;
}

/* Makes candidate `cand`, checked as job `job` of the last batch, the
 * choice. That job's build, when this process ran it, becomes the kept
 * one, so the choice is not built twice; else nothing is kept (an MPI
 * rank other than the one that ran it builds the choice again at the
 * end). */
static void take_build(gos_search_ctx *c, int job, int cand)
{
	c->r->chosen = cand;
	gos_module_free(c->kept);
	c->kept = c->built[job];
	c->built[job] = NULL;
}

/* Whether checked member k, within max_drop and faster than the choice,
 * replaces it: not when it is less accurate and less than GOS_SEARCH_TIE
 * faster (a near tie goes to accuracy). */
static int prefer(const gos_search_ctx *c, const gos_search_cand *k)
{
	const gos_search_cand *ch = c->r->chosen >= 0 ? &c->r->cand[c->r->chosen] : NULL;
	return !ch || k->ms < ch->ms * (1 - GOS_SEARCH_TIE) || k->top1 >= ch->top1;
}

/* The option of node sn one notch more accurate than option k: of those
 * with less error (keep has none), the one with the most, the faster on a
 * tie; -1 when k keeps the node. */
static int notch_back(const gos_search_node *sn, int k)
{
	if (k <= 0)
		return -1;
	int best = 0;
	for (int j = 1; j < sn->n_opt; j++) {
		const gos_search_opt *q = &sn->opt[j], *b = &sn->opt[best];
		if (q->err < sn->opt[k].err &&
		    (q->err > b->err || (q->err == b->err && q->dms < b->dms)))
			best = j;
	}
	return best;
}

/* Accuracy-aware backoff, as NNCF's accuracy-aware quantisation reverts
 * layers: a checked member faster than the choice that missed max_drop
 * by at most GOS_SEARCH_BACKOFF_MARGIN gives back one notch of one node
 * (notch_back). Every such variant is scored by the proxy (one batch);
 * the unchecked one that regains the most proxy per millisecond given
 * back, and stays faster than the choice, is checked. A pass becomes the
 * choice. The member backed off, *cur, is the fastest such miss (when
 * *cur is -1 or no longer faster than the choice), or the last variant
 * when it missed by less than its parent did. A step starts only when
 * the longest check so far still fits the budget (the variants
 * take less than a check), and its check only when it still does after
 * the variants. Returns 1 after a check, 0 when there was nothing to
 * check or no time, or -1 on error. */
static int backoff_step(gos_search_ctx *c, int *cur, int *checks, double *last, gos_diags *d)
{
	gos_search_result *r = c->r;
	const gos_search_opts *o = c->o;
	batch *b = cur_batch(c);
	double cms = r->chosen >= 0 ? r->cand[r->chosen].ms : INFINITY;
	if (c->stopped || c->clock + *last > o->budget_s)
		return 0;
	if (*cur < 0 || r->cand[*cur].ms >= cms) {
		*cur = -1;
		for (int i = 0; i < r->n_cand; i++) {
			const gos_search_cand *k = &r->cand[i];
			double drop = r->base_top1 - k->top1;
			if (k->corrected && k->ms < cms && drop > o->max_drop &&
			    drop <= o->max_drop + GOS_SEARCH_BACKOFF_MARGIN &&
			    (*cur < 0 || k->ms < r->cand[*cur].ms))
				*cur = i;
		}
	}
	if (*cur < 0)
		return 0;
	unsigned char g0[GOS_SEARCH_MAX_NODES];
	memcpy(g0, r->cand[*cur].g, sizeof g0);
	int var[GOS_SEARCH_MAX_NODES], nv = 0, n0 = r->n_cand;
	b->n = 0;
	for (int i = 0; i < r->n_node; i++) {
		int back = notch_back(&r->node[i], g0[i]);
		if (back < 0)
			continue;
		memcpy(b->g[b->n], g0, sizeof b->g[0]);
		b->g[b->n][i] = (unsigned char)back;
		int k = find_cand(r, b->g[b->n]);
		if (k >= 0)
			var[nv++] = k;
		else
			b->n++;
	}
	b->backoff = 1;
	int rc = b->n ? evaluate_batch(c, -2, NULL, d) : 0;
	b->backoff = 0;
	if (rc)
		return -1;
	for (int k = n0; k < r->n_cand; k++)
		var[nv++] = k;
	const gos_search_cand *f = &r->cand[*cur];
	int best = -1;
	double best_gain = 0;
	for (int v = 0; v < nv; v++) {
		const gos_search_cand *q = &r->cand[var[v]];
		if (!q->ok || q->corrected || q->ms >= cms || q->proxy >= f->proxy)
			continue;
		double gain = (f->proxy - q->proxy) / fmax(q->ms - f->ms, 1e-9);
		if (best < 0 || gain > best_gain)
			best = var[v], best_gain = gain;
	}
	if (best < 0)
		return 0;
	gos_search_cand *kc = &r->cand[best];
	int pass;
	int run = check_members(c, &kc, 1, *checks, last, &pass);
	if (run < 0)
		return -1;
	if (run > 1)
		return 0;
	(*checks)++;
	if (pass) {
		if (prefer(c, kc))
			take_build(c, 0, best);
		*cur = -1;
	} else if (kc->top1 > f->top1) {
		*cur = best; /* closer: back it off further */
	}
	return 1;
}

/* The final checks: front members rebuilt with sequential error
 * correction and measured on eval; the fastest within max_drop found by
 * bisection along latency is chosen.
 * With a latency target, up to final_checks members spread over latency,
 * those meeting it first, most accurate by the proxy first; the first
 * within max_drop is chosen. A check starts only when the longest one
 * so far (per member) still fits the budget. */
static int final_checks(gos_search_ctx *c, const gos_dataset *eval, gos_diags *d)
{
	const gos_search_opts *o = c->o;
	gos_search_result *r = c->r;
	int n = r->n_cand;
	double *f = gos_malloc(sizeof *f * (size_t)(2 * n + 2));
	int *rank = gos_malloc(sizeof *rank * (size_t)(n + 1));
	double *crowd = gos_malloc(sizeof *crowd * (size_t)(n + 1));
	int *fr = gos_malloc(sizeof *fr * (size_t)(n + 1));
	int *pick = gos_malloc(sizeof *pick * (size_t)(n + 1));
	char *checked = gos_calloc((size_t)(n + 1), 1); /* by position in pick */
	batch *b = cur_batch(c);
	int rc = -1, nf = 0;
	/* check rounds, and backoff steps (a variant per node) */
	b->g = gos_calloc(GOS_SEARCH_MAX_NODES > GOS_SEARCH_MAX_WIDTH ? GOS_SEARCH_MAX_NODES
	                                                              : GOS_SEARCH_MAX_WIDTH,
	                  sizeof *b->g);
	if (!f || !rank || !crowd || !fr || !pick || !checked || !b->g)
		goto done;
	for (int i = 0; i < n; i++)
		objectives(c, &r->cand[i], &f[2 * i]);
	if (gos_nsga2_rank(f, n, rank, crowd))
		goto done;
	double thr = o->latency_ms > 0 ? o->latency_ms : o->speedup > 0 ? r->base_ms / o->speedup : 0;
	/* with a latency target, members the proxy batch rules out are not
	 * checked; bisection takes every member (sequential error correction
	 * recovers far more than the proxy's independent fits suggest) */
	for (int i = 0; i < n; i++)
		if (rank[i] == 0 && r->cand[i].ok) {
			r->cand[i].front = 1;
			if (thr <= 0 || !eval || r->cand[i].agree >= 100 - 3 * o->max_drop - 1)
				fr[nf++] = i;
		}
	for (int a = 1; a < nf; a++)
		for (int q = a; q > 0 && r->cand[fr[q]].ms < r->cand[fr[q - 1]].ms; q--) {
			int t = fr[q];
			fr[q] = fr[q - 1];
			fr[q - 1] = t;
		}
	/* bisection (below) needs every member; checking in order, the
	 * final_checks members spread over latency */
	int nk = thr > 0 && nf > o->final_checks ? o->final_checks : nf;
	for (int k = 0; k < nk; k++)
		pick[k] = fr[nk == nf || nk < 2 ? k : (int)((double)k * (nf - 1) / (nk - 1) + 0.5)];
	if (thr > 0) /* those meeting the target first, the most accurate (proxy) of them first */
		for (int a = 1; a < nk; a++)
			for (int q = a; q > 0; q--) {
				const gos_search_cand *x = &r->cand[pick[q]], *y = &r->cand[pick[q - 1]];
				int xm = x->ms <= thr, ym = y->ms <= thr;
				if (xm > ym || (xm && ym && x->proxy < y->proxy)) {
					int t = pick[q];
					pick[q] = pick[q - 1];
					pick[q - 1] = t;
				} else
					break;
			}
	r->chosen = -1;
	b->eval = eval;
	double last = 0;
	/* Without a latency target the members are checked by bisection along
	 * latency: the drop grows, roughly, with the speedup, so the fastest
	 * member within max_drop is found in log2(nk) checks (lo..hi: the
	 * members still open, fastest first; a pass moves hi below it, a
	 * failure lo above it). With a target, in the order above. */
	int lo = 0, hi = nk - 1, checks = 0, cut = 0;
	while (lo <= hi) {
		int k = thr > 0 || !eval ? lo : (lo + hi) / 2;
		gos_search_cand *kc = &r->cand[pick[k]];
		int pass;
		if (!eval) {
			pass = 100 - kc->agree <= o->max_drop;
		} else {
			int run = check_members(c, &kc, 1, checks, &last, &pass);
			if (run < 0)
				goto done;
			if (run > 1) {
				r->interrupted = cut = 1;
				break;
			}
			checked[k] = 1;
			checks++;
			if (pass && (thr > 0 || prefer(c, kc)))
				take_build(c, 0, pick[k]);
		}
		if (thr > 0 || !eval) {
			if (pass) {
				r->chosen = pick[k];
				break;
			}
			lo++;
		} else if (pass) {
			hi = k - 1;
		} else {
			lo = k + 1;
		}
	}
	/* the drop grows with the speedup only roughly (front members next
	 * to each other differ by a few tenths of a point after correction),
	 * so while time allows, up to GOS_SEARCH_EXTRA_CHECKS rounds check
	 * unchecked members faster than the chosen one as well, the best by
	 * the proxy first, check_width per round (a distributed map runs
	 * them at once); the fastest within max_drop is chosen */
	int width = o->check_width < 1 ? 1 : o->check_width > GOS_SEARCH_MAX_WIDTH ? GOS_SEARCH_MAX_WIDTH
	                                                                           : o->check_width;
	/* and, after each round, a step of accuracy-aware backoff
	 * (backoff_step) while a member faster than the choice missed by a
	 * little */
	int cur = -1, steps = 0;
	/* (unless the bisection ran out of time or a stop came: a search
	 * proper that used its share of the budget, r->interrupted, leaves
	 * the reserve to the checks, and each check and step checks the
	 * time itself) */
	for (int x = 0; eval && thr <= 0 && !c->stopped && !cut &&
	                (x < GOS_SEARCH_EXTRA_CHECKS || steps < GOS_SEARCH_BACKOFF_STEPS);) {
		if (x >= GOS_SEARCH_EXTRA_CHECKS) {
			int st = backoff_step(c, &cur, &checks, &last, d);
			if (st < 0)
				goto done;
			if (!st)
				break;
			steps++;
			continue;
		}
		double cms = r->chosen >= 0 ? r->cand[r->chosen].ms : INFINITY;
		int sel[GOS_SEARCH_MAX_WIDTH], ns = 0, pass[GOS_SEARCH_MAX_WIDTH];
		gos_search_cand *kcs[GOS_SEARCH_MAX_WIDTH];
		while (ns < width) {
			int best = -1;
			for (int k = 0; k < nk; k++) {
				const gos_search_cand *q = &r->cand[pick[k]];
				if (!checked[k] && q->ms < cms &&
				    (best < 0 || q->proxy < r->cand[pick[best]].proxy))
					best = k;
			}
			if (best < 0)
				break;
			checked[best] = 1; /* (not taken twice) */
			sel[ns] = best;
			kcs[ns++] = &r->cand[pick[best]];
		}
		if (!ns) { /* every faster member checked: backoff only */
			x = GOS_SEARCH_EXTRA_CHECKS;
			continue;
		}
		int run = check_members(c, kcs, ns, checks, &last, pass);
		if (run < 0)
			goto done;
		if (run > 1)
			break;
		checks += ns;
		x++;
		int won = -1;
		for (int i = 0; i < ns; i++)
			if (pass[i] && (won < 0 || kcs[i]->ms < kcs[won]->ms))
				won = i;
		if (won >= 0 && prefer(c, kcs[won]))
			take_build(c, won, pick[sel[won]]);
		if (steps < GOS_SEARCH_BACKOFF_STEPS) {
			int st = backoff_step(c, &cur, &checks, &last, d);
			if (st < 0)
				goto done;
			steps += st;
		}
	}
	rc = 0;
	if (r->chosen >= 0) {
		gos_search_cand *kc = &r->cand[r->chosen];
		if (c->kept) { /* its checked build */
			r->adapted = c->kept;
			c->kept = NULL;
		} else {
			r->adapted = gos_search_build(c, kc->g, eval ? 1 : 0, d);
		}
		r->chosen_top1 = kc->top1;
		r->chosen_drop_se = kc->drop_se;
		r->tuned = r->recon && kc->corrected && r->adapted && gos_synth_tune_applies(r->adapted);
		rc = r->adapted ? 0 : -1;
	} else {
		r->adapted = gos_module_clone(c->orig);
		r->chosen_top1 = r->base_top1;
		rc = r->adapted ? 0 : -1;
	}
	if (r->adapted) /* its own copy of the name: it outlives the caller's m */
		r->adapted->name = gos_arena_strdup(r->adapted->arena, c->base->name);
	if (r->adapted && !r->adapted->name)
		rc = -1;
done:
	if (rc)
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "the final checks failed");
	free(f);
	free(rank);
	free(crowd);
	free(fr);
	free(pick);
	free(checked);
	free(b->g);
	b->g = NULL;
	return rc;
}

/* Checks the calibration and evaluation data against the model. */
static int check_data(gos_search_ctx *c, const gos_dataset *calib, const gos_dataset *eval,
                      gos_diags *d)
{
	gos_loc loc = {calib ? calib->name : c->base->name, 0, 0};
	if (!calib || calib->n < 16) {
		gos_error(d, loc, "the search needs at least 16 calibration images (-calib=DATA:N)");
		return -1;
	}
	int64_t ns = 0;
	if (gos_capture_inputs(c->base, calib, &c->in, &ns, d))
		return -1;
	const gos_value *iv = NULL;
	for (int v = 0; v < c->base->n_val && !iv; v++)
		if (c->base->vals[v].kind == GOS_VAL_INPUT)
			iv = &c->base->vals[v];
	c->numel = gos_numel(iv->rank, iv->shape);
	c->rows_per = calib->n / ns;
	/* the proxy scores on the first batch; the rest fit, the search's
	 * fits on the first fit.n of them (so the search does not depend on
	 * how many more the final checks get) */
	c->n_prx = ns / 2 < GOS_SEARCH_PROXY_MAX ? ns - ns / 2 : GOS_SEARCH_PROXY_MAX;
	c->n_fit = ns - c->n_prx;
	c->fit.n = c->n_fit < GOS_SEARCH_POOL_FIT ? c->n_fit : GOS_SEARCH_POOL_FIT;
	c->r->n_fit = c->n_fit, c->r->n_prx = c->n_prx, c->r->n_pool = c->fit.n;
	if (c->n_fit < 8) {
		gos_error(d, loc, "the search needs at least 16 calibration samples (the model takes %lld images per sample)",
		          (long long)c->rows_per);
		return -1;
	}
	c->prx_y = calib->y;
	const gos_value *ov = &c->base->vals[c->base->outputs[0]];
	int64_t K = gos_numel(ov->rank, ov->shape) / c->rows_per;
	const gos_dataset *sets[2] = {calib, eval};
	for (int s = 0; s < 2; s++) {
		if (!sets[s])
			continue;
		for (int64_t i = 0; i < sets[s]->n; i++)
			if (sets[s]->y[i] < 0 || sets[s]->y[i] >= K) {
				gos_error(d, (gos_loc){sets[s]->name, 0, 0},
				          "label %d of image %lld is beyond the model's %lld classes",
				          (int)sets[s]->y[i], (long long)i, (long long)K);
				return -1;
			}
		if (s == 1 && (sets[1]->c != calib->c || sets[1]->h != calib->h || sets[1]->w != calib->w)) {
			gos_error(d, (gos_loc){sets[1]->name, 0, 0},
			          "evaluation images are %dx%dx%d, calibration images %dx%dx%d", sets[1]->c,
			          sets[1]->h, sets[1]->w, calib->c, calib->h, calib->w);
			return -1;
		}
	}
	return 0;
}

/* The fit half's activations of every heavy node's input and result,
 * the value flooring that result (a residual sum's other term), and of
 * the side readers its pruning refits (a squeeze-excite FC). */
static int record_fit(gos_search_ctx *c, gos_diags *d)
{
	enum { MAX_NAMES = 8 * GOS_SEARCH_MAX_NODES };
	const char *names[MAX_NAMES];
	int nn = 0;
	const gos_module *b = c->base;
	for (int k = 0; k < c->r->n_node; k++) {
		const gos_node *n = &b->nodes[c->r->node[k].node];
		names[nn++] = b->vals[n->in[0]].name;
		names[nn++] = b->vals[n->out[0]].name;
		int fv = gos_synth_residual_value(b, c->r->node[k].node), dup = 0;
		for (int j = 0; fv >= 0 && j < nn; j++)
			dup |= !strcmp(names[j], b->vals[fv].name);
		if (fv >= 0 && !dup) /* the other term of its residual sum (y + s: s) */
			names[nn++] = b->vals[fv].name;
		gos_synth_chan r;
		if (gos_synth_chan_region(b, c->r->node[k].node, 1, &r, d))
			return -1;
		for (int i = 0; i < r.n && nn + 2 <= MAX_NAMES; i++)
			if (r.leaf[i] == GOS_SYNTH_CHAN_SIDE) {
				const gos_node *sn = &b->nodes[r.nodes[i]];
				names[nn++] = b->vals[sn->in[0]].name;
				names[nn++] = b->vals[sn->out[0]].name;
			}
		gos_synth_chan_free(&r);
	}
	gos_engine_opts eo = gos_search_engine_opts(c, c->n_fit);
	if (gos_capture_run(c->base, nn, names, &eo, c->n_fit, c->fit.in, &c->fit_acts, d))
		return -1;
	c->fit.acts = &c->fit_acts;
	return 0;
}

/* Stage 0: gates that barely vary over the fit half (a squeeze-excite
 * block that learnt a constant; `freeze` error below
 * GOS_SEARCH_FREEZE_TOL) are frozen in the base every candidate starts
 * from; r->pre lists them. */
static int freeze_gates(gos_search_ctx *c, gos_diags *d)
{
	gos_search_result *r = c->r;
	const gos_module *b = c->base; /* freed here once a frozen copy replaces it */
	int *gate = gos_malloc(sizeof *gate * (size_t)(b->n_node + 1));
	const char **names = gos_malloc(sizeof *names * (size_t)(b->n_node + 1));
	gos_capture cap = {0};
	int ng = 0, rc = -1;
	if (!gate || !names) {
		gos_error(d, (gos_loc){b->name, 0, 0}, "out of memory");
		goto done;
	}
	for (int i = 0; i < b->n_node; i++) {
		int vals[1];
		if (gos_synth_freeze_params(b, i, vals, 1)) {
			gate[ng] = i;
			names[ng++] = b->vals[b->nodes[i].out[0]].name;
		}
	}
	gos_engine_opts eo = gos_search_engine_opts(c, c->fit.n);
	if (ng && gos_capture_run(b, ng, names, &eo, c->fit.n, c->fit.in, &cap, d))
		goto done;
	gos_synth_calib cal = c->fit;
	cal.acts = &cap;
	/* frozen one at a time, in module order (a gate inside an earlier
	 * one's branch is gone with it) */
	for (int k = 0; k < ng && r->n_pre < GOS_SEARCH_MAX_PRE; k++) {
		const char *node = b->nodes[gate[k]].name;
		double err = gos_synth_freeze_error(b, b->nodes[gate[k]].out[0], c->fit.n, cap.t[k].data);
		int w = snprintf(r->pre[r->n_pre], sizeof r->pre[0], "%s/freeze", node), there = 0;
		for (int i = 0; i < c->base->n_node && !there; i++)
			there = !strcmp(c->base->nodes[i].name, node);
		if (!(err >= 0 && err < GOS_SEARCH_FREEZE_TOL) || w < 0 ||
		    (size_t)w >= sizeof r->pre[0] || !there)
			continue;
		gos_module *nb = gos_synth_apply(c->base, r->pre[r->n_pre], &cal, d);
		if (!nb)
			goto done;
		nb->name = b->name;
		if (c->base != b)
			gos_module_free(c->base);
		c->base = nb;
		r->pre_err[r->n_pre++] = err;
	}
	rc = 0;
done:
	if (c->base != b)
		gos_module_free((gos_module *)b);
	gos_capture_free(&cap);
	free(gate);
	free(names);
	return rc;
}

static int search_run(const gos_module *m, const gos_dataset *calib, const gos_dataset *eval,
                      const gos_search_opts *opts, gos_search_result *r, gos_diags *d)
{
	memset(r, 0, sizeof *r);
	r->chosen = -1;
	r->base_top1 = r->chosen_top1 = r->chosen_drop_se = NAN;
	ctx_ext *x = gos_calloc(1, sizeof *x);
	gos_loc loc = {m->name, 0, 0};
	if (!x) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	gos_search_ctx *c = &x->c;
	c->o = opts;
	c->r = r;
	c->t0 = gos_search_now();
	r->strategy = opts->strategy;
	r->recon = !opts->no_recon;
	snprintf(r->model, sizeof r->model, "%s", m->name ? m->name : "model");
	int rc = -1;
	const float **fin = gos_malloc(sizeof *fin);
	if (!fin)
		goto done;
	if (gos_cost_target_load(&c->t, opts->target, d))
		goto done;
	snprintf(r->target, sizeof r->target, "%s", c->t.name);
	c->orig = gos_module_clone(m);
	if (!c->orig || gos_module_materialize(c->orig, d))
		goto done;
	c->orig->name = m->name;
	c->base = gos_module_clone(c->orig);
	if (!c->base) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	c->base->name = m->name;
	if (gos_cost_predict(c->orig, &c->t, opts->fitted, NAN, &r->base_ms, d))
		goto done;
	if (check_data(c, calib, eval, d))
		goto done;
	fin[0] = c->in + c->n_prx * c->numel;
	c->fit.in = fin;
	if (opts->progress) {
		gos_search_progress p = {"profile", 0, 1.0, 0, opts->budget_s};
		opts->progress(opts->progress_ctx, &p);
	}
	/* stage 0 (frozen gates), stage 1, the original's activations, the pool */
	if (freeze_gates(c, d) || pick_nodes(c, d) || record_fit(c, d) || gos_search_proxy_init(c, d))
		goto done;
	r->base_flops = gos_flops(c->orig);
	r->base_params = gos_search_params(c->orig);
	int64_t rows = c->n_prx * c->rows_per, hit = 0;
	for (int64_t i = 0; i < rows; i++)
		hit += c->base_pred[i] == c->prx_y[i];
	r->base_calib_top1 = 100.0 * (double)hit / (double)(rows ? rows : 1);
	report_progress(c, "pool");
	if (build_pool(c, d))
		goto done;
	c->clock = gos_search_now() - c->t0; /* (rank 0's view is in the records) */
	r->seconds_pool = c->clock;
	if (c->clock >= opts->budget_s) {
		gos_error(d, loc,
		          "budget too small: stage 1 and the candidate pool took %.0f s of the %.0f s "
		          "budget, before any candidate was evaluated (-budget=)",
		          c->clock, opts->budget_s);
		goto done;
	}
	if (search_loop(c, d))
		goto done;
	r->interrupted = c->stopped || c->clock >= opts->budget_s * (1 - GOS_SEARCH_RESERVE);
	/* the original on the evaluation data (the reference for max_drop) */
	if (eval) {
		gos_engine_opts eo = {"host", opts->threads, -1};
		gos_engine *e = gos_engine_new(c->orig, &eo, d);
		gos_eval_result er;
		if (!e || gos_eval_run(e, eval, NULL, &er, d)) {
			gos_engine_free(e);
			goto done;
		}
		r->base_top1 = 100.0 * (double)er.top1 / (double)(er.n ? er.n : 1);
		c->eval_pred = er.pred; /* the reference of each check's changes */
		c->n_eval = er.n;
		er.pred = NULL;
		gos_eval_result_free(&er);
		gos_engine_free(e);
	}
	double tf = c->clock;
	report_progress(c, "final");
	if (final_checks(c, eval, d))
		goto done;
	r->seconds_final = c->clock - tf;
	/* hypervolume of everything evaluated, in (latency ratio, proxy) up to (1, 1) */
	double *f = gos_malloc(sizeof *f * (size_t)(2 * r->n_cand + 2));
	if (f) {
		int nf = 0;
		for (int i = 0; i < r->n_cand; i++)
			if (r->cand[i].ok && r->cand[i].gen != -2) {
				f[2 * nf] = r->cand[i].ms / r->base_ms;
				f[2 * nf++ + 1] = r->cand[i].proxy;
			}
		const double ref[2] = {1.0, 1.0};
		r->hypervolume = gos_hypervolume(f, nf, ref);
		free(f);
	}
	for (int k = 0; k < 4 && opts->also[k]; k++) {
		gos_cost_target at;
		if (gos_cost_target_load(&at, opts->also[k], d) ||
		    gos_cost_predict(c->orig, &at, NULL, NAN, &r->also_base_ms[k], d) ||
		    gos_cost_predict(r->adapted, &at, NULL, NAN, &r->also_ms[k], d))
			goto done;
		snprintf(r->also_name[k], sizeof r->also_name[k], "%s", at.name);
		r->n_also = k + 1;
	}
	rc = 0;
done:
	r->seconds = gos_search_now() - c->t0;
	r->stopped = c->stopped;
	if (rc) {
		gos_module_free(r->adapted);
		r->adapted = NULL;
	}
	gos_capture_free(&c->fit_acts);
	gos_synth_memo_free(c->memo);
	gos_capture_free(&c->base_stage);
	gos_capture_free(&c->fit_out);
	free(c->base_pred);
	free(c->eval_pred);
	free(c->in);
	free(fin);
	gos_module_free(c->base);
	gos_module_free(c->orig);
	for (int i = 0; i < GOS_SEARCH_MAX_WIDTH; i++)
		gos_module_free(c->built[i]);
	gos_module_free(c->kept);
	free(x);
	return rc;
}

void gos_search_result_free(gos_search_result *r)
{
	gos_module_free(r->adapted);
	free(r->cand);
	memset(r, 0, sizeof *r);
}

int gos_search_run(const gos_module *m, const gos_dataset *calib, const gos_dataset *eval,
                   const gos_search_opts *opts, gos_search_result *r, gos_diags *d)
{
	/* OpenBLAS's sums depend on its thread count, and every process (each
	 * MPI rank, a rerun with the same seed) must fit the same weights:
	 * one BLAS thread for the search, the caller's count restored */
	int bt = openblas_get_num_threads();
	openblas_set_num_threads(1);
	int rc = search_run(m, calib, eval, opts, r, d);
	openblas_set_num_threads(bt);
	return rc;
}
