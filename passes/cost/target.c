/* target.c -- the part of a target description the cost model reads.
 *
 * Target files are `key = value` lines; `#` starts a comment. Keys read
 * here (all optional; others are ignored, they belong to the backend):
 *   name, clock_ghz, cores, threads, vector_bits, fma_units, peak_gflops,
 *   l1_kb, l2_kb, l3_kb, bw_l1_gbs, bw_l2_gbs, bw_l3_gbs,
 *   bandwidth_gbs (DRAM), overhead_us, fuse_elementwise (0/1),
 *   eff_<kind> for each operator kind.
 * A few spellings used by other tools are accepted as synonyms
 * (clock_mhz, clock, vector_width, l1d_kb, mem_bw_gbs, peak_gflops_per_core). */
#include "passes/cost/cost.h"
#include "support/datadir.h"
#include "support/kvfile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Default fraction of peak each kind reaches (docs/cost-models.md): GEMM-like
 * kernels get most of the FMA throughput, stencils with no reuse and
 * reductions much less; elementwise ops are usually bandwidth-bound. */
static const double default_eff[GOS_NKINDS] = {
	[GOS_KIND_CONTRACTION] = 0.6,
	[GOS_KIND_DEPTHWISE] = 0.3,
	[GOS_KIND_POOLING] = 0.15,
	[GOS_KIND_ELEMENTWISE] = 0.25,
	[GOS_KIND_DATAMOVE] = 1.0,
};

/* Derived values not given explicitly (peak, cache bandwidths). */
static void fill_derived(gos_cost_target *t, int have_peak, const int *have_bw)
{
	double lanes = t->vector_bits / 32.0;
	double vbytes = t->vector_bits / 8.0;
	if (!have_peak)
		t->peak_gflops = t->clock_ghz * lanes * 2.0 * t->fma_units;
	/* two vector loads per cycle from L1, one from L2, half from L3 */
	if (!have_bw[0])
		t->bw_l1_gbs = t->clock_ghz * vbytes * 2.0;
	if (!have_bw[1])
		t->bw_l2_gbs = t->clock_ghz * vbytes;
	if (!have_bw[2])
		t->bw_l3_gbs = t->clock_ghz * vbytes * 0.5;
}

void gos_cost_target_default(gos_cost_target *t)
{
	memset(t, 0, sizeof *t);
	strcpy(t->name, "generic");
	t->clock_ghz = 2.0;
	t->cores = 1;
	t->threads = 1;
	t->vector_bits = 128;
	t->fma_units = 2;
	t->l1_kb = 32;
	t->l2_kb = 256;
	t->l3_kb = 0;
	t->dram_gbs = 10;
	t->overhead_us = 2;
	t->fuse_elementwise = 1;
	for (int k = 0; k < GOS_NKINDS; k++)
		t->eff[k] = default_eff[k];
	int none[3] = {0, 0, 0};
	fill_derived(t, 0, none);
}

/* The number at s (whole remaining value), or NAN if it is not one. */
static double parse_number(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno)
		return NAN;
	while (*end && isspace((unsigned char)*end))
		end++;
	/* allow a unit suffix such as "GHz" or "KB" for readability */
	while (*end && isalpha((unsigned char)*end))
		end++;
	while (*end && isspace((unsigned char)*end))
		end++;
	return *end ? NAN : v;
}

int gos_cost_target_parse(gos_cost_target *t, const char *file,
                          const char *text, size_t len, gos_diags *d)
{
	gos_cost_target_default(t);
	int have_peak = 0, have_bw[3] = {0, 0, 0}, have_name = 0, errors = 0;
	size_t pos = 0;
	gos_kv kv = {.line = 0};
	while (gos_kv_next(text, len, &pos, &kv, file, d, &errors)) {
		const char *key = kv.key, *val = kv.val;
		gos_loc vl = {file, kv.line, kv.val_col};
		if (!strcmp(key, "name")) {
			snprintf(t->name, sizeof t->name, "%s", val);
			have_name = 1;
			continue;
		}
		struct { const char *key; double *dst; double scale; int *flag; } dk[] = {
			{"clock_ghz", &t->clock_ghz, 1, NULL},
			{"clock", &t->clock_ghz, 1, NULL},
			{"clock_mhz", &t->clock_ghz, 1e-3, NULL},
			{"peak_gflops", &t->peak_gflops, 1, &have_peak},
			{"peak_gflops_per_core", &t->peak_gflops, 1, &have_peak},
			{"l1_kb", &t->l1_kb, 1, NULL},
			{"l1d_kb", &t->l1_kb, 1, NULL},
			{"l2_kb", &t->l2_kb, 1, NULL},
			{"l3_kb", &t->l3_kb, 1, NULL},
			{"bw_l1_gbs", &t->bw_l1_gbs, 1, &have_bw[0]},
			{"bw_l2_gbs", &t->bw_l2_gbs, 1, &have_bw[1]},
			{"bw_l3_gbs", &t->bw_l3_gbs, 1, &have_bw[2]},
			{"bandwidth_gbs", &t->dram_gbs, 1, NULL},
			{"mem_bw_gbs", &t->dram_gbs, 1, NULL},
			{"dram_gbs", &t->dram_gbs, 1, NULL},
			{"overhead_us", &t->overhead_us, 1, NULL},
		};
		struct { const char *key; int *dst; } ik[] = {
			{"cores", &t->cores}, {"threads", &t->threads},
			{"vector_bits", &t->vector_bits}, {"vector_width", &t->vector_bits},
			{"fma_units", &t->fma_units},
		};
		int known = 0;
		if (!strcmp(key, "fuse_elementwise")) {
			known = 1;
			if (strcmp(val, "0") && strcmp(val, "1")) {
				gos_error(d, vl,
				          "`fuse_elementwise` needs 0 or 1, got `%s`", val);
				errors++;
			} else {
				t->fuse_elementwise = val[0] == '1';
			}
		}
		for (size_t i = 0; i < sizeof dk / sizeof dk[0] && !known; i++) {
			if (strcmp(key, dk[i].key))
				continue;
			known = 1;
			double v = parse_number(val);
			if (isnan(v) || v < 0) {
				gos_error(d, vl,
				          "`%s` needs a non-negative number, got `%s`", key, val);
				errors++;
				break;
			}
			*dk[i].dst = v * dk[i].scale;
			if (dk[i].flag)
				*dk[i].flag = v > 0;
		}
		for (size_t i = 0; i < sizeof ik / sizeof ik[0] && !known; i++) {
			if (strcmp(key, ik[i].key))
				continue;
			known = 1;
			double v = parse_number(val);
			if (isnan(v) || v < 1 || v > 1e6 || v != floor(v)) {
				gos_error(d, vl,
				          "`%s` needs a positive integer, got `%s`", key, val);
				errors++;
				break;
			}
			*ik[i].dst = (int)v;
		}
		if (!known && !strncmp(key, "eff_", 4)) {
			for (int k = 0; k < GOS_NKINDS; k++) {
				if (strcmp(key + 4, gos_cost_kind_name((gos_cost_kind)k)))
					continue;
				known = 1;
				double v = parse_number(val);
				if (isnan(v) || v <= 0 || v > 1) {
					gos_error(d, vl,
					          "`%s` needs a number in (0, 1], got `%s`", key, val);
					errors++;
				} else {
					t->eff[k] = v;
				}
			}
		}
		/* other keys (triple, cpu, features...) belong to the backend */
	}
	if (t->clock_ghz <= 0) {
		gos_error(d, (gos_loc){file, 0, 0}, "target clock must be positive");
		errors++;
	}
	if (t->dram_gbs <= 0) {
		gos_error(d, (gos_loc){file, 0, 0}, "target bandwidth must be positive");
		errors++;
	}
	if (!have_name) {
		const char *b = strrchr(file, '/');
		b = b ? b + 1 : file;
		size_t n = strcspn(b, ".");
		if (n >= sizeof t->name)
			n = sizeof t->name - 1;
		memcpy(t->name, b, n);
		t->name[n] = 0;
	}
	fill_derived(t, have_peak, have_bw);
	return errors ? -1 : 0;
}

int gos_cost_target_load(gos_cost_target *t, const char *spec, gos_diags *d)
{
	char path[4096];
	size_t sl = strlen(spec);
	int is_path = strchr(spec, '/') || (sl > 7 && !strcmp(spec + sl - 7, ".target"));
	if (is_path) {
		snprintf(path, sizeof path, "%s", spec);
	} else {
		char file[300];
		snprintf(file, sizeof file, "%s.target", spec);
		if (!gos_datadir_find("GOS_TARGET_DIR", "targets", file, path, sizeof path)) {
			gos_error(d, (gos_loc){spec, 0, 0},
			          "unknown target `%s` (no %s.target in $GOS_TARGET_DIR, the "
			          "installed share/gosc/targets or the source tree's targets/)", spec, spec);
			return -1;
		}
	}
	size_t len;
	char *text = gos_read_file(d, path, &len);
	if (!text)
		return -1;
	const char *file = gos_diags_source(d, path, text, len);
	int rc = gos_cost_target_parse(t, file, text, len, d);
	free(text);
	return rc;
}
