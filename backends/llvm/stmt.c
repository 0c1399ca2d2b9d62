/* stmt.c -- the generic lowering of one statement (a tensor
 * comprehension) to a loop nest in LLVM IR (lower.h).
 *
 *   dst[v0..v(r-1)] = RED over v(r).. of ins[result]
 *
 * Collapsing: adjacent variables that every load reads as two whole
 * adjacent dimensions (X[.., h, w] with h, w ranging over those
 * dimensions) are replaced by one, through views of the buffers with the
 * dimensions merged: an elementwise op on [1, C, 7, 7] becomes one
 * contiguous loop of 49 * C lanes, a global pool one reduction of 49.
 *
 * Analysis: every index expression gets its interval (as the verifier
 * computes it), the variables it depends on, and an affine form
 * c0 + sum c_v v when it has one. Multiplications that feed one add/sub
 * (or are the summand of a sum) are contracted into llvm.fmuladd.
 *
 * Plan: one variable may be chosen as the *lane variable* V, computed w
 * lanes at a time in vector registers:
 * - an output variable ("out-lane"): the loop nest is
 *       for the other output variables (row-major)
 *         for blocks of V: acc<w> = init
 *           for the reduction variables (row-major): acc = acc (+) value<w>
 *           dst[.., V..V+w-1, ..] = acc
 *   so accumulators stay in registers across the whole reduction and the
 *   reduction order per element is that of the naive loop nest;
 * - a reduction variable ("red-lane"): it becomes the innermost loop;
 *   w partial accumulators are reduced horizontally at the end;
 * - none ("scalar"): the naive nest, left to LLVM's vectorisers.
 * A small cost model (per lane and iteration: vector, gathered and scalar
 * instruction counts, and the share of lanes that vector blocks can
 * cover) picks V, or none when vectors do not pay.
 *
 * Loads: an index independent of V is computed once per block (scalar,
 * broadcast when combined with vectors); a load whose flat offset moves
 * by 1 per lane is one vector load; other steps and non-affine indices are
 * gathered lane by lane.
 *
 * Padding: a padded load (`else f`) is checked per dimension. Dimensions
 * that do not depend on V are tested once per block and read through a
 * clamped index (select of the value and f). For dimensions that depend
 * on V affinely, the range of V is split: an interior where every such
 * load is in range for all reduction values (computed at run time from
 * the affine forms), run in vector blocks of wmax, then vl lanes, and a
 * left and right border (plus the tail) run one lane at a time with every
 * index checked. Non-affine lane dimensions are checked lane by lane.
 */
#include "backends/llvm/lower.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An affine form c0 + sum c[v] * var_v (ok = 0: not affine). */
typedef struct aff {
	int ok;
	int64_t c0;
	int64_t c[GOS_MAX_VARS];
} aff;

/* The statement being lowered. */
typedef struct sx {
	gos_lw *L;
	const gos_node *n;
	const gos_stmt *s;
	int si;
	LLVMValueRef *buf;
	int r, nv;                  /* rank of dst, number of variables */
	int64_t ext[GOS_MAX_VARS];  /* variable ranges */
	int64_t R;                  /* reduction points per element */
	/* index analysis, per ix node */
	char *ixdone;
	uint32_t *ixmask;
	int64_t *ixlo, *ixhi;
	aff *ixaff;
	/* instruction analysis */
	uint32_t *imask;
	char *live;
	int *uses;
	char *contract;             /* a MUL folded into its one consumer */
	int *fold;                  /* ADD/SUB: operand that is a folded MUL, or -1 */
	/* plan */
	int lane;                   /* lane variable, or -1 */
	int lane_red;               /* it is a reduction variable */
	int nw, widths[3];          /* vector widths of the interior blocks */
	/* emission state */
	LLVMValueRef var[GOS_MAX_VARS]; /* current values; lane var: first lane */
	int w;                      /* width of the body being emitted */
	LLVMValueRef *ixs, *ixv;    /* memo: scalar / vector index values */
	LLVMValueRef *insv;         /* memo: instruction values */
} sx;

#define B (c->L->B)

/* ---- index analysis ------------------------------------------------------ */

static int64_t sat_add(int64_t a, int64_t b, int *ovf)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r)) {
		*ovf = 1;
		return a > 0 ? INT64_MAX : INT64_MIN;
	}
	return r;
}

static int64_t sat_mul(int64_t a, int64_t b, int *ovf)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r)) {
		*ovf = 1;
		return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
	}
	return r;
}

static int64_t fdiv64(int64_t a, int64_t k)
{
	int64_t q = a / k;
	return (a % k != 0 && a < 0) ? q - 1 : q;
}

static int64_t fmod64(int64_t a, int64_t k)
{
	int64_t m = a % k;
	return m < 0 ? m + k : m;
}

static int aff_const(const aff *f)
{
	if (!f->ok)
		return 0;
	for (int v = 0; v < GOS_MAX_VARS; v++)
		if (f->c[v])
			return 0;
	return 1;
}

/* Fills interval, mask and affine form of ix node i (and its operands). */
static void ix_an(sx *c, int i)
{
	if (c->ixdone[i])
		return;
	c->ixdone[i] = 1;
	const gos_ix *x = &c->s->ix[i];
	aff *f = &c->ixaff[i];
	memset(f, 0, sizeof *f);
	int64_t lo = 0, hi = 0;
	uint32_t mask = 0;
	int ovf = 0;
	if (x->op == GOS_IX_CONST) {
		lo = hi = x->k;
		f->ok = 1;
		f->c0 = x->k;
	} else if (x->op == GOS_IX_VAR) {
		lo = 0;
		hi = c->ext[x->k] - 1;
		mask = 1u << x->k;
		f->ok = 1;
		f->c[x->k] = 1;
	} else {
		ix_an(c, x->a);
		int binary = x->op != GOS_IX_DIV && x->op != GOS_IX_MOD;
		if (binary)
			ix_an(c, x->b);
		const aff *fa = &c->ixaff[x->a], *fb = binary ? &c->ixaff[x->b] : NULL;
		int64_t al = c->ixlo[x->a], ah = c->ixhi[x->a];
		int64_t bl = binary ? c->ixlo[x->b] : 0, bh = binary ? c->ixhi[x->b] : 0;
		mask = c->ixmask[x->a] | (binary ? c->ixmask[x->b] : 0);
		switch (x->op) {
		case GOS_IX_ADD:
		case GOS_IX_SUB: {
			int sub = x->op == GOS_IX_SUB;
			lo = sub ? sat_add(al, -bh, &ovf) : sat_add(al, bl, &ovf);
			hi = sub ? sat_add(ah, -bl, &ovf) : sat_add(ah, bh, &ovf);
			if (fa->ok && fb->ok) {
				f->ok = 1;
				f->c0 = sat_add(fa->c0, sub ? -fb->c0 : fb->c0, &ovf);
				for (int v = 0; v < GOS_MAX_VARS; v++)
					f->c[v] = sat_add(fa->c[v], sub ? -fb->c[v] : fb->c[v], &ovf);
			}
			break;
		}
		case GOS_IX_MUL: {
			int64_t p[4] = {sat_mul(al, bl, &ovf), sat_mul(al, bh, &ovf),
			                sat_mul(ah, bl, &ovf), sat_mul(ah, bh, &ovf)};
			lo = hi = p[0];
			for (int k = 1; k < 4; k++) {
				lo = p[k] < lo ? p[k] : lo;
				hi = p[k] > hi ? p[k] : hi;
			}
			const aff *cf = aff_const(fa) ? fa : aff_const(fb) ? fb : NULL;
			const aff *of = cf == fa ? fb : fa;
			if (cf && of->ok) {
				f->ok = 1;
				f->c0 = sat_mul(of->c0, cf->c0, &ovf);
				for (int v = 0; v < GOS_MAX_VARS; v++)
					f->c[v] = sat_mul(of->c[v], cf->c0, &ovf);
			}
			break;
		}
		case GOS_IX_DIV:
			lo = fdiv64(al, x->k);
			hi = fdiv64(ah, x->k);
			break;
		case GOS_IX_MOD:
			if (fdiv64(al, x->k) == fdiv64(ah, x->k)) {
				lo = fmod64(al, x->k);
				hi = fmod64(ah, x->k);
			} else {
				lo = 0;
				hi = x->k - 1;
			}
			break;
		case GOS_IX_MIN:
			lo = al < bl ? al : bl;
			hi = ah < bh ? ah : bh;
			break;
		case GOS_IX_MAX:
			lo = al > bl ? al : bl;
			hi = ah > bh ? ah : bh;
			break;
		default:
			break;
		}
	}
	if (ovf)
		f->ok = 0;
	if (lo == hi && !ovf) { /* a constant whatever its form */
		memset(f, 0, sizeof *f);
		f->ok = 1;
		f->c0 = lo;
	}
	c->ixlo[i] = lo;
	c->ixhi[i] = hi;
	c->ixmask[i] = mask;
}

/* ---- collapsing adjacent variables ---------------------------------------- */

/* Index expressions reachable from root (pool size n) that name variable
 * u or v, other than through the roots being exactly a VAR node: returns
 * the mask of variables root depends on (cycle-free pools: the verifier
 * checked). */
static uint32_t ix_mask(const gos_stmt *s, int root, int depth)
{
	const gos_ix *x = &s->ix[root];
	if (depth > 4000)
		return ~0u;
	switch (x->op) {
	case GOS_IX_CONST: return 0;
	case GOS_IX_VAR: return 1u << x->k;
	case GOS_IX_DIV:
	case GOS_IX_MOD: return ix_mask(s, x->a, depth + 1);
	default: return ix_mask(s, x->a, depth + 1) | ix_mask(s, x->b, depth + 1);
	}
}

static int is_var_node(const gos_stmt *s, int root, int v)
{
	return s->ix[root].op == GOS_IX_VAR && s->ix[root].k == v;
}

/* Can variables u and u+1 of statement s of node n be replaced by one
 * variable t = u * ext(u+1) + (u+1)? Yes when both are output variables
 * or both reduction variables, no `index` instruction uses them, and every
 * live load either does not use them or reads them exactly as two
 * adjacent whole dimensions (X[.., u, u+1, ..] with those extents). */
static int can_merge(const gos_node *n, const gos_stmt *s, const char *live, int u)
{
	int v = u + 1, r = n->bufs[s->dst].rank;
	if ((u < r) != (v < r))
		return 0;
	int64_t eu = u < r ? n->bufs[s->dst].shape[u] : s->red_extent[u - r];
	int64_t ev = v < r ? n->bufs[s->dst].shape[v] : s->red_extent[v - r];
	uint32_t uv = (1u << u) | (1u << v);
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (!live[i])
			continue;
		if (in->op == GOS_OP_INDEX && (ix_mask(s, in->idx[0], 0) & uv))
			return 0;
		if (in->op != GOS_OP_LOAD)
			continue;
		const gos_buf *b = &n->bufs[in->buf];
		int first = -1, cnt = 0;
		for (int k = 0; k < in->nidx; k++)
			if (ix_mask(s, in->idx[k], 0) & uv) {
				if (first < 0)
					first = k;
				cnt++;
			}
		if (cnt == 0)
			continue;
		if (cnt != 2 || !is_var_node(s, in->idx[first], u) ||
		    !is_var_node(s, in->idx[first + 1], v) || b->shape[first] != eu ||
		    b->shape[first + 1] != ev)
			return 0;
	}
	return 1;
}

/* A view of buffer b with dimensions k and k+1 merged (same storage). */
static gos_buf merged_buf(const gos_buf *b, int k)
{
	gos_buf nb = *b;
	nb.shape[k] = b->shape[k] * b->shape[k + 1];
	for (int d = k + 1; d + 1 < b->rank; d++)
		nb.shape[d] = b->shape[d + 1];
	nb.rank = b->rank - 1;
	nb.value = -1;
	return nb;
}

/* Replaces variables u and u+1 of c->s by one (can_merge said yes):
 * a new node/statement/buffer list in the arena, loads and the
 * destination through merged views. Returns 0 or -1 (out of memory). */
static int merge_vars(sx *c, int u, const char *live)
{
	gos_arena *a = c->L->a;
	const gos_node *n = c->n;
	const gos_stmt *s = c->s;
	int v = u + 1, r = n->bufs[s->dst].rank, nv = r + s->n_red;
	uint32_t uv = (1u << u) | (1u << v);
	/* room for a view per load and one for the destination */
	int nb = n->n_buf + s->n_ins + 1;
	gos_node *nn = GOS_NEW(a, gos_node);
	gos_stmt *ns = GOS_NEW(a, gos_stmt);
	gos_buf *bufs = GOS_NEWN(a, gos_buf, nb);
	LLVMValueRef *bp = GOS_NEWN(a, LLVMValueRef, nb);
	gos_ins *ins = GOS_NEWN(a, gos_ins, s->n_ins);
	gos_ix *ix = GOS_NEWN(a, gos_ix, s->n_ix);
	const char **names = GOS_NEWN(a, const char *, nv);
	int64_t *rext = GOS_NEWN(a, int64_t, s->n_red + 1);
	if (!nn || !ns || !bufs || !bp || !ins || !ix || !names || !rext)
		return -1;
	*nn = *n;
	*ns = *s;
	memcpy(bufs, n->bufs, sizeof *bufs * (size_t)n->n_buf);
	memcpy(bp, c->buf, sizeof *bp * (size_t)n->n_buf);
	int k_buf = n->n_buf;
	nn->bufs = bufs;
	nn->stmts = ns;
	nn->n_stmt = 1;
	/* variables: v disappears, u covers both */
	for (int w = 0, o = 0; w < nv; w++) {
		if (w == v)
			continue;
		const char *nm = s->var_names && s->var_names[w] ? s->var_names[w] : "v";
		if (w == u) {
			const char *nm2 = s->var_names && s->var_names[v] ? s->var_names[v] : "v";
			nm = gos_arena_printf(a, "%s.%s", nm, nm2);
		}
		names[o++] = nm;
	}
	ns->var_names = names;
	if (u >= r) {
		for (int j = 0, o = 0; j < s->n_red; j++) {
			if (j == v - r)
				continue;
			rext[o++] = j == u - r ? s->red_extent[j] * s->red_extent[j + 1] : s->red_extent[j];
		}
		ns->n_red = s->n_red - 1;
		ns->red_extent = rext;
	} else {
		bufs[k_buf] = merged_buf(&n->bufs[s->dst], u);
		bp[k_buf] = c->buf[s->dst];
		ns->dst = k_buf++;
	}
	/* index pool: variables above v move down */
	memcpy(ix, s->ix, sizeof *ix * (size_t)s->n_ix);
	for (int i = 0; i < s->n_ix; i++) {
		if (ix[i].op == GOS_IX_VAR && ix[i].k > v)
			ix[i].k--;
		else if (ix[i].op == GOS_IX_VAR && ix[i].k == v)
			ix[i].k = u; /* only in dropped dimensions and dead code */
	}
	ns->ix = ix;
	/* loads that read u, v: through a view, one index fewer */
	memcpy(ins, s->ins, sizeof *ins * (size_t)s->n_ins);
	for (int i = 0; i < s->n_ins; i++) {
		gos_ins *in = &ins[i];
		if (!live[i] || in->op != GOS_OP_LOAD)
			continue;
		int first = -1;
		for (int k = 0; k < in->nidx && first < 0; k++)
			if (ix_mask(s, in->idx[k], 0) & uv)
				first = k;
		if (in->buf == s->dst && u < r) { /* a read of the element being written */
			in->buf = ns->dst;
		} else if (first >= 0) {
			bufs[k_buf] = merged_buf(&n->bufs[in->buf], first);
			bp[k_buf] = c->buf[in->buf];
			in->buf = k_buf++;
		} else {
			continue;
		}
		int *idx = GOS_NEWN(a, int, in->nidx);
		if (!idx)
			return -1;
		for (int k = 0, o = 0; k < in->nidx; k++)
			if (k != first + 1)
				idx[o++] = in->idx[k];
		in->idx = idx;
		in->nidx--;
	}
	ns->ins = ins;
	nn->n_buf = k_buf;
	c->n = nn;
	c->s = ns;
	c->buf = bp;
	return 0;
}

/* Collapses adjacent variables while possible (innermost pairs first),
 * so that e.g. an elementwise op on [1, C, 7, 7] runs over 49 contiguous
 * lanes instead of 7. Liveness is that of the original instructions. */
static int collapse(sx *c)
{
	const gos_stmt *s = c->s;
	char *live = GOS_NEWN(c->L->a, char, s->n_ins + 1);
	if (!live)
		return -1;
	live[s->result] = 1;
	for (int i = s->result; i >= 0; i--)
		if (live[i])
			for (int k = 0; k < gos_opinfo_tab[s->ins[i].op].arity; k++)
				live[s->ins[i].arg[k]] = 1;
	for (;;) {
		int nv = c->n->bufs[c->s->dst].rank + c->s->n_red, done = 1;
		for (int u = nv - 2; u >= 0; u--)
			if (can_merge(c->n, c->s, live, u)) {
				if (merge_vars(c, u, live))
					return -1;
				done = 0;
				break;
			}
		if (done)
			return 0;
	}
}

/* ---- instruction analysis ----------------------------------------------- */

static int is_transcendental(gos_opcode op)
{
	return op == GOS_OP_EXP || op == GOS_OP_LOG || op == GOS_OP_TANH || op == GOS_OP_ERF;
}

/* Rough instruction count of an op after lowering. */
static double op_weight(gos_opcode op)
{
	if (op == GOS_OP_POW)
		return 60;
	if (is_transcendental(op))
		return 24;
	if (op == GOS_OP_DIV || op == GOS_OP_SQRT || op == GOS_OP_RSQRT)
		return 4;
	return 1;
}

static void analyse(sx *c)
{
	const gos_stmt *s = c->s;
	gos_arena *a = c->L->a;
	c->ixdone = GOS_NEWN(a, char, s->n_ix + 1);
	c->ixmask = GOS_NEWN(a, uint32_t, s->n_ix + 1);
	c->ixlo = GOS_NEWN(a, int64_t, s->n_ix + 1);
	c->ixhi = GOS_NEWN(a, int64_t, s->n_ix + 1);
	c->ixaff = GOS_NEWN(a, aff, s->n_ix + 1);
	c->imask = GOS_NEWN(a, uint32_t, s->n_ins + 1);
	c->live = GOS_NEWN(a, char, s->n_ins + 1);
	c->uses = GOS_NEWN(a, int, s->n_ins + 1);
	c->contract = GOS_NEWN(a, char, s->n_ins + 1);
	c->fold = GOS_NEWN(a, int, s->n_ins + 1);
	c->ixs = GOS_NEWN(a, LLVMValueRef, s->n_ix + 1);
	c->ixv = GOS_NEWN(a, LLVMValueRef, s->n_ix + 1);
	c->insv = GOS_NEWN(a, LLVMValueRef, s->n_ins + 1);
	c->live[s->result] = 1;
	for (int i = s->result; i >= 0; i--) {
		if (!c->live[i])
			continue;
		const gos_ins *in = &s->ins[i];
		int ar = gos_opinfo_tab[in->op].arity;
		for (int k = 0; k < ar; k++)
			c->live[in->arg[k]] = 1;
	}
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		uint32_t m = 0;
		if ((in->op == GOS_OP_LOAD || in->op == GOS_OP_INDEX) && c->live[i]) {
			for (int k = 0; k < in->nidx; k++) {
				ix_an(c, in->idx[k]);
				m |= c->ixmask[in->idx[k]];
			}
		} else {
			for (int k = 0; k < gos_opinfo_tab[in->op].arity; k++)
				m |= c->imask[in->arg[k]];
		}
		c->imask[i] = m;
		c->fold[i] = -1;
		if (c->live[i])
			for (int k = 0; k < gos_opinfo_tab[in->op].arity; k++)
				c->uses[in->arg[k]]++;
	}
	c->uses[s->result]++;
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (!c->live[i] || (in->op != GOS_OP_ADD && in->op != GOS_OP_SUB))
			continue;
		for (int k = 0; k < 2; k++) {
			int m = in->arg[k];
			if (s->ins[m].op == GOS_OP_MUL && c->uses[m] == 1 && !c->contract[m] &&
			    m != s->result) {
				c->contract[m] = 1;
				c->fold[i] = k;
				break;
			}
		}
	}
	if (s->red == GOS_RED_SUM && s->ins[s->result].op == GOS_OP_MUL && c->uses[s->result] == 1)
		c->contract[s->result] = 1;
}

/* Row-major strides of body buffer b. */
static void strides(const gos_buf *b, int64_t *st)
{
	int64_t k = 1;
	for (int d = b->rank - 1; d >= 0; d--) {
		st[d] = k;
		k *= b->shape[d];
	}
}

/* ---- the plan ------------------------------------------------------------- */

enum { LD_INDEP, LD_CONTIG, LD_STRIDED, LD_GATHER };

/* How load `in` behaves across lanes of variable v; *step = flat offset
 * change per lane for CONTIG/STRIDED. */
static int load_kind(const sx *c, const gos_ins *in, int v, int64_t *step)
{
	const gos_buf *b = &c->n->bufs[in->buf];
	int64_t st[GOS_MAX_RANK];
	strides(b, st);
	int64_t sp = 0;
	int dep = 0;
	for (int k = 0; k < in->nidx; k++) {
		int root = in->idx[k];
		if (!(c->ixmask[root] & (1u << v)))
			continue;
		dep = 1;
		if (!c->ixaff[root].ok)
			return LD_GATHER;
		sp += c->ixaff[root].c[v] * st[k];
	}
	*step = sp;
	if (!dep)
		return LD_INDEP;
	return sp == 1 ? LD_CONTIG : LD_STRIDED;
}

/* Conservative interior [lo, hi) of lane variable v over all values of
 * the other variables (compile time, for the cost model). */
static void static_interior(const sx *c, int v, int64_t *lo, int64_t *hi)
{
	*lo = 0;
	*hi = c->ext[v];
	for (int i = 0; i < c->s->n_ins; i++) {
		const gos_ins *in = &c->s->ins[i];
		if (!c->live[i] || in->op != GOS_OP_LOAD || !in->has_pad)
			continue;
		const gos_buf *b = &c->n->bufs[in->buf];
		for (int k = 0; k < in->nidx; k++) {
			int root = in->idx[k];
			const aff *f = &c->ixaff[root];
			if (!(c->ixmask[root] & (1u << v)) || !f->ok)
				continue;
			if (c->ixlo[root] >= 0 && c->ixhi[root] < b->shape[k])
				continue;
			int64_t gmin = f->c0, gmax = f->c0, a = f->c[v];
			for (int u = 0; u < c->nv; u++) {
				if (u == v)
					continue;
				int64_t t = f->c[u] * (c->ext[u] - 1);
				gmin += t < 0 ? t : 0;
				gmax += t > 0 ? t : 0;
			}
			int64_t D = b->shape[k], l, h;
			if (a > 0) {
				l = -fdiv64(gmin, a);           /* ceil(-gmin / a) */
				h = fdiv64(D - 1 - gmax, a) + 1;
			} else {
				l = -fdiv64(-(gmax - (D - 1)), -a); /* ceil((gmax-D+1)/-a) */
				h = fdiv64(gmin, -a) + 1;
			}
			*lo = l > *lo ? l : *lo;
			*hi = h < *hi ? h : *hi;
		}
	}
	if (*lo > c->ext[v])
		*lo = c->ext[v];
	if (*hi < *lo)
		*hi = *lo;
}

/* Cost per element and reduction point with lane variable v (-1: scalar). */
static double plan_cost(const sx *c, int v, double *scalar_cost)
{
	const gos_stmt *s = c->s;
	int vl = c->L->vl, wm = c->L->wmax;
	double sc = 0, vc = 0;
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (!c->live[i] || c->contract[i])
			continue;
		double wt = op_weight(in->op);
		if (in->op == GOS_OP_LOAD) {
			wt = in->has_pad ? 2 : 1;
		}
		sc += wt;
		if (v < 0)
			continue;
		if (!(c->imask[i] & (1u << v))) {
			vc += wt / wm;
		} else if (in->op == GOS_OP_LOAD) {
			int64_t step;
			int k = load_kind(c, in, v, &step);
			vc += k == LD_CONTIG ? 1.0 / vl : k == LD_STRIDED ? 1.0 : 2.0;
		} else if (in->op == GOS_OP_INDEX) {
			vc += 2.0 / vl;
		} else {
			vc += wt / vl;
		}
	}
	double R = (double)c->R;
	sc += (s->red != GOS_RED_NONE) + 1.0 / R;
	*scalar_cost = sc;
	if (v < 0)
		return sc;
	vc += (s->red != GOS_RED_NONE) ? 1.0 / vl : 0;
	if (v < c->r)
		vc += (v == c->r - 1 ? 1.0 / vl : 1.0) / R;
	else
		vc += (4.0 + wm / vl) / R;
	int64_t lo, hi;
	static_interior(c, v, &lo, &hi);
	int64_t E = c->ext[v];
	int64_t vec = (hi - lo) / vl * vl;
	if (vec < 0)
		vec = 0;
	return ((double)vec * vc + (double)(E - vec) * sc) / (double)E;
}

static void plan(sx *c)
{
	double sc;
	double best = plan_cost(c, -1, &sc) * 0.95;
	c->lane = -1;
	c->lane_red = 0;
	/* candidates: output variables from the innermost, then reduction
	 * variables from the innermost; earlier ones win ties */
	int cand[GOS_MAX_VARS], nc = 0;
	for (int v = c->r - 1; v >= 0; v--)
		cand[nc++] = v;
	if (c->s->red != GOS_RED_NONE)
		for (int v = c->nv - 1; v >= c->r; v--)
			cand[nc++] = v;
	for (int k = 0; k < nc; k++) {
		int v = cand[k];
		if (c->ext[v] < c->L->vl)
			continue;
		double cost = plan_cost(c, v, &sc);
		if (cost < best * 0.99) {
			best = cost;
			c->lane = v;
		}
	}
	c->lane_red = c->lane >= c->r;
	c->nw = 0;
	if (c->lane >= 0) {
		int64_t E = c->ext[c->lane];
		if (c->L->wmax <= E)
			c->widths[c->nw++] = c->L->wmax;
		if (c->L->vl < c->L->wmax && c->L->vl <= E)
			c->widths[c->nw++] = c->L->vl;
	}
}

/* ---- index expressions ---------------------------------------------------- */

/* Index expression root at the current width: a scalar (ity) when it does
 * not depend on the lane variable or w == 1, else <w x ity>. */
static LLVMValueRef emit_ix(sx *c, int i)
{
	int vec = c->w > 1 && c->lane >= 0 && (c->ixmask[i] & (1u << c->lane));
	LLVMValueRef *memo = vec ? &c->ixv[i] : &c->ixs[i];
	if (*memo)
		return *memo;
	const gos_ix *x = &c->s->ix[i];
	gos_lw *L = c->L;
	LLVMValueRef r = NULL;
	const aff *f = &c->ixaff[i];
	if (aff_const(f)) {
		r = gos_lw_ix(L, f->c0);
		if (vec) /* cannot happen: constants do not depend on the lane */
			r = gos_lw_splat(L, r, c->w);
	} else if (x->op == GOS_IX_VAR) {
		r = c->var[x->k];
		if (vec)
			r = LLVMBuildAdd(B, gos_lw_splat(L, r, c->w), gos_lw_iota(L, c->w), "");
	} else {
		LLVMValueRef a = emit_ix(c, x->a), b = NULL;
		if (x->op != GOS_IX_DIV && x->op != GOS_IX_MOD) {
			b = emit_ix(c, x->b);
			gos_lw_match(L, &a, &b);
		}
		int nonneg = c->ixlo[x->a] >= 0;
		switch (x->op) {
		case GOS_IX_ADD: r = LLVMBuildNSWAdd(B, a, b, ""); break;
		case GOS_IX_SUB: r = LLVMBuildNSWSub(B, a, b, ""); break;
		case GOS_IX_MUL: r = LLVMBuildNSWMul(B, a, b, ""); break;
		case GOS_IX_DIV: r = gos_lw_floordiv(L, a, x->k, nonneg); break;
		case GOS_IX_MOD: r = gos_lw_floormod(L, a, x->k, nonneg); break;
		case GOS_IX_MIN: r = gos_lw_imin(L, a, b); break;
		case GOS_IX_MAX: r = gos_lw_imax(L, a, b); break;
		default: r = gos_lw_ix(L, 0); break;
		}
		if (vec && gos_lw_width(r) == 1)
			r = gos_lw_splat(L, r, c->w);
	}
	*memo = r;
	return r;
}

/* i1 (or vector of i1): 0 <= x < D. */
static LLVMValueRef in_range(sx *c, LLVMValueRef x, int64_t D)
{
	LLVMTypeRef t = LLVMTypeOf(x);
	LLVMValueRef ge = LLVMBuildICmp(B, LLVMIntSGE, x, gos_lw_ic(t, 0), "");
	LLVMValueRef lt = LLVMBuildICmp(B, LLVMIntSLT, x, gos_lw_ic(t, D), "");
	return LLVMBuildAnd(B, ge, lt, "");
}

static LLVMValueRef clamp(sx *c, LLVMValueRef x, int64_t D)
{
	LLVMTypeRef t = LLVMTypeOf(x);
	return gos_lw_imin(c->L, gos_lw_imax(c->L, x, gos_lw_ic(t, 0)), gos_lw_ic(t, D - 1));
}

static LLVMValueRef and_pred(sx *c, LLVMValueRef p, LLVMValueRef q)
{
	if (!p)
		return q;
	gos_lw_match(c->L, &p, &q);
	return LLVMBuildAnd(B, p, q, "");
}

static LLVMValueRef gep(sx *c, LLVMValueRef base, LLVMValueRef off)
{
	return LLVMBuildInBoundsGEP2(B, c->L->f32, base, &off, 1, "");
}

static LLVMValueRef load1(sx *c, LLVMValueRef base, LLVMValueRef off)
{
	LLVMValueRef v = LLVMBuildLoad2(B, c->L->f32, gep(c, base, off), "");
	LLVMSetAlignment(v, 4);
	return v;
}

/* ---- instructions --------------------------------------------------------- */

static LLVMValueRef emit_load(sx *c, const gos_ins *in)
{
	gos_lw *L = c->L;
	const gos_buf *b = &c->n->bufs[in->buf];
	LLVMValueRef base = c->buf[in->buf];
	int64_t st[GOS_MAX_RANK];
	strides(b, st);
	int w = c->w, lane = c->lane;
	int dep = 0, affine = 1;
	for (int k = 0; k < in->nidx; k++) {
		int root = in->idx[k];
		if (w > 1 && lane >= 0 && (c->ixmask[root] & (1u << lane))) {
			dep = 1;
			affine &= c->ixaff[root].ok;
		}
	}
	LLVMValueRef pred = NULL, off = NULL;
	if (!dep || affine) {
		/* scalar offset of lane 0; lane dimensions of padded loads are in
		 * range in the interior blocks where this runs */
		int64_t step = 0;
		for (int k = 0; k < in->nidx; k++) {
			int root = in->idx[k];
			int ldim = dep && (c->ixmask[root] & (1u << lane));
			int vsave = c->w;
			c->w = 1; /* lane 0 */
			LLVMValueRef x = emit_ix(c, root);
			c->w = vsave;
			if (ldim)
				step += c->ixaff[root].c[lane] * st[k];
			if (in->has_pad && !ldim && (c->ixlo[root] < 0 || c->ixhi[root] >= b->shape[k])) {
				pred = and_pred(c, pred, in_range(c, x, b->shape[k]));
				x = clamp(c, x, b->shape[k]);
			}
			LLVMValueRef t = st[k] == 1 ? x : LLVMBuildNSWMul(B, x, gos_lw_ix(L, st[k]), "");
			off = off ? LLVMBuildNSWAdd(B, off, t, "") : t;
		}
		if (!off)
			off = gos_lw_ix(L, 0);
		LLVMValueRef v;
		if (!dep) {
			v = load1(c, base, off);
		} else if (step == 1) {
			LLVMTypeRef vt = gos_lw_fty(L, w);
			v = LLVMBuildLoad2(B, vt, LLVMBuildBitCast(B, gep(c, base, off),
			                                           LLVMPointerType(vt, 0), ""), "");
			LLVMSetAlignment(v, 4);
		} else {
			v = LLVMGetUndef(gos_lw_fty(L, w));
			for (int l = 0; l < w; l++) {
				LLVMValueRef o = LLVMBuildNSWAdd(B, off, gos_lw_ix(L, step * l), "");
				v = LLVMBuildInsertElement(B, v, load1(c, base, o),
				                           LLVMConstInt(L->i32, (unsigned)l, 0), "");
			}
		}
		if (pred)
			v = LLVMBuildSelect(B, pred, v, gos_lw_fc(L, LLVMTypeOf(v), in->f), "");
		return v;
	}
	/* general: per-lane offsets and checks, gathered */
	for (int k = 0; k < in->nidx; k++) {
		int root = in->idx[k];
		LLVMValueRef x = emit_ix(c, root);
		if (in->has_pad && (c->ixlo[root] < 0 || c->ixhi[root] >= b->shape[k])) {
			pred = and_pred(c, pred, in_range(c, x, b->shape[k]));
			x = clamp(c, x, b->shape[k]);
		}
		LLVMValueRef sk = gos_lw_ic(LLVMTypeOf(x), st[k]);
		LLVMValueRef t = st[k] == 1 ? x : LLVMBuildNSWMul(B, x, sk, "");
		if (off)
			gos_lw_match(L, &off, &t);
		off = off ? LLVMBuildNSWAdd(B, off, t, "") : t;
	}
	off = gos_lw_splat(L, off, w);
	LLVMValueRef v = LLVMGetUndef(gos_lw_fty(L, w));
	for (int l = 0; l < w; l++) {
		LLVMValueRef li = LLVMConstInt(L->i32, (unsigned)l, 0);
		LLVMValueRef o = LLVMBuildExtractElement(B, off, li, "");
		v = LLVMBuildInsertElement(B, v, load1(c, base, o), li, "");
	}
	if (pred) {
		if (gos_lw_width(pred) == 1)
			pred = gos_lw_splat(L, pred, w);
		v = LLVMBuildSelect(B, pred, v, gos_lw_fc(L, LLVMTypeOf(v), in->f), "");
	}
	return v;
}

static LLVMValueRef fbool(sx *c, LLVMValueRef cond)
{
	int w = gos_lw_width(cond);
	LLVMTypeRef ft = gos_lw_fty(c->L, w);
	return LLVMBuildSelect(B, cond, gos_lw_fc(c->L, ft, 1), gos_lw_fc(c->L, ft, 0), "");
}

/* Whether instruction i is a constant; its value in *f. */
static int const_arg(const sx *c, int i, float *f)
{
	if (c->s->ins[i].op != GOS_OP_CONST)
		return 0;
	*f = c->s->ins[i].f;
	return 1;
}

static LLVMValueRef emit_pow(sx *c, const gos_ins *in)
{
	gos_lw *L = c->L;
	LLVMValueRef x = c->insv[in->arg[0]], y = c->insv[in->arg[1]];
	float k;
	if (const_arg(c, in->arg[1], &k)) {
		if (k == 1.0f)
			return x;
		if (k == 2.0f)
			return LLVMBuildFMul(B, x, x, "");
		if (k == -1.0f)
			return LLVMBuildFDiv(B, gos_lw_fc(L, LLVMTypeOf(x), 1), x, "");
		if (k == 0.5f) { /* powf(-0, .5) = +0, powf(-inf, .5) = inf */
			LLVMValueRef r = LLVMBuildFAdd(B, gos_lw_sqrt(L, x),
			                               gos_lw_fc(L, LLVMTypeOf(x), 0), "");
			LLVMValueRef ninf = LLVMBuildFCmp(B, LLVMRealOEQ, x,
			                                  gos_lw_fc(L, LLVMTypeOf(x), -1.0 / 0.0), "");
			return LLVMBuildSelect(B, ninf, gos_lw_fc(L, LLVMTypeOf(x), 1.0 / 0.0), r, "");
		}
	}
	return gos_lw_pow(L, x, y);
}

static LLVMValueRef emit_ins(sx *c, int i)
{
	gos_lw *L = c->L;
	const gos_ins *in = &c->s->ins[i];
	LLVMValueRef a = NULL, b = NULL, d = NULL;
	int ar = gos_opinfo_tab[in->op].arity;
	if (ar >= 1 && !c->contract[in->arg[0]])
		a = c->insv[in->arg[0]];
	if (ar >= 2 && !c->contract[in->arg[1]])
		b = c->insv[in->arg[1]];
	if (ar >= 3)
		d = c->insv[in->arg[2]];
	if (a && b && in->op != GOS_OP_SELECT && in->op != GOS_OP_POW)
		gos_lw_match(L, &a, &b);
	switch (in->op) {
	case GOS_OP_CONST: return LLVMConstReal(L->f32, in->f);
	case GOS_OP_LOAD: return emit_load(c, in);
	case GOS_OP_INDEX: {
		LLVMValueRef x = emit_ix(c, in->idx[0]);
		return LLVMBuildSIToFP(B, x, gos_lw_fty(L, gos_lw_width(x)), "");
	}
	case GOS_OP_ADD:
	case GOS_OP_SUB: {
		int sub = in->op == GOS_OP_SUB;
		if (c->fold[i] >= 0) {
			const gos_ins *m = &c->s->ins[in->arg[c->fold[i]]];
			LLVMValueRef x = c->insv[m->arg[0]], y = c->insv[m->arg[1]];
			LLVMValueRef o = c->insv[in->arg[1 - c->fold[i]]];
			if (sub && c->fold[i] == 0)
				o = LLVMBuildFNeg(B, o, ""); /* x*y - o */
			else if (sub)
				x = LLVMBuildFNeg(B, x, ""); /* o - x*y */
			return gos_lw_fmuladd(L, x, y, o);
		}
		return sub ? LLVMBuildFSub(B, a, b, "") : LLVMBuildFAdd(B, a, b, "");
	}
	case GOS_OP_MUL: return LLVMBuildFMul(B, a, b, "");
	case GOS_OP_DIV: return LLVMBuildFDiv(B, a, b, "");
	case GOS_OP_MAX: return gos_lw_fmax(L, a, b);
	case GOS_OP_MIN: return gos_lw_fmin(L, a, b);
	case GOS_OP_POW: return emit_pow(c, in);
	case GOS_OP_LT: return fbool(c, LLVMBuildFCmp(B, LLVMRealOLT, a, b, ""));
	case GOS_OP_LE: return fbool(c, LLVMBuildFCmp(B, LLVMRealOLE, a, b, ""));
	case GOS_OP_EQ: return fbool(c, LLVMBuildFCmp(B, LLVMRealOEQ, a, b, ""));
	case GOS_OP_NE: return fbool(c, LLVMBuildFCmp(B, LLVMRealUNE, a, b, ""));
	case GOS_OP_NEG: return LLVMBuildFNeg(B, a, "");
	case GOS_OP_ABS: return gos_lw_call(L, "llvm.fabs", LLVMTypeOf(a), &a, 1);
	case GOS_OP_EXP: return gos_lw_exp(L, a);
	case GOS_OP_LOG: return gos_lw_log(L, a);
	case GOS_OP_SQRT: return gos_lw_sqrt(L, a);
	case GOS_OP_RSQRT:
		return LLVMBuildFDiv(B, gos_lw_fc(L, LLVMTypeOf(a), 1), gos_lw_sqrt(L, a), "");
	case GOS_OP_TANH: return gos_lw_tanh(L, a);
	case GOS_OP_ERF: return gos_lw_erf(L, a);
	case GOS_OP_FLOOR: return gos_lw_floor(L, a);
	case GOS_OP_FMA: return gos_lw_fmuladd(L, a, b, d);
	case GOS_OP_SELECT: {
		/* a is the condition here */
		LLVMValueRef cnd = LLVMBuildFCmp(B, LLVMRealUNE, a, gos_lw_fc(L, LLVMTypeOf(a), 0), "");
		gos_lw_match(L, &b, &d);
		if (gos_lw_width(cnd) > gos_lw_width(b)) {
			b = gos_lw_splat(L, b, gos_lw_width(cnd));
			d = gos_lw_splat(L, d, gos_lw_width(cnd));
		}
		return LLVMBuildSelect(B, cnd, b, d, "");
	}
	default: return LLVMConstReal(L->f32, 0);
	}
}

/* Emits the live instructions for the current variable values at width
 * c->w; every instruction that does not depend on the lane variable stays
 * scalar. The memo is reset first. */
static void emit_body(sx *c)
{
	const gos_stmt *s = c->s;
	memset(c->ixs, 0, sizeof *c->ixs * (size_t)s->n_ix);
	memset(c->ixv, 0, sizeof *c->ixv * (size_t)s->n_ix);
	for (int i = 0; i < s->n_ins; i++) {
		c->insv[i] = NULL;
		if (c->live[i] && !c->contract[i])
			c->insv[i] = emit_ins(c, i);
	}
}

/* ---- the loop nest -------------------------------------------------------- */

static LLVMValueRef red_init(sx *c, int w)
{
	double v = c->s->red == GOS_RED_MAX ? -1.0 / 0.0 : c->s->red == GOS_RED_MIN ? 1.0 / 0.0 : 0;
	return gos_lw_fc(c->L, gos_lw_fty(c->L, w), v);
}

static LLVMValueRef combine(sx *c, LLVMValueRef acc, LLVMValueRef v)
{
	gos_lw_match(c->L, &acc, &v);
	switch (c->s->red) {
	case GOS_RED_MAX: return gos_lw_fmax(c->L, acc, v);
	case GOS_RED_MIN: return gos_lw_fmin(c->L, acc, v);
	default: return LLVMBuildFAdd(B, acc, v, "");
	}
}

/* One reduction step at width c->w into the accumulator at acc. */
static void accumulate(sx *c, LLVMValueRef acc)
{
	LLVMTypeRef at = gos_lw_fty(c->L, c->w);
	LLVMValueRef cur = LLVMBuildLoad2(B, at, acc, "");
	emit_body(c);
	const gos_stmt *s = c->s;
	LLVMValueRef nv;
	if (c->contract[s->result]) {
		const gos_ins *m = &s->ins[s->result];
		nv = gos_lw_fmuladd(c->L, c->insv[m->arg[0]], c->insv[m->arg[1]], cur);
	} else {
		nv = combine(c, cur, gos_lw_splat(c->L, c->insv[s->result], c->w));
	}
	LLVMBuildStore(B, nv, acc);
}

/* Stores v (width c->w) at the destination element(s) of the current
 * variable values. */
static void store_dst(sx *c, LLVMValueRef v)
{
	gos_lw *L = c->L;
	const gos_buf *b = &c->n->bufs[c->s->dst];
	int64_t st[GOS_MAX_RANK];
	strides(b, st);
	LLVMValueRef off = NULL;
	for (int d = 0; d < c->r; d++) {
		LLVMValueRef t = st[d] == 1 ? c->var[d] : LLVMBuildNSWMul(B, c->var[d], gos_lw_ix(L, st[d]), "");
		off = off ? LLVMBuildNSWAdd(B, off, t, "") : t;
	}
	if (!off)
		off = gos_lw_ix(L, 0);
	LLVMValueRef base = c->buf[c->s->dst];
	int w = c->lane_red ? 1 : c->w;
	if (w == 1) {
		if (gos_lw_width(v) > 1)
			v = LLVMBuildExtractElement(B, v, LLVMConstInt(L->i32, 0, 0), "");
		LLVMSetAlignment(LLVMBuildStore(B, v, gep(c, base, off)), 4);
		return;
	}
	v = gos_lw_splat(L, v, w);
	if (st[c->lane] == 1) {
		LLVMTypeRef vt = gos_lw_fty(L, w);
		LLVMValueRef p = LLVMBuildBitCast(B, gep(c, base, off), LLVMPointerType(vt, 0), "");
		LLVMSetAlignment(LLVMBuildStore(B, v, p), 4);
		return;
	}
	for (int l = 0; l < w; l++) {
		LLVMValueRef li = LLVMConstInt(L->i32, (unsigned)l, 0);
		LLVMValueRef o = LLVMBuildNSWAdd(B, off, gos_lw_ix(L, st[c->lane] * l), "");
		LLVMSetAlignment(LLVMBuildStore(B, LLVMBuildExtractElement(B, v, li, ""), gep(c, base, o)),
		                 4);
	}
}

/* Runtime interior [*lo, *hi) of the lane variable: where every padded
 * load's lane-dependent affine dimensions are in range, for the current
 * values of the variables outside the lane loop and all values of those
 * inside it (the reduction variables in out-lane mode). */
static void interior(sx *c, LLVMValueRef *lo, LLVMValueRef *hi)
{
	gos_lw *L = c->L;
	int v = c->lane;
	LLVMValueRef l = gos_lw_ix(L, 0), h = gos_lw_ix(L, c->ext[v]);
	for (int i = 0; i < c->s->n_ins; i++) {
		const gos_ins *in = &c->s->ins[i];
		if (!c->live[i] || in->op != GOS_OP_LOAD || !in->has_pad)
			continue;
		const gos_buf *b = &c->n->bufs[in->buf];
		for (int k = 0; k < in->nidx; k++) {
			int root = in->idx[k];
			const aff *f = &c->ixaff[root];
			if (!(c->ixmask[root] & (1u << v)) || !f->ok)
				continue;
			if (c->ixlo[root] >= 0 && c->ixhi[root] < b->shape[k])
				continue;
			/* g = f - a*v over the fixed variables, then widened by the inner ones */
			int64_t kmin = f->c0, kmax = f->c0;
			LLVMValueRef g = NULL;
			for (int u = 0; u < c->nv; u++) {
				if (u == v || !f->c[u])
					continue;
				int inner = !c->lane_red && u >= c->r;
				if (inner) {
					int64_t t = f->c[u] * (c->ext[u] - 1);
					kmin += t < 0 ? t : 0;
					kmax += t > 0 ? t : 0;
				} else {
					LLVMValueRef t = LLVMBuildNSWMul(B, c->var[u], gos_lw_ix(L, f->c[u]), "");
					g = g ? LLVMBuildNSWAdd(B, g, t, "") : t;
				}
			}
			LLVMValueRef gmin = gos_lw_ix(L, kmin), gmax = gos_lw_ix(L, kmax);
			if (g) {
				gmin = LLVMBuildNSWAdd(B, g, gmin, "");
				gmax = LLVMBuildNSWAdd(B, g, gmax, "");
			}
			int64_t a = f->c[v], D = b->shape[k];
			LLVMValueRef ll, hh;
			if (a > 0) {
				/* a v + gmin >= 0, a v + gmax <= D-1 */
				ll = LLVMBuildNeg(B, gos_lw_floordiv(L, gmin, a, 0), "");
				hh = LLVMBuildNSWAdd(B, gos_lw_floordiv(L, LLVMBuildNSWSub(B, gos_lw_ix(L, D - 1),
				                                                           gmax, ""),
				                                        a, 0),
				                     gos_lw_ix(L, 1), "");
			} else {
				ll = LLVMBuildNeg(
					B, gos_lw_floordiv(L, LLVMBuildNSWSub(B, gos_lw_ix(L, D - 1), gmax, ""), -a, 0),
					"");
				hh = LLVMBuildNSWAdd(B, gos_lw_floordiv(L, gmin, -a, 0), gos_lw_ix(L, 1), "");
			}
			l = gos_lw_imax(L, l, ll);
			h = gos_lw_imin(L, h, hh);
		}
	}
	*lo = gos_lw_imin(L, l, gos_lw_ix(L, c->ext[v]));
	*hi = h;
}

typedef void (*seg_fn)(sx *c, void *arg);

/* Runs fn over the lane variable's range: border lanes one at a time,
 * interior blocks at each width of the plan. fn sees c->var[lane] (first
 * lane) and c->w. */
static void lane_segments(sx *c, seg_fn fn, void *arg)
{
	gos_lw *L = c->L;
	int v = c->lane;
	LLVMValueRef lo, hi;
	interior(c, &lo, &hi);
	gos_loop lp;
	c->w = 1;
	c->var[v] = gos_lw_loop_begin(L, &lp, gos_lw_ix(L, 0), lo, "lborder");
	lp.scalar_tail = 1;
	fn(c, arg);
	gos_lw_loop_end(L, &lp, 1);
	LLVMValueRef start = lp.iv;
	for (int k = 0; k < c->nw; k++) {
		int w = c->widths[k];
		LLVMValueRef lim = LLVMBuildNSWSub(B, hi, gos_lw_ix(L, w - 1), "");
		c->var[v] = gos_lw_loop_begin(L, &lp, start, lim, "lanes");
		c->w = w;
		fn(c, arg);
		gos_lw_loop_end(L, &lp, w);
		start = lp.iv;
	}
	c->w = 1;
	c->var[v] = gos_lw_loop_begin(L, &lp, start, gos_lw_ix(L, c->ext[v]), "rborder");
	lp.scalar_tail = 1;
	fn(c, arg);
	gos_lw_loop_end(L, &lp, 1);
	c->w = 1;
}

/* Loops over variables vars[0..n) (row-major), calling fn innermost. */
static void nest(sx *c, const int *vars, int n, seg_fn fn, void *arg)
{
	if (n == 0) {
		fn(c, arg);
		return;
	}
	int v = vars[0];
	if (c->ext[v] == 1) {
		c->var[v] = gos_lw_ix(c->L, 0);
		nest(c, vars + 1, n - 1, fn, arg);
		return;
	}
	gos_loop lp;
	c->var[v] = gos_lw_loop_begin(c->L, &lp, gos_lw_ix(c->L, 0), gos_lw_ix(c->L, c->ext[v]),
	                              c->s->var_names && c->s->var_names[v] ? c->s->var_names[v] : "v");
	nest(c, vars + 1, n - 1, fn, arg);
	gos_lw_loop_end(c->L, &lp, 1);
}

/* Red-lane mode: accumulators per width (index 0 = width 1). */
typedef struct redacc {
	LLVMValueRef acc[4];
	int wid[4];
	int n;
} redacc;

static void seg_accumulate(sx *c, void *arg)
{
	redacc *ra = arg;
	for (int k = 0; k < ra->n; k++)
		if (ra->wid[k] == c->w)
			accumulate(c, ra->acc[k]);
}

static void inner_accumulate(sx *c, void *arg)
{
	if (c->lane_red)
		lane_segments(c, seg_accumulate, arg);
	else
		accumulate(c, arg);
}

/* The body of one block of output elements at width c->w: the reduction
 * (if any) and the store. */
static void block_out(sx *c, void *arg)
{
	(void)arg;
	gos_lw *L = c->L;
	const gos_stmt *s = c->s;
	if (s->red == GOS_RED_NONE) {
		emit_body(c);
		store_dst(c, c->insv[s->result]);
		return;
	}
	/* a reduction (over no variables it has one point: init (+) value) */
	int w = c->w;
	int rv[GOS_MAX_VARS], nr = 0;
	for (int v = c->r; v < c->nv; v++)
		if (!(c->lane_red && v == c->lane))
			rv[nr++] = v;
	if (c->lane_red) {
		redacc ra = {{0}, {0}, 0};
		ra.wid[ra.n++] = 1;
		for (int k = 0; k < c->nw; k++)
			ra.wid[ra.n++] = c->widths[k];
		for (int k = 0; k < ra.n; k++) {
			ra.acc[k] = gos_lw_alloca(L, gos_lw_fty(L, ra.wid[k]), "acc");
			LLVMBuildStore(B, red_init(c, ra.wid[k]), ra.acc[k]);
		}
		nest(c, rv, nr, inner_accumulate, &ra);
		LLVMValueRef tot = NULL;
		for (int k = ra.n - 1; k >= 0; k--) {
			LLVMValueRef a = LLVMBuildLoad2(B, gos_lw_fty(L, ra.wid[k]), ra.acc[k], "");
			if (ra.wid[k] > 1)
				a = gos_lw_hreduce(L, s->red, a);
			tot = tot ? combine(c, tot, a) : a;
		}
		c->w = 1;
		store_dst(c, tot);
		c->w = w;
		return;
	}
	LLVMValueRef acc = gos_lw_alloca(L, gos_lw_fty(L, w), "acc");
	LLVMBuildStore(B, red_init(c, w), acc);
	nest(c, rv, nr, inner_accumulate, acc);
	c->w = w;
	store_dst(c, LLVMBuildLoad2(B, gos_lw_fty(L, w), acc, ""));
}

static void outer_body(sx *c, void *arg)
{
	if (c->lane >= 0 && !c->lane_red)
		lane_segments(c, block_out, arg);
	else {
		c->w = 1;
		block_out(c, arg);
	}
}

static const char *var_name(const sx *c, int v)
{
	return c->s->var_names && c->s->var_names[v] ? c->s->var_names[v] : "?";
}

/* One line of the lowering report. */
static void report(sx *c)
{
	gos_lw *L = c->L;
	const gos_buf *dst = &c->n->bufs[c->s->dst];
	gos_lw_stat(L, "node '%s' (%s) stmt %d -> %s: ", c->n->name, c->n->op, c->si,
	            dst->name ? dst->name : "?");
	if (c->lane < 0) {
		gos_lw_stat(L, "scalar");
	} else {
		gos_lw_stat(L, "%s-lane %s, widths", c->lane_red ? "red" : "out", var_name(c, c->lane));
		for (int k = 0; k < c->nw; k++)
			gos_lw_stat(L, " %d", c->widths[k]);
		gos_lw_stat(L, " 1; loads:");
		for (int i = 0; i < c->s->n_ins; i++) {
			const gos_ins *in = &c->s->ins[i];
			if (!c->live[i] || in->op != GOS_OP_LOAD)
				continue;
			int64_t step;
			int k = load_kind(c, in, c->lane, &step);
			static const char *const kn[] = {"bcast", "contig", "strided", "gather"};
			gos_lw_stat(L, " %s:%s%s", c->n->bufs[in->buf].name ? c->n->bufs[in->buf].name : "?",
			            kn[k], in->has_pad ? "+pad" : "");
		}
	}
	gos_lw_stat(L, "\n");
}

int gos_lw_stmt(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf)
{
	for (const gos_lw_kernel *k = gos_lw_kernels; k->name; k++)
		if (k->match(L, n, si))
			return k->emit(L, n, si, buf);
	sx cx, *c = &cx;
	memset(c, 0, sizeof *c);
	c->L = L;
	c->n = n;
	c->s = &n->stmts[si];
	c->si = si;
	c->buf = buf;
	if (collapse(c)) {
		gos_error(L->d, n->loc, "out of memory");
		L->err = 1;
		return -1;
	}
	n = c->n;
	const gos_buf *dst = &n->bufs[c->s->dst];
	c->r = dst->rank;
	c->nv = c->r + c->s->n_red;
	c->R = 1;
	for (int d = 0; d < c->r; d++)
		c->ext[d] = dst->shape[d];
	for (int j = 0; j < c->s->n_red; j++) {
		c->ext[c->r + j] = c->s->red_extent[j];
		c->R *= c->s->red_extent[j];
	}
	analyse(c);
	if (L->ity_bits < 64) {
		for (int i = 0; i < c->s->n_ix; i++)
			if (c->ixdone[i] && (c->ixlo[i] < INT32_MIN || c->ixhi[i] > INT32_MAX)) {
				gos_error(L->d, n->loc,
				          "node '%s' (%s) stmt %d: an index ranges over [%lld, %lld], too "
				          "large for a 32-bit target",
				          n->name, n->op, si, (long long)c->ixlo[i], (long long)c->ixhi[i]);
				L->err = 1;
				return -1;
			}
	}
	plan(c);
	report(c);
	int ov[GOS_MAX_VARS], no = 0;
	for (int d = 0; d < c->r; d++)
		if (!(c->lane == d))
			ov[no++] = d;
	nest(c, ov, no, outer_body, NULL);
	return 0;
}
