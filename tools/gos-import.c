/* gos-import -- an ONNX model as a readable .gos model plus a safetensors
 * weights file: `gos-import model.onnx -o model.gos` writes model.gos and
 * model.safetensors beside it. Compiling the .gos gives the same module
 * (operators, attributes, weights) as compiling the .onnx. Thin: parses
 * flags, calls libgos. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "frontend/onnx/onnx.h"
#include "support/outfile.h"
#include "support/tensorio.h"

static void usage(FILE *f)
{
	fputs("usage: gos-import MODEL.onnx -o MODEL.gos [options]\n"
	      "  -o FILE.gos            the .gos file to write (required)\n"
	      "  --weights FILE         the weights file (default: FILE.gos with the\n"
	      "                         extension .safetensors); the .gos names it\n"
	      "                         relative to its own directory\n"
	      "  --dim-param N          size of symbolic input dimensions that --input-shape\n"
	      "                         leaves unset (default: error)\n"
	      "  --input-shape NAME=D0,D1,...  shape of input NAME (repeat per input)\n"
	      "  --help                 this text\n"
	      "Exit status: 0 on success, 1 on any error (then nothing is written).\n",
	      f);
}

/* path with its extension replaced by ext (malloc'd). */
static char *with_ext(const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	char *s = malloc(n + strlen(ext) + 1);
	if (s) {
		memcpy(s, path, n);
		strcpy(s + n, ext);
	}
	return s;
}

/* How the .gos at from names the weights file target: its base name when
 * both are in one directory, else an absolute path (malloc'd). */
static char *relative_to(const char *target, const char *from)
{
	const char *ts = strrchr(target, '/'), *fs = strrchr(from, '/');
	size_t tn = ts ? (size_t)(ts - target) : 0, fn = fs ? (size_t)(fs - from) : 0;
	if (tn == fn && !strncmp(target, from, tn))
		return strdup(ts ? ts + 1 : target);
	if (target[0] == '/')
		return strdup(target);
	char cwd[4096];
	if (!getcwd(cwd, sizeof cwd))
		return strdup(target);
	size_t n = strlen(cwd) + strlen(target) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", cwd, target);
	return s;
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *weights = NULL;
	gos_onnx_options opt;
	memset(&opt, 0, sizeof opt);
	gos_load_options lo = {0};
	gos_diags ld;
	int lr;
	gos_diags_init(&ld);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(a, "--weights") && i + 1 < argc) {
			weights = argv[++i];
		} else if (!strcmp(a, "--dim-param") && i + 1 < argc) {
			opt.dim_param_value = atoll(argv[++i]);
		} else if ((lr = gos_load_options_arg(&lo, argc, argv, &i, &ld)) != 0) {
			if (lr < 0) {
				gos_diags_render(&ld, stderr);
				gos_diags_free(&ld);
				return 1;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "gos-import: error: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "gos-import: error: more than one input file\n");
			return 1;
		}
	}
	if (!in || !out || !strcmp(out, "-")) {
		fprintf(stderr, "gos-import: error: %s\n", !in ? "no input file" : "no -o FILE.gos");
		usage(stderr);
		return 1;
	}
	char *wpath = weights ? strdup(weights) : with_ext(out, ".safetensors");
	if (!wpath)
		return 1;
	gos_diags d;
	gos_diags_init(&d);
	int rc = 1;
	opt.n_shapes = lo.n_shapes;
	opt.shapes = lo.shapes;
	gos_module *m = gos_onnx_load(in, &opt, &d);
	const char **keys = NULL, **wkeys = NULL;
	gos_tensor *ts = NULL;
	if (!m || gos_module_materialize(m, &d))
		goto done;
	keys = calloc((size_t)m->n_val + 1, sizeof *keys);
	wkeys = calloc((size_t)m->n_val + 1, sizeof *wkeys);
	ts = calloc((size_t)m->n_val + 1, sizeof *ts);
	if (!keys || !wkeys || !ts)
		goto done;
	gos_outfile o;
	if (gos_outfile_open(&o, out)) {
		fprintf(stderr, "gos-import: error: cannot write '%s'\n", out);
		goto done;
	}
	char *wname = relative_to(wpath, out);
	int bad = !wname || gos_onnx_write_gos(o.f, m, wname, keys, &d);
	free(wname);
	if (bad) {
		gos_outfile_abort(&o);
		goto done;
	}
	int n = 0;
	for (int v = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (val->kind != GOS_VAL_WEIGHT)
			continue;
		wkeys[n] = keys[v];
		ts[n].rank = val->rank;
		memcpy(ts[n].shape, val->shape, sizeof ts[n].shape);
		ts[n].data = val->data;
		n++;
	}
	if (n && gos_safetensors_write(wpath, n, wkeys, ts, &d)) {
		gos_outfile_abort(&o);
		goto done;
	}
	if (gos_outfile_commit(&o)) {
		fprintf(stderr, "gos-import: error: writing '%s' failed\n", out);
		if (n)
			remove(wpath);
		goto done;
	}
	rc = 0;
done:
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	free(keys);
	free(wkeys);
	free(ts);
	free(wpath);
	gos_module_free(m);
	return rc;
}
