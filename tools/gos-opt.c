/* gos-opt -- runs IR passes on a model and prints the resulting IR. Thin:
 * parses flags, calls libgos. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "support/outfile.h"

static void usage(FILE *f)
{
	fputs("usage: gos-opt FILE.(gos|gir|onnx) [options]\n"
	      "  -passes=a,b,...    run these passes in order (default: the -O1 pipeline)\n"
	      "  -O0 | -O1          no passes | the default pipeline\n"
	      "  --verify-each      verify the module after every pass\n"
	      "  --print-after=NAME print the IR to stderr after pass NAME\n"
	      "  -model=NAME        which model of a .gos file\n"
	      "  --flops            print the model's floating-point operations (before\n"
	      "                     passes) as `flops=N` and exit\n"
	      "  -o FILE            output (default stdout)\n"
	      "  --help             this text\n"
	      "passes:\n",
	      f);
	for (const gos_pass *p = gos_passes; p->name; p++)
		fprintf(f, "  %-10s %s\n", p->name, p->what);
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *model = NULL, *list = NULL;
	int flops = 0;
	gos_pipeline_opts o = {1, 0, NULL, stderr};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strncmp(a, "-passes=", 8)) {
			list = a + 8;
		} else if (!strcmp(a, "-O0") || !strcmp(a, "-O1")) {
			o.level = a[2] - '0';
		} else if (!strcmp(a, "--flops")) {
			flops = 1;
		} else if (!strcmp(a, "--verify-each")) {
			o.verify_each = 1;
		} else if (!strncmp(a, "--print-after=", 14)) {
			o.print_after = a + 14;
		} else if (!strncmp(a, "-model=", 7)) {
			model = a + 7;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "gos-opt: error: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "gos-opt: error: more than one input file\n");
			return 1;
		}
	}
	if (!in) {
		fprintf(stderr, "gos-opt: error: no input file\n");
		usage(stderr);
		return 1;
	}
	if (o.print_after && !gos_pass_find(o.print_after)) {
		fprintf(stderr, "gos-opt: error: unknown pass '%s' in --print-after\n", o.print_after);
		return 1;
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load(in, model, &d);
	int rc = 1;
	if (m && d.n_errors == 0 && flops) {
		printf("flops=%.0f\n", gos_flops(m));
		rc = 0;
	} else if (m && d.n_errors == 0 && gos_verify(m, &d) == 0) {
		int r = list ? gos_pipeline_run_list(m, list, &o, &d) : gos_pipeline_run(m, &o, &d);
		if (r == 0 && d.n_errors == 0) {
			gos_outfile f;
			if (gos_outfile_open(&f, out)) {
				fprintf(stderr, "gos-opt: error: cannot write '%s'\n", out);
			} else {
				gos_ir_print(f.f, m);
				rc = gos_outfile_commit(&f) ? 1 : 0;
			}
		}
	}
	gos_diags_render(&d, stderr);
	gos_diags_free(&d);
	gos_module_free(m);
	return rc;
}
