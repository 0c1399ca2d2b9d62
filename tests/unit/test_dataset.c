/* test_dataset.c -- the dataset readers (eval/dataset.c) on files written
 * here into a temporary directory by small independent writers (IDX, plain
 * and gzipped; .npy; .npz archives, stored and deflated, built by a ZIP
 * writer in this file) and on archives written by NumPy itself
 * (tests/data): pixel values, normalisation, channel-last transposition,
 * limits, calibration samples, selection, and the errors for bad files
 * (truncated, trailing bytes, corrupt gzip, bad CRC, ...) and bad
 * normalisation strings. Checks Fashion-MNIST when Debian's package is
 * installed. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "eval/dataset.h"

/* ---- byte buffers and file writers ------------------------------------- */

typedef struct buf {
	unsigned char *p;
	size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void put8(buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}

static void put16le(buf *b, unsigned v)
{
	put8(b, v & 0xff);
	put8(b, v >> 8 & 0xff);
}

static void put32le(buf *b, uint32_t v)
{
	put16le(b, v & 0xffff);
	put16le(b, v >> 16);
}

static void put32be(buf *b, uint32_t v)
{
	for (int i = 3; i >= 0; i--)
		put8(b, v >> (8 * i) & 0xff);
}

static void buf_free(buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static char tmpdir[256];

/* A path in the temporary directory (a ring of buffers: valid for the next
 * few calls). */
static const char *tpath(const char *name)
{
	static char ring[8][512];
	static int k;
	char *p = ring[k++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static const char *write_file(const char *name, const buf *b)
{
	const char *path = tpath(name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, b->n, f), b->n);
	fclose(f);
	return path;
}

static const char *write_gz(const char *name, const buf *b)
{
	const char *path = tpath(name);
	gzFile g = gzopen(path, "wb");
	assert_non_null(g);
	assert_int_equal(gzwrite(g, b->p, (unsigned)b->n), (int)b->n);
	gzclose(g);
	return path;
}

/* An IDX file: magic 0 0 type ndim, big-endian dims, then data as given. */
static void idx_put(buf *b, int type, int ndim, const uint32_t *dims, const void *data,
                    size_t len)
{
	put8(b, 0);
	put8(b, 0);
	put8(b, (unsigned)type);
	put8(b, (unsigned)ndim);
	for (int i = 0; i < ndim; i++)
		put32be(b, dims[i]);
	put(b, data, len);
}

/* A .npy file, format 1.0, header padded to 64 bytes as NumPy does. */
static void npy_put(buf *b, const char *descr, const char *shape, int fortran, const void *data,
                    size_t len)
{
	char h[256];
	int n = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
	                 fortran ? "True" : "False", shape);
	int total = 10 + n + 1;
	int pad = (64 - total % 64) % 64;
	put(b, "\x93NUMPY\x01\x00", 8);
	put16le(b, (unsigned)(n + pad + 1));
	put(b, h, (size_t)n);
	for (int i = 0; i < pad; i++)
		put8(b, ' ');
	put8(b, '\n');
	put(b, data, len);
}

/* A ZIP archive of members, each stored or deflated (raw deflate). */
typedef struct zmember {
	const char *name;
	const buf *data;
	int deflate;
	int bad_crc; /* store a wrong CRC */
} zmember;

static void zip_put(buf *z, const zmember *m, int n)
{
	uint32_t off[8], crc[8], csize[8];
	for (int i = 0; i < n; i++) {
		buf c = {0};
		if (m[i].deflate) {
			z_stream s;
			memset(&s, 0, sizeof s);
			assert_int_equal(deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
			c.cap = deflateBound(&s, m[i].data->n);
			c.p = malloc(c.cap);
			s.next_in = m[i].data->p;
			s.avail_in = (unsigned)m[i].data->n;
			s.next_out = c.p;
			s.avail_out = (unsigned)c.cap;
			assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
			c.n = s.total_out;
			deflateEnd(&s);
		} else {
			put(&c, m[i].data->p, m[i].data->n);
		}
		off[i] = (uint32_t)z->n;
		crc[i] = (uint32_t)crc32(0, m[i].data->p, (unsigned)m[i].data->n) ^ (m[i].bad_crc ? 1 : 0);
		csize[i] = (uint32_t)c.n;
		put32le(z, 0x04034b50);
		put16le(z, 20);
		put16le(z, 0);
		put16le(z, m[i].deflate ? 8 : 0);
		put16le(z, 0);
		put16le(z, 0x21);
		put32le(z, crc[i]);
		put32le(z, csize[i]);
		put32le(z, (uint32_t)m[i].data->n);
		put16le(z, (unsigned)strlen(m[i].name));
		put16le(z, 0);
		put(z, m[i].name, strlen(m[i].name));
		put(z, c.p, c.n);
		buf_free(&c);
	}
	uint32_t cd = (uint32_t)z->n;
	for (int i = 0; i < n; i++) {
		put32le(z, 0x02014b50);
		put16le(z, 20);
		put16le(z, 20);
		put16le(z, 0);
		put16le(z, m[i].deflate ? 8 : 0);
		put16le(z, 0);
		put16le(z, 0x21);
		put32le(z, crc[i]);
		put32le(z, csize[i]);
		put32le(z, (uint32_t)m[i].data->n);
		put16le(z, (unsigned)strlen(m[i].name));
		put16le(z, 0);
		put16le(z, 0);
		put16le(z, 0);
		put16le(z, 0);
		put32le(z, 0);
		put32le(z, off[i]);
		put(z, m[i].name, strlen(m[i].name));
	}
	uint32_t cd_size = (uint32_t)z->n - cd;
	put32le(z, 0x06054b50);
	put16le(z, 0);
	put16le(z, 0);
	put16le(z, (unsigned)n);
	put16le(z, (unsigned)n);
	put32le(z, cd_size);
	put32le(z, cd);
	put16le(z, 0);
}

/* ---- checks ---------------------------------------------------------------- */

/* Some error of d has a message containing word and a location naming
 * a file whose name contains file (NULL: no file). $GOS_TEST_VERBOSE: prints
 * it. */
static void want_error(const gos_diags *d, const char *file, const char *word)
{
	for (int i = 0; i < d->n; i++) {
		const gos_diag *g = &d->v[i];
		if (g->sev != GOS_ERROR || !strstr(g->msg, word))
			continue;
		if (file ? g->loc.file && strstr(g->loc.file, file) : !g->loc.file) {
			if (getenv("GOS_TEST_VERBOSE"))
				print_message("  %s: %s\n", g->loc.file ? g->loc.file : "(none)", g->msg);
			return;
		}
	}
	for (int i = 0; i < d->n; i++)
		print_message("  have: %s: %s\n", d->v[i].loc.file ? d->v[i].loc.file : "(none)",
		              d->v[i].msg);
	fail_msg("no error with '%s' about %s", word, file ? file : "(no file)");
}

/* Loading spec fails with an error containing word located at file. */
static void load_fails(const char *spec, const gos_norm *norm, const char *file,
                       const char *word)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset ds;
	memset(&ds, 0x5a, sizeof ds);
	assert_int_equal(gos_dataset_load(&ds, spec, 0, norm, &d), -1);
	assert_true(d.n_errors >= 1);
	assert_null(ds.x);
	assert_null(ds.y);
	assert_int_equal(ds.n, 0);
	want_error(&d, file, word);
	gos_diags_free(&d);
}

static void load_ok(gos_dataset *ds, const char *spec, int64_t limit, const gos_norm *norm)
{
	gos_diags d;
	gos_diags_init(&d);
	int rc = gos_dataset_load(ds, spec, limit, norm, &d);
	if (rc || d.n)
		gos_diags_render(&d, stderr);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	gos_diags_free(&d);
}

/* The pixel the readers must produce from a uint8 value (the formula of
 * dataset.h in float32, as NumPy computes (x / 255 - mean) / std). */
static float norm_u8(unsigned v, double mean, double std)
{
	return ((float)v / 255.0f - (float)mean) / (float)std;
}

/* N uint8 images of h x w: pixel j of image i = (i * 37 + j * 11) % 256;
 * label of image i = labels[i]. Written as an IDX pair (gzipped when gz). */
static const char *idx_pair(const char *stem, int n, int h, int w, const uint8_t *labels, int gz)
{
	static char spec[1200];
	buf im = {0}, lb = {0};
	uint8_t *px = malloc((size_t)(n * h * w));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < h * w; j++)
			px[i * h * w + j] = (uint8_t)((i * 37 + j * 11) % 256);
	idx_put(&im, 0x08, 3, (uint32_t[]){(uint32_t)n, (uint32_t)h, (uint32_t)w}, px,
	        (size_t)(n * h * w));
	idx_put(&lb, 0x08, 1, (uint32_t[]){(uint32_t)n}, labels, (size_t)n);
	char a[64], b[64];
	snprintf(a, sizeof a, "%s-images.idx%s", stem, gz ? ".gz" : "");
	snprintf(b, sizeof b, "%s-labels.idx%s", stem, gz ? ".gz" : "");
	const char *pa = gz ? write_gz(a, &im) : write_file(a, &im);
	const char *pb = gz ? write_gz(b, &lb) : write_file(b, &lb);
	snprintf(spec, sizeof spec, "%s,%s", pa, pb);
	free(px);
	buf_free(&im);
	buf_free(&lb);
	return spec;
}

static const char *pair(const char *a, const char *b)
{
	static char spec[1200];
	snprintf(spec, sizeof spec, "%s,%s", a, b);
	return spec;
}

/* ---- loading ------------------------------------------------------------- */

static void test_idx_plain_and_gz(void **state)
{
	(void)state;
	const uint8_t labels[3] = {2, 0, 1};
	for (int gz = 0; gz < 2; gz++) {
		gos_dataset ds;
		load_ok(&ds, idx_pair("u8", 3, 2, 3, labels, gz), 0, NULL);
		assert_int_equal(ds.n, 3);
		assert_int_equal(ds.c, 1);
		assert_int_equal(ds.h, 2);
		assert_int_equal(ds.w, 3);
		assert_int_equal(ds.n_class, 3);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(ds.y[i], labels[i]);
			for (int j = 0; j < 6; j++)
				assert_float_equal(ds.x[i * 6 + j], (float)((i * 37 + j * 11) % 256) / 255.0f,
				                   1e-7);
		}
		assert_non_null(strstr(ds.name, "u8-images.idx"));
		gos_dataset_free(&ds);
		assert_null(ds.x);
	}
}

static void test_idx_normalised_and_limit(void **state)
{
	(void)state;
	const uint8_t labels[4] = {1, 1, 0, 7};
	gos_norm nm = {1, 1, {0.2860}, {0.3530}};
	gos_dataset ds;
	load_ok(&ds, idx_pair("lim", 4, 3, 3, labels, 1), 2, &nm);
	assert_int_equal(ds.n, 2);
	assert_int_equal(ds.n_class, 8); /* of the whole file, not of the first 2 */
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 9; j++)
			assert_float_equal(ds.x[i * 9 + j],
			                   norm_u8((unsigned)((i * 37 + j * 11) % 256), 0.2860, 0.3530), 1e-6);
	assert_int_equal(ds.y[1], 1);
	gos_dataset_free(&ds);
	/* limit 0 and limits past the end: everything */
	load_ok(&ds, idx_pair("lim", 4, 3, 3, labels, 0), 99, NULL);
	assert_int_equal(ds.n, 4);
	gos_dataset_free(&ds);
}

static void put_f32be(buf *b, float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	put32be(b, u);
}

static void test_idx_float_nchw_per_channel(void **state)
{
	(void)state;
	/* [2, 3, 2, 2] float32 big-endian, channel first */
	buf im = {0}, lb = {0};
	float px[24];
	for (int i = 0; i < 24; i++)
		px[i] = (float)i * 0.25f - 2.0f;
	idx_put(&im, 0x0D, 4, (uint32_t[]){2, 3, 2, 2}, NULL, 0);
	for (int i = 0; i < 24; i++)
		put_f32be(&im, px[i]);
	/* labels as big-endian int32 */
	idx_put(&lb, 0x0C, 1, (uint32_t[]){2}, NULL, 0);
	put32be(&lb, 4);
	put32be(&lb, 65535);
	const char *a = write_file("f32-images.idx", &im), *b = write_gz("f32-labels.idx.gz", &lb);
	gos_norm nm = {3, 3, {0.5, -1, 2}, {2, 0.5, 4}};
	gos_dataset ds;
	load_ok(&ds, pair(a, b), 0, &nm);
	assert_int_equal(ds.c, 3);
	assert_int_equal(ds.h, 2);
	assert_int_equal(ds.w, 2);
	assert_int_equal(ds.n_class, 65536);
	assert_int_equal(ds.y[1], 65535);
	for (int i = 0; i < 24; i++) {
		int c = i / 4 % 3;
		assert_float_equal(ds.x[i], (px[i] - (float)nm.mean[c]) / (float)nm.std[c], 1e-6);
	}
	gos_dataset_free(&ds);
	/* one mean for every channel, no std */
	gos_norm one = {1, 0, {1.0}, {0}};
	load_ok(&ds, pair(a, b), 0, &one);
	for (int i = 0; i < 24; i++)
		assert_float_equal(ds.x[i], px[i] - 1.0f, 1e-6);
	gos_dataset_free(&ds);
	buf_free(&im);
	buf_free(&lb);
}

static void test_npy_nhwc_transposed(void **state)
{
	(void)state;
	/* [2, 2, 4, 3] uint8 channel last; labels int16 */
	uint8_t px[48];
	for (int i = 0; i < 48; i++)
		px[i] = (uint8_t)(i * 5 + 1);
	int16_t y[2] = {3, 0};
	buf im = {0}, lb = {0};
	npy_put(&im, "|u1", "(2, 2, 4, 3)", 0, px, sizeof px);
	npy_put(&lb, "<i2", "(2,)", 0, y, sizeof y);
	const char *a = write_file("nhwc-x.npy", &im), *b = write_file("nhwc-y.npy", &lb);
	gos_dataset ds;
	load_ok(&ds, pair(a, b), 0, NULL);
	assert_int_equal(ds.c, 3);
	assert_int_equal(ds.h, 2);
	assert_int_equal(ds.w, 4);
	assert_int_equal(ds.n_class, 4);
	for (int i = 0; i < 2; i++)
		for (int c = 0; c < 3; c++)
			for (int r = 0; r < 2; r++)
				for (int q = 0; q < 4; q++)
					assert_float_equal(ds.x[((i * 3 + c) * 2 + r) * 4 + q],
					                   px[((i * 2 + r) * 4 + q) * 3 + c] / 255.0f, 1e-7);
	gos_dataset_free(&ds);
	buf_free(&im);
	buf_free(&lb);
	/* [N, 3, H, 3] is channel first (dim 1 is 3) */
	npy_put(&im, "|u1", "(1, 3, 2, 3)", 0, px, 18);
	npy_put(&lb, "<i8", "(1,)", 0, (int64_t[]){0}, 8);
	a = write_file("nchw3-x.npy", &im), b = write_file("nchw3-y.npy", &lb);
	load_ok(&ds, pair(a, b), 0, NULL);
	assert_int_equal(ds.c, 3);
	assert_int_equal(ds.h, 2);
	assert_int_equal(ds.w, 3);
	for (int i = 0; i < 18; i++)
		assert_float_equal(ds.x[i], px[i] / 255.0f, 1e-7);
	gos_dataset_free(&ds);
	buf_free(&im);
	buf_free(&lb);
}

static void test_npy_float64_taken_as_is(void **state)
{
	(void)state;
	double px[8] = {0.5, -3, 1e3, 2.25, 0, 7, -0.125, 100};
	uint8_t y[2] = {1, 0};
	buf im = {0}, lb = {0};
	npy_put(&im, "<f8", "(2, 2, 2)", 0, px, sizeof px);
	npy_put(&lb, "|u1", "(2,)", 0, y, sizeof y);
	const char *a = write_file("f64-x.npy", &im), *b = write_file("f64-y.npy", &lb);
	gos_dataset ds;
	load_ok(&ds, pair(a, b), 0, NULL);
	for (int i = 0; i < 8; i++)
		assert_float_equal(ds.x[i], (float)px[i], 0);
	assert_int_equal(ds.n_class, 2);
	gos_dataset_free(&ds);
	buf_free(&im);
	buf_free(&lb);
}

/* x: [3, 2, 2] uint8 (pixel j of image i = 10 * i + j), y: int64 [2, 0, 5] */
static void npz_arrays(buf *x, buf *y)
{
	uint8_t px[12];
	for (int i = 0; i < 12; i++)
		px[i] = (uint8_t)(10 * (i / 4) + i % 4);
	npy_put(x, "|u1", "(3, 2, 2)", 0, px, sizeof px);
	npy_put(y, "<i8", "(3,)", 0, (int64_t[]){2, 0, 5}, 24);
}

static void check_npz_values(const gos_dataset *ds)
{
	assert_int_equal(ds->n, 3);
	assert_int_equal(ds->c, 1);
	assert_int_equal(ds->h, 2);
	assert_int_equal(ds->w, 2);
	assert_int_equal(ds->n_class, 6);
	assert_int_equal(ds->y[0], 2);
	assert_int_equal(ds->y[2], 5);
	for (int i = 0; i < 12; i++)
		assert_float_equal(ds->x[i], (float)(10 * (i / 4) + i % 4) / 255.0f, 1e-7);
}

static void test_npz_stored_and_deflated(void **state)
{
	(void)state;
	buf x = {0}, y = {0};
	npz_arrays(&x, &y);
	for (int deflate = 0; deflate < 2; deflate++) {
		buf z = {0};
		/* another member first, and the long names for one archive */
		zmember m[3] = {{"other.npy", &y, deflate, 0},
		                {deflate ? "images.npy" : "x.npy", &x, deflate, 0},
		                {deflate ? "labels.npy" : "y.npy", &y, deflate, 0}};
		zip_put(&z, m, 3);
		const char *path = write_file(deflate ? "deflated.npz" : "stored.npz", &z);
		gos_dataset ds;
		load_ok(&ds, path, 0, NULL);
		check_npz_values(&ds);
		gos_dataset_free(&ds);
		buf_free(&z);
	}
	buf_free(&x);
	buf_free(&y);
}

/* Source directory (GOS_SOURCE_DIR from ctest, else from __FILE__). */
static const char *source_dir(void)
{
	static char sbuf[4096];
	const char *e = getenv("GOS_SOURCE_DIR");
	if (e && *e)
		return e;
	snprintf(sbuf, sizeof sbuf, "%s", __FILE__);
	char *p = strstr(sbuf, "/tests/unit/");
	if (p)
		*p = 0;
	else
		snprintf(sbuf, sizeof sbuf, ".");
	return sbuf;
}

static void test_npz_written_by_numpy(void **state)
{
	(void)state;
	const char *names[2] = {"dataset_savez.npz", "dataset_savez_compressed.npz"};
	for (int k = 0; k < 2; k++) {
		char path[4200];
		snprintf(path, sizeof path, "%s/tests/data/%s", source_dir(), names[k]);
		gos_dataset ds;
		load_ok(&ds, path, 0, NULL);
		/* x = (arange(60) * 7) % 256 as [3, 4, 5], y = [2, 0, 1] */
		assert_int_equal(ds.n, 3);
		assert_int_equal(ds.h, 4);
		assert_int_equal(ds.w, 5);
		assert_int_equal(ds.n_class, 3);
		assert_int_equal(ds.y[0], 2);
		assert_int_equal(ds.y[1], 0);
		for (int i = 0; i < 60; i++)
			assert_float_equal(ds.x[i], (float)(i * 7 % 256) / 255.0f, 1e-7);
		gos_dataset_free(&ds);
	}
}

/* ---- calibration samples and selection ------------------------------------ */

/* 50 images whose first pixel is their index; label = index % 10. */
static const char *indexed_pair(void)
{
	buf im = {0}, lb = {0};
	uint8_t px[50 * 4], y[50];
	for (int i = 0; i < 50; i++) {
		for (int j = 0; j < 4; j++)
			px[i * 4 + j] = (uint8_t)(j ? 200 + j : i);
		y[i] = (uint8_t)(i % 10);
	}
	idx_put(&im, 0x08, 3, (uint32_t[]){50, 2, 2}, px, sizeof px);
	idx_put(&lb, 0x08, 1, (uint32_t[]){50}, y, sizeof y);
	const char *a = write_file("ix-images", &im), *b = write_file("ix-labels", &lb);
	buf_free(&im);
	buf_free(&lb);
	return pair(a, b);
}

static int image_index(const gos_dataset *ds, int64_t i)
{
	return (int)lroundf(ds->x[i * 4] * 255.0f);
}

static void test_calib_deterministic(void **state)
{
	(void)state;
	char spec[1300];
	snprintf(spec, sizeof spec, "%s:10", indexed_pair());
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset a, b, c;
	assert_int_equal(gos_dataset_load_calib(&a, spec, 1, NULL, &d), 0);
	assert_int_equal(gos_dataset_load_calib(&b, spec, 1, NULL, &d), 0);
	assert_int_equal(gos_dataset_load_calib(&c, spec, 2, NULL, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(a.n, 10);
	assert_string_equal(a.name, spec);
	/* the partial Fisher-Yates shuffle of dataset.h, seeded with 1 */
	int64_t idx[50];
	for (int i = 0; i < 50; i++)
		idx[i] = i;
	gos_rng r;
	gos_rng_seed(&r, 1);
	for (int i = 0; i < 10; i++) {
		int64_t j = i + (int64_t)(gos_rng_next(&r) % (uint64_t)(50 - i));
		int64_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	int same_as_c = 1, seen[50] = {0};
	for (int i = 0; i < 10; i++) {
		int k = image_index(&a, i);
		assert_int_equal(k, idx[i]);
		assert_int_equal(image_index(&b, i), k);
		assert_int_equal(a.y[i], k % 10); /* labels follow their images */
		assert_float_equal(a.x[i * 4 + 3], 203 / 255.0f, 1e-7);
		assert_int_equal(seen[k]++, 0); /* without replacement */
		same_as_c &= image_index(&c, i) == k;
	}
	assert_false(same_as_c);
	gos_dataset_free(&a);
	gos_dataset_free(&b);
	gos_dataset_free(&c);
	/* the whole set, shuffled */
	snprintf(spec, sizeof spec, "%s:50", indexed_pair());
	assert_int_equal(gos_dataset_load_calib(&a, spec, 9, NULL, &d), 0);
	memset(seen, 0, sizeof seen);
	for (int i = 0; i < 50; i++)
		assert_int_equal(seen[image_index(&a, i)]++, 0);
	gos_dataset_free(&a);
	gos_diags_free(&d);
}

static void calib_fails(const char *spec, const char *word)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset ds;
	assert_int_equal(gos_dataset_load_calib(&ds, spec, 1, NULL, &d), -1);
	assert_null(ds.x);
	want_error(&d, NULL, word);
	gos_diags_free(&d);
}

static void test_calib_sizes(void **state)
{
	(void)state;
	char spec[1300];
	const char *p = indexed_pair();
	calib_fails(p, "cannot draw 256 images from 50"); /* default N = 256 */
	snprintf(spec, sizeof spec, "%s:0", p);
	calib_fails(spec, "cannot draw 0");
	snprintf(spec, sizeof spec, "%s:51", p);
	calib_fails(spec, "cannot draw 51");
	snprintf(spec, sizeof spec, "%s:99999999999999999999999", p);
	calib_fails(spec, "too large");
}

/* A fake Fashion-MNIST directory (the real file names) of n test and
 * train images; returns it (set as $GOS_FASHION_MNIST_DIR by the caller). */
static const char *fake_fashion(int n)
{
	static char dir[300];
	snprintf(dir, sizeof dir, "%s/fashion", tmpdir);
	mkdir(dir, 0700);
	uint8_t px[300 * 4], y[300];
	assert_true(n <= 300);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < 4; j++)
			px[i * 4 + j] = (uint8_t)(i % 256);
		y[i] = (uint8_t)(i % 10);
	}
	const char *stems[2] = {"train", "t10k"};
	for (int k = 0; k < 2; k++) {
		buf im = {0}, lb = {0};
		idx_put(&im, 0x08, 3, (uint32_t[]){(uint32_t)(n - k), 2, 2}, px, (size_t)(n - k) * 4);
		idx_put(&lb, 0x08, 1, (uint32_t[]){(uint32_t)(n - k)}, y, (size_t)(n - k));
		char name[100];
		snprintf(name, sizeof name, "fashion/%s-images-idx3-ubyte.gz", stems[k]);
		write_gz(name, &im);
		snprintf(name, sizeof name, "fashion/%s-labels-idx1-ubyte.gz", stems[k]);
		write_gz(name, &lb);
		buf_free(&im);
		buf_free(&lb);
	}
	return dir;
}

static void test_fashion_spec_and_calib_colons(void **state)
{
	(void)state;
	const char *old = getenv("GOS_FASHION_MNIST_DIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("GOS_FASHION_MNIST_DIR", fake_fashion(300), 1);
	gos_dataset ds;
	load_ok(&ds, "fashion-mnist:train", 0, NULL);
	assert_int_equal(ds.n, 300);
	gos_dataset_free(&ds);
	load_ok(&ds, "fashion-mnist:test", 0, NULL);
	assert_int_equal(ds.n, 299);
	gos_dataset_free(&ds);
	gos_diags d;
	gos_diags_init(&d);
	/* two colons: N after the last; no number: N = 256 */
	assert_int_equal(gos_dataset_load_calib(&ds, "fashion-mnist:train:12", 3, NULL, &d), 0);
	assert_int_equal(ds.n, 12);
	gos_dataset_free(&ds);
	assert_int_equal(gos_dataset_load_calib(&ds, "fashion-mnist:test", 3, NULL, &d), 0);
	assert_int_equal(ds.n, 256);
	assert_string_equal(ds.name, "fashion-mnist:test");
	gos_dataset_free(&ds);
	assert_int_equal(d.n, 0);
	gos_diags_free(&d);
	load_fails("fashion-mnist:valid", NULL, NULL, "expected train or test");
	load_fails("fashion-mnist", NULL, NULL, "expected train or test");
	setenv("GOS_FASHION_MNIST_DIR", tpath("no-such-dir"), 1);
	load_fails("fashion-mnist:test", NULL, "no-such-dir", "dataset-fashion-mnist");
	if (saved)
		setenv("GOS_FASHION_MNIST_DIR", saved, 1);
	else
		unsetenv("GOS_FASHION_MNIST_DIR");
	free(saved);
}

static void test_select(void **state)
{
	(void)state;
	gos_dataset ds;
	load_ok(&ds, indexed_pair(), 0, NULL);
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_dataset_select(&ds, (int64_t[]){7, 3, 7, 49}, 4, &d), 0);
	assert_int_equal(ds.n, 4);
	const int want[4] = {7, 3, 7, 49};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(image_index(&ds, i), want[i]);
		assert_int_equal(ds.y[i], want[i] % 10);
	}
	assert_int_equal(gos_dataset_select(&ds, (int64_t[]){4}, 1, &d), -1); /* only 4 left */
	want_error(&d, NULL, "does not exist");
	assert_int_equal(ds.n, 4);
	assert_int_equal(gos_dataset_select(&ds, NULL, 0, &d), 0);
	assert_int_equal(ds.n, 0);
	gos_dataset_free(&ds);
	gos_diags_free(&d);
}

/* ---- bad files ------------------------------------------------------------ */

static const uint8_t some_labels[4] = {0, 1, 2, 3};

/* A valid IDX label file of n labels, for pairing with a bad image file. */
static const char *good_labels(int n)
{
	buf lb = {0};
	idx_put(&lb, 0x08, 1, (uint32_t[]){(uint32_t)n}, some_labels, (size_t)n);
	const char *p = write_file("good-labels", &lb);
	buf_free(&lb);
	return p;
}

static void test_bad_idx(void **state)
{
	(void)state;
	uint8_t px[16] = {0};
	buf b = {0};
	const char *lab = good_labels(4);
	char l[600];
	snprintf(l, sizeof l, "%s", lab);

	idx_put(&b, 0x08, 3, (uint32_t[]){4, 2, 2}, px, 15); /* one byte short */
	load_fails(pair(write_file("short.idx", &b), l), NULL, "short.idx", "truncated");
	load_fails(pair(write_gz("short.idx.gz", &b), l), NULL, "short.idx.gz", "truncated");
	buf_free(&b);
	idx_put(&b, 0x08, 3, (uint32_t[]){4, 2, 2}, px, 16);
	put8(&b, 0);
	load_fails(pair(write_file("long.idx", &b), l), NULL, "long.idx", "trailing bytes");
	load_fails(pair(write_gz("long.idx.gz", &b), l), NULL, "long.idx.gz", "trailing bytes");
	b.n = 9; /* inside the dims */
	load_fails(pair(write_file("cuthdr.idx", &b), l), NULL, "cuthdr.idx", "truncated IDX header");
	b.n = 2;
	load_fails(pair(write_file("tiny.idx", &b), l), NULL, "tiny.idx", "truncated");
	b.n = 0;
	load_fails(pair(write_file("empty.idx", &b), l), NULL, "empty.idx", "empty file");
	buf_free(&b);
	put(&b, "\x01\x02\x08\x03", 4);
	load_fails(pair(write_file("magic.idx", &b), l), NULL, "magic.idx", "bad magic");
	buf_free(&b);
	put(&b, "\x00\x00\x07\x03", 4);
	load_fails(pair(write_file("type.idx", &b), l), NULL, "type.idx", "element type 0x07");
	buf_free(&b);
	/* absurd dims: the product overflows / is far beyond any sane size */
	idx_put(&b, 0x08, 3, (uint32_t[]){0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, px, 16);
	load_fails(pair(write_file("huge.idx", &b), l), NULL, "huge.idx", "too large");
	buf_free(&b);
	/* a sane but large announced size in a tiny file: no huge allocation */
	idx_put(&b, 0x08, 3, (uint32_t[]){1 << 20, 32, 32}, px, 16);
	load_fails(pair(write_gz("big.idx.gz", &b), l), NULL, "big.idx.gz", "truncated");
	buf_free(&b);
	/* wrong ranks, zero images, missing file */
	idx_put(&b, 0x08, 2, (uint32_t[]){4, 4}, px, 16);
	load_fails(pair(write_file("rank2.idx", &b), l), NULL, "rank2.idx", "rank 2");
	buf_free(&b);
	idx_put(&b, 0x08, 3, (uint32_t[]){0, 2, 2}, px, 0);
	load_fails(pair(write_file("zero.idx", &b), l), NULL, "zero.idx", "no images");
	buf_free(&b);
	idx_put(&b, 0x08, 3, (uint32_t[]){4, 2, 2}, px, 16);
	const char *img = write_file("good-images", &b);
	char i4[600];
	snprintf(i4, sizeof i4, "%s", img);
	load_fails(pair(i4, tpath("missing-labels")), NULL, "missing-labels", "cannot open");
	load_fails(pair(i4, tmpdir), NULL, tmpdir, "not a regular file");
	load_fails(pair(i4, i4), NULL, "good-images", "labels must be a vector");
	buf_free(&b);
	/* a NaN pixel */
	idx_put(&b, 0x0D, 3, (uint32_t[]){4, 1, 1}, NULL, 0);
	for (int i = 0; i < 4; i++)
		put_f32be(&b, i == 2 ? NAN : 0.5f);
	load_fails(pair(write_file("nan.idx", &b), l), NULL, "nan.idx", "not a finite number");
	buf_free(&b);
	/* int16 pixels */
	idx_put(&b, 0x0B, 3, (uint32_t[]){4, 1, 1}, px, 8);
	load_fails(pair(write_file("i16.idx", &b), l), NULL, "i16.idx", "uint8 or float");
	buf_free(&b);
}

static void test_bad_labels(void **state)
{
	(void)state;
	uint8_t px[16] = {0};
	buf im = {0}, b = {0};
	idx_put(&im, 0x08, 3, (uint32_t[]){4, 2, 2}, px, 16);
	char img[600];
	snprintf(img, sizeof img, "%s", write_file("images4", &im));
	/* three labels for four images */
	idx_put(&b, 0x08, 1, (uint32_t[]){3}, some_labels, 3);
	load_fails(pair(img, write_file("lab3", &b)), NULL, "lab3", "3 labels for 4 images");
	buf_free(&b);
	/* int32 labels: 70000 too large */
	idx_put(&b, 0x0C, 1, (uint32_t[]){4}, NULL, 0);
	put32be(&b, 0);
	put32be(&b, 70000);
	put32be(&b, 1);
	put32be(&b, 1);
	load_fails(pair(img, write_file("lab-big", &b)), NULL, "lab-big", "out of range");
	buf_free(&b);
	/* a negative int8 label (.npy) */
	npy_put(&b, "|i1", "(4,)", 0, (int8_t[]){0, 1, -1, 2}, 4);
	load_fails(pair(img, write_file("lab-neg.npy", &b)), NULL, "lab-neg.npy", "label -1");
	buf_free(&b);
	/* uint64 beyond int64 */
	npy_put(&b, "<u8", "(4,)", 0, (uint64_t[]){0, UINT64_MAX, 1, 2}, 32);
	load_fails(pair(img, write_file("lab-u64.npy", &b)), NULL, "lab-u64.npy", "out of range");
	buf_free(&b);
	/* float labels, labels of rank 2 */
	npy_put(&b, "<f4", "(4,)", 0, (float[]){0, 1, 2, 3}, 16);
	load_fails(pair(img, write_file("lab-f.npy", &b)), NULL, "lab-f.npy", "integers");
	buf_free(&b);
	npy_put(&b, "|u1", "(4, 1)", 0, some_labels, 4);
	load_fails(pair(img, write_file("lab-r2.npy", &b)), NULL, "lab-r2.npy", "vector");
	buf_free(&b);
	buf_free(&im);
}

static void test_bad_gzip(void **state)
{
	(void)state;
	uint8_t px[4000];
	for (int i = 0; i < 4000; i++)
		px[i] = (uint8_t)(i * 7919 % 251);
	buf b = {0};
	idx_put(&b, 0x08, 3, (uint32_t[]){4, 20, 50}, px, sizeof px);
	const char *path = write_gz("gz-ok.idx.gz", &b);
	FILE *f = fopen(path, "rb");
	unsigned char gz[8192];
	size_t n = fread(gz, 1, sizeof gz, f);
	fclose(f);
	assert_true(n > 100 && n < sizeof gz);
	buf_free(&b);
	char l[600];
	snprintf(l, sizeof l, "%s", good_labels(4));
	/* the intact file loads */
	gos_dataset ds;
	load_ok(&ds, pair(path, l), 0, NULL);
	gos_dataset_free(&ds);
	/* bytes changed in the deflate data */
	put(&b, gz, n);
	for (size_t i = 20; i < 60; i++)
		b.p[i] ^= 0x55;
	load_fails(pair(write_file("gz-bad.idx.gz", &b), l), NULL, "gz-bad.idx.gz", "gzip");
	buf_free(&b);
	/* a wrong CRC in the gzip trailer */
	put(&b, gz, n);
	b.p[n - 6] ^= 0xff;
	load_fails(pair(write_file("gz-crc.idx.gz", &b), l), NULL, "gz-crc.idx.gz", "corrupt gzip");
	buf_free(&b);
	/* cut inside the stream and inside the trailer */
	put(&b, gz, n / 2);
	load_fails(pair(write_file("gz-cut.idx.gz", &b), l), NULL, "gz-cut.idx.gz", "truncated");
	buf_free(&b);
	put(&b, gz, n - 3);
	load_fails(pair(write_file("gz-cut2.idx.gz", &b), l), NULL, "gz-cut2.idx.gz", "truncated");
	buf_free(&b);
}

static void test_bad_npy(void **state)
{
	(void)state;
	uint8_t px[32] = {0}; /* the largest array below */
	char l[600];
	snprintf(l, sizeof l, "%s", good_labels(4));
	buf b = {0};
	npy_put(&b, "|u1", "(4, 2, 2)", 1, px, 16);
	load_fails(pair(write_file("fortran.npy", &b), l), NULL, "fortran.npy", "Fortran");
	buf_free(&b);
	npy_put(&b, ">f4", "(4, 1, 1)", 0, px, 16);
	load_fails(pair(write_file("be.npy", &b), l), NULL, "be.npy", "big-endian");
	buf_free(&b);
	npy_put(&b, "<c8", "(4, 1, 1)", 0, px, 32);
	load_fails(pair(write_file("cplx.npy", &b), l), NULL, "cplx.npy", "unsupported dtype");
	buf_free(&b);
	npy_put(&b, "|u1", "(4, 2, 2)", 0, px, 15);
	load_fails(pair(write_file("short.npy", &b), l), NULL, "short.npy", "truncated");
	buf_free(&b);
	npy_put(&b, "|u1", "(4, 2, 2)", 0, px, 16);
	put8(&b, 1);
	load_fails(pair(write_file("long.npy", &b), l), NULL, "long.npy", "trailing bytes");
	b.n = 30; /* inside the header */
	load_fails(pair(write_file("cuthdr.npy", &b), l), NULL, "cuthdr.npy", "truncated");
	buf_free(&b);
	npy_put(&b, "|u1", "(4, 2, 2), 'extra': 1", 0, px, 16);
	load_fails(pair(write_file("key.npy", &b), l), NULL, "key.npy", "bad .npy header");
	buf_free(&b);
	put(&b, "\x93NUMPY\x09\x00", 8);
	load_fails(pair(write_file("ver.npy", &b), l), NULL, "ver.npy", "version 9.0");
	buf_free(&b);
	/* an int16 image */
	npy_put(&b, "<i2", "(4, 1, 1)", 0, px, 8);
	load_fails(pair(write_file("i16.npy", &b), l), NULL, "i16.npy", "uint8 or float");
	buf_free(&b);
}

static void test_bad_npz(void **state)
{
	(void)state;
	buf x = {0}, y = {0}, z = {0}, y2 = {0};
	npz_arrays(&x, &y);
	for (int deflate = 0; deflate < 2; deflate++) {
		zmember bad[2] = {{"x.npy", &x, deflate, 1}, {"y.npy", &y, deflate, 0}};
		zip_put(&z, bad, 2);
		load_fails(write_file("crc.npz", &z), NULL, "crc.npz", "CRC mismatch in member 'x.npy'");
		buf_free(&z);
	}
	zmember missing[2] = {{"x.npy", &x, 0, 0}, {"label.npy", &y, 1, 0}};
	zip_put(&z, missing, 2);
	load_fails(write_file("missing.npz", &z), NULL, "missing.npz",
	           "no label array (a member 'y.npy' or 'labels.npy'); it has: 'x.npy', 'label.npy'");
	/* cut: no end record; cut inside the data */
	size_t full = z.n;
	z.n = full - 10;
	load_fails(write_file("cut.npz", &z), NULL, "cut.npz", "end-of-central-directory");
	buf_free(&z);
	zmember both[3] = {{"x.npy", &x, 0, 0}, {"images.npy", &x, 0, 0}, {"y.npy", &y, 0, 0}};
	zip_put(&z, both, 3);
	load_fails(write_file("both.npz", &z), NULL, "both.npz", "both 'x.npy' and 'images.npy'");
	buf_free(&z);
	/* deflate data damaged but CRC and sizes intact */
	zmember ok[2] = {{"x.npy", &x, 1, 0}, {"y.npy", &y, 1, 0}};
	zip_put(&z, ok, 2);
	z.p[30 + 5] ^= 0xff; /* the first byte of x.npy's deflate data */
	load_fails(write_file("inflate.npz", &z), NULL, "inflate.npz", "member 'x.npy'");
	buf_free(&z);
	/* an IDX file stored as a member; a member with count mismatch */
	buf idx = {0};
	idx_put(&idx, 0x08, 1, (uint32_t[]){3}, some_labels, 3);
	zmember notnpy[2] = {{"x.npy", &x, 0, 0}, {"y.npy", &idx, 0, 0}};
	zip_put(&z, notnpy, 2);
	load_fails(write_file("idx.npz", &z), NULL, "idx.npz", "member 'y.npy': not a .npy");
	buf_free(&z);
	npy_put(&y2, "<i8", "(2,)", 0, (int64_t[]){0, 1}, 16);
	zmember mism[2] = {{"x.npy", &x, 1, 0}, {"y.npy", &y2, 1, 0}};
	zip_put(&z, mism, 2);
	load_fails(write_file("mism.npz", &z), NULL, "mism.npz", "2 labels for 3 images");
	buf_free(&z);
	/* not a ZIP at all */
	load_fails(write_file("x-as.npz", &x), NULL, "x-as.npz", "not a .npz (ZIP) archive");
	buf_free(&x);
	buf_free(&y);
	buf_free(&y2);
	buf_free(&idx);
}

/* Loads spec; it must give a dataset or an error (never a crash: the
 * sanitizer build checks the rest). */
static void load_any(const char *spec)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_dataset ds;
	if (gos_dataset_load(&ds, spec, 0, NULL, &d) == 0) {
		assert_true(ds.n > 0);
		gos_dataset_free(&ds);
	} else {
		assert_true(d.n_errors > 0);
		assert_null(ds.x);
	}
	gos_diags_free(&d);
}

/* Every truncation and many random byte changes of a deflated .npz, a
 * stored one and a gzipped IDX file. */
static void test_truncations_and_flips(void **state)
{
	(void)state;
	buf x = {0}, y = {0}, files[3] = {{0}, {0}, {0}};
	npz_arrays(&x, &y);
	zmember m[2] = {{"x.npy", &x, 1, 0}, {"y.npy", &y, 1, 0}};
	zip_put(&files[0], m, 2);
	m[0].deflate = m[1].deflate = 0;
	zip_put(&files[1], m, 2);
	uint8_t px[300];
	for (int i = 0; i < 300; i++)
		px[i] = (uint8_t)(i * i % 253);
	buf im = {0};
	idx_put(&im, 0x08, 3, (uint32_t[]){3, 10, 10}, px, sizeof px);
	write_gz("fz.gz", &im);
	FILE *f = fopen(tpath("fz.gz"), "rb");
	unsigned char tmp[4096];
	put(&files[2], tmp, fread(tmp, 1, sizeof tmp, f));
	fclose(f);
	char lab[600];
	buf lb = {0};
	idx_put(&lb, 0x08, 1, (uint32_t[]){3}, some_labels, 3);
	snprintf(lab, sizeof lab, "%s", write_file("fz-labels", &lb));
	uint64_t r = 12345;
	for (int k = 0; k < 3; k++) {
		const char *name = k < 2 ? "fz.npz" : "fz-images.gz";
		char spec[1300];
		snprintf(spec, sizeof spec, "%s", tpath(name));
		if (k == 2)
			snprintf(spec + strlen(spec), sizeof spec - strlen(spec), ",%s", lab);
		buf *b = &files[k];
		size_t n = b->n;
		for (size_t len = 0; len <= n; len++) {
			b->n = len;
			write_file(name, b);
			load_any(spec);
		}
		for (int round = 0; round < 150; round++) {
			buf c = {0};
			put(&c, b->p, n);
			for (int j = 0; j <= round % 3; j++) {
				r = r * 6364136223846793005u + 1442695040888963407u;
				c.p[(r >> 33) % n] ^= (unsigned char)(1 + (r >> 20) % 255);
			}
			write_file(name, &c);
			load_any(spec);
			buf_free(&c);
		}
		buf_free(b);
	}
	buf_free(&x);
	buf_free(&y);
	buf_free(&im);
	buf_free(&lb);
}

static void test_bad_specs_and_norms(void **state)
{
	(void)state;
	load_fails("", NULL, NULL, "expected fashion-mnist:train");
	load_fails("images.bin", NULL, NULL, "IMAGES,LABELS");
	load_fails("a,b,c", NULL, NULL, "IMAGES,LABELS");
	load_fails(",b", NULL, NULL, "IMAGES,LABELS");
	load_fails(tpath("nothing.npz"), NULL, "nothing.npz", "cannot open");
	/* normalisation counts against 3 channels */
	buf im = {0}, lb = {0};
	uint8_t px[12] = {0};
	npy_put(&im, "|u1", "(1, 3, 2, 2)", 0, px, 12);
	npy_put(&lb, "|u1", "(1,)", 0, px, 1);
	const char *a = write_file("c3-x.npy", &im), *b = write_file("c3-y.npy", &lb);
	gos_norm two = {2, 0, {0.5, 0.5}, {0}};
	load_fails(pair(a, b), &two, "c3-x.npy", "2 mean values for images of 3 channels");
	gos_norm st = {0, 3, {0}, {1, 0, 1}};
	load_fails(pair(a, b), &st, "c3-x.npy", "bad std value 0");
	gos_norm tiny = {0, 1, {0}, {1e-300}}; /* 0 as a float */
	load_fails(pair(a, b), &tiny, "c3-x.npy", "bad std value 1e-300");
	gos_norm big = {1, 0, {1e300}, {0}};
	load_fails(pair(a, b), &big, "c3-x.npy", "bad mean value 1e+300");
	gos_norm many = {17, 0, {0}, {0}};
	load_fails(pair(a, b), &many, "c3-x.npy", "17 mean values");
	gos_norm ok = {3, 1, {0.1, 0.2, 0.3}, {0.5}};
	gos_dataset ds;
	load_ok(&ds, pair(a, b), 0, &ok);
	for (int i = 0; i < 12; i++)
		assert_float_equal(ds.x[i], norm_u8(0, ok.mean[i / 4], 0.5), 1e-6);
	gos_dataset_free(&ds);
	buf_free(&im);
	buf_free(&lb);
}

static void test_norm_parse(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	double v[GOS_DATA_MAX_CHANNELS];
	assert_int_equal(gos_norm_parse("0.286", 0, v, "--mean", &d), 1);
	assert_float_equal(v[0], 0.286, 0);
	assert_int_equal(gos_norm_parse("0.5,0.4,0.3", 1, v, "--std", &d), 3);
	assert_float_equal(v[2], 0.3, 0);
	assert_int_equal(gos_norm_parse("-1.5, 2e-1", 0, v, "--mean", &d), 2);
	assert_float_equal(v[0], -1.5, 0);
	assert_float_equal(v[1], 0.2, 0);
	assert_int_equal(gos_norm_parse("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", 1, v, "--std", &d),
	                 16);
	assert_int_equal(d.n, 0);
	const struct {
		const char *text;
		int is_std;
		const char *word;
	} bad[] = {
		{"", 0, "item 1 is empty"},        {"0.5,", 0, "item 2 is empty"},
		{",0.5", 0, "item 1 is empty"},    {"0.5,,1", 1, "item 2 is empty"},
		{"abc", 0, "not a finite number"}, {"0.5x", 0, "not a finite number"},
		{"nan", 0, "not a finite number"}, {"inf", 1, "not a finite number"},
		{"1e999", 0, "not a finite number"}, {"0", 1, "must be > 0"},
		{"0.3,-1", 1, "item 2 must be > 0"},
		{"1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", 0, "more than 16"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		gos_diags e;
		gos_diags_init(&e);
		assert_int_equal(gos_norm_parse(bad[i].text, bad[i].is_std, v, "--std", &e), -1);
		want_error(&e, NULL, bad[i].word);
		want_error(&e, NULL, "--std");
		gos_diags_free(&e);
	}
	gos_diags_free(&d);
}

/* Debian's dataset-fashion-mnist, when installed. */
static void test_real_fashion_mnist(void **state)
{
	(void)state;
	const char *dir = "/usr/share/datasets/fashion-mnist";
	struct stat st;
	if (stat(dir, &st) != 0) {
		print_message("skip: %s not installed\n", dir);
		skip();
	}
	const char *old = getenv("GOS_FASHION_MNIST_DIR");
	char *saved = old ? strdup(old) : NULL;
	unsetenv("GOS_FASHION_MNIST_DIR");
	gos_dataset ds;
	load_ok(&ds, "fashion-mnist:test", 0, NULL);
	assert_int_equal(ds.n, 10000);
	assert_int_equal(ds.c, 1);
	assert_int_equal(ds.h, 28);
	assert_int_equal(ds.w, 28);
	assert_int_equal(ds.n_class, 10);
	assert_int_equal(ds.y[0], 9); /* the first test image is an ankle boot */
	for (int64_t i = 0; i < ds.n * 784; i += 997)
		assert_true(ds.x[i] >= 0 && ds.x[i] <= 1);
	gos_dataset_free(&ds);
	if (saved)
		setenv("GOS_FASHION_MNIST_DIR", saved, 1);
	free(saved);
}

/* ---- the temporary directory ---------------------------------------------- */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/gos-dataset-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idx_plain_and_gz),
		cmocka_unit_test(test_idx_normalised_and_limit),
		cmocka_unit_test(test_idx_float_nchw_per_channel),
		cmocka_unit_test(test_npy_nhwc_transposed),
		cmocka_unit_test(test_npy_float64_taken_as_is),
		cmocka_unit_test(test_npz_stored_and_deflated),
		cmocka_unit_test(test_npz_written_by_numpy),
		cmocka_unit_test(test_calib_deterministic),
		cmocka_unit_test(test_calib_sizes),
		cmocka_unit_test(test_fashion_spec_and_calib_colons),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_bad_idx),
		cmocka_unit_test(test_bad_labels),
		cmocka_unit_test(test_bad_gzip),
		cmocka_unit_test(test_bad_npy),
		cmocka_unit_test(test_bad_npz),
		cmocka_unit_test(test_truncations_and_flips),
		cmocka_unit_test(test_bad_specs_and_norms),
		cmocka_unit_test(test_norm_parse),
		cmocka_unit_test(test_real_fashion_mnist),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
