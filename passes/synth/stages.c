/* stages.c -- the first stage of a fitted two-stage rule, chosen on the
 * calibration data (gos_synth_stage1 in synth.h). The pair is
 *   Z[j, s] = sum(e) A[j, e] x_s[e]                (j < m, s < S)
 *   Y[k]    = B[k] + sum(j, s) G[k, j, s] Z[j, s]
 * with x_s[e] = patch[e S + s] the s-th of S shifted sub-patches
 * (separable:m: e = (c, r), s the 1 x k tap; lowrank:r: S = 1, e the
 * whole patch). The weight's SVD gives an A blind to the data; this one
 * minimises the output error on the fit positions instead:
 *   1. start: the SVD of the weight whitened by the sub-patches' second
 *      moment Sg (A = L^-T U_m for Sg = L L^T, L^T W = U S V^T): the best
 *      rank-m weight in the data's metric, shifts taken apart;
 *   2. alternating least squares: G given A (normal equations of the S m
 *      features), then A given G (preconditioned conjugate gradients on
 *      the E x m system sum(s, t) C_st A G_t G_s^T = sum(s) X_s^T Y G_s^T,
 *      preconditioned by Sg^-1 . (sum(s) G_s G_s^T)^-1), while the loss
 *      falls by more than 0.1% a round.
 * dwsep's depthwise filters are fitted the same way from its rank-1
 * splits (gos_synth_depthwise_stage): the pointwise mix given the filters,
 * then the filters given the mix, a direct solve of C k_h k_w unknowns.
 * Everything runs on the centred second moments of patches and outputs,
 * gathered in one pass over the data, so a round costs no pass. */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rounds of alternating least squares at most; a round that lowers the
 * loss by less than ROUND_TOL of it ends them. */
enum { ROUNDS = 4, CG_STEPS = 40, BLOCK = 512 };
#define ROUND_TOL 1e-3

typedef struct moments {
	int64_t S, E, m, K;
	double *P;   /* [S E][S E]: P[(s, e), (t, f)] = sum (x_s[e] - mu)(x_t[f] - mu) */
	double *XY;  /* [S E][K]:   sum (x_s[e] - mu)(y[k] - ym) */
	double yy;   /* sum |y - ym|^2 */
	double *Sg;  /* [E][E]: mean over s of P's diagonal blocks, plus a ridge */
} moments;

/* The centred moments of sd's fit positions, ordered by shift. */
static int gather(const gos_synth_data *sd, moments *mo)
{
	int64_t D = sd->D, K = sd->K, rows = sd->fit_rows, S = mo->S, E = mo->E;
	double *g = gos_calloc((size_t)(D * D + D * K + D + K), sizeof(double));
	double *pb = gos_malloc(sizeof(double) * (size_t)(BLOCK * (D + K)));
	int rc = -1;
	if (!g || !pb)
		goto done;
	double *xy = g + D * D, *mu = xy + D * K, *ym = mu + D, *yb = pb + BLOCK * D, yy = 0;
	for (int64_t i0 = 0; i0 < rows; i0 += BLOCK) {
		int64_t nb = rows - i0 < BLOCK ? rows - i0 : BLOCK;
		for (int64_t i = 0; i < nb; i++)
			gos_synth_data_row(sd, gos_synth_data_pos(sd, i0 + i, rows), pb + i * D, yb + i * K);
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (blasint)D, (blasint)nb, 1.0, pb,
		            (blasint)D, 1.0, g, (blasint)D);
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)D, (blasint)K, (blasint)nb,
		            1.0, pb, (blasint)D, yb, (blasint)K, 1.0, xy, (blasint)K);
		for (int64_t i = 0; i < nb; i++) {
			for (int64_t e = 0; e < D; e++)
				mu[e] += pb[i * D + e];
			for (int64_t k = 0; k < K; k++)
				ym[k] += yb[i * K + k], yy += yb[i * K + k] * yb[i * K + k];
		}
	}
	double n = (double)rows;
	for (int64_t e = 0; e < D; e++)
		mu[e] /= n;
	for (int64_t k = 0; k < K; k++)
		ym[k] /= n, yy -= n * ym[k] * ym[k];
	mo->yy = yy;
	/* centre, and order rows and columns by shift: patch index e S + s */
	for (int64_t a = 0; a < D; a++) {
		int64_t pa = (a % S) * E + a / S;
		for (int64_t b = 0; b <= a; b++) {
			int64_t pbi = (b % S) * E + b / S;
			double v = g[a * D + b] - n * mu[a] * mu[b];
			mo->P[pa * D + pbi] = mo->P[pbi * D + pa] = v;
		}
		for (int64_t k = 0; k < K; k++)
			mo->XY[pa * K + k] = xy[a * K + k] - n * mu[a] * ym[k];
	}
	double tr = 0;
	for (int64_t e = 0; e < E; e++)
		for (int64_t f = 0; f < E; f++) {
			double v = 0;
			for (int64_t s = 0; s < S; s++)
				v += mo->P[(s * E + e) * D + s * E + f];
			mo->Sg[e * E + f] = v / (double)S;
			tr += e == f ? v / (double)S : 0;
		}
	for (int64_t e = 0; e < E; e++) /* a channel that never fires */
		mo->Sg[e * E + e] += 1e-6 * (tr > 0 ? tr / (double)E : 1);
	rc = 0;
done:
	free(g);
	free(pb);
	return rc;
}

/* The inverse of the symmetric positive definite n x n matrix a, in
 * place (both triangles). Returns 0, or -1 when it is not. */
static int spd_inverse(double *a, int64_t n)
{
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a, (lapack_int)n) ||
	    LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a, (lapack_int)n))
		return -1;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < i; j++)
			a[j * n + i] = a[i * n + j];
	return 0;
}

/* The start: A (E x m) = L^-T U_m, from wt (K x D, D = E S). */
static int whitened_start(const moments *mo, const float *wt, double *A)
{
	int64_t S = mo->S, E = mo->E, K = mo->K, m = mo->m, D = E * S, cols = K * S;
	int64_t kk = E < cols ? E : cols;
	double *L = gos_malloc(sizeof(double) * (size_t)(E * E));
	double *b = gos_malloc(sizeof(double) * (size_t)(E * cols));
	double *u = gos_malloc(sizeof(double) * (size_t)(E * kk));
	double *sv = gos_malloc(sizeof(double) * (size_t)(2 * kk));
	double *vt = gos_malloc(sizeof(double) * (size_t)(kk * cols));
	int rc = -1;
	if (!L || !b || !u || !sv || !vt || m > kk)
		goto done;
	memcpy(L, mo->Sg, sizeof(double) * (size_t)(E * E));
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)E, L, (lapack_int)E))
		goto done;
	for (int64_t e = 0; e < E; e++)
		for (int64_t k = 0; k < K; k++)
			for (int64_t s = 0; s < S; s++)
				b[e * cols + k * S + s] = wt[k * D + e * S + s];
	/* b = L^T W; its SVD; A = L^-T U_m */
	cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (blasint)E,
	            (blasint)cols, 1.0, L, (blasint)E, b, (blasint)cols);
	if (LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'S', 'S', (lapack_int)E, (lapack_int)cols, b,
	                   (lapack_int)cols, sv, u, (lapack_int)kk, vt, (lapack_int)cols, sv + kk))
		goto done;
	for (int64_t e = 0; e < E; e++)
		for (int64_t j = 0; j < m; j++)
			A[e * m + j] = u[e * kk + j];
	cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, (blasint)E,
	            (blasint)m, 1.0, L, (blasint)E, A, (blasint)m);
	rc = 0;
done:
	free(L);
	free(b);
	free(u);
	free(sv);
	free(vt);
	return rc;
}

/* G given A: Gm[(s, j)][k] minimising the loss; returns the loss, or -1. */
static double fit_second(const moments *mo, const double *A, double *Gm, double *work)
{
	int64_t S = mo->S, E = mo->E, m = mo->m, K = mo->K, D = S * E, nf = S * m;
	double *PA = work, *F = PA + D * nf, *FY = F + nf * nf;
	/* PA[:, t-block] = P[:, t-block] A; F[(s, .), (t, .)] = A^T PA[s-block, t-block] */
	for (int64_t t = 0; t < S; t++)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)D, (blasint)m, (blasint)E,
		            1.0, mo->P + t * E, (blasint)D, A, (blasint)m, 0.0, PA + t * m, (blasint)nf);
	for (int64_t s = 0; s < S; s++) {
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)m, (blasint)nf, (blasint)E,
		            1.0, A, (blasint)m, PA + s * E * nf, (blasint)nf, 0.0, F + s * m * nf,
		            (blasint)nf);
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)m, (blasint)K, (blasint)E,
		            1.0, A, (blasint)m, mo->XY + s * E * K, (blasint)K, 0.0, FY + s * m * K,
		            (blasint)K);
	}
	double tr = 0;
	for (int64_t i = 0; i < nf; i++)
		tr += F[i * nf + i];
	for (int64_t i = 0; i < nf; i++)
		F[i * nf + i] += 1e-10 * (tr > 0 ? tr / (double)nf : 1);
	memcpy(Gm, FY, sizeof(double) * (size_t)(nf * K));
	if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)nf, (lapack_int)K, F, (lapack_int)nf, Gm,
	                  (lapack_int)K))
		return -1;
	double loss = mo->yy;
	for (int64_t i = 0; i < nf * K; i++)
		loss -= Gm[i] * FY[i];
	return loss > 0 ? loss : 0;
}

/* out (E x m) = sum(s, t) C_st X H[t][s] + ridge X, with H = Gm Gm^T
 * ([S m][S m]) and PX ([S E][m]) a scratch. */
static void normal_op(const moments *mo, const double *H, double ridge, const double *X,
                      double *out, double *PX)
{
	int64_t S = mo->S, E = mo->E, m = mo->m, D = S * E, nf = S * m;
	for (int64_t i = 0; i < E * m; i++)
		out[i] = ridge * X[i];
	for (int64_t t = 0; t < S; t++) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)D, (blasint)m, (blasint)E,
		            1.0, mo->P + t * E, (blasint)D, X, (blasint)m, 0.0, PX, (blasint)m);
		for (int64_t s = 0; s < S; s++)
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)E, (blasint)m,
			            (blasint)m, 1.0, PX + s * E * m, (blasint)m, H + t * m * nf + s * m,
			            (blasint)nf, 1.0, out, (blasint)m);
	}
}

static double dot(const double *a, const double *b, int64_t n)
{
	double v = 0;
	for (int64_t i = 0; i < n; i++)
		v += a[i] * b[i];
	return v;
}

/* A given G, in place: conjugate gradients from the current A.
 * Sinv is Sg^-1 (E x E). Returns 0 or -1. */
static int fit_first(const moments *mo, const double *Sinv, const double *Gm, double *A,
                     double *work)
{
	int64_t S = mo->S, E = mo->E, m = mo->m, K = mo->K, nf = S * m, n = E * m;
	double *H = work, *Hs = H + nf * nf, *R = Hs + m * m, *r = R + n, *z = r + n, *p = z + n;
	double *q = p + n, *t = q + n, *PX = t + n;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nf, (blasint)nf, (blasint)K,
	            1.0, Gm, (blasint)K, Gm, (blasint)K, 0.0, H, (blasint)nf);
	/* R = sum(s) XY_s G_s^T; the preconditioner's Hs = (sum(s) G_s G_s^T)^-1 */
	memset(Hs, 0, sizeof(double) * (size_t)(m * m));
	for (int64_t s = 0; s < S; s++) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)E, (blasint)m, (blasint)K,
		            1.0, mo->XY + s * E * K, (blasint)K, Gm + s * m * K, (blasint)K,
		            s ? 1.0 : 0.0, R, (blasint)m);
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < m; j++)
				Hs[i * m + j] += H[(s * m + i) * nf + s * m + j];
	}
	double trh = 0, trs = 0;
	for (int64_t i = 0; i < m; i++)
		trh += Hs[i * m + i];
	for (int64_t i = 0; i < m; i++)
		Hs[i * m + i] += 1e-10 * (trh > 0 ? trh / (double)m : 1);
	if (spd_inverse(Hs, m))
		return -1;
	for (int64_t e = 0; e < E; e++)
		trs += mo->P[e * S * E + e];
	double ridge = 1e-12 * (trh / (double)m) * (trs / (double)E);
	/* r = R - op(A); z = M r; p = z */
	normal_op(mo, H, ridge, A, q, PX);
	for (int64_t i = 0; i < n; i++)
		r[i] = R[i] - q[i];
	double r0 = dot(R, R, n), rz = 0;
	for (int step = 0; step < CG_STEPS; step++) {
		if (dot(r, r, n) <= 1e-14 * r0)
			break;
		/* z = Sg^-1 r Hs */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)E, (blasint)m, (blasint)E,
		            1.0, Sinv, (blasint)E, r, (blasint)m, 0.0, t, (blasint)m);
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)E, (blasint)m, (blasint)m,
		            1.0, t, (blasint)m, Hs, (blasint)m, 0.0, z, (blasint)m);
		double rz1 = dot(r, z, n);
		if (step == 0)
			memcpy(p, z, sizeof(double) * (size_t)n);
		else
			for (int64_t i = 0; i < n; i++)
				p[i] = z[i] + rz1 / rz * p[i];
		rz = rz1;
		normal_op(mo, H, ridge, p, q, PX);
		double pq = dot(p, q, n);
		if (!(pq > 0))
			break;
		double al = rz / pq;
		for (int64_t i = 0; i < n; i++)
			A[i] += al * p[i], r[i] -= al * q[i];
	}
	return 0;
}

/* gos_synth_stage1 without the memo. */
static int stage1(const gos_synth_data *sd, int64_t S, int64_t m, const float *wt, double *a)
{
	int64_t D = sd->D, K = sd->K, E = D / S, nf = S * m;
	/* enough positions for either half's unknowns, and moments that fit */
	if (S < 1 || D % S || m < 1 || m > E || sd->fit_rows < 4 * (nf + 1) ||
	    sd->fit_rows * K < 4 * E * m || D > GOS_SYNTH_STAGE1_MAX_D)
		return 1;
	moments mo = {S, E, m, K, NULL, NULL, 0, NULL};
	mo.P = gos_malloc(sizeof(double) * (size_t)(D * D));
	mo.XY = gos_malloc(sizeof(double) * (size_t)(D * K));
	mo.Sg = gos_malloc(sizeof(double) * (size_t)(E * E));
	double *Sinv = gos_malloc(sizeof(double) * (size_t)(E * E));
	double *A = gos_malloc(sizeof(double) * (size_t)(E * m));
	double *best = gos_malloc(sizeof(double) * (size_t)(E * m));
	double *Gm = gos_malloc(sizeof(double) * (size_t)(nf * K));
	int64_t w1 = D * nf + nf * nf + nf * K, w2 = nf * nf + m * m + 7 * E * m + D * m;
	double *work = gos_malloc(sizeof(double) * (size_t)(w1 > w2 ? w1 : w2));
	int rc = -1;
	if (!mo.P || !mo.XY || !mo.Sg || !Sinv || !A || !best || !Gm || !work)
		goto done;
	if (gather(sd, &mo))
		goto done; /* out of memory */
	rc = 1;
	if (whitened_start(&mo, wt, A))
		goto done;
	memcpy(Sinv, mo.Sg, sizeof(double) * (size_t)(E * E));
	if (spd_inverse(Sinv, E))
		goto done;
	double prev = -1;
	for (int round = 0; round <= ROUNDS; round++) {
		double loss = fit_second(&mo, A, Gm, work);
		if (loss < 0)
			break;
		if (prev < 0 || loss < prev)
			memcpy(best, A, sizeof(double) * (size_t)(E * m));
		if (prev >= 0 && loss >= prev * (1 - ROUND_TOL))
			break;
		prev = loss;
		if (round == ROUNDS || fit_first(&mo, Sinv, Gm, A, work))
			break;
	}
	if (prev < 0)
		goto done;
	for (int64_t j = 0; j < m; j++)
		for (int64_t e = 0; e < E; e++)
			a[j * E + e] = best[e * m + j];
	rc = 0;
done:
	free(mo.P);
	free(mo.XY);
	free(mo.Sg);
	free(Sinv);
	free(A);
	free(best);
	free(Gm);
	free(work);
	return rc;
}

struct gos_synth_memo {
	int n, cap;
	struct memo_entry {
		char *key;
		int rc;     /* gos_synth_stage1's result */
		double *a;  /* [m][E] when rc is 0 */
	} *e;
};

gos_synth_memo *gos_synth_memo_new(void)
{
	return gos_calloc(1, sizeof(gos_synth_memo));
}

void gos_synth_memo_free(gos_synth_memo *mo)
{
	if (!mo)
		return;
	for (int i = 0; i < mo->n; i++)
		free(mo->e[i].key), free(mo->e[i].a);
	free(mo->e);
	free(mo);
}

/* The memo key of a fit: node, shapes, fit positions, where its data
 * lives and the weight's FNV-1a hash. NULL when out of memory. */
static char *memo_key(const gos_synth_data *sd, int64_t S, int64_t m, const float *wt)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *p = (const unsigned char *)wt;
	for (size_t i = 0; i < sizeof(float) * (size_t)(sd->K * sd->D); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	const char *nm = sd->node->name;
	size_t len = strlen(nm) + 128;
	char *k = gos_malloc(len);
	if (k)
		snprintf(k, len, "%s|%lld|%lld|%lld|%lld|%lld|%p|%p|%llx", nm, (long long)S,
		         (long long)m, (long long)sd->D, (long long)sd->K, (long long)sd->fit_rows,
		         (const void *)sd->x, (const void *)sd->y, (unsigned long long)h);
	return k;
}

int gos_synth_stage1(const gos_synth_calib *c, const gos_synth_data *sd, int64_t S, int64_t m,
                     const float *wt, double *a)
{
	gos_synth_memo *mo = c ? c->memo : NULL;
	if (!mo || sd->xown || sd->yown) /* kept only for data c->acts holds */
		return stage1(sd, S, m, wt, a);
	int64_t n = m * (sd->D / (S > 0 ? S : 1));
	char *key = memo_key(sd, S, m, wt);
	if (!key)
		return -1;
	for (int i = 0; i < mo->n; i++)
		if (!strcmp(mo->e[i].key, key)) {
			free(key);
			if (!mo->e[i].rc)
				memcpy(a, mo->e[i].a, sizeof(double) * (size_t)n);
			return mo->e[i].rc;
		}
	int rc = stage1(sd, S, m, wt, a);
	if (rc >= 0 && mo->n == mo->cap) {
		int cap = mo->cap ? 2 * mo->cap : 16;
		struct memo_entry *e = gos_realloc(mo->e, sizeof *e * (size_t)cap);
		if (e)
			mo->e = e, mo->cap = cap;
		else
			rc = -1;
	}
	if (rc < 0) {
		free(key);
		return rc;
	}
	double *keep = rc ? NULL : gos_malloc(sizeof(double) * (size_t)n);
	if (!rc && !keep) {
		free(key);
		return -1;
	}
	if (keep)
		memcpy(keep, a, sizeof(double) * (size_t)n);
	mo->e[mo->n++] = (struct memo_entry){key, rc, keep};
	return rc;
}

/* dwsep's depthwise filters given its pointwise mix: f (C x rs) solving
 * sum(c') H[c, c'] P[(c, t), (c', t')] f[c', t'] = sum(k) XY[(c, t), k] A[k, c]
 * with H = A^T A, A [K][C]. Returns 0 or -1. */
static int fit_depthwise(const moments *mo, int64_t C, const double *A, double *f, double *work)
{
	int64_t D = mo->E, K = mo->K, rs = D / C;
	double *H = work, *N = H + C * C;
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)C, (blasint)C, (blasint)K, 1.0,
	            A, (blasint)C, A, (blasint)C, 0.0, H, (blasint)C);
	double tr = 0;
	for (int64_t i = 0; i < D; i++) {
		for (int64_t j = 0; j < D; j++)
			N[i * D + j] = H[(i / rs) * C + j / rs] * mo->P[i * D + j];
		tr += N[i * D + i];
		double v = 0;
		for (int64_t k = 0; k < K; k++)
			v += mo->XY[i * K + k] * A[k * C + i / rs];
		f[i] = v;
	}
	for (int64_t i = 0; i < D; i++)
		N[i * D + i] += 1e-10 * (tr > 0 ? tr / (double)D : 1);
	return LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)D, 1, N, (lapack_int)D, f, 1) ? -1 : 0;
}

/* dwsep's pointwise mix given its depthwise filters f: A [K][C] by least
 * squares on the moments; returns the loss, or -1. */
static double fit_pointwise(const moments *mo, int64_t C, const double *f, double *A,
                            double *work)
{
	int64_t D = mo->E, K = mo->K, rs = D / C;
	double *F = work, *FY = F + C * C;
	for (int64_t c = 0; c < C; c++) {
		for (int64_t c2 = 0; c2 < C; c2++) {
			double v = 0;
			for (int64_t t = 0; t < rs; t++)
				for (int64_t t2 = 0; t2 < rs; t2++)
					v += f[c * rs + t] * mo->P[(c * rs + t) * D + c2 * rs + t2] * f[c2 * rs + t2];
			F[c * C + c2] = v;
		}
		for (int64_t k = 0; k < K; k++) {
			double v = 0;
			for (int64_t t = 0; t < rs; t++)
				v += f[c * rs + t] * mo->XY[(c * rs + t) * K + k];
			FY[c * K + k] = v;
		}
	}
	double tr = 0;
	for (int64_t c = 0; c < C; c++)
		tr += F[c * C + c];
	for (int64_t c = 0; c < C; c++)
		F[c * C + c] += 1e-10 * (tr > 0 ? tr / (double)C : 1);
	double *G = FY + C * K;
	memcpy(G, FY, sizeof(double) * (size_t)(C * K));
	if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', (lapack_int)C, (lapack_int)K, F, (lapack_int)C, G,
	                  (lapack_int)K))
		return -1;
	double loss = mo->yy;
	for (int64_t c = 0; c < C; c++)
		for (int64_t k = 0; k < K; k++) {
			loss -= G[c * K + k] * FY[c * K + k];
			A[k * C + c] = G[c * K + k];
		}
	return loss > 0 ? loss : 0;
}

int gos_synth_depthwise_stage(const gos_synth_data *sd, int64_t C, float *f)
{
	int64_t D = sd->D, K = sd->K;
	if (C < 1 || D % C || sd->fit_rows < 4 * (C + 1) || sd->fit_rows * K < 4 * D ||
	    D > GOS_SYNTH_STAGE1_MAX_D)
		return 1;
	moments mo = {1, D, 1, K, NULL, NULL, 0, NULL};
	mo.P = gos_malloc(sizeof(double) * (size_t)(D * D));
	mo.XY = gos_malloc(sizeof(double) * (size_t)(D * K));
	mo.Sg = gos_malloc(sizeof(double) * (size_t)(D * D));
	double *fd = gos_malloc(sizeof(double) * (size_t)D);
	double *best = gos_malloc(sizeof(double) * (size_t)D);
	double *A = gos_malloc(sizeof(double) * (size_t)(K * C));
	int64_t w1 = C * C + D * D, w2 = C * C + 2 * C * K;
	double *work = gos_malloc(sizeof(double) * (size_t)(w1 > w2 ? w1 : w2));
	int rc = -1;
	if (!mo.P || !mo.XY || !mo.Sg || !fd || !best || !A || !work)
		goto done;
	if (gather(sd, &mo))
		goto done; /* out of memory */
	rc = 1;
	for (int64_t i = 0; i < D; i++)
		fd[i] = f[i];
	double prev = -1;
	for (int round = 0; round <= ROUNDS; round++) {
		double loss = fit_pointwise(&mo, C, fd, A, work);
		if (loss < 0)
			break;
		if (prev < 0 || loss < prev)
			memcpy(best, fd, sizeof(double) * (size_t)D);
		if (prev >= 0 && loss >= prev * (1 - ROUND_TOL))
			break;
		prev = loss;
		if (round == ROUNDS || fit_depthwise(&mo, C, A, fd, work))
			break;
	}
	if (prev < 0)
		goto done;
	for (int64_t i = 0; i < D; i++)
		f[i] = (float)best[i];
	rc = 0;
done:
	free(mo.P);
	free(mo.XY);
	free(mo.Sg);
	free(fd);
	free(best);
	free(A);
	free(work);
	return rc;
}
