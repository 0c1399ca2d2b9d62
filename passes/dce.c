/* dce.c -- removes nodes whose results nothing uses and values nothing
 * refers to, then renumbers value references. */
#include "passes/passes.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

int gos_pass_dce(gos_module *m, gos_diags *d)
{
	int nv = m->n_val;
	int *used = gos_calloc((size_t)nv + 1, sizeof *used);
	int *map = gos_calloc((size_t)nv + 1, sizeof *map);
	if (!used || !map) {
		free(used);
		free(map);
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	for (int i = 0; i < m->n_output; i++)
		used[m->outputs[i]] = 1;
	/* nodes, last to first: live when a result is used */
	int removed = 0;
	char *live = gos_calloc((size_t)m->n_node + 1, 1);
	if (!live) {
		free(used);
		free(map);
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	for (int i = m->n_node - 1; i >= 0; i--) {
		const gos_node *n = &m->nodes[i];
		for (int j = 0; j < n->n_out; j++)
			live[i] |= used[n->out[j]];
		if (!live[i])
			continue;
		for (int j = 0; j < n->n_in; j++)
			used[n->in[j]] = 1;
	}
	int k = 0;
	for (int i = 0; i < m->n_node; i++) {
		if (!live[i]) {
			removed++;
			continue;
		}
		const gos_node *n = &m->nodes[i];
		for (int j = 0; j < n->n_out; j++)
			used[n->out[j]] = 1; /* every result of a live node stays */
		m->nodes[k++] = m->nodes[i];
	}
	m->n_node = k;
	free(live);
	/* values */
	k = 0;
	for (int i = 0; i < nv; i++) {
		if (!used[i] && m->vals[i].kind != GOS_VAL_INPUT) {
			map[i] = -1;
			removed++;
			continue;
		}
		map[i] = k;
		m->vals[k++] = m->vals[i];
	}
	m->n_val = k;
	for (int i = 0; i < m->n_node; i++) {
		gos_node *n = &m->nodes[i];
		for (int j = 0; j < n->n_in; j++)
			n->in[j] = map[n->in[j]];
		for (int j = 0; j < n->n_out; j++)
			n->out[j] = map[n->out[j]];
		for (int j = 0; j < n->n_buf; j++)
			if (n->bufs[j].value >= 0)
				n->bufs[j].value = map[n->bufs[j].value];
	}
	for (int i = 0; i < m->n_output; i++)
		m->outputs[i] = map[m->outputs[i]];
	free(used);
	free(map);
	return removed;
}
