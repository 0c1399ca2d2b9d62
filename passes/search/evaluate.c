/* evaluate.c -- the search's problem: a genome (one option per heavy
 * node) decoded into a module, and that module's objectives: predicted
 * latency on the target, and the one-batch accuracy proxy (linear CKA per
 * stage against the original, plus the increase of the task loss) on the
 * proxy half of the calibration batch. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "passes/passes.h"
#include "support/alloc.h"
#include "passes/search/internal.h"

double gos_search_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void gos_search_spec(const gos_search_ctx *c, const unsigned char *g, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = 0;
	for (int i = 0; i < c->r->n_node; i++) {
		if (!g[i])
			continue;
		int w = snprintf(out + len, cap - len, "%s%s", len ? "," : "",
		                 c->r->node[i].opt[g[i]].spec);
		if (w < 0 || (size_t)w >= cap - len)
			return;
		len += (size_t)w;
	}
}

double gos_search_params(const gos_module *m)
{
	char *seen = gos_calloc((size_t)m->n_val + 1, 1);
	double p = 0;
	for (int i = 0; seen && i < m->n_node; i++)
		for (int k = 0; k < m->nodes[i].n_in; k++) {
			int v = m->nodes[i].in[k];
			if (m->vals[v].kind == GOS_VAL_WEIGHT && !seen[v]) {
				seen[v] = 1;
				p += (double)gos_numel(m->vals[v].rank, m->vals[v].shape);
			}
		}
	free(seen);
	return p;
}

double gos_cka_linear(const float *a, int64_t pa, const float *b, int64_t pb, int64_t n)
{
	if (n < 2 || pa < 1 || pb < 1)
		return NAN;
	const float *src[2] = {a, b};
	int64_t p[2] = {pa, pb};
	double *gram[2] = {NULL, NULL};
	double res = NAN;
	for (int s = 0; s < 2; s++) {
		double *x = gos_malloc(sizeof *x * (size_t)(n * p[s]));
		double *mu = gos_calloc((size_t)p[s], sizeof *mu);
		gram[s] = gos_malloc(sizeof *gram[s] * (size_t)(n * n));
		if (!x || !mu || !gram[s]) {
			free(x);
			free(mu);
			goto done;
		}
		for (int64_t i = 0; i < n; i++)
			for (int64_t j = 0; j < p[s]; j++)
				mu[j] += src[s][i * p[s] + j];
		for (int64_t j = 0; j < p[s]; j++)
			mu[j] /= (double)n;
		for (int64_t i = 0; i < n; i++)
			for (int64_t j = 0; j < p[s]; j++)
				x[i * p[s] + j] = src[s][i * p[s] + j] - mu[j];
		/* the centred Gram matrix of the samples: n x n whatever the width */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)p[s], 1.0, x,
		            (int)p[s], x, (int)p[s], 0.0, gram[s], (int)n);
		free(x);
		free(mu);
	}
	double kl = 0, kk = 0, ll = 0;
	for (int64_t i = 0; i < n * n; i++) {
		kl += gram[0][i] * gram[1][i];
		kk += gram[0][i] * gram[0][i];
		ll += gram[1][i] * gram[1][i];
	}
	if (kk > 0 && ll > 0)
		res = kl / sqrt(kk * ll);
done:
	free(gram[0]);
	free(gram[1]);
	return res;
}

/* Names captured for the proxy: the stages, then the first output. */
static int proxy_names(const gos_search_ctx *c, const gos_module *m, const char **names)
{
	int n = 0;
	for (int s = 0; s < c->r->n_stage; s++)
		names[n++] = c->r->stage[s];
	names[n++] = m->vals[m->outputs[0]].name;
	return n;
}

/* Mean cross-entropy and top-1 of logits rows (K per row) against y. */
static double cross_entropy(const float *z, int64_t rows, int K, const int32_t *y,
                            int32_t *pred)
{
	double loss = 0;
	for (int64_t i = 0; i < rows; i++) {
		const float *zi = z + i * K;
		int best = 0;
		double mx = zi[0];
		for (int k = 1; k < K; k++)
			if (zi[k] > mx) {
				mx = zi[k];
				best = k;
			}
		double se = 0;
		for (int k = 0; k < K; k++)
			se += exp((double)zi[k] - mx);
		int lab = y[i] < K ? y[i] : 0;
		loss += log(se) + mx - zi[lab];
		pred[i] = best;
	}
	return rows ? loss / (double)rows : 0;
}

gos_engine_opts gos_search_engine_opts(const gos_search_ctx *c, int64_t n)
{
	gos_engine_opts eo = {"host", c->o->threads, n > GOS_SEARCH_PROXY_MAX ? -1 : 0};
	return eo;
}

int gos_search_proxy_init(gos_search_ctx *c, gos_diags *d)
{
	const char *names[GOS_SEARCH_MAX_STAGES + 1];
	int nn = proxy_names(c, c->base, names);
	gos_engine_opts eo = gos_search_engine_opts(c, c->n_prx);
	const float *in[1] = {c->in};
	/* the reference is the original itself, not the base stage 0 froze */
	if (gos_capture_run(c->orig, nn, names, &eo, c->n_prx, in, &c->base_stage, d))
		return -1;
	const gos_tensor *z = &c->base_stage.t[nn - 1];
	int64_t rows = c->n_prx * c->rows_per;
	c->n_class = (int)(gos_numel(z->rank, z->shape) / (rows ? rows : 1));
	c->base_pred = gos_malloc(sizeof *c->base_pred * (size_t)(rows + 1));
	if (!c->base_pred) {
		gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
		return -1;
	}
	c->base_loss = cross_entropy(z->data, rows, c->n_class, c->prx_y, c->base_pred);
	return 0;
}

/* The entry of cap recording value `name`, or -1. */
static int find_act(const gos_capture *cap, const char *name)
{
	for (int k = 0; k < cap->n; k++)
		if (!strcmp(cap->names[k], name))
			return k;
	return -1;
}

/* Block reconstruction (gos_synth_recon) of the region of cur that ends
 * at the node writing yname, when a fitted option of g replaced or
 * shrank a node in it: towards y (the original's result there, moved by
 * the residual term; n_fit samples) from the region's input as cur
 * computes it on the fit half; s is cur's residual addend or NULL.
 * Returns 0 or -1. */
static int reconstruct(gos_search_ctx *c, const unsigned char *g, gos_module *cur,
                       gos_search_tape *tape, const char *yname, const gos_tensor *y,
                       const float *s, gos_diags *d)
{
	int last = -1, nodes[16], xin = -1, touched = 0;
	for (int k = 0; k < cur->n_node && last < 0 && !c->o->no_recon; k++)
		if (cur->nodes[k].n_out == 1 && !strcmp(cur->vals[cur->nodes[k].out[0]].name, yname))
			last = k;
	int nr = last < 0 ? 0 : gos_synth_recon_region(cur, last, nodes, 16, &xin);
	for (int k = 0; k < nr && !touched; k++) {
		const gos_node *n = &cur->nodes[nodes[k]];
		int bi = -1;
		for (int p = 0; p < c->base->n_node && bi < 0; p++)
			if (c->base->nodes[p].n_out == 1 &&
			    !strcmp(c->base->vals[c->base->nodes[p].out[0]].name, cur->vals[n->out[0]].name))
				bi = p;
		/* a node a rule added, one a rule shrank (its result's shape
		 * changed), or one an option replaced */
		const gos_value *bv = bi >= 0 ? &c->base->vals[c->base->nodes[bi].out[0]] : NULL;
		const gos_value *cv = &cur->vals[n->out[0]];
		touched = !bv || memcmp(bv->shape, cv->shape, sizeof(int64_t) * (size_t)cv->rank);
		for (int i = 0; i < c->r->n_node && !touched; i++)
			touched = c->r->node[i].node == bi && g[i] && !c->r->node[i].opt[g[i]].exact;
	}
	if (!touched)
		return 0;
	const char *names[2] = {cur->vals[xin].name, yname};
	gos_engine_opts eo = gos_search_engine_opts(c, c->n_fit);
	const float *in[1] = {c->fit.in[0]};
	gos_capture now = {0};
	if (gos_search_tape_run(tape, cur, 2, names, &eo, c->n_fit, in, &now, d))
		return -1;
	double err[2];
	int rc = gos_numel(now.t[1].rank, now.t[1].shape) != gos_numel(y->rank, y->shape)
	                 ? 0 /* (a result of another shape has no target) */
	                 : gos_synth_recon(cur, last, c->n_fit, now.t[0].data, y->data,
	                                   now.t[1].data, s, c->o->seed + (uint64_t)last, err, d);
	gos_capture_free(&now);
	return rc;
}

/* The whole of cur tuned towards the original's output on the fit half
 * (gos_synth_tune), kept only when its error on the proxy half falls.
 * Returns 0 or -1. */
static int tune(gos_search_ctx *c, gos_module *cur, gos_diags *d)
{
	if (!gos_synth_tune_applies(cur))
		return 0; /* (nothing to record for) */
	const char *out = c->orig->vals[c->orig->outputs[0]].name;
	gos_engine_opts eo = gos_search_engine_opts(c, c->n_fit);
	const float *in[1] = {c->fit.in[0]}, *pin[1] = {c->in};
	if (!c->fit_out.n && gos_capture_run(c->orig, 1, &out, &eo, c->n_fit, in, &c->fit_out, d))
		return -1;
	const char *cout = cur->vals[cur->outputs[0]].name;
	gos_capture now = {0};
	gos_engine_opts pe = gos_search_engine_opts(c, c->n_prx);
	if (gos_capture_run(cur, 1, &cout, &pe, c->n_prx, pin, &now, d))
		return -1;
	const gos_tensor *yv = &c->base_stage.t[c->base_stage.n - 1];
	double err[2];
	int rc = gos_numel(now.t[0].rank, now.t[0].shape) != gos_numel(yv->rank, yv->shape)
	                 ? 0
	                 : gos_synth_tune(cur, c->n_fit, c->fit.in[0], c->fit_out.t[0].data, c->n_prx,
	                                  c->in, yv->data, now.t[0].data, c->o->seed, err, d);
	gos_capture_free(&now);
	return rc;
}

gos_module *gos_search_build(gos_search_ctx *c, const unsigned char *g, int corrected,
                             gos_diags *d)
{
	if (!corrected) {
		char *spec = gos_malloc(GOS_SEARCH_MAX_NODES * 400);
		if (!spec) {
			gos_error(d, (gos_loc){c->base->name, 0, 0}, "out of memory");
			return NULL;
		}
		gos_search_spec(c, g, spec, GOS_SEARCH_MAX_NODES * 400);
		gos_synth_calib quick = c->fit; /* fits and errors on fewer positions */
		quick.max_rows = GOS_SEARCH_QUICK_ROWS;
		if (!c->memo) /* candidates refit the same nodes alike on fit_acts */
			c->memo = gos_synth_memo_new();
		quick.memo = c->memo;
		gos_module *cm = spec[0] ? gos_synth_apply(c->base, spec, &quick, d)
		                         : gos_module_clone(c->base);
		free(spec);
		return cm;
	}
	/* sequential error correction: node after node in module order, each
	 * fitted replacement fitted on what the model built so far feeds it,
	 * and each plain or depthwise contraction after the first fitted
	 * replacement that keeps its operator refitted on it too, towards the
	 * original's result, on all of the fit half (the search's own fits
	 * use its first c->fit.n; on the Fashion-MNIST ResNet, 2048 fit images
	 * instead of 256 gave the same 13 checked members 0.0 to 0.7 points
	 * more top-1) */
	const gos_module *b = c->base;
	int64_t n_cal = c->n_fit;
	gos_capture orig = {0}; /* the original's results c->fit_acts lacks */
	gos_search_tape tape = {0}; /* the candidate's, while they hold */
	const char **names = gos_malloc(sizeof *names * (size_t)(2 * b->n_node + 1));
	int *heavy = gos_malloc(sizeof *heavy * (size_t)(b->n_node + 1));
	gos_module *cur = names && heavy ? gos_module_clone(b) : NULL;
	gos_engine_opts eo = gos_search_engine_opts(c, c->n_fit);
	const float *in[1] = {c->fit.in[0]};
	int nn = 0, first = -1;
	if (!cur) {
		gos_error(d, (gos_loc){b->name, 0, 0}, "out of memory");
		goto fail;
	}
	cur->name = b->name;
	for (int p = 0; p < b->n_node; p++)
		heavy[p] = -1;
	for (int i = 0; i < c->r->n_node; i++) {
		heavy[c->r->node[i].node] = i;
		if (g[i] && !c->r->node[i].opt[g[i]].exact && first < 0)
			first = c->r->node[i].node;
	}
	/* the results of the contractions after the first that the fit
	 * half's recording (heavy nodes, side readers) does not hold */
	for (int p = first + 1; first >= 0 && p < b->n_node; p++) {
		gos_synth_contraction cv;
		if ((!gos_synth_contraction_of(b, p, &cv) || cv.b < 0) &&
		    !gos_synth_depthwise_of(b, p, &cv))
			continue;
		const char *y = b->vals[b->nodes[p].out[0]].name;
		if (find_act(&c->fit_acts, y) < 0)
			names[nn++] = y;
		int fv = gos_synth_residual_value(b, p), dup = 0; /* and the residual term */
		for (int k = 0; fv >= 0 && k < nn; k++)
			dup |= !strcmp(names[k], b->vals[fv].name);
		if (fv >= 0 && !dup && find_act(&c->fit_acts, b->vals[fv].name) < 0)
			names[nn++] = b->vals[fv].name;
	}
	if (nn && gos_capture_run(b, nn, names, &eo, n_cal, in, &orig, d))
		goto fail;
	for (int p = 0; p < b->n_node && cur; p++) {
		int i = heavy[p], refit = 0;
		const gos_search_opt *op = i >= 0 && g[i] ? &c->r->node[i].opt[g[i]] : NULL;
		const char *yname = b->vals[b->nodes[p].out[0]].name;
		const gos_capture *ys = &c->fit_acts;
		int yk = find_act(ys, yname);
		if (yk < 0) {
			ys = &orig;
			yk = find_act(ys, yname);
		}
		if (op && op->exact) {
			gos_module *next = gos_synth_apply(cur, op->spec, NULL, d);
			gos_module_free(cur);
			cur = next;
			if (cur)
				cur->name = b->name;
			continue;
		}
		if (!op && (first < 0 || p <= first || yk < 0))
			continue;
		/* the node in cur (names of kept nodes do not change) */
		int q = -1;
		for (int k = 0; k < cur->n_node && q < 0; k++)
			if (!strcmp(cur->nodes[k].name, b->nodes[p].name))
				q = k;
		if (q < 0 || yk < 0) {
			if (!op)
				continue;
			gos_error(d, (gos_loc){b->name, 0, 0}, "internal error: no activations of '%s'", yname);
			goto fail;
		}
		/* a kept node that a pruning shrank has no target of its shape */
		const gos_value *qy = &cur->vals[cur->nodes[q].out[0]];
		if (!op && n_cal * gos_numel(qy->rank, qy->shape) !=
		               gos_numel(ys->t[yk].rank, ys->t[yk].shape))
			continue;
		/* a result summed with s (a residual block's sum, before a
		 * relu or not): the candidate's own s too, and the target moves
		 * by the original's s minus it, so the sum is the original's
		 * (the error so far on the residual path is corrected here) */
		int fv = gos_synth_residual_value(b, p);
		const char *cn[2] = {cur->vals[cur->nodes[q].in[0]].name, fv >= 0 ? b->vals[fv].name : NULL};
		const gos_capture *sc = &c->fit_acts;
		int sk = fv >= 0 ? find_act(sc, cn[1]) : -1;
		if (fv >= 0 && sk < 0) {
			sc = &orig;
			sk = find_act(sc, cn[1]);
		}
		gos_capture now = {0};
		if (gos_search_tape_run(&tape, cur, sk >= 0 ? 2 : 1, cn, &eo, n_cal, in, &now, d))
			goto fail;
		gos_tensor yt = ys->t[yk];
		float *moved = NULL;
		int64_t ny = gos_numel(yt.rank, yt.shape);
		if (sk >= 0 && gos_numel(sc->t[sk].rank, sc->t[sk].shape) == ny &&
		    gos_numel(now.t[1].rank, now.t[1].shape) == ny &&
		    (moved = gos_malloc(sizeof *moved * (size_t)(ny + 1)))) {
			for (int64_t e = 0; e < ny; e++)
				moved[e] = yt.data[e] + sc->t[sk].data[e] - now.t[1].data[e];
			yt.data = moved;
		}
		/* X from the candidate so far, Y the original's (moved); the
		 * candidate's s; then the original's recorded activations, for
		 * the side readers a pruning refits (they may come earlier in
		 * module order) */
		int nm_n = 3 + c->fit_acts.n, at = 0;
		char **nm = gos_malloc(sizeof *nm * (size_t)nm_n);
		gos_tensor *tt = gos_malloc(sizeof *tt * (size_t)nm_n);
		if (!nm || !tt) {
			free(nm);
			free(tt);
			free(moved);
			gos_capture_free(&now);
			gos_error(d, (gos_loc){b->name, 0, 0}, "out of memory");
			goto fail;
		}
		nm[at] = now.names[0];
		tt[at++] = now.t[0];
		nm[at] = ys->names[yk];
		tt[at++] = yt;
		if (moved) {
			nm[at] = now.names[1];
			tt[at++] = now.t[1];
		}
		for (int k = 0; k < c->fit_acts.n; k++) {
			nm[at] = c->fit_acts.names[k];
			tt[at++] = c->fit_acts.t[k];
		}
		gos_capture mixed = {at, nm, tt};
		gos_synth_calib cal = {n_cal, in, &mixed, 0, NULL};
		if (op) {
			gos_module *next = gos_synth_apply(cur, op->spec, &cal, d);
			gos_module_free(cur);
			cur = next;
		} else {
			double err;
			refit = gos_synth_refit(cur, q, &cal, &err, d);
		}
		if (cur && !refit)
			refit = reconstruct(c, g, cur, &tape, yname, &yt, moved ? now.t[1].data : NULL, d);
		gos_capture_free(&now);
		free(nm);
		free(tt);
		free(moved);
		if (refit)
			goto fail;
		if (cur)
			cur->name = b->name;
	}
	if (cur && first >= 0 && !c->o->no_recon && tune(c, cur, d))
		goto fail;
	gos_capture_free(&orig);
	gos_search_tape_free(&tape);
	free(names);
	free(heavy);
	return cur;
fail:
	gos_capture_free(&orig);
	gos_search_tape_free(&tape);
	free(names);
	free(heavy);
	gos_module_free(cur);
	return NULL;
}

int gos_search_score(gos_search_ctx *c, const gos_module *cm, const gos_dataset *ds,
                     gos_search_rec *rec, gos_diags *d)
{
	memset(rec, 0, sizeof *rec);
	rec->top1 = rec->drop_se = NAN;
	for (int s = 0; s < GOS_SEARCH_MAX_STAGES; s++)
		rec->cka[s] = NAN;
	if (gos_cost_predict(cm, &c->t, c->o->fitted, NAN, &rec->ms, d))
		return -1;
	rec->flops = gos_flops(cm);
	rec->params = gos_search_params(cm);
	const char *names[GOS_SEARCH_MAX_STAGES + 1];
	int nn = proxy_names(c, cm, names);
	gos_engine_opts eo = gos_search_engine_opts(c, c->n_prx);
	const float *in[1] = {c->in};
	gos_capture cap;
	if (gos_capture_run(cm, nn, names, &eo, c->n_prx, in, &cap, d))
		return -1;
	double sum = 0;
	int ns = 0;
	for (int s = 0; s < c->r->n_stage; s++) {
		const gos_tensor *a = &c->base_stage.t[s], *b = &cap.t[s];
		int64_t pa = gos_numel(a->rank, a->shape) / c->n_prx,
		        pb = gos_numel(b->rank, b->shape) / c->n_prx;
		rec->cka[s] = gos_cka_linear(a->data, pa, b->data, pb, c->n_prx);
		if (isfinite(rec->cka[s])) {
			sum += rec->cka[s];
			ns++;
		}
	}
	int64_t rows = c->n_prx * c->rows_per;
	int32_t *pred = gos_malloc(sizeof *pred * (size_t)(rows + 1));
	const gos_tensor *z = &cap.t[nn - 1];
	if (!pred || gos_numel(z->rank, z->shape) != rows * c->n_class) {
		free(pred);
		gos_capture_free(&cap);
		gos_error(d, (gos_loc){cm->name, 0, 0},
		          pred ? "the candidate's output has another shape than the original's"
		               : "out of memory");
		return -1;
	}
	double loss = cross_entropy(z->data, rows, c->n_class, c->prx_y, pred);
	rec->dloss = loss - c->base_loss;
	rec->agree = 100.0 * gos_eval_agreement(pred, c->base_pred, rows);
	rec->proxy = (ns ? 1.0 - sum / ns : 0.0) + rec->dloss;
	free(pred);
	gos_capture_free(&cap);
	if (ds) {
		gos_engine_opts full = {"host", c->o->threads, -1};
		gos_engine *e = gos_engine_new(cm, &full, d);
		gos_eval_result er;
		if (!e || gos_eval_run(e, ds, NULL, &er, d)) {
			gos_engine_free(e);
			return -1;
		}
		rec->top1 = 100.0 * (double)er.top1 / (double)(er.n ? er.n : 1);
		double change;
		if (c->eval_pred && er.pred && er.n == c->n_eval && ds->n == er.n)
			gos_eval_paired(er.pred, c->eval_pred, ds->y, er.n, &change, &rec->drop_se);
		gos_eval_result_free(&er);
		gos_engine_free(e);
	}
	rec->ok = 1;
	return 0;
}
