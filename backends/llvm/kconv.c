/* kconv.c -- a register-blocked direct convolution for the prelude's
 * conv2d comprehension (groups, depthwise, stride, dilation, padding),
 * with the node's elementwise epilogue statements (bias, residual add,
 * activations: what passes/fuse.c appends) applied in registers before
 * the one store of each output vector.
 *
 * Output rows are vectorised along the output width q (VL lanes of the
 * target's vector width); each block keeps KB output channels x QB
 * vectors of accumulators in registers, so every input vector load feeds
 * KB fused multiply-adds and every weight (a scalar broadcast) feeds QB.
 * A 1x1 stride-1 unpadded convolution is a matrix product over the
 * flattened H*W plane and is vectorised along it. Blocks whose input
 * window is inside the tensor use plain (or, for stride 2, two plain
 * loads and a shuffle) vector loads; border and tail blocks use masked
 * gathers, so padding reads 0 exactly as the comprehension says. */
#include "backends/llvm/lower.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAXKB 16
#define MAXQB 4

typedef struct kc {
	gos_lw *L;
	const gos_node *n;
	const gos_stmt *s;
	int64_t N, C, H, W, K, Cg, R, S, P, Q;
	int64_t sh, sw, dh, dw, pt, pl, groups;
	int depthwise, flat;
	int rank, qv, pv, kv;      /* rank of Y (4: conv2d, 3: conv1d, 2: matmul); statement variables of q, p (-1: none), k */
	int mm;                    /* a matrix product: Y[m, n] = sum_k A[m, k] B[k, n] */
	int64_t wbatch;            /* batched matrix product: elements of A per batch step (n) */
	int pool;                  /* 0: convolution; 1: max pooling; 2: sum pooling (avgpool) */
	int VL, KB, QB;
	int xb, wb, yb;           /* buffers: input, weights, output */
	int n_epi;                /* epilogue statements applied in registers */
	LLVMValueRef *buf;
	LLVMTypeRef vty, ivty;    /* <VL x float>, <VL x ity> */
	LLVMValueRef acc[MAXKB][MAXQB];
	/* current block */
	LLVMValueRef vn, vk0, vp, vq0;
} kc;

static double attr_at(const gos_node *n, const char *name, int k, double dflt)
{
	for (int i = 0; i < n->n_attr; i++) {
		const gos_attr *a = &n->attr[i];
		if (!a->name || strcmp(a->name, name) || a->n == 0)
			continue;
		return a->n == 1 ? a->v[0] : (k < a->n ? a->v[k] : dflt);
	}
	return dflt;
}

/* Whether ix root r is exactly variable v. */
static int is_var(const gos_stmt *s, int r, int v)
{
	return s->ix[r].op == GOS_IX_VAR && s->ix[r].k == v;
}

/* Whether load ins reads buffer b at the statement's own variables. */
static int identity_load(const gos_stmt *s, const gos_ins *in, int rank)
{
	if (in->nidx != rank || in->has_pad)
		return 0;
	for (int d = 0; d < rank; d++)
		if (!is_var(s, in->idx[d], d))
			return 0;
	return 1;
}

/* d(ix root r)/d(var v) when r is affine in v with a constant
 * coefficient (other variables are constants); 0 otherwise sets *ok=0. */
static int64_t coef(const gos_stmt *s, int r, int v, int *ok)
{
	const gos_ix *x = &s->ix[r];
	switch (x->op) {
	case GOS_IX_CONST: return 0;
	case GOS_IX_VAR: return x->k == v;
	case GOS_IX_ADD: return coef(s, x->a, v, ok) + coef(s, x->b, v, ok);
	case GOS_IX_SUB: return coef(s, x->a, v, ok) - coef(s, x->b, v, ok);
	case GOS_IX_MUL: {
		int64_t ca = coef(s, x->a, v, ok), cb = coef(s, x->b, v, ok);
		if (ca && cb) {
			*ok = 0;
			return 0;
		}
		if (ca) {
			if (s->ix[x->b].op != GOS_IX_CONST)
				*ok = 0;
			return ca * s->ix[x->b].k;
		}
		if (cb) {
			if (s->ix[x->a].op != GOS_IX_CONST)
				*ok = 0;
			return cb * s->ix[x->a].k;
		}
		return 0;
	}
	default: {
		int64_t ca = coef(s, x->a, v, ok);
		int64_t cb = (x->op == GOS_IX_MIN || x->op == GOS_IX_MAX) ? coef(s, x->b, v, ok) : 0;
		if (ca || cb)
			*ok = 0;
		return 0;
	}
	}
}

/* Integer value of ix root r at the variable values v. */
static int64_t ix_int(const gos_stmt *s, int r, const int64_t *v)
{
	const gos_ix *x = &s->ix[r];
	switch (x->op) {
	case GOS_IX_CONST: return x->k;
	case GOS_IX_VAR: return v[x->k];
	case GOS_IX_DIV: {
		int64_t a = ix_int(s, x->a, v);
		return a >= 0 ? a / x->k : -((-a + x->k - 1) / x->k);
	}
	case GOS_IX_MOD: {
		int64_t a = ix_int(s, x->a, v) % x->k;
		return a < 0 ? a + x->k : a;
	}
	default: break;
	}
	int64_t a = ix_int(s, x->a, v), b = ix_int(s, x->b, v);
	switch (x->op) {
	case GOS_IX_ADD: return a + b;
	case GOS_IX_SUB: return a - b;
	case GOS_IX_MUL: return a * b;
	case GOS_IX_MIN: return a < b ? a : b;
	default: return a > b ? a : b;
	}
}

/* Checks, at corner and pseudo-random points of the loop nest, that the
 * input (and weight) loads of statement 0 index exactly what the
 * attributes say: the kernel trusts the operator name only after this. */
static int indices_ok(const kc *c)
{
	const gos_stmt *s = c->s;
	int one = c->rank == 3;
	int nd = c->rank, nv = nd + s->n_red;
	int64_t ext[GOS_MAX_VARS];
	for (int d = 0; d < nd; d++)
		ext[d] = c->n->bufs[s->dst].shape[d];
	for (int j = 0; j < s->n_red; j++)
		ext[nd + j] = s->red_extent[j];
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	for (int t = 0; t < 64; t++) {
		int64_t v[GOS_MAX_VARS];
		for (int i = 0; i < nv; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			v[i] = t == 0 ? 0 : t == 1 ? ext[i] - 1 : (int64_t)((rng >> 33) % (uint64_t)ext[i]);
		}
		/* logical n, k, p, q, c, r, s */
		int64_t n = v[0], k = v[1], p = one ? 0 : v[2], q = v[nd - 1];
		int red = nd;
		int64_t cc = (c->depthwise || c->pool) ? 0 : v[red++];
		int64_t r = one ? 0 : v[red++];
		int64_t ss = v[red];
		int64_t ic = c->depthwise ? k : (k / (c->K / c->groups)) * c->Cg + cc;
		int64_t want[4] = {n, ic, p * c->sh + r * c->dh - c->pt, q * c->sw + ss * c->dw - c->pl};
		const gos_ins *lx = &s->ins[0];
		if (lx->nidx != nd)
			return 0;
		for (int d = 0; d < nd; d++) {
			int64_t w = one && d == 2 ? want[3] : want[d];
			if (ix_int(s, lx->idx[d], v) != w)
				return 0;
		}
		if (c->pool)
			continue;
		const gos_ins *lw = &s->ins[1];
		int64_t wantw[4] = {k, cc, r, ss};
		for (int d = 0; d < nd; d++) {
			int64_t w = one && d == 2 ? wantw[3] : wantw[d];
			if (ix_int(s, lw->idx[d], v) != w)
				return 0;
		}
	}
	return 1;
}

/* Whether statement e (after the convolution) can be applied in
 * registers: a plain in-place elementwise update of the output. */
static int epilogue_ok(const kc *c, const gos_stmt *e)
{
	if (e->red != GOS_RED_NONE || e->n_red || e->dst != c->yb)
		return 0;
	for (int i = 0; i < e->n_ins; i++) {
		const gos_ins *in = &e->ins[i];
		if (in->op == GOS_OP_INDEX) {
			int ok = 1;
			coef(e, in->idx[0], c->qv, &ok);
			if (!ok)
				return 0;
			continue;
		}
		if (in->op != GOS_OP_LOAD)
			continue;
		if (in->buf == c->yb) {
			if (!identity_load(e, in, c->rank))
				return 0;
			continue;
		}
		if (in->has_pad || in->buf == c->xb)
			return 0;
		/* other tensors: q may only appear with coefficient 1 in the last
		 * index (a contiguous vector) or not at all (a broadcast) */
		const gos_buf *b = &c->n->bufs[in->buf];
		for (int d = 0; d < in->nidx; d++) {
			int ok = 1;
			int64_t k = coef(e, in->idx[d], c->qv, &ok);
			if (!ok || (k != 0 && (d != in->nidx - 1 || k != 1)))
				return 0;
		}
		(void)b;
	}
	return 1;
}

/* Chooses the register blocking for k-blocks of kg rows and qlen lanes. */
static void blocking(gos_lw *L, kc *c, int64_t kg, int64_t qlen)
{
	c->VL = L->vl > 0 ? L->vl : 4;
	while (c->VL > 4 && qlen <= c->VL / 2)
		c->VL /= 2; /* small planes: narrower vectors waste fewer lanes */
	c->QB = qlen >= 3 * c->VL ? 2 : 1;
	/* with 32 vector registers (AVX-512) and one vector per row, 16
	 * channels keep enough independent FMA chains in flight (ResNet-18's
	 * 14x14 and 7x7 layers: 5-15% faster than 8) */
	int maxkb = L->vl >= 16 ? (c->QB == 1 ? 16 : 8) : (L->t && L->t->ptr_bits == 32 ? 4 : 8);
	c->KB = 1;
	if (c->depthwise) {
		c->QB = qlen >= 4 * c->VL ? 4 : qlen >= 2 * c->VL ? 2 : 1;
		return;
	}
	for (int kb = maxkb; kb >= 1; kb /= 2)
		if (kg % kb == 0) {
			c->KB = kb;
			break;
		}
}

static int epilogue_ok(const kc *c, const gos_stmt *e);

/* matmul(A[..b, M, Kr], B[..b, Kr, Nc]) (the prelude's comprehension with
 * equal batch dimensions ..b or none, or B[Kr, Nc] for every batch
 * element): the convolution kernel with rows
 * of A as output channels (scalars), rows of B as the input vectors, Y's
 * columns as q and the batch as n (A steps by M*Kr per batch element). */
static int match_mm(gos_lw *L, const gos_node *n, kc *c)
{
	const gos_stmt *s = &n->stmts[0];
	c->s = s;
	if (n->n_in < 2 || s->red != GOS_RED_SUM || s->n_red != 1 || s->n_ins != 3 || s->result != 2)
		return 0;
	const gos_buf *A = &n->bufs[0], *B = &n->bufs[1], *Y = &n->bufs[s->dst];
	int r = Y->rank;
	if (r < 2 || A->rank != r || (B->rank != r && B->rank != 2) || s->dst < n->n_in)
		return 0;
	const gos_ins *la = &s->ins[0], *lb = &s->ins[1], *mu = &s->ins[2];
	int br = B->rank;
	if (la->op != GOS_OP_LOAD || lb->op != GOS_OP_LOAD || mu->op != GOS_OP_MUL || la->buf != 0 ||
	    lb->buf != 1 || la->has_pad || lb->has_pad || mu->arg[0] != 0 || mu->arg[1] != 1 ||
	    !is_var(s, la->idx[r - 2], r - 2) || !is_var(s, la->idx[r - 1], r) ||
	    !is_var(s, lb->idx[br - 2], r) || !is_var(s, lb->idx[br - 1], r - 1))
		return 0;
	if (br == 2 && r > 2) {
		/* B shared by every batch element: A's batch and rows are one
		 * contiguous block of rows, as are Y's (epilogues would see the
		 * batch variables: none) */
		int64_t rows = A->shape[r - 2];
		for (int d = 0; d < r - 2; d++) {
			if (!is_var(s, la->idx[d], d) || A->shape[d] != Y->shape[d])
				return 0;
			rows *= Y->shape[d];
		}
		if (A->shape[r - 1] != B->shape[0] || Y->shape[r - 2] != A->shape[r - 2] ||
		    Y->shape[r - 1] != B->shape[1])
			return 0;
		c->mm = 1;
		c->rank = 2, c->qv = r - 1, c->pv = -1, c->kv = r - 2;
		c->xb = 1, c->wb = 0, c->yb = s->dst;
		c->N = 1, c->C = c->Cg = A->shape[r - 1], c->K = rows;
		c->H = 1, c->W = B->shape[1], c->R = 1, c->S = 1, c->P = 1, c->Q = B->shape[1];
		c->sh = c->sw = c->dh = c->dw = 1, c->pt = c->pl = 0, c->groups = 1;
		c->wbatch = 0;
		blocking(L, c, c->K, c->Q);
		return 1;
	}
	int64_t nb = 1;
	for (int d = 0; d < r - 2; d++) {
		if (!is_var(s, la->idx[d], d) || !is_var(s, lb->idx[d], d) || A->shape[d] != Y->shape[d] ||
		    B->shape[d] != Y->shape[d])
			return 0;
		nb *= Y->shape[d];
	}
	if (A->shape[r - 1] != B->shape[r - 2] || Y->shape[r - 2] != A->shape[r - 2] ||
	    Y->shape[r - 1] != B->shape[r - 1])
		return 0;
	c->mm = 1;
	c->rank = 2, c->qv = r - 1, c->pv = -1, c->kv = r - 2;
	c->xb = 1, c->wb = 0, c->yb = s->dst;
	c->N = nb, c->C = c->Cg = A->shape[r - 1], c->K = A->shape[r - 2];
	c->H = 1, c->W = B->shape[r - 1], c->R = 1, c->S = 1, c->P = 1, c->Q = B->shape[r - 1];
	c->sh = c->sw = c->dh = c->dw = 1, c->pt = c->pl = 0, c->groups = 1;
	c->wbatch = nb > 1 ? c->K * c->C : 0;
	blocking(L, c, c->K, c->Q);
	/* epilogues see variables (k, q) only without batch dimensions */
	for (int e = 1; r == 2 && e < n->n_stmt && epilogue_ok(c, &n->stmts[e]); e++)
		c->n_epi++;
	return 1;
}

/* maxpool2d / avgpool2d (the prelude's comprehensions): the depthwise
 * convolution loops with max / sum instead of multiply-add and no
 * weights; avgpool's division is an epilogue statement. */
static int match_pool(gos_lw *L, const gos_node *n, kc *c)
{
	const gos_stmt *s = &n->stmts[0];
	c->s = s;
	int ismax = n->op[0] == 'm';
	if (n->n_in < 1 || s->red != (ismax ? GOS_RED_MAX : GOS_RED_SUM) || s->n_red != 2 || s->n_ins != 1 ||
	    s->result != 0)
		return 0;
	const gos_ins *lx = &s->ins[0];
	if (lx->op != GOS_OP_LOAD || lx->buf != 0 || (lx->has_pad && lx->f != (ismax ? -INFINITY : 0.0f)))
		return 0;
	const gos_buf *X = &n->bufs[0], *Y = &n->bufs[s->dst];
	if (X->rank != 4 || Y->rank != 4 || s->dst < n->n_in)
		return 0;
	c->pool = ismax ? 1 : 2;
	c->rank = 4, c->qv = 3, c->pv = 2, c->kv = 1;
	c->xb = 0, c->wb = -1, c->yb = s->dst;
	c->N = X->shape[0], c->C = X->shape[1], c->H = X->shape[2], c->W = X->shape[3];
	c->K = c->C, c->Cg = 1, c->groups = c->C, c->depthwise = 1;
	c->R = (int64_t)attr_at(n, "kernel", 0, 0), c->S = (int64_t)attr_at(n, "kernel", 1, 0);
	c->sh = (int64_t)attr_at(n, "stride", 0, (double)c->R), c->sw = (int64_t)attr_at(n, "stride", 1, (double)c->S);
	c->dh = (int64_t)attr_at(n, "dilation", 0, 1), c->dw = (int64_t)attr_at(n, "dilation", 1, 1);
	c->pt = (int64_t)attr_at(n, "pad", 0, 0), c->pl = (int64_t)attr_at(n, "pad", 1, 0);
	int64_t pb = (int64_t)attr_at(n, "pad", 2, 0), pr = (int64_t)attr_at(n, "pad", 3, 0);
	c->P = Y->shape[2], c->Q = Y->shape[3];
	if (c->R < 1 || c->S < 1 || c->S > 16 || c->sh < 1 || c->sw < 1 || c->dh < 1 || c->dw < 1 ||
	    Y->shape[0] != c->N || Y->shape[1] != c->C ||
	    c->P != (c->H + c->pt + pb - c->dh * (c->R - 1) - 1) / c->sh + 1 ||
	    c->Q != (c->W + c->pl + pr - c->dw * (c->S - 1) - 1) / c->sw + 1)
		return 0;
	if (!indices_ok(c))
		return 0;
	blocking(L, c, 1, c->Q);
	for (int e = 1; e < n->n_stmt && epilogue_ok(c, &n->stmts[e]); e++)
		c->n_epi++;
	return 1;
}

static int match(gos_lw *L, const gos_node *n, int si, kc *c)
{
	memset(c, 0, sizeof *c);
	c->L = L;
	c->n = n;
	if (si == 0 && !strncmp(n->op, "matmul", 6) && (!n->op[6] || n->op[6] == '+'))
		return match_mm(L, n, c);
	if (si == 0 && (!strncmp(n->op, "maxpool2d", 9) || !strncmp(n->op, "avgpool2d", 9)) &&
	    (!n->op[9] || n->op[9] == '+'))
		return match_pool(L, n, c);
	if (si != 0 || (strncmp(n->op, "conv2d", 6) && strncmp(n->op, "conv1d", 6)) ||
	    (n->op[6] && n->op[6] != '+') || n->n_stmt < 1)
		return 0;
	int one = n->op[4] == '1';
	c->rank = one ? 3 : 4;
	c->qv = c->rank - 1;
	c->pv = one ? -1 : 2;
	c->kv = 1;
	const gos_stmt *s = &n->stmts[0];
	c->s = s;
	if (s->red != GOS_RED_SUM || s->n_ins != 3 || s->result != 2 || n->n_in < 2)
		return 0;
	const gos_ins *lx = &s->ins[0], *lw = &s->ins[1], *mu = &s->ins[2];
	if (lx->op != GOS_OP_LOAD || lw->op != GOS_OP_LOAD || mu->op != GOS_OP_MUL ||
	    mu->arg[0] != 0 || mu->arg[1] != 1 || lx->buf != 0 || lw->buf != 1 ||
	    (lx->has_pad && lx->f != 0.0f) || lw->has_pad)
		return 0;
	const gos_buf *X = &n->bufs[0], *Wt = &n->bufs[1], *Y = &n->bufs[s->dst];
	if (X->rank != c->rank || Wt->rank != c->rank || Y->rank != c->rank || s->dst < n->n_in)
		return 0;
	c->xb = 0;
	c->wb = 1;
	c->yb = s->dst;
	int64_t pb, pr;
	c->N = X->shape[0], c->C = X->shape[1], c->K = Wt->shape[0], c->Cg = Wt->shape[1];
	if (one) {
		/* conv1d(X[N, C, L], Wt[K, Cg, R]) is conv2d with H = R = P = 1 */
		c->H = 1, c->W = X->shape[2], c->R = 1, c->S = Wt->shape[2], c->P = 1, c->Q = Y->shape[2];
		c->sh = 1, c->sw = (int64_t)attr_at(n, "stride", 0, 1);
		c->dh = 1, c->dw = (int64_t)attr_at(n, "dilation", 0, 1);
		c->pt = 0, pb = 0, c->pl = (int64_t)attr_at(n, "pad", 0, 0), pr = (int64_t)attr_at(n, "pad", 1, 0);
	} else {
		c->H = X->shape[2], c->W = X->shape[3], c->R = Wt->shape[2], c->S = Wt->shape[3];
		c->P = Y->shape[2], c->Q = Y->shape[3];
		c->sh = (int64_t)attr_at(n, "stride", 0, 1), c->sw = (int64_t)attr_at(n, "stride", 1, 1);
		c->dh = (int64_t)attr_at(n, "dilation", 0, 1), c->dw = (int64_t)attr_at(n, "dilation", 1, 1);
		c->pt = (int64_t)attr_at(n, "pad", 0, 0), c->pl = (int64_t)attr_at(n, "pad", 1, 0);
		pb = (int64_t)attr_at(n, "pad", 2, 0), pr = (int64_t)attr_at(n, "pad", 3, 0);
	}
	c->groups = (int64_t)attr_at(n, "groups", 0, 1);
	if (c->sh < 1 || c->sw < 1 || c->dh < 1 || c->dw < 1 || c->groups < 1 ||
	    c->C != c->Cg * c->groups || c->K % c->groups || Y->shape[1] != c->K || Y->shape[0] != c->N ||
	    c->P != (c->H + c->pt + pb - c->dh * (c->R - 1) - 1) / c->sh + 1 ||
	    c->Q != (c->W + c->pl + pr - c->dw * (c->S - 1) - 1) / c->sw + 1 || c->S > 16)
		return 0;
	c->depthwise = c->groups > 1 && c->Cg == 1 && c->K == c->C;
	if (s->n_red != (c->depthwise ? 2 : 3) - one)
		return 0;
	c->flat = c->R == 1 && c->S == 1 && c->sh == 1 && c->sw == 1 && !c->pt && !c->pl && !pb && !pr;
	if (!indices_ok(c))
		return 0;
	blocking(L, c, c->K / c->groups, c->flat ? c->P * c->Q : c->Q);
	c->n_epi = 0;
	for (int e = 1; e < n->n_stmt && epilogue_ok(c, &n->stmts[e]); e++)
		c->n_epi++;
	return 1;
}

/* ---- small builders ------------------------------------------------------- */

static LLVMValueRef ixc(kc *c, int64_t v) { return gos_lw_ix(c->L, v); }

static LLVMValueRef add(kc *c, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildAdd(c->L->B, a, b, ""); }

static LLVMValueRef mul(kc *c, LLVMValueRef a, int64_t k)
{
	return k == 1 ? a : LLVMBuildMul(c->L->B, a, ixc(c, k), "");
}

static LLVMValueRef gep(kc *c, LLVMValueRef base, LLVMValueRef off)
{
	return LLVMBuildInBoundsGEP2(c->L->B, c->L->f32, base, &off, 1, "");
}

static LLVMValueRef vload(kc *c, LLVMValueRef p)
{
	LLVMValueRef vp = LLVMBuildBitCast(c->L->B, p, LLVMPointerType(c->vty, 0), "");
	LLVMValueRef v = LLVMBuildLoad2(c->L->B, c->vty, vp, "");
	LLVMSetAlignment(v, 4);
	return v;
}

static void vstore(kc *c, LLVMValueRef v, LLVMValueRef p)
{
	LLVMValueRef vp = LLVMBuildBitCast(c->L->B, p, LLVMPointerType(c->vty, 0), "");
	LLVMValueRef st = LLVMBuildStore(c->L->B, v, vp);
	LLVMSetAlignment(st, 4);
}

static LLVMValueRef intrinsic2(kc *c, const char *name, LLVMTypeRef t0, LLVMTypeRef t1, LLVMValueRef *args,
                               int n)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	LLVMTypeRef over[2] = {t0, t1};
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->L->M, id, over, 2);
	LLVMTypeRef fty = LLVMIntrinsicGetType(c->L->C, id, over, 2);
	return LLVMBuildCall2(c->L->B, fty, fn, args, (unsigned)n, "");
}

/* What a masked-off input lane reads: the padding value (-inf for max
 * pooling, else 0). */
static LLVMValueRef padv(kc *c)
{
	return c->pool == 1 ? gos_lw_fc(c->L, c->vty, -INFINITY) : LLVMConstNull(c->vty);
}

/* Masked gather of base[off[i]] for lanes where mask[i]; the padding
 * value elsewhere. */
static LLVMValueRef gather(kc *c, LLVMValueRef base, LLVMValueRef voff, LLVMValueRef mask)
{
	gos_lw *L = c->L;
	/* keep masked-off addresses in bounds anyway */
	voff = LLVMBuildSelect(L->B, mask, voff, LLVMConstNull(c->ivty), "");
	LLVMValueRef ptrs = LLVMBuildInBoundsGEP2(L->B, L->f32, base, &voff, 1, "");
	LLVMValueRef args[4] = {ptrs, LLVMConstInt(L->i32, 4, 0), mask, padv(c)};
	return intrinsic2(c, "llvm.masked.gather", c->vty, LLVMTypeOf(ptrs), args, 4);
}

static LLVMValueRef mload(kc *c, LLVMValueRef p, LLVMValueRef mask)
{
	LLVMTypeRef pty = LLVMPointerType(c->vty, 0);
	LLVMValueRef args[4] = {LLVMBuildBitCast(c->L->B, p, pty, ""), LLVMConstInt(c->L->i32, 4, 0), mask,
	                        padv(c)};
	return intrinsic2(c, "llvm.masked.load", c->vty, pty, args, 4);
}

static void mstore(kc *c, LLVMValueRef v, LLVMValueRef p, LLVMValueRef mask)
{
	LLVMTypeRef pty = LLVMPointerType(c->vty, 0);
	LLVMValueRef vp = LLVMBuildBitCast(c->L->B, p, pty, "");
	LLVMValueRef args[4] = {v, vp, LLVMConstInt(c->L->i32, 4, 0), mask};
	intrinsic2(c, "llvm.masked.store", c->vty, pty, args, 4);
}

static LLVMValueRef splat(kc *c, LLVMValueRef s) { return gos_lw_splat(c->L, s, c->VL); }

/* <q0+0, q0+1, ...> */
static LLVMValueRef lanes(kc *c, LLVMValueRef q0)
{
	return LLVMBuildAdd(c->L->B, gos_lw_splat(c->L, q0, c->VL), gos_lw_iota(c->L, c->VL), "");
}

/* ---- the convolution ------------------------------------------------------ */

/* Input vector for output positions qv (vector of q; flat: of p*Q+q) at
 * kernel tap (ih, s) of channel ic. fast: the window is inside X and all
 * lanes are valid. */
static LLVMValueRef xvec(kc *c, LLVMValueRef ic, LLVMValueRef ih, int s, LLVMValueRef qs, int fast)
{
	gos_lw *L = c->L;
	LLVMValueRef X = c->buf[c->xb];
	LLVMValueRef plane = mul(c, add(c, mul(c, c->vn, c->C), ic), c->H * c->W);
	if (c->flat) {
		LLVMValueRef off = add(c, plane, qs);
		if (fast)
			return vload(c, gep(c, X, off));
		LLVMValueRef qv = lanes(c, qs);
		LLVMValueRef mask = LLVMBuildICmp(L->B, LLVMIntSLT, qv, gos_lw_ic(c->ivty, c->P * c->Q), "");
		return mload(c, gep(c, X, off), mask);
	}
	LLVMValueRef row = add(c, plane, mul(c, ih, c->W));
	/* iw = q*sw + s*dw - pl */
	if (fast && c->sw == 1) {
		LLVMValueRef iw = add(c, qs, ixc(c, s * c->dw - c->pl));
		return vload(c, gep(c, X, add(c, row, iw)));
	}
	if (fast && c->sw == 2) {
		LLVMValueRef iw = add(c, mul(c, qs, 2), ixc(c, s * c->dw - c->pl));
		LLVMValueRef p0 = gep(c, X, add(c, row, iw));
		LLVMValueRef a = vload(c, p0);
		LLVMValueRef b = vload(c, gep(c, p0, ixc(c, c->VL)));
		LLVMValueRef idx[64];
		for (int i = 0; i < c->VL; i++)
			idx[i] = LLVMConstInt(L->i32, (unsigned long long)(2 * i), 0);
		return LLVMBuildShuffleVector(L->B, a, b, LLVMConstVector(idx, (unsigned)c->VL), "");
	}
	LLVMValueRef qv = lanes(c, qs);
	if (c->sw == 1) {
		/* a masked contiguous load: masked-off lanes are not accessed */
		LLVMValueRef iw0 = add(c, qs, ixc(c, s * c->dw - c->pl));
		LLVMValueRef iw = LLVMBuildAdd(L->B, qv, gos_lw_ic(c->ivty, s * c->dw - c->pl), "");
		LLVMValueRef m1 = LLVMBuildICmp(L->B, LLVMIntSGE, iw, LLVMConstNull(c->ivty), "");
		LLVMValueRef m2 = LLVMBuildICmp(L->B, LLVMIntSLT, iw, gos_lw_ic(c->ivty, c->W), "");
		LLVMValueRef m3 = LLVMBuildICmp(L->B, LLVMIntSLT, qv, gos_lw_ic(c->ivty, c->Q), "");
		LLVMValueRef mask = LLVMBuildAnd(L->B, LLVMBuildAnd(L->B, m1, m2, ""), m3, "");
		LLVMValueRef off = add(c, row, iw0);
		LLVMValueRef p = LLVMBuildGEP2(L->B, L->f32, X, &off, 1, "");
		return mload(c, p, mask);
	}
	if (c->sw == 2) {
		/* two masked contiguous loads and the even lanes of the pair */
		LLVMValueRef iw0 = add(c, mul(c, qs, 2), ixc(c, s * c->dw - c->pl));
		LLVMValueRef off = add(c, row, iw0);
		LLVMValueRef half[2];
		for (int h = 0; h < 2; h++) {
			/* element j of this half reads iw0 + h*VL + j, for output lane (h*VL + j) / 2 */
			LLVMValueRef j = LLVMBuildAdd(L->B, gos_lw_iota(L, c->VL), gos_lw_ic(c->ivty, h * c->VL), "");
			LLVMValueRef iw = LLVMBuildAdd(L->B, gos_lw_splat(L, iw0, c->VL), j, "");
			LLVMValueRef qj = LLVMBuildAdd(L->B, gos_lw_splat(L, qs, c->VL),
			                               LLVMBuildLShr(L->B, j, gos_lw_ic(c->ivty, 1), ""), "");
			LLVMValueRef m1 = LLVMBuildICmp(L->B, LLVMIntSGE, iw, LLVMConstNull(c->ivty), "");
			LLVMValueRef m2 = LLVMBuildICmp(L->B, LLVMIntSLT, iw, gos_lw_ic(c->ivty, c->W), "");
			LLVMValueRef m3 = LLVMBuildICmp(L->B, LLVMIntSLT, qj, gos_lw_ic(c->ivty, c->Q), "");
			LLVMValueRef mask = LLVMBuildAnd(L->B, LLVMBuildAnd(L->B, m1, m2, ""), m3, "");
			LLVMValueRef o = add(c, off, ixc(c, h * c->VL));
			half[h] = mload(c, LLVMBuildGEP2(L->B, L->f32, X, &o, 1, ""), mask);
		}
		LLVMValueRef idx[64];
		for (int i = 0; i < c->VL; i++)
			idx[i] = LLVMConstInt(L->i32, (unsigned long long)(2 * i), 0);
		return LLVMBuildShuffleVector(L->B, half[0], half[1], LLVMConstVector(idx, (unsigned)c->VL), "");
	}
	LLVMValueRef iw = LLVMBuildAdd(L->B, LLVMBuildMul(L->B, qv, gos_lw_ic(c->ivty, c->sw), ""),
	                               gos_lw_ic(c->ivty, s * c->dw - c->pl), "");
	LLVMValueRef m1 = LLVMBuildICmp(L->B, LLVMIntSGE, iw, LLVMConstNull(c->ivty), "");
	LLVMValueRef m2 = LLVMBuildICmp(L->B, LLVMIntSLT, iw, gos_lw_ic(c->ivty, c->W), "");
	LLVMValueRef m3 = LLVMBuildICmp(L->B, LLVMIntSLT, qv, gos_lw_ic(c->ivty, c->Q), "");
	LLVMValueRef mask = LLVMBuildAnd(L->B, LLVMBuildAnd(L->B, m1, m2, ""), m3, "");
	return gather(c, X, LLVMBuildAdd(L->B, gos_lw_splat(L, row, c->VL), iw, ""), mask);
}

/* The c, r, s loops of one block, accumulating into c->acc (allocas). */
static void block_body(kc *c, int fast)
{
	gos_lw *L = c->L;
	LLVMValueRef Wb = c->wb >= 0 ? c->buf[c->wb] : NULL;
	if (c->wbatch)
		Wb = gep(c, Wb, mul(c, c->vn, c->wbatch));
	gos_loop lc, lr;
	/* 1x1 / matrix: four input channels per step, their weights W[k, c..c+3]
	 * one vector load, used lane by lane (fmla by element on NEON) */
	int cu = c->R == 1 && c->S == 1 && !c->depthwise && !c->pool && c->Cg % 4 == 0 ? 4 : 1;
	LLVMValueRef cc = gos_lw_loop_begin(L, &lc, ixc(c, 0), ixc(c, c->Cg), "c");
	int64_t kg = c->K / c->groups;
	LLVMValueRef g = LLVMBuildSDiv(L->B, c->vk0, ixc(c, kg), "");
	LLVMValueRef ic0 = c->depthwise ? NULL : add(c, mul(c, g, c->Cg), cc);
	LLVMValueRef rr = gos_lw_loop_begin(L, &lr, ixc(c, 0), ixc(c, c->R), "r");
	LLVMValueRef ih = c->flat ? ixc(c, 0) : add(c, add(c, mul(c, c->vp, c->sh), mul(c, rr, c->dh)), ixc(c, -c->pt));
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(L->C, L->fn, "tap");
	LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(L->C, L->fn, "tap.next");
	if (c->flat) {
		LLVMBuildBr(L->B, body);
	} else {
		LLVMValueRef in0 = LLVMBuildICmp(L->B, LLVMIntSGE, ih, ixc(c, 0), "");
		LLVMValueRef in1 = LLVMBuildICmp(L->B, LLVMIntSLT, ih, ixc(c, c->H), "");
		LLVMBuildCondBr(L->B, LLVMBuildAnd(L->B, in0, in1, ""), body, next);
	}
	LLVMPositionBuilderAtEnd(L->B, body);
	LLVMValueRef acc[MAXKB][MAXQB];
	for (int kk = 0; kk < c->KB; kk++)
		for (int qb = 0; qb < c->QB; qb++)
			acc[kk][qb] = LLVMBuildLoad2(L->B, c->vty, c->acc[kk][qb], "");
	if (cu > 1) {
		LLVMTypeRef v4 = gos_lw_fty(L, 4);
		LLVMValueRef wv[MAXKB];
		for (int kk = 0; kk < c->KB; kk++) {
			LLVMValueRef k = add(c, c->vk0, ixc(c, kk));
			LLVMValueRef p = gep(c, Wb, add(c, mul(c, k, c->Cg), cc));
			wv[kk] = LLVMBuildLoad2(L->B, v4, LLVMBuildBitCast(L->B, p, LLVMPointerType(v4, 0), ""), "");
			LLVMSetAlignment(wv[kk], 4);
		}
		for (int u = 0; u < cu; u++) {
			LLVMValueRef xv[MAXQB];
			for (int qb = 0; qb < c->QB; qb++)
				xv[qb] = xvec(c, add(c, ic0, ixc(c, u)), ih, 0, add(c, c->vq0, ixc(c, qb * c->VL)), fast);
			for (int kk = 0; kk < c->KB; kk++) {
				LLVMValueRef w = LLVMBuildExtractElement(L->B, wv[kk], LLVMConstInt(L->i32, (unsigned)u, 0), "");
				LLVMValueRef ws = splat(c, w);
				for (int qb = 0; qb < c->QB; qb++)
					acc[kk][qb] = gos_lw_fmuladd(L, ws, xv[qb], acc[kk][qb]);
			}
		}
	}
	for (int s = 0; s < c->S && cu == 1; s++) {
		LLVMValueRef xv[MAXQB];
		for (int kk = 0; kk < c->KB; kk++) {
			LLVMValueRef k = add(c, c->vk0, ixc(c, kk));
			if (c->depthwise || kk == 0) {
				LLVMValueRef ic = c->depthwise ? k : ic0;
				for (int qb = 0; qb < c->QB; qb++)
					xv[qb] = xvec(c, ic, ih, s, add(c, c->vq0, ixc(c, qb * c->VL)), fast);
			}
			if (c->pool) {
				for (int qb = 0; qb < c->QB; qb++)
					acc[kk][qb] = c->pool == 1 ? gos_lw_fmax(L, acc[kk][qb], xv[qb])
					                           : LLVMBuildFAdd(L->B, acc[kk][qb], xv[qb], "");
				continue;
			}
			/* W[k, c, r, s] */
			LLVMValueRef woff = add(c, mul(c, add(c, mul(c, add(c, mul(c, k, c->Cg), cc), c->R), rr), c->S), ixc(c, s));
			LLVMValueRef w = LLVMBuildLoad2(L->B, L->f32, gep(c, Wb, woff), "");
			LLVMValueRef wv = splat(c, w);
			for (int qb = 0; qb < c->QB; qb++)
				acc[kk][qb] = gos_lw_fmuladd(L, wv, xv[qb], acc[kk][qb]);
		}
	}
	for (int kk = 0; kk < c->KB; kk++)
		for (int qb = 0; qb < c->QB; qb++)
			LLVMBuildStore(L->B, acc[kk][qb], c->acc[kk][qb]);
	LLVMBuildBr(L->B, next);
	LLVMPositionBuilderAtEnd(L->B, next);
	gos_lw_loop_end(L, &lr, 1);
	gos_lw_loop_end(L, &lc, cu);
}

/* ---- epilogue in registers -------------------------------------------------- */

/* Value of index root r with variables (n, k, p, q): q is the vector qv
 * (or its first lane when scalar). */
static LLVMValueRef ix_eval(kc *c, const gos_stmt *e, int r, LLVMValueRef *vars, int vec)
{
	gos_lw *L = c->L;
	const gos_ix *x = &e->ix[r];
	switch (x->op) {
	case GOS_IX_CONST: return vec ? gos_lw_ic(c->ivty, x->k) : ixc(c, x->k);
	case GOS_IX_VAR: {
		/* statement variable -> n, k, p, q (vars[3] scalar q, vars[4] vector q) */
		int li = x->k == c->qv ? 3 : x->k == c->pv ? 2 : x->k == c->kv ? 1 : 0;
		if (li == 3)
			return vec ? vars[4] : vars[3];
		return vec ? gos_lw_splat(L, vars[li], c->VL) : vars[li];
	}
	default: break;
	}
	LLVMValueRef a = ix_eval(c, e, x->a, vars, vec);
	if (x->op == GOS_IX_DIV)
		return gos_lw_floordiv(L, a, x->k, 0);
	if (x->op == GOS_IX_MOD)
		return gos_lw_floormod(L, a, x->k, 0);
	LLVMValueRef b = ix_eval(c, e, x->b, vars, vec);
	switch (x->op) {
	case GOS_IX_ADD: return LLVMBuildAdd(L->B, a, b, "");
	case GOS_IX_SUB: return LLVMBuildSub(L->B, a, b, "");
	case GOS_IX_MUL: return LLVMBuildMul(L->B, a, b, "");
	case GOS_IX_MIN: return gos_lw_imin(L, a, b);
	default: return gos_lw_imax(L, a, b);
	}
}

/* Applies epilogue statement e to output vector y at (n, k, p, q0..);
 * valid lanes: mask (NULL: all). */
static LLVMValueRef epilogue(kc *c, const gos_stmt *e, LLVMValueRef y, LLVMValueRef *vars, LLVMValueRef mask)
{
	gos_lw *L = c->L;
	LLVMValueRef *v = GOS_NEWN(L->a, LLVMValueRef, e->n_ins + 1);
	for (int i = 0; i < e->n_ins; i++) {
		const gos_ins *in = &e->ins[i];
		LLVMValueRef a = in->arg[0] < i ? v[in->arg[0]] : NULL;
		LLVMValueRef b = in->arg[1] < i ? v[in->arg[1]] : NULL;
		LLVMValueRef cc = in->arg[2] < i ? v[in->arg[2]] : NULL;
		if (gos_opinfo_tab[in->op].arity >= 2)
			gos_lw_match(L, &a, &b);
		switch (in->op) {
		case GOS_OP_CONST: v[i] = gos_lw_fc(L, L->f32, in->f); break;
		case GOS_OP_INDEX: {
			int ok = 1;
			int vec = coef(e, in->idx[0], c->qv, &ok) != 0;
			LLVMValueRef iv = ix_eval(c, e, in->idx[0], vars, vec);
			v[i] = LLVMBuildSIToFP(L->B, iv, vec ? c->vty : L->f32, "");
			break;
		}
		case GOS_OP_LOAD: {
			if (in->buf == c->yb) {
				v[i] = y;
				break;
			}
			const gos_buf *bf = &c->n->bufs[in->buf];
			LLVMValueRef off = ixc(c, 0);
			int vec = 0;
			for (int d = 0; d < in->nidx; d++) {
				int ok = 1;
				vec |= coef(e, in->idx[d], c->qv, &ok) != 0;
				off = add(c, mul(c, off, bf->shape[d]), ix_eval(c, e, in->idx[d], vars, 0));
			}
			LLVMValueRef p = gep(c, c->buf[in->buf], off);
			if (!vec) {
				v[i] = LLVMBuildLoad2(L->B, L->f32, p, "");
			} else if (!mask) {
				v[i] = vload(c, p);
			} else {
				LLVMValueRef args[4] = {LLVMBuildBitCast(L->B, p, LLVMPointerType(c->vty, 0), ""),
				                        LLVMConstInt(L->i32, 4, 0), mask, LLVMConstNull(c->vty)};
				v[i] = intrinsic2(c, "llvm.masked.load", c->vty, LLVMPointerType(c->vty, 0), args, 4);
			}
			break;
		}
		case GOS_OP_ADD: v[i] = LLVMBuildFAdd(L->B, a, b, ""); break;
		case GOS_OP_SUB: v[i] = LLVMBuildFSub(L->B, a, b, ""); break;
		case GOS_OP_MUL: v[i] = LLVMBuildFMul(L->B, a, b, ""); break;
		case GOS_OP_DIV: v[i] = LLVMBuildFDiv(L->B, a, b, ""); break;
		case GOS_OP_MAX: v[i] = gos_lw_fmax(L, a, b); break;
		case GOS_OP_MIN: v[i] = gos_lw_fmin(L, a, b); break;
		case GOS_OP_POW: v[i] = gos_lw_pow(L, a, b); break;
		case GOS_OP_LT: case GOS_OP_LE: case GOS_OP_EQ: case GOS_OP_NE: {
			LLVMRealPredicate pr = in->op == GOS_OP_LT ? LLVMRealOLT : in->op == GOS_OP_LE ? LLVMRealOLE
			                       : in->op == GOS_OP_EQ ? LLVMRealOEQ : LLVMRealUNE;
			LLVMValueRef t = LLVMBuildFCmp(L->B, pr, a, b, "");
			v[i] = LLVMBuildUIToFP(L->B, t, LLVMTypeOf(a), "");
			break;
		}
		case GOS_OP_NEG: v[i] = LLVMBuildFNeg(L->B, a, ""); break;
		case GOS_OP_ABS: v[i] = gos_lw_call(L, "llvm.fabs", LLVMTypeOf(a), &a, 1); break;
		case GOS_OP_EXP: v[i] = gos_lw_exp(L, a); break;
		case GOS_OP_LOG: v[i] = gos_lw_log(L, a); break;
		case GOS_OP_SQRT: v[i] = gos_lw_sqrt(L, a); break;
		case GOS_OP_RSQRT:
			v[i] = LLVMBuildFDiv(L->B, gos_lw_fc(L, LLVMTypeOf(a), 1.0), gos_lw_sqrt(L, a), "");
			break;
		case GOS_OP_TANH: v[i] = gos_lw_tanh(L, a); break;
		case GOS_OP_ERF: v[i] = gos_lw_erf(L, a); break;
		case GOS_OP_FLOOR: v[i] = gos_lw_floor(L, a); break;
		case GOS_OP_FMA: {
			gos_lw_match(L, &a, &cc);
			gos_lw_match(L, &b, &cc);
			gos_lw_match(L, &a, &b);
			v[i] = gos_lw_fmuladd(L, a, b, cc);
			break;
		}
		case GOS_OP_SELECT: {
			LLVMValueRef t = b, f = cc;
			gos_lw_match(L, &t, &f);
			gos_lw_match(L, &a, &t);
			gos_lw_match(L, &a, &f);
			LLVMValueRef cond = LLVMBuildFCmp(L->B, LLVMRealUNE, a, gos_lw_fc(L, LLVMTypeOf(a), 0.0), "");
			v[i] = LLVMBuildSelect(L->B, cond, t, f, "");
			break;
		}
		default: v[i] = y; break;
		}
	}
	LLVMValueRef r = v[e->result];
	if (gos_lw_width(r) == 1)
		r = splat(c, r);
	return r;
}

/* Epilogue and store of the block's accumulators. */
static void store_block(kc *c)
{
	gos_lw *L = c->L;
	LLVMValueRef Y = c->buf[c->yb];
	int64_t qlen = c->flat ? c->P * c->Q : c->Q;
	for (int kk = 0; kk < c->KB; kk++) {
		LLVMValueRef k = add(c, c->vk0, ixc(c, kk));
		for (int qb = 0; qb < c->QB; qb++) {
			LLVMValueRef qs = add(c, c->vq0, ixc(c, qb * c->VL));
			LLVMValueRef y = LLVMBuildLoad2(L->B, c->vty, c->acc[kk][qb], "");
			LLVMValueRef off = add(c, mul(c, add(c, mul(c, c->vn, c->K), k), c->P * c->Q),
			                       c->flat ? qs : add(c, mul(c, c->vp, c->Q), qs));
			LLVMValueRef full = LLVMBuildICmp(L->B, LLVMIntSLE, add(c, qs, ixc(c, c->VL)), ixc(c, qlen), "");
			LLVMBasicBlockRef bf = LLVMAppendBasicBlockInContext(L->C, L->fn, "st.full");
			LLVMBasicBlockRef bt = LLVMAppendBasicBlockInContext(L->C, L->fn, "st.tail");
			LLVMBasicBlockRef bd = LLVMAppendBasicBlockInContext(L->C, L->fn, "st.done");
			LLVMBuildCondBr(L->B, full, bf, bt);
			for (int tail = 0; tail < 2; tail++) {
				LLVMPositionBuilderAtEnd(L->B, tail ? bt : bf);
				LLVMValueRef mask = NULL;
				if (tail)
					mask = LLVMBuildICmp(L->B, LLVMIntSLT, lanes(c, qs), gos_lw_ic(c->ivty, qlen), "");
				/* variables of the epilogue statements: n, k, p, q (scalar
				 * q0 at index 3, vector q at index 4) */
				LLVMValueRef vars[5];
				vars[0] = c->vn;
				vars[1] = k;
				if (c->flat) {
					/* flat q runs over p*Q + q: split it (vector) */
					LLVMValueRef qv = lanes(c, qs);
					vars[2] = LLVMBuildSDiv(L->B, qs, ixc(c, c->Q), "");
					vars[3] = LLVMBuildSRem(L->B, qs, ixc(c, c->Q), "");
					vars[4] = LLVMBuildSRem(L->B, qv, gos_lw_ic(c->ivty, c->Q), "");
				} else {
					vars[2] = c->vp;
					vars[3] = qs;
					vars[4] = lanes(c, qs);
				}
				LLVMValueRef v = y;
				for (int e = 1; e <= c->n_epi; e++)
					v = epilogue(c, &c->n->stmts[e], v, vars, mask);
				LLVMValueRef p = gep(c, Y, off);
				if (tail)
					mstore(c, v, p, mask);
				else
					vstore(c, v, p);
				LLVMBuildBr(L->B, bd);
			}
			LLVMPositionBuilderAtEnd(L->B, bd);
		}
	}
}

/* In the flat form, an epilogue's vector loads along q are contiguous only
 * within one row; accept flat only without vector epilogue loads. */
static int flat_epilogue_ok(const kc *c)
{
	for (int e = 1; e <= c->n_epi; e++) {
		const gos_stmt *s = &c->n->stmts[e];
		for (int i = 0; i < s->n_ins; i++) {
			const gos_ins *in = &s->ins[i];
			if (in->op == GOS_OP_INDEX) {
				int ok = 1;
				if (coef(s, in->idx[0], c->qv, &ok) || (c->pv >= 0 && coef(s, in->idx[0], c->pv, &ok)))
					return 0;
			}
			if (in->op != GOS_OP_LOAD || in->buf == c->yb)
				continue;
			/* a row-major [.., P, Q] operand indexed (.., p, q) is contiguous
			 * over the flat plane too */
			const gos_buf *b = &c->n->bufs[in->buf];
			int uses_pq = 0;
			for (int d = 0; d < in->nidx; d++) {
				int ok = 1;
				uses_pq |= coef(s, in->idx[d], c->qv, &ok) != 0 || (c->pv >= 0 && coef(s, in->idx[d], c->pv, &ok) != 0);
			}
			if (!uses_pq)
				continue;
			if (c->pv < 0 || in->nidx < 2 || !is_var(s, in->idx[in->nidx - 1], c->qv) || !is_var(s, in->idx[in->nidx - 2], c->pv) ||
			    b->shape[in->nidx - 1] != c->Q || b->shape[in->nidx - 2] != c->P)
				return 0;
		}
	}
	return 1;
}

int gos_kconv_match(gos_lw *L, const gos_node *n, int si);
int gos_kconv_emit(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf);

int gos_kconv_match(gos_lw *L, const gos_node *n, int si)
{
	/* GOS_KCONV=off: the generic lowering (for comparisons in bench/) */
	const char *off = getenv("GOS_KCONV");
	if (off && !strcmp(off, "off"))
		return 0;
	kc c;
	return match(L, n, si, &c);
}

/* The loops of the kernel for output channels (rows) [kbeg, kend). */
static void emit_loops(kc *cp, LLVMValueRef kbeg, LLVMValueRef kend)
{
	kc c = *cp;
	gos_lw *L = c.L;
	for (int kk = 0; kk < c.KB; kk++)
		for (int qb = 0; qb < c.QB; qb++)
			c.acc[kk][qb] = gos_lw_alloca(L, c.vty, "acc");
	int64_t qlen = c.flat ? c.P * c.Q : c.Q;
	int64_t qstep = (int64_t)c.VL * c.QB;
	gos_loop ln, lk, lp, lq;
	c.vn = gos_lw_loop_begin(L, &ln, ixc(&c, 0), ixc(&c, c.N), "n");
	c.vk0 = gos_lw_loop_begin(L, &lk, kbeg, kend, "k");
	c.vp = c.flat ? ixc(&c, 0) : gos_lw_loop_begin(L, &lp, ixc(&c, 0), ixc(&c, c.P), "p");
	c.vq0 = gos_lw_loop_begin(L, &lq, ixc(&c, 0), ixc(&c, qlen), "q");
	for (int kk = 0; kk < c.KB; kk++)
		for (int qb = 0; qb < c.QB; qb++)
			LLVMBuildStore(L->B, padv(&c), c.acc[kk][qb]);
	/* interior: every lane valid and the input window inside the row */
	LLVMValueRef last = add(&c, c.vq0, ixc(&c, qstep - 1));
	LLVMValueRef fast = LLVMBuildICmp(L->B, LLVMIntSLT, last, ixc(&c, qlen), "");
	if (!c.flat) {
		LLVMValueRef lo = add(&c, mul(&c, c.vq0, c.sw), ixc(&c, -c.pl));
		LLVMValueRef hi = add(&c, mul(&c, last, c.sw), ixc(&c, (c.S - 1) * c.dw - c.pl));
		if (c.sw == 2)
			hi = add(&c, hi, ixc(&c, 1)); /* the second plain load reads one more */
		fast = LLVMBuildAnd(L->B, fast, LLVMBuildICmp(L->B, LLVMIntSGE, lo, ixc(&c, 0), ""), "");
		fast = LLVMBuildAnd(L->B, fast, LLVMBuildICmp(L->B, LLVMIntSLT, hi, ixc(&c, c.W), ""), "");
	}
	LLVMBasicBlockRef bfast = LLVMAppendBasicBlockInContext(L->C, L->fn, "blk.fast");
	LLVMBasicBlockRef bslow = LLVMAppendBasicBlockInContext(L->C, L->fn, "blk.edge");
	LLVMBasicBlockRef bdone = LLVMAppendBasicBlockInContext(L->C, L->fn, "blk.store");
	LLVMBuildCondBr(L->B, fast, bfast, bslow);
	LLVMPositionBuilderAtEnd(L->B, bfast);
	block_body(&c, 1);
	LLVMBuildBr(L->B, bdone);
	LLVMPositionBuilderAtEnd(L->B, bslow);
	block_body(&c, 0);
	LLVMBuildBr(L->B, bdone);
	LLVMPositionBuilderAtEnd(L->B, bdone);
	store_block(&c);
	gos_lw_loop_end(L, &lq, qstep);
	if (!c.flat)
		gos_lw_loop_end(L, &lp, 1);
	gos_lw_loop_end(L, &lk, c.KB);
	gos_lw_loop_end(L, &ln, 1);
}

/* Copies the attributes at index idx of function from to function to. */
static void copy_attrs(gos_lw *L, LLVMValueRef from, LLVMValueRef to, LLVMAttributeIndex fi, LLVMAttributeIndex ti)
{
	unsigned n = LLVMGetAttributeCountAtIndex(from, fi);
	if (!n)
		return;
	LLVMAttributeRef *as = GOS_NEWN(L->a, LLVMAttributeRef, n);
	LLVMGetAttributesAtIndex(from, fi, as);
	for (unsigned i = 0; i < n; i++)
		LLVMAddAttributeAtIndex(to, ti, as[i]);
}

static LLVMValueRef libc_fn(gos_lw *L, const char *name, LLVMTypeRef ty)
{
	LLVMValueRef f = LLVMGetNamedFunction(L->M, name);
	return f ? f : LLVMAddFunction(L->M, name, ty);
}

/* Runs the kernel on T threads: its loops go to a function over a range
 * of output-channel blocks; the node function starts T-1 threads on equal
 * shares (pthread_create; a thread that cannot be started runs its share
 * here), runs the first share and joins them. Every output element is
 * computed by one thread in the same order, so results do not depend on T. */
static void emit_threaded(kc *c, const gos_node *n, int T)
{
	gos_lw *L = c->L;
	int nb = n->n_buf;
	LLVMValueRef outer = L->fn;
	LLVMBasicBlockRef here = LLVMGetInsertBlock(L->B);
	/* void body(float*... bufs, ity kbeg, ity kend) */
	LLVMTypeRef *pt = GOS_NEWN(L->a, LLVMTypeRef, nb + 2);
	for (int j = 0; j < nb; j++)
		pt[j] = L->fptr;
	pt[nb] = pt[nb + 1] = L->ity;
	LLVMTypeRef bty = LLVMFunctionType(L->voidt, pt, (unsigned)nb + 2, 0);
	LLVMValueRef F = LLVMAddFunction(L->M, "gos.kernel", bty);
	LLVMSetLinkage(F, LLVMInternalLinkage);
	copy_attrs(L, outer, F, LLVMAttributeFunctionIndex, LLVMAttributeFunctionIndex);
	for (int j = 0; j < nb; j++)
		copy_attrs(L, outer, F, (LLVMAttributeIndex)(j + 1), (LLVMAttributeIndex)(j + 1));
	L->fn = F;
	LLVMPositionBuilderAtEnd(L->B, LLVMAppendBasicBlockInContext(L->C, F, "entry"));
	kc in = *c;
	LLVMValueRef *fb = GOS_NEWN(L->a, LLVMValueRef, nb);
	for (int j = 0; j < nb; j++)
		fb[j] = LLVMGetParam(F, (unsigned)j);
	in.buf = fb;
	emit_loops(&in, LLVMGetParam(F, (unsigned)nb), LLVMGetParam(F, (unsigned)nb + 1));
	LLVMBuildRetVoid(L->B);
	/* i8* worker(i8* args): args = {bufs..., kbeg, kend} as i8* slots */
	LLVMTypeRef wty = LLVMFunctionType(L->i8ptr, &L->i8ptr, 1, 0);
	LLVMValueRef W = LLVMAddFunction(L->M, "gos.kernel.worker", wty);
	LLVMSetLinkage(W, LLVMInternalLinkage);
	copy_attrs(L, outer, W, LLVMAttributeFunctionIndex, LLVMAttributeFunctionIndex);
	L->fn = W;
	LLVMPositionBuilderAtEnd(L->B, LLVMAppendBasicBlockInContext(L->C, W, "entry"));
	LLVMTypeRef i8pp = LLVMPointerType(L->i8ptr, 0);
	LLVMValueRef slots = LLVMBuildBitCast(L->B, LLVMGetParam(W, 0), i8pp, "");
	LLVMValueRef *ca = GOS_NEWN(L->a, LLVMValueRef, nb + 2);
	for (int j = 0; j < nb + 2; j++) {
		LLVMValueRef ij = gos_lw_ix(L, j);
		LLVMValueRef v = LLVMBuildLoad2(L->B, L->i8ptr, LLVMBuildGEP2(L->B, L->i8ptr, slots, &ij, 1, ""), "");
		ca[j] = j < nb ? LLVMBuildBitCast(L->B, v, L->fptr, "") : LLVMBuildPtrToInt(L->B, v, L->ity, "");
	}
	LLVMBuildCall2(L->B, bty, F, ca, (unsigned)nb + 2, "");
	LLVMBuildRet(L->B, LLVMConstNull(L->i8ptr));
	/* the dispatch, back in the node function */
	L->fn = outer;
	LLVMPositionBuilderAtEnd(L->B, here);
	LLVMTypeRef cty[4] = {LLVMPointerType(L->ity, 0), L->i8ptr, LLVMPointerType(wty, 0), L->i8ptr};
	LLVMTypeRef pcty = LLVMFunctionType(L->i32, cty, 4, 0);
	LLVMValueRef pcreate = libc_fn(L, "pthread_create", pcty);
	LLVMTypeRef jty[2] = {L->ity, i8pp};
	LLVMTypeRef pjty = LLVMFunctionType(L->i32, jty, 2, 0);
	LLVMValueRef pjoin = libc_fn(L, "pthread_join", pjty);
	LLVMValueRef args = gos_lw_alloca(L, LLVMArrayType(L->i8ptr, (unsigned)(T * (nb + 2))), "targs");
	LLVMValueRef tids = gos_lw_alloca(L, LLVMArrayType(L->ity, (unsigned)T), "tids");
	LLVMValueRef oks = gos_lw_alloca(L, LLVMArrayType(L->i32, (unsigned)T), "tok");
	args = LLVMBuildBitCast(L->B, args, i8pp, "");
	tids = LLVMBuildBitCast(L->B, tids, LLVMPointerType(L->ity, 0), "");
	oks = LLVMBuildBitCast(L->B, oks, LLVMPointerType(L->i32, 0), "");
	int64_t nblk = c->K / c->KB;
	for (int t = T - 1; t >= 0; t--) {
		int64_t kb = nblk * t / T * c->KB, ke = nblk * (t + 1) / T * c->KB;
		if (t == 0) {
			LLVMValueRef *a0 = GOS_NEWN(L->a, LLVMValueRef, nb + 2);
			for (int j = 0; j < nb; j++)
				a0[j] = c->buf[j];
			a0[nb] = gos_lw_ix(L, kb);
			a0[nb + 1] = gos_lw_ix(L, ke);
			LLVMBuildCall2(L->B, bty, F, a0, (unsigned)nb + 2, "");
			break;
		}
		LLVMValueRef o = gos_lw_ix(L, (long long)t * (nb + 2));
		LLVMValueRef base = LLVMBuildGEP2(L->B, L->i8ptr, args, &o, 1, "");
		for (int j = 0; j < nb + 2; j++) {
			LLVMValueRef ij = gos_lw_ix(L, j);
			LLVMValueRef v = j < nb ? LLVMBuildBitCast(L->B, c->buf[j], L->i8ptr, "")
			                        : LLVMBuildIntToPtr(L->B, gos_lw_ix(L, j == nb ? kb : ke), L->i8ptr, "");
			LLVMBuildStore(L->B, v, LLVMBuildGEP2(L->B, L->i8ptr, base, &ij, 1, ""));
		}
		LLVMValueRef it = gos_lw_ix(L, t);
		LLVMValueRef cargs[4] = {LLVMBuildGEP2(L->B, L->ity, tids, &it, 1, ""), LLVMConstNull(L->i8ptr), W,
		                         LLVMBuildBitCast(L->B, base, L->i8ptr, "")};
		LLVMValueRef r = LLVMBuildCall2(L->B, pcty, pcreate, cargs, 4, "");
		LLVMBuildStore(L->B, r, LLVMBuildGEP2(L->B, L->i32, oks, &it, 1, ""));
		/* not started: run the share here */
		LLVMBasicBlockRef inl = LLVMAppendBasicBlockInContext(L->C, outer, "thr.inline");
		LLVMBasicBlockRef nxt = LLVMAppendBasicBlockInContext(L->C, outer, "thr.next");
		LLVMBuildCondBr(L->B, LLVMBuildICmp(L->B, LLVMIntNE, r, LLVMConstInt(L->i32, 0, 0), ""), inl, nxt);
		LLVMPositionBuilderAtEnd(L->B, inl);
		LLVMValueRef warg = LLVMBuildBitCast(L->B, base, L->i8ptr, "");
		LLVMBuildCall2(L->B, wty, W, &warg, 1, "");
		LLVMBuildBr(L->B, nxt);
		LLVMPositionBuilderAtEnd(L->B, nxt);
	}
	for (int t = 1; t < T; t++) {
		LLVMValueRef it = gos_lw_ix(L, t);
		LLVMValueRef r = LLVMBuildLoad2(L->B, L->i32, LLVMBuildGEP2(L->B, L->i32, oks, &it, 1, ""), "");
		LLVMBasicBlockRef bj = LLVMAppendBasicBlockInContext(L->C, outer, "thr.join");
		LLVMBasicBlockRef nxt = LLVMAppendBasicBlockInContext(L->C, outer, "thr.joined");
		LLVMBuildCondBr(L->B, LLVMBuildICmp(L->B, LLVMIntEQ, r, LLVMConstInt(L->i32, 0, 0), ""), bj, nxt);
		LLVMPositionBuilderAtEnd(L->B, bj);
		LLVMValueRef tid = LLVMBuildLoad2(L->B, L->ity, LLVMBuildGEP2(L->B, L->ity, tids, &it, 1, ""), "");
		LLVMValueRef jargs[2] = {tid, LLVMConstNull(i8pp)};
		LLVMBuildCall2(L->B, pjty, pjoin, jargs, 2, "");
		LLVMBuildBr(L->B, nxt);
		LLVMPositionBuilderAtEnd(L->B, nxt);
	}
}

int gos_kconv_emit(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf)
{
	kc c;
	if (!match(L, n, si, &c))
		return -1;
	c.buf = buf;
	if (c.flat && !flat_epilogue_ok(&c))
		c.n_epi = 0;
	c.vty = gos_lw_fty(L, c.VL);
	c.ivty = gos_lw_ity(L, c.VL);
	int64_t nblk = c.K / c.KB;
	int T = L->threads < nblk ? L->threads : (int)nblk;
	/* threads only where the work pays for starting them (~1 MFLOP) */
	double work = (double)c.N * c.K * c.P * c.Q * c.Cg * c.R * c.S;
	if (work < 5e5)
		T = 1;
	if (T > 1)
		emit_threaded(&c, n, T);
	else
		emit_loops(&c, ixc(&c, 0), ixc(&c, c.K));
	gos_lw_stat(L, "  kconv: %s%s VL=%d KB=%d QB=%d threads=%d epilogue=%d of %d statements\n",
	            c.pool == 1 ? "maxpool" : c.pool == 2 ? "sumpool" : c.mm ? "matmul" : c.depthwise ? "depthwise" : "dense",
	            c.flat ? " 1x1-flat" : "", c.VL, c.KB, c.QB, T, c.n_epi, n->n_stmt - 1);
	return c.n_epi + 1;
}
