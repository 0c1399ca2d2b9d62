/* pack_dense.c -- a layout change for dense layers with constant
 * weights: dense(X[N, C], W[K, C], B) = X W^T + B becomes
 * add(matmul(X, WT[C, K]), B) with WT = W^T stored as a new weight, so
 * the reduction reads weights along their contiguous dimension with the
 * output's dimension (k) innermost: the form register-blocked matrix
 * kernels vectorise (backends/llvm/kconv.c). Exact: the same products
 * summed in the same order. The operators are synthesised from the
 * prelude (gos_oplib_apply). */
#include "passes/passes.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

int gos_pass_pack_dense(gos_module *m, gos_diags *d)
{
	int any = 0;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		if (!strcmp(n->op, "dense") && n->n_in >= 2 && m->vals[n->in[1]].kind == GOS_VAL_WEIGHT)
			any = 1;
	}
	if (!any)
		return 0;
	if (gos_module_materialize(m, d))
		return -1;
	gos_oplib *lib = gos_oplib_new(NULL, d);
	if (!lib)
		return -1;
	int changed = 0, rc = 0;
	int n0 = m->n_node;
	for (int i = 0; i < n0 && !rc; i++) {
		if (strcmp(m->nodes[i].op, "dense") || !gos_pass_plain_contraction(&m->nodes[i]))
			continue;
		int wv = m->nodes[i].in[1];
		const gos_value *w = &m->vals[wv];
		if (w->kind != GOS_VAL_WEIGHT || !w->data || w->rank != 2)
			continue;
		int64_t K = w->shape[0], C = w->shape[1];
		float *t = gos_malloc(sizeof(float) * (size_t)(K * C));
		if (!t) {
			gos_error(d, m->nodes[i].loc, "out of memory");
			rc = -1;
			break;
		}
		for (int64_t k = 0; k < K; k++)
			for (int64_t c = 0; c < C; c++)
				t[c * K + k] = w->data[k * C + c];
		int64_t shape[2] = {C, K};
		const char *base = gos_arena_printf(m->arena, "%s.T", w->name);
		const char *name = base;
		for (int s = 1; gos_module_find_value(m, name) >= 0; s++)
			name = gos_arena_printf(m->arena, "%s_%d", base, s);
		int tv = gos_module_add_value(m, name, GOS_VAL_WEIGHT, GOS_F32, 2, shape);
		float *td = tv >= 0 ? gos_arena_memdup(m->arena, t, sizeof(float) * (size_t)(K * C)) : NULL;
		free(t);
		if (!td) {
			gos_error(d, m->nodes[i].loc, "out of memory");
			rc = -1;
			break;
		}
		m->vals[tv].init = GOS_INIT_DATA;
		m->vals[tv].data = td;
		/* the new node(s) are appended; they replace node i in place */
		const gos_node *n = &m->nodes[i];
		int old_out = n->out[0], x = n->in[0], bias = n->n_in >= 3 ? n->in[2] : -1;
		const char *nname = n->name;
		gos_loc loc = n->loc;
		int first = m->n_node;
		int in[2] = {x, tv}, out[8];
		if (gos_oplib_apply(lib, m, "matmul", nname, 2, in, 0, NULL, out, loc, d) != 1) {
			rc = -1;
			break;
		}
		int y = out[0];
		if (bias >= 0) {
			int in2[2] = {y, bias};
			if (gos_oplib_apply(lib, m, "add", gos_arena_printf(m->arena, "%s.bias", nname), 2, in2, 0,
			                    NULL, out, loc, d) != 1) {
				rc = -1;
				break;
			}
			y = out[0];
		}
		/* y takes the old result's name and uses; the new nodes move to i */
		const char *oname = m->vals[old_out].name;
		m->vals[old_out].name = gos_arena_printf(m->arena, "%s.unpacked", oname);
		int nnew = m->n_node - first;
		gos_node tmp[2];
		memcpy(tmp, &m->nodes[first], sizeof(gos_node) * (size_t)nnew);
		m->nodes[i] = tmp[0];
		m->n_node = first;
		if (nnew == 2) {
			/* make room for the second node right after i */
			memmove(&m->nodes[i + 2], &m->nodes[i + 1], sizeof(gos_node) * (size_t)(m->n_node - i - 1));
			m->nodes[i + 1] = tmp[1];
			m->n_node++;
			n0++;
			i++;
		}
		m->vals[y].name = oname;
		for (int j = 0; j < m->n_node; j++) {
			gos_node *u = &m->nodes[j];
			for (int k = 0; k < u->n_in; k++)
				if (u->in[k] == old_out) {
					u->in[k] = y;
					for (int b = 0; b < u->n_buf; b++)
						if (u->bufs[b].value == old_out)
							u->bufs[b].value = y;
				}
		}
		for (int j = 0; j < m->n_output; j++)
			if (m->outputs[j] == old_out)
				m->outputs[j] = y;
		changed++;
	}
	gos_oplib_free(lib);
	if (rc)
		return -1;
	if (changed && gos_pass_dce(m, d) < 0)
		return -1;
	return changed;
}
