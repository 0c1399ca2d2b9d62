/* cost.c -- per-node analysis: operator kind from the comprehension shape,
 * FLOPs, bytes, liveness, constant-foldability, analytic time (roofline);
 * and the feature vector the fitted models use. */
#include "passes/cost/cost.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *gos_cost_kind_name(gos_cost_kind k)
{
	static const char *names[GOS_NKINDS] = {
#define X(e, s) s,
		GOS_COST_KINDS(X)
#undef X
	};
	return (unsigned)k < GOS_NKINDS ? names[k] : "?";
}

/* ---- statement shape ---------------------------------------------------- */

/* Marks in dep[i] whether instruction i of s depends on a LOAD. */
static void load_deps(const gos_stmt *s, unsigned char *dep)
{
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		dep[i] = in->op == GOS_OP_LOAD;
		int ar = gos_opinfo_tab[in->op].arity;
		for (int a = 0; a < ar; a++)
			if (in->arg[a] >= 0 && in->arg[a] < i && dep[in->arg[a]])
				dep[i] = 1;
	}
}

/* Does instruction i count as arithmetic on data (a FLOP per execution)?
 * Index arithmetic, constants, loads and selects (data movement) don't. */
static int is_flop(const gos_stmt *s, const unsigned char *dep, int i)
{
	gos_opcode op = s->ins[i].op;
	if (op == GOS_OP_CONST || op == GOS_OP_LOAD || op == GOS_OP_INDEX ||
	    op == GOS_OP_SELECT)
		return 0;
	return dep[i];
}

/* Arithmetic instructions of s per innermost iteration (the reduction
 * combine counts as one). */
static int stmt_arith(const gos_stmt *s)
{
	unsigned char dep[s->n_ins > 0 ? s->n_ins : 1];
	load_deps(s, dep);
	int n = 0;
	for (int i = 0; i < s->n_ins; i++)
		n += is_flop(s, dep, i);
	if (s->n_red > 0 && s->red != GOS_RED_NONE)
		n += 1;
	return n;
}

/* Iterations of s: elements of dst times the reduction extents. */
static double stmt_iters(const gos_node *n, const gos_stmt *s)
{
	const gos_buf *b = &n->bufs[s->dst];
	double it = (double)gos_numel(b->rank, b->shape);
	for (int j = 0; j < s->n_red; j++)
		it *= (double)s->red_extent[j];
	return it;
}

/* Value of index expression root of s at variable values var[]. */
static int64_t ix_eval(const gos_stmt *s, int root, const int64_t *var, int depth)
{
	if (root < 0 || root >= s->n_ix || depth > 64)
		return 0;
	const gos_ix *x = &s->ix[root];
	int64_t a, b;
	switch (x->op) {
	case GOS_IX_CONST:
		return x->k;
	case GOS_IX_VAR:
		return x->k >= 0 && x->k < GOS_MAX_VARS ? var[x->k] : 0;
	case GOS_IX_DIV:
	case GOS_IX_MOD:
		a = ix_eval(s, x->a, var, depth + 1);
		if (x->k <= 0)
			return 0;
		b = a >= 0 ? a / x->k : -((-a + x->k - 1) / x->k);
		return x->op == GOS_IX_DIV ? b : a - b * x->k;
	default:
		break;
	}
	a = ix_eval(s, x->a, var, depth + 1);
	b = ix_eval(s, x->b, var, depth + 1);
	switch (x->op) {
	case GOS_IX_ADD: return a + b;
	case GOS_IX_SUB: return a - b;
	case GOS_IX_MUL: return a * b;
	case GOS_IX_MIN: return a < b ? a : b;
	case GOS_IX_MAX: return a > b ? a : b;
	default: return 0;
	}
}

/* Extents of the variables of statement s of node n (index vars, then
 * reduction vars); returns their number. */
static int var_extents(const gos_node *n, const gos_stmt *s, int64_t *ext)
{
	const gos_buf *dst = &n->bufs[s->dst];
	int nv = 0;
	for (int d = 0; d < dst->rank && nv < GOS_MAX_VARS; d++)
		ext[nv++] = dst->shape[d];
	for (int j = 0; j < s->n_red && nv < GOS_MAX_VARS; j++)
		ext[nv++] = s->red_extent[j];
	return nv;
}

/* Bit d set if the address of load instruction `in` changes with variable
 * d: probed at a few points (index arithmetic may hide a variable, e.g.
 * (k / 4) * 3 with k < 4 in a grouped convolution). */
static uint32_t load_vars(const gos_stmt *s, const gos_ins *in, const int64_t *ext, int nv)
{
	uint32_t mask = 0;
	int64_t base[GOS_MAX_VARS], probe[GOS_MAX_VARS];
	for (int b = 0; b < 2; b++) {
		for (int v = 0; v < nv; v++)
			base[v] = b ? ext[v] / 2 : 0;
		for (int v = 0; v < nv && v < 32; v++) {
			if (ext[v] <= 1 || (mask & (1u << v)))
				continue;
			int64_t vals[3] = {0, 1, ext[v] - 1};
			for (int t = 0; t < 3 && !(mask & (1u << v)); t++) {
				memcpy(probe, base, sizeof(int64_t) * (size_t)nv);
				probe[v] = vals[t];
				for (int k = 0; k < in->nidx; k++)
					if (ix_eval(s, in->idx[k], base, 0) != ix_eval(s, in->idx[k], probe, 0))
						mask |= 1u << v;
			}
		}
	}
	return mask;
}

/* Variables used by the loads feeding instruction i into *vars, and their
 * buffers (bit per buffer, first 64) into *bufs. */
static void operand_loads(const gos_stmt *s, int i, const int64_t *ext, int nv,
                          uint32_t *vars, uint64_t *bufs, int depth)
{
	if (i < 0 || i >= s->n_ins || depth > 256)
		return;
	const gos_ins *in = &s->ins[i];
	if (in->op == GOS_OP_LOAD) {
		*vars |= load_vars(s, in, ext, nv);
		if (in->buf >= 0 && in->buf < 64)
			*bufs |= (uint64_t)1 << in->buf;
		return;
	}
	int ar = gos_opinfo_tab[in->op].arity;
	for (int a = 0; a < ar; a++)
		operand_loads(s, in->arg[a], ext, nv, vars, bufs, depth + 1);
}

/* Loads feeding instruction i, into ld[] (at most max); returns the count. */
static int collect_loads(const gos_stmt *s, int i, const gos_ins **ld, int k, int max,
                         int depth)
{
	if (i < 0 || i >= s->n_ins || depth > 256)
		return k;
	const gos_ins *in = &s->ins[i];
	if (in->op == GOS_OP_LOAD) {
		if (k < max)
			ld[k++] = in;
		return k;
	}
	int ar = gos_opinfo_tab[in->op].arity;
	for (int a = 0; a < ar; a++)
		k = collect_loads(s, in->arg[a], ld, k, max, depth + 1);
	return k;
}

/* How many times one element of the operand feeding instruction i is
 * reused across the output: the product over output variables d of
 * ext[d] / (distinct addresses as d runs over its range, the other
 * variables at 0). A depthwise input gives 1 along its channel, a
 * grouped convolution's input K/groups, a dense one K. Ranges longer
 * than 4096 are taken as fully reused when the first 4096 values share
 * one address, else not. */
static double operand_reuse(const gos_stmt *s, int i, const int64_t *ext, int nout)
{
	const gos_ins *ld[8];
	int nl = collect_loads(s, i, ld, 0, 8, 0);
	double reuse = 1;
	int64_t var[GOS_MAX_VARS] = {0};
	for (int d = 0; d < nout; d++) {
		if (ext[d] <= 1)
			continue;
		int64_t n = ext[d] < 4096 ? ext[d] : 4096, distinct = 1;
		int64_t prev[8][8];
		for (int64_t v = 0; v < n; v++) {
			var[d] = v;
			int changed = 0;
			for (int l = 0; l < nl; l++)
				for (int k = 0; k < ld[l]->nidx && k < 8; k++) {
					int64_t a = ix_eval(s, ld[l]->idx[k], var, 0);
					if (v > 0 && a != prev[l][k])
						changed = 1;
					prev[l][k] = a;
				}
			distinct += changed;
		}
		var[d] = 0;
		reuse *= ext[d] < 4096 ? (double)ext[d] / (double)distinct
		         : distinct == 1 ? (double)ext[d] : 1;
	}
	return reuse;
}

/* Kind of one statement (see GOS_COST_KINDS); for a contraction, the
 * smaller reuse factor of its two operands into *reuse (else 1). */
static gos_cost_kind stmt_kind(const gos_node *n, const gos_stmt *s, double *reuse)
{
	*reuse = 1;
	unsigned char dep[s->n_ins > 0 ? s->n_ins : 1];
	load_deps(s, dep);
	int arith = 0;
	for (int i = 0; i < s->n_ins; i++)
		arith += is_flop(s, dep, i);
	if (s->n_red == 0 || s->red == GOS_RED_NONE)
		return arith ? GOS_KIND_ELEMENTWISE : GOS_KIND_DATAMOVE;
	/* A reduction: a sum of products of two different tensors is a
	 * contraction; otherwise a pooling-style reduction of one tensor. */
	const gos_buf *dst = &n->bufs[s->dst];
	uint32_t outvars = 0; /* output variables with extent > 1 */
	for (int d = 0; d < dst->rank && d < 32; d++)
		if (dst->shape[d] > 1)
			outvars |= 1u << d;
	int64_t ext[GOS_MAX_VARS];
	int nv = var_extents(n, s, ext);
	int best = -1; /* GOS_KIND_* of the best product found */
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (in->op != GOS_OP_MUL && in->op != GOS_OP_FMA)
			continue;
		uint32_t va = 0, vb = 0;
		uint64_t ba = 0, bb = 0;
		operand_loads(s, in->arg[0], ext, nv, &va, &ba, 0);
		operand_loads(s, in->arg[1], ext, nv, &vb, &bb, 0);
		if (!ba || !bb || (ba == bb && !(ba & (ba - 1))))
			continue; /* scaling by a constant or squaring one tensor */
		(void)outvars;
		/* reused: one element serves at least two outputs */
		int nout = dst->rank < nv ? dst->rank : nv;
		double ra = operand_reuse(s, in->arg[0], ext, nout);
		double rb = operand_reuse(s, in->arg[1], ext, nout);
		int k = ra >= 2 && rb >= 2 ? GOS_KIND_CONTRACTION : GOS_KIND_DEPTHWISE;
		if (best < 0 || k < best || (k == best && (ra < rb ? ra : rb) > *reuse)) {
			best = k;
			*reuse = k == GOS_KIND_CONTRACTION ? (ra < rb ? ra : rb) : 1;
		}
	}
	if (best >= 0 && s->red == GOS_RED_SUM)
		return (gos_cost_kind)best;
	return GOS_KIND_POOLING;
}

/* The statement that dominates n (most FLOPs, then most iterations). */
static int main_stmt(const gos_node *n)
{
	int best = -1;
	double bf = -1, bi = -1;
	for (int i = 0; i < n->n_stmt; i++) {
		double it = stmt_iters(n, &n->stmts[i]);
		double f = it * stmt_arith(&n->stmts[i]);
		if (f > bf || (f == bf && it > bi)) {
			best = i;
			bf = f;
			bi = it;
		}
	}
	return best;
}

gos_cost_kind gos_cost_node_kind(const gos_node *n)
{
	int s = main_stmt(n);
	if (s < 0)
		return GOS_KIND_DATAMOVE;
	if (stmt_iters(n, &n->stmts[s]) * stmt_arith(&n->stmts[s]) == 0)
		return GOS_KIND_DATAMOVE;
	double reuse;
	return stmt_kind(n, &n->stmts[s], &reuse);
}

/* Reuse factor of a contraction node's less reused operand (1 for other
 * kinds): how many outputs one loaded element serves. */
static double node_reuse(const gos_node *n)
{
	int s = main_stmt(n);
	double reuse = 1;
	if (s >= 0 && stmt_iters(n, &n->stmts[s]) * stmt_arith(&n->stmts[s]) > 0 &&
	    stmt_kind(n, &n->stmts[s], &reuse) != GOS_KIND_CONTRACTION)
		reuse = 1;
	return reuse;
}

double gos_cost_node_flops(const gos_node *n)
{
	double f = 0;
	for (int i = 0; i < n->n_stmt; i++)
		f += stmt_iters(n, &n->stmts[i]) * stmt_arith(&n->stmts[i]);
	return f;
}

double gos_cost_node_bytes(const gos_node *n)
{
	double b = 0;
	for (int i = 0; i < n->n_buf; i++)
		b += 4.0 * (double)gos_numel(n->bufs[i].rank, n->bufs[i].shape);
	return b;
}

/* ---- liveness and constant values ---------------------------------------- */

/* Is weight value v all zeros by its init? */
static int weight_is_zero(const gos_value *v)
{
	if (v->kind != GOS_VAL_WEIGHT)
		return 0;
	if (v->init == GOS_INIT_FILL)
		return v->lo == 0;
	if (v->data) {
		int64_t n = gos_numel(v->rank, v->shape);
		for (int64_t i = 0; i < n; i++)
			if (v->data[i] != 0)
				return 0;
		return 1;
	}
	return 0;
}

/* Simulates n's statements on known-zero buffers (zero[b] for inputs
 * given); returns 1 if every output of n is known to be all zeros. */
static int node_outputs_zero(const gos_node *n, unsigned char *zero)
{
	for (int si = 0; si < n->n_stmt; si++) {
		const gos_stmt *s = &n->stmts[si];
		unsigned char z[s->n_ins > 0 ? s->n_ins : 1];
		for (int i = 0; i < s->n_ins; i++) {
			const gos_ins *in = &s->ins[i];
			const int *a = in->arg;
			switch (in->op) {
			case GOS_OP_CONST: z[i] = in->f == 0; break;
			case GOS_OP_LOAD:
				z[i] = in->buf >= 0 && in->buf < n->n_buf && zero[in->buf] &&
				       (!in->has_pad || in->f == 0);
				break;
			case GOS_OP_ADD: case GOS_OP_SUB: case GOS_OP_MAX: case GOS_OP_MIN:
				z[i] = z[a[0]] && z[a[1]];
				break;
			case GOS_OP_MUL: z[i] = z[a[0]] || z[a[1]]; break;
			case GOS_OP_DIV: z[i] = z[a[0]]; break;
			case GOS_OP_NEG: case GOS_OP_ABS: case GOS_OP_SQRT:
			case GOS_OP_TANH: case GOS_OP_ERF: case GOS_OP_FLOOR:
				z[i] = z[a[0]];
				break;
			case GOS_OP_FMA: z[i] = (z[a[0]] || z[a[1]]) && z[a[2]]; break;
			case GOS_OP_SELECT: z[i] = z[a[1]] && z[a[2]]; break;
			default: z[i] = 0; break;
			}
		}
		int rz = s->n_ins > 0 && s->result >= 0 && s->result < s->n_ins && z[s->result];
		if (s->dst >= 0 && s->dst < n->n_buf)
			zero[s->dst] = (unsigned char)rz;
	}
	for (int o = 0; o < n->n_out; o++)
		if (!zero[n->n_in + o])
			return 0;
	return n->n_out > 0;
}

/* Fills live[] and foldable[] for every node of m. */
static void mark_nodes(const gos_module *m, gos_cost_node *v)
{
	int nv = m->n_val;
	unsigned char *need = gos_calloc((size_t)nv + 1, 1);
	unsigned char *cst = gos_calloc((size_t)nv + 1, 1);  /* input-independent */
	unsigned char *zero = gos_calloc((size_t)nv + 1, 1); /* known all zeros */
	if (!need || !cst || !zero) {
		/* out of memory: assume everything is live and nothing folds */
		for (int i = 0; i < m->n_node; i++) {
			v[i].live = 1;
			v[i].foldable = 0;
		}
		free(need), free(cst), free(zero);
		return;
	}
	for (int i = 0; i < m->n_output; i++)
		if (m->outputs[i] >= 0 && m->outputs[i] < nv)
			need[m->outputs[i]] = 1;
	for (int i = m->n_node - 1; i >= 0; i--) {
		const gos_node *n = &m->nodes[i];
		int live = 0;
		for (int o = 0; o < n->n_out; o++)
			if (n->out[o] >= 0 && n->out[o] < nv && need[n->out[o]])
				live = 1;
		v[i].live = live;
		if (live)
			for (int k = 0; k < n->n_in; k++)
				if (n->in[k] >= 0 && n->in[k] < nv)
					need[n->in[k]] = 1;
	}
	for (int i = 0; i < nv; i++) {
		cst[i] = m->vals[i].kind == GOS_VAL_WEIGHT;
		zero[i] = (unsigned char)weight_is_zero(&m->vals[i]);
	}
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		int all_const = 1;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] < 0 || n->in[k] >= nv || !cst[n->in[k]])
				all_const = 0;
		unsigned char *bz = gos_calloc((size_t)n->n_buf + 1, 1);
		int outs_zero = 0;
		if (bz) {
			for (int k = 0; k < n->n_in && k < n->n_buf; k++)
				bz[k] = n->in[k] >= 0 && n->in[k] < nv && zero[n->in[k]];
			outs_zero = n->n_in + n->n_out <= n->n_buf && node_outputs_zero(n, bz);
			free(bz);
		}
		v[i].foldable = all_const || outs_zero;
		for (int o = 0; o < n->n_out; o++) {
			int val = n->out[o];
			if (val < 0 || val >= nv)
				continue;
			cst[val] = (unsigned char)v[i].foldable;
			zero[val] = (unsigned char)outs_zero;
		}
	}
	free(need);
	free(cst);
	free(zero);
}

/* ---- analytic time --------------------------------------------------------- */

/* Fraction of the vector lanes a loop over `inner` elements fills. */
static double lane_util(double inner, double lanes)
{
	if (lanes <= 1 || inner <= 0)
		return 1;
	double chunks = ceil(inner / lanes);
	return inner / (chunks * lanes);
}

/* Whether value val is a weight (constant) of m. */
static int is_weight(const gos_module *m, int val)
{
	return val < 0 || val >= m->n_val || m->vals[val].kind == GOS_VAL_WEIGHT;
}

/* Whether node n reads value val. */
static int reads(const gos_node *n, int val)
{
	for (int k = 0; k < n->n_in; k++)
		if (n->in[k] == val)
			return 1;
	return 0;
}

/* The elementwise node P (index) that live elementwise node Q (qi)
 * composes with, as the fuse pass does: P's result is read only by Q,
 * has Q's shape, and Q also reads inputs of P and no others, so the
 * merged node reads P's inputs only (x * f(x), hard-swish). -1 when
 * none (a P without such a sibling read joins its own producer first). */
static int composed_with(const gos_module *m, const gos_cost_node *v, const int *def,
                         const int *uses, int qi)
{
	const gos_node *q = &m->nodes[qi];
	for (int k = 0; k < q->n_in; k++) {
		int h = q->in[k], pi = is_weight(m, h) ? -1 : def[h];
		if (pi < 0 || !v[pi].live || v[pi].kind != GOS_KIND_ELEMENTWISE ||
		    v[pi].foldable != v[qi].foldable || m->nodes[pi].n_out != 1 || q->n_out != 1)
			continue;
		int nuse = 0, ok = 1;
		for (int j = 0; j < q->n_in; j++)
			nuse += q->in[j] == h;
		const gos_value *hv = &m->vals[h], *qv = &m->vals[q->out[0]];
		if (uses[h] != nuse || hv->rank != qv->rank ||
		    memcmp(hv->shape, qv->shape, sizeof(int64_t) * (size_t)hv->rank))
			continue;
		int shared = 0;
		for (int j = 0; j < q->n_in && ok; j++) {
			int x = q->in[j];
			ok = x == h || is_weight(m, x) || reads(&m->nodes[pi], x);
			shared += ok && x != h && !is_weight(m, x);
		}
		if (ok && shared)
			return pi;
	}
	return -1;
}

/* Marks fused[], as the fuse pass merges: an elementwise node one of
 * whose inputs has the node's shape, is read by it alone, is not a model
 * output and comes from a live node of another kind than data movement
 * (or from a fused node). The dispatched node it joins also reads its
 * other non-weight inputs (a residual: conv + add + relu), which that
 * node's bytes count. An elementwise node composed into its elementwise
 * reader (composed_with) is fused, and the reader counts as reading that
 * node's inputs once. */
static void mark_fused(const gos_module *m, gos_cost_node *v)
{
	int nv = m->n_val;
	int *uses = gos_calloc((size_t)nv + 1, sizeof *uses);
	int *def = gos_malloc(sizeof *def * ((size_t)nv + 1));
	int *comp = gos_malloc(sizeof *comp * ((size_t)m->n_node + 1));
	int *root = gos_malloc(sizeof *root * ((size_t)m->n_node + 1)); /* the dispatched node */
	if (!uses || !def || !comp || !root) {
		free(uses), free(def), free(comp), free(root);
		return;
	}
	for (int i = 0; i < m->n_node; i++)
		root[i] = i;
	for (int i = 0; i < nv; i++)
		def[i] = -1;
	for (int i = 0; i < m->n_output; i++)
		if (m->outputs[i] >= 0 && m->outputs[i] < nv)
			uses[m->outputs[i]] += 2; /* never fuse away a result */
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		comp[i] = -1;
		for (int o = 0; o < n->n_out; o++)
			if (n->out[o] >= 0 && n->out[o] < nv)
				def[n->out[o]] = i;
		if (!v[i].live)
			continue;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0 && n->in[k] < nv)
				uses[n->in[k]]++;
	}
	for (int i = 0; i < m->n_node; i++) {
		if (!v[i].live || v[i].kind != GOS_KIND_ELEMENTWISE)
			continue;
		int pi = composed_with(m, v, def, uses, i);
		if (pi < 0 || comp[pi] >= 0)
			continue;
		comp[i] = pi;
		v[pi].fused = 1;
		const gos_node *q = &m->nodes[i];
		for (int k = 0; k < q->n_in; k++) /* read once, by the merged node */
			if (!is_weight(m, q->in[k]) && def[q->in[k]] != pi)
				uses[q->in[k]]--;
	}
	for (int i = 0; i < m->n_node; i++) {
		/* the merged node's inputs: P's when composed */
		const gos_node *n = &m->nodes[comp[i] >= 0 ? comp[i] : i];
		if (!v[i].live || v[i].kind != GOS_KIND_ELEMENTWISE || (comp[i] < 0 && v[i].fused))
			continue;
		/* the producer of an input of the node's own shape that the
		 * node alone reads; the node's other inputs (a residual) are
		 * read by the merged node's epilogue */
		const gos_value *qv = &m->vals[m->nodes[i].out[0]];
		for (int k = 0; k < n->n_in && !v[i].fused; k++) {
			int val = n->in[k];
			if (is_weight(m, val) || uses[val] != 1 || def[val] < 0)
				continue;
			const gos_value *tv = &m->vals[val];
			const gos_cost_node *p = &v[def[val]];
			if (tv->rank != qv->rank ||
			    memcmp(tv->shape, qv->shape, sizeof(int64_t) * (size_t)tv->rank) ||
			    !p->live || (p->kind == GOS_KIND_DATAMOVE && !p->fused) ||
			    p->foldable != v[i].foldable)
				continue;
			v[i].fused = 1;
			root[i] = root[def[val]];
			for (int j = 0; j < n->n_in; j++)
				if (j != k && !is_weight(m, n->in[j]))
					v[root[i]].bytes += 4.0 * (double)gos_numel(m->vals[n->in[j]].rank,
					                                            m->vals[n->in[j]].shape);
		}
	}
	free(uses);
	free(def);
	free(comp);
	free(root);
}

/* Analytic milliseconds of node n (kind k, flops f, bytes b) on t. */
static double node_ms(const gos_node *n, gos_cost_kind k, double f, double b,
                      const gos_cost_target *t)
{
	double util = 1;
	int s = main_stmt(n);
	if (s >= 0 && k != GOS_KIND_CONTRACTION) {
		const gos_buf *dst = &n->bufs[n->stmts[s].dst];
		double inner = dst->rank > 0 ? (double)dst->shape[dst->rank - 1] : 1;
		util = lane_util(inner, t->vector_bits / 32.0);
	}
	double par = 1;
	if (t->threads > 1) {
		int th = t->threads < t->cores ? t->threads : t->cores;
		par = th > 1 ? 0.8 * th : 1;
	}
	double eff = t->eff[k];
	if (k == GOS_KIND_CONTRACTION) {
		/* A GEMM micro-kernel keeps a tile of (2 x lanes) x (2 x lanes)
		 * accumulators in registers: each loaded element is used tile
		 * times. An operand reused fewer times (a grouped convolution
		 * with few channels per group, a low-rank factor with few
		 * ranks) fills a fraction of the tile; never below a
		 * depthwise-style loop. */
		double tile = 2 * (t->vector_bits >= 64 ? t->vector_bits / 32.0 : 2);
		double r = node_reuse(n);
		double e = eff * (r < tile ? r / tile : 1);
		eff = e > t->eff[GOS_KIND_DEPTHWISE] ? e : t->eff[GOS_KIND_DEPTHWISE];
		if (eff > t->eff[k])
			eff = t->eff[k];
	}
	double peak = t->peak_gflops * 1e9 * eff * util * par;
	double compute = peak > 0 ? f / peak : 0;
	double kb = b / 1024.0, bw;
	if (kb <= t->l1_kb)
		bw = t->bw_l1_gbs;
	else if (kb <= t->l2_kb)
		bw = t->bw_l2_gbs;
	else if (t->l3_kb > 0 && kb <= t->l3_kb)
		bw = t->bw_l3_gbs;
	else
		bw = t->dram_gbs;
	double mem = bw > 0 ? b / (bw * 1e9) : 0;
	return 1e3 * (compute > mem ? compute : mem) + t->overhead_us * 1e-3;
}

int gos_cost_analyze(const gos_module *m, const gos_cost_target *t,
                     gos_cost_report *r, gos_diags *d)
{
	memset(r, 0, sizeof *r);
	r->n = m->n_node;
	r->v = gos_calloc((size_t)m->n_node + 1, sizeof *r->v);
	if (!r->v) {
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	mark_nodes(m, r->v);
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		gos_cost_node *c = &r->v[i];
		c->node = i;
		c->kind = gos_cost_node_kind(n);
		c->flops = gos_cost_node_flops(n);
		c->bytes = gos_cost_node_bytes(n);
	}
	if (t->fuse_elementwise)
		mark_fused(m, r->v);
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		gos_cost_node *c = &r->v[i];
		if (c->fused) {
			/* compute only, inside its producer's loop */
			double peak = t->peak_gflops * 1e9 * t->eff[GOS_KIND_ELEMENTWISE];
			c->ms = peak > 0 ? 1e3 * c->flops / peak : 0;
		} else {
			c->ms = node_ms(n, c->kind, c->flops, c->bytes, t);
		}
		if (c->live) {
			r->total_ms += c->ms;
			r->flops += c->flops;
			r->bytes += c->bytes;
		}
	}
	return 0;
}

void gos_cost_report_free(gos_cost_report *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

/* ---- features ----------------------------------------------------------------- */

const char *gos_cost_feature_name(int i)
{
	static char names[GOS_COST_NFEAT][40];
	static const char *what[GOS_COST_PER_KIND] = {"ms", "gflop", "mb", "nodes"};
	if (i < 0 || i >= GOS_COST_NFEAT)
		return "?";
	if (!names[i][0])
		snprintf(names[i], sizeof names[i], "%s_%s",
		         gos_cost_kind_name((gos_cost_kind)(i / GOS_COST_PER_KIND)),
		         what[i % GOS_COST_PER_KIND]);
	return names[i];
}

void gos_cost_features(const gos_cost_report *r, int fold, double *x)
{
	memset(x, 0, sizeof(double) * GOS_COST_NFEAT);
	for (int i = 0; i < r->n; i++) {
		const gos_cost_node *c = &r->v[i];
		if (!c->live || (fold && c->foldable))
			continue;
		double *f = x + GOS_COST_PER_KIND * c->kind;
		f[0] += c->ms;
		f[1] += c->flops * 1e-9;
		if (!c->fused) {
			f[2] += c->bytes * 1e-6;
			f[3] += 1;
		}
	}
}

/* ---- prediction ------------------------------------------------------------------ */

int gos_cost_predict(const gos_module *m, const gos_cost_target *t,
                     const gos_cost_model *fm, double proxy_ms, double *ms,
                     gos_diags *d)
{
	if (fm && fm->prior_proxy && !isfinite(proxy_ms)) {
		gos_error(d, (gos_loc){0}, "the cost model uses the host proxy measurement "
		                           "as its prior: a measurement of the model is needed");
		return -1;
	}
	gos_cost_report r;
	if (gos_cost_analyze(m, t, &r, d))
		return -1;
	if (!fm) {
		*ms = r.total_ms;
	} else {
		gos_cost_sample s;
		gos_cost_features(&r, 0, s.x_all);
		gos_cost_features(&r, 1, s.x_fold);
		s.proxy = proxy_ms;
		s.y = 0;
		double row[GOS_COST_MAX_COLS];
		gos_cost_model_row(fm, &s, row);
		*ms = gos_cost_model_eval(fm, row);
	}
	gos_cost_report_free(&r);
	return 0;
}
