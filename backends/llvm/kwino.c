/* kwino.c -- vectorised Winograd transforms (the prelude's winograd_input
 * and winograd_output comprehensions, passes/synth/winograd.c):
 *
 *   V[e, f, c, t] = sum(i, j) Bt[e, i] * d_t[i, j] * Bt[f, j]
 *   Y[n, k, p, q] = sum(i, j) At[p % m, i] * M[i, j, k, t(n, p/m, q/m)] * At[q % m, j]
 *
 * Both run VL tiles of one tile row at a time, one per vector lane, and
 * apply the two small matrix products one after the other (A^3 fused
 * multiply-adds each, not A^4): the input tile is read with masked
 * gathers (padding and the last tiles' overhang read 0) and V is stored
 * contiguously along t; M is read contiguously along t and Y written
 * with masked scatters, which crop the outputs past Y's edge. The
 * matrices are read from their buffers once per block. A kernel matches
 * only after the statement's index expressions have been checked at
 * sample points against the form above. */
#include "backends/llvm/lower.h"

#include <string.h>

typedef struct kw {
	gos_lw *L;
	int out;                  /* 0: input transform, 1: output transform */
	int64_t A, m, N, C, H, W; /* tile A = m + 2; X[N, C, H, W] (input) */
	int64_t K, P, Q, TP, TQ;  /* output: Y[N, K, P, Q]; tiles TP x TQ per sample */
	int64_t pt, pl;           /* input: padding */
	int VL;
	LLVMTypeRef vty, ivty;
} kw;

static int64_t ixv(const gos_stmt *s, int r, const int64_t *v)
{
	const gos_ix *x = &s->ix[r];
	int64_t a, b;
	switch (x->op) {
	case GOS_IX_CONST: return x->k;
	case GOS_IX_VAR: return v[x->k];
	case GOS_IX_DIV:
		a = ixv(s, x->a, v);
		return a >= 0 ? a / x->k : -((-a + x->k - 1) / x->k);
	case GOS_IX_MOD:
		a = ixv(s, x->a, v) % x->k;
		return a < 0 ? a + x->k : a;
	default: break;
	}
	a = ixv(s, x->a, v), b = ixv(s, x->b, v);
	switch (x->op) {
	case GOS_IX_ADD: return a + b;
	case GOS_IX_SUB: return a - b;
	case GOS_IX_MUL: return a * b;
	case GOS_IX_MIN: return a < b ? a : b;
	default: return a > b ? a : b;
	}
}

static int op_is(const gos_node *n, const char *op)
{
	size_t l = strlen(op);
	return !strncmp(n->op, op, l) && (!n->op[l] || n->op[l] == '+');
}

/* ins: load M0[..] * load X else 0 ... : %0 load buf 1, %1 load buf 0,
 * %2 mul, %3 load buf 1, %4 mul, result %4. */
static int shape_ok(const gos_stmt *s, int pad_ok)
{
	const gos_ins *i = s->ins;
	return s->red == GOS_RED_SUM && s->n_red == 2 && s->n_ins == 5 && s->result == 4 &&
	       i[0].op == GOS_OP_LOAD && i[0].buf == 1 && !i[0].has_pad && i[1].op == GOS_OP_LOAD &&
	       i[1].buf == 0 && (pad_ok ? (!i[1].has_pad || i[1].f == 0.0f) : !i[1].has_pad) &&
	       i[2].op == GOS_OP_MUL && i[2].arg[0] == 0 && i[2].arg[1] == 1 && i[3].op == GOS_OP_LOAD &&
	       i[3].buf == 1 && !i[3].has_pad && i[4].op == GOS_OP_MUL && i[4].arg[0] == 2 &&
	       i[4].arg[1] == 3 && i[0].nidx == 2 && i[3].nidx == 2 && i[1].nidx == 4;
}

static int match(gos_lw *L, const gos_node *n, int si, kw *c)
{
	memset(c, 0, sizeof *c);
	c->L = L;
	if (si != 0 || n->n_stmt < 1 || n->n_in < 2)
		return 0;
	const gos_stmt *s = &n->stmts[0];
	c->out = op_is(n, "winograd_output");
	if (!c->out && !op_is(n, "winograd_input"))
		return 0;
	if (!shape_ok(s, !c->out) || s->dst != n->n_in)
		return 0;
	const gos_buf *X = &n->bufs[0], *T = &n->bufs[1], *Y = &n->bufs[s->dst];
	if (X->rank != 4 || T->rank != 2 || Y->rank != 4)
		return 0;
	if (!c->out) {
		c->A = T->shape[0], c->m = c->A - 2;
		c->N = X->shape[0], c->C = X->shape[1], c->H = X->shape[2], c->W = X->shape[3];
		/* t = (n * TP + a) * TQ + b: TQ from the X load's last index */
		int64_t v[6] = {0};
		v[3] = 1;
		int64_t c1 = ixv(s, s->ins[1].idx[3], v);
		v[3] = 0;
		int64_t c0 = ixv(s, s->ins[1].idx[3], v);
		c->pl = -c0, c->pt = -ixv(s, s->ins[1].idx[2], v);
		if (c1 - c0 != c->m || c->m < 1)
			return 0;
		int64_t TQ = 0;
		for (int64_t t = 1; t <= Y->shape[3] && !TQ; t++) {
			v[3] = t;
			if (ixv(s, s->ins[1].idx[3], v) == c0)
				TQ = t;
		}
		if (!TQ)
			TQ = Y->shape[3];
		c->TQ = TQ, c->TP = Y->shape[3] / c->N / TQ;
		if (T->shape[1] != c->A || Y->shape[0] != c->A || Y->shape[1] != c->A ||
		    Y->shape[2] != c->C || Y->shape[3] != c->N * c->TP * c->TQ)
			return 0;
	} else {
		c->m = T->shape[0], c->A = T->shape[1];
		c->N = Y->shape[0], c->K = Y->shape[1], c->P = Y->shape[2], c->Q = Y->shape[3];
		c->TP = (c->P + c->m - 1) / c->m, c->TQ = (c->Q + c->m - 1) / c->m;
		if (c->A != c->m + 2 || X->shape[0] != c->A || X->shape[1] != c->A || X->shape[2] != c->K ||
		    X->shape[3] != c->N * c->TP * c->TQ)
			return 0;
	}
	if (c->A > 8)
		return 0;
	/* the index expressions at sample points */
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int64_t ext[6];
	for (int d = 0; d < 4; d++)
		ext[d] = Y->shape[d];
	ext[4] = s->red_extent[0], ext[5] = s->red_extent[1];
	if (ext[4] != c->A || ext[5] != c->A)
		return 0;
	for (int t = 0; t < 64; t++) {
		int64_t v[6];
		for (int i = 0; i < 6; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			v[i] = t == 0 ? 0 : t == 1 ? ext[i] - 1 : (int64_t)((rng >> 33) % (uint64_t)ext[i]);
		}
		int64_t w0[2], w1[2], x[4];
		if (!c->out) { /* V[e, f, c, t], i, j */
			int64_t tt = v[3], nn = tt / (c->TP * c->TQ), a = tt / c->TQ % c->TP, b = tt % c->TQ;
			w0[0] = v[0], w0[1] = v[4], w1[0] = v[1], w1[1] = v[5];
			x[0] = nn, x[1] = v[2], x[2] = a * c->m + v[4] - c->pt, x[3] = b * c->m + v[5] - c->pl;
		} else { /* Y[n, k, p, q], i, j */
			w0[0] = v[2] % c->m, w0[1] = v[4], w1[0] = v[3] % c->m, w1[1] = v[5];
			x[0] = v[4], x[1] = v[5], x[2] = v[1];
			x[3] = (v[0] * c->TP + v[2] / c->m) * c->TQ + v[3] / c->m;
		}
		for (int d = 0; d < 2; d++)
			if (ixv(s, s->ins[0].idx[d], v) != w0[d] || ixv(s, s->ins[3].idx[d], v) != w1[d])
				return 0;
		for (int d = 0; d < 4; d++)
			if (ixv(s, s->ins[1].idx[d], v) != x[d])
				return 0;
	}
	return 1;
}

int gos_kwino_match(gos_lw *L, const gos_node *n, int si);
int gos_kwino_emit(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf);

int gos_kwino_match(gos_lw *L, const gos_node *n, int si)
{
	kw c;
	return match(L, n, si, &c);
}

static LLVMValueRef ixc(kw *c, int64_t v) { return gos_lw_ix(c->L, v); }
static LLVMValueRef add(kw *c, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildAdd(c->L->B, a, b, ""); }
static LLVMValueRef mulc(kw *c, LLVMValueRef a, int64_t k)
{
	return k == 1 ? a : LLVMBuildMul(c->L->B, a, ixc(c, k), "");
}

static LLVMValueRef intrinsic2(kw *c, const char *name, LLVMTypeRef t0, LLVMTypeRef t1,
                               LLVMValueRef *args, int n)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	LLVMTypeRef over[2] = {t0, t1};
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(c->L->M, id, over, 2);
	LLVMTypeRef fty = LLVMIntrinsicGetType(c->L->C, id, over, 2);
	return LLVMBuildCall2(c->L->B, fty, fn, args, (unsigned)n, "");
}

/* lanes l: base + l*step (vector of ity) */
static LLVMValueRef lanes(kw *c, LLVMValueRef base, int64_t step)
{
	gos_lw *L = c->L;
	LLVMValueRef io = gos_lw_iota(L, c->VL);
	if (step != 1)
		io = LLVMBuildMul(L->B, io, gos_lw_ic(c->ivty, step), "");
	return LLVMBuildAdd(L->B, gos_lw_splat(L, base, c->VL), io, "");
}

static LLVMValueRef in_range(kw *c, LLVMValueRef v, int64_t hi)
{
	gos_lw *L = c->L;
	LLVMValueRef a = LLVMBuildICmp(L->B, LLVMIntSGE, v, LLVMConstNull(LLVMTypeOf(v)), "");
	LLVMValueRef b = LLVMBuildICmp(L->B, LLVMIntSLT, v,
	                               LLVMGetTypeKind(LLVMTypeOf(v)) == LLVMVectorTypeKind
	                                   ? gos_lw_ic(c->ivty, hi)
	                                   : ixc(c, hi),
	                               "");
	return LLVMBuildAnd(L->B, a, b, "");
}

static LLVMValueRef gather(kw *c, LLVMValueRef base, LLVMValueRef voff, LLVMValueRef mask)
{
	gos_lw *L = c->L;
	voff = LLVMBuildSelect(L->B, mask, voff, LLVMConstNull(c->ivty), "");
	LLVMValueRef ptrs = LLVMBuildInBoundsGEP2(L->B, L->f32, base, &voff, 1, "");
	LLVMValueRef args[4] = {ptrs, LLVMConstInt(L->i32, 4, 0), mask, LLVMConstNull(c->vty)};
	return intrinsic2(c, "llvm.masked.gather", c->vty, LLVMTypeOf(ptrs), args, 4);
}

static void scatter(kw *c, LLVMValueRef v, LLVMValueRef base, LLVMValueRef voff, LLVMValueRef mask)
{
	gos_lw *L = c->L;
	voff = LLVMBuildSelect(L->B, mask, voff, LLVMConstNull(c->ivty), "");
	LLVMValueRef ptrs = LLVMBuildInBoundsGEP2(L->B, L->f32, base, &voff, 1, "");
	LLVMValueRef args[4] = {v, ptrs, LLVMConstInt(L->i32, 4, 0), mask};
	intrinsic2(c, "llvm.masked.scatter", c->vty, LLVMTypeOf(ptrs), args, 4);
}

static LLVMValueRef mload(kw *c, LLVMValueRef p, LLVMValueRef mask)
{
	LLVMTypeRef pty = LLVMPointerType(c->vty, 0);
	LLVMValueRef args[4] = {LLVMBuildBitCast(c->L->B, p, pty, ""), LLVMConstInt(c->L->i32, 4, 0), mask,
	                        LLVMConstNull(c->vty)};
	return intrinsic2(c, "llvm.masked.load", c->vty, pty, args, 4);
}

static void mstore(kw *c, LLVMValueRef v, LLVMValueRef p, LLVMValueRef mask)
{
	LLVMTypeRef pty = LLVMPointerType(c->vty, 0);
	LLVMValueRef args[4] = {v, LLVMBuildBitCast(c->L->B, p, pty, ""), LLVMConstInt(c->L->i32, 4, 0),
	                        mask};
	intrinsic2(c, "llvm.masked.store", c->vty, pty, args, 4);
}

static LLVMValueRef gep(kw *c, LLVMValueRef base, LLVMValueRef off)
{
	return LLVMBuildInBoundsGEP2(c->L->B, c->L->f32, base, &off, 1, "");
}

/* Splatted elements of the rows x A matrix at buffer mb. */
static void matrix(kw *c, LLVMValueRef mb, int64_t rows, LLVMValueRef mv[8][8])
{
	for (int64_t r = 0; r < rows; r++)
		for (int64_t i = 0; i < c->A; i++) {
			LLVMValueRef e = LLVMBuildLoad2(c->L->B, c->L->f32, gep(c, mb, ixc(c, r * c->A + i)), "");
			mv[r][i] = gos_lw_splat(c->L, e, c->VL);
		}
}

/* out[u][v] = sum_i sum_j T[u, i] d[i][j] T[v, j] for u, v < rows. */
static void transform(kw *c, LLVMValueRef T[8][8], int64_t rows, LLVMValueRef d[8][8],
                      LLVMValueRef out[8][8])
{
	LLVMValueRef tmp[8][8];
	for (int64_t u = 0; u < rows; u++)
		for (int64_t j = 0; j < c->A; j++) {
			LLVMValueRef acc = LLVMBuildFMul(c->L->B, T[u][0], d[0][j], "");
			for (int64_t i = 1; i < c->A; i++)
				acc = gos_lw_fmuladd(c->L, T[u][i], d[i][j], acc);
			tmp[u][j] = acc;
		}
	for (int64_t u = 0; u < rows; u++)
		for (int64_t v = 0; v < rows; v++) {
			LLVMValueRef acc = LLVMBuildFMul(c->L->B, tmp[u][0], T[v][0], "");
			for (int64_t j = 1; j < c->A; j++)
				acc = gos_lw_fmuladd(c->L, tmp[u][j], T[v][j], acc);
			out[u][v] = acc;
		}
}

static void emit_input(kw *c, LLVMValueRef *buf, int yb)
{
	gos_lw *L = c->L;
	LLVMValueRef T[8][8], d[8][8], o[8][8];
	matrix(c, buf[1], c->A, T);
	gos_loop ln, lc, la, lb;
	LLVMValueRef n = gos_lw_loop_begin(L, &ln, ixc(c, 0), ixc(c, c->N), "n");
	LLVMValueRef ch = gos_lw_loop_begin(L, &lc, ixc(c, 0), ixc(c, c->C), "c");
	LLVMValueRef a = gos_lw_loop_begin(L, &la, ixc(c, 0), ixc(c, c->TP), "a");
	LLVMValueRef b0 = gos_lw_loop_begin(L, &lb, ixc(c, 0), ixc(c, c->TQ), "b");
	LLVMValueRef plane = mulc(c, add(c, mulc(c, n, c->C), ch), c->H * c->W);
	LLVMValueRef lane_ok = LLVMBuildICmp(L->B, LLVMIntSLT, lanes(c, b0, 1), gos_lw_ic(c->ivty, c->TQ), "");
	LLVMValueRef col0 = lanes(c, add(c, mulc(c, b0, c->m), ixc(c, -c->pl)), c->m);
	for (int64_t i = 0; i < c->A; i++) {
		LLVMValueRef row = add(c, mulc(c, a, c->m), ixc(c, i - c->pt));
		LLVMValueRef rok = gos_lw_splat(L, in_range(c, row, c->H), c->VL);
		LLVMValueRef roff = gos_lw_splat(L, add(c, plane, mulc(c, row, c->W)), c->VL);
		for (int64_t j = 0; j < c->A; j++) {
			LLVMValueRef col = LLVMBuildAdd(L->B, col0, gos_lw_ic(c->ivty, j), "");
			LLVMValueRef mask = LLVMBuildAnd(L->B, LLVMBuildAnd(L->B, rok, lane_ok, ""),
			                                 in_range(c, col, c->W), "");
			d[i][j] = gather(c, buf[0], LLVMBuildAdd(L->B, roff, col, ""), mask);
		}
	}
	transform(c, T, c->A, d, o);
	/* V[e, f, c, t0 + l], t0 = (n * TP + a) * TQ + b0 */
	int64_t Tn = c->N * c->TP * c->TQ;
	LLVMValueRef t0 = add(c, mulc(c, add(c, mulc(c, n, c->TP), a), c->TQ), b0);
	for (int64_t e = 0; e < c->A; e++)
		for (int64_t f = 0; f < c->A; f++) {
			LLVMValueRef off = add(c, mulc(c, add(c, ixc(c, (e * c->A + f) * c->C), ch), Tn), t0);
			mstore(c, o[e][f], gep(c, buf[yb], off), lane_ok);
		}
	gos_lw_loop_end(L, &lb, c->VL);
	gos_lw_loop_end(L, &la, 1);
	gos_lw_loop_end(L, &lc, 1);
	gos_lw_loop_end(L, &ln, 1);
}

static void emit_output(kw *c, LLVMValueRef *buf, int yb)
{
	gos_lw *L = c->L;
	LLVMValueRef T[8][8], d[8][8], o[8][8];
	matrix(c, buf[1], c->m, T);
	int64_t Tn = c->N * c->TP * c->TQ;
	gos_loop ln, lk, la, lb;
	LLVMValueRef n = gos_lw_loop_begin(L, &ln, ixc(c, 0), ixc(c, c->N), "n");
	LLVMValueRef k = gos_lw_loop_begin(L, &lk, ixc(c, 0), ixc(c, c->K), "k");
	LLVMValueRef a = gos_lw_loop_begin(L, &la, ixc(c, 0), ixc(c, c->TP), "a");
	LLVMValueRef b0 = gos_lw_loop_begin(L, &lb, ixc(c, 0), ixc(c, c->TQ), "b");
	LLVMValueRef lane_ok = LLVMBuildICmp(L->B, LLVMIntSLT, lanes(c, b0, 1), gos_lw_ic(c->ivty, c->TQ), "");
	LLVMValueRef t0 = add(c, mulc(c, add(c, mulc(c, n, c->TP), a), c->TQ), b0);
	for (int64_t i = 0; i < c->A; i++)
		for (int64_t j = 0; j < c->A; j++) {
			LLVMValueRef off = add(c, mulc(c, add(c, ixc(c, (i * c->A + j) * c->K), k), Tn), t0);
			d[i][j] = mload(c, gep(c, buf[0], off), lane_ok);
		}
	transform(c, T, c->m, d, o);
	/* Y[n, k, a*m + u, (b0 + l)*m + v], cropped to P x Q */
	LLVMValueRef plane = mulc(c, add(c, mulc(c, n, c->K), k), c->P * c->Q);
	LLVMValueRef col0 = lanes(c, mulc(c, b0, c->m), c->m);
	for (int64_t u = 0; u < c->m; u++) {
		LLVMValueRef row = add(c, mulc(c, a, c->m), ixc(c, u));
		LLVMValueRef rok = gos_lw_splat(L, LLVMBuildICmp(L->B, LLVMIntSLT, row, ixc(c, c->P), ""), c->VL);
		LLVMValueRef roff = gos_lw_splat(L, add(c, plane, mulc(c, row, c->Q)), c->VL);
		for (int64_t v = 0; v < c->m; v++) {
			LLVMValueRef col = LLVMBuildAdd(L->B, col0, gos_lw_ic(c->ivty, v), "");
			LLVMValueRef cok = LLVMBuildICmp(L->B, LLVMIntSLT, col, gos_lw_ic(c->ivty, c->Q), "");
			LLVMValueRef mask = LLVMBuildAnd(L->B, LLVMBuildAnd(L->B, rok, lane_ok, ""), cok, "");
			scatter(c, o[u][v], buf[yb], LLVMBuildAdd(L->B, roff, col, ""), mask);
		}
	}
	gos_lw_loop_end(L, &lb, c->VL);
	gos_lw_loop_end(L, &la, 1);
	gos_lw_loop_end(L, &lk, 1);
	gos_lw_loop_end(L, &ln, 1);
}

int gos_kwino_emit(gos_lw *L, const gos_node *n, int si, LLVMValueRef *buf)
{
	kw c;
	if (!match(L, n, si, &c))
		return -1;
	c.VL = L->vl > 0 ? L->vl : 4;
	while (c.VL > 4 && c.TQ <= c.VL / 2)
		c.VL /= 2; /* few tiles per row: narrower vectors waste fewer lanes */
	c.vty = gos_lw_fty(L, c.VL);
	c.ivty = gos_lw_ity(L, c.VL);
	if (c.out)
		emit_output(&c, buf, n->stmts[0].dst);
	else
		emit_input(&c, buf, n->stmts[0].dst);
	gos_lw_stat(L, "  kwino: %s transform F(%lldx%lld,3x3) VL=%d\n", c.out ? "output" : "input",
	            (long long)c.m, (long long)c.m, c.VL);
	return 1;
}
