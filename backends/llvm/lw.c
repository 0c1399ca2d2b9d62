/* lw.c -- IR building helpers of the LLVM backend (lower.h): types,
 * constants, splats, intrinsic calls, integer floor division, loops,
 * allocas and the lowering report. */
#include "backends/llvm/lower.h"
#include "support/alloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/DebugInfo.h>

void gos_lw_stat(gos_lw *L, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	if (L->stats_len + (size_t)n + 1 > L->stats_cap) {
		size_t cap = L->stats_cap ? L->stats_cap * 2 : 4096;
		while (cap < L->stats_len + (size_t)n + 1)
			cap *= 2;
		char *s = gos_realloc(L->stats, cap);
		if (!s)
			return;
		L->stats = s;
		L->stats_cap = cap;
	}
	memcpy(L->stats + L->stats_len, buf, (size_t)n + 1);
	L->stats_len += (size_t)n;
}

LLVMTypeRef gos_lw_fty(gos_lw *L, int w)
{
	return w > 1 ? LLVMVectorType(L->f32, (unsigned)w) : L->f32;
}

LLVMTypeRef gos_lw_ity(gos_lw *L, int w)
{
	return w > 1 ? LLVMVectorType(L->ity, (unsigned)w) : L->ity;
}

int gos_lw_width(LLVMValueRef v)
{
	LLVMTypeRef t = LLVMTypeOf(v);
	return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 1;
}

LLVMValueRef gos_lw_fc(gos_lw *L, LLVMTypeRef ty, double v)
{
	if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind)
		return LLVMConstReal(ty, v);
	unsigned w = LLVMGetVectorSize(ty);
	LLVMValueRef e[64];
	LLVMValueRef c = LLVMConstReal(LLVMGetElementType(ty), v);
	for (unsigned i = 0; i < w && i < 64; i++)
		e[i] = c;
	(void)L;
	return LLVMConstVector(e, w);
}

LLVMValueRef gos_lw_ic(LLVMTypeRef ty, long long v)
{
	if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind)
		return LLVMConstInt(ty, (unsigned long long)v, 1);
	unsigned w = LLVMGetVectorSize(ty);
	LLVMValueRef e[64];
	LLVMValueRef c = LLVMConstInt(LLVMGetElementType(ty), (unsigned long long)v, 1);
	for (unsigned i = 0; i < w && i < 64; i++)
		e[i] = c;
	return LLVMConstVector(e, w);
}

LLVMValueRef gos_lw_ix(gos_lw *L, long long v)
{
	return LLVMConstInt(L->ity, (unsigned long long)v, 1);
}

LLVMValueRef gos_lw_splat(gos_lw *L, LLVMValueRef s, int w)
{
	if (w <= 1 || gos_lw_width(s) > 1)
		return s;
	if (LLVMIsConstant(s)) {
		LLVMValueRef e[64];
		for (int i = 0; i < w && i < 64; i++)
			e[i] = s;
		return LLVMConstVector(e, (unsigned)w);
	}
	LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(s), (unsigned)w);
	LLVMValueRef v = LLVMBuildInsertElement(L->B, LLVMGetUndef(vt), s,
	                                        LLVMConstInt(L->i32, 0, 0), "");
	LLVMValueRef mask = LLVMConstNull(LLVMVectorType(L->i32, (unsigned)w));
	return LLVMBuildShuffleVector(L->B, v, LLVMGetUndef(vt), mask, "splat");
}

LLVMValueRef gos_lw_iota(gos_lw *L, int w)
{
	LLVMValueRef e[64];
	for (int i = 0; i < w && i < 64; i++)
		e[i] = LLVMConstInt(L->ity, (unsigned long long)i, 0);
	return LLVMConstVector(e, (unsigned)w);
}

void gos_lw_match(gos_lw *L, LLVMValueRef *a, LLVMValueRef *b)
{
	int wa = gos_lw_width(*a), wb = gos_lw_width(*b);
	if (wa < wb)
		*a = gos_lw_splat(L, *a, wb);
	else if (wb < wa)
		*b = gos_lw_splat(L, *b, wa);
}

LLVMValueRef gos_lw_call(gos_lw *L, const char *name, LLVMTypeRef ty, LLVMValueRef *args, int n)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	LLVMTypeRef over[1] = {ty};
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(L->M, id, over, 1);
	LLVMTypeRef fty = LLVMIntrinsicGetType(L->C, id, over, 1);
	return LLVMBuildCall2(L->B, fty, fn, args, (unsigned)n, "");
}

LLVMValueRef gos_lw_imin(gos_lw *L, LLVMValueRef a, LLVMValueRef b)
{
	gos_lw_match(L, &a, &b);
	return LLVMBuildSelect(L->B, LLVMBuildICmp(L->B, LLVMIntSLT, a, b, ""), a, b, "");
}

LLVMValueRef gos_lw_imax(gos_lw *L, LLVMValueRef a, LLVMValueRef b)
{
	gos_lw_match(L, &a, &b);
	return LLVMBuildSelect(L->B, LLVMBuildICmp(L->B, LLVMIntSGT, a, b, ""), a, b, "");
}

LLVMValueRef gos_lw_floordiv(gos_lw *L, LLVMValueRef a, long long k, int nonneg)
{
	LLVMTypeRef ty = LLVMTypeOf(a);
	LLVMValueRef kk = gos_lw_ic(ty, k);
	if (k == 1)
		return a;
	if (nonneg)
		return LLVMBuildUDiv(L->B, a, kk, "");
	/* q = a / k (toward zero); q - 1 when the remainder is negative */
	LLVMValueRef q = LLVMBuildSDiv(L->B, a, kk, "");
	LLVMValueRef r = LLVMBuildSRem(L->B, a, kk, "");
	LLVMValueRef neg = LLVMBuildICmp(L->B, LLVMIntSLT, r, gos_lw_ic(ty, 0), "");
	return LLVMBuildSub(L->B, q, LLVMBuildZExt(L->B, neg, ty, ""), "");
}

LLVMValueRef gos_lw_floormod(gos_lw *L, LLVMValueRef a, long long k, int nonneg)
{
	LLVMTypeRef ty = LLVMTypeOf(a);
	LLVMValueRef kk = gos_lw_ic(ty, k);
	if (k == 1)
		return gos_lw_ic(ty, 0);
	if (nonneg)
		return LLVMBuildURem(L->B, a, kk, "");
	LLVMValueRef r = LLVMBuildSRem(L->B, a, kk, "");
	LLVMValueRef neg = LLVMBuildICmp(L->B, LLVMIntSLT, r, gos_lw_ic(ty, 0), "");
	return LLVMBuildSelect(L->B, neg, LLVMBuildAdd(L->B, r, kk, ""), r, "");
}

LLVMValueRef gos_lw_loop_begin(gos_lw *L, gos_loop *lp, LLVMValueRef start, LLVMValueRef limit,
                               const char *name)
{
	lp->pre = LLVMGetInsertBlock(L->B);
	lp->scalar_tail = 0;
	lp->head = LLVMAppendBasicBlockInContext(L->C, L->fn, name);
	LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(L->C, L->fn, "body");
	lp->exit = LLVMCreateBasicBlockInContext(L->C, "exit");
	LLVMBuildBr(L->B, lp->head);
	LLVMPositionBuilderAtEnd(L->B, lp->head);
	lp->iv = LLVMBuildPhi(L->B, L->ity, name);
	LLVMAddIncoming(lp->iv, &start, &lp->pre, 1);
	LLVMValueRef c = LLVMBuildICmp(L->B, LLVMIntSLT, lp->iv, limit, "");
	LLVMBuildCondBr(L->B, c, body, lp->exit);
	LLVMPositionBuilderAtEnd(L->B, body);
	return lp->iv;
}

/* Loop metadata that keeps LLVM from vectorising or unrolling a loop
 * (a self-referential !llvm.loop node). */
static LLVMValueRef no_vectorize_md(gos_lw *L)
{
	LLVMMetadataRef tmp = LLVMTemporaryMDNode(L->C, NULL, 0);
	static const char *const keys[] = {"llvm.loop.vectorize.enable", "llvm.loop.unroll.disable"};
	LLVMMetadataRef kv[2];
	LLVMMetadataRef s0 = LLVMMDStringInContext2(L->C, keys[0], strlen(keys[0]));
	LLVMMetadataRef off = LLVMValueAsMetadata(LLVMConstInt(L->i1, 0, 0));
	LLVMMetadataRef pair[2] = {s0, off};
	kv[0] = LLVMMDNodeInContext2(L->C, pair, 2);
	LLVMMetadataRef s1 = LLVMMDStringInContext2(L->C, keys[1], strlen(keys[1]));
	kv[1] = LLVMMDNodeInContext2(L->C, &s1, 1);
	LLVMMetadataRef ops[3] = {tmp, kv[0], kv[1]};
	LLVMMetadataRef loop = LLVMMDNodeInContext2(L->C, ops, 3);
	LLVMMetadataReplaceAllUsesWith(tmp, loop);
	return LLVMMetadataAsValue(L->C, loop);
}

void gos_lw_loop_end(gos_lw *L, gos_loop *lp, long long step)
{
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(L->B);
	LLVMValueRef next = LLVMBuildNSWAdd(L->B, lp->iv, gos_lw_ix(L, step), "");
	LLVMValueRef br = LLVMBuildBr(L->B, lp->head);
	if (lp->scalar_tail)
		LLVMSetMetadata(br, LLVMGetMDKindIDInContext(L->C, "llvm.loop", 9), no_vectorize_md(L));
	LLVMAddIncoming(lp->iv, &next, &latch, 1);
	LLVMAppendExistingBasicBlock(L->fn, lp->exit);
	LLVMPositionBuilderAtEnd(L->B, lp->exit);
}

LLVMValueRef gos_lw_alloca(gos_lw *L, LLVMTypeRef ty, const char *name)
{
	LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(L->fn);
	LLVMBuilderRef b = LLVMCreateBuilderInContext(L->C);
	LLVMValueRef first = LLVMGetFirstInstruction(entry);
	if (first)
		LLVMPositionBuilderBefore(b, first);
	else
		LLVMPositionBuilderAtEnd(b, entry);
	LLVMValueRef a = LLVMBuildAlloca(b, ty, name);
	LLVMDisposeBuilder(b);
	return a;
}
