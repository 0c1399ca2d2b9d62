/* fit.c -- adapting the cost model to a device from a few measured
 * models: quantile ridge regression by iteratively reweighted least
 * squares (LAPACKE_dgelsd on the augmented system), leave-one-out model
 * selection, and the model file format. */
#include "passes/cost/cost.h"
#include "support/alloc.h"

#include <ctype.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NCOL GOS_COST_MAX_COLS
#define PRIOR_COL GOS_COST_NFEAT
#define FLOPS_COL (GOS_COST_NFEAT + 1)

/* ---- one fit -------------------------------------------------------------- */

/* Solves min sum_i c[i] (y[i] - b - Z[i].w)^2 + sum_j pen[j] w[j]^2 for
 * (w, b) with the SVD least-squares solver. Z is n x q row-major.
 * out[0..q) = w, out[q] = b. Returns 0 or -1. */
static int weighted_ridge(const double *Z, const double *y, const double *c,
                          const double *pen, int n, int q, double *out)
{
	int rows = n + q, cols = q + 1;
	double *A = gos_calloc((size_t)rows * cols, sizeof *A);
	double *B = gos_calloc((size_t)(rows > cols ? rows : cols), sizeof *B);
	double *S = gos_calloc((size_t)cols, sizeof *S);
	if (!A || !B || !S) {
		free(A), free(B), free(S);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		double sc = sqrt(c[i]);
		for (int j = 0; j < q; j++)
			A[(size_t)i * cols + j] = sc * Z[(size_t)i * q + j];
		A[(size_t)i * cols + q] = sc;
		B[i] = sc * y[i];
	}
	for (int j = 0; j < q; j++)
		A[(size_t)(n + j) * cols + j] = sqrt(pen[j]);
	lapack_int rank;
	lapack_int info = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, rows, cols, 1, A, cols,
	                                 B, 1, S, 1e-10, &rank);
	if (info == 0)
		memcpy(out, B, sizeof *out * (size_t)cols);
	free(A), free(B), free(S);
	return info == 0 ? 0 : -1;
}

/* Least squares on the columns of A (m x n, row-major) flagged in use[];
 * z gets the solution there and 0 elsewhere. Returns 0 or -1. */
static int ls_subset(const double *A, const double *b, int m, int n,
                     const unsigned char *use, double *z)
{
	int k = 0, col[NCOL + 1];
	for (int j = 0; j < n; j++)
		if (use[j])
			col[k++] = j;
	for (int j = 0; j < n; j++)
		z[j] = 0;
	if (!k)
		return 0;
	double *S = gos_malloc(sizeof *S * (size_t)k);
	double *M = gos_malloc(sizeof *M * (size_t)m * k);
	double *r = gos_malloc(sizeof *r * (size_t)(m > k ? m : k));
	int rc = -1;
	if (S && M && r) {
		for (int i = 0; i < m; i++) {
			for (int t = 0; t < k; t++)
				M[(size_t)i * k + t] = A[(size_t)i * n + col[t]];
			r[i] = b[i];
		}
		lapack_int rank;
		if (LAPACKE_dgelsd(LAPACK_ROW_MAJOR, m, k, 1, M, k, r, 1, S, 1e-12, &rank) == 0) {
			for (int t = 0; t < k; t++)
				z[col[t]] = r[t];
			rc = 0;
		}
	}
	free(S), free(M), free(r);
	return rc;
}

int gos_nnls(const double *A, const double *b, int m, int n, double *x)
{
	if (n > NCOL + 1)
		return -1;
	unsigned char P[NCOL + 1] = {0};
	double w[NCOL + 1], z[NCOL + 1];
	double *res = gos_malloc(sizeof *res * (size_t)(m > 0 ? m : 1));
	if (!res)
		return -1;
	for (int j = 0; j < n; j++)
		x[j] = 0;
	int rc = 0;
	for (int outer = 0; outer < 3 * n + 10; outer++) {
		/* gradient w = A^T (b - A x) */
		double wmax = 0;
		for (int i = 0; i < m; i++) {
			double f = b[i];
			for (int j = 0; j < n; j++)
				f -= A[(size_t)i * n + j] * x[j];
			res[i] = f;
		}
		for (int j = 0; j < n; j++) {
			w[j] = 0;
			for (int i = 0; i < m; i++)
				w[j] += A[(size_t)i * n + j] * res[i];
			if (fabs(w[j]) > wmax)
				wmax = fabs(w[j]);
		}
		int jmax = -1;
		for (int j = 0; j < n; j++)
			if (!P[j] && w[j] > 1e-12 * (wmax > 1 ? wmax : 1) && (jmax < 0 || w[j] > w[jmax]))
				jmax = j;
		if (jmax < 0)
			break;
		P[jmax] = 1;
		for (int inner = 0; inner < 3 * n + 10; inner++) {
			if (ls_subset(A, b, m, n, P, z)) {
				rc = -1;
				goto done;
			}
			int feasible = 1;
			for (int j = 0; j < n; j++)
				if (P[j] && z[j] <= 0)
					feasible = 0;
			if (feasible)
				break;
			double alpha = 1;
			for (int j = 0; j < n; j++)
				if (P[j] && z[j] <= 0 && x[j] - z[j] > 0 && x[j] / (x[j] - z[j]) < alpha)
					alpha = x[j] / (x[j] - z[j]);
			for (int j = 0; j < n; j++) {
				x[j] += alpha * (z[j] - x[j]);
				if (P[j] && x[j] <= 1e-14) {
					P[j] = 0;
					x[j] = 0;
				}
			}
		}
		for (int j = 0; j < n; j++)
			x[j] = P[j] ? z[j] : 0;
	}
done:
	free(res);
	return rc;
}

/* As weighted_ridge, with w >= 0: the intercept is eliminated by centring
 * with the weights c (its optimum given w is the weighted mean residual). */
static int weighted_ridge_nonneg(const double *Z, const double *y, const double *c,
                                 const double *pen, int n, int q, double *out)
{
	double cs = 0, zb[NCOL + 1] = {0}, yb = 0;
	for (int i = 0; i < n; i++) {
		cs += c[i];
		yb += c[i] * y[i];
		for (int j = 0; j < q; j++)
			zb[j] += c[i] * Z[(size_t)i * q + j];
	}
	yb /= cs;
	for (int j = 0; j < q; j++)
		zb[j] /= cs;
	int rows = n + q;
	double *A = gos_calloc((size_t)rows * (q > 0 ? q : 1), sizeof *A);
	double *B = gos_calloc((size_t)rows, sizeof *B);
	int rc = -1;
	if (A && B) {
		for (int i = 0; i < n; i++) {
			double sc = sqrt(c[i]);
			for (int j = 0; j < q; j++)
				A[(size_t)i * q + j] = sc * (Z[(size_t)i * q + j] - zb[j]);
			B[i] = sc * (y[i] - yb);
		}
		for (int j = 0; j < q; j++)
			A[(size_t)(n + j) * q + j] = sqrt(pen[j]);
		if (gos_nnls(A, B, rows, q, out) == 0) {
			out[q] = yb;
			for (int j = 0; j < q; j++)
				out[q] -= zb[j] * out[j];
			rc = 0;
		}
	}
	free(A), free(B);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of v[0..n) (v is reordered). */
static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int gos_cost_fit_quantile(const double *X, const double *y, int n, int p,
                          const double *pen, double tau, double lambda,
                          int nonneg, int iters, gos_cost_model *m)
{
	int (*solve)(const double *, const double *, const double *, const double *,
	             int, int, double *) = nonneg ? weighted_ridge_nonneg : weighted_ridge;
	if (n < 1 || p > NCOL)
		return -1;
	int idx[NCOL], q = 0;
	double pz[NCOL];
	for (int j = 0; j < NCOL; j++) {
		m->used[j] = 0;
		m->mu[j] = 0;
		m->sd[j] = 1;
		m->w[j] = 0;
	}
	for (int j = 0; j < p; j++) {
		double mu = 0, ss = 0;
		for (int i = 0; i < n; i++)
			mu += X[(size_t)i * p + j];
		mu /= n;
		for (int i = 0; i < n; i++) {
			double e = X[(size_t)i * p + j] - mu;
			ss += e * e;
		}
		double sd = sqrt(ss / n);
		m->mu[j] = mu;
		if (sd > 1e-12 * (fabs(mu) + 1e-300) && sd > 0) {
			m->sd[j] = sd;
			m->used[j] = 1;
			pz[q] = lambda * n * (pen ? pen[j] : 1.0);
			idx[q++] = j;
		}
	}
	double *Z = gos_malloc(sizeof *Z * (size_t)n * (q > 0 ? q : 1));
	double *c = gos_malloc(sizeof *c * (size_t)n);
	double *r = gos_malloc(sizeof *r * (size_t)n);
	double sol[NCOL + 1];
	int rc = -1;
	if (!Z || !c || !r)
		goto done;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < q; k++) {
			int j = idx[k];
			Z[(size_t)i * q + k] = (X[(size_t)i * p + j] - m->mu[j]) / m->sd[j];
		}
		c[i] = 1;
	}
	if (solve(Z, y, c, pz, n, q, sol))
		goto done;
	for (int it = 0; tau > 0 && tau < 1 && it < iters; it++) {
		for (int i = 0; i < n; i++) {
			double f = sol[q];
			for (int k = 0; k < q; k++)
				f += Z[(size_t)i * q + k] * sol[k];
			r[i] = y[i] - f;
			c[i] = fabs(r[i]);
		}
		double s = median(c, n);
		if (!(s > 1e-12))
			break; /* (nearly) exact fit: nothing to reweight */
		for (int i = 0; i < n; i++) {
			double a = fabs(r[i]) > 1e-4 * s ? fabs(r[i]) : 1e-4 * s;
			c[i] = 2.0 * s * (r[i] > 0 ? tau : 1 - tau) / a;
		}
		double prev[NCOL + 1];
		memcpy(prev, sol, sizeof prev);
		if (solve(Z, y, c, pz, n, q, sol))
			goto done;
		double ch = 0, mag = 0;
		for (int k = 0; k <= q; k++) {
			ch += fabs(sol[k] - prev[k]);
			mag += fabs(sol[k]);
		}
		if (ch <= 1e-9 * (mag + 1e-12))
			break;
	}
	for (int k = 0; k < q; k++)
		m->w[idx[k]] = sol[k];
	m->intercept = sol[q];
	rc = 0;
done:
	free(Z), free(c), free(r);
	return rc;
}

/* ---- applying a model ---------------------------------------------------------- */

void gos_cost_model_row(const gos_cost_model *m, const gos_cost_sample *s,
                        double *row)
{
	double analytic = 0, gflop = 0;
	for (int j = 0; j < GOS_COST_NFEAT; j++) {
		row[j] = m->fold == GOS_COST_FOLD_UNKNOWN ? 0.5 * (s->x_all[j] + s->x_fold[j])
		         : m->fold ? s->x_fold[j] : s->x_all[j];
		if (j % GOS_COST_PER_KIND == 0)
			analytic += row[j];
		if (j % GOS_COST_PER_KIND == 1)
			gflop += row[j];
	}
	row[PRIOR_COL] = m->prior_proxy ? s->proxy : analytic;
	row[FLOPS_COL] = gflop;
}

double gos_cost_model_eval(const gos_cost_model *m, const double *row)
{
	double y = m->intercept;
	for (int j = 0; j < NCOL; j++)
		if (m->used[j])
			y += m->w[j] * (row[j] - m->mu[j]) / m->sd[j];
	return y;
}

void gos_cost_model_score(const gos_cost_model *m, const gos_cost_sample *s, int n,
                          double *spearman, double *mape)
{
	double *pred = gos_malloc(sizeof *pred * (size_t)(n > 0 ? n : 1));
	double *y = gos_malloc(sizeof *y * (size_t)(n > 0 ? n : 1));
	*spearman = NAN;
	*mape = NAN;
	if (pred && y && n > 0) {
		double e = 0, row[NCOL];
		for (int i = 0; i < n; i++) {
			gos_cost_model_row(m, &s[i], row);
			pred[i] = gos_cost_model_eval(m, row);
			y[i] = s[i].y;
			e += fabs(pred[i] - y[i]) / y[i];
		}
		*spearman = gos_spearman(pred, y, n);
		*mape = 100.0 * e / n;
	}
	free(pred), free(y);
}

/* ---- model selection ----------------------------------------------------------- */

/* The model row of sample s with the columns outside mask set to 0 (so
 * the fit finds them constant and leaves them out). */
static void row_masked(const gos_cost_model *m, const gos_cost_sample *s,
                       unsigned mask, double *row)
{
	gos_cost_model_row(m, s, row);
	for (int j = 0; j < GOS_COST_NFEAT; j++)
		if (!(mask & (1u << (j % GOS_COST_PER_KIND))))
			row[j] = 0;
	if (!(mask & GOS_COST_COL_PRIOR))
		row[PRIOR_COL] = 0;
	if (!(mask & GOS_COST_COL_FLOPS))
		row[FLOPS_COL] = 0;
}

typedef struct choice {
	double tau, lambda;
	double sp;  /* leave-one-out Spearman (-2 if undefined) */
	double mae; /* leave-one-out mean absolute error */
	double mape;
	unsigned mask; /* GOS_COST_COL_* columns */
	int fam;       /* index in families[] */
} choice;

/* The model families fit chooses among, simplest first: the prior (the
 * analytic model, or the proxy, scaled: ranks exactly as the unfitted
 * analytic model), the FLOPs count (scaled), per-kind times and dispatch counts with the prior,
 * and every feature group with the prior. A family later in the list must
 * beat an earlier one's leave-one-out Spearman by `margin` to be chosen
 * (with 10..60 samples a richer model's validation score is noisier). */
static const struct family {
	const char *name;
	unsigned mask;   /* GOS_COST_COL_* (0: the requested columns) */
	double margin;
} families[] = {
	{"prior", GOS_COST_COL_PRIOR, 0},
	{"flops", GOS_COST_COL_FLOPS, 0},
	{"per-kind", GOS_COST_COL_MS | GOS_COST_COL_NODES | GOS_COST_COL_PRIOR, GOS_COST_FIT_MARGIN},
	{"full", 0, GOS_COST_FIT_MARGIN},
};
#define NFAMILY ((int)(sizeof families / sizeof families[0]))

/* Is c a better choice than the best so far (b)? Within a family (a
 * quantile or ridge strength): the higher leave-one-out Spearman, ties by
 * absolute error. Across families: the lower leave-one-out absolute error
 * (richer families by the factor 1 - margin), as long as the Spearman
 * does not fall by more than margin. */
static int better(const choice *c, const choice *b, double margin)
{
	if (b->fam < 0)
		return 1;
	if (c->fam == b->fam)
		return c->sp > b->sp + 1e-12 ||
		       (fabs(c->sp - b->sp) <= 1e-12 && c->mae < b->mae);
	return c->mae < (1 - margin) * b->mae && c->sp >= b->sp - margin;
}

const char *gos_cost_family_name(int i)
{
	return i >= 0 && i < NFAMILY ? families[i].name : "?";
}

int gos_cost_nfamilies(void)
{
	return NFAMILY;
}

/* Leave-one-out predictions of the (tau, lambda) fit on rows X (n x NCOL). */
static int loo(const double *X, const double *y, int n, const double *pen,
               double tau, double lambda, int nonneg, int iters, double *pred)
{
	double *Xs = gos_malloc(sizeof *Xs * (size_t)n * NCOL);
	double *ys = gos_malloc(sizeof *ys * (size_t)n);
	if (!Xs || !ys) {
		free(Xs), free(ys);
		return -1;
	}
	int rc = 0;
	for (int out = 0; out < n && !rc; out++) {
		int k = 0;
		for (int i = 0; i < n; i++) {
			if (i == out)
				continue;
			memcpy(Xs + (size_t)k * NCOL, X + (size_t)i * NCOL, sizeof *Xs * NCOL);
			ys[k++] = y[i];
		}
		gos_cost_model mm;
		memset(&mm, 0, sizeof mm);
		rc = gos_cost_fit_quantile(Xs, ys, k, NCOL, pen, tau, lambda, nonneg, iters, &mm);
		if (!rc)
			pred[out] = gos_cost_model_eval(&mm, X + (size_t)out * NCOL);
	}
	free(Xs), free(ys);
	return rc;
}

/* The quantile that tracks the mode of the noise: fits the median, and
 * if its residuals are skewed (Bowley's quartile skewness beyond +-0.1)
 * moves to the side of the bulk: 0.7 when the long tail is below (a few
 * runs much faster than the rest), 0.3 when it is above (a few much
 * slower), else 0.5. */
static int skew_tau(const double *X, const double *y, int n, const double *pen,
                    double lambda, int nonneg, int iters, double *tau)
{
	gos_cost_model mm;
	memset(&mm, 0, sizeof mm);
	if (gos_cost_fit_quantile(X, y, n, NCOL, pen, 0.5, lambda, nonneg, iters, &mm))
		return -1;
	double *r = gos_malloc(sizeof *r * (size_t)n);
	if (!r)
		return -1;
	for (int i = 0; i < n; i++)
		r[i] = y[i] - gos_cost_model_eval(&mm, X + (size_t)i * NCOL);
	qsort(r, (size_t)n, sizeof *r, cmp_double);
	double q[3];
	for (int k = 0; k < 3; k++) { /* linear interpolation, as numpy */
		double pos = (k + 1) * 0.25 * (n - 1);
		int lo = (int)pos;
		double fr = pos - lo;
		q[k] = lo + 1 < n ? r[lo] * (1 - fr) + r[lo + 1] * fr : r[lo];
	}
	free(r);
	double iqr = q[2] - q[0];
	double bowley = iqr > 0 ? (q[2] + q[0] - 2 * q[1]) / iqr : 0;
	*tau = bowley < -0.1 ? 0.7 : bowley > 0.1 ? 0.3 : 0.5;
	return 0;
}

int gos_cost_fit(const gos_cost_sample *s, int n, int prior_proxy,
                 const gos_cost_fitopts *opts, gos_cost_model *m, gos_diags *d)
{
	gos_cost_fitopts o = opts ? *opts : (gos_cost_fitopts){0};
	int auto_tau = o.n_tau <= 0;
	if (o.n_lambda <= 0) {
		o.n_lambda = 1;
		o.lambda[0] = 1e-3;
	}
	if (o.irls_iters <= 0)
		o.irls_iters = 50;
	if (n < 3) {
		gos_error(d, (gos_loc){0}, "fit needs at least 3 measured models, got %d", n);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (!(s[i].y > 0) || !isfinite(s[i].y)) {
			gos_error(d, (gos_loc){0}, "sample %d: latency must be a positive number", i + 1);
			return -1;
		}
		if (prior_proxy && !isfinite(s[i].proxy)) {
			gos_error(d, (gos_loc){0}, "sample %d: no proxy measurement", i + 1);
			return -1;
		}
	}
	double pen[NCOL];
	for (int j = 0; j < NCOL; j++)
		pen[j] = 1;
	if (!o.no_prior)
		pen[PRIOR_COL] = 0;

	double *X = gos_malloc(sizeof *X * (size_t)n * NCOL);
	double *y = gos_malloc(sizeof *y * (size_t)n);
	double *pred = gos_malloc(sizeof *pred * (size_t)n);
	int rc = -1;
	if (!X || !y || !pred) {
		gos_error(d, (gos_loc){0}, "out of memory");
		goto done;
	}
	for (int i = 0; i < n; i++)
		y[i] = s[i].y;

	int folds[2], nf = 0;
	if (o.fold <= 0)
		folds[nf++] = 0;
	if (o.fold >= 0)
		folds[nf++] = 1;
	choice best[2];
	for (int f = 0; f < nf; f++) {
		gos_cost_model tmp;
		memset(&tmp, 0, sizeof tmp);
		tmp.fold = folds[f];
		tmp.prior_proxy = prior_proxy;
		best[f] = (choice){0, 0, -3, INFINITY, INFINITY, 0, -1};
		for (int fam = 0; fam < NFAMILY; fam++) {
			unsigned mask = families[fam].mask ? families[fam].mask
			                : o.columns ? o.columns
			                : GOS_COST_COL_MS | GOS_COST_COL_GFLOP | GOS_COST_COL_MB |
			                  GOS_COST_COL_NODES | GOS_COST_COL_PRIOR;
			int requested = families[fam].mask == 0;
			if (o.no_fallback && !requested)
				continue;
			for (int i = 0; i < n; i++)
				row_masked(&tmp, &s[i], mask, X + (size_t)i * NCOL);
			int ntau = o.n_tau;
			double taus[8];
			memcpy(taus, o.tau, sizeof taus);
			if (auto_tau) {
				ntau = 1;
				if (skew_tau(X, y, n, pen, o.lambda[0], !o.allow_negative,
				             o.irls_iters, &taus[0])) {
					gos_error(d, (gos_loc){0}, "fit: least-squares solver failed");
					goto done;
				}
			}
			for (int a = 0; a < ntau; a++) {
				for (int b = 0; b < o.n_lambda; b++) {
					if (loo(X, y, n, pen, taus[a], o.lambda[b], !o.allow_negative,
					               o.irls_iters, pred)) {
						gos_error(d, (gos_loc){0}, "fit: least-squares solver failed");
						goto done;
					}
					choice c = {taus[a], o.lambda[b],
					            gos_spearman(pred, y, n), 0, 0, mask, fam};
					if (isnan(c.sp))
						c.sp = -2;
					for (int i = 0; i < n; i++) {
						c.mae += fabs(pred[i] - y[i]) / n;
						c.mape += 100.0 * fabs(pred[i] - y[i]) / y[i] / n;
					}
					if (better(&c, &best[f], families[fam].margin))
						best[f] = c;
				}
			}
		}
		if (best[f].fam < 0) {
			gos_error(d, (gos_loc){0}, "fit: no model family to choose from");
			goto done;
		}
	}
	int pick = 0;
	if (nf == 2 && best[1].mae < 0.8 * best[0].mae)
		pick = 1;
	/* no sample has foldable work: the samples cannot tell whether the
	 * device folds constants, so the model takes the mean of both costs */
	int undecided = o.fold == 0;
	for (int i = 0; i < n && undecided; i++)
		if (memcmp(s[i].x_all, s[i].x_fold, sizeof s[i].x_all))
			undecided = 0;
	memset(m, 0, sizeof *m);
	m->fold = undecided ? GOS_COST_FOLD_UNKNOWN : folds[pick];
	m->prior_proxy = prior_proxy;
	m->tau = best[pick].tau;
	m->lambda = best[pick].lambda;
	snprintf(m->family, sizeof m->family, "%s", families[best[pick].fam].name);
	m->n_samples = n;
	m->loo_spearman = best[pick].sp < -1 ? NAN : best[pick].sp;
	m->loo_mape = best[pick].mape;
	for (int i = 0; i < n; i++)
		row_masked(m, &s[i], best[pick].mask, X + (size_t)i * NCOL);
	{
		gos_cost_model fitted = *m;
		if (gos_cost_fit_quantile(X, y, n, NCOL, pen, m->tau, m->lambda,
		                          !o.allow_negative, o.irls_iters, &fitted)) {
			gos_error(d, (gos_loc){0}, "fit: least-squares solver failed");
			goto done;
		}
		*m = fitted;
	}
	rc = 0;
done:
	free(X), free(y), free(pred);
	return rc;
}

/* ---- per-node profiles ------------------------------------------------------------ */

int gos_cost_fit_profile(const gos_cost_prof_node *p, int n, gos_cost_model *m,
                         gos_diags *d)
{
	if (n < 1) {
		gos_error(d, (gos_loc){0}, "fit: no profiled nodes");
		return -1;
	}
	double meas = 0, ana = 0;
	for (int i = 0; i < n; i++) {
		if (!isfinite(p[i].measured_ms) || p[i].measured_ms < 0 ||
		    !isfinite(p[i].analytic_ms) || p[i].analytic_ms < 0 ||
		    (unsigned)p[i].kind >= GOS_NKINDS) {
			gos_error(d, (gos_loc){0}, "fit: profiled node %d: bad time or kind", i + 1);
			return -1;
		}
		meas += p[i].measured_ms;
		ana += p[i].analytic_ms;
	}
	double ratio = ana > 0 ? meas / ana : 1;
	memset(m, 0, sizeof *m);
	snprintf(m->family, sizeof m->family, "profile");
	m->n_samples = n;
	m->loo_spearman = NAN;
	for (int j = 0; j < NCOL; j++)
		m->sd[j] = 1;
	double *A = gos_malloc(sizeof *A * 2 * (size_t)n), *b = gos_malloc(sizeof *b * (size_t)n);
	if (!A || !b) {
		free(A), free(b);
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	double ape = 0;
	for (int k = 0; k < GOS_NKINDS; k++) {
		int r = 0;
		for (int i = 0; i < n; i++) {
			if (p[i].kind != (gos_cost_kind)k)
				continue;
			A[2 * r] = p[i].analytic_ms;
			A[2 * r + 1] = p[i].dispatched ? 1 : 0;
			b[r++] = p[i].measured_ms;
		}
		double x[2] = {ratio, 0};
		if (r > 0 && gos_nnls(A, b, r, 2, x)) {
			free(A), free(b);
			gos_error(d, (gos_loc){0}, "fit: least-squares solver failed");
			return -1;
		}
		int jm = GOS_COST_PER_KIND * k, jn = jm + 3;
		m->used[jm] = m->used[jn] = 1;
		m->w[jm] = x[0];
		m->w[jn] = x[1];
		for (int i = 0; i < r; i++) {
			double f = x[0] * A[2 * i] + x[1] * A[2 * i + 1];
			ape += b[i] > 0 ? fabs(f - b[i]) / b[i] : 0;
		}
	}
	m->loo_mape = 100.0 * ape / n; /* in-sample, per node */
	free(A), free(b);
	return 0;
}

/* ---- model files ----------------------------------------------------------------- */

static const char *col_name(int j)
{
	return j == PRIOR_COL ? "prior" : j == FLOPS_COL ? "total_gflop" : gos_cost_feature_name(j);
}

void gos_cost_model_save(const gos_cost_model *m, FILE *out)
{
	fprintf(out, "gos-cost-model 1\n");
	fprintf(out, "target %s\n", m->target[0] ? m->target : "generic");
	fprintf(out, "family %s\n", m->family[0] ? m->family : "full");
	fprintf(out, "fold %d\n", m->fold);
	fprintf(out, "prior %s\n", m->prior_proxy ? "proxy" : "analytic");
	fprintf(out, "tau %.17g\n", m->tau);
	fprintf(out, "lambda %.17g\n", m->lambda);
	fprintf(out, "n_samples %d\n", m->n_samples);
	fprintf(out, "loo_spearman %.6f\n", m->loo_spearman);
	fprintf(out, "loo_mape %.3f\n", m->loo_mape);
	fprintf(out, "intercept %.17g\n", m->intercept);
	fprintf(out, "# column mean sd weight (y = intercept + sum weight*(x-mean)/sd)\n");
	for (int j = 0; j < NCOL; j++)
		if (m->used[j])
			fprintf(out, "col %s %.17g %.17g %.17g\n", col_name(j), m->mu[j],
			        m->sd[j], m->w[j]);
}

int gos_cost_model_load(gos_cost_model *m, const char *file, const char *text,
                        size_t len, gos_diags *d)
{
	memset(m, 0, sizeof *m);
	for (int j = 0; j < NCOL; j++)
		m->sd[j] = 1;
	int line = 0, errors = 0, have_magic = 0, have_intercept = 0;
	size_t pos = 0;
	while (pos < len) {
		size_t e = pos;
		while (e < len && text[e] != '\n')
			e++;
		line++;
		char buf[512];
		size_t nb = e - pos < sizeof buf - 1 ? e - pos : sizeof buf - 1;
		memcpy(buf, text + pos, nb);
		buf[nb] = 0;
		pos = e + 1;
		char *sp = buf;
		while (isspace((unsigned char)*sp))
			sp++;
		if (!*sp || *sp == '#')
			continue;
		char key[64], a[128];
		double v[3];
		gos_loc loc = {file, line, 1};
		if (sscanf(sp, "%63s", key) != 1)
			continue;
		if (!strcmp(key, "gos-cost-model")) {
			int ver = 0;
			if (sscanf(sp, "%*s %d", &ver) != 1 || ver != 1) {
				gos_error(d, loc, "unsupported model file version");
				errors++;
			}
			have_magic = 1;
		} else if (!have_magic) {
			gos_error(d, loc, "not a gos-cost model file (expected `gos-cost-model 1`)");
			return -1;
		} else if (!strcmp(key, "target")) {
			if (sscanf(sp, "%*s %63s", m->target) != 1)
				goto bad;
		} else if (!strcmp(key, "family")) {
			if (sscanf(sp, "%*s %15s", m->family) != 1)
				goto bad;
		} else if (!strcmp(key, "fold")) {
			if (sscanf(sp, "%*s %d", &m->fold) != 1)
				goto bad;
		} else if (!strcmp(key, "prior")) {
			if (sscanf(sp, "%*s %127s", a) != 1)
				goto bad;
			if (!strcmp(a, "proxy"))
				m->prior_proxy = 1;
			else if (strcmp(a, "analytic"))
				goto bad;
		} else if (!strcmp(key, "tau")) {
			if (sscanf(sp, "%*s %lf", &m->tau) != 1)
				goto bad;
		} else if (!strcmp(key, "lambda")) {
			if (sscanf(sp, "%*s %lf", &m->lambda) != 1)
				goto bad;
		} else if (!strcmp(key, "n_samples")) {
			if (sscanf(sp, "%*s %d", &m->n_samples) != 1)
				goto bad;
		} else if (!strcmp(key, "loo_spearman")) {
			if (sscanf(sp, "%*s %lf", &m->loo_spearman) != 1)
				goto bad;
		} else if (!strcmp(key, "loo_mape")) {
			if (sscanf(sp, "%*s %lf", &m->loo_mape) != 1)
				goto bad;
		} else if (!strcmp(key, "intercept")) {
			if (sscanf(sp, "%*s %lf", &m->intercept) != 1)
				goto bad;
			have_intercept = 1;
		} else if (!strcmp(key, "col")) {
			if (sscanf(sp, "%*s %127s %lf %lf %lf", a, &v[0], &v[1], &v[2]) != 4)
				goto bad;
			int j;
			for (j = 0; j < NCOL; j++)
				if (!strcmp(a, col_name(j)))
					break;
			if (j == NCOL) {
				gos_error(d, loc, "unknown column `%s`", a);
				errors++;
				continue;
			}
			if (!(v[1] > 0)) {
				gos_error(d, loc, "column `%s`: sd must be positive", a);
				errors++;
				continue;
			}
			m->used[j] = 1;
			m->mu[j] = v[0];
			m->sd[j] = v[1];
			m->w[j] = v[2];
		} else {
			gos_error(d, loc, "unknown key `%s`", key);
			errors++;
		}
		continue;
	bad:
		gos_error(d, loc, "malformed `%s` line", key);
		errors++;
	}
	if (!have_magic) {
		gos_error(d, (gos_loc){file, 0, 0}, "empty model file");
		return -1;
	}
	if (!have_intercept) {
		gos_error(d, (gos_loc){file, 0, 0}, "model file has no intercept");
		errors++;
	}
	return errors ? -1 : 0;
}

int gos_cost_model_read(gos_cost_model *m, const char *path, gos_diags *d)
{
	size_t len;
	char *text = gos_read_file(d, path, &len);
	if (!text)
		return -1;
	const char *file = gos_diags_source(d, path, text, len);
	int rc = gos_cost_model_load(m, file, text, len, d);
	free(text);
	return rc;
}
