/* gos-opt -- runs IR passes on a model and prints the resulting IR. Thin:
 * parses flags, calls libgos. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "passes/synth/synth.h"
#include "frontend/onnx/onnx.h"
#include "support/outfile.h"
#include "support/tensorio.h"

static void usage(FILE *f)
{
	fputs("usage: gos-opt FILE.(gos|gir|onnx) [options]\n"
	      "  -passes=a,b,...    run these passes in order (default: the -O1 pipeline)\n"
	      "  -O0 | -O1 | -O2    no passes | the default pipeline | first the exact\n"
	      "                     synthesis rules the host cost model favours (gosc -O2)\n"
	      "  --verify-each      verify the module after every pass\n"
	      "  --print-after=NAME print the IR to stderr after pass NAME\n"
	      "  -model=NAME        which model of a .gos file\n"
	      "  --input-shape NAME=D0,D1,...  shape of ONNX input NAME (sets its symbolic\n"
	      "                     dimensions; repeat per input)\n"
	      "  --flops            print the model's floating-point operations (before\n"
	      "                     passes) as `flops=N` and exit\n"
	      "  --synth            list the synthesised candidates of every node (or\n"
	      "                     --node NAME): rule, exact or fitted, FLOPs ratio,\n"
	      "                     reconstruction error on --calib data\n"
	      "  --node NAME        the node --synth lists\n"
	      "  --apply=NODE/RULE[:P=V],...  replace nodes by candidates; prints (or -o)\n"
	      "                     the rewritten IR (new weights inline), or with\n"
	      "                     -o OUT.gos readable .gos + OUT.safetensors\n"
	      "  --calib DATA[:N]   calibration images for fitted rules (N default 256;\n"
	      "                     see gos-eval --help), drawn by --seed S\n"
	      "  --mean M[,M..] --std S[,S..]  normalisation of --calib images\n"
	      "  -o FILE            output (default stdout)\n"
	      "  --help             this text\n"
	      "passes:\n",
	      f);
	for (const gos_pass *p = gos_passes; p->name; p++)
		fprintf(f, "  %-10s %s\n", p->name, p->what);
	fputs("synthesis rules (--synth, --apply):\n", f);
	for (const gos_synth_rule *r = gos_synth_rules; r->name; r++)
		fprintf(f, "  rule %-10s %-2s %s %s\n", r->name, r->param ? r->param : "-",
		        r->fitted ? "fitted" : "exact ", r->what);
}

/* --synth / --apply: loads the calibration batch (if any), lists or
 * applies candidates. Returns the exit status. */
static int run_synth(gos_module *m, int synth, const char *node, const char *apply,
                     const char *calib, const char *mean, const char *stdv,
                     unsigned long long seed, const char *out, gos_diags *d)
{
	gos_dataset ds = {0};
	gos_norm norm = {0};
	float *x = NULL;
	gos_synth_calib c = {0, NULL, NULL, 0, NULL};
	const float *in[1] = {NULL};
	int rc = 1;
	if (mean && (norm.n_mean = gos_norm_parse(mean, 0, norm.mean, "--mean", d)) < 0)
		goto done;
	if (stdv && (norm.n_std = gos_norm_parse(stdv, 1, norm.std, "--std", d)) < 0)
		goto done;
	if (calib) {
		if (gos_dataset_load_calib(&ds, calib, seed, &norm, d) ||
		    gos_capture_inputs(m, &ds, &x, &c.n, d))
			goto done;
		in[0] = x;
		c.in = in;
	}
	if (synth) {
		int ni = -1;
		if (node) {
			for (int i = 0; i < m->n_node && ni < 0; i++)
				if (!strcmp(m->nodes[i].name, node))
					ni = i;
			if (ni < 0) {
				gos_error(d, (gos_loc){m->name, 0, 0}, "model '%s' has no node '%s'", m->name, node);
				goto done;
			}
		}
		gos_synth_cand *v;
		int n = gos_synth_list(m, ni, calib ? &c : NULL, &v, d);
		if (n < 0)
			goto done;
		printf("%-48s %-8s %-6s %10s %12s\n", "candidate", "rule", "kind", "flops", "rel_mse");
		for (int k = 0; k < n; k++) {
			char err[32] = "-";
			if (v[k].err >= 0)
				snprintf(err, sizeof err, "%.3e", v[k].err);
			printf("%-48s %-8s %-6s %9.3fx %12s\n", v[k].name, v[k].rule->name,
			       v[k].exact ? "exact" : "fitted",
			       v[k].flops_before > 0 ? v[k].flops_after / v[k].flops_before : 0.0, err);
		}
		if (!calib)
			printf("(fitted candidates need --calib DATA)\n");
		free(v);
		rc = 0;
		goto done;
	}
	gos_module *r = gos_synth_apply(m, apply, calib ? &c : NULL, d);
	size_t ol = out ? strlen(out) : 0;
	if (r && ol > 4 && !strcmp(out + ol - 4, ".gos")) {
		rc = gos_save_gos(r, out, d) ? 1 : 0;
		gos_module_free(r);
	} else if (r) {
		gos_outfile f;
		if (gos_outfile_open(&f, out)) {
			gos_error(d, (gos_loc){out, 0, 0}, "cannot write the output");
		} else {
			gos_ir_print(f.f, r);
			rc = gos_outfile_commit(&f) ? 1 : 0;
		}
		gos_module_free(r);
	}
done:
	free(x);
	gos_dataset_free(&ds);
	return rc;
}

int main(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *model = NULL, *list = NULL;
	int flops = 0, synth = 0;
	const char *node = NULL, *apply = NULL, *calib = NULL, *mean = NULL, *stdv = NULL;
	unsigned long long seed = 0;
	gos_pipeline_opts o = {1, 0, NULL, stderr};
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
		} else if (!strncmp(a, "-passes=", 8)) {
			list = a + 8;
		} else if (!strcmp(a, "-O0") || !strcmp(a, "-O1") || !strcmp(a, "-O2")) {
			o.level = a[2] - '0';
		} else if (!strcmp(a, "--flops")) {
			flops = 1;
		} else if (!strcmp(a, "--synth")) {
			synth = 1;
		} else if (!strcmp(a, "--node") && i + 1 < argc) {
			node = argv[++i];
		} else if (!strncmp(a, "--node=", 7)) {
			node = a + 7;
		} else if (!strncmp(a, "--apply=", 8)) {
			apply = a + 8;
		} else if (!strcmp(a, "--calib") && i + 1 < argc) {
			calib = argv[++i];
		} else if (!strncmp(a, "--calib=", 8)) {
			calib = a + 8;
		} else if (!strcmp(a, "--mean") && i + 1 < argc) {
			mean = argv[++i];
		} else if (!strcmp(a, "--std") && i + 1 < argc) {
			stdv = argv[++i];
		} else if (!strcmp(a, "--seed") && i + 1 < argc) {
			char *end;
			seed = strtoull(argv[++i], &end, 10);
			if (*end || !argv[i][0]) {
				fprintf(stderr, "gos-opt: error: bad seed '%s'\n", argv[i]);
				return 1;
			}
		} else if (!strcmp(a, "--verify-each")) {
			o.verify_each = 1;
		} else if (!strncmp(a, "--print-after=", 14)) {
			o.print_after = a + 14;
		} else if (!strncmp(a, "-model=", 7)) {
			model = a + 7;
		} else if ((lr = gos_load_options_arg(&lo, argc, argv, &i, &ld)) != 0) {
			if (lr < 0) {
				gos_diags_render(&ld, stderr);
				gos_diags_free(&ld);
				return 1;
			}
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
	if ((synth || apply) && (list || flops)) {
		fprintf(stderr, "gos-opt: error: --synth/--apply do not combine with -passes or --flops\n");
		return 1;
	}
	if (synth && apply) {
		fprintf(stderr, "gos-opt: error: --synth lists candidates, --apply applies them: one at a time\n");
		return 1;
	}
	if (node && !synth) {
		fprintf(stderr, "gos-opt: error: --node is for --synth\n");
		return 1;
	}
	if ((calib || mean || stdv) && !synth && !apply) {
		fprintf(stderr, "gos-opt: error: --calib/--mean/--std are for --synth and --apply\n");
		return 1;
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_load_with(in, model, &lo, &d);
	int rc = 1;
	if (m && d.n_errors == 0 && gos_verify(m, &d) == 0 && (synth || apply)) {
		rc = run_synth(m, synth, node, apply, calib, mean, stdv, seed, out, &d);
	} else if (m && d.n_errors == 0 && flops) {
		printf("flops=%.0f\n", gos_flops(m));
		rc = 0;
	} else if (m && d.n_errors == 0 && gos_verify(m, &d) == 0) {
		int r = o.level >= 2 && gos_synth_exact(&m, "host", &d) < 0 ? -1
		        : list ? gos_pipeline_run_list(m, list, &o, &d)
		               : gos_pipeline_run(m, &o, &d);
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
