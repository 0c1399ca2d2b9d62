/* chan.c -- what the channel rules (prune.c, zerochan.c) share: the
 * input channel of a contraction's reduction, the region of nodes that
 * produce that input channel by channel, and removing channels from the
 * reader and that region (synth.h, gos_synth_chan_*).
 *
 * The region is read from structure. Walking back from the reader's
 * input X, a node joins it when
 *   - it is a contraction (gos_synth_contraction_of) with X's channels as
 *     its output channels: a leaf, whose output rows can be dropped; or
 *   - it is per-channel: one result with channels in dimension 1, no
 *     local buffers, every load of an activation indexes dimension 1 by
 *     output variable 1 and nothing else by it, weights are indexed by
 *     variable 1 only in dimensions of C entries (batchnorm, activations,
 *     residual adds, pooling, depthwise filters); its activation inputs
 *     are walked in turn;
 * and every value on the way is read by region nodes (or the reader)
 * only and is no model output. With side branches allowed (prune), a
 * value may also be read by a side branch: per-channel nodes reading
 * only that value (a squeeze-excite block's global pool) down to
 * contractions that read their channels as input channels (its first
 * FC), which then lose those weight columns. A contraction reading a
 * region value directly is no side branch (its loss would not show in
 * the reader's error). When any of that fails, the
 * region is empty and the reader gathers its kept channels instead. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

static int ix_is_var(const gos_stmt *s, int root, int v)
{
	return root >= 0 && root < s->n_ix && s->ix[root].op == GOS_IX_VAR && s->ix[root].k == v;
}

int gos_synth_chan_of(const gos_module *m, int ni, gos_synth_contraction *cv, int64_t *C,
                      int64_t *per)
{
	if (!gos_synth_contraction_of(m, ni, cv) || !m->vals[cv->w].data)
		return 0;
	const gos_node *n = &m->nodes[ni];
	const gos_stmt *s = &n->stmts[0];
	const gos_ins *lx = &s->ins[0];
	int rank = n->bufs[n->n_in].rank;
	const gos_value *xv = &m->vals[cv->x];
	if (s->n_red < 1 || xv->rank < 2 || !ix_is_var(s, lx->idx[1], rank) ||
	    xv->shape[1] != s->red_extent[0])
		return 0;
	for (int a = 0; a < lx->nidx; a++)
		if (a != 1 && gos_synth_ix_uses(s, lx->idx[a], rank))
			return 0;
	/* the reader reads X as X only */
	for (int j = 1; j < n->n_in; j++)
		if (n->in[j] == cv->x)
			return 0;
	*C = s->red_extent[0];
	*per = gos_numel(m->vals[cv->w].rank, m->vals[cv->w].shape) / (cv->K * *C);
	return 1;
}

/* Whether weight buffer j of per-channel node n is indexed by variable 1
 * in dimension a anywhere (then it is gathered along a). */
static int weight_chan_dim(const gos_node *n, int j, int a)
{
	for (int si = 0; si < n->n_stmt; si++) {
		const gos_stmt *s = &n->stmts[si];
		for (int i = 0; i < s->n_ins; i++)
			if (s->ins[i].op == GOS_OP_LOAD && s->ins[i].buf == j && ix_is_var(s, s->ins[i].idx[a], 1))
				return 1;
	}
	return 0;
}

/* Whether node n of m is per-channel over C channels (see the top). */
static int per_channel(const gos_module *m, const gos_node *n, int64_t C)
{
	if (n->n_out != 1 || n->n_buf != n->n_in + 1 || n->n_stmt < 1)
		return 0;
	const gos_buf *yb = &n->bufs[n->n_in];
	if (yb->rank < 2 || yb->shape[1] != C)
		return 0;
	for (int si = 0; si < n->n_stmt; si++) {
		const gos_stmt *s = &n->stmts[si];
		if (s->dst != n->n_in)
			return 0;
		for (int i = 0; i < s->n_ins; i++) {
			const gos_ins *in = &s->ins[i];
			if (in->op == GOS_OP_INDEX && gos_synth_ix_uses(s, in->idx[0], 1))
				return 0;
			if (in->op != GOS_OP_LOAD)
				continue;
			const gos_buf *b = &n->bufs[in->buf];
			int weight = in->buf < n->n_in && m->vals[n->in[in->buf]].kind == GOS_VAL_WEIGHT;
			if (!weight) { /* an activation (or the result): channel at var 1 */
				if (b->rank < 2 || b->shape[1] != C || !ix_is_var(s, in->idx[1], 1))
					return 0;
				for (int a = 0; a < in->nidx; a++)
					if (a != 1 && gos_synth_ix_uses(s, in->idx[a], 1))
						return 0;
			} else {
				if (!m->vals[n->in[in->buf]].data)
					return 0;
				for (int a = 0; a < in->nidx; a++) {
					if (gos_synth_ix_uses(s, in->idx[a], 1) &&
					    (!ix_is_var(s, in->idx[a], 1) || b->shape[a] != C))
						return 0;
					/* a dimension gathered for one load is gathered for all */
					if (!ix_is_var(s, in->idx[a], 1) && weight_chan_dim(n, in->buf, a))
						return 0;
				}
			}
		}
	}
	return 1;
}

/* Whether node q, a reader of region value v (C channels), can join as
 * a side branch (see the top); marks it and its branch in side[]
 * (GOS_SYNTH_CHAN_PER + 1 or GOS_SYNTH_CHAN_SIDE + 1). */
static int side_join(const gos_module *m, int q, int v, int64_t C, const int *uses,
                     const char *in_s, char *side, int depth)
{
	if (side[q])
		return 1;
	if (in_s[q] || depth > 8)
		return 0;
	gos_synth_contraction qc;
	int64_t Cq, per;
	/* a contraction joins only behind a per-channel node (a pool): a
	 * convolution reading the region value itself (a residual stream's
	 * next block) would lose columns the reader's error does not see */
	if (depth > 0 && gos_synth_chan_of(m, q, &qc, &Cq, &per) && qc.x == v && Cq == C &&
	    (qc.b < 0 || m->vals[qc.b].data)) {
		side[q] = GOS_SYNTH_CHAN_SIDE + 1;
		return 1;
	}
	const gos_node *n = &m->nodes[q];
	if (!per_channel(m, n, C))
		return 0;
	for (int j = 0; j < n->n_in; j++)
		if (m->vals[n->in[j]].kind != GOS_VAL_WEIGHT && n->in[j] != v)
			return 0;
	int u = n->out[0];
	if (m->vals[u].kind != GOS_VAL_TEMP || uses[u] >= 1000)
		return 0;
	side[q] = GOS_SYNTH_CHAN_PER + 1;
	for (int q2 = q + 1; q2 < m->n_node; q2++)
		for (int j = 0; j < m->nodes[q2].n_in; j++)
			if (m->nodes[q2].in[j] == u && !side_join(m, q2, u, C, uses, in_s, side, depth + 1))
				return 0;
	return 1;
}

int gos_synth_chan_region(const gos_module *m, int ni, int sides, gos_synth_chan *r, gos_diags *d)
{
	memset(r, 0, sizeof *r);
	gos_synth_contraction cv;
	int64_t C, per;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per))
		return 0;
	r->C = C;
	int *def = NULL, *uses = NULL;
	char *want = gos_calloc((size_t)m->n_val + 1, 1), *in_s = gos_calloc((size_t)m->n_node + 1, 1);
	char *side = gos_calloc((size_t)m->n_node + 1, 1);
	r->nodes = gos_malloc(sizeof(int) * (size_t)(m->n_node + 1));
	r->leaf = gos_malloc(sizeof(int) * (size_t)(m->n_node + 1));
	if (!want || !in_s || !side || !r->nodes || !r->leaf || gos_pass_def_use(m, &def, &uses, d)) {
		if (!want || !in_s || !side || !r->nodes || !r->leaf)
			gos_error(d, m->nodes[ni].loc, "out of memory");
		free(want);
		free(in_s);
		free(side);
		gos_synth_chan_free(r);
		return -1;
	}
	in_s[ni] = 1;
	want[cv.x] = 1;
	int ok = m->vals[cv.x].kind == GOS_VAL_TEMP;
	for (int p = ni - 1; p >= 0 && ok; p--) {
		const gos_node *n = &m->nodes[p];
		int hit = 0;
		for (int j = 0; j < n->n_out; j++)
			hit |= want[n->out[j]];
		if (!hit)
			continue;
		int v = n->out[0];
		/* every reader of v is in the region (or a side branch); v is no
		 * model output */
		if (n->n_out != 1 || uses[v] >= 1000)
			ok = 0;
		for (int q = p + 1; q < m->n_node && ok; q++)
			for (int j = 0; j < m->nodes[q].n_in && ok; j++)
				if (m->nodes[q].in[j] == v && !in_s[q] &&
				    !(sides && side_join(m, q, v, C, uses, in_s, side, 0)))
					ok = 0;
		if (!ok)
			break;
		gos_synth_contraction pc;
		if (gos_synth_contraction_of(m, p, &pc) && pc.K == C && m->vals[pc.w].data &&
		    (pc.b < 0 || m->vals[pc.b].data)) {
			r->leaf[r->n] = GOS_SYNTH_CHAN_LEAF;
		} else if (per_channel(m, n, C)) {
			r->leaf[r->n] = GOS_SYNTH_CHAN_PER;
			for (int j = 0; j < n->n_in; j++) {
				int u = n->in[j];
				if (m->vals[u].kind == GOS_VAL_WEIGHT)
					continue;
				if (m->vals[u].kind != GOS_VAL_TEMP)
					ok = 0;
				want[u] = 1;
			}
		} else {
			ok = 0;
		}
		in_s[p] = 1;
		r->nodes[r->n++] = p;
	}
	/* every wanted value was reached (it is defined before its readers),
	 * and no side branch is part of the walk */
	for (int v = 0; v < m->n_val && ok; v++)
		if (want[v] && (def[v] < 0 || !in_s[def[v]]))
			ok = 0;
	for (int q = 0; q < m->n_node && ok; q++)
		if (side[q] && in_s[q])
			ok = 0;
	for (int q = 0; q < m->n_node && ok; q++)
		if (side[q]) {
			r->nodes[r->n] = q;
			r->leaf[r->n++] = side[q] - 1;
			r->n_side++;
		}
	if (!ok)
		r->n = r->n_side = 0;
	r->shrink = ok && r->n > 0;
	free(want);
	free(in_s);
	free(side);
	free(def);
	free(uses);
	return 0;
}

void gos_synth_chan_free(gos_synth_chan *r)
{
	for (int i = 0; i < r->n && r->side_w; i++)
		free(r->side_w[i]);
	for (int i = 0; i < r->n && r->side_b; i++)
		free(r->side_b[i]);
	free(r->side_w);
	free(r->side_b);
	free(r->nodes);
	free(r->leaf);
	r->nodes = r->leaf = NULL;
	r->side_w = r->side_b = NULL;
	r->n = r->n_side = 0;
}

double gos_synth_rewritten_flops(const gos_module *m, int ni, const gos_synth_rule *rule)
{
	double f = gos_node_flops(&m->nodes[ni]);
	if (rule->derive == gos_synth_freeze_derive) { /* and the branch it removes */
		char *dead = gos_calloc((size_t)m->n_node + 1, 1);
		if (dead)
			gos_synth_freeze_branch(m, ni, dead);
		for (int i = 0; dead && i < m->n_node; i++)
			if (dead[i] && i != ni)
				f += gos_node_flops(&m->nodes[i]);
		free(dead);
		return f;
	}
	if (rule->derive != gos_synth_prune_derive && rule->derive != gos_synth_zerochan_derive)
		return f;
	gos_synth_chan r;
	gos_diags tmp;
	gos_diags_init(&tmp);
	if (!gos_synth_chan_region(m, ni, rule->derive == gos_synth_prune_derive, &r, &tmp))
		for (int i = 0; i < r.n; i++)
			f += gos_node_flops(&m->nodes[r.nodes[i]]);
	gos_synth_chan_free(&r);
	gos_diags_free(&tmp);
	return f;
}

/* A copy of weight v gathered along dimension a to the channels keep[nk]. */
static int gather_weight(gos_module *m, int v, int a, const int64_t *keep, int64_t nk,
                         const char *suffix)
{
	const gos_value *w = &m->vals[v];
	int64_t shape[GOS_MAX_RANK], outer = 1, inner = 1;
	memcpy(shape, w->shape, sizeof shape);
	for (int i = 0; i < a; i++)
		outer *= shape[i];
	for (int i = a + 1; i < w->rank; i++)
		inner *= shape[i];
	int64_t C = shape[a];
	shape[a] = nk;
	float *g = gos_malloc(sizeof(float) * (size_t)(outer * nk * inner));
	if (!g)
		return -1;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < nk; j++)
			memcpy(g + (o * nk + j) * inner, w->data + (o * C + keep[j]) * inner,
			       sizeof(float) * (size_t)inner);
	int rank = w->rank;
	int nv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.%s", w->name, suffix), rank, shape, g);
	free(g);
	return nv;
}

/* Side reader i of r reads only the channels keep[nk]: its weight keeps
 * those columns (or r->side_w[i], with bias r->side_b[i]) and its first
 * reduction runs over nk. Returns 0 or -1. */
static int shrink_side(gos_module *m, const gos_synth_chan *r, int i, const int64_t *keep,
                       int64_t nk, gos_diags *d)
{
	gos_synth_contraction cv;
	int64_t C, per;
	int ni = r->nodes[i];
	gos_loc loc = m->nodes[ni].loc;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per)) {
		gos_error(d, loc, "internal error: side reader '%s'", m->nodes[ni].name);
		return -1;
	}
	const float *sw = r->side_w ? r->side_w[i] : NULL, *sb = r->side_b ? r->side_b[i] : NULL;
	int wv, bv = cv.b;
	if (sw) {
		int64_t ws[GOS_MAX_RANK];
		memcpy(ws, m->vals[cv.w].shape, sizeof ws);
		ws[1] = nk;
		wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.pruned", m->vals[cv.w].name),
		                      m->vals[cv.w].rank, ws, sw);
	} else {
		wv = gather_weight(m, cv.w, 1, keep, nk, "pruned");
	}
	if (wv >= 0 && sb && cv.b >= 0)
		bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.pruned", m->vals[cv.b].name), 1,
		                      &cv.K, sb);
	gos_node *n = &m->nodes[ni];
	gos_stmt *st = GOS_NEWN(m->arena, gos_stmt, n->n_stmt);
	int64_t *ext = st ? GOS_NEWN(m->arena, int64_t, n->stmts[0].n_red) : NULL;
	if (wv < 0 || (bv < 0) != (cv.b < 0) || !ext) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	memcpy(st, n->stmts, sizeof(gos_stmt) * (size_t)n->n_stmt);
	memcpy(ext, n->stmts[0].red_extent, sizeof(int64_t) * (size_t)n->stmts[0].n_red);
	ext[0] = nk;
	st[0].red_extent = ext;
	n->stmts = st;
	for (int j = 0; j < n->n_in; j++) {
		int v = n->in[j];
		if (v == cv.x) {
			n->bufs[j].shape[1] = nk;
			continue;
		}
		int nv = v == cv.w ? wv : v == cv.b ? bv : v;
		n->in[j] = nv;
		n->bufs[j].value = nv;
		memcpy(n->bufs[j].shape, m->vals[nv].shape, sizeof n->bufs[j].shape);
	}
	return 0;
}

/* Shrinks every region node of r to the channels keep[nk] (in place). */
static int shrink_region(gos_module *m, const gos_synth_chan *r, const int64_t *keep, int64_t nk,
                         gos_diags *d)
{
	/* side readers first, while their input still has C channels */
	for (int i = 0; i < r->n; i++)
		if (r->leaf[i] == GOS_SYNTH_CHAN_SIDE && shrink_side(m, r, i, keep, nk, d))
			return -1;
	for (int i = 0; i < r->n; i++) {
		if (r->leaf[i] == GOS_SYNTH_CHAN_SIDE)
			continue;
		gos_node *n = &m->nodes[r->nodes[i]];
		gos_loc loc = n->loc;
		for (int j = 0; j < n->n_in; j++) {
			int v = n->in[j];
			if (m->vals[v].kind != GOS_VAL_WEIGHT) {
				if (!r->leaf[i]) /* a leaf's input keeps its channels */
					n->bufs[j].shape[1] = nk;
				continue;
			}
			int nv = v;
			if (r->leaf[i]) { /* a leaf: W and B lose rows */
				if (j >= 1)
					nv = gather_weight(m, v, 0, keep, nk, "pruned");
			} else {
				for (int a = 0; a < m->vals[v].rank && nv >= 0; a++)
					if (weight_chan_dim(n, j, a)) {
						int g = gather_weight(m, nv, a, keep, nk, "pruned");
						nv = g;
					}
			}
			if (nv < 0) {
				gos_error(d, loc, "out of memory");
				return -1;
			}
			n = &m->nodes[r->nodes[i]]; /* (values may have moved, nodes not) */
			n->in[j] = nv;
			n->bufs[j].value = nv;
			memcpy(n->bufs[j].shape, m->vals[nv].shape, sizeof n->bufs[j].shape);
		}
		int y = n->out[0];
		int64_t old_c = n->bufs[n->n_in].shape[1];
		n->bufs[n->n_in].shape[1] = nk;
		m->vals[y].shape[1] = nk;
		/* a depthwise filter's groups (one per channel) follow the channels,
		 * so that the operator call written back (gos_save_gos) agrees */
		for (int a = 0; !r->leaf[i] && a < n->n_attr; a++) {
			gos_attr *at = &n->attr[a];
			if (!at->name || strcmp(at->name, "groups") || at->n != 1 ||
			    at->v[0] != (double)old_c)
				continue;
			double *v = GOS_NEWN(m->arena, double, 1);
			if (!v) {
				gos_error(d, loc, "out of memory");
				return -1;
			}
			v[0] = (double)nk;
			at->v = v;
		}
	}
	return 0;
}

/* Appends Xs[n, j, ..] = X[n, keep[j], ..] (keep ascending) and returns
 * Xs, or -1. keep[j] is written as the index expression
 * keep[0] + j + sum over gaps before position t of g_t * min(max(j - t + 1, 0), 1). */
static int gather_node(gos_module *m, int x, const int64_t *keep, int64_t nk, const char *name,
                       gos_loc loc, gos_diags *d)
{
	int rank = m->vals[x].rank;
	int64_t shape[GOS_MAX_RANK];
	memcpy(shape, m->vals[x].shape, sizeof shape);
	shape[1] = nk;
	const char *vn = gos_arena_printf(m->arena, "%s.kept", m->vals[x].name);
	int y = gos_module_add_value(m, vn, GOS_VAL_TEMP, GOS_F32, rank, shape);
	int ni = y < 0 ? -1 : gos_module_add_node(m, name, "gather_channels");
	int steps = 0;
	for (int64_t j = 1; j < nk; j++)
		steps += keep[j] - keep[j - 1] > 1;
	int nix = rank + 2 + 9 * steps;
	gos_node *n = ni < 0 ? NULL : &m->nodes[ni];
	gos_stmt *s = n ? GOS_NEWN(m->arena, gos_stmt, 1) : NULL;
	gos_ix *ix = s ? GOS_NEWN(m->arena, gos_ix, nix) : NULL;
	gos_ins *ins = ix ? GOS_NEWN(m->arena, gos_ins, 1) : NULL;
	int *idx = ins ? GOS_NEWN(m->arena, int, rank) : NULL;
	const char **vnames = idx ? GOS_NEWN(m->arena, const char *, rank) : NULL;
	int *in = vnames ? GOS_NEWN(m->arena, int, 2) : NULL;
	gos_buf *bufs = in ? GOS_NEWN(m->arena, gos_buf, 2) : NULL;
	if (!bufs) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	n->loc = loc;
	n->n_in = n->n_out = 1;
	n->in = in;
	n->out = in + 1;
	n->in[0] = x;
	n->out[0] = y;
	n->n_buf = 2;
	n->bufs = bufs;
	bufs[0] = (gos_buf){"X", rank, {0}, x};
	memcpy(bufs[0].shape, m->vals[x].shape, sizeof bufs[0].shape);
	bufs[1] = (gos_buf){"Y", rank, {0}, y};
	memcpy(bufs[1].shape, shape, sizeof shape);
	int k = 0;
	for (int a = 0; a < rank; a++) {
		ix[k] = (gos_ix){GOS_IX_VAR, 0, 0, a};
		idx[a] = k++;
		vnames[a] = gos_arena_printf(m->arena, "i%d", a);
	}
	int j1 = idx[1];
	ix[k] = (gos_ix){GOS_IX_CONST, 0, 0, keep[0]};
	ix[k + 1] = (gos_ix){GOS_IX_ADD, j1, k, 0};
	int e = k + 1;
	k += 2;
	for (int64_t t = 1; t < nk; t++) {
		int64_t g = keep[t] - keep[t - 1] - 1;
		if (g <= 0)
			continue;
		/* e + g * min(max(j - t + 1, 0), 1) */
		ix[k] = (gos_ix){GOS_IX_CONST, 0, 0, 1 - t};
		ix[k + 1] = (gos_ix){GOS_IX_ADD, j1, k, 0};
		ix[k + 2] = (gos_ix){GOS_IX_CONST, 0, 0, 0};
		ix[k + 3] = (gos_ix){GOS_IX_MAX, k + 1, k + 2, 0};
		ix[k + 4] = (gos_ix){GOS_IX_CONST, 0, 0, 1};
		ix[k + 5] = (gos_ix){GOS_IX_MIN, k + 3, k + 4, 0};
		ix[k + 6] = (gos_ix){GOS_IX_CONST, 0, 0, g};
		ix[k + 7] = (gos_ix){GOS_IX_MUL, k + 5, k + 6, 0};
		ix[k + 8] = (gos_ix){GOS_IX_ADD, e, k + 7, 0};
		e = k + 8;
		k += 9;
	}
	idx[1] = e;
	ins[0] = (gos_ins){GOS_OP_LOAD, {0, 0, 0}, 0.0f, 0, 0, rank, idx};
	*s = (gos_stmt){1, GOS_RED_NONE, 0, NULL, vnames, k, ix, 1, ins, 0};
	n->n_stmt = 1;
	n->stmts = s;
	return y;
}

int gos_synth_chan_rewrite(gos_module *m, int ni, const gos_synth_chan *r, const int64_t *keep,
                           int64_t nk, const float *w, const float *b, const char *tag,
                           gos_diags *d)
{
	gos_synth_contraction cv;
	int64_t C, per;
	gos_loc loc = m->nodes[ni].loc;
	if (!gos_synth_chan_of(m, ni, &cv, &C, &per) || nk < 1 || nk > C) {
		gos_error(d, loc, "internal error: %s of '%s'", tag, m->nodes[ni].name);
		return -1;
	}
	if (r->shrink && shrink_region(m, r, keep, nk, d))
		return -1;
	int first = m->n_node, xs = cv.x;
	const char *nm = m->nodes[ni].name;
	if (!r->shrink) {
		xs = gather_node(m, cv.x, keep, nk, gos_arena_printf(m->arena, "%s.%s.gather", nm, tag),
		                 loc, d);
		if (xs < 0)
			return -1;
	}
	/* the reader with nk input channels: new W [K][nk][..], B */
	int64_t ws[GOS_MAX_RANK];
	memcpy(ws, m->vals[cv.w].shape, sizeof ws);
	ws[1] = nk;
	int wrank = m->vals[cv.w].rank;
	int wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.%s", m->vals[cv.w].name, tag), wrank,
	                          ws, w);
	int bv = -1;
	if (cv.b >= 0)
		bv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.%s.B", nm, tag), 1, &cv.K, b);
	int64_t ys[GOS_MAX_RANK];
	memcpy(ys, m->vals[cv.y].shape, sizeof ys);
	int yrank = m->vals[cv.y].rank;
	int yv = gos_module_add_value(m, gos_arena_printf(m->arena, "%s.%s", m->vals[cv.y].name, tag),
	                              GOS_VAL_TEMP, GOS_F32, yrank, ys);
	int na = gos_module_add_node(m, gos_arena_printf(m->arena, "%s.%s", nm, tag), m->nodes[ni].op);
	if (wv < 0 || (cv.b >= 0 && bv < 0) || yv < 0 || na < 0) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	gos_node orig = m->nodes[ni];
	gos_node *a = &m->nodes[na];
	const char *keep_name = a->name;
	*a = orig;
	a->name = keep_name;
	a->in = GOS_NEWN(m->arena, int, orig.n_in);
	a->out = GOS_NEWN(m->arena, int, orig.n_out);
	a->bufs = GOS_NEWN(m->arena, gos_buf, orig.n_buf);
	a->stmts = GOS_NEWN(m->arena, gos_stmt, orig.n_stmt);
	int64_t *ext = GOS_NEWN(m->arena, int64_t, orig.stmts[0].n_red);
	if (!a->in || !a->out || !a->bufs || !a->stmts || !ext) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	memcpy(a->in, orig.in, sizeof(int) * (size_t)orig.n_in);
	memcpy(a->out, orig.out, sizeof(int) * (size_t)orig.n_out);
	memcpy(a->bufs, orig.bufs, sizeof(gos_buf) * (size_t)orig.n_buf);
	memcpy(a->stmts, orig.stmts, sizeof(gos_stmt) * (size_t)orig.n_stmt);
	memcpy(ext, orig.stmts[0].red_extent, sizeof(int64_t) * (size_t)orig.stmts[0].n_red);
	ext[0] = nk;
	a->stmts[0].red_extent = ext;
	a->in[0] = xs;
	a->bufs[0].value = xs;
	a->bufs[0].shape[1] = nk;
	a->in[1] = wv;
	a->bufs[1].value = wv;
	a->bufs[1].shape[1] = nk;
	if (cv.b >= 0) {
		a->in[2] = bv;
		a->bufs[2].value = bv;
	}
	a->out[0] = yv;
	a->bufs[a->n_in].value = yv;
	return gos_synth_splice(m, ni, first, yv, d);
}

/* Values v[] of the instructions of statement s at channel c, a load of
 * activation u giving cv[u] and weight loads read at channel c; returns 0
 * when they are not constant there (a load depends on another variable). */
static int const_ins(const gos_module *m, const gos_node *n, const gos_stmt *s, int64_t c,
                     const float *cv, float *v)
{
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		float a = in->arg[0] >= 0 && in->arg[0] < i ? v[in->arg[0]] : 0;
		float b = in->arg[1] >= 0 && in->arg[1] < i ? v[in->arg[1]] : 0;
		float e = in->arg[2] >= 0 && in->arg[2] < i ? v[in->arg[2]] : 0;
		switch (in->op) {
		case GOS_OP_CONST: v[i] = in->f; break;
		case GOS_OP_INDEX: return 0;
		case GOS_OP_LOAD: {
			int weight = in->buf < n->n_in && m->vals[n->in[in->buf]].kind == GOS_VAL_WEIGHT;
			if (!weight) {
				if (in->buf >= n->n_in)
					return 0; /* reads its own result */
				v[i] = cv[n->in[in->buf]];
				break;
			}
			const gos_value *w = &m->vals[n->in[in->buf]];
			int64_t off = 0;
			for (int ax = 0; ax < in->nidx; ax++) {
				int root = in->idx[ax];
				int64_t iv;
				if (ix_is_var(s, root, 1))
					iv = c;
				else if (s->ix[root].op == GOS_IX_CONST)
					iv = s->ix[root].k;
				else
					return 0;
				if (iv < 0 || iv >= w->shape[ax])
					return 0;
				off = off * w->shape[ax] + iv;
			}
			v[i] = w->data[off];
			break;
		}
		case GOS_OP_ADD: v[i] = a + b; break;
		case GOS_OP_SUB: v[i] = a - b; break;
		case GOS_OP_MUL: v[i] = a * b; break;
		case GOS_OP_DIV: v[i] = a / b; break;
		case GOS_OP_MAX: v[i] = fmaxf(a, b); break;
		case GOS_OP_MIN: v[i] = fminf(a, b); break;
		case GOS_OP_POW: v[i] = powf(a, b); break;
		case GOS_OP_LT: v[i] = a < b; break;
		case GOS_OP_LE: v[i] = a <= b; break;
		case GOS_OP_EQ: v[i] = a == b; break;
		case GOS_OP_NE: v[i] = a != b; break;
		case GOS_OP_NEG: v[i] = -a; break;
		case GOS_OP_ABS: v[i] = fabsf(a); break;
		case GOS_OP_EXP: v[i] = expf(a); break;
		case GOS_OP_LOG: v[i] = logf(a); break;
		case GOS_OP_SQRT: v[i] = sqrtf(a); break;
		case GOS_OP_RSQRT: v[i] = 1.0f / sqrtf(a); break;
		case GOS_OP_TANH: v[i] = tanhf(a); break;
		case GOS_OP_ERF: v[i] = erff(a); break;
		case GOS_OP_FLOOR: v[i] = floorf(a); break;
		case GOS_OP_FMA: v[i] = a * b + e; break;
		case GOS_OP_SELECT: v[i] = a != 0 ? b : e; break;
		default: return 0;
		}
	}
	return 1;
}

int gos_synth_chan_const(const gos_module *m, const gos_synth_chan *r, int64_t c, float *val)
{
	if (!r->shrink || r->n_side)
		return 0;
	/* constant per region value, filled from the leaves up */
	float *cv = gos_malloc(sizeof(float) * (size_t)(m->n_val + 1));
	char *known = gos_calloc((size_t)m->n_val + 1, 1);
	int ok = cv && known;
	for (int i = r->n - 1; i >= 0 && ok; i--) { /* ascending node order */
		const gos_node *n = &m->nodes[r->nodes[i]];
		int y = n->out[0];
		if (r->leaf[i]) {
			gos_synth_contraction pc;
			gos_synth_contraction_of(m, r->nodes[i], &pc);
			int64_t D = gos_numel(m->vals[pc.w].rank, m->vals[pc.w].shape) / pc.K;
			const float *w = m->vals[pc.w].data + c * D;
			for (int64_t t = 0; t < D && ok; t++)
				ok = w[t] == 0;
			cv[y] = pc.b >= 0 ? m->vals[pc.b].data[c] : 0.0f;
			known[y] = 1;
			continue;
		}
		/* one statement without reduction over constant activations */
		for (int j = 0; j < n->n_in && ok; j++)
			if (m->vals[n->in[j]].kind != GOS_VAL_WEIGHT && !known[n->in[j]])
				ok = 0;
		if (!ok || n->n_stmt != 1 || n->stmts[0].n_red != 0) {
			ok = 0;
			break;
		}
		const gos_stmt *s = &n->stmts[0];
		float *v = gos_malloc(sizeof(float) * (size_t)(s->n_ins + 1));
		ok = v && const_ins(m, n, s, c, cv, v);
		if (ok) {
			cv[y] = v[s->result];
			known[y] = 1;
		}
		free(v);
	}
	/* the region's top node (the first listed) writes the reader's input */
	if (ok && r->n > 0)
		*val = cv[m->nodes[r->nodes[0]].out[0]];
	free(cv);
	free(known);
	return ok && r->n > 0;
}
