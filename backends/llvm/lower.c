/* lower.c -- a whole module to LLVM IR (llvm.h): memory plan, weights,
 * one internal function per node, and the exported run functions (the
 * plain one, and `_run_profile` which calls a timing callback between
 * nodes; the plain one has no trace of it).
 *
 * Storage of every value:
 *   input   inputs[k] (k-th input in value order)
 *   weight  a constant global in read-only data (embedded), or
 *           weights + offset (external blob), 64-byte aligned
 *   temp    outputs[j] when it is model output j (the first slot naming
 *           it), else scratch + offset
 *   node-local buffers: scratch + offset
 * Scratch offsets come from a static plan: each temp lives from its
 * defining node to its last reader, each local during its node; buffers
 * whose lifetimes overlap get disjoint ranges (greedy, largest first,
 * 64-byte aligned). A node's outputs and locals therefore never overlap
 * its inputs, which is what the noalias parameters of node functions
 * promise. Outputs that no node writes in place (an input, a weight, or a
 * value listed twice) are copied at the end. A node that only moves
 * elements in row-major order (reshape, flatten, squeeze, unsqueeze) and
 * does not write a model output is not run: its result is its input's
 * storage, whose lifetime extends to the result's last reader.
 */
#include "backends/llvm/lower.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>



enum { ALIGN = 64 };

static int64_t round_up(int64_t x, int64_t a)
{
	return (x + a - 1) / a * a;
}

/* ---- memory plan ----------------------------------------------------------- */

typedef struct item {
	int64_t bytes, off;
	int first, last; /* node interval, inclusive */
	int order;       /* for a deterministic sort */
} item;

static int cmp_item(const void *a, const void *b)
{
	const item *x = *(item *const *)a, *y = *(item *const *)b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return x->order - y->order;
}

static int cmp_off(const void *a, const void *b)
{
	const item *x = *(item *const *)a, *y = *(item *const *)b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Places items[0..n) (bytes, first, last set); returns the total size. */
static int64_t place(item *items, int n)
{
	item **by = gos_malloc(sizeof *by * (size_t)(n + 1));
	item **conf = gos_malloc(sizeof *conf * (size_t)(n + 1));
	int64_t total = 0;
	if (!by || !conf) {
		free(by);
		free(conf);
		return -1;
	}
	for (int i = 0; i < n; i++)
		by[i] = &items[i];
	qsort(by, (size_t)n, sizeof *by, cmp_item);
	for (int i = 0; i < n; i++) {
		item *it = by[i];
		int nc = 0;
		for (int j = 0; j < i; j++)
			if (by[j]->first <= it->last && it->first <= by[j]->last)
				conf[nc++] = by[j];
		qsort(conf, (size_t)nc, sizeof *conf, cmp_off);
		int64_t off = 0;
		for (int j = 0; j < nc; j++) {
			if (conf[j]->off >= off + it->bytes)
				break;
			int64_t end = conf[j]->off + conf[j]->bytes;
			off = end > off ? end : off;
		}
		it->off = off;
		if (off + it->bytes > total)
			total = off + it->bytes;
	}
	free(by);
	free(conf);
	return total;
}

/* Whether node ni copies its one input to its one output in row-major
 * order (element k of Y is element k of X): one statement, no reduction,
 * the element a plain load of X, checked at every position (or at 4096
 * spread ones and both ends of a large tensor). */
static int is_row_major_copy(const gos_module *m, int ni)
{
	const gos_node *n = &m->nodes[ni];
	if (n->n_in != 1 || n->n_out != 1 || n->n_buf != 2 || n->n_stmt != 1)
		return 0;
	const gos_stmt *s = &n->stmts[0];
	const gos_buf *xb = &n->bufs[0], *yb = &n->bufs[1];
	int64_t total = gos_numel(yb->rank, yb->shape);
	if (s->dst != 1 || s->n_red != 0 || s->result < 0 || s->result >= s->n_ins ||
	    total != gos_numel(xb->rank, xb->shape) || total < 1)
		return 0;
	const gos_ins *ld = &s->ins[s->result];
	if (ld->op != GOS_OP_LOAD || ld->buf != 0 || ld->nidx != xb->rank || yb->rank > GOS_MAX_VARS)
		return 0;
	int64_t step = total <= 65536 ? 1 : total / 4096;
	for (int64_t k = 0; k < total; k = k + step < total || k == total - 1 ? k + step : total - 1) {
		int64_t v[GOS_MAX_VARS], r = k, lin = 0;
		for (int d = yb->rank - 1; d >= 0; d--) {
			v[d] = r % yb->shape[d];
			r /= yb->shape[d];
		}
		for (int d = 0; d < xb->rank; d++) {
			int64_t e = gos_ix_eval(s, ld->idx[d], v);
			if (e < 0 || e >= xb->shape[d])
				return 0;
			lin = lin * xb->shape[d] + e;
		}
		if (lin != k)
			return 0;
		if (k == total - 1)
			break;
	}
	return 1;
}

int gos_lw_plan(const gos_module *m, gos_mplan *p, gos_arena *a)
{
	int nv = m->n_val;
	p->where = GOS_NEWN(a, int, nv + 1);
	p->slot = GOS_NEWN(a, int, nv + 1);
	p->off = GOS_NEWN(a, int64_t, nv + 1);
	p->local_off = GOS_NEWN(a, int64_t *, m->n_node + 1);
	int *def = GOS_NEWN(a, int, nv + 1), *last = GOS_NEWN(a, int, nv + 1);
	int64_t *woff = GOS_NEWN(a, int64_t, nv + 1);
	if (!p->where || !p->slot || !p->off || !p->local_off || !def || !last || !woff)
		return -1;
	for (int v = 0; v < nv; v++) {
		def[v] = -1;
		last[v] = -1;
		p->where[v] = GOS_W_NONE;
	}
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		for (int j = 0; j < n->n_in; j++)
			last[n->in[j]] = i;
		for (int j = 0; j < n->n_out; j++)
			def[n->out[j]] = i;
	}
	/* row-major copies that write no model output share their input's
	 * storage (chains resolve to the first value) */
	p->alias = GOS_NEWN(a, int, nv + 1);
	p->skip = GOS_NEWN(a, unsigned char, m->n_node + 1);
	if (!p->alias || !p->skip)
		return -1;
	for (int v = 0; v < nv; v++)
		p->alias[v] = -1;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		p->skip[i] = 0;
		if (!is_row_major_copy(m, i))
			continue;
		int x = n->in[0], y = n->out[0], out = 0;
		for (int o = 0; o < m->n_output; o++)
			out |= m->outputs[o] == y;
		if (out || m->vals[y].kind != GOS_VAL_TEMP || def[y] != i)
			continue;
		int root = p->alias[x] >= 0 ? p->alias[x] : x;
		p->alias[y] = root;
		p->skip[i] = 1;
		if (last[y] > last[root])
			last[root] = last[y];
	}
	int k_in = 0;
	p->n_inputs = 0;
	p->weight_bytes = 0;
	for (int v = 0; v < nv; v++) {
		const gos_value *val = &m->vals[v];
		int64_t bytes = gos_numel(val->rank, val->shape) * 4;
		if (val->kind == GOS_VAL_INPUT) {
			p->where[v] = GOS_W_INPUT;
			p->slot[v] = k_in++;
		} else if (val->kind == GOS_VAL_WEIGHT) {
			int used = last[v] >= 0;
			for (int o = 0; o < m->n_output; o++)
				used |= m->outputs[o] == v;
			if (used && val->dtype == GOS_F32) {
				p->where[v] = GOS_W_WEIGHT;
				p->off[v] = p->weight_bytes;
				p->weight_bytes += round_up(bytes, ALIGN);
			}
		}
	}
	p->n_inputs = k_in;
	for (int o = 0; o < m->n_output; o++) {
		int v = m->outputs[o];
		if (m->vals[v].kind == GOS_VAL_TEMP && def[v] >= 0 && p->where[v] == GOS_W_NONE) {
			p->where[v] = GOS_W_OUTPUT;
			p->slot[v] = o;
		}
	}
	/* scratch items: temps not written in place, then locals */
	int n_items = 0;
	for (int v = 0; v < nv; v++)
		n_items += m->vals[v].kind == GOS_VAL_TEMP && def[v] >= 0 &&
		           p->where[v] == GOS_W_NONE && p->alias[v] < 0;
	for (int i = 0; i < m->n_node; i++)
		n_items += m->nodes[i].n_buf - m->nodes[i].n_in - m->nodes[i].n_out;
	item *items = GOS_NEWN(a, item, n_items + 1);
	if (!items)
		return -1;
	int k = 0;
	for (int v = 0; v < nv; v++) {
		if (!(m->vals[v].kind == GOS_VAL_TEMP && def[v] >= 0 && p->where[v] == GOS_W_NONE) ||
		    p->alias[v] >= 0)
			continue;
		const gos_value *val = &m->vals[v];
		items[k] = (item){round_up(gos_numel(val->rank, val->shape) * 4, ALIGN), 0, def[v],
		                  last[v] > def[v] ? last[v] : def[v], k};
		p->where[v] = GOS_W_SCRATCH;
		p->slot[v] = k++;
	}
	int first_local = k;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		for (int j = n->n_in + n->n_out; j < n->n_buf; j++) {
			const gos_buf *b = &n->bufs[j];
			items[k] = (item){round_up(gos_numel(b->rank, b->shape) * 4, ALIGN), 0, i, i, k};
			k++;
		}
	}
	p->scratch_bytes = place(items, n_items);
	if (p->scratch_bytes < 0)
		return -1;
	for (int v = 0; v < nv; v++)
		if (p->where[v] == GOS_W_SCRATCH && p->alias[v] < 0)
			p->off[v] = items[p->slot[v]].off;
	for (int v = 0; v < nv; v++)
		if (p->alias[v] >= 0) {
			int r = p->alias[v];
			p->where[v] = p->where[r];
			p->slot[v] = p->slot[r];
			p->off[v] = p->off[r];
		}
	k = first_local;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		int nl = n->n_buf - n->n_in - n->n_out;
		p->local_off[i] = GOS_NEWN(a, int64_t, nl + 1);
		if (!p->local_off[i])
			return -1;
		for (int j = 0; j < nl; j++)
			p->local_off[i][j] = items[k++].off;
	}
	return 0;
}

/* ---- LLVM IR -------------------------------------------------------------- */

static void add_attr(gos_lw *L, LLVMValueRef fn, LLVMAttributeIndex idx, const char *name)
{
	unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
	LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(L->C, kind, 0));
}

static void add_str_attr(gos_lw *L, LLVMValueRef fn, const char *k, const char *v)
{
	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
	                        LLVMCreateStringAttribute(L->C, k, (unsigned)strlen(k), v,
	                                                  (unsigned)strlen(v)));
}

/* Attributes every generated function carries: the target CPU and
 * features (so inlining and code generation agree), nounwind. */
static void fn_attrs(gos_lw *L, LLVMValueRef fn)
{
	add_attr(L, fn, LLVMAttributeFunctionIndex, "nounwind");
	add_attr(L, fn, LLVMAttributeFunctionIndex, "nofree");
	add_attr(L, fn, LLVMAttributeFunctionIndex, "nosync");
	add_str_attr(L, fn, "target-cpu", L->t->cpu);
	if (L->t->features[0])
		add_str_attr(L, fn, "target-features", L->t->features);
	if (!strcmp(L->t->float_abi, "soft"))
		add_str_attr(L, fn, "use-soft-float", "true");
}

/* Whether nodes a and b compute the same function of their buffers:
 * same operator name, buffer shapes and statements. */
static int same_body(const gos_node *a, const gos_node *b)
{
	if (strcmp(a->op, b->op) || a->n_in != b->n_in || a->n_out != b->n_out || a->n_buf != b->n_buf ||
	    a->n_stmt != b->n_stmt)
		return 0;
	for (int j = 0; j < a->n_buf; j++)
		if (a->bufs[j].rank != b->bufs[j].rank ||
		    (a->bufs[j].rank &&
		     memcmp(a->bufs[j].shape, b->bufs[j].shape, sizeof(int64_t) * (size_t)a->bufs[j].rank)))
			return 0;
	for (int k = 0; k < a->n_stmt; k++) {
		const gos_stmt *x = &a->stmts[k], *y = &b->stmts[k];
		if (x->dst != y->dst || x->red != y->red || x->n_red != y->n_red || x->n_ix != y->n_ix ||
		    x->n_ins != y->n_ins || x->result != y->result ||
		    (x->n_red && memcmp(x->red_extent, y->red_extent, sizeof(int64_t) * (size_t)x->n_red)))
			return 0;
		for (int i = 0; i < x->n_ix; i++)
			if (x->ix[i].op != y->ix[i].op || x->ix[i].a != y->ix[i].a || x->ix[i].b != y->ix[i].b ||
			    x->ix[i].k != y->ix[i].k)
				return 0;
		for (int i = 0; i < x->n_ins; i++) {
			const gos_ins *p = &x->ins[i], *q = &y->ins[i];
			if (p->op != q->op || memcmp(p->arg, q->arg, sizeof p->arg) || memcmp(&p->f, &q->f, sizeof p->f) ||
			    p->buf != q->buf || p->has_pad != q->has_pad || p->nidx != q->nidx ||
			    (p->nidx && memcmp(p->idx, q->idx, sizeof(int) * (size_t)p->nidx)))
				return 0;
		}
	}
	return 1;
}

/* Builds the function of node ni: void(float* noalias x n_buf). */
static LLVMValueRef node_fn(gos_lw *L, const gos_module *m, int ni)
{
	const gos_node *n = &m->nodes[ni];
	LLVMTypeRef *pt = GOS_NEWN(L->a, LLVMTypeRef, n->n_buf + 1);
	LLVMValueRef *bp = GOS_NEWN(L->a, LLVMValueRef, n->n_buf + 1);
	if (!pt || !bp)
		return NULL;
	for (int j = 0; j < n->n_buf; j++)
		pt[j] = L->fptr;
	LLVMTypeRef ft = LLVMFunctionType(L->voidt, pt, (unsigned)n->n_buf, 0);
	char name[64];
	snprintf(name, sizeof name, "gos.node.%d", ni);
	LLVMValueRef fn = LLVMAddFunction(L->M, name, ft);
	LLVMSetLinkage(fn, LLVMInternalLinkage);
	/* one call per node costs nothing measurable; inlining every node into
	 * the run function made optimisation and code generation work on one
	 * huge function (MobileNetV2 for armv8: 1.9 -> 1.5 s to compile) */
	add_attr(L, fn, LLVMAttributeFunctionIndex, "noinline");
	fn_attrs(L, fn);
	for (int j = 0; j < n->n_buf; j++) {
		add_attr(L, fn, (LLVMAttributeIndex)(j + 1), "noalias");
		add_attr(L, fn, (LLVMAttributeIndex)(j + 1), "nocapture");
		if (j < n->n_in)
			add_attr(L, fn, (LLVMAttributeIndex)(j + 1), "readonly");
		bp[j] = LLVMGetParam(fn, (unsigned)j);
		LLVMSetValueName2(bp[j], n->bufs[j].name ? n->bufs[j].name : "b",
		                  strlen(n->bufs[j].name ? n->bufs[j].name : "b"));
	}
	L->fn = fn;
	LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(L->C, fn, "entry");
	LLVMPositionBuilderAtEnd(L->B, entry);
	for (int si = 0; si < n->n_stmt;) {
		int r = gos_lw_stmt(L, n, si, bp); /* statements lowered, or -1 */
		if (r < 0)
			return NULL;
		si += r > 0 ? r : 1;
	}
	LLVMBuildRetVoid(L->B);
	return fn;
}

static LLVMValueRef byte_gep(gos_lw *L, LLVMValueRef base, int64_t off)
{
	LLVMValueRef o = gos_lw_ix(L, off);
	LLVMValueRef p = LLVMBuildInBoundsGEP2(L->B, L->i8, base, &o, 1, "");
	return LLVMBuildBitCast(L->B, p, L->fptr, "");
}

/* The embedded weight globals, one per weight value (NULL when unused). */
static int weight_globals(gos_lw *L, const gos_module *m, const gos_mplan *p, LLVMValueRef *g)
{
	for (int v = 0; v < m->n_val; v++) {
		g[v] = NULL;
		if (p->where[v] != GOS_W_WEIGHT)
			continue;
		const gos_value *val = &m->vals[v];
		int64_t bytes = gos_numel(val->rank, val->shape) * 4;
		if (bytes > 0xffffffffLL) {
			gos_error(L->d, val->loc, "weight '%s' is too large to embed (use -weights=external)",
			          val->name);
			return -1;
		}
		LLVMValueRef init = LLVMConstStringInContext(L->C, (const char *)val->data, (unsigned)bytes, 1);
		char name[64];
		snprintf(name, sizeof name, "gos.weight.%d", v);
		LLVMValueRef gv = LLVMAddGlobal(L->M, LLVMTypeOf(init), name);
		LLVMSetInitializer(gv, init);
		LLVMSetGlobalConstant(gv, 1);
		LLVMSetLinkage(gv, LLVMInternalLinkage);
		LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
		LLVMSetAlignment(gv, ALIGN);
		g[v] = gv;
	}
	return 0;
}

/* Builds `<prefix>_run` (profile == 0) or `<prefix>_run_profile`, which
 * takes two more arguments, void (*tick)(void *ctx, int k) and ctx, and
 * calls tick(ctx, 0) before the first node and tick(ctx, i + 1) after
 * node i (the output copies come after the last tick). nf[] are the node
 * functions, wg[] the embedded weight globals. Returns 0 or -1. */
static int run_fn(gos_lw *L, const gos_module *m, const gos_mplan *p, const char *prefix,
                  int external, const LLVMValueRef *wg, const LLVMValueRef *nf, int profile)
{
	LLVMValueRef *vp = GOS_NEWN(L->a, LLVMValueRef, m->n_val + 1);
	if (!vp)
		return -1;
	/* void tick(i8* ctx, i32 k) */
	LLVMTypeRef tick_pt[2] = {L->i8ptr, L->i32};
	LLVMTypeRef tick_ty = LLVMFunctionType(L->voidt, tick_pt, 2, 0);
	/* int <prefix>_run([i8* weights,] float** inputs, float** outputs, i8* scratch
	 *                  [, tick, i8* ctx]) */
	LLVMTypeRef fpp = LLVMPointerType(L->fptr, 0);
	LLVMTypeRef pt[6];
	int np = 0;
	if (external)
		pt[np++] = L->i8ptr;
	pt[np++] = fpp;
	pt[np++] = fpp;
	pt[np++] = L->i8ptr;
	int nbase = np;
	if (profile) {
		pt[np++] = LLVMPointerType(tick_ty, 0);
		pt[np++] = L->i8ptr;
	}
	char name[160];
	snprintf(name, sizeof name, "%s_run%s", prefix, profile ? "_profile" : "");
	LLVMValueRef fn = LLVMAddFunction(L->M, name, LLVMFunctionType(L->i32, pt, (unsigned)np, 0));
	fn_attrs(L, fn);
	if (profile) { /* the callback may do anything */
		LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
		                               LLVMGetEnumAttributeKindForName("nosync", 6));
		LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
		                               LLVMGetEnumAttributeKindForName("nofree", 6));
	}
	for (int k = 0; k < nbase; k++) {
		add_attr(L, fn, (LLVMAttributeIndex)(k + 1), "nocapture");
		if (k < nbase - 1)
			add_attr(L, fn, (LLVMAttributeIndex)(k + 1), "readonly");
	}
	LLVMValueRef wts = external ? LLVMGetParam(fn, 0) : NULL;
	LLVMValueRef ins = LLVMGetParam(fn, (unsigned)(nbase - 3));
	LLVMValueRef outs = LLVMGetParam(fn, (unsigned)(nbase - 2));
	LLVMValueRef scratch = LLVMGetParam(fn, (unsigned)(nbase - 1));
	LLVMValueRef tick = profile ? LLVMGetParam(fn, (unsigned)nbase) : NULL;
	LLVMValueRef ctx = profile ? LLVMGetParam(fn, (unsigned)nbase + 1) : NULL;
	LLVMSetValueName2(ins, "inputs", 6);
	LLVMSetValueName2(outs, "outputs", 7);
	LLVMSetValueName2(scratch, "scratch", 7);
	L->fn = fn;
	LLVMPositionBuilderAtEnd(L->B, LLVMAppendBasicBlockInContext(L->C, fn, "entry"));
	for (int v = 0; v < m->n_val; v++) {
		vp[v] = NULL;
		LLVMValueRef k = gos_lw_ix(L, p->slot[v]);
		switch (p->where[v]) {
		case GOS_W_INPUT:
			vp[v] = LLVMBuildLoad2(L->B, L->fptr, LLVMBuildInBoundsGEP2(L->B, L->fptr, ins, &k, 1, ""),
			                       m->vals[v].name);
			break;
		case GOS_W_OUTPUT:
			vp[v] = LLVMBuildLoad2(L->B, L->fptr,
			                       LLVMBuildInBoundsGEP2(L->B, L->fptr, outs, &k, 1, ""),
			                       m->vals[v].name);
			break;
		case GOS_W_WEIGHT:
			vp[v] = external ? byte_gep(L, wts, p->off[v])
			                 : LLVMBuildBitCast(L->B, wg[v], L->fptr, m->vals[v].name);
			break;
		case GOS_W_SCRATCH:
			vp[v] = byte_gep(L, scratch, p->off[v]);
			break;
		default:
			break;
		}
	}
	if (profile) {
		LLVMValueRef ta[2] = {ctx, LLVMConstInt(L->i32, 0, 0)};
		LLVMBuildCall2(L->B, tick_ty, tick, ta, 2, "");
	}
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		LLVMValueRef *args = GOS_NEWN(L->a, LLVMValueRef, n->n_buf + 1);
		if (!args)
			return -1;
		if (p->skip[i]) { /* its result is its input's storage */
			if (profile) {
				LLVMValueRef ta[2] = {ctx, LLVMConstInt(L->i32, (unsigned long long)i + 1, 0)};
				LLVMBuildCall2(L->B, tick_ty, tick, ta, 2, "");
			}
			continue;
		}
		for (int j = 0; j < n->n_buf; j++) {
			if (j < n->n_in)
				args[j] = vp[n->in[j]];
			else if (j < n->n_in + n->n_out)
				args[j] = vp[n->out[j - n->n_in]];
			else
				args[j] = byte_gep(L, scratch, p->local_off[i][j - n->n_in - n->n_out]);
		}
		LLVMBuildCall2(L->B, LLVMGlobalGetValueType(nf[i]), nf[i], args, (unsigned)n->n_buf, "");
		if (profile) {
			LLVMValueRef ta[2] = {ctx, LLVMConstInt(L->i32, (unsigned long long)i + 1, 0)};
			LLVMBuildCall2(L->B, tick_ty, tick, ta, 2, "");
		}
	}
	/* outputs not written in place: copy */
	for (int o = 0; o < m->n_output; o++) {
		int v = m->outputs[o];
		if (p->where[v] == GOS_W_OUTPUT && p->slot[v] == o)
			continue;
		LLVMValueRef k = gos_lw_ix(L, o);
		LLVMValueRef dst = LLVMBuildLoad2(L->B, L->fptr,
		                                  LLVMBuildInBoundsGEP2(L->B, L->fptr, outs, &k, 1, ""), "");
		LLVMValueRef src = vp[v];
		int64_t numel = gos_numel(m->vals[v].rank, m->vals[v].shape);
		gos_loop lp;
		LLVMValueRef i = gos_lw_loop_begin(L, &lp, gos_lw_ix(L, 0), gos_lw_ix(L, numel), "copy");
		LLVMValueRef x = LLVMBuildLoad2(L->B, L->f32, LLVMBuildInBoundsGEP2(L->B, L->f32, src, &i, 1, ""), "");
		LLVMSetAlignment(x, 4);
		LLVMSetAlignment(LLVMBuildStore(L->B, x, LLVMBuildInBoundsGEP2(L->B, L->f32, dst, &i, 1, "")), 4);
		gos_lw_loop_end(L, &lp, 1);
	}
	LLVMBuildRet(L->B, LLVMConstInt(L->i32, 0, 0));
	return L->err ? -1 : 0;
}

int gos_lw_module(gos_lw *L, const gos_module *m, const gos_mplan *p, const char *prefix,
                  int external)
{
	LLVMValueRef *wg = GOS_NEWN(L->a, LLVMValueRef, m->n_val + 1);
	LLVMValueRef *nf = GOS_NEWN(L->a, LLVMValueRef, m->n_node + 1);
	if (!wg || !nf)
		return -1;
	if (!external && weight_globals(L, m, p, wg))
		return -1;
	for (int i = 0; i < m->n_node; i++) {
		/* nodes with identical bodies (repeated blocks) share one function */
		nf[i] = NULL;
		for (int j = 0; j < i && !nf[i]; j++)
			if (same_body(&m->nodes[j], &m->nodes[i]))
				nf[i] = nf[j];
		if (!nf[i])
			nf[i] = node_fn(L, m, i);
		if (!nf[i])
			return -1;
	}
	return run_fn(L, m, p, prefix, external, wg, nf, 0) ||
	               run_fn(L, m, p, prefix, external, wg, nf, 1)
	           ? -1
	           : 0;
}
