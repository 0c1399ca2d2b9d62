/* mathfn.c -- f32 math functions written as LLVM IR (lower.h), so that
 * they vectorise and no libm call is left in a loop. Each works on a
 * float or a <w x float>; special values follow C's expf, logf, tanhf,
 * erff, powf and floorf (NaN in -> NaN out, infinities, zeros).
 *
 * Accuracy (relative, over the float range, checked by
 * tests/unit/test_llvm.c against libm): exp, log ~2 ulp (Cephes
 * polynomials), tanh ~3 ulp, erf ~4e-7 absolute (a rational approximation
 * on [-4, 4], as in XLA/Eigen), pow = exp2(y log2 x) ~ 1e-6 for moderate
 * results, floor exact. */
#include "backends/llvm/lower.h"

#include <math.h>

/* Builder shorthands on the context's builder. */
#define B (L->B)

static LLVMValueRef fc(gos_lw *L, LLVMValueRef like, double v)
{
	return gos_lw_fc(L, LLVMTypeOf(like), v);
}

/* The i32 type of the same width as x. */
static LLVMTypeRef i32_like(gos_lw *L, LLVMValueRef x)
{
	int w = gos_lw_width(x);
	return w > 1 ? LLVMVectorType(L->i32, (unsigned)w) : L->i32;
}

static LLVMValueRef fcmp(gos_lw *L, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildFCmp(B, p, a, b, "");
}

static LLVMValueRef sel(gos_lw *L, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b)
{
	return LLVMBuildSelect(B, c, a, b, "");
}

/* c[0] x^(n-1) + ... + c[n-1] by Horner's rule. */
static LLVMValueRef poly(gos_lw *L, LLVMValueRef x, const double *c, int n)
{
	LLVMValueRef p = fc(L, x, c[0]);
	for (int i = 1; i < n; i++)
		p = gos_lw_fmuladd(L, p, x, fc(L, x, c[i]));
	return p;
}

/* NaN inputs give NaN: x where x is NaN, else r. */
static LLVMValueRef keep_nan(gos_lw *L, LLVMValueRef x, LLVMValueRef r)
{
	return sel(L, fcmp(L, LLVMRealUNO, x, x), x, r);
}

LLVMValueRef gos_lw_fmuladd(gos_lw *L, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
	gos_lw_match(L, &a, &b);
	gos_lw_match(L, &a, &c);
	gos_lw_match(L, &b, &c);
	LLVMValueRef args[3] = {a, b, c};
	/* llvm.fma where the hardware fuses: ARMv7 NEON only forms vfma from
	 * it, never from fmuladd */
	return gos_lw_call(L, L->has_fma ? "llvm.fma" : "llvm.fmuladd", LLVMTypeOf(a), args, 3);
}

LLVMValueRef gos_lw_sqrt(gos_lw *L, LLVMValueRef x)
{
	return gos_lw_call(L, "llvm.sqrt", LLVMTypeOf(x), &x, 1);
}

/* fmaxf (gt) / fminf (lt) as compare and select: a when a beats b or b
 * is NaN, else b (a NaN operand is ignored). For targets without a
 * vector maxnum (ARMv7 NEON would call fmaxf per lane). */
static LLVMValueRef minmax_sel(gos_lw *L, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b)
{
	LLVMValueRef c = fcmp(L, p, a, b);
	if (!LLVMIsAConstantFP(b) && !LLVMIsAConstantDataVector(b) && !LLVMIsAConstantVector(b))
		c = LLVMBuildOr(B, c, fcmp(L, LLVMRealUNO, b, b), "");
	return sel(L, c, a, b);
}

LLVMValueRef gos_lw_fmax(gos_lw *L, LLVMValueRef a, LLVMValueRef b)
{
	gos_lw_match(L, &a, &b);
	if (!L->native_minmax)
		return minmax_sel(L, LLVMRealOGT, a, b);
	LLVMValueRef args[2] = {a, b};
	return gos_lw_call(L, "llvm.maxnum", LLVMTypeOf(a), args, 2);
}

LLVMValueRef gos_lw_fmin(gos_lw *L, LLVMValueRef a, LLVMValueRef b)
{
	gos_lw_match(L, &a, &b);
	if (!L->native_minmax)
		return minmax_sel(L, LLVMRealOLT, a, b);
	LLVMValueRef args[2] = {a, b};
	return gos_lw_call(L, "llvm.minnum", LLVMTypeOf(a), args, 2);
}

LLVMValueRef gos_lw_floor(gos_lw *L, LLVMValueRef x)
{
	if (L->native_floor)
		return gos_lw_call(L, "llvm.floor", LLVMTypeOf(x), &x, 1);
	/* |x| < 2^23: truncate, step down when that went up; the sign of a
	 * zero result is x's (floorf(-0) = -0). Larger |x|, inf, NaN: x. */
	LLVMTypeRef it = i32_like(L, x);
	LLVMValueRef t = LLVMBuildSIToFP(B, LLVMBuildFPToSI(B, x, it, ""), LLVMTypeOf(x), "");
	t = sel(L, fcmp(L, LLVMRealOGT, t, x), LLVMBuildFSub(B, t, fc(L, x, 1), ""), t);
	LLVMValueRef args[2] = {t, x};
	t = gos_lw_call(L, "llvm.copysign", LLVMTypeOf(x), args, 2);
	LLVMValueRef ax = gos_lw_call(L, "llvm.fabs", LLVMTypeOf(x), &x, 1);
	return sel(L, fcmp(L, LLVMRealOLT, ax, fc(L, x, 8388608.0)), t, x);
}

/* 2^n as a float for integer n (i32 lanes) in [-126, 127]. */
static LLVMValueRef pow2i(gos_lw *L, LLVMValueRef n, LLVMTypeRef fty)
{
	LLVMTypeRef it = LLVMTypeOf(n);
	LLVMValueRef bits = LLVMBuildShl(B, LLVMBuildAdd(B, n, gos_lw_ic(it, 127), ""),
	                                 gos_lw_ic(it, 23), "");
	return LLVMBuildBitCast(B, bits, fty, "");
}

LLVMValueRef gos_lw_exp(gos_lw *L, LLVMValueRef x)
{
	/* Cephes expf: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6
	 * polynomial, times 2^n built in the exponent bits. */
	static const double P[] = {1.9875691500E-4, 1.3981999507E-3, 8.3334519073E-3,
	                           4.1665795894E-2, 1.6666665459E-1, 5.0000001201E-1};
	const double hi = 88.72283935546875, lo = -86.5; /* below lo: 0 (< 3e-38) */
	LLVMTypeRef ty = LLVMTypeOf(x);
	LLVMValueRef xc = sel(L, fcmp(L, LLVMRealOGT, x, fc(L, x, hi)), fc(L, x, hi), x);
	xc = sel(L, fcmp(L, LLVMRealOLT, xc, fc(L, x, lo)), fc(L, x, lo), xc);
	LLVMValueRef j = LLVMBuildFMul(B, xc, fc(L, x, 1.44269504088896341), "");
	LLVMValueRef h = sel(L, fcmp(L, LLVMRealOLT, j, fc(L, x, 0)),
	                     LLVMBuildFSub(B, j, fc(L, x, 0.5), ""),
	                     LLVMBuildFAdd(B, j, fc(L, x, 0.5), ""));
	LLVMTypeRef it = i32_like(L, x);
	LLVMValueRef n = LLVMBuildFPToSI(B, h, it, "");
	LLVMValueRef nf = LLVMBuildSIToFP(B, n, ty, "");
	LLVMValueRef r = gos_lw_fmuladd(L, nf, fc(L, x, -0.693359375), xc);
	r = gos_lw_fmuladd(L, nf, fc(L, x, 2.12194440e-4), r);
	LLVMValueRef z = LLVMBuildFMul(B, r, r, "");
	LLVMValueRef p = poly(L, r, P, 6);
	LLVMValueRef y = LLVMBuildFAdd(B, gos_lw_fmuladd(L, p, z, r), fc(L, x, 1), "");
	/* 2^n = 2^(n-1) * 2 keeps n = 128 representable */
	LLVMValueRef s = pow2i(L, LLVMBuildSub(B, n, gos_lw_ic(it, 1), ""), ty);
	LLVMValueRef res = LLVMBuildFMul(B, LLVMBuildFMul(B, y, s, ""), fc(L, x, 2), "");
	res = sel(L, fcmp(L, LLVMRealOGT, x, fc(L, x, hi)), fc(L, x, INFINITY), res);
	res = sel(L, fcmp(L, LLVMRealOLT, x, fc(L, x, lo)), fc(L, x, 0), res);
	return keep_nan(L, x, res);
}

LLVMValueRef gos_lw_log(gos_lw *L, LLVMValueRef x)
{
	/* Cephes logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a
	 * polynomial in m - 1, plus e ln2 in two parts. */
	static const double P[] = {7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1,
	                           -1.2420140846E-1, 1.4249322787E-1, -1.6668057665E-1,
	                           2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1};
	LLVMTypeRef ty = LLVMTypeOf(x), it = i32_like(L, x);
	LLVMValueRef small = fcmp(L, LLVMRealOLT, x, fc(L, x, 1.17549435e-38));
	LLVMValueRef xs = sel(L, small, LLVMBuildFMul(B, x, fc(L, x, 8388608.0), ""), x);
	LLVMValueRef bits = LLVMBuildBitCast(B, xs, it, "");
	LLVMValueRef e = LLVMBuildSub(B, LLVMBuildLShr(B, bits, gos_lw_ic(it, 23), ""),
	                              gos_lw_ic(it, 126), "");
	LLVMValueRef ef = LLVMBuildSIToFP(B, e, ty, "");
	ef = LLVMBuildFSub(B, ef, sel(L, small, fc(L, x, 23), fc(L, x, 0)), "");
	LLVMValueRef mb = LLVMBuildOr(B, LLVMBuildAnd(B, bits, gos_lw_ic(it, 0x007fffff), ""),
	                              gos_lw_ic(it, 0x3f000000), "");
	LLVMValueRef m = LLVMBuildBitCast(B, mb, ty, ""); /* [0.5, 1) */
	LLVMValueRef lt = fcmp(L, LLVMRealOLT, m, fc(L, x, 0.707106781186547524));
	ef = LLVMBuildFSub(B, ef, sel(L, lt, fc(L, x, 1), fc(L, x, 0)), "");
	m = LLVMBuildFSub(B, sel(L, lt, LLVMBuildFAdd(B, m, m, ""), m), fc(L, x, 1), "");
	LLVMValueRef z = LLVMBuildFMul(B, m, m, "");
	LLVMValueRef y = LLVMBuildFMul(B, LLVMBuildFMul(B, poly(L, m, P, 9), m, ""), z, "");
	y = gos_lw_fmuladd(L, ef, fc(L, x, -2.12194440e-4), y);
	y = gos_lw_fmuladd(L, z, fc(L, x, -0.5), y);
	LLVMValueRef res = gos_lw_fmuladd(L, ef, fc(L, x, 0.693359375), LLVMBuildFAdd(B, m, y, ""));
	res = sel(L, fcmp(L, LLVMRealOEQ, x, fc(L, x, INFINITY)), x, res);
	res = sel(L, fcmp(L, LLVMRealOEQ, x, fc(L, x, 0)), fc(L, x, -INFINITY), res);
	res = sel(L, fcmp(L, LLVMRealOLT, x, fc(L, x, 0)), fc(L, x, NAN), res);
	return keep_nan(L, x, res);
}

LLVMValueRef gos_lw_tanh(gos_lw *L, LLVMValueRef x)
{
	/* Cephes tanhf: an odd polynomial below 0.625, else
	 * 1 - 2 / (e^(2|x|) + 1) with x's sign. */
	static const double P[] = {-5.70498872745E-3, 2.06390887954E-2, -5.37397155531E-2,
	                           1.33314422036E-1, -3.33332819422E-1};
	LLVMValueRef ax = gos_lw_call(L, "llvm.fabs", LLVMTypeOf(x), &x, 1);
	LLVMValueRef z = LLVMBuildFMul(B, x, x, "");
	LLVMValueRef ps = LLVMBuildFMul(B, poly(L, z, P, 5), z, "");
	LLVMValueRef small = gos_lw_fmuladd(L, ps, x, x);
	LLVMValueRef e = gos_lw_exp(L, LLVMBuildFAdd(B, ax, ax, ""));
	LLVMValueRef big = LLVMBuildFSub(
		B, fc(L, x, 1), LLVMBuildFDiv(B, fc(L, x, 2), LLVMBuildFAdd(B, e, fc(L, x, 1), ""), ""),
		"");
	LLVMValueRef args[2] = {big, x};
	big = gos_lw_call(L, "llvm.copysign", LLVMTypeOf(x), args, 2);
	return sel(L, fcmp(L, LLVMRealOLT, ax, fc(L, x, 0.625)), small, big);
}

LLVMValueRef gos_lw_erf(gos_lw *L, LLVMValueRef x)
{
	static const double A[] = {-2.72614225801306e-10, 2.77068142495902e-08,
	                           -2.10102402082508e-06, -5.69250639462346e-05,
	                           -7.34990630326855e-04, -2.95459980854025e-03,
	                           -1.60960333262415e-02};
	static const double Bq[] = {-1.45660718464996e-05, -2.13374055278905e-04,
	                            -1.68282697438203e-03, -7.37332916720468e-03,
	                            -1.42647390514189e-02};
	LLVMValueRef xc = sel(L, fcmp(L, LLVMRealOGT, x, fc(L, x, 4)), fc(L, x, 4), x);
	xc = sel(L, fcmp(L, LLVMRealOLT, xc, fc(L, x, -4)), fc(L, x, -4), xc);
	LLVMValueRef x2 = LLVMBuildFMul(B, xc, xc, "");
	LLVMValueRef p = LLVMBuildFMul(B, poly(L, x2, A, 7), xc, "");
	LLVMValueRef q = poly(L, x2, Bq, 5);
	return keep_nan(L, x, LLVMBuildFDiv(B, p, q, ""));
}

/* log2 |x| and 2^y through the natural versions (|x| > 0 finite). */
LLVMValueRef gos_lw_pow(gos_lw *L, LLVMValueRef x, LLVMValueRef y)
{
	gos_lw_match(L, &x, &y);
	LLVMTypeRef ty = LLVMTypeOf(x), it = i32_like(L, x);
	LLVMValueRef ax = gos_lw_call(L, "llvm.fabs", ty, &x, 1);
	LLVMValueRef r = gos_lw_exp(L, LLVMBuildFMul(B, y, gos_lw_log(L, ax), ""));
	/* y an integer? (|y| < 2^24 and floor(y) == y); odd? */
	LLVMValueRef fy = gos_lw_floor(L, y);
	LLVMValueRef ay = gos_lw_call(L, "llvm.fabs", ty, &y, 1);
	LLVMValueRef yint = LLVMBuildAnd(B, fcmp(L, LLVMRealOEQ, fy, y),
	                                 fcmp(L, LLVMRealOLT, ay, fc(L, x, 16777216.0)), "");
	LLVMValueRef yi = LLVMBuildFPToSI(B, sel(L, yint, y, fc(L, x, 0)), it, "");
	LLVMValueRef odd = LLVMBuildICmp(B, LLVMIntNE, LLVMBuildAnd(B, yi, gos_lw_ic(it, 1), ""),
	                                 gos_lw_ic(it, 0), "");
	LLVMValueRef bigint = fcmp(L, LLVMRealOGE, ay, fc(L, x, 16777216.0)); /* even integers */
	yint = LLVMBuildOr(B, yint, bigint, "");
	LLVMValueRef xneg = fcmp(L, LLVMRealOLT, x, fc(L, x, 0));
	/* x < 0: integer y keeps the sign of x^y by parity, others are NaN */
	LLVMValueRef neg = sel(L, odd, LLVMBuildFNeg(B, r, ""), r);
	r = sel(L, xneg, sel(L, yint, neg, fc(L, x, NAN)), r);
	/* x == 0 (either sign): y > 0 -> 0 (-0 for odd y and x = -0), y < 0 -> inf */
	LLVMValueRef xzero = fcmp(L, LLVMRealOEQ, x, fc(L, x, 0));
	LLVMValueRef sx[2] = {fc(L, x, 1), x};
	LLVMValueRef sgn = gos_lw_call(L, "llvm.copysign", ty, sx, 2);
	LLVMValueRef oddsgn = sel(L, odd, sgn, fc(L, x, 1));
	LLVMValueRef zpos = LLVMBuildFMul(B, fc(L, x, 0), oddsgn, "");
	LLVMValueRef zneg = LLVMBuildFMul(B, fc(L, x, INFINITY), oddsgn, "");
	r = sel(L, xzero, sel(L, fcmp(L, LLVMRealOLT, y, fc(L, x, 0)), zneg, zpos), r);
	/* infinities of x */
	LLVMValueRef xinf = fcmp(L, LLVMRealOEQ, ax, fc(L, x, INFINITY));
	LLVMValueRef infpos = fcmp(L, LLVMRealOGT, y, fc(L, x, 0));
	LLVMValueRef inf_r = sel(L, infpos, fc(L, x, INFINITY), fc(L, x, 0));
	inf_r = sel(L, LLVMBuildAnd(B, xneg, odd, ""), LLVMBuildFNeg(B, inf_r, ""), inf_r);
	r = sel(L, xinf, inf_r, r);
	/* NaN operands give NaN (below), except the C rules pow(x, 0) = 1 and
	 * pow(1, y) = 1; |x| = 1 with y = +-inf is 1 as well */
	r = keep_nan(L, y, keep_nan(L, x, r));
	LLVMValueRef one = LLVMBuildOr(B, fcmp(L, LLVMRealOEQ, y, fc(L, x, 0)),
	                               fcmp(L, LLVMRealOEQ, x, fc(L, x, 1)), "");
	LLVMValueRef yinf = fcmp(L, LLVMRealOEQ, ay, fc(L, x, INFINITY));
	LLVMValueRef m1 = LLVMBuildAnd(B, fcmp(L, LLVMRealOEQ, x, fc(L, x, -1)), yinf, "");
	r = sel(L, LLVMBuildOr(B, one, m1, ""), fc(L, x, 1), r);
	/* y = +-inf, |x| != 1: 0 or inf by |x| < 1 and the sign of y */
	LLVMValueRef lt1 = fcmp(L, LLVMRealOLT, ax, fc(L, x, 1));
	LLVMValueRef ypos = fcmp(L, LLVMRealOGT, y, fc(L, x, 0));
	LLVMValueRef grow = LLVMBuildXor(B, lt1, ypos, ""); /* |x|>1,y=+inf or |x|<1,y=-inf */
	LLVMValueRef yinf_r = sel(L, grow, fc(L, x, INFINITY), fc(L, x, 0));
	LLVMValueRef ax1 = fcmp(L, LLVMRealOEQ, ax, fc(L, x, 1));
	LLVMValueRef xnn = fcmp(L, LLVMRealORD, x, x);
	r = sel(L, LLVMBuildAnd(B, LLVMBuildAnd(B, yinf, xnn, ""), LLVMBuildNot(B, ax1, ""), ""),
	        yinf_r, r);
	return r;
}

LLVMValueRef gos_lw_hreduce(gos_lw *L, gos_red red, LLVMValueRef v)
{
	int w = gos_lw_width(v);
	while (w > 1 && (w & 1) == 0) {
		int h = w / 2;
		LLVMValueRef lo, hi;
		if (h == 1) {
			lo = LLVMBuildExtractElement(B, v, LLVMConstInt(L->i32, 0, 0), "");
			hi = LLVMBuildExtractElement(B, v, LLVMConstInt(L->i32, 1, 0), "");
		} else {
			LLVMValueRef ml[32], mh[32];
			for (int i = 0; i < h && i < 32; i++) {
				ml[i] = LLVMConstInt(L->i32, (unsigned long long)i, 0);
				mh[i] = LLVMConstInt(L->i32, (unsigned long long)(i + h), 0);
			}
			LLVMValueRef u = LLVMGetUndef(LLVMTypeOf(v));
			lo = LLVMBuildShuffleVector(B, v, u, LLVMConstVector(ml, (unsigned)h), "");
			hi = LLVMBuildShuffleVector(B, v, u, LLVMConstVector(mh, (unsigned)h), "");
		}
		v = red == GOS_RED_SUM ? LLVMBuildFAdd(B, lo, hi, "")
		    : red == GOS_RED_MAX ? gos_lw_fmax(L, lo, hi)
		                         : gos_lw_fmin(L, lo, hi);
		w = h;
	}
	if (w == 1)
		return gos_lw_width(v) > 1 ? LLVMBuildExtractElement(B, v, LLVMConstInt(L->i32, 0, 0), "")
		                           : v;
	/* odd widths: lane by lane */
	LLVMValueRef acc = LLVMBuildExtractElement(B, v, LLVMConstInt(L->i32, 0, 0), "");
	for (int i = 1; i < w; i++) {
		LLVMValueRef e = LLVMBuildExtractElement(B, v, LLVMConstInt(L->i32, (unsigned)i, 0), "");
		acc = red == GOS_RED_SUM ? LLVMBuildFAdd(B, acc, e, "")
		      : red == GOS_RED_MAX ? gos_lw_fmax(L, acc, e)
		                           : gos_lw_fmin(L, acc, e);
	}
	return acc;
}
