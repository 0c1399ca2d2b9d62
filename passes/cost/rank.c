/* rank.c -- rank correlations: Spearman's rho and Kendall's tau-b. */
#include "passes/cost/cost.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>

typedef struct { double v; int i; } keyed;

static int cmp_keyed(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->v < y->v)
		return -1;
	if (x->v > y->v)
		return 1;
	return (x->i > y->i) - (x->i < y->i);
}

void gos_rank(const double *v, int n, double *r)
{
	keyed *k = gos_malloc(sizeof *k * (size_t)(n > 0 ? n : 1));
	if (!k) {
		for (int i = 0; i < n; i++)
			r[i] = NAN;
		return;
	}
	for (int i = 0; i < n; i++)
		k[i] = (keyed){v[i], i};
	qsort(k, (size_t)n, sizeof *k, cmp_keyed);
	for (int i = 0; i < n;) {
		int j = i;
		while (j + 1 < n && k[j + 1].v == k[i].v)
			j++;
		double mid = 0.5 * (i + j);
		for (int t = i; t <= j; t++)
			r[k[t].i] = mid;
		i = j + 1;
	}
	free(k);
}

/* Pearson correlation of a and b; NaN if either is constant. */
static double pearson(const double *a, const double *b, int n)
{
	double ma = 0, mb = 0;
	for (int i = 0; i < n; i++) {
		ma += a[i];
		mb += b[i];
	}
	ma /= n;
	mb /= n;
	double sab = 0, saa = 0, sbb = 0;
	for (int i = 0; i < n; i++) {
		sab += (a[i] - ma) * (b[i] - mb);
		saa += (a[i] - ma) * (a[i] - ma);
		sbb += (b[i] - mb) * (b[i] - mb);
	}
	if (saa <= 0 || sbb <= 0)
		return NAN;
	return sab / sqrt(saa * sbb);
}

double gos_spearman(const double *a, const double *b, int n)
{
	if (n < 2)
		return NAN;
	double *ra = gos_malloc(sizeof *ra * (size_t)n), *rb = gos_malloc(sizeof *rb * (size_t)n);
	double rho = NAN;
	if (ra && rb) {
		gos_rank(a, n, ra);
		gos_rank(b, n, rb);
		rho = pearson(ra, rb, n);
	}
	free(ra);
	free(rb);
	return rho;
}

static int sgn(double x)
{
	return (x > 0) - (x < 0);
}

/* O(n^2): fine for the few thousand rows this is used on. */
double gos_kendall(const double *a, const double *b, int n)
{
	if (n < 2)
		return NAN;
	double s = 0, n1 = 0, n2 = 0, n0 = 0.5 * (double)n * (n - 1);
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++) {
			int sa = sgn(a[i] - a[j]), sb = sgn(b[i] - b[j]);
			s += sa * sb;
			n1 += sa == 0;
			n2 += sb == 0;
		}
	}
	double den = sqrt((n0 - n1) * (n0 - n2));
	return den > 0 ? s / den : NAN;
}
