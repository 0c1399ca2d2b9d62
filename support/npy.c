/* npy.c -- NumPy .npy files: reading (format 1.0, 2.0 and 3.0; float,
 * integer and bool data converted to float32; C order) and writing
 * (format 1.0, little-endian float32), see
 * numpy.lib.format. Nothing in a file is trusted: the header is parsed
 * strictly, sizes are overflow-checked, and the file must hold exactly the
 * bytes the header announces. */
#include "support/tensorio.h"
#include "support/alloc.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "support/outfile.h"

static const char magic[6] = {(char)0x93, 'N', 'U', 'M', 'P', 'Y'};

/* ---- reading ---------------------------------------------------------- */

typedef struct hdr {
	const char *p, *end; /* the header text being parsed */
	const char *path;
	gos_diags *d;
	char descr[16];
	int have_descr, have_fortran, have_shape;
	int fortran;
	int rank;
	int64_t shape[GOS_MAX_RANK];
} hdr;

static int herr(hdr *h, const char *msg)
{
	gos_error(h->d, (gos_loc){h->path, 0, 0}, "bad .npy header: %s", msg);
	return -1;
}

static void skip_ws(hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

/* Reads a quoted string ('...' or "...", no escapes) into out[n]. */
static int read_str(hdr *h, char *out, size_t n)
{
	skip_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return herr(h, "expected a quoted string");
	char q = *h->p++;
	size_t k = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || *h->p == '\n')
			return herr(h, "unsupported character in a string");
		if (k + 1 >= n)
			return herr(h, "string too long");
		out[k++] = *h->p++;
	}
	if (h->p >= h->end)
		return herr(h, "unterminated string");
	h->p++;
	out[k] = 0;
	return 0;
}

static int read_shape(hdr *h)
{
	skip_ws(h);
	if (h->p >= h->end || *h->p != '(')
		return herr(h, "'shape' must be a tuple");
	h->p++;
	h->rank = 0;
	for (;;) {
		skip_ws(h);
		if (h->p < h->end && *h->p == ')') {
			h->p++;
			return 0;
		}
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			return herr(h, "'shape' must hold non-negative integers");
		int64_t v = 0;
		while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
			if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *h->p - '0', &v))
				return herr(h, "a dimension is too large");
			h->p++;
		}
		if (h->p < h->end && *h->p == 'L') /* written by Python 2 */
			h->p++;
		if (h->rank == GOS_MAX_RANK) {
			gos_error(h->d, (gos_loc){h->path, 0, 0},
			          "the array has more than %d dimensions", GOS_MAX_RANK);
			return -1;
		}
		h->shape[h->rank++] = v;
		skip_ws(h);
		if (h->p < h->end && *h->p == ',') {
			h->p++;
		} else if (h->p < h->end && *h->p == ')') {
			if (h->rank == 1) /* "(3)" is an int, not a tuple */
				return herr(h, "a one-element shape needs a trailing comma");
		} else {
			return herr(h, "expected ',' or ')' in 'shape'");
		}
	}
}

static int word(hdr *h, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
		h->p += n;
		return 1;
	}
	return 0;
}

/* Parses the header dictionary. */
static int parse_header(hdr *h)
{
	skip_ws(h);
	if (h->p >= h->end || *h->p != '{')
		return herr(h, "expected '{'");
	h->p++;
	for (;;) {
		skip_ws(h);
		if (h->p < h->end && *h->p == '}') {
			h->p++;
			break;
		}
		char key[32];
		if (read_str(h, key, sizeof key))
			return -1;
		skip_ws(h);
		if (h->p >= h->end || *h->p != ':')
			return herr(h, "expected ':' after a key");
		h->p++;
		skip_ws(h);
		if (strcmp(key, "descr") == 0) {
			if (h->have_descr++)
				return herr(h, "duplicate key 'descr'");
			if (h->p < h->end && *h->p == '[')
				return herr(h, "structured dtypes are not supported");
			if (read_str(h, h->descr, sizeof h->descr))
				return -1;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (h->have_fortran++)
				return herr(h, "duplicate key 'fortran_order'");
			if (word(h, "True"))
				h->fortran = 1;
			else if (!word(h, "False"))
				return herr(h, "'fortran_order' must be True or False");
		} else if (strcmp(key, "shape") == 0) {
			if (h->have_shape++)
				return herr(h, "duplicate key 'shape'");
			if (read_shape(h))
				return -1;
		} else {
			return herr(h, "unknown key (expected 'descr', 'fortran_order', 'shape')");
		}
		skip_ws(h);
		if (h->p < h->end && *h->p == ',')
			h->p++;
		else if (h->p >= h->end || *h->p != '}')
			return herr(h, "expected ',' or '}'");
	}
	skip_ws(h);
	if (h->p != h->end)
		return herr(h, "text after the dictionary");
	if (!h->have_descr || !h->have_fortran || !h->have_shape)
		return herr(h, "missing 'descr', 'fortran_order' or 'shape'");
	return 0;
}

typedef enum { K_F, K_I, K_U, K_B } kind;

/* Size and kind of a supported little-endian dtype; 0 if unsupported. */
static int dtype_of(const char *s, kind *k)
{
	static const struct {
		const char *name;
		int size;
		kind k;
	} tab[] = {
		{"<f4", 4, K_F}, {"<f8", 8, K_F}, {"<i1", 1, K_I}, {"|i1", 1, K_I},
		{"<i2", 2, K_I}, {"<i4", 4, K_I}, {"<i8", 8, K_I}, {"<u1", 1, K_U},
		{"|u1", 1, K_U}, {"<u2", 2, K_U}, {"<u4", 4, K_U}, {"<u8", 8, K_U},
		{"|b1", 1, K_B}, {"<b1", 1, K_B},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(s, tab[i].name) == 0) {
			*k = tab[i].k;
			return tab[i].size;
		}
	return 0;
}

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static float convert(const unsigned char *p, int size, kind k)
{
	uint64_t v = le(p, size);
	switch (k) {
	case K_F:
		if (size == 4) {
			uint32_t u = (uint32_t)v;
			float f;
			memcpy(&f, &u, 4);
			return f;
		} else {
			double f;
			memcpy(&f, &v, 8);
			return (float)f;
		}
	case K_I: {
		int sh = 64 - 8 * size; /* sign-extend */
		int64_t s = (int64_t)(v << sh) >> sh;
		return (float)s;
	}
	case K_U:
		return (float)v;
	case K_B:
		return v ? 1.0f : 0.0f;
	}
	return 0;
}

int gos_npy_read(const char *path, gos_tensor *t, gos_diags *d)
{
	memset(t, 0, sizeof *t);
	gos_loc loc = {path, 0, 0};
	size_t len;
	char *buf = gos_read_file(d, path, &len);
	if (!buf)
		return -1;
	const unsigned char *u = (const unsigned char *)buf;
	int rc = -1;
	size_t start, hlen;
	if (len < 10 || memcmp(buf, magic, 6) != 0) {
		gos_error(d, loc, "not a .npy file (no \\x93NUMPY magic)");
		goto out;
	}
	if (u[6] == 1) {
		hlen = (size_t)le(u + 8, 2);
		start = 10;
	} else if ((u[6] == 2 || u[6] == 3) && len >= 12) {
		hlen = (size_t)le(u + 8, 4);
		start = 12;
	} else {
		gos_error(d, loc, "unsupported .npy format version %d.%d", u[6], u[7]);
		goto out;
	}
	if (hlen > len - start) {
		gos_error(d, loc, "truncated .npy header (%zu bytes announced, %zu present)", hlen,
		          len - start);
		goto out;
	}
	hdr h = {buf + start, buf + start + hlen, path, d, {0}, 0, 0, 0, 0, 0, {0}};
	if (parse_header(&h))
		goto out;
	if (h.fortran) {
		gos_error(d, loc, "Fortran-ordered arrays are not supported (save it in C order)");
		goto out;
	}
	kind k;
	int size = dtype_of(h.descr, &k);
	if (!size) {
		gos_error(d, loc, "unsupported dtype '%s' (supported: <f4 <f8 <i1..<i8 |u1..<u8 |b1)",
		          h.descr);
		goto out;
	}
	int64_t numel = 1;
	uint64_t nbytes;
	for (int i = 0; i < h.rank; i++)
		if (__builtin_mul_overflow(numel, h.shape[i], &numel)) {
			gos_error(d, loc, "the shape is too large");
			goto out;
		}
	if (__builtin_mul_overflow((uint64_t)numel, (uint64_t)size, &nbytes) ||
	    (uint64_t)numel > SIZE_MAX / sizeof(float)) {
		gos_error(d, loc, "the shape is too large");
		goto out;
	}
	size_t have = len - start - hlen;
	if (nbytes != have) {
		gos_error(d, loc, "%s: the header announces %" PRIu64 " bytes of data but the file has %zu",
		          nbytes > have ? "truncated" : "trailing bytes", nbytes, have);
		goto out;
	}
	t->data = gos_malloc(sizeof(float) * (size_t)(numel ? numel : 1));
	if (!t->data) {
		gos_error(d, loc, "out of memory");
		goto out;
	}
	const unsigned char *p = u + start + hlen;
	for (int64_t i = 0; i < numel; i++)
		t->data[i] = convert(p + (size_t)i * (size_t)size, size, k);
	t->rank = h.rank;
	for (int i = 0; i < h.rank; i++)
		t->shape[i] = h.shape[i];
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---- writing ------------------------------------------------------------ */

int gos_npy_write(const char *path, const gos_tensor *t, gos_diags *d)
{
	gos_loc loc = {path, 0, 0};
	if (t->rank < 0 || t->rank > GOS_MAX_RANK) {
		gos_error(d, loc, "cannot write a tensor of rank %d", t->rank);
		return -1;
	}
	int64_t numel = 1;
	for (int i = 0; i < t->rank; i++)
		if (t->shape[i] < 0 || __builtin_mul_overflow(numel, t->shape[i], &numel)) {
			gos_error(d, loc, "cannot write a tensor with an invalid shape");
			return -1;
		}
	if (numel && !t->data) {
		gos_error(d, loc, "cannot write a tensor without data");
		return -1;
	}
	char h[512];
	int n = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
	for (int i = 0; i < t->rank; i++)
		n += snprintf(h + n, sizeof h - (size_t)n, "%s%" PRId64, i ? ", " : "", t->shape[i]);
	n += snprintf(h + n, sizeof h - (size_t)n, "%s), }", t->rank == 1 ? "," : "");
	/* pad with spaces so that magic + version + length + header is a
	 * multiple of 64, ending in '\n' */
	while ((10 + n + 1) % 64)
		h[n++] = ' ';
	h[n++] = '\n';
	unsigned char pre[10];
	memcpy(pre, magic, 6);
	pre[6] = 1;
	pre[7] = 0;
	pre[8] = (unsigned char)(n & 0xff);
	pre[9] = (unsigned char)(n >> 8);
	gos_outfile o;
	if (gos_outfile_open(&o, path)) {
		gos_error(d, loc, "cannot create the file");
		return -1;
	}
	fwrite(pre, 1, sizeof pre, o.f);
	fwrite(h, 1, (size_t)n, o.f);
	unsigned char chunk[4096];
	size_t k = 0;
	for (int64_t i = 0; i < numel; i++) {
		uint32_t v;
		memcpy(&v, &t->data[i], 4);
		for (int b = 0; b < 4; b++)
			chunk[k++] = (unsigned char)(v >> (8 * b));
		if (k == sizeof chunk) {
			fwrite(chunk, 1, k, o.f);
			k = 0;
		}
	}
	fwrite(chunk, 1, k, o.f);
	if (gos_outfile_commit(&o)) {
		gos_error(d, loc, "writing failed");
		return -1;
	}
	return 0;
}
