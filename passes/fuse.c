/* fuse.c -- epilogue fusion by inlining comprehensions: a node P whose
 * one result v is read only by an elementwise node Q (one statement
 * without reduction, writing a tensor of v's shape and reading v only at
 * the element it writes) absorbs Q's statement. The merged node writes
 * Q's result: P's statements write it first, then Q's statement updates
 * it in place (allowed by the IR: a statement may read its destination at
 * the element it writes). Q's other inputs become inputs of the merged
 * node. When P is itself elementwise (one statement without reduction
 * or locals, not reading its own result), Q's loads of v are replaced by
 * P's expression instead, so the merged node stays one elementwise
 * statement and can join its own producer: hard-swish, x * hsig(x),
 * ends in the convolution that computes x. Repeated to a fixpoint,
 * conv + bias + add + relu is one node. */
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>

/* Whether every load of buffer b in statement s indexes it with the
 * statement's own variables 0..rank-1 in order. */
static int identity_loads(const gos_stmt *s, int b, int rank)
{
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (in->op != GOS_OP_LOAD || in->buf != b)
			continue;
		if (in->nidx != rank)
			return 0;
		for (int dd = 0; dd < rank; dd++) {
			const gos_ix *x = &s->ix[in->idx[dd]];
			if (x->op != GOS_IX_VAR || x->k != dd)
				return 0;
		}
	}
	return 1;
}

static int same_shape(const gos_value *a, const gos_buf *b)
{
	return a->rank == b->rank && !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->rank);
}

int gos_pass_elementwise(const gos_node *p)
{
	if (p->n_stmt != 1 || p->n_out != 1 || p->n_buf != p->n_in + 1)
		return 0;
	const gos_stmt *st = &p->stmts[0];
	if (st->red != GOS_RED_NONE || st->n_red != 0 || st->dst != p->n_in)
		return 0;
	for (int i = 0; i < st->n_ins; i++)
		if (st->ins[i].op == GOS_OP_LOAD && st->ins[i].buf == p->n_in)
			return 0;
	return 1;
}

/* Q's statement qs with its loads of buffers k where qmap[k] < 0 (P's
 * result) replaced by P's statement ps (whose loads keep P's buffer
 * numbers, the first of the merged node) and its other loads renumbered
 * by qmap; writes dst.
 * Both statements range over the same variables (one output shape).
 * Returns 0, or -1 when out of memory. */
static int compose(gos_arena *a, const gos_stmt *ps, const gos_stmt *qs, const int *qmap, int dst,
                   gos_stmt *out)
{
	int nix = ps->n_ix + qs->n_ix, nins = ps->n_ins + qs->n_ins;
	gos_ix *ix = GOS_NEWN(a, gos_ix, nix);
	gos_ins *ins = GOS_NEWN(a, gos_ins, nins);
	int *to = GOS_NEWN(a, int, qs->n_ins); /* Q's instruction -> merged */
	if (!ix || !ins || !to)
		return -1;
	memcpy(ix, ps->ix, sizeof *ix * (size_t)ps->n_ix);
	for (int i = 0; i < qs->n_ix; i++) {
		gos_ix x = qs->ix[i];
		if (x.op != GOS_IX_CONST && x.op != GOS_IX_VAR) {
			x.a += ps->n_ix;
			if (x.op != GOS_IX_DIV && x.op != GOS_IX_MOD)
				x.b += ps->n_ix;
		}
		ix[ps->n_ix + i] = x;
	}
	memcpy(ins, ps->ins, sizeof *ins * (size_t)ps->n_ins);
	int n = ps->n_ins;
	for (int i = 0; i < qs->n_ins; i++) {
		gos_ins in = qs->ins[i];
		if (in.op == GOS_OP_LOAD && qmap[in.buf] < 0) {
			to[i] = ps->result;
			continue;
		}
		if (in.op == GOS_OP_LOAD)
			in.buf = qmap[in.buf];
		if (in.op == GOS_OP_LOAD || in.op == GOS_OP_INDEX) {
			int *idx = GOS_NEWN(a, int, in.nidx > 0 ? in.nidx : 1);
			if (!idx)
				return -1;
			for (int k = 0; k < in.nidx; k++)
				idx[k] = in.idx[k] + ps->n_ix;
			in.idx = idx;
		} else {
			for (int k = 0; k < gos_opinfo_tab[in.op].arity; k++)
				in.arg[k] = to[in.arg[k]];
		}
		to[i] = n;
		ins[n++] = in;
	}
	*out = *qs;
	out->dst = dst;
	out->n_ix = nix;
	out->ix = ix;
	out->n_ins = n;
	out->ins = ins;
	out->result = to[qs->result];
	return 0;
}

/* Tries to merge Q (index qi) into the producer of its input; returns 1
 * when merged. */
static int try_fuse(gos_module *m, int qi, const int *def, const int *uses)
{
	gos_node *q = &m->nodes[qi];
	if (q->n_stmt != 1 || q->n_out != 1 || q->n_buf != q->n_in + 1)
		return 0;
	const gos_stmt *qs = &q->stmts[0];
	if (qs->red != GOS_RED_NONE || qs->n_red != 0 || qs->dst != q->n_in)
		return 0;
	const gos_buf *qy = &q->bufs[q->n_in];
	/* the input to absorb: produced by a single-result node, used only here */
	for (int j = 0; j < q->n_in; j++) {
		int v = q->in[j];
		int pi = def[v];
		if (pi < 0 || pi >= qi)
			continue;
		int nuse = 0;
		for (int k = 0; k < q->n_in; k++)
			nuse += q->in[k] == v;
		if (uses[v] != nuse)
			continue;
		gos_node *p = &m->nodes[pi];
		if (p->n_out != 1 || !same_shape(&m->vals[v], qy))
			continue;
		int ok = 1;
		for (int k = 0; k < q->n_in && ok; k++)
			if (q->in[k] == v)
				ok = identity_loads(qs, k, qy->rank);
		if (!ok)
			continue;
		/* new buffer layout: P inputs, Q's other inputs, output, P locals */
		int extra = 0;
		int qmap[64];
		if (q->n_buf > 64 || p->n_buf + q->n_in > 256)
			return 0;
		int ein[64];
		for (int k = 0; k < q->n_in; k++) {
			if (q->in[k] == v) {
				qmap[k] = -1; /* the output, set below */
				continue;
			}
			int found = -1;
			for (int t = 0; t < p->n_in && found < 0; t++)
				if (p->in[t] == q->in[k])
					found = t;
			for (int t = 0; t < extra && found < 0; t++)
				if (ein[t] == q->in[k])
					found = p->n_in + t;
			if (found < 0) {
				ein[extra] = q->in[k];
				found = p->n_in + extra++;
			}
			qmap[k] = found;
		}
		int outb = p->n_in + extra;
		gos_arena *a = m->arena;
		gos_stmt *one = NULL; /* P elementwise: the composed statement */
		if (gos_pass_elementwise(p)) {
			one = GOS_NEWN(a, gos_stmt, 1);
			if (!one || compose(a, &p->stmts[0], qs, qmap, outb, one))
				return 0;
		}
		for (int k = 0; k < q->n_in; k++)
			if (qmap[k] < 0)
				qmap[k] = outb;
		qmap[q->n_in] = outb;
		int nb = p->n_buf + extra;
		gos_buf *bufs = GOS_NEWN(a, gos_buf, nb);
		int *in = GOS_NEWN(a, int, p->n_in + extra);
		for (int t = 0; t < p->n_in; t++) {
			bufs[t] = p->bufs[t];
			in[t] = p->in[t];
		}
		for (int t = 0; t < extra; t++) {
			int src = -1;
			for (int k = 0; k < q->n_in; k++)
				if (q->in[k] == ein[t])
					src = k;
			bufs[p->n_in + t] = q->bufs[src];
			in[p->n_in + t] = ein[t];
		}
		bufs[outb] = p->bufs[p->n_in];
		bufs[outb].value = q->out[0];
		for (int t = p->n_in + 1; t < p->n_buf; t++)
			bufs[t + extra] = p->bufs[t];
		if (one) {
			gos_node merged = *p;
			merged.op = gos_arena_printf(a, "%s+%s", p->op, q->op);
			merged.n_in = p->n_in + extra;
			merged.in = in;
			merged.out = q->out;
			merged.n_buf = nb;
			merged.bufs = bufs;
			merged.n_stmt = 1;
			merged.stmts = one;
			m->nodes[qi] = merged;
			memmove(&m->nodes[pi], &m->nodes[pi + 1],
			        sizeof *m->nodes * (size_t)(m->n_node - pi - 1));
			m->n_node--;
			return 1;
		}
		/* renumber P's statements */
		for (int s = 0; s < p->n_stmt; s++) {
			gos_stmt *st = &p->stmts[s];
			if (st->dst >= p->n_in)
				st->dst += extra;
			for (int i = 0; i < st->n_ins; i++)
				if (st->ins[i].op == GOS_OP_LOAD && st->ins[i].buf >= p->n_in)
					st->ins[i].buf += extra;
		}
		/* Q's statement in the merged numbering */
		gos_stmt qcopy = *qs;
		qcopy.dst = outb;
		qcopy.ins = gos_arena_memdup(a, qs->ins, sizeof *qs->ins * (size_t)qs->n_ins);
		for (int i = 0; i < qcopy.n_ins; i++)
			if (qcopy.ins[i].op == GOS_OP_LOAD)
				qcopy.ins[i].buf = qmap[qcopy.ins[i].buf];
		gos_stmt *stmts = GOS_NEWN(a, gos_stmt, p->n_stmt + 1);
		memcpy(stmts, p->stmts, sizeof *stmts * (size_t)p->n_stmt);
		stmts[p->n_stmt] = qcopy;
		gos_node merged = *p;
		merged.op = gos_arena_printf(a, "%s+%s", p->op, q->op);
		merged.n_in = p->n_in + extra;
		merged.in = in;
		merged.out = GOS_NEWN(a, int, 1);
		merged.out[0] = q->out[0];
		merged.n_buf = nb;
		merged.bufs = bufs;
		merged.n_stmt = p->n_stmt + 1;
		merged.stmts = stmts;
		/* the merged node sits where Q was; P's slot is dropped */
		m->nodes[qi] = merged;
		memmove(&m->nodes[pi], &m->nodes[pi + 1], sizeof *m->nodes * (size_t)(m->n_node - pi - 1));
		m->n_node--;
		return 1;
	}
	return 0;
}

int gos_pass_fuse(gos_module *m, gos_diags *d)
{
	int changed = 0;
	for (;;) {
		int *def, *uses;
		if (gos_pass_def_use(m, &def, &uses, d))
			return -1;
		int any = 0;
		for (int qi = 0; qi < m->n_node && !any; qi++)
			any = try_fuse(m, qi, def, uses);
		free(def);
		free(uses);
		if (!any)
			break;
		changed++;
	}
	if (changed && gos_pass_dce(m, d) < 0)
		return -1;
	return changed;
}
