/* onnx_ops.c -- the mapping of ONNX operators (default domain, opsets
 * 1..19) to prelude operators (frontend/prelude.gos) and the importer's
 * own (frontend/onnx/onnx_ops.gos). One function per ONNX operator, the
 * table at the end. Each function reads the attributes it understands
 * (the caller rejects any other attribute), checks what the mapping cannot
 * express and reports it as unsupported, folds integer tensors (shapes,
 * axes) at import, and binds the node's outputs. */
#include "frontend/onnx/onnx.h"

#ifdef GOS_HAVE_ONNX

#include <math.h>
#include <string.h>

#include "frontend/onnx/onnx_internal.h"

#define MAXR GOS_MAX_RANK
/* Largest kernel size, stride, dilation or pad of a window operator: with
 * sizes below 2^31 the output-size arithmetic then stays in 64 bits. */
#define WIN_MAX ((int64_t)1 << 30)

/* The name of the value that defines output 0 of the node. */
static const char *out_name(onnx_imp *I)
{
	const char *n = onnx_out_name(I, 0);
	return n[0] ? n : onnx_tmp_name(I, "out");
}

/* Normalises axis a of a rank-r tensor (negative counts from the end)
 * into *out; error if out of range. */
static int norm_axis(onnx_imp *I, int64_t a, int r, const char *what, int *out)
{
	if (a < -r || a >= (r ? r : 1) || (r == 0 && a != 0 && a != -1))
		return onnx_err(I, "%s %lld is out of range for rank %d", what, (long long)a, r);
	*out = (int)(a < 0 ? a + r : a);
	return 0;
}

/* Input k as a constant holding integers (converted from floats if they
 * are whole numbers); n values into v[cap]. */
static int const_ints(onnx_imp *I, int k, const char *what, int64_t *v, int cap, int *n)
{
	gos_onnx_tensor *c = onnx_in_const(I, k, what);
	if (!c)
		return -1;
	if (c->numel > cap)
		return onnx_unsup(I, "%s has %lld values (at most %d are supported)", what,
		                  (long long)c->numel, cap);
	for (int64_t j = 0; j < c->numel; j++) {
		if (c->is_float) {
			if (c->f[j] != floorf(c->f[j]))
				return onnx_err(I, "%s must hold integers", what);
			v[j] = (int64_t)c->f[j];
		} else {
			v[j] = c->i[j];
		}
	}
	*n = (int)c->numel;
	return 0;
}

/* Input k as a constant scalar (one element of any type). */
static int const_scalar(onnx_imp *I, int k, const char *what, double *v)
{
	gos_onnx_tensor *c = onnx_in_const(I, k, what);
	if (!c)
		return -1;
	if (c->numel != 1)
		return onnx_err(I, "%s must hold one value, it has %lld", what, (long long)c->numel);
	*v = c->is_float ? c->f[0] : (double)c->i[0];
	return 0;
}

/* A constant with c's data viewed with another shape (same numel). */
static gos_onnx_tensor *const_view(onnx_imp *I, const gos_onnx_tensor *c, int rank,
                                   const int64_t *shape)
{
	gos_onnx_tensor *t = GOS_NEW(I->a, gos_onnx_tensor);
	if (!t)
		return NULL;
	*t = *c;
	t->rank = rank;
	memcpy(t->shape, shape, sizeof(int64_t) * (size_t)rank);
	return t;
}

/* Row-major strides of shape. */
static void strides_of(int r, const int64_t *shape, int64_t *st)
{
	int64_t s = 1;
	for (int k = r - 1; k >= 0; k--) {
		st[k] = s;
		s *= shape[k];
	}
}

/* Constant c transposed by perm. */
static gos_onnx_tensor *const_transpose(onnx_imp *I, const gos_onnx_tensor *c, const int *perm)
{
	int r = c->rank;
	int64_t shape[MAXR] = {0}, ist[MAXR], ost[MAXR];
	for (int k = 0; k < r; k++)
		shape[k] = c->shape[perm[k]];
	gos_onnx_tensor *t = onnx_new_const(I, c->is_float, r, shape);
	if (!t)
		return NULL;
	t->elem_type = c->elem_type;
	strides_of(r, c->shape, ist);
	strides_of(r, shape, ost);
	for (int64_t o = 0; o < t->numel; o++) {
		int64_t rem = o, src = 0;
		for (int k = 0; k < r; k++) {
			int64_t idx = rem / ost[k];
			rem %= ost[k];
			src += idx * ist[perm[k]];
		}
		if (c->is_float)
			t->f[o] = c->f[src];
		else
			t->i[o] = c->i[src];
	}
	return t;
}

/* Binds output 0 to what input 0 is (value or constant). */
static int alias_out0(onnx_imp *I)
{
	onnx_sym *s = onnx_in_sym(I, 0);
	if (!s)
		return -1;
	if (s->value >= 0)
		return onnx_set_out(I, 0, s->value);
	return onnx_set_out_const(I, 0, s->c);
}

/* Output 0 = input 0 (a value or a constant) with a new shape. */
static int reshape_out0(onnx_imp *I, int rank, const int64_t *shape)
{
	onnx_sym *s = onnx_in_sym(I, 0);
	if (!s)
		return -1;
	if (s->value < 0) {
		gos_onnx_tensor *t = const_view(I, s->c, rank, shape);
		return t ? onnx_set_out_const(I, 0, t) : -1;
	}
	return onnx_set_out(I, 0, onnx_reshape(I, s->value, rank, shape, out_name(I)));
}

/* ---- elementwise -------------------------------------------------------- */

static int unary(onnx_imp *I, const char *op, const onnx_attrs *A)
{
	onnx_attr_ignore(I, "consumed_inputs"); /* opset < 6 */
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	return onnx_set_out(I, 0, onnx_apply(I, op, out_name(I), 1, &x, A));
}

static int op_relu(onnx_imp *I) { return unary(I, "relu", NULL); }
static int op_sigmoid(onnx_imp *I) { return unary(I, "sigmoid", NULL); }
static int op_tanh(onnx_imp *I) { return unary(I, "tanh", NULL); }
static int op_hardswish(onnx_imp *I) { return unary(I, "hard_swish", NULL); }

static int op_leakyrelu(onnx_imp *I)
{
	double alpha;
	if (onnx_attr_float(I, "alpha", 0.01, &alpha))
		return -1;
	onnx_attrs A = {0};
	onnx_attrs_num(&A, "alpha", alpha);
	return unary(I, "leaky_relu", &A);
}

static int op_hardsigmoid(onnx_imp *I)
{
	double alpha, beta;
	if (onnx_attr_float(I, "alpha", 0.2, &alpha) || onnx_attr_float(I, "beta", 0.5, &beta))
		return -1;
	onnx_attrs A = {0};
	onnx_attrs_num(&A, "alpha", alpha);
	onnx_attrs_num(&A, "beta", beta);
	return unary(I, "hard_sigmoid", &A);
}

static int op_clip(onnx_imp *I)
{
	onnx_attrs A = {0};
	if (I->opset < 11) {
		const Onnx__AttributeProto *lo = onnx_attr(I, "min"), *hi = onnx_attr(I, "max");
		double v;
		if (lo) {
			if (onnx_attr_float(I, "min", 0, &v))
				return -1;
			onnx_attrs_num(&A, "lo", v);
		}
		if (hi) {
			if (onnx_attr_float(I, "max", 0, &v))
				return -1;
			onnx_attrs_num(&A, "hi", v);
		}
	} else {
		double v;
		if (onnx_has_in(I, 1)) {
			if (const_scalar(I, 1, "the min input", &v))
				return -1;
			onnx_attrs_num(&A, "lo", v);
		}
		if (onnx_has_in(I, 2)) {
			if (const_scalar(I, 2, "the max input", &v))
				return -1;
			onnx_attrs_num(&A, "hi", v);
		}
	}
	return unary(I, "clip", &A);
}

/* Numpy broadcast of two shapes; -1 if incompatible. */
static int bcast_shape(int ra, const int64_t *a, int rb, const int64_t *b, int64_t *out)
{
	int r = ra > rb ? ra : rb;
	for (int k = 0; k < r; k++) {
		int64_t x = k - (r - ra) >= 0 ? a[k - (r - ra)] : 1;
		int64_t y = k - (r - rb) >= 0 ? b[k - (r - rb)] : 1;
		if (x != y && x != 1 && y != 1)
			return -1;
		out[k] = x == 1 ? y : x;
	}
	return r;
}

/* Folds a op b for constants (numpy broadcasting); op is '+', '-', '*', '/'. */
static gos_onnx_tensor *fold_binary(onnx_imp *I, char op, const gos_onnx_tensor *a,
                                    const gos_onnx_tensor *b)
{
	int64_t shape[MAXR], sa[MAXR], sb[MAXR], so[MAXR];
	int r = bcast_shape(a->rank, a->shape, b->rank, b->shape, shape);
	if (r < 0) {
		onnx_err(I, "shapes of the operands do not broadcast");
		return NULL;
	}
	int isf = a->is_float || b->is_float;
	gos_onnx_tensor *t = onnx_new_const(I, isf, r, shape);
	if (!t)
		return NULL;
	if (!isf)
		t->elem_type = a->elem_type;
	strides_of(a->rank, a->shape, sa);
	strides_of(b->rank, b->shape, sb);
	strides_of(r, shape, so);
	for (int64_t o = 0; o < t->numel; o++) {
		int64_t ia = 0, ib = 0, rem = o;
		for (int k = 0; k < r; k++) {
			int64_t idx = rem / so[k];
			rem %= so[k];
			int ka = k - (r - a->rank), kb = k - (r - b->rank);
			if (ka >= 0 && a->shape[ka] != 1)
				ia += idx * sa[ka];
			if (kb >= 0 && b->shape[kb] != 1)
				ib += idx * sb[kb];
		}
		if (isf) {
			double x = a->is_float ? a->f[ia] : (double)a->i[ia];
			double y = b->is_float ? b->f[ib] : (double)b->i[ib];
			float xf = (float)x, yf = (float)y;
			t->f[o] = op == '+' ? xf + yf : op == '-' ? xf - yf : op == '*' ? xf * yf : xf / yf;
		} else {
			int64_t x = a->i[ia], y = b->i[ib];
			if (op == '/' && y == 0) {
				onnx_err(I, "integer division by zero");
				return NULL;
			}
			/* two's complement wrap-around, as ONNX Runtime computes */
			uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
			t->i[o] = op == '+'   ? (int64_t)(ux + uy)
			          : op == '-' ? (int64_t)(ux - uy)
			          : op == '*' ? (int64_t)(ux * uy)
			          : (x == INT64_MIN && y == -1) ? INT64_MIN : x / y;
		}
	}
	return t;
}

static int binary(onnx_imp *I, const char *op, char sym)
{
	onnx_attr_ignore(I, "consumed_inputs"); /* opset < 6 */
	onnx_sym *sa = onnx_in_sym(I, 0), *sb = onnx_in_sym(I, 1);
	if (!sa || !sb)
		return -1;
	int64_t broadcast = 0, axis = 0;
	if (I->opset < 7) {
		if (onnx_attr_int(I, "broadcast", 0, &broadcast))
			return -1;
		const Onnx__AttributeProto *ax = onnx_attr(I, "axis");
		if (ax && onnx_attr_int(I, "axis", 0, &axis))
			return -1;
		if (!ax)
			axis = -1;
	}
	if (sa->c && sb->c && sa->value < 0 && sb->value < 0 &&
	    (!sa->c->is_float || !sb->c->is_float || (sa->c->numel <= 64 && sb->c->numel <= 64)) &&
	    !broadcast) {
		gos_onnx_tensor *t = fold_binary(I, sym, sa->c, sb->c);
		return t ? onnx_set_out_const(I, 0, t) : -1;
	}
	int in[2] = {onnx_in_value(I, 0), onnx_in_value(I, 1)};
	if (in[0] < 0 || in[1] < 0)
		return -1;
	if (broadcast) {
		/* legacy broadcasting: B's dimensions align with A's from axis */
		const gos_value *a = &I->m->vals[in[0]], *b = &I->m->vals[in[1]];
		int ax = axis < 0 ? a->rank - b->rank : (int)axis;
		if (ax < 0 || ax + b->rank > a->rank)
			return onnx_err(I, "broadcast axis %lld does not fit the operand ranks",
			                (long long)axis);
		int64_t shape[MAXR];
		int r = 0;
		for (int k = 0; k < b->rank; k++)
			shape[r++] = b->shape[k];
		for (int k = ax + b->rank; k < a->rank; k++)
			shape[r++] = 1;
		in[1] = onnx_reshape(I, in[1], r, shape, onnx_tmp_name(I, "broadcast"));
		if (in[1] < 0)
			return -1;
	}
	return onnx_set_out(I, 0, onnx_apply(I, op, out_name(I), 2, in, NULL));
}

static int op_add(onnx_imp *I) { return binary(I, "add", '+'); }
static int op_sub(onnx_imp *I) { return binary(I, "sub", '-'); }
static int op_mul(onnx_imp *I) { return binary(I, "mul", '*'); }
static int op_div(onnx_imp *I) { return binary(I, "div", '/'); }

/* Sum and Mean: chains of add (Mean then divides by the count). */
static int variadic(onnx_imp *I, int mean)
{
	onnx_attr_ignore(I, "consumed_inputs");
	int n = onnx_n_in(I);
	if (n < 1)
		return onnx_err(I, "needs at least one input");
	int acc = onnx_in_value(I, 0);
	for (int k = 1; k < n && acc >= 0; k++) {
		int in[2] = {acc, onnx_in_value(I, k)};
		const char *name = k == n - 1 && !mean ? out_name(I)
		                                       : onnx_tmp_name(I, gos_arena_printf(I->a, "sum%d", k));
		acc = onnx_apply(I, "add", name, 2, in, NULL);
	}
	if (acc < 0)
		return -1;
	if (mean) {
		gos_onnx_tensor *c = onnx_new_const(I, 1, 0, NULL);
		if (!c)
			return -1;
		c->f[0] = (float)n;
		int in[2] = {acc, onnx_const_value(I, onnx_tmp_name(I, "count"), c)};
		acc = onnx_apply(I, "div", out_name(I), 2, in, NULL);
	} else if (n == 1) {
		return alias_out0(I);
	}
	return onnx_set_out(I, 0, acc);
}

static int op_sum(onnx_imp *I) { return variadic(I, 0); }
static int op_mean(onnx_imp *I) { return variadic(I, 1); }

/* ---- contractions ---------------------------------------------------------- */

static int op_matmul(onnx_imp *I)
{
	int64_t sa[MAXR], sb[MAXR];
	int ra = onnx_in_shape(I, 0, sa), rb = onnx_in_shape(I, 1, sb);
	if (ra < 0 || rb < 0)
		return -1;
	if (ra < 1 || rb < 1)
		return onnx_err(I, "operands must have rank >= 1");
	int in[2] = {onnx_in_value(I, 0), onnx_in_value(I, 1)};
	if (in[0] < 0 || in[1] < 0)
		return -1;
	/* numpy: a 1-D A is [1, K], a 1-D B is [K, 1]; the added dims go */
	if (ra == 1) {
		int64_t s[2] = {1, sa[0]};
		in[0] = onnx_reshape(I, in[0], 2, s, onnx_tmp_name(I, "a2d"));
	}
	if (rb == 1) {
		int64_t s[2] = {sb[0], 1};
		in[1] = onnx_reshape(I, in[1], 2, s, onnx_tmp_name(I, "b2d"));
	}
	if (in[0] < 0 || in[1] < 0)
		return -1;
	if (ra > 1 && rb > 1)
		return onnx_set_out(I, 0, onnx_apply(I, "matmul", out_name(I), 2, in, NULL));
	int y = onnx_apply(I, "matmul", onnx_tmp_name(I, "matmul"), 2, in, NULL);
	if (y < 0)
		return -1;
	const gos_value *v = &I->m->vals[y];
	int64_t shape[MAXR];
	int r = 0;
	for (int k = 0; k < v->rank; k++) {
		if ((ra == 1 && k == v->rank - 2) || (rb == 1 && k == v->rank - 1))
			continue;
		shape[r++] = v->shape[k];
	}
	return onnx_set_out(I, 0, onnx_reshape(I, y, r, shape, out_name(I)));
}

/* Y = alpha * A' B' + beta * C with A' = transA ? A^T : A, B' likewise. */
static int op_gemm(onnx_imp *I)
{
	double alpha, beta;
	int64_t ta, tb, bc;
	if (onnx_attr_float(I, "alpha", 1.0, &alpha) || onnx_attr_float(I, "beta", 1.0, &beta) ||
	    onnx_attr_int(I, "transA", 0, &ta) || onnx_attr_int(I, "transB", 0, &tb) ||
	    onnx_attr_int(I, "broadcast", 0, &bc)) /* opset < 7: C always broadcasts here */
		return -1;
	int64_t sa[MAXR], sb[MAXR];
	int ra = onnx_in_shape(I, 0, sa), rb = onnx_in_shape(I, 1, sb);
	if (ra < 0 || rb < 0)
		return -1;
	if (ra != 2 || rb != 2)
		return onnx_err(I, "A and B must be 2-D (they have rank %d and %d)", ra, rb);
	int a = onnx_in_value(I, 0);
	if (a < 0)
		return -1;
	if (ta) {
		onnx_attrs A = {0};
		int64_t perm[2] = {1, 0};
		onnx_attrs_int(&A, "perm", 2, perm);
		a = onnx_apply(I, "transpose", onnx_tmp_name(I, "transA"), 1, &a, &A);
		if (a < 0)
			return -1;
	}
	int64_t N = tb ? sb[0] : sb[1];
	int has_c = onnx_has_in(I, 2) && beta != 0.0;
	int64_t sc[MAXR];
	int rc = has_c ? onnx_in_shape(I, 2, sc) : 0;
	if (rc < 0)
		return -1;
	onnx_sym *bs = onnx_in_sym(I, 1);
	if (!bs)
		return -1;
	/* dense(X, Wt[N, K]) computes X Wt^T: B is Wt when transB, and a
	 * constant B is transposed at import; else matmul */
	int use_dense = tb || (bs->value < 0 && bs->c->is_float);
	/* C goes into dense's bias when it is a plain [N] vector added once */
	int bias_in_dense = use_dense && has_c && alpha == 1.0 && beta == 1.0 && rc == 1 &&
	                    sc[0] == N;
	int y;
	int last = !has_c || bias_in_dense;
	const char *yname = last && alpha == 1.0 ? out_name(I) : onnx_tmp_name(I, "matmul");
	if (use_dense) {
		int w;
		if (tb) {
			w = onnx_in_value(I, 1);
		} else {
			static const int perm[2] = {1, 0};
			gos_onnx_tensor *t = const_transpose(I, bs->c, perm);
			w = t ? onnx_const_value(I, gos_arena_printf(I->a, "%s/T", bs->name), t) : -1;
		}
		int in[3] = {a, w, bias_in_dense ? onnx_in_value(I, 2) : -1};
		y = onnx_apply(I, "dense", yname, bias_in_dense ? 3 : 2, in, NULL);
	} else {
		int in[2] = {a, onnx_in_value(I, 1)};
		y = onnx_apply(I, "matmul", yname, 2, in, NULL);
	}
	if (y < 0)
		return -1;
	if (alpha != 1.0) {
		gos_onnx_tensor *c = onnx_new_const(I, 1, 1, (int64_t[]){1});
		if (!c)
			return -1;
		c->f[0] = (float)alpha;
		int in[2] = {y, onnx_const_value(I, onnx_tmp_name(I, "alpha"), c)};
		y = onnx_apply(I, "mul", last ? out_name(I) : onnx_tmp_name(I, "scaled"), 2, in, NULL);
		if (y < 0)
			return -1;
	}
	if (!last) {
		int cv;
		onnx_sym *cs = onnx_in_sym(I, 2);
		if (!cs)
			return -1;
		if (beta == 1.0) {
			cv = onnx_in_value(I, 2);
		} else if (cs->value < 0 && cs->c->is_float) {
			gos_onnx_tensor *bt = onnx_new_const(I, 1, 0, NULL);
			if (!bt)
				return -1;
			bt->f[0] = (float)beta;
			gos_onnx_tensor *t = fold_binary(I, '*', cs->c, bt);
			cv = t ? onnx_const_value(I, gos_arena_printf(I->a, "%s/beta", cs->name), t) : -1;
		} else {
			gos_onnx_tensor *bt = onnx_new_const(I, 1, 1, (int64_t[]){1});
			if (!bt)
				return -1;
			bt->f[0] = (float)beta;
			int in[2] = {onnx_in_value(I, 2), onnx_const_value(I, onnx_tmp_name(I, "beta"), bt)};
			cv = onnx_apply(I, "mul", onnx_tmp_name(I, "betaC"), 2, in, NULL);
		}
		if (cv < 0)
			return -1;
		int in[2] = {y, cv};
		y = onnx_apply(I, "add", out_name(I), 2, in, NULL);
	}
	return onnx_set_out(I, 0, y);
}

/* ---- windows: convolution and pooling ------------------------------------ */

typedef struct window {
	int sp;                         /* spatial dimensions: 1..3 */
	int64_t kernel[3], stride[3], dil[3];
	int64_t pad[6];                 /* begins, then ends (ONNX order) */
	int64_t extra[3];               /* end padding added for ceil_mode */
} window;

/* Reads kernel_shape, strides, dilations (if dilations), pads, auto_pad
 * and ceil_mode (if pool) for a window over spatial sizes in[sp]. wk: the
 * kernel from the weight (conv) or NULL (pools need kernel_shape). */
static int read_window(onnx_imp *I, int sp, const int64_t *in, const int64_t *wk, int dilations,
                       int pool, window *w)
{
	memset(w, 0, sizeof *w);
	w->sp = sp;
	int64_t v[2 * MAXR];
	int n;
	if (onnx_attr_ints(I, "kernel_shape", v, 2 * MAXR, &n))
		return -1;
	if (n < 0 && !wk)
		return onnx_err(I, "attribute 'kernel_shape' is required");
	if (n >= 0 && n != sp)
		return onnx_err(I, "attribute 'kernel_shape' has %d values for %d spatial dimensions",
		                n, sp);
	for (int k = 0; k < sp; k++) {
		w->kernel[k] = n >= 0 ? v[k] : wk[k];
		if (wk && w->kernel[k] != wk[k])
			return onnx_err(I, "attribute 'kernel_shape' does not match the weight's shape");
		if (w->kernel[k] < 1 || w->kernel[k] > WIN_MAX)
			return onnx_err(I, "attribute 'kernel_shape' must be in 1..%lld", (long long)WIN_MAX);
	}
	if (onnx_attr_ints(I, "strides", v, 2 * MAXR, &n))
		return -1;
	if (n >= 0 && n != sp)
		return onnx_err(I, "attribute 'strides' has %d values for %d spatial dimensions", n, sp);
	for (int k = 0; k < sp; k++) {
		w->stride[k] = n >= 0 ? v[k] : 1;
		if (w->stride[k] < 1 || w->stride[k] > WIN_MAX)
			return onnx_err(I, "attribute 'strides' must be in 1..%lld", (long long)WIN_MAX);
	}
	n = -1;
	if (dilations && onnx_attr_ints(I, "dilations", v, 2 * MAXR, &n))
		return -1;
	if (n >= 0 && n != sp)
		return onnx_err(I, "attribute 'dilations' has %d values for %d spatial dimensions",
		                n, sp);
	for (int k = 0; k < sp; k++) {
		w->dil[k] = n >= 0 ? v[k] : 1;
		if (w->dil[k] < 1 || w->dil[k] > WIN_MAX)
			return onnx_err(I, "attribute 'dilations' must be in 1..%lld", (long long)WIN_MAX);
	}
	const char *auto_pad;
	if (onnx_attr_string(I, "auto_pad", "NOTSET", &auto_pad))
		return -1;
	if (onnx_attr_ints(I, "pads", v, 2 * MAXR, &n))
		return -1;
	if (n >= 0 && n != 2 * sp)
		return onnx_err(I, "attribute 'pads' has %d values for %d spatial dimensions", n, sp);
	int64_t ceil_mode = 0;
	if (pool && onnx_attr_int(I, "ceil_mode", 0, &ceil_mode))
		return -1;
	int same = !strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER");
	if (!strcmp(auto_pad, "NOTSET") || !auto_pad[0]) {
		for (int k = 0; k < 2 * sp; k++) {
			w->pad[k] = n >= 0 ? v[k] : 0;
			if (w->pad[k] < 0)
				return onnx_unsup(I, "negative 'pads' are not supported");
			if (w->pad[k] > WIN_MAX)
				return onnx_err(I, "attribute 'pads' must be at most %lld", (long long)WIN_MAX);
		}
	} else if (!strcmp(auto_pad, "VALID")) {
		/* no padding */
	} else if (same) {
		for (int k = 0; k < sp; k++) {
			int64_t out = (in[k] + w->stride[k] - 1) / w->stride[k];
			int64_t total = (out - 1) * w->stride[k] + (w->kernel[k] - 1) * w->dil[k] + 1 - in[k];
			if (total < 0)
				total = 0;
			int64_t small = total / 2, big = total - small;
			int upper = !strcmp(auto_pad, "SAME_UPPER");
			w->pad[k] = upper ? small : big;
			w->pad[sp + k] = upper ? big : small;
		}
	} else {
		return onnx_unsup(I, "attribute 'auto_pad' = \"%s\" is not supported", auto_pad);
	}
	if (ceil_mode && !same) {
		for (int k = 0; k < sp; k++) {
			int64_t eff = (w->kernel[k] - 1) * w->dil[k] + 1;
			int64_t span = in[k] + w->pad[k] + w->pad[sp + k] - eff;
			if (span < 0)
				continue; /* the prelude reports the kernel as too large */
			int64_t out = (span + w->stride[k] - 1) / w->stride[k] + 1;
			int64_t need = (out - 1) * w->stride[k] + eff - (in[k] + w->pad[k] + w->pad[sp + k]);
			w->extra[k] = need > 0 ? need : 0;
		}
	}
	return 0;
}

/* Attribute lists: stride/dilation/kernel per spatial dim, pad in the
 * operator's order (begins then ends for every rank), plus extra. */
static void window_attrs(const window *w, onnx_attrs *A, int kernel, int dil, int with_extra)
{
	int64_t pad[6];
	for (int k = 0; k < w->sp; k++) {
		pad[k] = w->pad[k];
		pad[w->sp + k] = w->pad[w->sp + k] + (with_extra ? w->extra[k] : 0);
	}
	int any_pad = 0, any_dil = 0;
	for (int k = 0; k < w->sp; k++) {
		any_pad |= pad[k] || pad[w->sp + k];
		any_dil |= w->dil[k] != 1;
	}
	/* defaults (pad 0, dilation 1) are left out, for readable IR */
	if (kernel)
		onnx_attrs_int(A, "kernel", w->sp, w->kernel);
	onnx_attrs_int(A, "stride", w->sp, w->stride);
	if (any_pad)
		onnx_attrs_int(A, "pad", 2 * w->sp, pad);
	if (dil && any_dil)
		onnx_attrs_int(A, "dilation", w->sp, w->dil);
}

static int op_conv(onnx_imp *I)
{
	int64_t xs[MAXR], ws[MAXR];
	int xr = onnx_in_shape(I, 0, xs), wr = onnx_in_shape(I, 1, ws);
	if (xr < 0 || wr < 0)
		return -1;
	int sp = xr - 2;
	if (sp < 1 || sp > 3)
		return onnx_unsup(I, "%d-D input: only 1-D, 2-D and 3-D convolutions are supported",
		                  xr);
	if (wr != xr)
		return onnx_err(I, "the weight has rank %d, the input %d", wr, xr);
	window w;
	int64_t group;
	if (read_window(I, sp, xs + 2, ws + 2, 1, 0, &w) || onnx_attr_int(I, "group", 1, &group))
		return -1;
	onnx_attrs A = {0};
	window_attrs(&w, &A, 0, 1, 0);
	if (group != 1)
		onnx_attrs_int(&A, "groups", 1, &group);
	int in[3] = {onnx_in_value(I, 0), onnx_in_value(I, 1), -1};
	int n = 2;
	if (onnx_has_in(I, 2)) {
		in[2] = onnx_in_value(I, 2);
		n = 3;
	}
	static const char *const ops[] = {"conv1d", "conv2d", "conv3d"};
	return onnx_set_out(I, 0, onnx_apply(I, ops[sp - 1], out_name(I), n, in, &A));
}

/* Pads x (rank r <= 4, or more when the leading dimensions are not
 * padded) by pads[2r] (begins then ends) with mode "constant" (value),
 * "reflect" or "edge", through the 4-D operators pad/pad_reflect/pad_edge. */
static int emit_pad(onnx_imp *I, int x, const int64_t *pads, const char *mode, double value,
                    const char *name)
{
	const gos_value *v = &I->m->vals[x];
	int r = v->rank;
	int64_t shape[MAXR], out[MAXR];
	memcpy(shape, v->shape, sizeof shape);
	int any = 0;
	for (int k = 0; k < r; k++) {
		if (pads[k] < 0 || pads[r + k] < 0)
			return onnx_unsup(I, "negative pads (cropping) are not supported");
		any |= pads[k] || pads[r + k];
		out[k] = shape[k] + pads[k] + pads[r + k];
	}
	if (!any)
		return x;
	/* view as 4-D: leading unpadded dimensions merge, missing ones are 1 */
	int lead = 0;
	while (lead < r && !pads[lead] && !pads[r + lead])
		lead++;
	int merge = r > 4 ? r - 3 : 0;
	if (merge > lead)
		return onnx_unsup(I, "padding a rank-%d tensor is supported only when its "
		                  "first %d dimensions are not padded", r, merge);
	int64_t s4[4], p8[8] = {0};
	int k4 = 0, start = 0;
	if (r < 4) {
		for (; k4 < 4 - r; k4++)
			s4[k4] = 1;
	} else if (merge) {
		s4[k4] = 1;
		for (int k = 0; k < merge; k++)
			s4[k4] *= shape[k];
		k4++;
		start = merge;
	}
	for (int k = start; k < r; k++, k4++) {
		s4[k4] = shape[k];
		p8[k4] = pads[k];
		p8[4 + k4] = pads[r + k];
	}
	int x4 = onnx_reshape(I, x, 4, s4, onnx_tmp_name(I, "in4d"));
	if (x4 < 0)
		return -1;
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "pads", 8, p8);
	const char *op = "pad";
	if (!strcmp(mode, "constant"))
		onnx_attrs_num(&A, "value", value);
	else if (!strcmp(mode, "reflect"))
		op = "pad_reflect";
	else if (!strcmp(mode, "edge"))
		op = "pad_edge";
	else if (!strcmp(mode, "wrap"))
		op = "pad_wrap";
	else
		return onnx_unsup(I, "attribute 'mode' = \"%s\" is not supported", mode);
	int need_back = r != 4;
	int y = onnx_apply(I, op, need_back ? onnx_tmp_name(I, "pad4d") : name, 1, &x4, &A);
	if (y < 0 || !need_back)
		return y;
	return onnx_reshape(I, y, r, out, name);
}

static int pool(onnx_imp *I, int is_max)
{
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	int sp = xr - 2;
	if (sp < 1 || sp > 3)
		return onnx_unsup(I, "%d-D input: only 1-D, 2-D and 3-D pooling is supported", xr);
	window w;
	if (read_window(I, sp, xs + 2, NULL, is_max || I->opset >= 19, 1, &w))
		return -1;
	for (int k = 0; !is_max && k < sp; k++)
		if (w.dil[k] != 1)
			return onnx_unsup(I, "AveragePool with dilations other than 1 is not supported");
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	onnx_attrs A = {0};
	static const char *const maxops[] = {"maxpool1d", "maxpool2d", "maxpool3d"};
	static const char *const avgops[] = {"avgpool1d", "avgpool2d", "avgpool3d"};
	if (is_max) {
		int64_t order;
		if (onnx_attr_int(I, "storage_order", 0, &order)) /* only affects Indices */
			return -1;
		window_attrs(&w, &A, 1, 1, 1);
		int y = onnx_apply(I, maxops[sp - 1], out_name(I), 1, &x, &A);
		if (onnx_set_out(I, 0, y))
			return -1;
		onnx_outs_missing(I, 1, "the Indices output of MaxPool is not supported");
		return 0;
	}
	int64_t cip;
	if (onnx_attr_int(I, "count_include_pad", 0, &cip))
		return -1;
	int extra = 0, padded = 0;
	for (int k = 0; k < sp; k++) {
		extra |= w.extra[k] != 0;
		padded |= w.pad[k] || w.pad[sp + k];
	}
	if (cip && extra) {
		/* ONNX counts explicit padding but not the ceil_mode tail: pad
		 * explicitly, then average over what lies inside */
		if (padded) {
			int64_t pads[2 * MAXR] = {0};
			for (int k = 0; k < sp; k++) {
				pads[2 + k] = w.pad[k];
				pads[xr + 2 + k] = w.pad[sp + k];
			}
			x = emit_pad(I, x, pads, "constant", 0.0, onnx_tmp_name(I, "padded"));
			if (x < 0)
				return -1;
			memset(w.pad, 0, sizeof w.pad);
		}
		cip = 0;
	}
	window_attrs(&w, &A, 1, 0, 1);
	onnx_attrs_num(&A, "count_include_pad", (double)(cip != 0));
	return onnx_set_out(I, 0, onnx_apply(I, avgops[sp - 1], out_name(I), 1, &x, &A));
}

static int op_maxpool(onnx_imp *I) { return pool(I, 1); }
static int op_avgpool(onnx_imp *I) { return pool(I, 0); }

static int global_pool(onnx_imp *I, const char *op)
{
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	if (xr < 3 || xr > 5)
		return onnx_unsup(I, "rank-%d input: global pooling needs 1 to 3 spatial dimensions",
		                  xr);
	return unary(I, op, NULL);
}

static int op_globalavgpool(onnx_imp *I) { return global_pool(I, "global_avgpool"); }
static int op_globalmaxpool(onnx_imp *I) { return global_pool(I, "global_maxpool"); }

/* ---- normalisation ------------------------------------------------------- */

/* reduce_mean of x over every axis but 1, keepdims: shape [1, C, 1, ...]. */
static int mean_but_channel(onnx_imp *I, int x, const char *what)
{
	int r = I->m->vals[x].rank;
	for (int k = r - 1; k >= 0 && x >= 0; k--) {
		if (k == 1)
			continue;
		onnx_attrs A = {0};
		int64_t ax = k;
		onnx_attrs_int(&A, "axis", 1, &ax);
		onnx_attrs_num(&A, "keepdims", 1);
		x = onnx_apply(I, "reduce_mean", onnx_tmp_name(I, gos_arena_printf(I->a, "%s%d", what, k)),
		               1, &x, &A);
	}
	return x;
}

/* a * s + b * (1 - s) for [C] values a, b (running statistics). */
static int momentum_mix(onnx_imp *I, int a, int b, double s, int k)
{
	gos_onnx_tensor *c1 = onnx_new_const(I, 1, 1, (int64_t[]){1});
	gos_onnx_tensor *c2 = onnx_new_const(I, 1, 1, (int64_t[]){1});
	if (!c1 || !c2)
		return -1;
	c1->f[0] = (float)s;
	c2->f[0] = (float)(1.0 - s);
	int in1[2] = {a, onnx_const_value(I, onnx_tmp_name(I, "momentum"), c1)};
	int in2[2] = {b, onnx_const_value(I, onnx_tmp_name(I, "one_minus_momentum"), c2)};
	int p = onnx_apply(I, "mul", onnx_tmp_name(I, gos_arena_printf(I->a, "running%d_old", k)), 2,
	                   in1, NULL);
	int q = onnx_apply(I, "mul", onnx_tmp_name(I, gos_arena_printf(I->a, "running%d_new", k)), 2,
	                   in2, NULL);
	int in3[2] = {p, q};
	const char *name = onnx_out_name(I, k)[0] ? onnx_out_name(I, k)
	                                          : onnx_tmp_name(I, gos_arena_printf(I->a, "out%d", k));
	return onnx_apply(I, "add", name, 2, in3, NULL);
}

static int op_batchnorm(onnx_imp *I)
{
	double eps, momentum;
	int64_t spatial, training = 0, is_test;
	onnx_attr_ignore(I, "consumed_inputs"); /* opset < 6 */
	if (onnx_attr_float(I, "epsilon", 1e-5, &eps) ||
	    onnx_attr_float(I, "momentum", 0.9, &momentum) ||
	    onnx_attr_int(I, "spatial", 1, &spatial) || onnx_attr_int(I, "is_test", 0, &is_test) ||
	    (I->opset >= 14 && onnx_attr_int(I, "training_mode", 0, &training)))
		return -1;
	if (!spatial)
		return onnx_unsup(I, "attribute 'spatial' = 0 is not supported");
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	if (xr < 2)
		return onnx_err(I, "the input must have rank >= 2");
	int in[5];
	for (int k = 0; k < 5; k++)
		if ((in[k] = onnx_in_value(I, k)) < 0)
			return -1;
	onnx_attrs A = {0};
	onnx_attrs_num(&A, "eps", eps);
	if (!training) {
		if (onnx_set_out(I, 0, onnx_apply(I, "batchnorm", out_name(I), 5, in, &A)))
			return -1;
		onnx_outs_missing(I, 1, "the training outputs of BatchNormalization are not supported "
		                  "in inference mode");
		return 0;
	}
	/* training mode: normalise with the batch statistics (population
	 * variance); outputs 1 and 2 are the updated running mean and var */
	int64_t C = xs[1];
	int mean4 = mean_but_channel(I, in[0], "mean");
	int sub_in[2] = {in[0], mean4};
	int dev = mean4 < 0 ? -1 : onnx_apply(I, "sub", onnx_tmp_name(I, "dev"), 2, sub_in, NULL);
	int sq_in[2] = {dev, dev};
	int sq = dev < 0 ? -1 : onnx_apply(I, "mul", onnx_tmp_name(I, "dev2"), 2, sq_in, NULL);
	int var4 = sq < 0 ? -1 : mean_but_channel(I, sq, "var");
	int mean = onnx_reshape(I, mean4, 1, &C, onnx_tmp_name(I, "batch_mean"));
	int var = var4 < 0 ? -1 : onnx_reshape(I, var4, 1, &C, onnx_tmp_name(I, "batch_var"));
	if (mean < 0 || var < 0)
		return -1;
	int bn_in[5] = {in[0], in[1], in[2], mean, var};
	if (onnx_set_out(I, 0, onnx_apply(I, "batchnorm", out_name(I), 5, bn_in, &A)))
		return -1;
	if (onnx_out_name(I, 1)[0] && onnx_set_out(I, 1, momentum_mix(I, in[3], mean, momentum, 1)))
		return -1;
	if (onnx_out_name(I, 2)[0] && onnx_set_out(I, 2, momentum_mix(I, in[4], var, momentum, 2)))
		return -1;
	onnx_outs_missing(I, 3, "the saved statistics outputs of BatchNormalization are not "
	                  "supported");
	return 0;
}

static int op_dropout(onnx_imp *I)
{
	onnx_attr_ignore(I, "seed");
	onnx_attr_ignore(I, "is_test");          /* opset < 7 */
	onnx_attr_ignore(I, "ratio");            /* opset < 12 */
	onnx_attr_ignore(I, "consumed_inputs");  /* opset < 6 */
	if (I->opset >= 12 && onnx_has_in(I, 2)) {
		double t;
		if (const_scalar(I, 2, "the training_mode input", &t))
			return -1;
		if (t != 0)
			return onnx_unsup(I, "training mode (random dropout) is not supported");
	}
	if (alias_out0(I))
		return -1;
	onnx_outs_missing(I, 1, "the mask output of Dropout is not supported");
	return 0;
}

/* ---- shapes ---------------------------------------------------------------- */

static int op_identity(onnx_imp *I)
{
	return alias_out0(I);
}

static int op_constant(onnx_imp *I)
{
	const Onnx__AttributeProto *a;
	gos_onnx_tensor *t = NULL;
	if ((a = onnx_attr(I, "value"))) {
		if (!a->t)
			return onnx_err(I, "attribute 'value' must be a tensor");
		t = GOS_NEW(I->a, gos_onnx_tensor);
		if (!t || gos_onnx_decode_tensor(a->t, I->a, I->base_dir,
		                                 gos_arena_printf(I->a, "%s: attribute 'value'", I->label),
		                                 t, I->loc, I->d))
			return -1;
	} else if ((a = onnx_attr(I, "value_float"))) {
		t = onnx_new_const(I, 1, 0, NULL);
		if (!t)
			return -1;
		t->f[0] = a->f;
	} else if ((a = onnx_attr(I, "value_floats"))) {
		int64_t n = (int64_t)a->n_floats;
		t = onnx_new_const(I, 1, 1, &n);
		if (!t)
			return -1;
		for (int64_t k = 0; k < n; k++)
			t->f[k] = a->floats[k];
	} else if ((a = onnx_attr(I, "value_int"))) {
		t = onnx_new_const(I, 0, 0, NULL);
		if (!t)
			return -1;
		t->i[0] = a->i;
	} else if ((a = onnx_attr(I, "value_ints"))) {
		int64_t n = (int64_t)a->n_ints;
		t = onnx_new_const(I, 0, 1, &n);
		if (!t)
			return -1;
		for (int64_t k = 0; k < n; k++)
			t->i[k] = a->ints[k];
	} else if (onnx_attr(I, "sparse_value")) {
		return onnx_unsup(I, "attribute 'sparse_value' is not supported");
	} else if (onnx_attr(I, "value_string") || onnx_attr(I, "value_strings")) {
		return onnx_unsup(I, "string constants are not supported");
	} else {
		return onnx_err(I, "has no value attribute");
	}
	return onnx_set_out_const(I, 0, t);
}

static int op_reshape(onnx_imp *I)
{
	int64_t xs[MAXR], want[MAXR], allowzero = 0;
	int xr = onnx_in_shape(I, 0, xs), n;
	if (xr < 0)
		return -1;
	if (I->opset < 5) {
		if (onnx_attr_ints(I, "shape", want, MAXR, &n))
			return -1;
		if (n < 0)
			return onnx_err(I, "attribute 'shape' is required");
		onnx_attr_ignore(I, "consumed_inputs");
	} else {
		if (onnx_attr_int(I, "allowzero", 0, &allowzero) ||
		    const_ints(I, 1, "the shape input", want, MAXR, &n))
			return -1;
	}
	int64_t known = 1, total = 1;
	int infer = -1;
	for (int k = 0; k < xr; k++)
		total *= xs[k];
	for (int k = 0; k < n; k++) {
		if (want[k] == 0 && !allowzero) {
			if (k >= xr)
				return onnx_err(I, "shape entry %d is 0 but the input has rank %d", k, xr);
			want[k] = xs[k];
		}
		if (want[k] == -1) {
			if (infer >= 0)
				return onnx_err(I, "the shape has more than one -1");
			infer = k;
		} else if (want[k] < 0) {
			return onnx_err(I, "invalid shape entry %lld", (long long)want[k]);
		} else {
			known *= want[k];
		}
	}
	if (infer >= 0) {
		if (known == 0 || total % known)
			return onnx_err(I, "cannot infer the -1 entry of the shape");
		want[infer] = total / known;
		known = total;
	}
	if (known != total)
		return onnx_err(I, "the shape holds %lld elements, the input %lld", (long long)known,
		                (long long)total);
	return reshape_out0(I, n, want);
}

static int op_flatten(onnx_imp *I)
{
	int64_t xs[MAXR], axis;
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || onnx_attr_int(I, "axis", 1, &axis))
		return -1;
	if (axis < 0)
		axis += xr;
	if (axis < 0 || axis > xr)
		return onnx_err(I, "axis is out of range for rank %d", xr);
	int64_t shape[2] = {1, 1};
	for (int k = 0; k < xr; k++)
		shape[k >= axis] *= xs[k];
	onnx_sym *s = onnx_in_sym(I, 0);
	if (!s)
		return -1;
	if (s->value < 0)
		return reshape_out0(I, 2, shape);
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "axis", 1, &axis);
	int x = s->value;
	return onnx_set_out(I, 0, onnx_apply(I, "flatten", out_name(I), 1, &x, &A));
}

/* The axes of Squeeze/Unsqueeze/ReduceMean: attribute before opset 13
 * (18 for ReduceMean), input 1 from then on. *n = -1: none given. */
static int read_axes(onnx_imp *I, int from_input, int64_t *axes, int *n)
{
	*n = -1;
	if (!from_input)
		return onnx_attr_ints(I, "axes", axes, MAXR, n);
	if (!onnx_has_in(I, 1))
		return 0;
	return const_ints(I, 1, "the axes input", axes, MAXR, n);
}

static int op_squeeze(onnx_imp *I)
{
	int64_t xs[MAXR], axes[MAXR], shape[MAXR];
	int n, xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || read_axes(I, I->opset >= 13, axes, &n))
		return -1;
	int drop[MAXR] = {0};
	for (int k = 0; k < n; k++) {
		int a = 0;
		if (norm_axis(I, axes[k], xr, "axis", &a))
			return -1;
		if (xs[a] != 1)
			return onnx_err(I, "cannot squeeze dimension %d of size %lld", a, (long long)xs[a]);
		drop[a] = 1;
	}
	int r = 0;
	for (int k = 0; k < xr; k++)
		if (!(n < 0 ? xs[k] == 1 : drop[k]))
			shape[r++] = xs[k];
	return reshape_out0(I, r, shape);
}

static int op_unsqueeze(onnx_imp *I)
{
	int64_t xs[MAXR], axes[MAXR], shape[MAXR];
	int n, xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || read_axes(I, I->opset >= 13, axes, &n))
		return -1;
	if (n < 0)
		return onnx_err(I, "the axes are required");
	int r = xr + n;
	if (r > MAXR)
		return onnx_unsup(I, "the result would have rank %d (at most %d is supported)", r, MAXR);
	int ins[MAXR] = {0};
	for (int k = 0; k < n; k++) {
		int a = 0;
		if (norm_axis(I, axes[k], r, "axis", &a))
			return -1;
		if (ins[a])
			return onnx_err(I, "axis %d is repeated", a);
		ins[a] = 1;
	}
	for (int k = 0, j = 0; k < r; k++)
		shape[k] = ins[k] ? 1 : xs[j++];
	return reshape_out0(I, r, shape);
}

static int op_transpose(onnx_imp *I)
{
	int64_t xs[MAXR], perm[MAXR];
	int n, xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || onnx_attr_ints(I, "perm", perm, MAXR, &n))
		return -1;
	if (n < 0) {
		n = xr;
		for (int k = 0; k < xr; k++)
			perm[k] = xr - 1 - k;
	}
	if (n != xr)
		return onnx_err(I, "attribute 'perm' has %d values for rank %d", n, xr);
	int seen[MAXR] = {0}, p[MAXR];
	for (int k = 0; k < n; k++) {
		if (perm[k] < 0 || perm[k] >= xr || seen[perm[k]]++)
			return onnx_err(I, "attribute 'perm' is not a permutation");
		p[k] = (int)perm[k];
	}
	onnx_sym *s = onnx_in_sym(I, 0);
	if (!s)
		return -1;
	if (s->value < 0) {
		gos_onnx_tensor *t = const_transpose(I, s->c, p);
		return t ? onnx_set_out_const(I, 0, t) : -1;
	}
	int identity = 1;
	for (int k = 0; k < n; k++)
		identity &= p[k] == k;
	if (identity)
		return alias_out0(I);
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "perm", n, perm);
	int x = s->value;
	return onnx_set_out(I, 0, onnx_apply(I, "transpose", out_name(I), 1, &x, &A));
}

/* Concatenation of constants along axis. */
static gos_onnx_tensor *fold_concat(onnx_imp *I, int n, gos_onnx_tensor **c, int axis)
{
	int64_t shape[MAXR];
	int r = c[0]->rank;
	memcpy(shape, c[0]->shape, sizeof shape);
	int isf = c[0]->is_float;
	for (int k = 1; k < n; k++) {
		if (c[k]->rank != r || c[k]->is_float != isf) {
			onnx_err(I, "concatenated tensors differ in rank or type");
			return NULL;
		}
		shape[axis] += c[k]->shape[axis];
	}
	gos_onnx_tensor *t = onnx_new_const(I, isf, r, shape);
	if (!t)
		return NULL;
	t->elem_type = c[0]->elem_type;
	int64_t outer = 1, inner = 1;
	for (int k = 0; k < axis; k++)
		outer *= shape[k];
	for (int k = axis + 1; k < r; k++)
		inner *= shape[k];
	int64_t o = 0;
	for (int64_t i = 0; i < outer; i++) {
		for (int k = 0; k < n; k++) {
			int64_t len = c[k]->shape[axis] * inner;
			for (int64_t j = 0; j < len; j++, o++) {
				if (isf)
					t->f[o] = c[k]->f[i * len + j];
				else
					t->i[o] = c[k]->i[i * len + j];
			}
		}
	}
	return t;
}

static int op_concat(onnx_imp *I)
{
	int64_t axis, xs[MAXR];
	int n = onnx_n_in(I);
	if (onnx_attr_int(I, "axis", I->opset < 4 ? 1 : INT64_MIN, &axis))
		return -1;
	if (axis == INT64_MIN)
		return onnx_err(I, "attribute 'axis' is required");
	if (n < 1)
		return onnx_err(I, "needs at least one input");
	int xr = onnx_in_shape(I, 0, xs), ax;
	if (xr < 0 || norm_axis(I, axis, xr, "axis", &ax))
		return -1;
	gos_onnx_tensor *cs[64];
	int all_const = n <= 64;
	for (int k = 0; k < n && all_const; k++) {
		onnx_sym *s = onnx_in_sym(I, k);
		if (!s)
			return -1;
		all_const = s->value < 0;
		if (all_const)
			cs[k] = s->c;
	}
	if (all_const) {
		gos_onnx_tensor *t = fold_concat(I, n, cs, ax);
		return t ? onnx_set_out_const(I, 0, t) : -1;
	}
	if (n == 1)
		return alias_out0(I);
	int acc = onnx_in_value(I, 0);
	onnx_attrs A = {0};
	onnx_attrs_num(&A, "axis", ax);
	for (int k = 1; k < n && acc >= 0; k++) {
		int in[2] = {acc, onnx_in_value(I, k)};
		const char *name = k == n - 1 ? out_name(I)
		                              : onnx_tmp_name(I, gos_arena_printf(I->a, "concat%d", k));
		acc = onnx_apply(I, "concat", name, 2, in, &A);
	}
	return onnx_set_out(I, 0, acc);
}

/* Softmax and LogSoftmax: one axis from opset 13, before that the input
 * coerced to 2-D at axis. */
static int softmax_like(onnx_imp *I, const char *op)
{
	int64_t xs[MAXR], axis;
	int xr = onnx_in_shape(I, 0, xs), ax = 0;
	if (xr < 0 || onnx_attr_int(I, "axis", I->opset >= 13 ? -1 : 1, &axis) ||
	    norm_axis(I, axis, xr, "axis", &ax))
		return -1;
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	onnx_attrs A = {0};
	if (I->opset >= 13 || ax == xr - 1) {
		onnx_attrs_num(&A, "axis", ax);
		return onnx_set_out(I, 0, onnx_apply(I, op, out_name(I), 1, &x, &A));
	}
	int64_t s2[2] = {1, 1};
	for (int k = 0; k < xr; k++)
		s2[k >= ax] *= xs[k];
	int f = onnx_reshape(I, x, 2, s2, onnx_tmp_name(I, "2d"));
	if (f < 0)
		return -1;
	onnx_attrs_num(&A, "axis", 1);
	int y = onnx_apply(I, op, onnx_tmp_name(I, gos_arena_printf(I->a, "%s2d", op)), 1, &f, &A);
	return onnx_set_out(I, 0, onnx_reshape(I, y, xr, xs, out_name(I)));
}

static int op_softmax(onnx_imp *I) { return softmax_like(I, "softmax"); }
static int op_logsoftmax(onnx_imp *I) { return softmax_like(I, "log_softmax"); }

static int op_pad(onnx_imp *I)
{
	int64_t xs[MAXR], pads[2 * MAXR];
	int n, xr = onnx_in_shape(I, 0, xs);
	const char *mode;
	double value = 0;
	if (xr < 0 || onnx_attr_string(I, "mode", "constant", &mode))
		return -1;
	if (I->opset < 11) {
		if (onnx_attr_ints(I, "pads", pads, 2 * MAXR, &n) ||
		    (n < 0 && onnx_attr_ints(I, "paddings", pads, 2 * MAXR, &n)) ||
		    onnx_attr_float(I, "value", 0.0, &value))
			return -1;
		if (n < 0)
			return onnx_err(I, "attribute 'pads' is required");
	} else {
		if (const_ints(I, 1, "the pads input", pads, 2 * MAXR, &n))
			return -1;
		if (onnx_has_in(I, 2) && const_scalar(I, 2, "the constant_value input", &value))
			return -1;
	}
	if (I->opset >= 18 && onnx_has_in(I, 3)) { /* axes: pads name those axes only */
		int64_t axes[MAXR], sel[2 * MAXR] = {0};
		int na, seen[MAXR] = {0};
		if (const_ints(I, 3, "the axes input", axes, MAXR, &na))
			return -1;
		if (n != 2 * na)
			return onnx_err(I, "pads has %d values for %d axes", n, na);
		for (int j = 0; j < na; j++) {
			int a;
			if (norm_axis(I, axes[j], xr, "axis", &a))
				return -1;
			if (seen[a]++)
				return onnx_err(I, "axis %lld is repeated in the axes input", (long long)axes[j]);
			sel[a] = pads[j], sel[xr + a] = pads[na + j];
		}
		memcpy(pads, sel, sizeof sel);
		n = 2 * xr;
	}
	if (n != 2 * xr)
		return onnx_err(I, "pads has %d values for rank %d", n, xr);
	if (strcmp(mode, "constant") && strcmp(mode, "reflect") && strcmp(mode, "edge") &&
	    (strcmp(mode, "wrap") || I->opset < 19))
		return onnx_unsup(I, "attribute 'mode' = \"%s\" is not supported", mode);
	/* wrap beyond one period: numpy (the ONNX reference) and ONNX Runtime
	 * give different results */
	for (int k = 0; !strcmp(mode, "wrap") && k < xr; k++)
		if (pads[k] > xs[k] || pads[xr + k] > xs[k])
			return onnx_unsup(I, "mode \"wrap\" with pads larger than the dimension (%lld "
			                  "of axis %d)", (long long)xs[k], k);
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	int y = emit_pad(I, x, pads, mode, value, out_name(I));
	if (y == x)
		return alias_out0(I);
	return onnx_set_out(I, 0, y);
}

/* Applies the one-axis reduction op (reduce_mean/sum/max/min) to x over
 * every axis k with on[k], from the highest down so lower axis numbers
 * stay valid; the last application is called name. */
static int reduce_axes(onnx_imp *I, const char *op, int x, const int *on, int keepdims,
                       const char *name)
{
	int r = I->m->vals[x].rank;
	for (int k = r - 1; k >= 0 && x >= 0; k--) {
		if (!on[k])
			continue;
		int first = 1;
		for (int j = 0; j < k; j++)
			first &= !on[j];
		onnx_attrs A = {0};
		int64_t ax = k;
		onnx_attrs_int(&A, "axis", 1, &ax);
		onnx_attrs_num(&A, "keepdims", keepdims != 0);
		x = onnx_apply(I, op, first ? name : onnx_tmp_name(I, gos_arena_printf(I->a, "%s%d", op, k)),
		               1, &x, &A);
	}
	return x;
}

/* Unary op of prelude/importer operator op on value x, called name. */
static int apply1(onnx_imp *I, const char *op, int x, const char *name)
{
	return onnx_apply(I, op, name, 1, &x, NULL);
}

static int apply2(onnx_imp *I, const char *op, int a, int b, const char *name)
{
	int in[2] = {a, b};
	return onnx_apply(I, op, name, 2, in, NULL);
}

enum { R_MEAN, R_SUM, R_MAX, R_MIN, R_L1, R_L2, R_SUMSQ, R_LOGSUM, R_LOGSUMEXP };

/* The ReduceXxx operators over a set of axes: attribute `axes` (input
 * from opset 13 for ReduceSum, from 18 for the others), keepdims;
 * no axes: all of them (unless noop_with_empty_axes). */
static int reduce(onnx_imp *I, int kind)
{
	int64_t xs[MAXR], axes[MAXR], keepdims, noop = 0;
	int n, xr = onnx_in_shape(I, 0, xs);
	int axes_input = (kind == R_SUM && I->opset >= 13) || I->opset >= 18;
	if (xr < 0 || onnx_attr_int(I, "keepdims", 1, &keepdims) ||
	    read_axes(I, axes_input, axes, &n) ||
	    (axes_input && onnx_attr_int(I, "noop_with_empty_axes", 0, &noop)))
		return -1;
	int on[MAXR] = {0}, any = 0;
	if (n <= 0 && !noop)
		for (int k = 0; k < xr; k++)
			on[k] = 1;
	for (int k = 0; k < n; k++) {
		int a = 0;
		if (norm_axis(I, axes[k], xr, "axis", &a))
			return -1;
		on[a] = 1;
	}
	for (int k = 0; k < xr; k++)
		any |= on[k];
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	if (!any && (kind == R_MEAN || kind == R_SUM || kind == R_MAX || kind == R_MIN))
		return alias_out0(I);
	const char *name = out_name(I);
	switch (kind) {
	case R_MEAN:
		return onnx_set_out(I, 0, reduce_axes(I, "reduce_mean", x, on, (int)keepdims, name));
	case R_SUM:
		return onnx_set_out(I, 0, reduce_axes(I, "reduce_sum", x, on, (int)keepdims, name));
	case R_MAX:
		return onnx_set_out(I, 0, reduce_axes(I, "reduce_max", x, on, (int)keepdims, name));
	case R_MIN:
		return onnx_set_out(I, 0, reduce_axes(I, "reduce_min", x, on, (int)keepdims, name));
	case R_L1:
		x = apply1(I, "abs", x, onnx_tmp_name(I, "abs"));
		return onnx_set_out(I, 0, x < 0 ? -1 : reduce_axes(I, "reduce_sum", x, on, (int)keepdims, name));
	case R_SUMSQ:
		x = apply2(I, "mul", x, x, onnx_tmp_name(I, "square"));
		return onnx_set_out(I, 0, x < 0 ? -1 : reduce_axes(I, "reduce_sum", x, on, (int)keepdims, name));
	case R_L2:
		x = apply2(I, "mul", x, x, onnx_tmp_name(I, "square"));
		x = x < 0 ? -1 : reduce_axes(I, "reduce_sum", x, on, (int)keepdims, onnx_tmp_name(I, "sumsq"));
		return onnx_set_out(I, 0, x < 0 ? -1 : apply1(I, "sqrt", x, name));
	case R_LOGSUM:
		x = reduce_axes(I, "reduce_sum", x, on, (int)keepdims, onnx_tmp_name(I, "sum"));
		return onnx_set_out(I, 0, x < 0 ? -1 : apply1(I, "log", x, name));
	default: {
		/* log(sum(exp(x - m))) + m with m the maximum (keepdims) */
		int m = reduce_axes(I, "reduce_max", x, on, 1, onnx_tmp_name(I, "max"));
		int d = m < 0 ? -1 : apply2(I, "sub", x, m, onnx_tmp_name(I, "shifted"));
		int e = d < 0 ? -1 : apply1(I, "exp", d, onnx_tmp_name(I, "exp"));
		int s = e < 0 ? -1 : reduce_axes(I, "reduce_sum", e, on, 1, onnx_tmp_name(I, "sum"));
		int l = s < 0 ? -1 : apply1(I, "log", s, onnx_tmp_name(I, "log"));
		if (l < 0)
			return -1;
		if (keepdims)
			return onnx_set_out(I, 0, apply2(I, "add", l, m, name));
		int y = apply2(I, "add", l, m, onnx_tmp_name(I, "keep"));
		if (y < 0)
			return -1;
		int64_t shape[MAXR];
		int r = 0;
		for (int k = 0; k < xr; k++)
			if (!on[k])
				shape[r++] = xs[k];
		return onnx_set_out(I, 0, onnx_reshape(I, y, r, shape, name));
	}
	}
}

static int op_reducemean(onnx_imp *I) { return reduce(I, R_MEAN); }
static int op_reducesum(onnx_imp *I) { return reduce(I, R_SUM); }
static int op_reducemax(onnx_imp *I) { return reduce(I, R_MAX); }
static int op_reducemin(onnx_imp *I) { return reduce(I, R_MIN); }
static int op_reducel1(onnx_imp *I) { return reduce(I, R_L1); }
static int op_reducel2(onnx_imp *I) { return reduce(I, R_L2); }
static int op_reducesumsquare(onnx_imp *I) { return reduce(I, R_SUMSQ); }
static int op_reducelogsum(onnx_imp *I) { return reduce(I, R_LOGSUM); }
static int op_reducelogsumexp(onnx_imp *I) { return reduce(I, R_LOGSUMEXP); }

/* ---- integer tensors folded at import ---------------------------------- */

static int op_shape(onnx_imp *I)
{
	int64_t xs[MAXR], start, end;
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || onnx_attr_int(I, "start", 0, &start) || onnx_attr_int(I, "end", xr, &end))
		return -1;
	if (start < 0)
		start += xr;
	if (end < 0)
		end += xr;
	start = start < 0 ? 0 : start > xr ? xr : start;
	end = end < 0 ? 0 : end > xr ? xr : end;
	int64_t n = end > start ? end - start : 0;
	gos_onnx_tensor *t = onnx_new_const(I, 0, 1, &n);
	if (!t)
		return -1;
	for (int64_t k = 0; k < n; k++)
		t->i[k] = xs[start + k];
	return onnx_set_out_const(I, 0, t);
}

static int gather_value(onnx_imp *I, int ax, const gos_onnx_tensor *idx);

static int op_gather(onnx_imp *I)
{
	int64_t axis;
	if (onnx_attr_int(I, "axis", 0, &axis))
		return -1;
	onnx_sym *ds = onnx_in_sym(I, 0);
	if (!ds)
		return -1;
	if (ds->value >= 0) {
		int64_t xs[MAXR];
		int xr = onnx_in_shape(I, 0, xs), ax = 0;
		gos_onnx_tensor *idx = onnx_in_const(I, 1, "the indices input");
		if (!idx || norm_axis(I, axis, xr, "axis", &ax))
			return -1;
		return gather_value(I, ax, idx);
	}
	gos_onnx_tensor *data = onnx_in_const(I, 0, "the data input");
	gos_onnx_tensor *idx = data ? onnx_in_const(I, 1, "the indices input") : NULL;
	if (!idx)
		return -1;
	int ax;
	if (norm_axis(I, axis, data->rank, "axis", &ax))
		return -1;
	if (idx->is_float)
		return onnx_err(I, "the indices must be integers");
	int r = data->rank - 1 + idx->rank;
	if (r > MAXR)
		return onnx_unsup(I, "the result would have rank %d", r);
	int64_t shape[MAXR];
	int k = 0;
	for (int j = 0; j < ax; j++)
		shape[k++] = data->shape[j];
	for (int j = 0; j < idx->rank; j++)
		shape[k++] = idx->shape[j];
	for (int j = ax + 1; j < data->rank; j++)
		shape[k++] = data->shape[j];
	gos_onnx_tensor *t = onnx_new_const(I, data->is_float, r, shape);
	if (!t)
		return -1;
	t->elem_type = data->elem_type;
	int64_t outer = 1, inner = 1, dim = data->shape[ax];
	for (int j = 0; j < ax; j++)
		outer *= data->shape[j];
	for (int j = ax + 1; j < data->rank; j++)
		inner *= data->shape[j];
	int64_t o = 0;
	for (int64_t i = 0; i < outer; i++) {
		for (int64_t q = 0; q < idx->numel; q++) {
			int64_t g = idx->i[q] < 0 ? idx->i[q] + dim : idx->i[q];
			if (g < 0 || g >= dim)
				return onnx_err(I, "index %lld is out of range", (long long)idx->i[q]);
			for (int64_t j = 0; j < inner; j++, o++) {
				int64_t src = (i * dim + g) * inner + j;
				if (t->is_float)
					t->f[o] = data->f[src];
				else
					t->i[o] = data->i[src];
			}
		}
	}
	return onnx_set_out_const(I, 0, t);
}

static int op_size(onnx_imp *I)
{
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	gos_onnx_tensor *t = onnx_new_const(I, 0, 0, NULL);
	if (!t)
		return -1;
	t->i[0] = gos_numel(xr, xs);
	return onnx_set_out_const(I, 0, t);
}

/* Range of constants: start, start + delta, ... before limit. */
static int op_range(onnx_imp *I)
{
	gos_onnx_tensor *c[3];
	const char *what[3] = {"the start input", "the limit input", "the delta input"};
	for (int k = 0; k < 3; k++)
		if (!(c[k] = onnx_in_const(I, k, what[k])) || c[k]->numel != 1)
			return c[k] ? onnx_err(I, "%s must be a scalar", what[k]) : -1;
	int isf = c[0]->is_float;
	double v[3];
	for (int k = 0; k < 3; k++)
		v[k] = c[k]->is_float ? c[k]->f[0] : (double)c[k]->i[0];
	if (v[2] == 0)
		return onnx_err(I, "delta is 0");
	double cnt = ceil((v[1] - v[0]) / v[2]);
	int64_t n = cnt > 0 ? (int64_t)cnt : 0;
	if (n > ONNX_MAX_NUMEL || n < 1)
		return onnx_unsup(I, "a range of %lld elements is not supported", (long long)n);
	gos_onnx_tensor *t = onnx_new_const(I, isf, 1, &n);
	if (!t)
		return -1;
	t->elem_type = c[0]->elem_type;
	for (int64_t k = 0; k < n; k++) {
		if (isf)
			t->f[k] = (float)(c[0]->f[0] + (float)k * (float)v[2]);
		else
			t->i[k] = c[0]->i[0] + k * c[2]->i[0];
	}
	return onnx_set_out_const(I, 0, t);
}

static int cast_to(onnx_imp *I, int64_t to);

static int op_castlike(onnx_imp *I)
{
	onnx_sym *s = onnx_in_sym(I, 1);
	if (!s)
		return -1;
	int64_t to = s->value >= 0 ? ONNX_FLOAT : s->c->elem_type;
	return cast_to(I, to);
}

static int op_cast(onnx_imp *I)
{
	int64_t to;
	if (onnx_attr_int(I, "to", 0, &to))
		return -1;
	return cast_to(I, to);
}

static int cast_to(onnx_imp *I, int64_t to)
{
	onnx_sym *s = onnx_in_sym(I, 0);
	if (!s)
		return -1;
	int to_float = to == ONNX_FLOAT || to == ONNX_DOUBLE || to == ONNX_FLOAT16 ||
	               to == ONNX_BFLOAT16;
	if (s->value >= 0) {
		if (to != ONNX_FLOAT)
			return onnx_unsup(I, "casting float data to %s is not supported",
			                  gos_onnx_type_name((int)to));
		return alias_out0(I);
	}
	gos_onnx_tensor *c = s->c;
	gos_onnx_tensor *t = onnx_new_const(I, to_float, c->rank, c->shape);
	if (!t)
		return -1;
	t->elem_type = (int)to;
	if (!to_float && to != ONNX_INT64 && to != ONNX_INT32 && to != ONNX_INT8 &&
	    to != ONNX_UINT8 && to != ONNX_INT16 && to != ONNX_UINT16 && to != ONNX_UINT32 &&
	    to != ONNX_UINT64 && to != ONNX_BOOL)
		return onnx_unsup(I, "casting to %s is not supported", gos_onnx_type_name((int)to));
	for (int64_t k = 0; k < c->numel; k++) {
		if (to_float)
			t->f[k] = c->is_float ? c->f[k] : (float)c->i[k];
		else if (to == ONNX_BOOL)
			t->i[k] = c->is_float ? c->f[k] != 0 : c->i[k] != 0;
		else
			t->i[k] = c->is_float ? (int64_t)c->f[k] : c->i[k];
	}
	return onnx_set_out_const(I, 0, t);
}

static int op_constantofshape(onnx_imp *I)
{
	int64_t shape[MAXR];
	int n;
	if (const_ints(I, 0, "the shape input", shape, MAXR, &n))
		return -1;
	const Onnx__AttributeProto *a = onnx_attr(I, "value");
	gos_onnx_tensor v = {0};
	if (a && (!a->t || gos_onnx_decode_tensor(a->t, I->a, NULL, "attribute 'value'", &v, I->loc,
	                                          I->d)))
		return a->t ? -1 : onnx_err(I, "attribute 'value' must be a tensor");
	if (a && v.numel != 1)
		return onnx_err(I, "attribute 'value' must hold one element");
	for (int k = 0; k < n; k++)
		if (shape[k] < 0)
			return onnx_err(I, "negative dimension in the shape input");
	gos_onnx_tensor *t = onnx_new_const(I, a ? v.is_float : 1, n, shape);
	if (!t)
		return -1;
	if (a)
		t->elem_type = v.elem_type;
	if (t->numel > ONNX_MAX_NUMEL)
		return onnx_unsup(I, "the result is too large");
	for (int64_t k = 0; k < t->numel; k++) {
		if (t->is_float)
			t->f[k] = a ? v.f[0] : 0.0f;
		else
			t->i[k] = v.i[0];
	}
	return onnx_set_out_const(I, 0, t);
}

/* ---- more elementwise operators (frontend/onnx/onnx_ops.gos) ------------ */

static int op_neg(onnx_imp *I) { return unary(I, "neg", NULL); }
static int op_abs(onnx_imp *I) { return unary(I, "abs", NULL); }
static int op_exp(onnx_imp *I) { return unary(I, "exp", NULL); }
static int op_log(onnx_imp *I) { return unary(I, "log", NULL); }
static int op_sqrt(onnx_imp *I) { return unary(I, "sqrt", NULL); }
static int op_reciprocal(onnx_imp *I) { return unary(I, "reciprocal", NULL); }
static int op_floor(onnx_imp *I) { return unary(I, "floor", NULL); }
static int op_ceil(onnx_imp *I) { return unary(I, "ceil", NULL); }
static int op_erf(onnx_imp *I) { return unary(I, "erf", NULL); }
static int op_sign(onnx_imp *I) { return unary(I, "sign", NULL); }
static int op_softplus(onnx_imp *I) { return unary(I, "softplus", NULL); }
static int op_softsign(onnx_imp *I) { return unary(I, "softsign", NULL); }

/* A unary operator with float attributes names[k] (ONNX) -> gos[k]. */
static int unary_attrs(onnx_imp *I, const char *op, int n, const char *const *names,
                       const char *const *gos, const double *defs)
{
	onnx_attrs A = {0};
	for (int k = 0; k < n; k++) {
		double v;
		if (onnx_attr_float(I, names[k], defs[k], &v))
			return -1;
		onnx_attrs_num(&A, gos[k], v);
	}
	return unary(I, op, &A);
}

static int op_elu(onnx_imp *I)
{
	static const char *const n[] = {"alpha"};
	return unary_attrs(I, "elu", 1, n, n, (double[]){1.0});
}

static int op_selu(onnx_imp *I)
{
	static const char *const n[] = {"alpha", "gamma"};
	return unary_attrs(I, "selu", 2, n, n,
	                   (double[]){1.67326319217681884765625, 1.05070102214813232421875});
}

static int op_celu(onnx_imp *I)
{
	static const char *const n[] = {"alpha"};
	return unary_attrs(I, "celu", 1, n, n, (double[]){1.0});
}

static int op_thresholdedrelu(onnx_imp *I)
{
	static const char *const n[] = {"alpha"};
	return unary_attrs(I, "thresholded_relu", 1, n, n, (double[]){1.0});
}

static int op_shrink(onnx_imp *I)
{
	static const char *const n[] = {"bias", "lambd"};
	return unary_attrs(I, "shrink", 2, n, n, (double[]){0.0, 0.5});
}

static int op_pow(onnx_imp *I)
{
	/* a constant exponent 1 or 2 (layer norm's variance) needs no pow */
	onnx_sym *e = onnx_in_sym(I, 1);
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || !e)
		return -1;
	if (e->c && e->c->is_float && e->c->numel == 1 && e->c->rank <= xr &&
	    (e->c->f[0] == 1.0f || e->c->f[0] == 2.0f)) {
		int x = onnx_in_value(I, 0);
		if (x < 0)
			return -1;
		if (e->c->f[0] == 1.0f)
			return alias_out0(I);
		int sq[2] = {x, x};
		return onnx_set_out(I, 0, onnx_apply(I, "mul", out_name(I), 2, sq, NULL));
	}
	int in[2] = {onnx_in_value(I, 0), onnx_in_value(I, 1)};
	if (in[0] < 0 || in[1] < 0)
		return -1;
	return onnx_set_out(I, 0, onnx_apply(I, "pow", out_name(I), 2, in, NULL));
}

static int op_prelu(onnx_imp *I)
{
	onnx_attr_ignore(I, "consumed_inputs");
	int in[2] = {onnx_in_value(I, 0), onnx_in_value(I, 1)};
	if (in[0] < 0 || in[1] < 0)
		return -1;
	/* slope broadcasts to X (unidirectionally); before opset 7 a 1-D slope
	 * of C values applies per channel */
	const gos_value *x = &I->m->vals[in[0]], *sl = &I->m->vals[in[1]];
	if (I->opset < 7 && sl->rank == 1 && x->rank > 2 && sl->shape[0] == x->shape[1]) {
		int64_t shape[MAXR] = {sl->shape[0]};
		for (int k = 1; k < x->rank - 1; k++)
			shape[k] = 1;
		in[1] = onnx_reshape(I, in[1], x->rank - 1, shape, onnx_tmp_name(I, "slope"));
	}
	return onnx_set_out(I, 0, onnx_apply(I, "prelu", out_name(I), 2, in, NULL));
}

/* Max and Min: chains of maximum/minimum. */
static int minmax(onnx_imp *I, const char *op)
{
	onnx_attr_ignore(I, "consumed_inputs");
	int n = onnx_n_in(I);
	if (n < 1)
		return onnx_err(I, "needs at least one input");
	if (n == 1)
		return alias_out0(I);
	int acc = onnx_in_value(I, 0);
	for (int k = 1; k < n && acc >= 0; k++) {
		int b = onnx_in_value(I, k);
		const char *name = k == n - 1 ? out_name(I)
		                              : onnx_tmp_name(I, gos_arena_printf(I->a, "%s%d", op, k));
		acc = b < 0 ? -1 : apply2(I, op, acc, b, name);
	}
	return onnx_set_out(I, 0, acc);
}

static int op_max(onnx_imp *I) { return minmax(I, "maximum"); }
static int op_min(onnx_imp *I) { return minmax(I, "minimum"); }

/* ---- normalisation ----------------------------------------------------- */

static int op_instancenorm(onnx_imp *I)
{
	double eps;
	if (onnx_attr_float(I, "epsilon", 1e-5, &eps))
		return -1;
	onnx_attr_ignore(I, "consumed_inputs");
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	if (xr < 3)
		return onnx_err(I, "the input must have rank >= 3");
	int in[3];
	for (int k = 0; k < 3; k++)
		if ((in[k] = onnx_in_value(I, k)) < 0)
			return -1;
	onnx_attrs A = {0};
	onnx_attrs_num(&A, "eps", eps);
	return onnx_set_out(I, 0, onnx_apply(I, "instance_norm", out_name(I), 3, in, &A));
}

static int op_layernorm(onnx_imp *I)
{
	double eps;
	int64_t axis, stash, xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs), ax = 0;
	if (xr < 0 || onnx_attr_float(I, "epsilon", 1e-5, &eps) ||
	    onnx_attr_int(I, "axis", -1, &axis) || onnx_attr_int(I, "stash_type", 1, &stash) ||
	    norm_axis(I, axis, xr, "axis", &ax))
		return -1;
	int64_t s2[2] = {1, 1};
	for (int k = 0; k < xr; k++)
		s2[k >= ax] *= xs[k];
	int in[3] = {onnx_in_value(I, 0), onnx_in_value(I, 1), -1};
	int n = 2;
	if (onnx_has_in(I, 2)) {
		in[2] = onnx_in_value(I, 2);
		n = 3;
	}
	for (int k = 0; k < n; k++) {
		if (in[k] < 0)
			return -1;
		if (k && gos_numel(I->m->vals[in[k]].rank, I->m->vals[in[k]].shape) != s2[1])
			return onnx_unsup(I, "%s must have one value per normalised element "
			                  "(broadcasting is not supported)", k == 1 ? "Scale" : "B");
		if (k)
			in[k] = onnx_reshape(I, in[k], 1, &s2[1], onnx_tmp_name(I, k == 1 ? "scale" : "bias"));
	}
	int x2 = onnx_reshape(I, in[0], 2, s2, onnx_tmp_name(I, "2d"));
	if (x2 < 0 || in[1] < 0 || (n == 3 && in[2] < 0))
		return -1;
	in[0] = x2;
	onnx_attrs A = {0};
	onnx_attrs_num(&A, "eps", eps);
	int outs[8];
	if (onnx_apply_n(I, "layer_norm", onnx_tmp_name(I, "norm2d"), n, in, &A, outs) < 3)
		return -1;
	if (onnx_set_out(I, 0, onnx_reshape(I, outs[0], xr, xs, out_name(I))))
		return -1;
	/* Mean and InvStdDev keep the normalised axes as 1s */
	int64_t ks[MAXR];
	for (int k = 0; k < xr; k++)
		ks[k] = k < ax ? xs[k] : 1;
	for (int k = 1; k <= 2; k++) {
		if (!onnx_out_name(I, k)[0])
			continue;
		if (onnx_set_out(I, k, onnx_reshape(I, outs[k], xr, ks, onnx_out_name(I, k))))
			return -1;
	}
	return 0;
}

static int op_lrn(onnx_imp *I)
{
	double alpha, beta, bias;
	int64_t size;
	if (onnx_attr_float(I, "alpha", 1e-4, &alpha) || onnx_attr_float(I, "beta", 0.75, &beta) ||
	    onnx_attr_float(I, "bias", 1.0, &bias) || onnx_attr_int(I, "size", 0, &size))
		return -1;
	if (size < 1)
		return onnx_err(I, "attribute 'size' is required and must be positive");
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "size", 1, &size);
	onnx_attrs_num(&A, "alpha", alpha);
	onnx_attrs_num(&A, "beta", beta);
	onnx_attrs_num(&A, "bias", bias);
	return unary(I, "lrn", &A);
}

/* ---- transposed convolution -------------------------------------------------- */

static int op_convtranspose(onnx_imp *I)
{
	int64_t xs[MAXR], ws[MAXR], v[2 * MAXR], group;
	int xr = onnx_in_shape(I, 0, xs), wr = onnx_in_shape(I, 1, ws), n;
	if (xr < 0 || wr < 0 || onnx_attr_int(I, "group", 1, &group))
		return -1;
	int sp = xr - 2;
	if (sp < 1 || sp > 2)
		return onnx_unsup(I, "%d-D input: only 1-D and 2-D transposed convolutions are "
		                  "supported", xr);
	if (wr != xr)
		return onnx_err(I, "the weight has rank %d, the input %d", wr, xr);
	/* kernel, strides, dilations as for Conv, no ceil_mode */
	window w;
	const char *auto_pad;
	if (onnx_attr_string(I, "auto_pad", "NOTSET", &auto_pad))
		return -1;
	/* read_window would apply Conv's SAME rule; read the lists only */
	if (onnx_attr_ints(I, "kernel_shape", v, 2 * MAXR, &n))
		return -1;
	if (n >= 0 && (n != sp || v[0] != ws[2] || (sp == 2 && v[1] != ws[3])))
		return onnx_err(I, "attribute 'kernel_shape' does not match the weight's shape");
	memset(&w, 0, sizeof w);
	w.sp = sp;
	for (int k = 0; k < sp; k++)
		w.kernel[k] = ws[2 + k];
	const char *lists[3] = {"strides", "dilations", "output_padding"};
	int64_t out_pad[3] = {0, 0, 0};
	for (int j = 0; j < 3; j++) {
		if (onnx_attr_ints(I, lists[j], v, 2 * MAXR, &n))
			return -1;
		if (n >= 0 && n != sp)
			return onnx_err(I, "attribute '%s' has %d values for %d spatial dimensions",
			                lists[j], n, sp);
		for (int k = 0; k < sp; k++) {
			int64_t x = n >= 0 ? v[k] : j == 2 ? 0 : 1;
			if (j == 0)
				w.stride[k] = x;
			else if (j == 1)
				w.dil[k] = x;
			else
				out_pad[k] = x;
			if (x < (j == 2 ? 0 : 1) || x > WIN_MAX)
				return onnx_err(I, "attribute '%s' has an invalid value", lists[j]);
		}
	}
	int64_t oshape[2 * MAXR];
	int n_os;
	if (onnx_attr_ints(I, "pads", v, 2 * MAXR, &n) ||
	    onnx_attr_ints(I, "output_shape", oshape, 2 * MAXR, &n_os))
		return -1;
	if (n >= 0 && n != 2 * sp)
		return onnx_err(I, "attribute 'pads' has %d values for %d spatial dimensions", n, sp);
	int same = !strcmp(auto_pad, "SAME_UPPER") || !strcmp(auto_pad, "SAME_LOWER");
	if (n_os >= 0 && n_os != sp && n_os != xr)
		return onnx_err(I, "attribute 'output_shape' has %d values", n_os);
	for (int k = 0; k < n_os; k++)
		if (oshape[k] < 0 || oshape[k] > ONNX_MAX_NUMEL)
			return onnx_err(I, "attribute 'output_shape' has an invalid value");
	if (strcmp(auto_pad, "NOTSET") && strcmp(auto_pad, "VALID") && !same)
		return onnx_unsup(I, "attribute 'auto_pad' = \"%s\" is not supported", auto_pad);
	for (int k = 0; k < sp; k++) {
		int64_t full = w.stride[k] * (xs[2 + k] - 1) + out_pad[k] + (w.kernel[k] - 1) * w.dil[k] + 1;
		if (n_os >= 0 || same) {
			/* pads from the wanted output size */
			int64_t want = n_os >= 0 ? oshape[n_os == sp ? k : 2 + k] : xs[2 + k] * w.stride[k];
			int64_t total = full - want;
			if (total < 0)
				return onnx_unsup(I, "an output larger than the full transposed convolution "
				                  "is not supported");
			int upper = !strcmp(auto_pad, "SAME_UPPER");
			w.pad[k] = upper ? total / 2 : total - total / 2;
			w.pad[sp + k] = total - w.pad[k];
		} else if (!strcmp(auto_pad, "NOTSET") && n >= 0) {
			w.pad[k] = v[k];
			w.pad[sp + k] = v[sp + k];
		}
		if (w.pad[k] < 0 || w.pad[sp + k] < 0)
			return onnx_unsup(I, "negative 'pads' are not supported");
	}
	onnx_attrs A = {0};
	window_attrs(&w, &A, 0, 1, 0);
	if (group != 1)
		onnx_attrs_int(&A, "groups", 1, &group);
	int any_op = 0;
	for (int k = 0; k < sp; k++)
		any_op |= out_pad[k] != 0;
	if (any_op)
		onnx_attrs_int(&A, "out_pad", sp, out_pad);
	int in[3] = {onnx_in_value(I, 0), onnx_in_value(I, 1), -1};
	int nin = 2;
	if (onnx_has_in(I, 2)) {
		in[2] = onnx_in_value(I, 2);
		nin = 3;
	}
	return onnx_set_out(I, 0, onnx_apply(I, sp == 1 ? "conv_transpose1d" : "conv_transpose2d",
	                                     out_name(I), nin, in, &A));
}

/* ---- data movement ----------------------------------------------------------- */

/* Views a rank-r shape as 4-D for the 4-D data movement operators: fewer
 * dimensions get leading 1s; more are merged from the front, which needs
 * the operator to leave those (ident[k]) unchanged. s4 receives the 4-D
 * shape, map[j] the original dimension of 4-D dimension j (-1: added or
 * merged). */
static int view4(onnx_imp *I, int r, const int64_t *shape, const int *ident, int64_t *s4,
                 int *map)
{
	int j = 0, start = 0;
	if (r < 4) {
		for (; j < 4 - r; j++)
			s4[j] = 1, map[j] = -1;
	} else if (r > 4) {
		int merge = r - 3;
		for (int k = 0; k < merge; k++)
			if (!ident[k])
				return onnx_unsup(I, "rank-%d tensors are supported only when the first %d "
				                  "dimensions are unchanged", r, merge);
		s4[0] = 1;
		for (int k = 0; k < merge; k++)
			s4[0] *= shape[k];
		map[0] = -1;
		j = 1;
		start = merge;
	}
	for (int k = start; k < r; k++, j++)
		s4[j] = shape[k], map[j] = k;
	return 0;
}

/* Slices value x: per dimension k, out[k] elements from start[k] with
 * step[k]. */
static int emit_slice(onnx_imp *I, int x, const int64_t *start, const int64_t *step,
                      const int64_t *out, const char *name)
{
	const gos_value *v = &I->m->vals[x];
	int r = v->rank;
	int64_t xs[MAXR];
	memcpy(xs, v->shape, sizeof xs);
	int ident[MAXR], all = 1;
	for (int k = 0; k < r; k++) {
		ident[k] = start[k] == 0 && step[k] == 1 && out[k] == xs[k];
		all &= ident[k];
	}
	if (all)
		return x;
	int lead = 0; /* unchanged leading dimensions, which a 4-D view merges */
	while (lead < r && ident[lead])
		lead++;
	if (r > 4 && lead < r - 3) {
		/* rank > 4 changed before the last 4: one axis at a time */
		int last = -1, y = x;
		for (int k = 0; k < r; k++)
			if (!ident[k])
				last = k;
		for (int k = 0; k < r && y >= 0; k++) {
			if (ident[k])
				continue;
			onnx_attrs A = {0};
			int64_t ax = k;
			onnx_attrs_int(&A, "axis", 1, &ax);
			onnx_attrs_int(&A, "start", 1, &start[k]);
			onnx_attrs_int(&A, "step", 1, &step[k]);
			onnx_attrs_int(&A, "out", 1, &out[k]);
			y = onnx_apply(I, "slice_axis", k == last ? name : onnx_tmp_name(I, "sliced"), 1, &y,
			               &A);
		}
		return y;
	}
	int64_t s4[4], a_start[4], a_step[4], a_out[4];
	int map[4];
	if (view4(I, r, xs, ident, s4, map))
		return -1;
	for (int j = 0; j < 4; j++) {
		int k = map[j];
		a_start[j] = k < 0 ? 0 : start[k];
		a_step[j] = k < 0 ? 1 : step[k];
		a_out[j] = k < 0 ? s4[j] : out[k];
	}
	int x4 = onnx_reshape(I, x, 4, s4, onnx_tmp_name(I, "in4d"));
	if (x4 < 0)
		return -1;
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "start", 4, a_start);
	onnx_attrs_int(&A, "step", 4, a_step);
	onnx_attrs_int(&A, "shape", 4, a_out);
	int y = onnx_apply(I, "slice4", r == 4 ? name : onnx_tmp_name(I, "slice4d"), 1, &x4, &A);
	return y < 0 || r == 4 ? y : onnx_reshape(I, y, r, out, name);
}

/* ONNX Slice bounds of one axis of size dim: clamped start and count. */
static void slice_bounds(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *s,
                         int64_t *count)
{
	if (start < 0)
		start += dim;
	if (end < 0)
		end += dim;
	if (step > 0) {
		start = start < 0 ? 0 : start > dim ? dim : start;
		end = end < 0 ? 0 : end > dim ? dim : end;
		*count = end > start ? (end - start + step - 1) / step : 0;
	} else {
		start = start < 0 ? -1 : start > dim - 1 ? dim - 1 : start;
		end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
		*count = start > end ? (start - end - step - 1) / -step : 0;
	}
	*s = start;
}

static int op_slice(onnx_imp *I)
{
	int64_t xs[MAXR], starts[MAXR], ends[MAXR], axes[MAXR], steps[MAXR];
	int xr = onnx_in_shape(I, 0, xs), ns, ne, na = -1, nst = -1;
	if (xr < 0)
		return -1;
	if (I->opset < 10) {
		if (onnx_attr_ints(I, "starts", starts, MAXR, &ns) ||
		    onnx_attr_ints(I, "ends", ends, MAXR, &ne) || onnx_attr_ints(I, "axes", axes, MAXR, &na))
			return -1;
		if (ns < 0 || ne < 0)
			return onnx_err(I, "attributes 'starts' and 'ends' are required");
	} else {
		if (const_ints(I, 1, "the starts input", starts, MAXR, &ns) ||
		    const_ints(I, 2, "the ends input", ends, MAXR, &ne) ||
		    (onnx_has_in(I, 3) && const_ints(I, 3, "the axes input", axes, MAXR, &na)) ||
		    (onnx_has_in(I, 4) && const_ints(I, 4, "the steps input", steps, MAXR, &nst)))
			return -1;
	}
	if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
		return onnx_err(I, "starts, ends, axes and steps differ in length");
	int64_t st[MAXR], step[MAXR], out[MAXR];
	for (int k = 0; k < xr; k++)
		st[k] = 0, step[k] = 1, out[k] = xs[k];
	int seen[MAXR] = {0};
	for (int j = 0; j < ns; j++) {
		int a = j;
		if (na >= 0 && norm_axis(I, axes[j], xr, "axis", &a))
			return -1;
		if (seen[a]++)
			return onnx_err(I, "axis %d is repeated", a);
		step[a] = nst >= 0 ? steps[j] : 1;
		if (step[a] == 0)
			return onnx_err(I, "a step is 0");
		slice_bounds(xs[a], starts[j], ends[j], step[a], &st[a], &out[a]);
		if (out[a] == 0)
			return onnx_unsup(I, "the slice of axis %d is empty", a);
	}
	onnx_sym *s = onnx_in_sym(I, 0);
	if (!s)
		return -1;
	if (s->value < 0 && !s->c->is_float) {
		/* integer data (shapes): fold */
		gos_onnx_tensor *t = onnx_new_const(I, 0, xr, out);
		int64_t ist[MAXR], ost[MAXR];
		if (!t)
			return -1;
		t->elem_type = s->c->elem_type;
		strides_of(xr, xs, ist);
		strides_of(xr, out, ost);
		for (int64_t o = 0; o < t->numel; o++) {
			int64_t rem = o, src = 0;
			for (int k = 0; k < xr; k++) {
				int64_t idx = rem / ost[k];
				rem %= ost[k];
				src += (st[k] + idx * step[k]) * ist[k];
			}
			t->i[o] = s->c->i[src];
		}
		return onnx_set_out_const(I, 0, t);
	}
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	int y = emit_slice(I, x, st, step, out, out_name(I));
	return y == x ? alias_out0(I) : onnx_set_out(I, 0, y);
}

static int op_split(onnx_imp *I)
{
	int64_t xs[MAXR], axis, split[64];
	int xr = onnx_in_shape(I, 0, xs), n = -1, ax = 0;
	if (xr < 0 || onnx_attr_int(I, "axis", 0, &axis) || norm_axis(I, axis, xr, "axis", &ax))
		return -1;
	if (I->opset < 13) {
		if (onnx_attr_ints(I, "split", split, 64, &n))
			return -1;
	} else if (onnx_has_in(I, 1) && const_ints(I, 1, "the split input", split, 64, &n)) {
		return -1;
	}
	int outs = (int)I->node->n_output;
	if (outs < 1 || outs > 64)
		return onnx_unsup(I, "%d outputs", outs);
	int64_t num = -1;
	if (I->opset >= 18 && onnx_attr(I, "num_outputs") &&
	    onnx_attr_int(I, "num_outputs", -1, &num))
		return -1;
	if (num >= 0) { /* opset 18: chunks of ceil(dim / num), the last one smaller */
		if (n >= 0)
			return onnx_err(I, "the split input and attribute 'num_outputs' are both given");
		if (num != outs)
			return onnx_err(I, "attribute 'num_outputs' is %lld but the node has %d outputs",
			                (long long)num, outs);
		int64_t chunk = (xs[ax] + num - 1) / num;
		if (chunk * (num - 1) >= xs[ax])
			return onnx_err(I, "dimension %lld does not split into %d non-empty parts",
			                (long long)xs[ax], outs);
		n = outs;
		for (int k = 0; k < outs; k++)
			split[k] = k < outs - 1 ? chunk : xs[ax] - chunk * (outs - 1);
	}
	if (n < 0) {
		if (xs[ax] % outs)
			return onnx_err(I, "dimension %lld does not split into %d equal parts",
			                (long long)xs[ax], outs);
		n = outs;
		for (int k = 0; k < outs; k++)
			split[k] = xs[ax] / outs;
	}
	if (n != outs)
		return onnx_err(I, "split has %d sizes for %d outputs", n, outs);
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	int64_t off = 0;
	for (int k = 0; k < outs; k++) {
		int64_t st[MAXR], step[MAXR], out[MAXR];
		for (int j = 0; j < xr; j++)
			st[j] = 0, step[j] = 1, out[j] = xs[j];
		st[ax] = off;
		out[ax] = split[k];
		off += split[k];
		if (split[k] < 1 || off > xs[ax])
			return onnx_err(I, "the split sizes do not fit dimension %lld", (long long)xs[ax]);
		const char *name = onnx_out_name(I, k)[0] ? onnx_out_name(I, k)
		                                          : onnx_tmp_name(I, gos_arena_printf(I->a, "part%d", k));
		int y = emit_slice(I, x, st, step, out, name);
		if (y < 0)
			return -1;
		if (y == x) {
			if (alias_out0(I))
				return -1;
		} else if (onnx_set_out(I, k, y)) {
			return -1;
		}
	}
	if (off != xs[ax])
		return onnx_err(I, "the split sizes add up to %lld, not %lld", (long long)off,
		                (long long)xs[ax]);
	return 0;
}

/* Tile of a rank-r value (r > 4) one repeated axis at a time: each step
 * views the value as [1, before, axis, after], tiles the axis with tile4
 * and views the result at rank r again. Returns the final value (named
 * as the node's output) or -1. */
static int tile_by_axis(onnx_imp *I, int x, int r, const int64_t *xs, const int64_t *reps)
{
	int64_t cur[MAXR];
	memcpy(cur, xs, sizeof cur);
	int last = -1;
	for (int k = 0; k < r; k++)
		if (reps[k] > 1)
			last = k;
	for (int k = 0; k <= last && x >= 0; k++) {
		if (reps[k] == 1)
			continue;
		int64_t s4[4] = {1, 1, cur[k], 1}, r4[4] = {1, 1, reps[k], 1};
		for (int j = 0; j < k; j++)
			s4[1] *= cur[j];
		for (int j = k + 1; j < r; j++)
			s4[3] *= cur[j];
		int x4 = onnx_reshape(I, x, 4, s4, onnx_tmp_name(I, "in4d"));
		onnx_attrs A = {0};
		onnx_attrs_int(&A, "reps", 4, r4);
		int y = x4 < 0 ? -1 : onnx_apply(I, "tile4", onnx_tmp_name(I, "tile4d"), 1, &x4, &A);
		cur[k] *= reps[k];
		x = y < 0 ? -1 : onnx_reshape(I, y, r, cur, k == last ? out_name(I)
		                                                   : onnx_tmp_name(I, "tiled"));
	}
	return x;
}

static int op_tile(onnx_imp *I)
{
	int64_t xs[MAXR], reps[MAXR];
	int xr = onnx_in_shape(I, 0, xs), n;
	if (xr < 0 || const_ints(I, 1, "the repeats input", reps, MAXR, &n))
		return -1;
	if (n != xr)
		return onnx_err(I, "repeats has %d values for rank %d", n, xr);
	int ident[MAXR], all = 1;
	int64_t out[MAXR];
	for (int k = 0; k < xr; k++) {
		if (reps[k] < 1)
			return onnx_unsup(I, "repeats must be positive");
		ident[k] = reps[k] == 1;
		all &= ident[k];
		out[k] = xs[k] * reps[k];
	}
	if (all)
		return alias_out0(I);
	int64_t s4[4], r4[4];
	int map[4];
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	int lead = 0; /* leading repeats of 1, which a 4-D view merges */
	while (lead < xr && ident[lead])
		lead++;
	if (xr > 4 && lead < xr - 3)
		return onnx_set_out(I, 0, tile_by_axis(I, x, xr, xs, reps));
	if (view4(I, xr, xs, ident, s4, map))
		return -1;
	for (int j = 0; j < 4; j++)
		r4[j] = map[j] < 0 ? 1 : reps[map[j]];
	int x4 = onnx_reshape(I, x, 4, s4, onnx_tmp_name(I, "in4d"));
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "reps", 4, r4);
	int y = x4 < 0 ? -1 : onnx_apply(I, "tile4", xr == 4 ? out_name(I) : onnx_tmp_name(I, "tile4d"),
	                                  1, &x4, &A);
	return onnx_set_out(I, 0, y < 0 || xr == 4 ? y : onnx_reshape(I, y, xr, out, out_name(I)));
}

static int op_expand(onnx_imp *I)
{
	int64_t xs[MAXR], want[MAXR], out[MAXR];
	int xr = onnx_in_shape(I, 0, xs), n;
	if (xr < 0 || const_ints(I, 1, "the shape input", want, MAXR, &n))
		return -1;
	int r = bcast_shape(xr, xs, n, want, out);
	if (r < 0)
		return onnx_err(I, "the input does not broadcast to the shape");
	if (r == xr && !memcmp(out, xs, sizeof(int64_t) * (size_t)r))
		return alias_out0(I);
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "shape", r, out);
	return onnx_set_out(I, 0, onnx_apply(I, "expand", out_name(I), 1, &x, &A));
}

/* DepthToSpace / SpaceToDepth: reshape, transpose, reshape. */
static int depth_space(onnx_imp *I, int to_space)
{
	int64_t xs[MAXR], b;
	const char *mode = "DCR";
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0 || onnx_attr_int(I, "blocksize", 0, &b) ||
	    (to_space && onnx_attr_string(I, "mode", "DCR", &mode)))
		return -1;
	if (xr != 4 || b < 1)
		return onnx_err(I, "needs a 4-D input and a positive blocksize");
	if (b > 65536) /* then b * b and the products below cannot overflow */
		return onnx_err(I, "blocksize %lld is larger than 65536", (long long)b);
	int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
	int64_t s6[6], perm[6], out[4];
	if (to_space) {
		if (C % (b * b))
			return onnx_err(I, "channels are not a multiple of blocksize^2");
		if (!strcmp(mode, "DCR")) {
			int64_t s[6] = {N, b, b, C / (b * b), H, W}, p[6] = {0, 3, 4, 1, 5, 2};
			memcpy(s6, s, sizeof s6), memcpy(perm, p, sizeof perm);
		} else if (!strcmp(mode, "CRD")) {
			int64_t s[6] = {N, C / (b * b), b, b, H, W}, p[6] = {0, 1, 4, 2, 5, 3};
			memcpy(s6, s, sizeof s6), memcpy(perm, p, sizeof perm);
		} else {
			return onnx_unsup(I, "attribute 'mode' = \"%s\" is not supported", mode);
		}
		int64_t o[4] = {N, C / (b * b), H * b, W * b};
		memcpy(out, o, sizeof out);
	} else {
		if (H % b || W % b)
			return onnx_err(I, "the spatial size is not a multiple of blocksize");
		int64_t s[6] = {N, C, H / b, b, W / b, b}, p[6] = {0, 3, 5, 1, 2, 4};
		memcpy(s6, s, sizeof s6), memcpy(perm, p, sizeof perm);
		int64_t o[4] = {N, C * b * b, H / b, W / b};
		memcpy(out, o, sizeof out);
	}
	int x = onnx_in_value(I, 0);
	int x6 = x < 0 ? -1 : onnx_reshape(I, x, 6, s6, onnx_tmp_name(I, "6d"));
	if (x6 < 0)
		return -1;
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "perm", 6, perm);
	int t = onnx_apply(I, "transpose", onnx_tmp_name(I, "moved"), 1, &x6, &A);
	return onnx_set_out(I, 0, t < 0 ? -1 : onnx_reshape(I, t, 4, out, out_name(I)));
}

static int op_depthtospace(onnx_imp *I) { return depth_space(I, 1); }
static int op_spacetodepth(onnx_imp *I) { return depth_space(I, 0); }

/* Gather of a value with constant indices: slices along the axis,
 * concatenated, then shaped. */
static int gather_value(onnx_imp *I, int ax, const gos_onnx_tensor *idx)
{
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	if (idx->is_float)
		return onnx_err(I, "the indices must be integers");
	if (idx->numel < 1 || idx->numel > 64)
		return onnx_unsup(I, "gathering %lld indices of run-time data is not supported",
		                  (long long)idx->numel);
	int r = xr - 1 + idx->rank;
	if (r > MAXR)
		return onnx_unsup(I, "the result would have rank %d", r);
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	/* indices in an arithmetic progression are one slice */
	int64_t first = idx->i[0] < 0 ? idx->i[0] + xs[ax] : idx->i[0], step = 1;
	int progression = 1;
	for (int64_t q = 0; q < idx->numel; q++) {
		int64_t g = idx->i[q] < 0 ? idx->i[q] + xs[ax] : idx->i[q];
		if (g < 0 || g >= xs[ax])
			return onnx_err(I, "index %lld is out of range", (long long)idx->i[q]);
		if (q == 1)
			step = g - first;
		if (q >= 1 && (step == 0 || g != first + q * step))
			progression = 0;
	}
	int64_t st[MAXR], stp[MAXR], out[MAXR];
	for (int j = 0; j < xr; j++)
		st[j] = 0, stp[j] = 1, out[j] = xs[j];
	int y;
	if (progression) {
		st[ax] = first;
		stp[ax] = step;
		out[ax] = idx->numel;
		y = emit_slice(I, x, st, stp, out, onnx_tmp_name(I, "gathered"));
	} else {
		y = -1;
		out[ax] = 1;
		for (int64_t q = 0; q < idx->numel; q++) {
			st[ax] = idx->i[q] < 0 ? idx->i[q] + xs[ax] : idx->i[q];
			int p = emit_slice(I, x, st, stp, out,
			                   onnx_tmp_name(I, gos_arena_printf(I->a, "index%lld", (long long)q)));
			if (p < 0)
				return -1;
			if (y < 0) {
				y = p;
				continue;
			}
			onnx_attrs A = {0};
			onnx_attrs_num(&A, "axis", ax);
			int in[2] = {y, p};
			y = onnx_apply(I, "concat", onnx_tmp_name(I, gos_arena_printf(I->a, "gather%lld",
			                                                               (long long)q)),
			               2, in, &A);
		}
	}
	if (y < 0)
		return -1;
	int64_t shape[MAXR];
	int k = 0;
	for (int j = 0; j < ax; j++)
		shape[k++] = xs[j];
	for (int j = 0; j < idx->rank; j++)
		shape[k++] = idx->shape[j];
	for (int j = ax + 1; j < xr; j++)
		shape[k++] = xs[j];
	y = onnx_reshape(I, y, r, shape, out_name(I));
	return y == x ? alias_out0(I) : onnx_set_out(I, 0, y);
}

/* The simplest fraction num / den within 1e-7 (relative) of v > 0, den
 * at most 2^20 (continued fractions): a float scale such as 1.4f is 7/5.
 * Returns 0, or -1 when there is none. */
static int rational(double v, int64_t *num, int64_t *den)
{
	int64_t h0 = 0, h1 = 1, k0 = 1, k1 = 0;
	double x = v;
	for (int it = 0; it < 40; it++) {
		double fl = floor(x);
		if (fl > 1e12)
			return -1;
		int64_t q = (int64_t)fl;
		int64_t h2 = q * h1 + h0, k2 = q * k1 + k0;
		if (k2 > (1 << 20))
			break;
		h0 = h1, h1 = h2, k0 = k1, k1 = k2;
		if (fabs((double)h1 / (double)k1 - v) <= 1e-7 * v || x - fl < 1e-12)
			break;
		x = 1.0 / (x - fl);
	}
	if (k1 < 1 || h1 < 1 || fabs((double)h1 / (double)k1 - v) > 1e-6 * v)
		return -1;
	*num = h1;
	*den = k1;
	return 0;
}

static int64_t gcd64(int64_t a, int64_t b)
{
	a = a < 0 ? -a : a;
	b = b < 0 ? -b : b;
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* The source coordinate x = (*a * p + *b) / *d of destination index p
 * along an axis of `in` elements resized to `out` at scale sn / sd, for
 * ONNX's coordinate_transformation_mode ctm. Returns 0, or 1 when ctm is
 * not supported. */
static int resize_coord(const char *ctm, int64_t in, int64_t out, int64_t sn, int64_t sd,
                        int64_t *a, int64_t *b, int64_t *d)
{
	if (!strcmp(ctm, "half_pixel") || (!strcmp(ctm, "pytorch_half_pixel") && out > 1)) {
		*a = 2 * sd, *b = sd - sn, *d = 2 * sn; /* (p + 1/2) / s - 1/2 */
	} else if (!strcmp(ctm, "pytorch_half_pixel") ||
	           (!strcmp(ctm, "align_corners") && out == 1)) {
		*a = 0, *b = 0, *d = 1;
	} else if (!strcmp(ctm, "align_corners")) {
		*a = in - 1, *b = 0, *d = out - 1; /* p (in - 1) / (out - 1) */
	} else if (!strcmp(ctm, "asymmetric")) {
		*a = sd, *b = 0, *d = sn; /* p / s */
	} else if (!strcmp(ctm, "tf_half_pixel_for_nn")) {
		*a = 2 * sd, *b = sd, *d = 2 * sn; /* (p + 1/2) / s */
	} else if (!strcmp(ctm, "half_pixel_symmetric")) {
		/* half_pixel shifted by in/2 (1 - out / (in s)) */
		*a = 2 * sd, *b = in * sn - out * sd + sd - sn, *d = 2 * sn;
	} else {
		return 1;
	}
	int64_t g = gcd64(gcd64(*a, *b), *d);
	if (g > 1)
		*a /= g, *b /= g, *d /= g;
	return 0;
}

/* Resize (opset 10+) and Upsample (7..9): modes nearest (every
 * nearest_mode) and linear, every coordinate_transformation_mode but
 * tf_crop_and_resize, scales or sizes (and axes and keep_aspect_ratio_policy,
 * opset 18), one axis at a
 * time (linear is separable). Whole factors where the source index is
 * floor(dest / factor) take upsample4. */
static int resize(onnx_imp *I, int upsample)
{
	int64_t xs[MAXR];
	int xr = onnx_in_shape(I, 0, xs);
	if (xr < 0)
		return -1;
	const char *mode, *ctm = "asymmetric", *nearest = "floor", *policy = "stretch";
	if (onnx_attr_string(I, "mode", "nearest", &mode))
		return -1;
	double scales[MAXR];
	int n = -1;
	int64_t sizes[MAXR], axes[MAXR], antialias = 0;
	int ns = -1, na = -1;
	if (upsample && I->opset < 9) {
		const Onnx__AttributeProto *a = onnx_attr(I, "scales");
		if (!a || a->n_floats > MAXR)
			return onnx_err(I, "attribute 'scales' is required");
		n = (int)a->n_floats;
		for (int k = 0; k < n; k++)
			scales[k] = a->floats[k];
	} else {
		if (!upsample && I->opset >= 11) {
			double cubic, extra;
			int64_t excl;
			if (onnx_attr_string(I, "coordinate_transformation_mode", "half_pixel", &ctm) ||
			    onnx_attr_string(I, "nearest_mode", "round_prefer_floor", &nearest) ||
			    onnx_attr_float(I, "cubic_coeff_a", -0.75, &cubic) ||
			    onnx_attr_int(I, "exclude_outside", 0, &excl) ||
			    onnx_attr_float(I, "extrapolation_value", 0.0, &extra) ||
			    onnx_attr_int(I, "antialias", 0, &antialias) ||
			    onnx_attr_string(I, "keep_aspect_ratio_policy", "stretch", &policy))
				return -1;
			if (onnx_attr(I, "axes") && onnx_attr_ints(I, "axes", axes, MAXR, &na))
				return -1;
		} else if (!upsample) {
			nearest = "round_prefer_floor"; /* opset 10: asymmetric, round */
		}
		int si = !upsample && I->opset >= 11 ? 2 : 1;
		gos_onnx_tensor *c = NULL;
		if (onnx_has_in(I, si) && !(c = onnx_in_const(I, si, "the scales input")))
			return -1;
		if (c && c->numel > 0) {
			if (c->numel > MAXR)
				return onnx_err(I, "too many scales");
			n = (int)c->numel;
			for (int k = 0; k < n; k++)
				scales[k] = c->is_float ? c->f[k] : (double)c->i[k];
		} else if (!upsample && I->opset >= 11 && onnx_has_in(I, 3)) {
			if (const_ints(I, 3, "the sizes input", sizes, MAXR, &ns))
				return -1;
		}
	}
	int lin = !strcmp(mode, "linear") || !strcmp(mode, "bilinear");
	if (!lin && strcmp(mode, "nearest"))
		return onnx_unsup(I, "attribute 'mode' = \"%s\" is not supported (only \"nearest\" "
		                  "and \"linear\")", mode);
	if (antialias && lin)
		return onnx_unsup(I, "antialias = 1 is not supported");
	int not_larger = !strcmp(policy, "not_larger"), not_smaller = !strcmp(policy, "not_smaller");
	if (!not_larger && !not_smaller && strcmp(policy, "stretch"))
		return onnx_err(I, "keep_aspect_ratio_policy \"%s\" is not one of \"stretch\", "
		                "\"not_larger\", \"not_smaller\"", policy);
	/* with axes (opset 18), scales and sizes name those axes only */
	int want = na >= 0 ? na : xr;
	if ((n >= 0 && n != want) || (ns >= 0 && ns != want) || (n < 0 && ns < 0))
		return onnx_err(I, "needs one scale or size per %s", na >= 0 ? "axis in 'axes'"
		                                                             : "dimension");
	double sc[MAXR];
	int64_t sz[MAXR];
	int given[MAXR] = {0};
	for (int k = 0; k < xr; k++)
		sc[k] = 1, sz[k] = xs[k];
	for (int j = 0; j < want; j++) {
		int64_t ax = na >= 0 ? axes[j] : j;
		if (ax < 0)
			ax += xr;
		if (ax < 0 || ax >= xr || given[ax])
			return onnx_err(I, "axis %lld of 'axes' is out of range or repeated",
			                (long long)(na >= 0 ? axes[j] : j));
		given[ax] = 1;
		if (ns >= 0)
			sz[ax] = sizes[j];
		else
			sc[ax] = scales[j];
	}
	/* keep_aspect_ratio_policy (opset 18, with sizes): one scale for the
	 * given axes, the least (not_larger) or greatest (not_smaller) of
	 * size / input, and each size round(scale * input) */
	int64_t pn = 0, pd = 1;
	for (int k = 0; ns >= 0 && (not_larger || not_smaller) && k < xr; k++) {
		if (!given[k] || sz[k] < 1)
			continue;
		/* sz/xs against pn/pd, as integers (sizes and shapes are far below 2^31) */
		int64_t l = sz[k] * pd, r = pn * xs[k];
		if (!pn || (not_larger ? l < r : l > r))
			pn = sz[k], pd = xs[k];
	}
	int64_t out[MAXR], sn[MAXR], sd[MAXR];
	for (int k = 0; k < xr; k++) {
		if (ns >= 0 && pn && given[k]) {
			out[k] = (2 * pn * xs[k] + pd) / (2 * pd); /* round half up */
			sn[k] = pn, sd[k] = pd;
			if (out[k] < 1)
				return onnx_err(I, "keep_aspect_ratio_policy makes dimension %d empty", k);
		} else if (ns >= 0) {
			if (sz[k] < 1)
				return onnx_err(I, "size %lld of dimension %d must be at least 1",
				                (long long)sz[k], k);
			out[k] = sz[k], sn[k] = sz[k], sd[k] = xs[k];
		} else {
			if (!(sc[k] > 0) || rational(sc[k], &sn[k], &sd[k]))
				return onnx_err(I, "scale %g of dimension %d is not a positive ratio", sc[k],
				                k);
			out[k] = xs[k] * sn[k] / sd[k];
			if (out[k] < 1)
				return onnx_err(I, "scale %g makes dimension %d empty", sc[k], k);
		}
		int64_t g = gcd64(sn[k], sd[k]);
		sn[k] /= g, sd[k] /= g;
	}
	/* the source coordinate of each axis; identity where x = p */
	int64_t ca[MAXR], cb[MAXR], cd[MAXR];
	int ident[MAXR], all_ident = 1, whole = !lin;
	for (int k = 0; k < xr; k++) {
		if (resize_coord(ctm, xs[k], out[k], sn[k], sd[k], &ca[k], &cb[k], &cd[k]))
			return onnx_unsup(I, "coordinate_transformation_mode \"%s\" is not supported", ctm);
		/* scale 1 is the identity in every mode, as in ONNX Runtime (the
		 * definition would shift tf_half_pixel_for_nn's ceil by one) */
		ident[k] = out[k] == xs[k] && (sn[k] == sd[k] || (ca[k] == cd[k] && cb[k] == 0));
		all_ident &= ident[k];
		/* nearest by a whole factor f where every mode gives floor(p / f) */
		int64_t f = sd[k] == 1 ? sn[k] : 0;
		int half = !strcmp(ctm, "half_pixel") || !strcmp(ctm, "pytorch_half_pixel") ||
		           !strcmp(ctm, "half_pixel_symmetric");
		int round = !strcmp(nearest, "round_prefer_floor") ||
		            !strcmp(nearest, "round_prefer_ceil");
		if (!ident[k] && !(f >= 1 && out[k] == xs[k] * f &&
		                   ((!strcmp(ctm, "asymmetric") && !strcmp(nearest, "floor")) ||
		                    (!strcmp(ctm, "asymmetric") && round && f <= 2 &&
		                     !strcmp(nearest, "round_prefer_floor")) ||
		                    (half && round))))
			whole = 0;
	}
	int x = onnx_in_value(I, 0);
	if (x < 0)
		return -1;
	if (all_ident)
		return alias_out0(I);
	if (whole && xr <= 4) {
		int64_t s4[4], f4[4];
		int map[4];
		if (view4(I, xr, xs, ident, s4, map))
			return -1;
		for (int j = 0; j < 4; j++)
			f4[j] = map[j] < 0 ? 1 : out[map[j]] / xs[map[j]];
		int x4 = onnx_reshape(I, x, 4, s4, onnx_tmp_name(I, "in4d"));
		onnx_attrs A = {0};
		onnx_attrs_int(&A, "factor", 4, f4);
		int y = x4 < 0 ? -1 : onnx_apply(I, "upsample4", xr == 4 ? out_name(I)
		                                                 : onnx_tmp_name(I, "up4d"), 1, &x4, &A);
		return onnx_set_out(I, 0, y < 0 || xr == 4 ? y : onnx_reshape(I, y, xr, out, out_name(I)));
	}
	/* one axis at a time, the last resized one writing the output */
	int last = -1;
	for (int k = 0; k < xr; k++)
		if (!ident[k])
			last = k;
	int y = x;
	for (int k = 0; k < xr && y >= 0; k++) {
		if (ident[k])
			continue;
		int64_t a = ca[k], b = cb[k], d = cd[k];
		if (!lin) { /* the rounding folded into the offset: floor((a p + b') / d') */
			if (!strcmp(nearest, "ceil"))
				b = b + d - 1;
			else if (!strcmp(nearest, "round_prefer_floor"))
				a = 2 * a, b = 2 * b + d - 1, d = 2 * d;
			else if (!strcmp(nearest, "round_prefer_ceil"))
				a = 2 * a, b = 2 * b + d, d = 2 * d;
			else if (strcmp(nearest, "floor"))
				return onnx_unsup(I, "nearest_mode \"%s\" is not supported", nearest);
		}
		if ((a > 0 && out[k] > INT64_MAX / 4 / a) || d > INT64_MAX / 4)
			return onnx_unsup(I, "the scale of dimension %d is too fine", k);
		onnx_attrs A = {0};
		int64_t ax = k;
		onnx_attrs_int(&A, "axis", 1, &ax);
		onnx_attrs_int(&A, "out", 1, &out[k]);
		onnx_attrs_int(&A, "a", 1, &a);
		onnx_attrs_int(&A, lin ? "b" : "c", 1, &b);
		onnx_attrs_int(&A, "d", 1, &d);
		y = onnx_apply(I, lin ? "resize_linear" : "resize_nearest",
		               k == last ? out_name(I) : onnx_tmp_name(I, "resized"), 1, &y, &A);
	}
	return onnx_set_out(I, 0, y);
}

static int op_resize(onnx_imp *I) { return resize(I, 0); }
static int op_upsample(onnx_imp *I) { return resize(I, 1); }

/* ---- the table --------------------------------------------------------- */

static const struct {
	const char *name;
	onnx_op_fn fn;
} op_table[] = {
	{"Abs", op_abs},
	{"Add", op_add},
	{"AveragePool", op_avgpool},
	{"BatchNormalization", op_batchnorm},
	{"Cast", op_cast},
	{"CastLike", op_castlike},
	{"Ceil", op_ceil},
	{"Celu", op_celu},
	{"Clip", op_clip},
	{"Concat", op_concat},
	{"Constant", op_constant},
	{"ConstantOfShape", op_constantofshape},
	{"Conv", op_conv},
	{"ConvTranspose", op_convtranspose},
	{"DepthToSpace", op_depthtospace},
	{"Div", op_div},
	{"Dropout", op_dropout},
	{"Elu", op_elu},
	{"Erf", op_erf},
	{"Exp", op_exp},
	{"Expand", op_expand},
	{"Flatten", op_flatten},
	{"Floor", op_floor},
	{"Gather", op_gather},
	{"Gemm", op_gemm},
	{"GlobalAveragePool", op_globalavgpool},
	{"GlobalMaxPool", op_globalmaxpool},
	{"HardSigmoid", op_hardsigmoid},
	{"HardSwish", op_hardswish},
	{"Identity", op_identity},
	{"InstanceNormalization", op_instancenorm},
	{"LRN", op_lrn},
	{"LayerNormalization", op_layernorm},
	{"LeakyRelu", op_leakyrelu},
	{"Log", op_log},
	{"LogSoftmax", op_logsoftmax},
	{"MatMul", op_matmul},
	{"Max", op_max},
	{"MaxPool", op_maxpool},
	{"Mean", op_mean},
	{"Min", op_min},
	{"Mul", op_mul},
	{"Neg", op_neg},
	{"PRelu", op_prelu},
	{"Pad", op_pad},
	{"Pow", op_pow},
	{"Range", op_range},
	{"Reciprocal", op_reciprocal},
	{"ReduceL1", op_reducel1},
	{"ReduceL2", op_reducel2},
	{"ReduceLogSum", op_reducelogsum},
	{"ReduceLogSumExp", op_reducelogsumexp},
	{"ReduceMax", op_reducemax},
	{"ReduceMean", op_reducemean},
	{"ReduceMin", op_reducemin},
	{"ReduceSum", op_reducesum},
	{"ReduceSumSquare", op_reducesumsquare},
	{"Relu", op_relu},
	{"Reshape", op_reshape},
	{"Resize", op_resize},
	{"Selu", op_selu},
	{"Shape", op_shape},
	{"Shrink", op_shrink},
	{"Sigmoid", op_sigmoid},
	{"Sign", op_sign},
	{"Size", op_size},
	{"Slice", op_slice},
	{"Softmax", op_softmax},
	{"Softplus", op_softplus},
	{"Softsign", op_softsign},
	{"SpaceToDepth", op_spacetodepth},
	{"Split", op_split},
	{"Sqrt", op_sqrt},
	{"Squeeze", op_squeeze},
	{"Sub", op_sub},
	{"Sum", op_sum},
	{"Tanh", op_tanh},
	{"ThresholdedRelu", op_thresholdedrelu},
	{"Tile", op_tile},
	{"Transpose", op_transpose},
	{"Unsqueeze", op_unsqueeze},
	{"Upsample", op_upsample},
};

onnx_op_fn onnx_find_op(const char *op)
{
	for (size_t k = 0; k < sizeof op_table / sizeof *op_table; k++)
		if (!strcmp(op_table[k].name, op))
			return op_table[k].fn;
	return NULL;
}

#endif
