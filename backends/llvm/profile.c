/* profile.c -- gos_jit_profile (llvm.h): per-node times of a model loaded
 * in process, from its profiling entry point, next to whole-run times of
 * its plain entry point (the runner's --profile, in process). */
#define _POSIX_C_SOURCE 200809L
#include "backends/llvm/llvm.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The tick of the profiling entry: the time of boundary k. */
static void tick(void *ctx, int k)
{
	((double *)ctx)[k] = now_ms();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median of t[0..n) (n >= 1; sorted here). */
static double median(double *t, long n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

void gos_profile_free(gos_profile *p)
{
	free(p->median_ms);
	free(p->min_ms);
	memset(p, 0, sizeof *p);
}

int gos_jit_profile(const gos_jit *j, int n_node, const float *const *in, float *const *out,
                    long runs, gos_profile *p, gos_diags *d)
{
	gos_loc loc = {"profile", 0, 0};
	memset(p, 0, sizeof *p);
	if (runs < 1 || n_node < 0) {
		gos_error(d, loc, "internal error: profile of %d nodes over %ld runs", n_node, runs);
		return -1;
	}
	int64_t sb = gos_jit_scratch_bytes(j);
	void *scratch = gos_aligned_alloc(64, (size_t)((sb + 63) / 64 * 64 + 64));
	double *ts = gos_malloc(sizeof *ts * (size_t)(n_node + 1));
	double *nt = gos_malloc(sizeof *nt * ((size_t)n_node * (size_t)runs + 1)); /* [node][run] */
	double *whole = gos_malloc(sizeof *whole * (size_t)runs);
	p->median_ms = gos_malloc(sizeof *p->median_ms * (size_t)(n_node + 1));
	p->min_ms = gos_malloc(sizeof *p->min_ms * (size_t)(n_node + 1));
	int rc = -1;
	if (!scratch || !ts || !nt || !whole || !p->median_ms || !p->min_ms) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	gos_jit_run_fn run = gos_jit_run(j);
	gos_jit_profile_fn prof = gos_jit_run_profile(j);
	int warm = runs < 10 ? 1 : 3;
	for (int k = 0; k < warm; k++)
		if (run(in, out, scratch) || prof(in, out, scratch, tick, ts)) {
			gos_error(d, loc, "the model's run function failed");
			goto done;
		}
	/* plain and profiled runs interleaved, so that drift hits both alike */
	for (long k = 0; k < runs; k++) {
		double t0 = now_ms();
		run(in, out, scratch);
		whole[k] = now_ms() - t0;
		prof(in, out, scratch, tick, ts);
		for (int i = 0; i < n_node; i++)
			nt[(size_t)i * (size_t)runs + (size_t)k] = ts[i + 1] - ts[i];
	}
	for (int i = 0; i < n_node; i++) {
		double *t = nt + (size_t)i * (size_t)runs;
		p->median_ms[i] = median(t, runs);
		p->min_ms[i] = t[0];
	}
	p->n = n_node;
	p->runs = runs;
	p->whole_median_ms = median(whole, runs);
	p->whole_min_ms = whole[0];
	rc = 0;
done:
	free(scratch);
	free(ts);
	free(nt);
	free(whole);
	if (rc)
		gos_profile_free(p);
	return rc;
}
