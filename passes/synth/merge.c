/* merge.c -- the `merge` rule (synth.h): two linear operators with
 * nothing nonlinear between them become one.
 *   Z[n, j, sp] = B1[j] + sum(red) X[f(n, sp, red)] * W1[j, red]
 *   (optionally Z' = a[j] * Z + c[j]: a per-channel affine, e.g. batchnorm)
 *   Y[n, k, sp] = B2[k] + sum(j) Z[n, j, sp] * W2[k, j]       (1x1 conv / dense)
 *     =>
 *   Y[n, k, sp] = B[k] + sum(red) X[f(n, sp, red)] * W[k, red]
 * with W = W2 diag(a) W1 and B = W2 (a B1 + c) + B2 (cblas_dgemm). The
 * merged node is the first one's comprehension with K outputs, so its
 * indexing carries over. It applies when the second node is the only
 * reader of what it reads (and the affine of what it reads), and only when
 * the merged node needs fewer FLOPs than the two (or three) it replaces.
 * Everything is read from the statements: the second is a contraction
 * over the channel alone at the output's own position, the affine a
 * statement that is affine in its one data input per channel. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "passes/synth/algebra.h"

/* What the rule found before node ni. */
typedef struct chain {
	int first, affine, second;    /* node indices (affine -1: none) */
	gos_synth_contraction c1, c2;
} chain;

/* Whether contraction node ni reads X[n, c, sp] at its own output
 * position, summing over the channel c alone (other reduction variables
 * have extent 1): a 1x1 convolution or a dense layer. */
static int pointwise(const gos_module *m, int ni, const gos_synth_contraction *cv)
{
	const gos_node *n = &m->nodes[ni];
	const gos_stmt *s = &n->stmts[0];
	const gos_buf *xb = &n->bufs[0], *yb = &n->bufs[n->n_in];
	int rank = yb->rank;
	if (s->n_red < 1 || xb->rank != rank || xb->shape[1] != cv->C || s->red_extent[0] != cv->C)
		return 0;
	for (int j = 1; j < s->n_red; j++)
		if (s->red_extent[j] != 1)
			return 0;
	for (int dd = 0; dd < rank; dd++) {
		int want = dd == 1 ? rank : dd; /* the channel index is reduction variable 0 */
		if (xb->shape[dd] != (dd == 1 ? cv->C : yb->shape[dd]))
			return 0;
		for (int u = 0; u < rank + 1; u++)
			if (u != want && gos_synth_ix_uses(s, s->ins[0].idx[dd], u))
				return 0;
		int64_t v[GOS_MAX_VARS] = {0};
		for (int64_t t = 0; t < xb->shape[dd]; t++) {
			v[want] = t;
			if (gos_ix_eval(s, s->ins[0].idx[dd], v) != t)
				return 0;
		}
	}
	return 1;
}

/* The per-channel affine map of node ni (one statement computing, from
 * its one temp input X read at the element written, a[c] * X + b[c] with
 * c = index 1): fills a[C], b[C] when given. Needs materialised weights
 * when a is given. Returns 1 when the node has that form. */
static int affine_of(const gos_module *m, int ni, double *a, double *b)
{
	const gos_node *n = &m->nodes[ni];
	if (n->n_out != 1 || n->n_stmt != 1 || n->n_buf != n->n_in + 1)
		return 0;
	const gos_stmt *s = &n->stmts[0];
	const gos_buf *yb = &n->bufs[n->n_in];
	if (s->dst != n->n_in || s->red != GOS_RED_NONE || s->n_red || yb->rank < 2)
		return 0;
	int data = -1;
	for (int j = 0; j < n->n_in; j++) {
		if (m->vals[n->in[j]].kind == GOS_VAL_WEIGHT)
			continue;
		if (data >= 0)
			return 0;
		data = j;
	}
	if (data < 0)
		return 0;
	int64_t C = yb->shape[1];
	int N = s->n_ins;
	/* lin[i]: instruction i depends on X; per channel, value = ca * X + cb */
	char *lin = gos_calloc((size_t)N, 1);
	double *ca = gos_malloc(sizeof(double) * (size_t)N), *cb = gos_malloc(sizeof(double) * (size_t)N);
	int ok = lin && ca && cb;
	for (int i = 0; i < N && ok; i++) { /* structure first */
		const gos_ins *x = &s->ins[i];
		int ar = x->op == GOS_OP_CONST || x->op == GOS_OP_LOAD || x->op == GOS_OP_INDEX
		                 ? 0
		                 : gos_opinfo_tab[x->op].arity;
		int nl = 0;
		for (int k = 0; k < ar; k++)
			nl += lin[x->arg[k]];
		switch (x->op) {
		case GOS_OP_CONST:
			break;
		case GOS_OP_LOAD:
			if (x->buf == data) {
				ok = !x->has_pad && gos_alg_load_is_identity(n, s, i);
				lin[i] = 1;
			} else if (x->buf < n->n_in) {
				for (int k = 0; k < x->nidx && ok; k++)
					for (int u = 0; u < yb->rank; u++)
						if (u != 1 && gos_synth_ix_uses(s, x->idx[k], u))
							ok = 0;
			} else
				ok = 0;
			break;
		case GOS_OP_ADD:
		case GOS_OP_SUB:
		case GOS_OP_NEG:
			lin[i] = nl > 0;
			break;
		case GOS_OP_MUL:
			ok = nl < 2;
			lin[i] = nl > 0;
			break;
		case GOS_OP_DIV:
			ok = !lin[x->arg[1]];
			lin[i] = nl > 0;
			break;
		case GOS_OP_FMA: /* a * b + c */
			ok = !(lin[x->arg[0]] && lin[x->arg[1]]);
			lin[i] = nl > 0;
			break;
		default: /* anything else only on constants */
			ok = nl == 0 && x->op != GOS_OP_INDEX;
		}
	}
	ok = ok && lin[s->result];
	for (int64_t c = 0; ok && a && c < C; c++) { /* then the numbers, per channel */
		int64_t v[GOS_MAX_VARS] = {0};
		v[1] = c;
		for (int i = 0; i < N && ok; i++) {
			const gos_ins *x = &s->ins[i];
			double p0 = 0, p1 = 0, q0 = 0, q1 = 0;
			if (x->op != GOS_OP_CONST && x->op != GOS_OP_LOAD) {
				p0 = ca[x->arg[0]], p1 = cb[x->arg[0]];
				if (gos_opinfo_tab[x->op].arity > 1)
					q0 = ca[x->arg[1]], q1 = cb[x->arg[1]];
			}
			ca[i] = 0;
			switch (x->op) {
			case GOS_OP_CONST:
				cb[i] = x->f;
				break;
			case GOS_OP_LOAD:
				if (x->buf == data) {
					ca[i] = 1, cb[i] = 0;
				} else {
					const gos_value *w = &m->vals[n->in[x->buf]];
					int64_t off = 0, in = 1;
					for (int k = 0; k < x->nidx; k++) {
						int64_t t = gos_ix_eval(s, x->idx[k], v);
						in &= t >= 0 && t < w->shape[k];
						off = off * w->shape[k] + t;
					}
					ok = w->data != NULL && (in || x->has_pad);
					cb[i] = ok ? in ? w->data[off] : x->f : 0;
				}
				break;
			case GOS_OP_ADD: ca[i] = p0 + q0, cb[i] = p1 + q1; break;
			case GOS_OP_SUB: ca[i] = p0 - q0, cb[i] = p1 - q1; break;
			case GOS_OP_NEG: ca[i] = -p0, cb[i] = -p1; break;
			case GOS_OP_MUL: /* one side is constant (ca == 0 there) */
				ca[i] = p0 * q1 + q0 * p1, cb[i] = p1 * q1;
				break;
			case GOS_OP_DIV: ca[i] = p0 / q1, cb[i] = p1 / q1; break;
			case GOS_OP_FMA: {
				double r0 = ca[x->arg[2]], r1 = cb[x->arg[2]];
				ca[i] = p0 * q1 + q0 * p1 + r0, cb[i] = p1 * q1 + r1;
				break;
			}
			case GOS_OP_SQRT: cb[i] = sqrtf((float)p1); break;
			case GOS_OP_RSQRT: cb[i] = 1 / sqrtf((float)p1); break;
			case GOS_OP_EXP: cb[i] = expf((float)p1); break;
			case GOS_OP_LOG: cb[i] = logf((float)p1); break;
			case GOS_OP_ABS: cb[i] = fabs(p1); break;
			default: ok = 0;
			}
		}
		if (ok) {
			a[c] = ca[s->result];
			b[c] = cb[s->result];
			ok = isfinite(a[c]) && isfinite(b[c]);
		}
	}
	free(lin);
	free(ca);
	free(cb);
	return ok;
}

/* FLOPs of a merged node: the first's contraction with K2 outputs, plus
 * its bias add. */
static double merged_flops(const gos_module *m, const chain *ch)
{
	const gos_node *f = &m->nodes[ch->first];
	gos_node one = *f;
	one.n_stmt = 1;
	double contr = gos_node_flops(&one) * (double)ch->c2.K / (double)ch->c1.K;
	const gos_value *y = &m->vals[ch->c2.y];
	return contr + (double)gos_numel(y->rank, y->shape);
}

/* Finds the chain ending at node ni; returns 1 when it exists and the
 * merged node is cheaper. */
static int find_chain(const gos_module *m, int ni, chain *ch)
{
	memset(ch, 0, sizeof *ch);
	ch->second = ni;
	ch->affine = -1;
	if (!gos_synth_contraction_of(m, ni, &ch->c2) || !pointwise(m, ni, &ch->c2))
		return 0;
	int v = ch->c2.x, p = gos_alg_def(m, v);
	if (p < 0 || gos_alg_uses(m, v) != 1)
		return 0;
	if (!gos_synth_contraction_of(m, p, &ch->c1)) {
		if (!affine_of(m, p, NULL, NULL))
			return 0;
		const gos_node *an = &m->nodes[p];
		int x = -1;
		for (int j = 0; j < an->n_in; j++)
			if (m->vals[an->in[j]].kind != GOS_VAL_WEIGHT)
				x = an->in[j];
		const gos_value *xv = &m->vals[x], *yv = &m->vals[v];
		if (xv->rank != yv->rank || memcmp(xv->shape, yv->shape, sizeof(int64_t) * (size_t)xv->rank))
			return 0;
		ch->affine = p;
		p = gos_alg_def(m, x);
		if (p < 0 || gos_alg_uses(m, x) != 1 || !gos_synth_contraction_of(m, p, &ch->c1))
			return 0;
	}
	ch->first = p;
	const gos_value *z = &m->vals[ch->c1.y];
	if (ch->c1.K != ch->c2.C || z->rank != m->vals[ch->c2.x].rank)
		return 0;
	double before = gos_node_flops(&m->nodes[ch->first]) + gos_node_flops(&m->nodes[ni]) +
	                (ch->affine >= 0 ? gos_node_flops(&m->nodes[ch->affine]) : 0);
	return merged_flops(m, ch) < before;
}

int gos_synth_merge_params(const gos_module *m, int ni, int *vals, int max)
{
	chain ch;
	if (max < 1 || !find_chain(m, ni, &ch))
		return 0;
	vals[0] = 0;
	return 1;
}

/* Appends to node a the statement Y[v..] = Y[v..] + B[v1] (dst buffer y,
 * bias buffer b). Returns 0 or -1. */
static int add_bias_stmt(gos_module *m, gos_node *a, int y, int b)
{
	int rank = a->bufs[y].rank;
	gos_stmt *st = GOS_NEWN(m->arena, gos_stmt, a->n_stmt + 1);
	gos_stmt s;
	memset(&s, 0, sizeof s);
	s.dst = y;
	s.red = GOS_RED_NONE;
	s.var_names = GOS_NEWN(m->arena, const char *, rank);
	s.n_ix = rank;
	s.ix = GOS_NEWN(m->arena, gos_ix, rank);
	s.n_ins = 3;
	s.ins = GOS_NEWN(m->arena, gos_ins, 3);
	int *iy = GOS_NEWN(m->arena, int, rank), *ib = GOS_NEWN(m->arena, int, 1);
	if (!st || !s.var_names || !s.ix || !s.ins || !iy || !ib)
		return -1;
	static const char *const vn[] = {"n", "k", "p", "q", "v4", "v5", "v6", "v7"};
	for (int dd = 0; dd < rank; dd++) {
		s.var_names[dd] = vn[dd];
		s.ix[dd] = (gos_ix){GOS_IX_VAR, 0, 0, dd};
		iy[dd] = dd;
	}
	ib[0] = 1;
	memset(s.ins, 0, sizeof(gos_ins) * 3);
	s.ins[0] = (gos_ins){.op = GOS_OP_LOAD, .buf = y, .nidx = rank, .idx = iy};
	s.ins[1] = (gos_ins){.op = GOS_OP_LOAD, .buf = b, .nidx = 1, .idx = ib};
	s.ins[2] = (gos_ins){.op = GOS_OP_ADD, .arg = {0, 1, 0}};
	s.result = 2;
	memcpy(st, a->stmts, sizeof *st * (size_t)a->n_stmt);
	st[a->n_stmt] = s;
	a->stmts = st;
	a->n_stmt++;
	return 0;
}

int gos_synth_merge_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d)
{
	(void)param;
	(void)c;
	*exact = 1;
	*err = -1;
	gos_loc loc = m->nodes[ni].loc;
	chain ch;
	if (!find_chain(m, ni, &ch)) {
		gos_error(d, loc, "merge: node '%s' does not follow a linear operator it can merge with "
		          "at fewer FLOPs", m->nodes[ni].name);
		return -1;
	}
	int64_t K1 = ch.c1.K, K2 = ch.c2.K;
	const gos_value *w1v = &m->vals[ch.c1.w];
	int64_t D = gos_numel(w1v->rank, w1v->shape) / K1;
	double *w1 = gos_malloc(sizeof(double) * (size_t)(K1 * D)), *w2 = gos_malloc(sizeof(double) * (size_t)(K2 * K1));
	double *a = gos_malloc(sizeof(double) * (size_t)K1), *cc = gos_malloc(sizeof(double) * (size_t)K1);
	double *w = gos_malloc(sizeof(double) * (size_t)(K2 * D)), *t = gos_malloc(sizeof(double) * (size_t)K1);
	float *wf = gos_malloc(sizeof(float) * (size_t)(K2 * D)), *bf = gos_malloc(sizeof(float) * (size_t)K2);
	int rc = -1;
	if (!w1 || !w2 || !a || !cc || !w || !t || !wf || !bf) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	for (int64_t k = 0; k < K1; k++)
		a[k] = 1, cc[k] = 0;
	if (ch.affine >= 0 && !affine_of(m, ch.affine, a, cc)) {
		gos_error(d, loc, "merge: the affine map before '%s' could not be evaluated",
		          m->nodes[ni].name);
		goto done;
	}
	for (int64_t i = 0; i < K1 * D; i++)
		w1[i] = w1v->data[i];
	/* W2 diag(a): column j scaled by a[j] */
	for (int64_t k = 0; k < K2; k++)
		for (int64_t j = 0; j < K1; j++)
			w2[k * K1 + j] = m->vals[ch.c2.w].data[k * K1 + j] * a[j];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)K2, (int)D, (int)K1, 1.0, w2,
	            (int)K1, w1, (int)D, 0.0, w, (int)D);
	/* B = W2 (a B1 + c) + B2 = (W2 diag(a)) B1 + W2 c + B2 */
	for (int64_t j = 0; j < K1; j++)
		t[j] = ch.c1.b >= 0 ? m->vals[ch.c1.b].data[j] : 0;
	for (int64_t k = 0; k < K2; k++) {
		double s = ch.c2.b >= 0 ? m->vals[ch.c2.b].data[k] : 0;
		for (int64_t j = 0; j < K1; j++)
			s += w2[k * K1 + j] * t[j] + m->vals[ch.c2.w].data[k * K1 + j] * cc[j];
		bf[k] = (float)s;
	}
	for (int64_t i = 0; i < K2 * D; i++)
		wf[i] = (float)w[i];
	{
		gos_node orig = m->nodes[ch.first];
		int64_t wshape[GOS_MAX_RANK];
		memcpy(wshape, w1v->shape, sizeof wshape);
		wshape[0] = K2;
		int wrank = w1v->rank;
		const char *base = m->nodes[ni].name;
		int wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.merged.W", base), wrank, wshape, wf);
		int bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.merged.B", base), 1, &K2, bf);
		const gos_value *yv = &m->vals[ch.c2.y];
		int64_t yshape[GOS_MAX_RANK];
		memcpy(yshape, yv->shape, sizeof yshape);
		int yrank = yv->rank;
		int res = gos_module_add_value(m, gos_arena_printf(m->arena, "%s.merged", yv->name),
		                               GOS_VAL_TEMP, GOS_F32, yrank, yshape);
		int first = m->n_node;
		int mi = gos_module_add_node(m, gos_arena_printf(m->arena, "%s.merged", base), orig.op);
		if (wv < 0 || bv < 0 || res < 0 || mi < 0) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		gos_node *nn = &m->nodes[mi];
		const char *nm = nn->name;
		*nn = orig;
		nn->name = nm;
		nn->n_in = 3;
		nn->in = GOS_NEWN(m->arena, int, 3);
		nn->out = GOS_NEWN(m->arena, int, 1);
		/* buffers: X, W, B, Y, then the first's locals */
		int nloc = orig.n_buf - orig.n_in - 1;
		nn->n_buf = 4 + nloc;
		nn->bufs = GOS_NEWN(m->arena, gos_buf, nn->n_buf);
		nn->n_stmt = 1;
		nn->stmts = GOS_NEWN(m->arena, gos_stmt, 1);
		if (!nn->in || !nn->out || !nn->bufs || !nn->stmts) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		nn->in[0] = orig.in[0];
		nn->in[1] = wv;
		nn->in[2] = bv;
		nn->out[0] = res;
		nn->bufs[0] = orig.bufs[0];
		nn->bufs[1] = orig.bufs[1];
		nn->bufs[1].shape[0] = K2;
		nn->bufs[1].value = wv;
		nn->bufs[2] = (gos_buf){"B", 1, {K2}, bv};
		nn->bufs[3] = orig.bufs[orig.n_in];
		nn->bufs[3].shape[1] = K2;
		nn->bufs[3].value = res;
		for (int j = 0; j < nloc; j++) {
			nn->bufs[4 + j] = orig.bufs[orig.n_in + 1 + j];
		}
		nn->stmts[0] = orig.stmts[0];
		nn->stmts[0].dst = 3;
		/* locals moved up by one when the first had no bias */
		if (orig.n_in == 2 && nloc) {
			gos_error(d, loc, "merge: node '%s' has locals", orig.name);
			goto done;
		}
		if (add_bias_stmt(m, nn, 3, 2)) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
		rc = gos_synth_splice(m, ni, first, res, d);
	}
done:
	free(w1);
	free(w2);
	free(a);
	free(cc);
	free(w);
	free(t);
	free(wf);
	free(bf);
	return rc;
}
