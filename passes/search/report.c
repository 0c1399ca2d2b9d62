/* report.c -- writes a search's result directory: adapted.gos (+
 * safetensors), candidates.csv, pareto.csv, pareto.svg, report.md. The
 * files go to a temporary directory beside the target, renamed into place
 * when all are written. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx/onnx.h"
#include "passes/search/search.h"

static const char *strategy_name(gos_search_strategy s)
{
	return s == GOS_SEARCH_RANDOM ? "random" : s == GOS_SEARCH_UNIFORM ? "uniform" : "nsga2";
}

static void csv_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, ",%.6g", v);
	else
		fprintf(f, ",");
}

static double mean_cka(const gos_search_result *r, const gos_search_cand *k)
{
	double s = 0;
	int n = 0;
	for (int i = 0; i < r->n_stage; i++)
		if (isfinite(k->cka[i])) {
			s += k->cka[i];
			n++;
		}
	return n ? s / n : NAN;
}

static void csv_rows(FILE *f, const gos_search_result *r, int front_only)
{
	fprintf(f, "id,generation");
	for (int i = 0; i < r->n_node; i++)
		fprintf(f, ",\"%s\"", r->node[i].name);
	fprintf(f, ",macs,params,predicted_ms,predicted_speedup,proxy,cka_mean,dloss,"
	           "proxy_agreement,predicted_proxy,top1,corrected,pareto,chosen\n");
	for (int c = 0; c < r->n_cand; c++) {
		const gos_search_cand *k = &r->cand[c];
		if (front_only && !k->front)
			continue;
		fprintf(f, "%d,%d", k->id, k->gen);
		for (int i = 0; i < r->n_node; i++)
			fprintf(f, ",%s", r->node[i].opt[k->g[i]].choice);
		if (!k->ok) {
			fprintf(f, ",,,,,,,,,,,,%d,%d\n", k->front, c == r->chosen);
			continue;
		}
		csv_num(f, k->flops / 2);
		csv_num(f, k->params);
		csv_num(f, k->ms);
		csv_num(f, r->base_ms / k->ms);
		csv_num(f, k->proxy);
		csv_num(f, mean_cka(r, k));
		csv_num(f, k->dloss);
		csv_num(f, k->agree);
		csv_num(f, k->pred_proxy);
		csv_num(f, k->top1);
		fprintf(f, ",%d,%d,%d\n", isfinite(k->top1) ? k->corrected : 0, k->front,
		        c == r->chosen);
	}
}

/* Predicted latency (x) against the proxy batch's top-1 agreement (y). */
static void svg(FILE *f, const gos_search_result *r)
{
	const double W = 640, H = 420, L = 70, R = 20, T = 30, B = 50;
	double x0 = 0, x1 = r->base_ms * 1.05, y0 = 100, y1 = 100;
	for (int c = 0; c < r->n_cand; c++)
		if (r->cand[c].ok && r->cand[c].agree < y0)
			y0 = r->cand[c].agree;
	y0 = floor(y0 / 5) * 5;
	if (y0 > 95)
		y0 = 95;
	if (y0 < 0)
		y0 = 0;
#define PX(v) (L + ((v) - x0) / (x1 - x0) * (W - L - R))
#define PY(v) (T + (y1 - (v)) / (y1 - y0) * (H - T - B))
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	           "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"%.0f\" y=\"18\">%s on %s: %d candidates (%s)</text>\n", L, r->model,
	        r->target, r->n_cand, strategy_name(r->strategy));
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L,
	        H - B, W - R, H - B);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, T,
	        L, H - B);
	for (int i = 0; i <= 5; i++) {
		double xv = x0 + (x1 - x0) * i / 5, yv = y0 + (y1 - y0) * i / 5;
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.3g</text>\n", PX(xv),
		        H - B + 16, xv);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n", L - 6,
		        PY(yv) + 4, yv);
	}
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">predicted latency on %s "
	           "(ms)</text>\n", (L + W - R) / 2, H - 12, r->target);
	fprintf(f, "<text transform=\"translate(16 %.0f) rotate(-90)\" text-anchor=\"middle\">"
	           "top-1 agreement with the original, proxy batch (%%)</text>\n", (T + H - B) / 2);
	for (int pass = 0; pass < 2; pass++)
		for (int c = 0; c < r->n_cand; c++) {
			const gos_search_cand *k = &r->cand[c];
			if (!k->ok || k->front != pass)
				continue;
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\" opacity=\"0.8\"/>\n",
			        PX(k->ms), PY(k->agree), pass ? 4 : 3, pass ? "#1f5fbf" : "#aaaaaa");
		}
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"9\" height=\"9\" fill=\"#c0392b\"/>"
	           "<text x=\"%.1f\" y=\"%.1f\">original</text>\n",
	        PX(r->base_ms) - 4.5, PY(100) - 4.5, PX(r->base_ms) - 60, PY(100) + 16);
	if (r->chosen >= 0) {
		const gos_search_cand *k = &r->cand[r->chosen];
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"7\" fill=\"none\" stroke=\"#27ae60\" "
		           "stroke-width=\"3\"/><text x=\"%.1f\" y=\"%.1f\">chosen</text>\n",
		        PX(k->ms), PY(k->agree), PX(k->ms) + 9, PY(k->agree) - 8);
	}
	fprintf(f, "</svg>\n");
#undef PX
#undef PY
}

static void report_md(FILE *f, const gos_search_result *r)
{
	const gos_search_cand *k = r->chosen >= 0 ? &r->cand[r->chosen] : NULL;
	double ms = k ? k->ms : r->base_ms;
	fprintf(f, "# Search: %s on %s\n\n", r->model, r->target);
	fprintf(f, "| | original | adapted |\n|---|---|---|\n");
	fprintf(f, "| predicted latency on %s | %.4g ms | %.4g ms (%.2fx) |\n", r->target,
	        r->base_ms, ms, r->base_ms / ms);
	for (int i = 0; i < r->n_also; i++)
		fprintf(f, "| predicted latency on %s | %.4g ms | %.4g ms (%.2fx) |\n", r->also_name[i],
		        r->also_base_ms[i], r->also_ms[i], r->also_base_ms[i] / r->also_ms[i]);
	fprintf(f, "| MACs | %.4g | %.4g |\n", r->base_flops / 2, k ? k->flops / 2 : r->base_flops / 2);
	fprintf(f, "| weights | %.0f | %.0f |\n", r->base_params, k ? k->params : r->base_params);
	if (isfinite(r->base_top1) && isfinite(r->chosen_drop_se))
		fprintf(f, "| top-1 on the evaluation data | %.2f%% | %.2f%% (%+.2f, standard error %.2f) |\n",
		        r->base_top1, r->chosen_top1, r->chosen_top1 - r->base_top1, r->chosen_drop_se);
	else if (isfinite(r->base_top1))
		fprintf(f, "| top-1 on the evaluation data | %.2f%% | %.2f%% (%+.2f) |\n", r->base_top1,
		        r->chosen_top1, r->chosen_top1 - r->base_top1);
	fprintf(f, "| top-1 on the proxy batch | %.2f%% | agreement %.2f%% |\n\n", r->base_calib_top1,
	        k ? k->agree : 100.0);
	fprintf(f, "Strategy %s; %d candidates evaluated; hypervolume %.4f (latency ratio x proxy "
	           "loss, reference (1, 1)); ", strategy_name(r->strategy), r->evals, r->hypervolume);
	if (r->predictor_used)
		fprintf(f, "predictor %s (5-fold MAPE %.1f%%) turned down %d offspring; ",
		        r->predictor_used == 1 ? "ridge" : "RBF-SVR", r->predictor_mape, r->screened);
	fprintf(f, "search time %.1f s (stage 1 and pool %.1f s, final checks %.1f s)%s; "
	           "calibration samples: %lld fit (the search's candidates on the first %lld, the "
	           "final checks on all), %lld score the proxy.\n\n",
	        r->seconds, r->seconds_pool, r->seconds_final,
	        r->stopped       ? "; stopped by an interrupt (the best so far kept)"
	        : r->interrupted ? "; the budget ended the search proper or cut the final checks"
	                         : "",
	        r->n_fit, r->n_pool, r->n_prx);
	if (r->profile[0])
		fprintf(f, "Stage 1 ranked the operators by the measured profile `%s` (%d of its rows "
		           "name nodes here; a node without a row was fused into another); the "
		           "latencies below are the cost model's.\n\n",
		        r->profile, r->profile_nodes);
	if (k)
		fprintf(f, "The chosen model's candidates were %s%s%s.\n\n",
		        k->corrected ? "refitted one after the other on the model's own activations "
		                       "(sequential error correction)"
		                     : "fitted independently on the original's activations",
		        k->corrected && r->recon
		                ? "; each block holding one was then reconstructed as a whole "
		                  "(its weights refined together by gradient descent towards the "
		                  "original block's result)"
		                : "",
		        r->tuned ? "; then the whole model was tuned the same way towards the "
		                   "original's output on the fit samples, the new weights kept only "
		                   "if its error on the proxy samples fell"
		                 : "");
	if (r->n_pre) {
		fprintf(f, "Before the search, %d gate%s that barely vary over the fit half %s frozen "
		           "to their mean (stage 0; every candidate has them%s):",
		        r->n_pre, r->n_pre > 1 ? "s" : "", r->n_pre > 1 ? "were" : "was",
		        k ? "" : ", the original kept here does not");
		for (int i = 0; i < r->n_pre; i++)
			fprintf(f, "%s `%s` (error %.2g)", i ? "," : "", r->pre[i], r->pre_err[i]);
		fprintf(f, ".\n\n");
	}
	fprintf(f, "## Per operator\n\n| node | share | before (ms) | choice | FLOPs | error | after "
	           "(ms, predicted) |\n|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < r->n_node; i++) {
		const gos_search_node *sn = &r->node[i];
		const gos_search_opt *op = &sn->opt[k ? k->g[i] : 0];
		fprintf(f, "| %s | %.1f%% | %.4g | %s | %.2fx | %.3g | %.4g |\n", sn->name,
		        100 * sn->share, sn->ms, op->choice, op->flops_ratio, op->err, sn->ms + op->dms);
	}
	fprintf(f, "\nThe after column adds each choice's predicted change alone to the node's "
	           "time; the latency above is the cost model on the whole adapted model.\n\n"
	           "## Options per node (the pool)\n\n");
	for (int i = 0; i < r->n_node; i++) {
		const gos_search_node *sn = &r->node[i];
		fprintf(f, "- %s:", sn->name);
		for (int o = 1; o < sn->n_opt; o++)
			fprintf(f, " %s (%.2fx FLOPs, err %.3g, %+.3g ms)%s", sn->opt[o].choice,
			        sn->opt[o].flops_ratio, sn->opt[o].err, sn->opt[o].dms,
			        o + 1 < sn->n_opt ? "," : "");
		fprintf(f, "%s\n", sn->n_opt > 1 ? "" : " none predicted faster");
	}
	fprintf(f, "\n## Checked on the evaluation data\n\nThe drop's standard error is that of "
	           "a paired comparison: it counts the images whose top-1 changed either way. "
	           "\"backoff\" marks a variant of a member that missed, with one node one "
	           "notch more accurate (docs/search.md, accuracy-aware backoff).\n\n"
	           "| id | predicted ms | speedup | proxy | agreement | top-1 | drop | standard error |\n"
	           "|---|---|---|---|---|---|---|---|\n");
	for (int c = 0; c < r->n_cand; c++) {
		const gos_search_cand *q = &r->cand[c];
		if (!isfinite(q->top1))
			continue;
		fprintf(f, "| %d%s%s | %.4g | %.2fx | %.4f | %.2f%% | %.2f%% | %.2f | ", q->id,
		        q->gen == -2 ? " (backoff)" : "", c == r->chosen ? " (chosen)" : "", q->ms,
		        r->base_ms / q->ms, q->proxy, q->agree, q->top1, r->base_top1 - q->top1);
		if (isfinite(q->drop_se))
			fprintf(f, "%.2f |\n", q->drop_se);
		else
			fprintf(f, "- |\n");
	}
}

static int write_file(const char *dir, const char *name, const gos_search_result *r,
                      int what, gos_diags *d)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		gos_error(d, (gos_loc){path, 0, 0}, "cannot write: %s", strerror(errno));
		return -1;
	}
	if (what == 0)
		csv_rows(f, r, 0);
	else if (what == 1)
		csv_rows(f, r, 1);
	else if (what == 2)
		svg(f, r);
	else
		report_md(f, r);
	if (fclose(f)) {
		gos_error(d, (gos_loc){path, 0, 0}, "writing failed");
		return -1;
	}
	return 0;
}

/* Removes dir and the files in it (one level: what this writer makes). */
static void remove_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	if (dp) {
		struct dirent *e;
		char path[4096];
		while ((e = readdir(dp)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
				unlink(path);
			}
		closedir(dp);
		rmdir(dir);
	} else {
		unlink(dir); /* an older output of that name that was a file */
	}
}

int gos_search_write(const gos_search_result *r, const char *dir, gos_diags *d)
{
	size_t n = strlen(dir);
	if (n == 0 || n > 4000) {
		gos_error(d, (gos_loc){dir, 0, 0}, "bad output directory name");
		return -1;
	}
	char tmp[4096], old[4096], path[4096 + 32];
	snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", dir);
	if (!mkdtemp(tmp)) {
		gos_error(d, (gos_loc){dir, 0, 0}, "cannot create a directory beside it: %s",
		          strerror(errno));
		return -1;
	}
	snprintf(path, sizeof path, "%s/adapted.gos", tmp);
	if ((r->adapted && gos_save_gos(r->adapted, path, d)) ||
	    write_file(tmp, "candidates.csv", r, 0, d) ||
	    write_file(tmp, "pareto.csv", r, 1, d) ||
	    write_file(tmp, "pareto.svg", r, 2, d) ||
	    write_file(tmp, "report.md", r, 3, d)) {
		remove_dir(tmp);
		return -1;
	}
	/* into place: an older result moves aside first, then goes */
	struct stat st;
	old[0] = 0;
	if (stat(dir, &st) == 0) {
		snprintf(old, sizeof old, "%s.oldXXXXXX", dir);
		if (!mkdtemp(old) || rmdir(old) || rename(dir, old)) {
			gos_error(d, (gos_loc){dir, 0, 0}, "cannot replace the existing directory");
			remove_dir(tmp);
			return -1;
		}
	}
	if (rename(tmp, dir)) {
		gos_error(d, (gos_loc){dir, 0, 0}, "cannot rename the result into place: %s",
		          strerror(errno));
		remove_dir(tmp);
		if (old[0])
			rename(old, dir);
		return -1;
	}
	if (old[0])
		remove_dir(old);
	return 0;
}
