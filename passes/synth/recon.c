/* recon.c -- block reconstruction (synth.h): the weights and biases of a
 * region of the module (contractions and the elementwise operators
 * between them, ending at a plain contraction) refined together by
 * gradient descent so that the region's result, computed from the
 * candidate's own input, approaches the original's through the
 * nonlinearities in between. Least squares (fit.c) refits one
 * contraction at a time towards its own target; here the expand,
 * depthwise and project stages of an inverted residual block (or the two
 * convolutions of a basic block) move together towards the block's
 * result, as post-training reconstruction methods such as BRECQ do per
 * block; a MobileNet's head (1x1 convolution, hard-swish, global average
 * pooling, flatten, classifier) moves towards the original's logits.
 *
 * The region is read from the structure (gos_synth_contraction_of,
 * gos_synth_depthwise_of, the X load's index expressions); elementwise
 * operators are taken by name (relu, hard_sigmoid, mul, global_avgpool,
 * flatten), so before
 * anything changes the region's own forward pass is checked against the
 * engine's recording of the result: a region computed otherwise is left
 * alone. Activations are kept position-major, [sample][position][channel].
 * Adam with a cosine schedule, on batches drawn by a fixed seed; the new
 * weights are kept only when the floored error over every calibration
 * sample falls. gos_synth_tune runs the same engine on the whole model
 * (residual adds and element moves join it there) towards the
 * original's output, judged on held-out samples. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { R_PLAIN, R_DW, R_RELU, R_HSIG, R_MUL, R_MULC, R_GAP, R_FLAT, R_ADD, R_MOVE };

/* Gradient steps, samples per step and step size (Adam, cosine decay).
 * The final checks of a small MobileNet search (seed 1, 48 evaluations)
 * gained 0.35 to 1.39 points of test top-1 on 7 members with 200 steps
 * at 2e-3, and 0.02 to 1.18 more with 400 steps at 3e-3, for about twice
 * the time. */
enum { RECON_STEPS = 300, RECON_BATCH = 32 };
/* At most this many passes over the samples: with few of them (256 in
 * the README's demo) 300 steps would fit the calibration batch rather
 * than the block (2048 samples: 320, so the 300 steps). */
enum { RECON_EPOCHS = 5 };
#define RECON_LR 3e-3
/* The whole model's tuning towards the original's outputs: steps (of
 * RECON_BATCH samples, at most RECON_EPOCHS passes) and step size. */
enum { TUNE_STEPS = 300 };
#define TUNE_LR 1e-4

/* One value of the region: C channels at P positions per sample. */
typedef struct rslot {
	int v;          /* module value */
	int64_t C, P;
	float *a, *g;   /* [RECON_BATCH][P][C]: values, gradients */
} rslot;

/* One node of the region. */
typedef struct rnode {
	int node, kind;
	int x, x2, y;          /* slots read (x2: R_MUL's second) and written */
	int64_t K, D;          /* R_PLAIN: K x D weight; R_DW: K x D taps */
	int32_t *off;          /* [P of y][D]: where each column reads x in a sample
	                        * (R_PLAIN: position * C + channel; R_DW: the
	                        * position), -1 outside (pad) */
	float pad;             /* the X load's value outside */
	double alpha, beta;    /* R_HSIG */
	const float *cst;      /* R_MULC: per channel (cn == C) or one value */
	int64_t cn;
	int wv, bv;            /* weight and bias values (bv -1: no bias) */
	int64_t np;            /* parameters: K D weights, then K biases if bv >= 0 */
	float *p, *gp, *m1, *m2; /* [np]: parameters; gradient, moments */
	float *patch, *gpatch; /* R_PLAIN: [RECON_BATCH P][D] (NULL when ident) */
	int ident;             /* R_PLAIN: the patches are x itself (1x1, stride 1) */
	float *wt, *gwt;       /* R_DW: weights and their gradient, [D][K] */
} rnode;

typedef struct recon {
	gos_module *m;
	int nn, ns;
	rnode *nd;
	rslot *sl;
	int64_t n;             /* calibration samples */
} recon;

static int producer(const gos_module *m, int v)
{
	for (int i = 0; i < m->n_node; i++)
		for (int k = 0; k < m->nodes[i].n_out; k++)
			if (m->nodes[i].out[k] == v)
				return i;
	return -1;
}

static int is_output(const gos_module *m, int v)
{
	for (int k = 0; k < m->n_output; k++)
		if (m->outputs[k] == v)
			return 1;
	return 0;
}

/* Whether node ni only moves elements of its one input: one statement
 * without reduction whose value is a load of the input, batches of one
 * (a channel gather, a flatten, a reshape). */
static int is_move(const gos_module *m, int ni)
{
	const gos_node *n = &m->nodes[ni];
	if (n->n_stmt != 1 || n->n_buf != 2 || n->bufs[0].value != n->in[0])
		return 0;
	const gos_stmt *s = &n->stmts[0];
	const gos_ins *l = &s->ins[s->result];
	const gos_value *x = &m->vals[n->in[0]], *y = &m->vals[n->out[0]];
	return s->red == GOS_RED_NONE && s->dst == 1 && l->op == GOS_OP_LOAD && l->buf == 0 &&
	       x->rank >= 2 && y->rank >= 2 && x->shape[0] == 1 && y->shape[0] == 1;
}

/* The kind of node ni inside a region, or -1. */
static int kind_of(const gos_module *m, int ni)
{
	const gos_node *n = &m->nodes[ni];
	gos_synth_contraction cv;
	if (n->n_out != 1 || m->vals[n->out[0]].kind != GOS_VAL_TEMP)
		return -1;
	if (gos_synth_depthwise_of(m, ni, &cv))
		return m->vals[cv.w].data && (cv.b < 0 || m->vals[cv.b].data) && cv.N == 1 ? R_DW
		                                                                            : -1;
	if (gos_synth_contraction_of(m, ni, &cv))
		return m->vals[cv.w].data && (cv.b < 0 || m->vals[cv.b].data) && cv.N == 1 ? R_PLAIN
		                                                                            : -1;
	const gos_value *y = &m->vals[n->out[0]], *x = &m->vals[n->in[0]];
	int64_t xn = gos_numel(x->rank, x->shape), yn = gos_numel(y->rank, y->shape);
	if (n->n_in == 1 && x->kind == GOS_VAL_TEMP && xn == yn && x->rank >= 2 && x->shape[0] == 1 &&
	    xn == x->shape[1] && y->rank == 2 && !strcmp(n->op, "flatten"))
		return R_FLAT; /* one position: channels stay where they are */
	if (n->n_in == 1 && x->kind == GOS_VAL_TEMP && x->rank >= 3 && x->shape[0] == 1 &&
	    y->rank == x->rank && yn == x->shape[1] && !strcmp(n->op, "global_avgpool"))
		return R_GAP;
	if (n->n_in == 1 && x->kind == GOS_VAL_TEMP && xn == yn &&
	    (!strcmp(n->op, "relu") || !strcmp(n->op, "hard_sigmoid")))
		return !strcmp(n->op, "relu") ? R_RELU : R_HSIG;
	if (n->n_in == 1 && x->kind == GOS_VAL_TEMP && is_move(m, ni))
		return R_MOVE;
	if (n->n_in != 2 || (strcmp(n->op, "mul") && strcmp(n->op, "add")))
		return -1;
	const gos_value *a = &m->vals[n->in[0]], *b = &m->vals[n->in[1]];
	if (!strcmp(n->op, "add"))
		return a->kind == GOS_VAL_TEMP && b->kind == GOS_VAL_TEMP && a->rank == y->rank &&
		               b->rank == y->rank &&
		               !memcmp(a->shape, y->shape, sizeof(int64_t) * (size_t)y->rank) &&
		               !memcmp(b->shape, y->shape, sizeof(int64_t) * (size_t)y->rank)
		           ? R_ADD
		           : -1;
	if (a->kind == GOS_VAL_TEMP && b->kind == GOS_VAL_TEMP && a->rank == y->rank &&
	    b->rank == y->rank && !memcmp(a->shape, y->shape, sizeof(int64_t) * (size_t)y->rank) &&
	    !memcmp(b->shape, y->shape, sizeof(int64_t) * (size_t)y->rank))
		return R_MUL;
	/* times a constant: one value, or one per channel (dimension 1) */
	const gos_value *t = a->kind == GOS_VAL_TEMP ? a : b, *c = a->kind == GOS_VAL_TEMP ? b : a;
	if (t->kind != GOS_VAL_TEMP || c->kind != GOS_VAL_WEIGHT || !c->data || t->rank != y->rank ||
	    memcmp(t->shape, y->shape, sizeof(int64_t) * (size_t)y->rank) || y->rank < 2 ||
	    c->rank > y->rank)
		return -1;
	int64_t cn = gos_numel(c->rank, c->shape);
	for (int j = 0; j < c->rank; j++) {
		int dim = y->rank - c->rank + j; /* broadcast aligns the trailing dimensions */
		if (c->shape[j] != 1 && !(dim == 1 && c->shape[j] == y->shape[1]))
			return -1;
	}
	return cn == 1 || cn == y->shape[1] ? R_MULC : -1;
}

int gos_synth_recon_region(const gos_module *m, int last, int *nodes, int max, int *xin)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, last, &cv) || kind_of(m, last) != R_PLAIN || max < 2)
		return 0;
	char *in = gos_calloc((size_t)m->n_node + 1, 1);
	int *pend = gos_malloc(sizeof *pend * (size_t)(m->n_val + 1));
	int np = 0, count = 1, ext = -1, bad = 0, nonlin = 0, contr = 1;
	if (!in || !pend) {
		free(in);
		free(pend);
		return 0;
	}
	in[last] = 1;
	pend[np++] = cv.x;
	/* grow backwards: a temp joins with its producer once every reader of
	 * it is in the region; past a nonlinearity, a plain contraction ends
	 * the walk (its input is the region's input); before one, plain
	 * contractions are stages of the last operator (a low-rank or
	 * separable pair) and the walk goes on */
	for (int changed = 1; changed && !bad;) {
		changed = 0;
		for (int k = 0; k < np && !bad; k++) {
			int v = pend[k], p = producer(m, v), all = p >= 0 && !is_output(m, v);
			for (int i = 0; i < m->n_node && all; i++)
				for (int j = 0; j < m->nodes[i].n_in; j++)
					if (m->nodes[i].in[j] == v && !in[i])
						all = 0;
			int kd = all ? kind_of(m, p) : -1;
			if (kd == R_ADD || kd == R_MOVE)
				kd = -1; /* a block's region: the whole model's only */
			if (kd < 0 || count >= max)
				continue;
			in[p] = 1;
			count++;
			pend[k--] = pend[--np];
			changed = 1;
			contr += kd == R_PLAIN || kd == R_DW;
			if (kd == R_PLAIN && nonlin)
				continue; /* the walk stops at its input */
			nonlin |= kd == R_RELU || kd == R_HSIG || kd == R_MUL;
			for (int j = 0; j < m->nodes[p].n_in; j++) {
				int u = m->nodes[p].in[j], dup = 0;
				for (int q = 0; q < np; q++)
					dup |= pend[q] == u;
				if (m->vals[u].kind == GOS_VAL_TEMP && !dup)
					pend[np++] = u;
			}
		}
	}
	/* the inputs of plain contractions inside whose producer is not,
	 * besides the pending */
	for (int i = 0; i < m->n_node; i++)
		if (in[i] && i != last && kind_of(m, i) == R_PLAIN) {
			int u = m->nodes[i].in[0], dup = 0, pu = producer(m, u);
			if (pu >= 0 && in[pu])
				continue;
			for (int q = 0; q < np; q++)
				dup |= pend[q] == u;
			if (!dup)
				pend[np++] = u;
		}
	for (int k = 0; k < np; k++) {
		int v = pend[k], p = producer(m, v);
		if (p >= 0 && in[p])
			continue;
		if (ext >= 0 && ext != v)
			bad = 1;
		ext = v;
	}
	int n = 0;
	if (!bad && ext >= 0 && contr >= 2 && nonlin)
		for (int i = 0; i < m->n_node; i++)
			if (in[i])
				nodes[n++] = i;
	free(in);
	free(pend);
	*xin = n ? ext : -1;
	return n;
}

/* The slot of value v, added when new. */
static int slot(recon *r, int v)
{
	for (int s = 0; s < r->ns; s++)
		if (r->sl[s].v == v)
			return s;
	const gos_value *val = &r->m->vals[v];
	rslot *s = &r->sl[r->ns];
	s->v = v;
	s->C = val->rank >= 2 ? val->shape[1] : 1;
	s->P = gos_numel(val->rank, val->shape) / (val->shape[0] * s->C);
	s->a = gos_calloc((size_t)(RECON_BATCH * s->P * s->C), sizeof(float));
	s->g = gos_calloc((size_t)(RECON_BATCH * s->P * s->C), sizeof(float));
	return s->a && s->g ? r->ns++ : -1;
}

/* Fills the offsets of contraction node rn (R_PLAIN or R_DW) from its X
 * load's index expressions. Returns 0 or -1. */
static int offsets(recon *r, rnode *rn)
{
	const gos_node *n = &r->m->nodes[rn->node];
	const gos_stmt *s = &n->stmts[0];
	const gos_buf *xb = &n->bufs[0], *yb = &n->bufs[n->n_in];
	const gos_ins *lx = &s->ins[0];
	int rank = yb->rank;
	int64_t P = r->sl[rn->y].P, C = r->sl[rn->x].C, D = rn->D;
	rn->off = gos_malloc(sizeof(int32_t) * (size_t)(P * D + 1));
	if (!rn->off)
		return -1;
	rn->pad = lx->has_pad ? lx->f : 0;
	for (int64_t p = 0; p < P; p++) {
		int64_t v[GOS_MAX_VARS] = {0}, rem = p;
		for (int dd = rank - 1; dd >= 2; dd--) {
			v[dd] = rem % yb->shape[dd];
			rem /= yb->shape[dd];
		}
		for (int64_t col = 0; col < D; col++) {
			gos_synth_red_point(s, col, v + rank);
			int64_t sp = 0, ch = 0;
			int inside = 1;
			for (int a = 1; a < xb->rank && inside; a++) {
				int64_t i = gos_ix_eval(s, lx->idx[a], v);
				inside = i >= 0 && i < xb->shape[a];
				if (a == 1)
					ch = i;
				else
					sp = sp * xb->shape[a] + i;
			}
			rn->off[p * D + col] = !inside ? -1 : rn->kind == R_DW ? (int32_t)sp
			                                                        : (int32_t)(sp * C + ch);
		}
	}
	return 0;
}

/* Fills the offsets of an R_MOVE node: for each element of its result
 * (position-major, one sample) the element of x it copies, -1 outside
 * (the load's pad). Returns 0 or -1. */
static int move_offsets(recon *r, rnode *rn)
{
	const gos_node *n = &r->m->nodes[rn->node];
	const gos_stmt *s = &n->stmts[0];
	const gos_ins *l = &s->ins[s->result];
	const gos_buf *xb = &n->bufs[0], *yb = &n->bufs[1];
	const rslot *x = &r->sl[rn->x], *y = &r->sl[rn->y];
	int64_t ne = y->P * y->C;
	rn->off = gos_malloc(sizeof(int32_t) * (size_t)(ne + 1));
	if (!rn->off)
		return -1;
	rn->pad = l->has_pad ? l->f : 0;
	for (int64_t e = 0; e < ne; e++) { /* e in NCHW order of one sample */
		int64_t v[GOS_MAX_VARS] = {0}, rem = e, sp = 0, ch = 0;
		for (int dd = yb->rank - 1; dd >= 1; dd--) {
			v[dd] = rem % yb->shape[dd];
			rem /= yb->shape[dd];
		}
		int inside = gos_ix_eval(s, l->idx[0], v) == 0;
		for (int a = 1; a < xb->rank && inside; a++) {
			int64_t i = gos_ix_eval(s, l->idx[a], v);
			inside = i >= 0 && i < xb->shape[a];
			if (a == 1)
				ch = i;
			else
				sp = sp * xb->shape[a] + i;
		}
		int64_t yp = 0; /* e's position in y, position-major */
		for (int dd = 2; dd < yb->rank; dd++)
			yp = yp * yb->shape[dd] + v[dd];
		rn->off[yp * y->C + v[1]] = inside ? (int32_t)(sp * x->C + ch) : -1;
	}
	return 0;
}

static void recon_free(recon *r)
{
	for (int i = 0; i < r->nn; i++) {
		rnode *rn = &r->nd[i];
		free(rn->off);
		free(rn->p);
		free(rn->patch);
		free(rn->wt);
	}
	for (int s = 0; s < r->ns; s++) {
		free(r->sl[s].a);
		free(r->sl[s].g);
	}
	free(r->nd);
	free(r->sl);
}

/* Builds r for the nodes[0..n) of m (gos_synth_recon_region) reading xin.
 * Returns 0 or -1 (out of memory). */
static int recon_init(recon *r, gos_module *m, const int *nodes, int n, int xin)
{
	memset(r, 0, sizeof *r);
	r->m = m;
	r->nd = gos_calloc((size_t)n, sizeof *r->nd);
	r->sl = gos_calloc((size_t)(2 * n + 2), sizeof *r->sl);
	if (!r->nd || !r->sl || slot(r, xin) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		rnode *rn = &r->nd[r->nn++];
		const gos_node *nd = &m->nodes[nodes[i]];
		gos_synth_contraction cv;
		rn->node = nodes[i];
		rn->kind = kind_of(m, nodes[i]);
		rn->x2 = -1;
		if (rn->kind == R_PLAIN || rn->kind == R_DW) {
			if (rn->kind == R_DW)
				gos_synth_depthwise_of(m, nodes[i], &cv);
			else
				gos_synth_contraction_of(m, nodes[i], &cv);
			rn->x = slot(r, cv.x);
			rn->y = slot(r, cv.y);
			rn->wv = cv.w;
			rn->bv = cv.b;
			rn->K = cv.K;
			rn->D = rn->kind == R_DW ? cv.R : cv.C * cv.R * cv.S;
			if (rn->x < 0 || rn->y < 0)
				return -1;
			int64_t np = rn->np = rn->K * rn->D + (rn->bv >= 0 ? rn->K : 0);
			rn->p = gos_calloc((size_t)(4 * np), sizeof(float));
			if (!rn->p || offsets(r, rn))
				return -1;
			rn->gp = rn->p + np;
			rn->m1 = rn->gp + np;
			rn->m2 = rn->m1 + np;
			memcpy(rn->p, m->vals[cv.w].data, sizeof(float) * (size_t)(rn->K * rn->D));
			if (rn->bv >= 0)
				memcpy(rn->p + rn->K * rn->D, m->vals[cv.b].data, sizeof(float) * (size_t)rn->K);
			rslot *xs = &r->sl[rn->x];
			int64_t P = r->sl[rn->y].P, rows = RECON_BATCH * P;
			rn->ident = rn->kind == R_PLAIN && rn->D == xs->C && xs->P == P;
			for (int64_t e = 0; rn->ident && e < P * rn->D; e++)
				rn->ident = rn->off[e] == e;
			if (rn->kind == R_PLAIN && !rn->ident) {
				rn->patch = gos_malloc(sizeof(float) * (size_t)(2 * rows * rn->D));
				if (!rn->patch)
					return -1;
				rn->gpatch = rn->patch + rows * rn->D;
			}
			if (rn->kind == R_DW && !(rn->wt = gos_malloc(sizeof(float) * (size_t)(2 * np))))
				return -1;
			rn->gwt = rn->wt ? rn->wt + np : NULL;
			continue;
		}
		if (rn->kind == R_MULC) {
			int t = m->vals[nd->in[0]].kind == GOS_VAL_TEMP ? 0 : 1;
			rn->x = slot(r, nd->in[t]);
			rn->cst = m->vals[nd->in[1 - t]].data;
			rn->cn = gos_numel(m->vals[nd->in[1 - t]].rank, m->vals[nd->in[1 - t]].shape);
		} else {
			rn->x = slot(r, nd->in[0]);
			if (rn->kind == R_MUL || rn->kind == R_ADD)
				rn->x2 = slot(r, nd->in[1]);
		}
		if (rn->kind == R_HSIG) {
			gos_synth_attr(nd, "alpha", 0.2, 1, &rn->alpha);
			gos_synth_attr(nd, "beta", 0.5, 1, &rn->beta);
		}
		rn->y = slot(r, nd->out[0]);
		if (rn->x < 0 || rn->y < 0 || ((rn->kind == R_MUL || rn->kind == R_ADD) && rn->x2 < 0) ||
		    (rn->kind == R_MOVE && move_offsets(r, rn)))
			return -1;
	}
	return 0;
}

/* The region's forward pass on B samples already in slot 0. */
static void forward(recon *r, int64_t B)
{
	for (int i = 0; i < r->nn; i++) {
		rnode *rn = &r->nd[i];
		rslot *x = &r->sl[rn->x], *y = &r->sl[rn->y];
		int64_t P = y->P, C = y->C, D = rn->D, xs = x->P * x->C, n = B * P * C;
		const float *w = rn->p, *bias = rn->p && rn->bv >= 0 ? rn->p + rn->K * D : NULL;
		switch (rn->kind) {
		case R_PLAIN:
			for (int64_t b = 0; b < B && !rn->ident; b++)
				for (int64_t p = 0; p < P; p++) {
					float *row = rn->patch + (b * P + p) * D;
					const int32_t *o = rn->off + p * D;
					const float *xb = x->a + b * xs;
					for (int64_t c = 0; c < D; c++)
						row[c] = o[c] < 0 ? rn->pad : xb[o[c]];
				}
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(B * P), (int)C, (int)D,
			            1.0f, rn->ident ? x->a : rn->patch, (int)D, w, (int)D, 0.0f, y->a,
			            (int)C);
			for (int64_t e = 0; bias && e < B * P; e++)
				for (int64_t k = 0; k < C; k++)
					y->a[e * C + k] += bias[k];
			break;
		case R_DW:
			for (int64_t k = 0; k < C; k++)
				for (int64_t t = 0; t < D; t++)
					rn->wt[t * C + k] = w[k * D + t];
			for (int64_t b = 0; b < B; b++)
				for (int64_t p = 0; p < P; p++) {
					float *yo = y->a + (b * P + p) * C;
					for (int64_t k = 0; k < C; k++)
						yo[k] = bias ? bias[k] : 0;
					for (int64_t t = 0; t < D; t++) {
						int32_t o = rn->off[p * D + t];
						const float *xi = o >= 0 ? x->a + (b * x->P + o) * C : NULL;
						const float *wt = rn->wt + t * C;
						if (xi)
							for (int64_t k = 0; k < C; k++)
								yo[k] += xi[k] * wt[k];
						else if (rn->pad != 0)
							for (int64_t k = 0; k < C; k++)
								yo[k] += rn->pad * wt[k];
					}
				}
			break;
		case R_RELU:
			for (int64_t e = 0; e < n; e++)
				y->a[e] = x->a[e] > 0 ? x->a[e] : 0;
			break;
		case R_HSIG:
			for (int64_t e = 0; e < n; e++) {
				double h = rn->alpha * x->a[e] + rn->beta;
				y->a[e] = (float)(h < 0 ? 0 : h > 1 ? 1 : h);
			}
			break;
		case R_MUL:
			for (int64_t e = 0; e < n; e++)
				y->a[e] = x->a[e] * r->sl[rn->x2].a[e];
			break;
		case R_MULC:
			for (int64_t e = 0; e < n; e++)
				y->a[e] = x->a[e] * rn->cst[rn->cn == 1 ? 0 : e % C];
			break;
		case R_GAP:
			for (int64_t b = 0; b < B; b++) {
				float *yo = y->a + b * C;
				const float *xb = x->a + b * xs;
				for (int64_t k = 0; k < C; k++)
					yo[k] = 0;
				for (int64_t p = 0; p < x->P; p++)
					for (int64_t k = 0; k < C; k++)
						yo[k] += xb[p * C + k];
				for (int64_t k = 0; k < C; k++)
					yo[k] /= (float)x->P;
			}
			break;
		case R_FLAT:
			memcpy(y->a, x->a, sizeof(float) * (size_t)n);
			break;
		case R_ADD:
			for (int64_t e = 0; e < n; e++)
				y->a[e] = x->a[e] + r->sl[rn->x2].a[e];
			break;
		case R_MOVE:
			for (int64_t b = 0; b < B; b++)
				for (int64_t e = 0; e < P * C; e++) {
					int32_t o = rn->off[e];
					y->a[b * P * C + e] = o < 0 ? rn->pad : x->a[b * xs + o];
				}
			break;
		}
	}
}

/* The backward pass: slot gradients of the result set, every other
 * slot's zeroed; accumulates the parameter gradients. */
static void backward(recon *r, int64_t B)
{
	for (int i = r->nn - 1; i >= 0; i--) {
		rnode *rn = &r->nd[i];
		rslot *x = &r->sl[rn->x], *y = &r->sl[rn->y];
		int64_t P = y->P, C = y->C, D = rn->D, xs = x->P * x->C, n = B * P * C;
		int gx = rn->x != 0; /* slot 0 is the region's input */
		float *w = rn->p, *gw = rn->gp, *gb = rn->gp && rn->bv >= 0 ? rn->gp + rn->K * D : NULL;
		switch (rn->kind) {
		case R_PLAIN:
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)D, (int)(B * P),
			            1.0f, y->g, (int)C, rn->ident ? x->a : rn->patch, (int)D, 1.0f, gw,
			            (int)D);
			for (int64_t e = 0; gb && e < B * P; e++)
				for (int64_t k = 0; k < C; k++)
					gb[k] += y->g[e * C + k];
			if (!gx)
				break;
			/* x's gradient: straight into it when the patches are x */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(B * P), (int)D, (int)C,
			            1.0f, y->g, (int)C, w, (int)D, rn->ident ? 1.0f : 0.0f,
			            rn->ident ? x->g : rn->gpatch, (int)D);
			if (rn->ident)
				break;
			for (int64_t b = 0; b < B; b++)
				for (int64_t p = 0; p < P; p++) {
					const float *row = rn->gpatch + (b * P + p) * D;
					const int32_t *o = rn->off + p * D;
					float *xg = x->g + b * xs;
					for (int64_t c = 0; c < D; c++)
						if (o[c] >= 0)
							xg[o[c]] += row[c];
				}
			break;
		case R_DW:
			memset(rn->gwt, 0, sizeof(float) * (size_t)(C * D));
			for (int64_t b = 0; b < B; b++)
				for (int64_t p = 0; p < P; p++) {
					const float *go = y->g + (b * P + p) * C;
					for (int64_t k = 0; gb && k < C; k++)
						gb[k] += go[k];
					for (int64_t t = 0; t < D; t++) {
						int32_t o = rn->off[p * D + t];
						const float *wt = rn->wt + t * C;
						float *gwt = rn->gwt + t * C;
						if (o < 0) {
							for (int64_t k = 0; k < C && rn->pad != 0; k++)
								gwt[k] += go[k] * rn->pad;
							continue;
						}
						const float *xi = x->a + (b * x->P + o) * C;
						for (int64_t k = 0; k < C; k++)
							gwt[k] += go[k] * xi[k];
						if (!gx)
							continue;
						float *xg = x->g + (b * x->P + o) * C;
						for (int64_t k = 0; k < C; k++)
							xg[k] += go[k] * wt[k];
					}
				}
			for (int64_t k = 0; k < C; k++)
				for (int64_t t = 0; t < D; t++)
					gw[k * D + t] += rn->gwt[t * C + k];
			break;
		case R_RELU:
			for (int64_t e = 0; gx && e < n; e++)
				x->g[e] += x->a[e] > 0 ? y->g[e] : 0;
			break;
		case R_HSIG:
			for (int64_t e = 0; gx && e < n; e++) {
				double h = rn->alpha * x->a[e] + rn->beta;
				x->g[e] += h > 0 && h < 1 ? (float)(rn->alpha * y->g[e]) : 0;
			}
			break;
		case R_MUL: {
			rslot *x2 = &r->sl[rn->x2];
			for (int64_t e = 0; e < n; e++) {
				float g = y->g[e], a = x->a[e], b2 = x2->a[e];
				if (gx)
					x->g[e] += g * b2;
				if (rn->x2 != 0)
					x2->g[e] += g * a;
			}
			break;
		}
		case R_MULC:
			for (int64_t e = 0; gx && e < n; e++)
				x->g[e] += y->g[e] * rn->cst[rn->cn == 1 ? 0 : e % C];
			break;
		case R_GAP:
			for (int64_t b = 0; gx && b < B; b++)
				for (int64_t p = 0; p < x->P; p++)
					for (int64_t k = 0; k < C; k++)
						x->g[b * xs + p * C + k] += y->g[b * C + k] / (float)x->P;
			break;
		case R_FLAT:
			for (int64_t e = 0; gx && e < n; e++)
				x->g[e] += y->g[e];
			break;
		case R_ADD:
			for (int64_t e = 0; gx && e < n; e++)
				x->g[e] += y->g[e];
			for (int64_t e = 0; rn->x2 != 0 && e < n; e++)
				r->sl[rn->x2].g[e] += y->g[e];
			break;
		case R_MOVE:
			for (int64_t b = 0; gx && b < B; b++)
				for (int64_t e = 0; e < P * C; e++)
					if (rn->off[e] >= 0)
						x->g[b * xs + rn->off[e]] += y->g[b * P * C + e];
			break;
		}
		(void)xs;
	}
}

/* Samples idx[0..B) of an NCHW recording (n samples, C channels, P
 * positions) into dst, position-major. */
static void gather(float *dst, const float *src, const int64_t *idx, int64_t B, int64_t C,
                   int64_t P)
{
	for (int64_t b = 0; b < B; b++) {
		const float *s = src + idx[b] * C * P;
		float *o = dst + b * C * P;
		for (int64_t c = 0; c < C; c++)
			for (int64_t p = 0; p < P; p++)
				o[p * C + c] = s[c * P + p];
	}
}

/* Loss of the result slot against target t (and addend s, floor lo),
 * position-major like it; sets the result slot's gradient when g. */
static double loss(rslot *y, const float *t, const float *s, double lo, int64_t B, int g)
{
	double sum = 0;
	int64_t n = B * y->P * y->C;
	for (int64_t e = 0; e < n; e++) {
		double p = y->a[e] + (s ? s[e] : 0), q = t[e] + (s ? s[e] : 0);
		double pc = p > lo ? p : lo, qc = q > lo ? q : lo, diff = pc - qc;
		sum += diff * diff;
		if (g)
			y->g[e] = p > lo ? (float)(2 * diff) : 0;
	}
	return sum;
}

/* What sweep reads: the region, its result slot, the recordings (n
 * samples: input, target, addend or NULL), the floor, and scratch (idx
 * for a batch, tb, sb and cb one batch of the result each). */
typedef struct sweep_io {
	recon *r;
	rslot *out;
	const float *x, *y, *s;
	double lo;
	int64_t n, *idx;
	float *tb, *sb, *cb;
} sweep_io;

/* The loss over every sample, in batches. With yc (the result as the
 * engine recorded it), st gets the largest deviation of the region's
 * result from yc, yc's largest magnitude and the target's floored
 * energy. */
static double sweep(const sweep_io *io, const float *yc, double st[3])
{
	rslot *out = io->out, *in = &io->r->sl[0];
	int64_t B = RECON_BATCH, ye = out->C * out->P;
	double sum = 0;
	st[0] = st[1] = st[2] = 0;
	for (int64_t i0 = 0; i0 < io->n; i0 += B) {
		int64_t nb = io->n - i0 < B ? io->n - i0 : B;
		for (int64_t b = 0; b < nb; b++)
			io->idx[b] = i0 + b;
		gather(in->a, io->x, io->idx, nb, in->C, in->P);
		gather(io->tb, io->y, io->idx, nb, out->C, out->P);
		if (io->s)
			gather(io->sb, io->s, io->idx, nb, out->C, out->P);
		forward(io->r, nb);
		sum += loss(out, io->tb, io->s ? io->sb : NULL, io->lo, nb, 0);
		if (!yc)
			continue;
		gather(io->cb, yc, io->idx, nb, out->C, out->P);
		for (int64_t e = 0; e < nb * ye; e++) {
			double q = io->tb[e] + (io->s ? io->sb[e] : 0);
			st[0] = fmax(st[0], fabs(out->a[e] - io->cb[e]));
			st[1] = fmax(st[1], fabs(io->cb[e]));
			st[2] += q > io->lo ? q * q : io->lo * io->lo;
		}
	}
	return sum;
}

/* Adam with a cosine schedule from step size lr0 on io's samples: at
 * most `steps` batches and `epochs` passes over them, in an order drawn
 * from seed. */
static void train(recon *r, const sweep_io *io, int64_t steps, int64_t epochs, double lr0,
                  uint64_t seed)
{
	int64_t B = RECON_BATCH, n = io->n, *idx = io->idx;
	rslot *in = &r->sl[0], *out = io->out;
	int64_t ye = B * out->C * out->P;
	gos_rng rng;
	gos_rng_seed(&rng, seed);
	for (int64_t i = 0; i < n; i++)
		idx[i] = i;
	int64_t at = n;
	steps = epochs * n / B < steps ? epochs * n / B : steps;
	for (int64_t step = 1; step <= steps; step++) {
		if (at + B > n) { /* a new pass over a shuffled order */
			for (int64_t i = n - 1; i > 0; i--) {
				int64_t j = (int64_t)(gos_rng_next(&rng) % (uint64_t)(i + 1)), t = idx[i];
				idx[i] = idx[j];
				idx[j] = t;
			}
			at = 0;
		}
		gather(in->a, io->x, idx + at, B, in->C, in->P);
		gather(io->tb, io->y, idx + at, B, out->C, out->P);
		if (io->s)
			gather(io->sb, io->s, idx + at, B, out->C, out->P);
		at += B;
		forward(r, B);
		for (int k = 1; k < r->ns; k++)
			memset(r->sl[k].g, 0, sizeof(float) * (size_t)(B * r->sl[k].P * r->sl[k].C));
		loss(out, io->tb, io->s ? io->sb : NULL, io->lo, B, 1);
		for (int i = 0; i < r->nn; i++)
			if (r->nd[i].p)
				memset(r->nd[i].gp, 0, sizeof(float) * (size_t)r->nd[i].np);
		backward(r, B);
		double lr = lr0 * 0.5 * (1 + cos(M_PI * (double)step / (double)steps));
		double c1 = 1 - pow(0.9, (double)step), c2 = 1 - pow(0.999, (double)step);
		for (int i = 0; i < r->nn; i++) {
			rnode *rn = &r->nd[i];
			/* the loss is a sum over the batch: its mean's gradient */
			double scale = 1.0 / (double)ye;
			for (int64_t e = 0; rn->p && e < rn->np; e++) {
				double g = rn->gp[e] * scale;
				rn->m1[e] = (float)(0.9 * rn->m1[e] + 0.1 * g);
				rn->m2[e] = (float)(0.999 * rn->m2[e] + 0.001 * g * g);
				rn->p[e] -= (float)(lr * (rn->m1[e] / c1) / (sqrt(rn->m2[e] / c2) + 1e-8));
			}
		}
	}
}

/* Checks that the region computes what the engine recorded (yc, on
 * judge's samples), trains it on fit's, and writes the new weights into
 * m when the error on judge's samples fell. err[0], err[1]: that error,
 * relative, before and after (untouched when the check fails). Returns 0,
 * or -1 with an error in d. */
static int refine(recon *r, gos_module *m, const sweep_io *judge, const sweep_io *fit,
                  const float *yc, int64_t steps, double lr, uint64_t seed, double err[2],
                  gos_diags *d)
{
	double st[3], before = sweep(judge, yc, st), energy = st[2];
	if (!(st[0] <= 1e-3 * (st[1] + 1e-6)) || !(energy > 0))
		return 0; /* computed otherwise than read (or nothing to match) */
	train(r, fit, steps, RECON_EPOCHS, lr, seed);
	double after = sweep(judge, NULL, st);
	err[0] = before / energy;
	err[1] = after / energy;
	int rc = 0;
	for (int i = 0; i < r->nn && after < before && !rc; i++) {
		rnode *rn = &r->nd[i];
		if (rn->p)
			rc = gos_synth_use_weights(m, rn->node, rn->wv, rn->bv, rn->p,
			                           rn->p + rn->K * rn->D, rn->K, d);
	}
	return rc;
}

int gos_synth_recon(gos_module *m, int last, int64_t n, const float *x, const float *y,
                    const float *yc, const float *s, uint64_t seed, double err[2], gos_diags *d)
{
	int nodes[16], xin, addend;
	err[0] = err[1] = -1;
	int nn = gos_synth_recon_region(m, last, nodes, 16, &xin);
	if (!nn || n < 2 * RECON_BATCH)
		return 0;
	double lo = gos_synth_floor(m, m->nodes[last].out[0], &addend);
	if (addend < 0)
		s = NULL;
	else if (!s)
		lo = -INFINITY; /* the floor is the sum's: without the addend, none */
	recon r;
	int rc = -1;
	int64_t B = RECON_BATCH, *idx = gos_malloc(sizeof *idx * (size_t)(n + B));
	rslot *out = NULL;
	float *tb = NULL, *sb = NULL, *cb = NULL;
	if (recon_init(&r, m, nodes, nn, xin) || !idx)
		goto oom;
	out = &r.sl[r.nd[r.nn - 1].y];
	int64_t ye = B * out->C * out->P;
	tb = gos_malloc(sizeof(float) * (size_t)(3 * ye));
	if (!tb)
		goto oom;
	sb = tb + ye;
	cb = sb + ye;
	/* the region as read must compute what the engine recorded, and the
	 * error before: over every sample */
	sweep_io io = {&r, out, x, y, s, lo, n, idx, tb, sb, cb};
	rc = refine(&r, m, &io, &io, yc, RECON_STEPS, RECON_LR, seed, err, d);
	goto done;
oom:
	gos_error(d, m->nodes[last].loc, "reconstruction: out of memory");
done:
	recon_free(&r);
	free(idx);
	free(tb);
	return rc;
}

/* The input value of m when gos_synth_tune applies to it (one input, one
 * output, every node of a kind the engine here computes, some with
 * weights), else -1. */
static int tune_input(const gos_module *m)
{
	int xin = -1, np = 0;
	for (int v = 0; v < m->n_val; v++)
		if (m->vals[v].kind == GOS_VAL_INPUT)
			xin = xin < 0 ? v : -2;
	for (int i = 0; i < m->n_node && xin >= 0; i++) {
		int k = kind_of(m, i);
		if (k < 0 || m->vals[m->nodes[i].out[0]].rank < 2)
			return -1;
		np += k == R_PLAIN || k == R_DW;
	}
	return m->n_output == 1 && m->n_node >= 2 && np ? xin : -1;
}

int gos_synth_tune_applies(const gos_module *m)
{
	return tune_input(m) >= 0;
}

int gos_synth_tune(gos_module *m, int64_t n, const float *x, const float *y, int64_t nv,
                   const float *xv, const float *yv, const float *yvc, uint64_t seed,
                   double err[2], gos_diags *d)
{
	err[0] = err[1] = -1;
	int xin = tune_input(m), ni = 0;
	if (xin < 0 || n < 2 * RECON_BATCH || nv < 1)
		return 0;
	int *nodes = gos_malloc(sizeof *nodes * (size_t)m->n_node);
	if (!nodes) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "tuning: out of memory");
		return -1;
	}
	for (int i = 0; i < m->n_node; i++)
		nodes[ni++] = i;
	recon r;
	int rc = -1;
	int64_t B = RECON_BATCH, big = n > nv ? n : nv;
	int64_t *idx = gos_malloc(sizeof *idx * (size_t)(big + B));
	float *tb = NULL;
	if (recon_init(&r, m, nodes, ni, xin) || !idx)
		goto oom;
	int os = -1;
	for (int k = 0; k < r.ns; k++)
		if (r.sl[k].v == m->outputs[0])
			os = k;
	rslot *out = os >= 0 ? &r.sl[os] : NULL;
	int64_t ye = out ? B * out->C * out->P : 0;
	if (!out) {
		rc = 0;
		goto done;
	}
	if (!(tb = gos_malloc(sizeof(float) * (size_t)(2 * ye))))
		goto oom;
	/* the model as read must compute what the engine recorded (on the
	 * held-out samples), and their error before */
	sweep_io fit = {&r, out, x, y, NULL, -INFINITY, n, idx, tb, NULL, NULL};
	sweep_io held = {&r, out, xv, yv, NULL, -INFINITY, nv, idx, tb, NULL, tb + ye};
	rc = refine(&r, m, &held, &fit, yvc, TUNE_STEPS, TUNE_LR, seed, err, d);
	goto done;
oom:
	gos_error(d, (gos_loc){m->name, 0, 0}, "tuning: out of memory");
done:
	recon_free(&r);
	free(nodes);
	free(idx);
	free(tb);
	return rc;
}
