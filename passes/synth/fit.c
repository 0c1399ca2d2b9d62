/* fit.c -- what the fitted rules share (synth.h): the node's recorded
 * input and output (patches gathered through gos_synth_plan), least
 * squares from per-position features (gos_synth_solve: the centred normal
 * equations, cblas_dsyrk and LAPACKE_dposv), the reconstruction error
 * over the whole batch (blocks of positions, cblas_dgemm). */
#include "passes/synth/synth.h"
#include "support/alloc.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

double gos_synth_floor(const gos_module *m, int v, int *addend)
{
	double lo = INFINITY; /* the largest floor the readers allow */
	int readers = 0;
	*addend = -1;
	for (int k = 0; k < m->n_output; k++)
		if (m->outputs[k] == v)
			return -INFINITY;
	for (int i = 0; i < m->n_node; i++) {
		const gos_node *n = &m->nodes[i];
		int reads = 0;
		for (int j = 0; j < n->n_in; j++)
			reads |= n->in[j] == v;
		if (!reads)
			continue;
		readers++;
		double f = -INFINITY;
		if (!strcmp(n->op, "relu") && n->n_in == 1) {
			f = 0;
		} else if (!strcmp(n->op, "hard_sigmoid") && n->n_in == 1) {
			double ab[2];
			gos_synth_attr(n, "alpha", 0.2, 1, ab);
			gos_synth_attr(n, "beta", 0.5, 1, ab + 1);
			f = ab[0] > 0 ? -ab[1] / ab[0] : -INFINITY;
		} else if (!strcmp(n->op, "mul") && n->n_in == 2) {
			/* v times a hard_sigmoid of v: that node gives the floor */
			int o = n->in[0] == v ? n->in[1] : n->in[0];
			for (int p = 0; p < m->n_node; p++)
				if (m->nodes[p].n_out == 1 && m->nodes[p].out[0] == o &&
				    !strcmp(m->nodes[p].op, "hard_sigmoid") && m->nodes[p].in[0] == v)
					f = INFINITY;
		} else if (!strcmp(n->op, "add") && n->n_in == 2 && n->n_out == 1) {
			int s = n->in[0] == v ? n->in[1] : n->in[0], dummy;
			const gos_value *sv = &m->vals[s], *vv = &m->vals[v];
			if (s != v && sv->kind == GOS_VAL_TEMP && sv->rank == vv->rank &&
			    !memcmp(sv->shape, vv->shape, sizeof(int64_t) * (size_t)vv->rank) &&
			    gos_synth_floor(m, n->out[0], &dummy) == 0 && dummy < 0)
				*addend = s;
		}
		if (f < lo)
			lo = f;
	}
	if (readers != 1)
		*addend = -1;
	return *addend >= 0 ? -INFINITY : readers && lo < INFINITY ? lo : -INFINITY;
}

int gos_synth_residual_value(const gos_module *m, int ni)
{
	gos_synth_contraction cv;
	if (!gos_synth_contraction_of(m, ni, &cv))
		return -1;
	int v = cv.y, reader = -1, readers = 0;
	for (int k = 0; k < m->n_output; k++)
		if (m->outputs[k] == v)
			return -1;
	for (int i = 0; i < m->n_node; i++)
		for (int j = 0; j < m->nodes[i].n_in; j++)
			if (m->nodes[i].in[j] == v) {
				reader = i;
				readers++;
			}
	if (readers != 1 || strcmp(m->nodes[reader].op, "add") || m->nodes[reader].n_in != 2 ||
	    m->nodes[reader].n_out != 1)
		return -1;
	const gos_node *n = &m->nodes[reader];
	int s = n->in[0] == v ? n->in[1] : n->in[0];
	const gos_value *sv = &m->vals[s], *vv = &m->vals[v];
	if (s == v || sv->kind != GOS_VAL_TEMP || sv->rank != vv->rank ||
	    memcmp(sv->shape, vv->shape, sizeof(int64_t) * (size_t)vv->rank))
		return -1;
	return s;
}

/* Whether value v (of rank 4) is read by a relu alone that a max pool
 * alone reads, with windows that tile v from its corner (kernel =
 * stride, no padding or dilation, the output rounded down): then
 * win[2] is the window, else 0. Past the floor of a relu, a value below
 * its window's maximum reaches nothing, whatever it is, as long as it
 * stays below that maximum. */
static int pool_of(const gos_module *m, int v, int64_t win[2])
{
	win[0] = win[1] = 0;
	int relu = -1, pool = -1, nr = 0, np = 0;
	for (int i = 0; i < m->n_node; i++)
		for (int j = 0; j < m->nodes[i].n_in; j++)
			if (m->nodes[i].in[j] == v)
				relu = i, nr++;
	if (nr != 1 || strcmp(m->nodes[relu].op, "relu") || m->nodes[relu].n_out != 1 ||
	    m->vals[v].rank != 4)
		return 0;
	int r = m->nodes[relu].out[0];
	for (int k = 0; k < m->n_output; k++)
		if (m->outputs[k] == r || m->outputs[k] == v)
			return 0;
	for (int i = 0; i < m->n_node; i++)
		for (int j = 0; j < m->nodes[i].n_in; j++)
			if (m->nodes[i].in[j] == r)
				pool = i, np++;
	if (np != 1 || strcmp(m->nodes[pool].op, "maxpool2d") || m->nodes[pool].n_out != 1)
		return 0;
	const gos_node *n = &m->nodes[pool];
	double k[2], s[2], p[4], dl[2];
	gos_synth_attr(n, "kernel", 0, 2, k);
	gos_synth_attr(n, "stride", 1, 2, s);
	gos_synth_attr(n, "pad", 0, 4, p);
	gos_synth_attr(n, "dilation", 1, 2, dl);
	const gos_value *yv = &m->vals[n->out[0]], *xv = &m->vals[v];
	for (int a = 0; a < 2; a++)
		if (k[a] < 1 || k[a] != s[a] || p[a] != 0 || p[a + 2] != 0 || dl[a] != 1 ||
		    yv->rank != 4 || yv->shape[2 + a] != xv->shape[2 + a] / (int64_t)k[a])
			return 0;
	win[0] = (int64_t)k[0];
	win[1] = (int64_t)k[1];
	return 1;
}

void gos_synth_data_floor(const gos_synth_data *sd, int64_t g, double *lk)
{
	int64_t K = sd->K;
	if (!sd->neg && !sd->pool[0]) {
		for (int64_t k = 0; k < K; k++)
			lk[k] = sd->lo;
		return;
	}
	/* the recorded result's layout (gos_synth_plan_row): channels second */
	const gos_buf *yb = &sd->node->bufs[sd->node->n_in];
	int64_t stride = 1;
	for (int dd = 2; dd < yb->rank; dd++)
		stride *= yb->shape[dd];
	int64_t yn = gos_numel(yb->rank, yb->shape), pos = yn / K, smp = g / pos, p = g % pos;
	if (sd->neg) {
		const float *b = sd->neg + smp * yn + (p / stride) * K * stride + p % stride;
		for (int64_t k = 0; k < K; k++)
			lk[k] = -(double)b[k * stride];
		return;
	}
	/* a max pool's window: the recorded result there, channel by channel */
	int64_t P = yb->shape[2], Q = yb->shape[3], wh = sd->pool[0], ww = sd->pool[1];
	int64_t pp = (p % stride) / Q, qq = (p % stride) % Q;
	const float *y = sd->y + smp * yn + (p / stride) * K * stride;
	for (int64_t k = 0; k < K; k++, y += stride) {
		if (pp >= P - P % wh || qq >= Q - Q % ww) {
			lk[k] = INFINITY; /* no window reads it */
			continue;
		}
		double top = -INFINITY, here = y[pp * Q + qq];
		for (int64_t i = pp - pp % wh; i < pp - pp % wh + wh; i++)
			for (int64_t j = qq - qq % ww; j < qq - qq % ww + ww; j++)
				top = y[i * Q + j] > top ? y[i * Q + j] : top;
		lk[k] = here < top && top > sd->lo ? top : sd->lo;
	}
}

int gos_synth_data_get(const gos_module *m, int ni, const gos_synth_calib *c,
                       gos_synth_data *sd, gos_diags *d)
{
	memset(sd, 0, sizeof *sd);
	gos_synth_contraction cv;
	if (!c || c->n <= 0 || !gos_synth_contraction_of(m, ni, &cv)) {
		gos_error(d, m->nodes[ni].loc, "internal error: no calibration data for '%s'",
		          m->nodes[ni].name);
		return -1;
	}
	sd->node = &m->nodes[ni];
	sd->K = cv.K;
	sd->D = gos_numel(m->vals[cv.w].rank, m->vals[cv.w].shape) / cv.K;
	int addend;
	sd->lo = gos_synth_floor(m, cv.y, &addend);
	if (sd->lo == 0 && addend < 0)
		pool_of(m, cv.y, sd->pool);
	sd->total = c->n * gos_numel(m->vals[cv.y].rank, m->vals[cv.y].shape) / cv.K;
	int64_t cap = c->max_rows > 0 ? c->max_rows : GOS_SYNTH_FIT_ROWS;
	sd->fit_rows = sd->total < cap ? sd->total : cap;
	cap = c->max_rows > 0 ? c->max_rows : GOS_SYNTH_ERR_ROWS;
	sd->err_rows = sd->total < cap ? sd->total : cap;
	if (gos_synth_activation(m, m->vals[cv.x].name, c, &sd->x, &sd->xown, d) ||
	    gos_synth_activation(m, m->vals[cv.y].name, c, &sd->y, &sd->yown, d) ||
	    (addend >= 0 &&
	     gos_synth_activation(m, m->vals[addend].name, c, &sd->neg, &sd->negown, d))) {
		gos_synth_data_free(sd);
		return -1;
	}
	if (gos_synth_plan_init(&sd->plan, sd->node, sd->D)) {
		gos_error(d, m->nodes[ni].loc, "out of memory");
		gos_synth_data_free(sd);
		return -1;
	}
	return 0;
}

void gos_synth_data_row(const gos_synth_data *sd, int64_t g, double *patch, double *yk)
{
	gos_synth_plan_row(&sd->plan, sd->x, sd->y, g, patch, yk);
}

void gos_synth_data_free(gos_synth_data *sd)
{
	if (sd->xown)
		free((float *)sd->x);
	if (sd->yown)
		free((float *)sd->y);
	if (sd->negown)
		free((float *)sd->neg);
	gos_synth_plan_free(&sd->plan);
	memset(sd, 0, sizeof *sd);
}

int64_t gos_synth_round_width(int64_t w)
{
	return w >= 16 ? w - w % 8 : w >= 4 ? w - w % 4 : w;
}

int64_t gos_synth_num_rank(const double *sv, int64_t kk, int64_t rows, int64_t cols)
{
	double tol = (double)(rows > cols ? rows : cols) * 1.2e-7 * (kk ? sv[0] : 0);
	int64_t r = 0;
	while (r < kk && sv[r] > tol)
		r++;
	return r;
}

/* The loss gos_synth_solve minimises: o the fit, y the targets, lo the
 * floors (n each). */
static double clamped_loss(int64_t n, const double *o, const double *y, const double *lo)
{
	double l = 0;
	for (int64_t i = 0; i < n; i++) {
		double e = y[i] > lo[i] ? o[i] - y[i] : o[i] > lo[i] ? o[i] - lo[i] : 0;
		l += e * e;
	}
	return l;
}

/* Majorisation steps of gos_synth_solve at most; it stops earlier once a
 * step lowers the loss by less than SOLVE_TOL of it. */
enum { SOLVE_STEPS = 8 };
#define SOLVE_TOL 1e-3

int gos_synth_solve(int64_t rows, int64_t nf, int64_t nk, double *f, double *y,
                    const double *lo, double *a)
{
	int clamp = lo != NULL;
	double *mu = gos_calloc((size_t)(nf + nk + 1), sizeof(double)), *ym = mu + nf;
	double *g = gos_malloc(sizeof(double) * (size_t)(nf * nf + 1));
	double *g2 = gos_malloc(sizeof(double) * (size_t)(nf * nf + 1));
	double *rhs = gos_malloc(sizeof(double) * (size_t)(nf * nk + 1));
	/* with a clamp: the targets as given, and the fit */
	double *y0 = clamp ? gos_malloc(sizeof(double) * (size_t)(2 * rows * nk + 1)) : NULL;
	double *o = y0 ? y0 + rows * nk : NULL;
	int rc = -1;
	if (!mu || !g || !g2 || !rhs || rows < 1 || (clamp && !y0))
		goto done;
	if (clamp)
		memcpy(y0, y, sizeof(double) * (size_t)(rows * nk));
	/* centre the features: the constant is fitted exactly (the mean of
	 * the targets) and the normal equations stay as well conditioned as
	 * the features */
	for (int64_t i = 0; i < rows; i++)
		for (int64_t j = 0; j < nf; j++)
			mu[j] += f[i * nf + j];
	for (int64_t j = 0; j < nf; j++)
		mu[j] /= (double)rows;
	for (int64_t i = 0; i < rows; i++)
		for (int64_t j = 0; j < nf; j++)
			f[i * nf + j] -= mu[j];
	if (nf > 0)
		cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, (blasint)nf, (blasint)rows, 1.0, f,
		            (blasint)nf, 0.0, g, (blasint)nf);
	double tr = 0;
	for (int64_t j = 0; j < nf; j++)
		tr += g[j * nf + j];
	/* a ridge far below the features' scale: a feature constant on the
	 * batch (a channel that never fires) or an exact linear combination of
	 * others gets the minimum-norm share instead of a singular system */
	double ridge = 1e-12 * (tr > 0 ? tr / (double)nf : 1);
	for (int tries = 0; nf > 0; tries++) {
		memcpy(g2, g, sizeof(double) * (size_t)(nf * nf));
		for (int64_t j = 0; j < nf; j++)
			g2[j * nf + j] += ridge;
		lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)nf, g2, (lapack_int)nf);
		if (!info)
			break;
		if (info < 0 || tries == 8)
			goto done;
		ridge *= 100; /* not positive definite in rounding: raise it */
	}
	double prev = INFINITY;
	for (int step = 0; step < (clamp ? SOLVE_STEPS : 1); step++) {
		/* y: this step's targets; f is centred, so f^T y is f^T (y - ym) */
		for (int64_t k = 0; k < nk; k++)
			ym[k] = 0;
		for (int64_t i = 0; i < rows; i++)
			for (int64_t k = 0; k < nk; k++)
				ym[k] += y[i * nk + k];
		for (int64_t k = 0; k < nk; k++)
			ym[k] /= (double)rows;
		if (nf > 0) {
			cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)nf, (blasint)nk,
			            (blasint)rows, 1.0, f, (blasint)nf, y, (blasint)nk, 0.0, rhs, (blasint)nk);
			if (LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'L', (lapack_int)nf, (lapack_int)nk, g2,
			                   (lapack_int)nf, rhs, (lapack_int)nk))
				goto done;
		}
		if (clamp) {
			/* the fit; the loss; the next targets */
			for (int64_t i = 0; i < rows; i++)
				for (int64_t k = 0; k < nk; k++)
					o[i * nk + k] = ym[k];
			if (nf > 0)
				cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)nk,
				            (blasint)nf, 1.0, f, (blasint)nf, rhs, (blasint)nk, 1.0, o,
				            (blasint)nk);
			double loss = clamped_loss(rows * nk, o, y0, lo);
			if (loss > prev)
				break; /* rounding: keep the previous step's coefficients */
			memcpy(a, rhs, sizeof(double) * (size_t)(nf * nk));
			for (int64_t k = 0; k < nk; k++)
				a[nf * nk + k] = ym[k];
			if (loss >= prev * (1 - SOLVE_TOL))
				break;
			prev = loss;
			for (int64_t i = 0; i < rows * nk; i++)
				y[i] = y0[i] > lo[i] ? y0[i] : o[i] < lo[i] ? o[i] : lo[i];
		} else {
			memcpy(a, rhs, sizeof(double) * (size_t)(nf * nk));
			for (int64_t k = 0; k < nk; k++)
				a[nf * nk + k] = ym[k];
		}
	}
	/* the constant of the uncentred features */
	for (int64_t k = 0; k < nk; k++) {
		double b = a[nf * nk + k];
		for (int64_t j = 0; j < nf; j++)
			b -= mu[j] * a[j * nk + k];
		a[nf * nk + k] = b;
	}
	rc = 0;
done:
	free(mu);
	free(g);
	free(g2);
	free(rhs);
	free(y0);
	return rc;
}

/* Positions i0..i0+nb of `rows` spread over sd's: their patches
 * (pb, nb x D), features (fb, nb x mp->nf; fb may be pb when mp is the
 * identity) and outputs (yb, nb x K). */
static void map_rows(const gos_synth_data *sd, const gos_synth_map *mp, int64_t i0, int64_t nb,
                     int64_t rows, double *pb, double *fb, double *yb)
{
	int64_t D = sd->D, nf = mp->nf;
	for (int64_t i = 0; i < nb; i++) {
		gos_synth_data_row(sd, gos_synth_data_pos(sd, i0 + i, rows), pb + i * D, yb + i * sd->K);
		if (!mp->a && mp->feat)
			mp->feat(pb + i * D, fb + i * nf, mp->ctx);
	}
	if (mp->a) {
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nb, (blasint)nf, (blasint)D,
		            1.0, pb, (blasint)D, mp->a, (blasint)D, 0.0, fb, (blasint)nf);
		for (int64_t i = 0; i < nb * nf; i++)
			fb[i] = (float)fb[i]; /* that stage's result is stored in float */
	}
}

/* Rows per block of map_rows. */
enum { BLOCK = 1024 };

int gos_synth_lsq_map(const gos_synth_data *sd, const gos_synth_map *mp, const int *ks, int nk,
                      double *a, const char *what, gos_diags *d)
{
	gos_loc loc = sd->node->loc;
	int64_t rows = sd->fit_rows;
	int64_t nf = mp->nf, D = sd->D, K = sd->K;
	int ident = !mp->a && !mp->feat;
	if (rows < nf + 1) {
		gos_error(d, loc, "%s: %lld calibration positions cannot fit %lld coefficients", what,
		          (long long)rows, (long long)(nf + 1));
		return -1;
	}
	int fl = gos_synth_data_floored(sd);
	double *f = gos_malloc(sizeof(double) * (size_t)(rows * nf + 1));
	double *y = gos_malloc(sizeof(double) * (size_t)(rows * nk + 1));
	double *lo = fl ? gos_malloc(sizeof(double) * (size_t)(rows * nk + 1)) : NULL;
	double *pb = gos_malloc(sizeof(double) * (size_t)(BLOCK * (D + K) + K));
	int rc = -1;
	if (!f || !y || !pb || (fl && !lo)) {
		gos_error(d, loc, "%s: out of memory", what);
		goto done;
	}
	double *yb = pb + BLOCK * D, *lk = yb + BLOCK * K;
	for (int64_t i0 = 0; i0 < rows; i0 += BLOCK) {
		int64_t nb = rows - i0 < BLOCK ? rows - i0 : BLOCK;
		map_rows(sd, mp, i0, nb, rows, ident ? f + i0 * nf : pb, f + i0 * nf, yb);
		for (int64_t i = 0; i < nb; i++) {
			for (int k = 0; k < nk; k++)
				y[(i0 + i) * nk + k] = yb[i * K + (ks ? ks[k] : k)];
			if (!fl)
				continue;
			gos_synth_data_floor(sd, gos_synth_data_pos(sd, i0 + i, rows), lk);
			for (int k = 0; k < nk; k++)
				lo[(i0 + i) * nk + k] = lk[ks ? ks[k] : k];
		}
	}
	if (gos_synth_solve(rows, nf, nk, f, y, lo, a)) {
		gos_error(d, loc, "%s: the least-squares fit failed (out of memory or LAPACK)", what);
		goto done;
	}
	rc = 0;
done:
	free(f);
	free(y);
	free(lo);
	free(pb);
	return rc;
}

int gos_synth_lsq(const gos_synth_data *sd, gos_synth_feat feat, const void *ctx, int nf,
                  const int *ks, int nk, double *a, const char *what, gos_diags *d)
{
	gos_synth_map mp = {nf, NULL, feat, ctx};
	return gos_synth_lsq_map(sd, &mp, ks, nk, a, what, d);
}

double gos_synth_error_map(const gos_synth_data *sd, const gos_synth_map *mp, const double *w,
                           const double *b)
{
	int64_t nf = mp->nf, D = sd->D, K = sd->K;
	int ident = !mp->a && !mp->feat;
	double *pb = gos_malloc(sizeof(double) * (size_t)(BLOCK * (D + nf + 2 * K) + K));
	if (!pb)
		return -1;
	double *fb = ident ? pb : pb + BLOCK * D, *yb = pb + BLOCK * (D + nf), *ob = yb + BLOCK * K;
	double *lk = ob + BLOCK * K;
	double num = 0, den = 0;
	for (int64_t g0 = 0; g0 < sd->err_rows; g0 += BLOCK) {
		int64_t nb = sd->err_rows - g0 < BLOCK ? sd->err_rows - g0 : BLOCK;
		map_rows(sd, mp, g0, nb, sd->err_rows, pb, fb, yb);
		for (int64_t i = 0; i < nb; i++)
			for (int64_t k = 0; k < K; k++)
				ob[i * K + k] = b ? b[k] : 0;
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)nb, (blasint)K, (blasint)nf,
		            1.0, fb, (blasint)nf, w, (blasint)nf, 1.0, ob, (blasint)K);
		for (int64_t i = 0; i < nb; i++) {
			gos_synth_data_floor(sd, gos_synth_data_pos(sd, g0 + i, sd->err_rows), lk);
			for (int64_t k = 0; k < K; k++)
				gos_synth_err_add(ob[i * K + k], yb[i * K + k], lk[k], &num, &den);
		}
	}
	free(pb);
	return den > 0 ? num / den : num > 0;
}

double gos_synth_error(const gos_synth_data *sd, gos_synth_pred pred, const void *ctx)
{
	double *patch = gos_malloc(sizeof(double) * (size_t)(sd->D + 3 * sd->K));
	if (!patch)
		return -1;
	double *yk = patch + sd->D, *yp = yk + sd->K, *lk = yp + sd->K, num = 0, den = 0;
	for (int64_t i = 0; i < sd->err_rows; i++) {
		int64_t g = gos_synth_data_pos(sd, i, sd->err_rows);
		gos_synth_data_row(sd, g, patch, yk);
		gos_synth_data_floor(sd, g, lk);
		pred(patch, yp, ctx);
		for (int64_t k = 0; k < sd->K; k++) {
			gos_synth_err_add(yp[k], yk[k], lk[k], &num, &den);
		}
	}
	free(patch);
	return den > 0 ? num / den : num > 0;
}

void gos_synth_attr(const gos_node *n, const char *name, double dflt, int want, double *out)
{
	for (int i = 0; i < want; i++)
		out[i] = dflt;
	for (int i = 0; i < n->n_attr; i++)
		if (n->attr[i].name && !strcmp(n->attr[i].name, name) && n->attr[i].n > 0) {
			for (int j = 0; j < want; j++)
				out[j] = n->attr[i].v[n->attr[i].n == want ? j : 0];
			return;
		}
}

int gos_synth_conv2d(gos_module *m, const char *name, int x, int w, int b,
                     const double stride[2], const double pad[4], const double dil[2],
                     int groups, gos_loc loc, gos_diags *d)
{
	gos_attr at[4];
	double *v = GOS_NEWN(m->arena, double, 9);
	if (!v) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	memcpy(v, stride, 2 * sizeof *v);
	memcpy(v + 2, pad, 4 * sizeof *v);
	memcpy(v + 6, dil, 2 * sizeof *v);
	v[8] = groups;
	at[0] = (gos_attr){"stride", 2, v};
	at[1] = (gos_attr){"pad", 4, v + 2};
	at[2] = (gos_attr){"dilation", 2, v + 6};
	at[3] = (gos_attr){"groups", 1, v + 8};
	gos_oplib *lib = gos_oplib_new(NULL, d);
	if (!lib)
		return -1;
	int in[3] = {x, w, b}, out[8];
	int k = gos_oplib_apply(lib, m, "conv2d", name, b >= 0 ? 3 : 2, in, 4, at, out, loc, d);
	gos_oplib_free(lib);
	return k == 1 ? out[0] : -1;
}

int gos_synth_use_weights(gos_module *m, int ni, int w_old, int b_old, const float *w,
                          const float *b, int64_t K, gos_diags *d)
{
	int64_t ws[GOS_MAX_RANK]; /* (adding values may move m->vals) */
	memcpy(ws, m->vals[w_old].shape, sizeof ws);
	int wrank = m->vals[w_old].rank;
	const char *bn = b_old < 0 ? "" : gos_arena_printf(m->arena, "%s.refit", m->vals[b_old].name);
	int wv = gos_synth_weight(m, gos_arena_printf(m->arena, "%s.refit", m->vals[w_old].name), wrank,
	                          ws, w);
	int bv = -1; /* (stays -1 without a bias) */
	if (wv < 0 || !bn || (b_old >= 0 && (bv = gos_synth_weight(m, bn, 1, &K, b)) < 0)) {
		gos_error(d, m->nodes[ni].loc, "out of memory");
		return -1;
	}
	gos_node *n = &m->nodes[ni];
	for (int j = 0; j < n->n_in; j++) {
		int nv = n->in[j] == w_old ? wv : b_old >= 0 && n->in[j] == b_old ? bv : -1;
		if (nv < 0)
			continue;
		n->in[j] = nv;
		n->bufs[j].value = nv;
	}
	return 0;
}

/* Rows of each channel's fit in refit_depthwise: about 400 per
 * coefficient of a 3x3 filter. */
enum { DW_ROWS = 4096 };

/* gos_synth_refit for depthwise node ni (cv): each channel's taps and
 * bias by least squares, on DW_ROWS positions spread over c, kept per
 * channel when they lower its (floored) loss. A result summed with a
 * residual before its floor is left as it is. */
static int refit_depthwise(gos_module *m, int ni, const gos_synth_contraction *cv,
                           const gos_synth_calib *c, double *err, gos_diags *d)
{
	int addend;
	double lo = gos_synth_floor(m, cv->y, &addend);
	const gos_node *n = &m->nodes[ni];
	const gos_stmt *s = &n->stmts[0];
	const gos_ins *lx = &s->ins[0];
	const gos_buf *xb = &n->bufs[0];
	int rank = n->bufs[n->n_in].rank;
	int64_t K = cv->K, T = cv->R, pos = cv->P * cv->Q, hw = gos_numel(xb->rank, xb->shape) /
	                                                         (xb->shape[0] * K);
	gos_synth_data span = {0};
	span.total = c->n * pos;
	int64_t rows = span.total < DW_ROWS ? span.total : DW_ROWS;
	if (addend >= 0 || rows < 4 * (T + 1) || cv->N != 1 || xb->shape[0] != 1)
		return 0; /* (a model batch of one: a recorded sample is one plane per channel) */
	const float *x = NULL, *y = NULL;
	int xown = 0, yown = 0, rc = -1;
	int64_t *off = gos_malloc(sizeof *off * (size_t)(rows * T + 1)); /* in the plane; -1: pad */
	int64_t *at = gos_malloc(sizeof *at * (size_t)(2 * rows + 1));  /* sample, position */
	double *f = gos_malloc(sizeof *f * (size_t)(2 * rows * T + 1)), *f2 = f ? f + rows * T : NULL;
	double *yv = gos_malloc(sizeof *yv * (size_t)(3 * rows + 1)), *y2 = yv ? yv + rows : NULL;
	double *lv = yv ? y2 + rows : NULL, *a = gos_malloc(sizeof *a * (size_t)(T + 2));
	float *w = gos_malloc(sizeof *w * (size_t)(K * T + 1));
	float *b = gos_malloc(sizeof *b * (size_t)(K + 1));
	if (!off || !at || !f || !yv || !a || !w || !b) {
		gos_error(d, n->loc, "out of memory");
		goto done;
	}
	if (gos_synth_activation(m, m->vals[cv->x].name, c, &x, &xown, d) ||
	    gos_synth_activation(m, m->vals[cv->y].name, c, &y, &yown, d))
		goto done;
	/* where each row's taps read the channel's plane (the same for every
	 * channel: the detector keeps k out of the spatial indices) */
	for (int64_t i = 0; i < rows; i++) {
		int64_t g = gos_synth_data_pos(&span, i, rows), v[GOS_MAX_VARS] = {0};
		at[2 * i] = g / pos;
		at[2 * i + 1] = g % pos;
		v[2] = at[2 * i + 1] / cv->Q;
		if (rank > 3)
			v[3] = at[2 * i + 1] % cv->Q;
		for (int64_t t = 0; t < T; t++) {
			gos_synth_red_point(s, t, v + rank);
			int64_t o = 0;
			for (int dd = 2; dd < xb->rank && o >= 0; dd++) {
				int64_t e = gos_ix_eval(s, lx->idx[dd], v);
				o = e < 0 || e >= xb->shape[dd] ? -1 : o * xb->shape[dd] + e;
			}
			off[i * T + t] = o;
		}
	}
	for (int64_t i = 0; i < rows; i++)
		lv[i] = lo;
	const float *w0 = m->vals[cv->w].data, *b0 = m->vals[cv->b].data;
	float pad = lx->has_pad ? lx->f : 0;
	double before = 0, after = 0;
	for (int64_t k = 0; k < K; k++) {
		for (int64_t i = 0; i < rows; i++) {
			const float *xp = x + (at[2 * i] * K + k) * hw;
			for (int64_t t = 0; t < T; t++) {
				int64_t o = off[i * T + t];
				f[i * T + t] = o < 0 ? pad : xp[o];
			}
			yv[i] = y2[i] = y[(at[2 * i] * K + k) * pos + at[2 * i + 1]];
		}
		memcpy(f2, f, sizeof *f * (size_t)(rows * T));
		if (gos_synth_solve(rows, T, 1, f2, y2, isfinite(lo) ? lv : NULL, a)) {
			gos_error(d, n->loc, "refit of '%s': least squares failed", n->name);
			goto done;
		}
		double l0 = 0, l1 = 0;
		for (int64_t i = 0; i < rows; i++) {
			double o0 = b0[k], o1 = a[T];
			for (int64_t t = 0; t < T; t++) {
				o0 += w0[k * T + t] * f[i * T + t];
				o1 += a[t] * f[i * T + t];
			}
			l0 += clamped_loss(1, &o0, &yv[i], &lv[i]);
			l1 += clamped_loss(1, &o1, &yv[i], &lv[i]);
		}
		int better = l1 < l0;
		for (int64_t t = 0; t < T; t++)
			w[k * T + t] = better ? (float)a[t] : w0[k * T + t];
		b[k] = better ? (float)a[T] : b0[k];
		before += l0;
		after += better ? l1 : l0;
	}
	*err = before > 0 ? after / before : 0;
	rc = after < before ? gos_synth_use_weights(m, ni, cv->w, cv->b, w, b, K, d) : 0;
done:
	if (xown)
		free((float *)x);
	if (yown)
		free((float *)y);
	free(off);
	free(at);
	free(f);
	free(yv);
	free(a);
	free(w);
	free(b);
	return rc;
}

int gos_synth_refit(gos_module *m, int ni, const gos_synth_calib *c, double *err, gos_diags *d)
{
	*err = -1;
	gos_synth_contraction cv;
	/* no target without the result recorded at the node's own shape (a
	 * pruning shrank it): nothing to refit towards */
	if (!gos_synth_recorded(m, m->vals[m->nodes[ni].out[0]].name, c))
		return 0;
	if (gos_synth_depthwise_of(m, ni, &cv))
		return m->vals[cv.w].data && cv.b >= 0 && m->vals[cv.b].data
		               ? refit_depthwise(m, ni, &cv, c, err, d)
		               : 0;
	if (!gos_synth_contraction_of(m, ni, &cv) || cv.b < 0 || !m->vals[cv.w].data ||
	    !m->vals[cv.b].data)
		return 0;
	gos_synth_data sd;
	if (gos_synth_data_get(m, ni, c, &sd, d))
		return -1;
	int64_t K = sd.K, D = sd.D;
	int64_t rows = sd.fit_rows;
	gos_loc loc = m->nodes[ni].loc;
	if (rows < 4 * (D + 1)) {
		gos_synth_data_free(&sd);
		return 0;
	}
	double *a = gos_malloc(sizeof(double) * (size_t)((D + 1) * K));
	double *wd = gos_malloc(sizeof(double) * (size_t)((D + 1) * K));
	float *w = gos_malloc(sizeof(float) * (size_t)(K * D)), *b = gos_malloc(sizeof(float) * (size_t)K);
	int rc = -1;
	if (!a || !wd || !w || !b) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	if (gos_synth_lsq(&sd, NULL, NULL, (int)D, NULL, (int)K, a, "refit", d))
		goto done;
	gos_synth_map mp = {D, NULL, NULL, NULL};
	const float *w0 = m->vals[cv.w].data, *b0 = m->vals[cv.b].data;
	for (int64_t i = 0; i < K * D; i++)
		wd[i] = w0[i];
	for (int64_t k = 0; k < K; k++)
		wd[K * D + k] = b0[k];
	double before = gos_synth_error_map(&sd, &mp, wd, wd + K * D);
	for (int64_t k = 0; k < K; k++) {
		for (int64_t f = 0; f < D; f++)
			wd[k * D + f] = w[k * D + f] = (float)a[f * K + k];
		wd[K * D + k] = b[k] = (float)a[D * K + k];
	}
	double after = gos_synth_error_map(&sd, &mp, wd, wd + K * D);
	if (before < 0 || after < 0) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	rc = 0;
	if (!(after < before)) {
		*err = before;
		goto done;
	}
	rc = gos_synth_use_weights(m, ni, cv.w, cv.b, w, b, K, d);
	*err = after;
done:
	gos_synth_data_free(&sd);
	free(a);
	free(wd);
	free(w);
	free(b);
	return rc;
}
