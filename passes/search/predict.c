/* predict.c -- the search's predictors (LINAS): from the genomes
 * evaluated so far, estimate the proxy of new ones so that only promising
 * offspring are evaluated. Two models on standardised features: ridge
 * regression (closed form, LAPACKE) and RBF-kernel epsilon-SVR (dual
 * coordinate descent, the bias absorbed into the kernel as k + 1); the
 * one with the lower 5-fold mean absolute percentage error is used. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/search/search.h"
#include "support/alloc.h"

#define RIDGE_LAMBDA 1.0
#define SVR_C 10.0
#define SVR_EPS 0.05
#define SVR_SWEEPS 300
/* MAPE denominators below this (proxy losses near zero) are raised to it */
#define MAPE_FLOOR 0.01

static void standardise(gos_predictor *pr, const double *X, const double *y, int n, int p)
{
	for (int j = 0; j < p; j++) {
		double s = 0, ss = 0;
		for (int i = 0; i < n; i++)
			s += X[i * p + j];
		pr->mu[j] = s / n;
		for (int i = 0; i < n; i++)
			ss += (X[i * p + j] - pr->mu[j]) * (X[i * p + j] - pr->mu[j]);
		pr->sd[j] = sqrt(ss / n);
		if (!(pr->sd[j] > 1e-12))
			pr->sd[j] = 1;
	}
	double s = 0, ss = 0;
	for (int i = 0; i < n; i++)
		s += y[i];
	pr->ymu = s / n;
	for (int i = 0; i < n; i++)
		ss += (y[i] - pr->ymu) * (y[i] - pr->ymu);
	pr->ysd = sqrt(ss / n);
	if (!(pr->ysd > 1e-12))
		pr->ysd = 1;
}

static double rbf(const gos_predictor *pr, const double *a, const double *b)
{
	double d2 = 0;
	for (int j = 0; j < pr->p; j++)
		d2 += (a[j] - b[j]) * (a[j] - b[j]);
	return exp(-pr->gamma * d2) + 1.0;
}

int gos_predictor_fit(gos_predictor *pr, int kind, const double *X, const double *y, int n, int p)
{
	memset(pr, 0, sizeof *pr);
	if (n < 2 || p < 1 || p > 2 * GOS_SEARCH_MAX_NODES)
		return -1;
	pr->kind = kind;
	pr->p = p;
	pr->n = n;
	standardise(pr, X, y, n, p);
	double *Z = gos_malloc(sizeof *Z * (size_t)(n * p));
	double *t = gos_malloc(sizeof *t * (size_t)n);
	if (!Z || !t)
		goto fail;
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < p; j++)
			Z[i * p + j] = (X[i * p + j] - pr->mu[j]) / pr->sd[j];
		t[i] = (y[i] - pr->ymu) / pr->ysd;
	}
	if (kind == 1) {
		/* (Z'Z + lambda I) w = Z't; the intercept is the mean (centred) */
		double *A = gos_calloc((size_t)(p * p), sizeof *A);
		pr->w = gos_calloc((size_t)p + 1, sizeof *pr->w);
		if (!A || !pr->w) {
			free(A);
			goto fail;
		}
		for (int a = 0; a < p; a++) {
			for (int b = 0; b < p; b++) {
				double s = 0;
				for (int i = 0; i < n; i++)
					s += Z[i * p + a] * Z[i * p + b];
				A[a * p + b] = s + (a == b ? RIDGE_LAMBDA : 0);
			}
			double s = 0;
			for (int i = 0; i < n; i++)
				s += Z[i * p + a] * t[i];
			pr->w[a] = s;
		}
		int info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', p, 1, A, p, pr->w, 1);
		free(A);
		free(Z);
		free(t);
		if (info)
			goto fail_w;
		return 0;
	}
	/* epsilon-SVR dual: min 1/2 b'Kb - t'b + eps |b|_1, |b_i| <= C */
	pr->gamma = 1.0 / p;
	pr->C = SVR_C;
	pr->eps = SVR_EPS;
	pr->X = Z;
	pr->w = gos_calloc((size_t)n, sizeof *pr->w);
	double *K = gos_malloc(sizeof *K * (size_t)n * (size_t)n);
	double *kb = gos_calloc((size_t)n, sizeof *kb);
	if (!pr->w || !K || !kb) {
		free(K);
		free(kb);
		free(t);
		goto fail_w;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			K[(size_t)i * n + j] = rbf(pr, &Z[i * p], &Z[j * p]);
	for (int sweep = 0; sweep < SVR_SWEEPS; sweep++) {
		double moved = 0;
		for (int i = 0; i < n; i++) {
			double kii = K[(size_t)i * n + i];
			double g = kb[i] - kii * pr->w[i] - t[i];
			double b = 0;
			if (g > pr->eps)
				b = -(g - pr->eps) / kii;
			else if (g < -pr->eps)
				b = -(g + pr->eps) / kii;
			b = b > pr->C ? pr->C : b < -pr->C ? -pr->C : b;
			double db = b - pr->w[i];
			if (db != 0) {
				for (int j = 0; j < n; j++)
					kb[j] += db * K[(size_t)j * n + i];
				pr->w[i] = b;
				moved += fabs(db);
			}
		}
		if (moved < 1e-9)
			break;
	}
	free(K);
	free(kb);
	free(t);
	return 0;
fail:
	free(Z);
	free(t);
fail_w:
	gos_predictor_free(pr);
	return -1;
}

double gos_predictor_eval(const gos_predictor *pr, const double *x)
{
	double z[2 * GOS_SEARCH_MAX_NODES];
	for (int j = 0; j < pr->p; j++)
		z[j] = (x[j] - pr->mu[j]) / pr->sd[j];
	double s = 0;
	if (pr->kind == 1)
		for (int j = 0; j < pr->p; j++)
			s += pr->w[j] * z[j];
	else
		for (int i = 0; i < pr->n; i++)
			if (pr->w[i] != 0)
				s += pr->w[i] * rbf(pr, z, &pr->X[i * pr->p]);
	return pr->ymu + pr->ysd * s;
}

void gos_predictor_free(gos_predictor *pr)
{
	free(pr->w);
	free(pr->X);
	pr->w = pr->X = NULL;
}

/* 5-fold MAPE (%) of predictor kind on the rows. */
static double cv_mape(int kind, const double *X, const double *y, int n, int p)
{
	double *Xt = gos_malloc(sizeof *Xt * (size_t)(n * p));
	double *yt = gos_malloc(sizeof *yt * (size_t)n);
	double err = 0;
	int cnt = 0;
	for (int f = 0; Xt && yt && f < 5; f++) {
		int m = 0;
		for (int i = 0; i < n; i++)
			if (i % 5 != f) {
				memcpy(&Xt[m * p], &X[i * p], sizeof *Xt * (size_t)p);
				yt[m++] = y[i];
			}
		gos_predictor pr;
		if (gos_predictor_fit(&pr, kind, Xt, yt, m, p)) {
			err = INFINITY;
			break;
		}
		for (int i = f; i < n; i += 5) {
			double den = fabs(y[i]) > MAPE_FLOOR ? fabs(y[i]) : MAPE_FLOOR;
			err += fabs(gos_predictor_eval(&pr, &X[i * p]) - y[i]) / den;
			cnt++;
		}
		gos_predictor_free(&pr);
	}
	free(Xt);
	free(yt);
	return cnt ? 100.0 * err / cnt : INFINITY;
}

int gos_predictor_choose(gos_predictor *pr, const double *X, const double *y, int n, int p,
                         double *mape)
{
	if (n < 10)
		return -1;
	double m1 = cv_mape(1, X, y, n, p), m2 = cv_mape(2, X, y, n, p);
	int kind = m2 < m1 ? 2 : 1;
	*mape = kind == 2 ? m2 : m1;
	return isfinite(*mape) ? gos_predictor_fit(pr, kind, X, y, n, p) : -1;
}
