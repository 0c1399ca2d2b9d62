/* profile.h -- writing the per-node profile CSV (header
 *   model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share
 * that `gos-cost fit --profile` reads, passes/cost/profile.c). Shared by
 * the standalone runner (runtime/runner.c, compiled by the target's C
 * compiler, so portable C11 with stdio only) and gos-run. Names come from
 * the model (ONNX node names may hold anything), so the text fields are
 * quoted as RFC 4180 says: a field holding a comma, a double quote, a CR
 * or LF is written in double quotes with each quote doubled. */
#ifndef GOS_RUNTIME_PROFILE_H
#define GOS_RUNTIME_PROFILE_H

#include <stdio.h>
#include <string.h>

/* Writes s (NULL: empty) to f as one CSV field, quoted when it needs to be. */
static inline void gos_profile_csv_field(FILE *f, const char *s)
{
	if (!s)
		s = "";
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Writes the CSV header line. */
static inline void gos_profile_csv_header(FILE *f)
{
	fputs("model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share\n", f);
}

/* Writes one row: model, node, op and kind quoted as needed, then the
 * numbers (runs; median and min ms; FLOPs; GFLOP/s; share in %). */
static inline void gos_profile_csv_row(FILE *f, const char *model, const char *node,
                                       const char *op, const char *kind, long runs,
                                       double med, double lo, double flops, double gflops,
                                       double share)
{
	gos_profile_csv_field(f, model);
	fputc(',', f);
	gos_profile_csv_field(f, node);
	fputc(',', f);
	gos_profile_csv_field(f, op);
	fputc(',', f);
	gos_profile_csv_field(f, kind);
	fprintf(f, ",%ld,%.6f,%.6f,%.0f,%.4f,%.3f\n", runs, med, lo, flops, gflops, share);
}

#endif
