/* interp.c -- the reference interpreter: runs a module node by node in
 * float32 (gos_interp_run, ir/ir.h). Statements are compiled and run by
 * stmt.c, which documents the evaluation and summation order.
 *
 * Memory: inputs and weights are read in place; each temp value gets a
 * zeroed buffer when its node runs and is freed after the last node that
 * reads it (model outputs are kept and copied out at the end); node-local
 * buffers live while their node runs. Everything is freed on every path.
 */
#include "backends/interp/interp.h"
#include "support/alloc.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Writes "[a,b,c]" into buf. */
static const char *shape_str(char *buf, size_t n, int rank, const int64_t *shape)
{
	size_t u = 0;
	buf[0] = 0;
	u += (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < rank && u < n; i++)
		u += (size_t)snprintf(buf + u, n - u, "%s%" PRId64, i ? "," : "", shape[i]);
	if (u < n)
		snprintf(buf + u, n - u, "]");
	return buf;
}

static int same_shape(int ra, const int64_t *a, int rb, const int64_t *b)
{
	if (ra != rb)
		return 0;
	for (int i = 0; i < ra; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Element count of a shape, or -1 when the shape is invalid or too large
 * to allocate as floats. */
static int64_t checked_numel(int rank, const int64_t *shape)
{
	if (rank < 0 || rank > GOS_MAX_RANK)
		return -1;
	int64_t n = 1;
	for (int i = 0; i < rank; i++) {
		if (shape[i] < 1 || __builtin_mul_overflow(n, shape[i], &n))
			return -1;
	}
	if ((uint64_t)n > SIZE_MAX / sizeof(float) / 2)
		return -1;
	return n;
}

typedef struct run {
	const gos_module *m;
	gos_diags *d;
	float **data;   /* [n_val] storage of each value (NULL: none yet) */
	char *owned;    /* [n_val] data[] was allocated here */
	int *last;      /* [n_val] last node reading it; n_node: keep */
} run;

static void free_value(run *r, int v)
{
	if (r->owned[v])
		free(r->data[v]);
	r->owned[v] = 0;
	r->data[v] = NULL;
}

/* Runs node ni; returns 0 or -1. */
static int run_node(run *r, int ni)
{
	const gos_module *m = r->m;
	const gos_node *n = &m->nodes[ni];
	gos_diags *d = r->d;
	const char *nm = n->name ? n->name : "?";
	char s1[128], s2[128];
	if (n->n_in < 0 || n->n_out < 0 || n->n_buf < n->n_in + n->n_out ||
	    (n->n_in && !n->in) || (n->n_out && !n->out) || (n->n_buf && !n->bufs) ||
	    n->n_stmt < 0 || (n->n_stmt && !n->stmts)) {
		gos_error(d, n->loc, "node '%s': malformed (counts or arrays)", nm);
		return -1;
	}
	float **bd = gos_calloc((size_t)n->n_buf + 1, sizeof *bd);
	if (!bd) {
		gos_error(d, n->loc, "node '%s': out of memory", nm);
		return -1;
	}
	int rc = 0;
	for (int j = 0; j < n->n_buf && !rc; j++) {
		const gos_buf *b = &n->bufs[j];
		int64_t numel = checked_numel(b->rank, b->shape);
		if (numel < 0) {
			gos_error(d, n->loc, "node '%s': buffer '%s' has an invalid shape", nm,
			          b->name ? b->name : "?");
			rc = -1;
			break;
		}
		if (j >= n->n_in + n->n_out) { /* local */
			bd[j] = gos_calloc((size_t)numel, sizeof(float));
			if (!bd[j]) {
				gos_error(d, n->loc, "node '%s': out of memory for local '%s'", nm,
				          b->name ? b->name : "?");
				rc = -1;
			}
			continue;
		}
		int isin = j < n->n_in;
		int v = isin ? n->in[j] : n->out[j - n->n_in];
		if (v < 0 || v >= m->n_val) {
			gos_error(d, n->loc, "node '%s': buffer '%s' names value %d, which does not exist",
			          nm, b->name ? b->name : "?", v);
			rc = -1;
			break;
		}
		const gos_value *val = &m->vals[v];
		if (!same_shape(b->rank, b->shape, val->rank, val->shape)) {
			gos_error(d, n->loc, "node '%s': buffer '%s' has shape %s but value '%s' has %s", nm,
			          b->name ? b->name : "?", shape_str(s1, sizeof s1, b->rank, b->shape),
			          val->name, shape_str(s2, sizeof s2, val->rank, val->shape));
			rc = -1;
			break;
		}
		if (isin) {
			if (!r->data[v]) {
				gos_error(d, n->loc, "node '%s' reads '%s' before it is computed", nm, val->name);
				rc = -1;
			}
			bd[j] = r->data[v];
			continue;
		}
		if (val->kind != GOS_VAL_TEMP || r->data[v]) {
			gos_error(d, n->loc, "node '%s' defines '%s', which is %s", nm, val->name,
			          val->kind != GOS_VAL_TEMP ? "not a temp" : "already defined");
			rc = -1;
			break;
		}
		r->data[v] = gos_calloc((size_t)numel, sizeof(float));
		if (!r->data[v]) {
			gos_error(d, n->loc, "node '%s': out of memory for '%s'", nm, val->name);
			rc = -1;
			break;
		}
		r->owned[v] = 1;
		bd[j] = r->data[v];
	}
	for (int si = 0; si < n->n_stmt && !rc; si++)
		rc = gos_interp_stmt(n, si, bd, d);
	for (int j = n->n_in + n->n_out; j < n->n_buf; j++)
		free(bd[j]);
	free(bd);
	return rc;
}

int gos_interp_run(const gos_module *m, const gos_tensor *inputs, gos_tensor *outputs,
                   gos_diags *d)
{
	gos_loc here = {m->name, 0, 0};
	char s1[128], s2[128];
	for (int i = 0; i < m->n_output; i++)
		memset(&outputs[i], 0, sizeof outputs[i]);
	run r = {m, d, NULL, NULL, NULL};
	r.data = gos_calloc((size_t)m->n_val + 1, sizeof *r.data);
	r.owned = gos_calloc((size_t)m->n_val + 1, 1);
	r.last = gos_calloc((size_t)m->n_val + 1, sizeof *r.last);
	int rc = 0;
	if (!r.data || !r.owned || !r.last) {
		gos_error(d, here, "out of memory");
		rc = -1;
		goto done;
	}
	int k = 0;
	for (int v = 0; v < m->n_val && !rc; v++) {
		const gos_value *val = &m->vals[v];
		r.last[v] = -1;
		if (checked_numel(val->rank, val->shape) < 0) {
			gos_error(d, val->loc, "value '%s' has an invalid shape", val->name);
			rc = -1;
		} else if (val->kind == GOS_VAL_INPUT && !inputs) {
			gos_error(d, val->loc, "no tensor given for input '%s'", val->name);
			rc = -1;
		} else if (val->kind == GOS_VAL_INPUT) {
			const gos_tensor *t = &inputs[k++];
			if (!same_shape(t->rank, t->shape, val->rank, val->shape)) {
				gos_error(d, val->loc, "input '%s' has shape %s but the model expects %s",
				          val->name, shape_str(s1, sizeof s1, t->rank, t->shape),
				          shape_str(s2, sizeof s2, val->rank, val->shape));
				rc = -1;
			} else if (!t->data) {
				gos_error(d, val->loc, "input '%s' has no data", val->name);
				rc = -1;
			}
			r.data[v] = t->data;
		} else if (val->kind == GOS_VAL_WEIGHT) {
			if (!val->data) {
				gos_error(d, val->loc,
				          "weight '%s' is not materialised (gos_module_materialize)",
				          val->name);
				rc = -1;
			}
			r.data[v] = val->data;
		}
	}
	if (rc)
		goto done;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		for (int j = 0; j < n->n_in && n->in; j++)
			if (n->in[j] >= 0 && n->in[j] < m->n_val)
				r.last[n->in[j]] = i;
	}
	for (int i = 0; i < m->n_output; i++) {
		int v = m->outputs[i];
		if (v < 0 || v >= m->n_val) {
			gos_error(d, here, "output %d names value %d, which does not exist", i, v);
			rc = -1;
			goto done;
		}
		r.last[v] = m->n_node;
	}
	for (int i = 0; i < m->n_node && !rc; i++) {
		rc = run_node(&r, i);
		for (int v = 0; v < m->n_val; v++) /* free what is no longer read */
			if (r.owned[v] && r.last[v] <= i)
				free_value(&r, v);
	}
	for (int i = 0; i < m->n_output && !rc; i++) {
		int v = m->outputs[i];
		const gos_value *val = &m->vals[v];
		if (!r.data[v]) {
			gos_error(d, val->loc, "output '%s' is never computed", val->name);
			rc = -1;
			break;
		}
		int64_t numel = gos_numel(val->rank, val->shape);
		float *p = gos_malloc(sizeof(float) * (size_t)numel);
		if (!p) {
			gos_error(d, val->loc, "out of memory for output '%s'", val->name);
			rc = -1;
			break;
		}
		memcpy(p, r.data[v], sizeof(float) * (size_t)numel);
		outputs[i].rank = val->rank;
		memcpy(outputs[i].shape, val->shape, sizeof outputs[i].shape);
		outputs[i].data = p;
	}
done:
	if (rc)
		for (int i = 0; i < m->n_output; i++) {
			free(outputs[i].data);
			memset(&outputs[i], 0, sizeof outputs[i]);
		}
	if (r.data && r.owned)
		for (int v = 0; v < m->n_val; v++)
			free_value(&r, v);
	free(r.data);
	free(r.owned);
	free(r.last);
	return rc ? -1 : 0;
}
