/* verify.c -- checks the invariants of ir.h (listed in docs/ir.md,
 * "Invariants"). Never trusts the module: every index is range-checked
 * before use, index pools are checked for cycles before they are walked,
 * and nothing recurses on the module's data. */
#include "ir/ir.h"
#include "support/alloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct V {
	const gos_module *m;
	gos_diags *d;  /* may be NULL: only count */
	int errors;
	/* per node */
	const gos_node *n;
	int ni;
	/* per statement */
	int si;
} V;

/* Adds an error at loc; prefixes "node 'X' stmt S: " when inside one. */
static void err(V *v, gos_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err(V *v, gos_loc loc, const char *fmt, ...)
{
	v->errors++;
	if (!v->d)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len);
	if (f) {
		if (v->n) {
			fprintf(f, "node '%s'", v->n->name ? v->n->name : "?");
			if (v->n->op)
				fprintf(f, " (%s)", v->n->op);
			if (v->si >= 0) {
				fprintf(f, " stmt %d", v->si);
				const gos_stmt *s = &v->n->stmts[v->si];
				if (s->dst >= 0 && s->dst < v->n->n_buf && v->n->bufs[s->dst].name)
					fprintf(f, " (writes '%s')", v->n->bufs[s->dst].name);
			}
			fputs(": ", f);
		}
		vfprintf(f, fmt, ap);
		fclose(f);
	}
	va_end(ap);
	gos_error(v->d, loc, "%s", msg ? msg : "(out of memory)");
	free(msg);
}

/* s, or "?" for a missing name. */
static const char *nm(const char *s)
{
	return s ? s : "?";
}

/* Location for errors about the current node. */
static gos_loc nloc(V *v)
{
	return v->n ? v->n->loc : (gos_loc){0};
}

/* ---- names ------------------------------------------------------------- */

typedef struct name_idx {
	const char *s;
	int i;
} name_idx;

static int cmp_name_idx(const void *pa, const void *pb)
{
	const name_idx *a = pa, *b = pb;
	int r = strcmp(a->s, b->s);
	return r ? r : (a->i > b->i) - (a->i < b->i);
}

/* Reports names[i] equal to an earlier names[j] (NULL names skipped). */
static void check_unique(V *v, int n, const char *const *names,
                         const gos_loc *locs, size_t loc_stride,
                         const char *what)
{
	name_idx *t = gos_malloc(sizeof *t * (size_t)(n + 1));
	if (!t) {
		err(v, (gos_loc){0}, "out of memory");
		return;
	}
	int k = 0;
	for (int i = 0; i < n; i++)
		if (names[i])
			t[k++] = (name_idx){names[i], i};
	qsort(t, (size_t)k, sizeof *t, cmp_name_idx);
	for (int i = 1; i < k; i++)
		if (strcmp(t[i].s, t[i - 1].s) == 0) {
			int first = i - 1;
			while (first > 0 && strcmp(t[first - 1].s, t[i].s) == 0)
				first--;
			const gos_loc *l = (const gos_loc *)((const char *)locs + loc_stride * (size_t)t[i].i);
			err(v, *l, "%s '%s' (number %d) has the same name as %s number %d",
			    what, t[i].s, t[i].i, what, t[first].i);
		}
	free(t);
}

/* ---- values -------------------------------------------------------------- */

/* Checks rank and dims; returns 0 if the shape is usable. */
static int check_shape(V *v, gos_loc loc, const char *what, const char *name,
                       int rank, const int64_t *shape)
{
	if (rank < 0 || rank > GOS_MAX_RANK) {
		err(v, loc, "%s '%s' has rank %d (must be 0..%d)", what, name, rank,
		    GOS_MAX_RANK);
		return -1;
	}
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (shape[i] < 1) {
			err(v, loc, "%s '%s' has dimension %d of size %" PRId64 " (must be >= 1)",
			    what, name, i, shape[i]);
			return -1;
		}
		if (__builtin_mul_overflow(n, shape[i], &n)) {
			err(v, loc, "%s '%s' has more than 2^63 elements", what, name);
			return -1;
		}
	}
	return 0;
}

static void check_value(V *v, int i)
{
	const gos_module *m = v->m;
	const gos_value *val = &m->vals[i];
	const char *name = val->name ? val->name : "?";
	if (!val->name)
		err(v, val->loc, "value %d has no name", i);
	if ((int)val->kind < GOS_VAL_INPUT || val->kind > GOS_VAL_TEMP)
		err(v, val->loc, "value '%s' has an unknown kind %d", name, (int)val->kind);
	if ((int)val->dtype < GOS_F32 || val->dtype > GOS_I64)
		err(v, val->loc, "value '%s' has an unknown dtype %d", name, (int)val->dtype);
	check_shape(v, val->loc, "value", name, val->rank, val->shape);
	if (val->kind != GOS_VAL_WEIGHT) {
		if (val->init != GOS_INIT_NONE)
			err(v, val->loc, "value '%s' is not a weight but has an initialiser", name);
		return;
	}
	switch (val->init) {
	case GOS_INIT_NONE:
		err(v, val->loc, "weight '%s' has no initialiser", name);
		break;
	case GOS_INIT_UNIFORM:
		if (!isfinite(val->lo) || !isfinite(val->hi) || val->lo > val->hi)
			err(v, val->loc, "weight '%s': uniform(%g, %g) needs finite bounds lo <= hi",
			    name, val->lo, val->hi);
		break;
	case GOS_INIT_NORMAL:
		if (!isfinite(val->lo) || !isfinite(val->hi) || val->hi < 0)
			err(v, val->loc, "weight '%s': normal(%g, %g) needs a finite mean and stddev >= 0",
			    name, val->lo, val->hi);
		break;
	case GOS_INIT_FILL:
		break;
	case GOS_INIT_FILE:
		if (!m->weights_file)
			err(v, val->loc, "weight '%s' comes from the weights file but the module names none",
			    name);
		break;
	case GOS_INIT_DATA:
		if (!val->data)
			err(v, val->loc, "weight '%s' has inline data init but no data", name);
		break;
	default:
		err(v, val->loc, "weight '%s' has an unknown init kind %d", name, (int)val->init);
	}
}

/* ---- index expressions ------------------------------------------------- */

/* An interval of int64 values; ovf: some value does not fit 64 bits. */
typedef struct ival {
	int64_t lo, hi;
	int ovf;
} ival;

static int64_t floordiv(int64_t a, int64_t k) /* k > 0 */
{
	int64_t q = a / k;
	return (a % k != 0 && a < 0) ? q - 1 : q;
}

static int64_t floormod(int64_t a, int64_t k) /* k > 0 */
{
	int64_t r = a % k;
	return r < 0 ? r + k : r;
}

static ival iv_mul(ival a, ival b)
{
	ival r = {0, 0, a.ovf || b.ovf};
	int64_t p[4];
	if (__builtin_mul_overflow(a.lo, b.lo, &p[0]) ||
	    __builtin_mul_overflow(a.lo, b.hi, &p[1]) ||
	    __builtin_mul_overflow(a.hi, b.lo, &p[2]) ||
	    __builtin_mul_overflow(a.hi, b.hi, &p[3])) {
		r.ovf = 1;
		return r;
	}
	r.lo = r.hi = p[0];
	for (int i = 1; i < 4; i++) {
		if (p[i] < r.lo)
			r.lo = p[i];
		if (p[i] > r.hi)
			r.hi = p[i];
	}
	return r;
}

/* Interval of x given the intervals of its operands (already computed). */
static ival iv_eval(const gos_ix *x, const ival *iv, const ival *var)
{
	ival r = {0, 0, 0};
	ival a = {0, 0, 0}, b = {0, 0, 0};
	if (x->op >= GOS_IX_ADD) {
		a = iv[x->a];
		if (x->op != GOS_IX_DIV && x->op != GOS_IX_MOD)
			b = iv[x->b];
	}
	r.ovf = a.ovf || b.ovf;
	switch (x->op) {
	case GOS_IX_CONST:
		r.lo = r.hi = x->k;
		break;
	case GOS_IX_VAR:
		r = var[x->k];
		break;
	case GOS_IX_ADD:
		if (__builtin_add_overflow(a.lo, b.lo, &r.lo) ||
		    __builtin_add_overflow(a.hi, b.hi, &r.hi))
			r.ovf = 1;
		break;
	case GOS_IX_SUB:
		if (__builtin_sub_overflow(a.lo, b.hi, &r.lo) ||
		    __builtin_sub_overflow(a.hi, b.lo, &r.hi))
			r.ovf = 1;
		break;
	case GOS_IX_MUL:
		r = iv_mul(a, b);
		break;
	case GOS_IX_DIV:
		r.lo = floordiv(a.lo, x->k);
		r.hi = floordiv(a.hi, x->k);
		break;
	case GOS_IX_MOD:
		if (floordiv(a.lo, x->k) == floordiv(a.hi, x->k)) {
			r.lo = floormod(a.lo, x->k);
			r.hi = floormod(a.hi, x->k);
		} else {
			r.lo = 0;
			r.hi = x->k - 1;
		}
		break;
	case GOS_IX_MIN:
		r.lo = a.lo < b.lo ? a.lo : b.lo;
		r.hi = a.hi < b.hi ? a.hi : b.hi;
		break;
	case GOS_IX_MAX:
		r.lo = a.lo > b.lo ? a.lo : b.lo;
		r.hi = a.hi > b.hi ? a.hi : b.hi;
		break;
	default:
		break;
	}
	return r;
}

/* Checks the operands of every index node and that the pool has no
 * cycle; fills order[] with a children-first order. Returns 0 if the pool
 * can be walked. */
static int check_ix_pool(V *v, const gos_stmt *s, int nvars, int *order)
{
	int bad = 0;
	for (int i = 0; i < s->n_ix; i++) {
		const gos_ix *x = &s->ix[i];
		if ((int)x->op < 0 || x->op >= GOS_IX_NOPS) {
			err(v, nloc(v), "index node %d has an unknown opcode %d", i, (int)x->op);
			bad = 1;
			continue;
		}
		int two = x->op != GOS_IX_DIV && x->op != GOS_IX_MOD;
		if (x->op >= GOS_IX_ADD &&
		    (x->a < 0 || x->a >= s->n_ix || (two && (x->b < 0 || x->b >= s->n_ix)))) {
			err(v, nloc(v), "index node %d (%s) has an operand out of range (a=%d, b=%d, %d nodes)",
			    i, x->op == GOS_IX_ADD ? "add" : x->op == GOS_IX_SUB ? "sub"
			       : x->op == GOS_IX_MUL ? "mul" : x->op == GOS_IX_DIV ? "div"
			       : x->op == GOS_IX_MOD ? "mod" : x->op == GOS_IX_MIN ? "min" : "max",
			    x->a, x->b, s->n_ix);
			bad = 1;
		}
		if (x->op == GOS_IX_VAR && (x->k < 0 || x->k >= nvars)) {
			err(v, nloc(v), "index node %d reads variable %" PRId64
			    " but the statement has %d variables", i, x->k, nvars);
			bad = 1;
		}
		if ((x->op == GOS_IX_DIV || x->op == GOS_IX_MOD) && x->k <= 0) {
			err(v, nloc(v), "index node %d: %s by %" PRId64 " (the divisor must be > 0)",
			    i, x->op == GOS_IX_DIV ? "division" : "modulo", x->k);
			bad = 1;
		}
	}
	if (bad)
		return -1;
	/* iterative depth-first search: 0 new, 1 on the stack, 2 done */
	unsigned char *state = gos_calloc((size_t)s->n_ix + 1, 1);
	int *stack = gos_malloc(sizeof *stack * ((size_t)s->n_ix + 1));
	int *opnd = gos_malloc(sizeof *opnd * ((size_t)s->n_ix + 1));
	if (!state || !stack || !opnd) {
		free(state);
		free(stack);
		free(opnd);
		err(v, nloc(v), "out of memory");
		return -1;
	}
	int no = 0;
	for (int root = 0; root < s->n_ix && !bad; root++) {
		if (state[root])
			continue;
		int sp = 0;
		stack[sp] = root;
		opnd[sp++] = 0;
		state[root] = 1;
		while (sp > 0 && !bad) {
			int i = stack[sp - 1];
			const gos_ix *x = &s->ix[i];
			int nops = x->op < GOS_IX_ADD ? 0
			         : (x->op == GOS_IX_DIV || x->op == GOS_IX_MOD) ? 1 : 2;
			if (opnd[sp - 1] < nops) {
				int c = opnd[sp - 1]++ == 0 ? x->a : x->b;
				if (state[c] == 1) {
					err(v, nloc(v), "index node %d is its own operand (a cycle through node %d)",
					    c, i);
					bad = 1;
				} else if (state[c] == 0) {
					state[c] = 1;
					stack[sp] = c;
					opnd[sp++] = 0;
				}
			} else {
				state[i] = 2;
				order[no++] = i;
				sp--;
			}
		}
	}
	free(state);
	free(stack);
	free(opnd);
	return bad ? -1 : 0;
}

/* Index expression `root` as text (malloc'd; caller frees). */
static char *ix_text(const gos_node *n, const gos_stmt *s, int root)
{
	char *t = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&t, &len);
	if (!f)
		return NULL;
	gos_ir_print_ix(f, n, s, root);
	fclose(f);
	return t;
}

/* ---- statements ------------------------------------------------------ */

/* True if load `in` reads exactly the element the statement writes. */
static int same_element(const gos_stmt *s, const gos_ins *in)
{
	for (int d = 0; d < in->nidx; d++) {
		const gos_ix *x = &s->ix[in->idx[d]];
		if (x->op != GOS_IX_VAR || x->k != d)
			return 0;
	}
	return 1;
}

/* Checks instruction i; returns 0 if its operands are usable. */
static int check_ins(V *v, const gos_stmt *s, int i, const unsigned char *written)
{
	const gos_node *n = v->n;
	const gos_ins *in = &s->ins[i];
	if ((int)in->op < 0 || in->op >= GOS_NOPS) {
		err(v, nloc(v), "instruction %%%d has an unknown opcode %d", i, (int)in->op);
		return -1;
	}
	const char *name = gos_opinfo_tab[in->op].name;
	int bad = 0;
	for (int a = 0; a < gos_opinfo_tab[in->op].arity; a++)
		if (in->arg[a] < 0 || in->arg[a] >= i) {
			err(v, nloc(v), "instruction %%%d (%s): operand %d is %%%d, which is not an earlier instruction",
			    i, name, a + 1, in->arg[a]);
			bad = 1;
		}
	if (in->op != GOS_OP_LOAD && in->op != GOS_OP_INDEX)
		return bad ? -1 : 0;
	if (in->nidx > 0 && !in->idx) {
		err(v, nloc(v), "instruction %%%d (%s) has %d indices but no index array",
		    i, name, in->nidx);
		return -1;
	}
	for (int j = 0; j < in->nidx; j++)
		if (in->idx[j] < 0 || in->idx[j] >= s->n_ix) {
			err(v, nloc(v), "instruction %%%d (%s): index %d names index node %d of %d",
			    i, name, j, in->idx[j], s->n_ix);
			bad = 1;
		}
	if (in->op == GOS_OP_INDEX) {
		if (in->nidx != 1) {
			err(v, nloc(v), "instruction %%%d (index) has %d index expressions (must be 1)",
			    i, in->nidx);
			bad = 1;
		}
		return bad ? -1 : 0;
	}
	if (in->buf < 0 || in->buf >= n->n_buf) {
		err(v, nloc(v), "instruction %%%d (load) reads buffer %d but the node has %d",
		    i, in->buf, n->n_buf);
		return -1;
	}
	const gos_buf *b = &n->bufs[in->buf];
	const char *bn = b->name ? b->name : "?";
	if (in->nidx != b->rank) {
		err(v, nloc(v), "instruction %%%d loads '%s' with %d indices but its rank is %d",
		    i, bn, in->nidx, b->rank);
		bad = 1;
	}
	if (in->buf >= n->n_in && written && !written[in->buf]) {
		if (in->buf == s->dst)
			err(v, nloc(v), "instruction %%%d reads '%s', which this statement writes and no earlier one did",
			    i, bn);
		else
			err(v, nloc(v), "instruction %%%d reads '%s' before any statement writes it",
			    i, bn);
		bad = 1;
	} else if (in->buf == s->dst && !bad && !same_element(s, in)) {
		err(v, nloc(v), "instruction %%%d reads '%s', which this statement writes, at another element (only %s[%s] itself may be read)",
		    i, bn, bn, b->rank ? "i0, i1, ..." : "");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Interval analysis: every index expression fits 64 bits and every load
 * without padding stays inside its buffer. */
static void check_bounds(V *v, const gos_stmt *s, int rank, const int *order)
{
	const gos_node *n = v->n;
	int nvars = rank + s->n_red;
	ival var[GOS_MAX_VARS];
	for (int d = 0; d < nvars; d++)
		var[d] = (ival){0, (d < rank ? n->bufs[s->dst].shape[d]
		                             : s->red_extent[d - rank]) - 1, 0};
	ival *iv = gos_calloc((size_t)s->n_ix + 1, sizeof *iv);
	if (!iv) {
		err(v, nloc(v), "out of memory");
		return;
	}
	for (int j = 0; j < s->n_ix; j++)
		iv[order[j]] = iv_eval(&s->ix[order[j]], iv, var);
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *in = &s->ins[i];
		if (in->op != GOS_OP_LOAD && in->op != GOS_OP_INDEX)
			continue;
		for (int j = 0; j < in->nidx; j++) {
			ival r = iv[in->idx[j]];
			if (r.ovf) {
				char *t = ix_text(n, s, in->idx[j]);
				err(v, nloc(v), "instruction %%%d (%s): index expression `%s` overflows 64-bit integers",
				    i, gos_opinfo_tab[in->op].name, t ? t : "?");
				free(t);
				continue;
			}
			if (in->op != GOS_OP_LOAD || in->has_pad)
				continue;
			const gos_buf *b = &n->bufs[in->buf];
			if (r.lo >= 0 && r.hi < b->shape[j])
				continue;
			char *t = ix_text(n, s, in->idx[j]);
			err(v, nloc(v), "instruction %%%d loads '%s' out of bounds: dimension %d index `%s` ranges over [%" PRId64
			    ", %" PRId64 "] but the dimension has size %" PRId64
			    " (pad the load with 'else' or clamp the index)",
			    i, b->name ? b->name : "?", j, t ? t : "?", r.lo, r.hi, b->shape[j]);
			free(t);
		}
	}
	free(iv);
}

static void check_stmt(V *v, const gos_stmt *s, unsigned char *written)
{
	const gos_node *n = v->n;
	if (s->dst < 0 || s->dst >= n->n_buf) {
		err(v, nloc(v), "writes buffer %d but the node has %d buffers", s->dst, n->n_buf);
		return;
	}
	const gos_buf *dst = &n->bufs[s->dst];
	int ok = 1;
	if (s->dst < n->n_in) {
		err(v, nloc(v), "writes '%s', an input of the node", dst->name ? dst->name : "?");
		ok = 0;
	}
	if ((int)s->red < GOS_RED_NONE || s->red > GOS_RED_MIN) {
		err(v, nloc(v), "unknown reduction kind %d", (int)s->red);
		ok = 0;
	}
	if (s->n_red < 0 || (s->red == GOS_RED_NONE && s->n_red != 0)) {
		err(v, nloc(v), "has %d reduction variables%s", s->n_red,
		    s->red == GOS_RED_NONE ? " but no reduction (none needs 0)" : "");
		return;
	}
	if (dst->rank < 0 || dst->rank > GOS_MAX_RANK)
		return; /* reported with the buffer */
	int rank = dst->rank, nvars = rank + s->n_red;
	if (nvars > GOS_MAX_VARS) {
		err(v, nloc(v), "has %d index and reduction variables (at most %d)", nvars,
		    GOS_MAX_VARS);
		return;
	}
	if (s->n_red > 0 && !s->red_extent) {
		err(v, nloc(v), "has %d reduction variables but no extents", s->n_red);
		return;
	}
	for (int j = 0; j < s->n_red; j++)
		if (s->red_extent[j] < 1) {
			const char *vn = s->var_names ? s->var_names[rank + j] : NULL;
			err(v, nloc(v), "reduction variable %d%s%s%s has extent %" PRId64 " (must be >= 1)",
			    rank + j, vn ? " ('" : "", vn ? vn : "", vn ? "')" : "", s->red_extent[j]);
			ok = 0;
		}
	if (s->n_ix < 0 || (s->n_ix > 0 && !s->ix) || s->n_ins < 0 ||
	    (s->n_ins > 0 && !s->ins)) {
		err(v, nloc(v), "has inconsistent array sizes (n_ix %d, n_ins %d)", s->n_ix,
		    s->n_ins);
		return;
	}
	int *order = gos_malloc(sizeof *order * ((size_t)s->n_ix + 1));
	if (!order) {
		err(v, nloc(v), "out of memory");
		return;
	}
	if (check_ix_pool(v, s, nvars, order))
		ok = 0;
	if (s->n_ins == 0) {
		err(v, nloc(v), "has no instructions");
		ok = 0;
	}
	for (int i = 0; i < s->n_ins; i++)
		if (check_ins(v, s, i, written))
			ok = 0;
	if (s->n_ins > 0 && (s->result < 0 || s->result >= s->n_ins)) {
		err(v, nloc(v), "result %%%d is not one of its %d instructions", s->result,
		    s->n_ins);
		ok = 0;
	}
	if (ok && written)
		check_bounds(v, s, rank, order);
	free(order);
}

/* ---- nodes ------------------------------------------------------------- */

/* Value index of buffer b's module value by position: in[b], out[b-n_in],
 * or -1 for locals. */
static int expected_value(const gos_node *n, int b)
{
	if (b < n->n_in)
		return n->in[b];
	if (b < n->n_in + n->n_out)
		return n->out[b - n->n_in];
	return -1;
}

static void check_bufs(V *v)
{
	const gos_node *n = v->n;
	const gos_module *m = v->m;
	if (n->n_buf < n->n_in + n->n_out || (n->n_buf > 0 && !n->bufs)) {
		err(v, nloc(v), "has %d buffers but %d inputs and %d outputs", n->n_buf,
		    n->n_in, n->n_out);
		return;
	}
	for (int b = 0; b < n->n_buf; b++) {
		const gos_buf *buf = &n->bufs[b];
		const char *bn = buf->name ? buf->name : "?";
		if (check_shape(v, nloc(v), "buffer", bn, buf->rank, buf->shape))
			continue;
		int want = expected_value(n, b);
		if (buf->value != want) {
			if (want < 0)
				err(v, nloc(v), "local buffer '%s' is linked to value %d (locals have -1)",
				    bn, buf->value);
			else
				err(v, nloc(v), "buffer '%s' (%s %d) is linked to value %d instead of %d",
				    bn, b < n->n_in ? "input" : "output",
				    b < n->n_in ? b : b - n->n_in, buf->value, want);
			continue;
		}
		if (want < 0 || want >= m->n_val)
			continue;
		const gos_value *val = &m->vals[want];
		int same = val->rank == buf->rank;
		for (int i = 0; same && i < buf->rank; i++)
			same = val->shape[i] == buf->shape[i];
		if (!same) {
			char a[160] = "", c[160] = "";
			for (int i = 0; i < buf->rank && i < GOS_MAX_RANK; i++)
				snprintf(a + strlen(a), sizeof a - strlen(a), "%s%" PRId64, i ? "," : "",
				         buf->shape[i]);
			for (int i = 0; i < val->rank && i < GOS_MAX_RANK; i++)
				snprintf(c + strlen(c), sizeof c - strlen(c), "%s%" PRId64, i ? "," : "",
				         val->shape[i]);
			err(v, nloc(v), "buffer '%s' has shape [%s] but value '%s' has shape [%s]",
			    bn, a, val->name ? val->name : "?", c);
		}
	}
}

/* Checks node ni; first_def[v] is the first node defining value v. */
static void check_node(V *v, int ni, const int *first_def)
{
	const gos_module *m = v->m;
	const gos_node *n = &m->nodes[ni];
	v->n = n;
	v->ni = ni;
	v->si = -1;
	if (!n->op)
		err(v, nloc(v), "has no operator name");
	if (n->n_in < 0 || n->n_out < 0 || (n->n_in > 0 && !n->in) ||
	    (n->n_out > 0 && !n->out) || n->n_stmt < 0 || (n->n_stmt > 0 && !n->stmts) ||
	    n->n_attr < 0 || (n->n_attr > 0 && !n->attr) || n->n_buf < 0) {
		err(v, nloc(v), "has inconsistent array sizes");
		v->n = NULL;
		return;
	}
	int io_ok = 1;
	for (int j = 0; j < n->n_in; j++) {
		int x = n->in[j];
		if (x < 0 || x >= m->n_val) {
			err(v, nloc(v), "input %d is value %d, out of range (%d values)", j, x, m->n_val);
			io_ok = 0;
			continue;
		}
		const gos_value *val = &m->vals[x];
		if (val->kind == GOS_VAL_TEMP) {
			if (first_def[x] < 0)
				err(v, nloc(v), "reads '%s', which no node defines", nm(val->name));
			else if (first_def[x] >= ni)
				err(v, nloc(v), "reads '%s' before node %d ('%s') defines it (nodes must be in topological order)",
				    nm(val->name), first_def[x], nm(m->nodes[first_def[x]].name));
		}
		if (val->dtype != GOS_F32)
			err(v, nloc(v), "reads '%s' of dtype %s (nodes compute in f32)", nm(val->name),
			    gos_dtype_name(val->dtype));
	}
	for (int j = 0; j < n->n_out; j++) {
		int x = n->out[j];
		if (x < 0 || x >= m->n_val) {
			err(v, nloc(v), "output %d is value %d, out of range (%d values)", j, x, m->n_val);
			io_ok = 0;
			continue;
		}
		const gos_value *val = &m->vals[x];
		if (val->kind != GOS_VAL_TEMP)
			err(v, nloc(v), "defines '%s', which is %s", nm(val->name),
			    val->kind == GOS_VAL_INPUT ? "a model input" : "a weight");
		else if (first_def[x] != ni)
			err(v, nloc(v), "defines '%s', which node %d ('%s') already defines",
			    nm(val->name), first_def[x], nm(m->nodes[first_def[x]].name));
		else
			for (int k = 0; k < j; k++)
				if (n->out[k] == x)
					err(v, nloc(v), "defines '%s' twice (outputs %d and %d)",
					    nm(val->name), k, j);
		if (val->dtype != GOS_F32)
			err(v, nloc(v), "defines '%s' of dtype %s (nodes compute in f32)",
			    nm(val->name), gos_dtype_name(val->dtype));
	}
	for (int j = 0; j < n->n_attr; j++)
		if (!n->attr[j].name || n->attr[j].n < 0 || (n->attr[j].n > 0 && !n->attr[j].v))
			err(v, nloc(v), "attribute %d is malformed", j);
	if (!io_ok) {
		v->n = NULL;
		return;
	}
	int nerr = v->errors;
	check_bufs(v);
	if (v->errors != nerr) {
		v->n = NULL;
		return;
	}
	unsigned char *written = gos_calloc((size_t)n->n_buf + 1, 1);
	if (!written)
		err(v, nloc(v), "out of memory");
	for (int s = 0; s < n->n_stmt; s++) {
		v->si = s;
		check_stmt(v, &n->stmts[s], written);
		if (written && n->stmts[s].dst >= 0 && n->stmts[s].dst < n->n_buf)
			written[n->stmts[s].dst] = 1;
	}
	v->si = -1;
	for (int j = 0; written && j < n->n_out; j++)
		if (!written[n->n_in + j])
			err(v, nloc(v), "output '%s' is never written",
			    n->bufs[n->n_in + j].name ? n->bufs[n->n_in + j].name : "?");
	free(written);
	v->n = NULL;
}

int gos_verify(const gos_module *m, gos_diags *d)
{
	V v = {.m = m, .d = d, .si = -1};
	gos_loc none = {0};
	if (!m) {
		err(&v, none, "no module");
		return v.errors;
	}
	if (!m->name)
		err(&v, none, "the module has no name");
	if (m->n_val < 0 || (m->n_val > 0 && !m->vals) || m->n_node < 0 ||
	    (m->n_node > 0 && !m->nodes) || m->n_output < 0 ||
	    (m->n_output > 0 && !m->outputs)) {
		err(&v, none, "the module has inconsistent array sizes");
		return v.errors;
	}
	for (int i = 0; i < m->n_val; i++)
		check_value(&v, i);
	const char **names = gos_malloc(sizeof *names * ((size_t)m->n_val + (size_t)m->n_node + 1));
	int *first_def = gos_malloc(sizeof *first_def * ((size_t)m->n_val + 1));
	if (!names || !first_def) {
		free(names);
		free(first_def);
		err(&v, none, "out of memory");
		return v.errors;
	}
	for (int i = 0; i < m->n_val; i++)
		names[i] = m->vals[i].name;
	if (m->n_val > 0)
		check_unique(&v, m->n_val, names, &m->vals[0].loc, sizeof(gos_value), "value");
	for (int i = 0; i < m->n_node; i++) {
		names[i] = m->nodes[i].name;
		if (!names[i])
			err(&v, m->nodes[i].loc, "node %d has no name", i);
	}
	if (m->n_node > 0)
		check_unique(&v, m->n_node, names, &m->nodes[0].loc, sizeof(gos_node), "node");
	free(names);
	for (int i = 0; i < m->n_val; i++)
		first_def[i] = -1;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		for (int j = 0; n->out && j < n->n_out; j++)
			if (n->out[j] >= 0 && n->out[j] < m->n_val && first_def[n->out[j]] < 0)
				first_def[n->out[j]] = i;
	}
	for (int i = 0; i < m->n_node; i++)
		check_node(&v, i, first_def);
	for (int i = 0; i < m->n_output; i++) {
		int x = m->outputs[i];
		if (x < 0 || x >= m->n_val) {
			err(&v, none, "model output %d is value %d, out of range (%d values)", i, x,
			    m->n_val);
			continue;
		}
		const gos_value *val = &m->vals[x];
		if (val->kind == GOS_VAL_TEMP && first_def[x] < 0)
			err(&v, val->loc, "model output '%s' is never defined", nm(val->name));
		if (val->dtype != GOS_F32)
			err(&v, val->loc, "model output '%s' has dtype %s (must be f32)", nm(val->name),
			    gos_dtype_name(val->dtype));
	}
	free(first_def);
	return v.errors;
}
