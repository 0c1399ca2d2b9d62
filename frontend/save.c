/* save.c -- writing a module as readable .gos text with its weights in a
 * safetensors file beside it (gos-opt -o OUT.gos, the search's adapted
 * model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/onnx/onnx.h"
#include "support/alloc.h"
#include "support/outfile.h"
#include "support/tensorio.h"

/* Writes r as readable .gos at path with its weights in a safetensors
 * file beside it (same stem). Returns 0 or -1 (nothing left behind). */
int gos_save_gos(const gos_module *r, const char *path, gos_diags *d)
{
	size_t n = strlen(path);
	char *wpath = gos_malloc(n + 16);
	const char **keys = gos_calloc((size_t)r->n_val + 1, sizeof *keys);
	const char **wkeys = gos_calloc((size_t)r->n_val + 1, sizeof *wkeys);
	gos_tensor *ts = gos_calloc((size_t)r->n_val + 1, sizeof *ts);
	int rc = -1;
	gos_outfile o;
	if (!wpath || !keys || !wkeys || !ts) {
		gos_error(d, (gos_loc){path, 0, 0}, "out of memory");
		goto done;
	}
	snprintf(wpath, n + 16, "%.*s.safetensors", (int)(n - 4), path);
	const char *base = strrchr(wpath, '/');
	base = base ? base + 1 : wpath;
	if (gos_outfile_open(&o, path)) {
		gos_error(d, (gos_loc){path, 0, 0}, "cannot write the output");
		goto done;
	}
	if (gos_onnx_write_gos(o.f, r, base, keys, d)) {
		gos_outfile_abort(&o);
		goto done;
	}
	int nw = 0;
	for (int v = 0; v < r->n_val; v++)
		if (r->vals[v].kind == GOS_VAL_WEIGHT) {
			wkeys[nw] = keys[v];
			ts[nw].rank = r->vals[v].rank;
			memcpy(ts[nw].shape, r->vals[v].shape, sizeof ts[nw].shape);
			ts[nw++].data = r->vals[v].data;
		}
	if (nw && gos_safetensors_write(wpath, nw, wkeys, ts, d)) {
		gos_outfile_abort(&o);
		goto done;
	}
	if (gos_outfile_commit(&o)) {
		gos_error(d, (gos_loc){path, 0, 0}, "writing the output failed");
		if (nw)
			remove(wpath);
		goto done;
	}
	rc = 0;
done:
	free(wpath);
	free(keys);
	free(wkeys);
	free(ts);
	return rc;
}
