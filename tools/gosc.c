/* gosc -- the compiler driver. Thin: parses flags, calls libgos. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/onnx/export.h"
#include "frontend/frontend.h"
#include "support/outfile.h"

static void usage(FILE *f)
{
	fputs("usage: gosc FILE.(gos|gir|onnx) [options]\n"
	      "  -emit=ir          print the textual IR (default)\n"
	      "  -emit=onnx        write the model as ONNX (opset 17, prelude operators only)\n"
	      "  -o FILE           output file ('-' or none: stdout)\n"
	      "  -model=NAME       which model of a .gos file (default: the last)\n"
	      "  --help            this text\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *emit = "ir", *model = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strncmp(a, "-emit=", 6)) {
			emit = a + 6;
		} else if (!strncmp(a, "-model=", 7)) {
			model = a + 7;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "gosc: error: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "gosc: error: more than one input file ('%s', '%s')\n", in, a);
			return 1;
		}
	}
	if (!in) {
		fprintf(stderr, "gosc: error: no input file\n");
		usage(stderr);
		return 1;
	}
	if (strcmp(emit, "ir") != 0 && strcmp(emit, "onnx") != 0) {
		fprintf(stderr, "gosc: error: unknown -emit kind '%s' (known: ir, onnx)\n", emit);
		return 1;
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load(in, model, &d);
	if (m && gos_verify(m, &d))
		gos_error(&d, (gos_loc){in, 0, 0}, "internal error: the module does not verify");
	int rc = 1;
	char *onnx = NULL;
	size_t onnx_len = 0;
	if (m && d.n_errors == 0 && !strcmp(emit, "onnx"))
		gos_onnx_export(m, &onnx, &onnx_len, &d);
	if (m && d.n_errors == 0) {
		gos_outfile o;
		if (gos_outfile_open(&o, out)) {
			fprintf(stderr, "gosc: error: cannot write '%s'\n", out);
		} else {
			if (onnx)
				fwrite(onnx, 1, onnx_len, o.f);
			else
				gos_ir_print(o.f, m);
			if (gos_outfile_commit(&o))
				fprintf(stderr, "gosc: error: writing '%s' failed\n", out ? out : "stdout");
			else
				rc = 0;
		}
	}
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	free(onnx);
	gos_module_free(m);
	return rc;
}
