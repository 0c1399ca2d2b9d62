/* nsga2.c -- the search's algorithm pieces that know nothing of models:
 * NSGA-II's non-dominated sorting and crowding distance over two
 * objectives to minimise, and the hypervolume indicator. */
#include <math.h>
#include <stdlib.h>

#include "passes/search/search.h"
#include "support/alloc.h"

static int dominates(const double *a, const double *b)
{
	return a[0] <= b[0] && a[1] <= b[1] && (a[0] < b[0] || a[1] < b[1]);
}

/* Sorts idx[0..n) by objective o of f, ties by index (insertion sort:
 * the fronts of a search hold at most a few hundred points). */
static void sort_by(int *idx, int n, const double *f, int o)
{
	for (int i = 1; i < n; i++) {
		int v = idx[i], j = i;
		while (j > 0 && (f[2 * idx[j - 1] + o] > f[2 * v + o] ||
		                 (f[2 * idx[j - 1] + o] == f[2 * v + o] && idx[j - 1] > v))) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

int gos_nsga2_rank(const double *f, int n, int *rank, double *crowding)
{
	int *cnt = gos_calloc((size_t)n + 1, sizeof *cnt);
	int *front = gos_malloc(sizeof *front * ((size_t)n + 1));
	if (!cnt || !front) {
		free(cnt);
		free(front);
		return -1;
	}
	/* dominated-by counts; fronts peeled one after the other (O(n^2) per
	 * front, fine for the few hundred points of a search) */
	for (int i = 0; i < n; i++) {
		rank[i] = -1;
		for (int j = 0; j < n; j++)
			cnt[i] += j != i && dominates(&f[2 * j], &f[2 * i]);
	}
	int done = 0;
	for (int r = 0; done < n; r++) {
		int nf = 0;
		for (int i = 0; i < n; i++)
			if (rank[i] < 0 && cnt[i] == 0)
				front[nf++] = i;
		for (int k = 0; k < nf; k++)
			rank[front[k]] = r;
		for (int k = 0; k < nf; k++)
			for (int j = 0; j < n; j++)
				if (rank[j] < 0 && dominates(&f[2 * front[k]], &f[2 * j]))
					cnt[j]--;
		done += nf;
		/* crowding within the front: normalised gaps of each objective */
		for (int k = 0; k < nf; k++)
			crowding[front[k]] = 0;
		for (int o = 0; o < 2 && nf > 0; o++) {
			sort_by(front, nf, f, o);
			double lo = f[2 * front[0] + o], hi = f[2 * front[nf - 1] + o];
			crowding[front[0]] = crowding[front[nf - 1]] = INFINITY;
			for (int k = 1; k + 1 < nf; k++)
				if (hi > lo)
					crowding[front[k]] +=
					    (f[2 * front[k + 1] + o] - f[2 * front[k - 1] + o]) / (hi - lo);
		}
	}
	free(cnt);
	free(front);
	return 0;
}

double gos_hypervolume(const double *f, int n, const double ref[2])
{
	int *idx = gos_malloc(sizeof *idx * ((size_t)n + 1));
	if (!idx)
		return NAN;
	int m = 0;
	for (int i = 0; i < n; i++)
		if (f[2 * i] < ref[0] && f[2 * i + 1] < ref[1])
			idx[m++] = i;
	sort_by(idx, m, f, 0);
	/* sweep in the first objective: each point adds the strip up to the
	 * best second objective seen so far */
	double hv = 0, best = ref[1];
	for (int k = 0; k < m; k++) {
		const double *p = &f[2 * idx[k]];
		double next = k + 1 < m ? f[2 * idx[k + 1]] : ref[0];
		if (p[1] < best)
			best = p[1];
		hv += (next - p[0]) * (ref[1] - best);
	}
	free(idx);
	return hv;
}
