/* exact.c -- gos_synth_exact (synth.h): the exact rules that need no
 * data, applied wherever the target's cost model predicts the rewritten
 * module to be faster (rules marked `always` -- fold, simplify, share --
 * everywhere they apply), repeated to a fixed point. gosc runs it at -O2
 * and above. */
#include "passes/synth/synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "passes/cost/cost.h"

int gos_synth_exact(gos_module **mp, const char *target, gos_diags *d)
{
	gos_cost_target t;
	if (gos_cost_target_load(&t, target, d))
		return -1;
	gos_module *m = *mp;
	double ms;
	if (gos_cost_predict(m, &t, NULL, NAN, &ms, d))
		return -1;
	int changed = 0;
	/* to a fixed point: a fold or a share can make later nodes foldable
	 * or identical; a rewrite at node i is followed by another look at i
	 * (a new node, or the one after a removed node) */
	for (int again = 1, rounds = 0; again && rounds < 16; rounds++) {
		again = 0;
		for (int i = 0; i < m->n_node; i++)
			for (const gos_synth_rule *r = gos_synth_rules; r->name; r++) {
				int vals[16];
				if (r->fitted || r->params(m, i, vals, 16) < 1)
					continue;
				char spec[1200];
				snprintf(spec, sizeof spec, "%s/%s", m->nodes[i].name, r->name);
				gos_module *c = gos_synth_apply(m, spec, NULL, d);
				double cms;
				if (!c || gos_cost_predict(c, &t, NULL, NAN, &cms, d)) {
					gos_module_free(c);
					return -1;
				}
				if (gos_synth_rule_always(r) || cms < ms) {
					gos_module_free(m);
					*mp = m = c;
					ms = cms;
					changed++;
					again = 1;
					i--; /* node i is new (or gone): look at index i again */
					break;
				}
				gos_module_free(c);
			}
	}
	return changed;
}
