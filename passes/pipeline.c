/* pipeline.c -- the table of passes and the default pipeline. */
#include "passes/passes.h"

#include <string.h>

const gos_pass gos_passes[] = {
	{"fold_bn", gos_pass_fold_bn, "fold batchnorm into the preceding conv/dense weights"},
	{"pack_dense", gos_pass_pack_dense, "dense layers as matmul with transposed constant weights"},
	{"fuse", gos_pass_fuse, "inline elementwise operators into their producer"},
	{"dce", gos_pass_dce, "remove unused nodes and values"},
	{NULL, NULL, NULL},
};

const gos_pass *gos_pass_find(const char *name)
{
	for (const gos_pass *p = gos_passes; p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

/* Runs one pass with the checks o asks for. */
static int run_one(gos_module *m, const gos_pass *p, const gos_pipeline_opts *o, gos_diags *d)
{
	if (p->run(m, d) < 0)
		return -1;
	if (o && o->verify_each && gos_verify(m, d)) {
		gos_error(d, (gos_loc){0}, "the module does not verify after pass '%s'", p->name);
		return -1;
	}
	if (o && o->print_after && o->dump && !strcmp(o->print_after, p->name))
		gos_ir_print(o->dump, m);
	return 0;
}

int gos_pipeline_run(gos_module *m, const gos_pipeline_opts *o, gos_diags *d)
{
	if (o && o->level <= 0)
		return 0;
	if (run_one(m, gos_pass_find("fold_bn"), o, d))
		return -1;
	if (run_one(m, gos_pass_find("pack_dense"), o, d))
		return -1;
	if (run_one(m, gos_pass_find("fuse"), o, d))
		return -1;
	if (run_one(m, gos_pass_find("dce"), o, d))
		return -1;
	return 0;
}

int gos_pipeline_run_list(gos_module *m, const char *list, const gos_pipeline_opts *o, gos_diags *d)
{
	char name[64];
	for (const char *p = list; *p;) {
		const char *q = strchr(p, ',');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0 || n >= sizeof name) {
			gos_error(d, (gos_loc){0}, "bad pass list '%s'", list);
			return -1;
		}
		memcpy(name, p, n);
		name[n] = 0;
		const gos_pass *ps = gos_pass_find(name);
		if (!ps) {
			gos_error(d, (gos_loc){0}, "unknown pass '%s'", name);
			return -1;
		}
		if (run_one(m, ps, o, d))
			return -1;
		p = q ? q + 1 : p + n;
	}
	return 0;
}
