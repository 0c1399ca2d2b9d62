/* select.c -- which models to measure on a device: a small set that
 * represents a pool of candidates in the space of the fit's columns
 * (greedy facility location, i.e. k-medoids built one medoid at a time). */
#include "passes/cost/cost.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The selection space of sample s: features without foldable nodes, the
 * foldable part (all - fold) and the analytic total; ncol columns. */
enum { SEL_COLS = 2 * GOS_COST_NFEAT + 1 };

static void sel_row(const gos_cost_sample *s, double *v)
{
	double analytic = 0;
	for (int j = 0; j < GOS_COST_NFEAT; j++) {
		v[j] = s->x_fold[j];
		v[GOS_COST_NFEAT + j] = s->x_all[j] - s->x_fold[j];
		if (j % GOS_COST_PER_KIND == 0)
			analytic += s->x_all[j];
	}
	v[2 * GOS_COST_NFEAT] = analytic;
}

int gos_cost_select(const gos_cost_sample *s, int n, int k, int *chosen, gos_diags *d)
{
	if (k < 1 || k > n) {
		gos_error(d, (gos_loc){0}, "select: cannot choose %d of %d models", k, n);
		return -1;
	}
	if (n > GOS_COST_SELECT_MAX) {
		gos_error(d, (gos_loc){0}, "select: at most %d candidate models, got %d",
		          GOS_COST_SELECT_MAX, n);
		return -1;
	}
	double *Z = gos_malloc(sizeof *Z * (size_t)n * SEL_COLS);
	float *D = gos_malloc(sizeof *D * (size_t)n * n);
	double *best = gos_malloc(sizeof *best * (size_t)n);
	unsigned char *taken = gos_calloc((size_t)n, 1);
	int rc = -1;
	if (!Z || !D || !best || !taken) {
		gos_error(d, (gos_loc){0}, "out of memory");
		goto done;
	}
	/* standardised columns; constant ones contribute nothing */
	for (int i = 0; i < n; i++)
		sel_row(&s[i], Z + (size_t)i * SEL_COLS);
	for (int j = 0; j < SEL_COLS; j++) {
		double mu = 0, ss = 0;
		for (int i = 0; i < n; i++)
			mu += Z[(size_t)i * SEL_COLS + j];
		mu /= n;
		for (int i = 0; i < n; i++) {
			double e = Z[(size_t)i * SEL_COLS + j] - mu;
			ss += e * e;
		}
		double sd = sqrt(ss / n);
		for (int i = 0; i < n; i++) {
			double *z = &Z[(size_t)i * SEL_COLS + j];
			*z = sd > 1e-12 * (fabs(mu) + 1e-300) ? (*z - mu) / sd : 0;
		}
	}
	for (int a = 0; a < n; a++) {
		D[(size_t)a * n + a] = 0;
		for (int b = a + 1; b < n; b++) {
			double ss = 0;
			for (int j = 0; j < SEL_COLS; j++) {
				double e = Z[(size_t)a * SEL_COLS + j] - Z[(size_t)b * SEL_COLS + j];
				ss += e * e;
			}
			D[(size_t)a * n + b] = D[(size_t)b * n + a] = (float)sqrt(ss);
		}
	}
	/* greedy facility location: each step adds the model that most lowers
	 * the summed distance of every candidate to its nearest chosen model
	 * (ties: the lower index, so the result is deterministic) */
	for (int i = 0; i < n; i++)
		best[i] = INFINITY;
	for (int step = 0; step < k; step++) {
		int pick = -1;
		double pick_cost = INFINITY;
		for (int c = 0; c < n; c++) {
			if (taken[c])
				continue;
			const float *row = D + (size_t)c * n;
			double cost = 0;
			for (int i = 0; i < n && cost < pick_cost; i++)
				cost += row[i] < best[i] ? row[i] : best[i];
			if (cost < pick_cost) {
				pick_cost = cost;
				pick = c;
			}
		}
		if (pick < 0) { /* only with non-finite features */
			gos_error(d, (gos_loc){0}, "select: the features are not finite numbers");
			goto done;
		}
		taken[pick] = 1;
		chosen[step] = pick;
		const float *row = D + (size_t)pick * n;
		for (int i = 0; i < n; i++)
			if (row[i] < best[i])
				best[i] = row[i];
	}
	rc = 0;
done:
	free(Z);
	free(D);
	free(best);
	free(taken);
	return rc;
}
