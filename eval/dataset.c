/* dataset.c -- labelled image datasets (eval/dataset.h): IDX files read
 * through zlib (so gzipped and plain files both work), .npy files, and
 * .npz archives (a small ZIP reader: stored and deflated members,
 * CRC-checked). Nothing in a file is trusted: every size is checked before
 * it is used, buffers grow only as bytes actually arrive, and a file must
 * hold exactly the bytes its header announces. Errors name the file. */
#include "eval/dataset.h"
#include "support/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "support/diag.h"

#define MAX_ELEMS ((uint64_t)1 << 31) /* elements of one array in a file */
#define MAX_RANK 8
#define MAX_LABEL 65535
#define NPY_MAX_HEADER (1 << 20)
#define CALIB_DEFAULT 256
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static const char forms[] =
	"expected fashion-mnist:train, fashion-mnist:test, IMAGES,LABELS (a pair of "
	"IDX[.gz] or .npy files) or FILE.npz";

/* A location naming path that stays valid as long as d (the diagnostics
 * keep a copy of the name). */
static gos_loc file_loc(gos_diags *d, const char *path)
{
	return (gos_loc){gos_diags_source(d, path, "", 0), 0, 0};
}

/* ---- arrays as stored --------------------------------------------------- */

typedef enum etype { E_U8, E_I8, E_U16, E_I16, E_U32, E_I32, E_U64, E_I64, E_F32, E_F64 } etype;

static const struct {
	const char *name;
	int size, is_int, is_signed;
} etypes[] = {
	[E_U8] = {"uint8", 1, 1, 0},   [E_I8] = {"int8", 1, 1, 1},
	[E_U16] = {"uint16", 2, 1, 0}, [E_I16] = {"int16", 2, 1, 1},
	[E_U32] = {"uint32", 4, 1, 0}, [E_I32] = {"int32", 4, 1, 1},
	[E_U64] = {"uint64", 8, 1, 0}, [E_I64] = {"int64", 8, 1, 1},
	[E_F32] = {"float32", 4, 0, 0}, [E_F64] = {"float64", 8, 0, 0},
};

/* An array as a file stores it: shape, element type and bytes. */
typedef struct raw {
	int rank;
	int64_t shape[MAX_RANK];
	etype t;
	int be;              /* elements are big-endian (IDX) */
	unsigned char *data; /* numel elements; malloc'd */
	size_t numel;
} raw;

static void raw_free(raw *a)
{
	free(a->data);
	memset(a, 0, sizeof *a);
}

static uint64_t load_uint(const unsigned char *p, int size, int be)
{
	uint64_t v = 0;
	for (int i = 0; i < size; i++)
		v = v << 8 | p[be ? i : size - 1 - i];
	return v;
}

/* Element i of a as a float (float arrays) or as a pixel (uint8 / 255). */
static float pixel(const raw *a, size_t i)
{
	const unsigned char *p = a->data + i * (size_t)etypes[a->t].size;
	switch (a->t) {
	case E_U8:
		return (float)p[0] / 255.0f;
	case E_F32: {
		uint32_t u = (uint32_t)load_uint(p, 4, a->be);
		float f;
		memcpy(&f, &u, 4);
		return f;
	}
	case E_F64: {
		uint64_t u = load_uint(p, 8, a->be);
		double f;
		memcpy(&f, &u, 8);
		return (float)f;
	}
	default:
		return 0;
	}
}

/* Integer element i of a; *big is set when it does not fit in int64. */
static int64_t integer(const raw *a, size_t i, int *big)
{
	int size = etypes[a->t].size;
	uint64_t v = load_uint(a->data + i * (size_t)size, size, a->be);
	*big = 0;
	if (!etypes[a->t].is_signed) {
		if (v > INT64_MAX)
			*big = 1;
		return (int64_t)(v & INT64_MAX);
	}
	int sh = 64 - 8 * size; /* sign-extend */
	return (int64_t)(v << sh) >> sh;
}

static void shape_str(const raw *a, char *buf, size_t n)
{
	size_t k = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < a->rank && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%" PRId64, i ? ", " : "", a->shape[i]);
	if (k < n)
		snprintf(buf + k, n - k, "]");
}

/* ---- byte sources ------------------------------------------------------- */

/* Where an array is read from: a zlib stream (a gzipped or plain file) or
 * a buffer (an .npz member). */
typedef struct src {
	gzFile gz;                /* or NULL: */
	const unsigned char *mem; /* the buffer */
	size_t len, pos;
	gos_loc loc;        /* the file, for messages */
	const char *member; /* the .npz member, or NULL */
	gos_diags *d;
} src;

static int serr(src *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports an error about s; returns -1. */
static int serr(src *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s->member)
		gos_error(s->d, s->loc, "member '%s': %s", s->member, msg);
	else
		gos_error(s->d, s->loc, "%s", msg);
	return -1;
}

/* Reads up to n bytes into buf; *got < n only at the end of the data.
 * Returns -1 (reported) when the stream is unreadable, corrupt or cut. */
static int src_read(src *s, void *buf, size_t n, size_t *got)
{
	*got = 0;
	if (!s->gz) {
		size_t k = s->len - s->pos < n ? s->len - s->pos : n;
		if (k)
			memcpy(buf, s->mem + s->pos, k);
		s->pos += k;
		*got = k;
		return 0;
	}
	while (*got < n) {
		size_t want = n - *got < (1u << 30) ? n - *got : (1u << 30);
		int r = gzread(s->gz, (unsigned char *)buf + *got, (unsigned)want);
		int err;
		const char *msg = gzerror(s->gz, &err);
		size_t pl = s->loc.file ? strlen(s->loc.file) : 0; /* zlib says "PATH: what" */
		if (msg && pl && strncmp(msg, s->loc.file, pl) == 0 && strncmp(msg + pl, ": ", 2) == 0)
			msg += pl + 2;
		if (r < 0 || (err != Z_OK && err != Z_BUF_ERROR)) {
			if (err == Z_ERRNO)
				return serr(s, "read error: %s", strerror(errno));
			return serr(s, "corrupt gzip data (zlib: %s)", msg ? msg : "error");
		}
		if (r == 0) {
			if (err == Z_BUF_ERROR)
				return serr(s, "truncated gzip stream (zlib: %s)", msg ? msg : "error");
			break;
		}
		*got += (size_t)r;
	}
	return 0;
}

/* Reads exactly n bytes of a header into buf (else an error about what). */
static int src_exact(src *s, void *buf, size_t n, const char *what)
{
	size_t got;
	if (src_read(s, buf, n, &got))
		return -1;
	if (got < n)
		return serr(s, "truncated %s (%zu of %zu bytes)", what, got, n);
	return 0;
}

/* Reads exactly n bytes of array data into a new buffer, then checks that
 * nothing follows. The buffer grows as bytes arrive, so a header that lies
 * about the size cannot make us allocate much more than the file holds. */
static unsigned char *read_data(src *s, size_t n)
{
	size_t cap = n < (1u << 20) ? n : (1u << 20), have = 0;
	unsigned char *buf = gos_malloc(cap ? cap : 1);
	if (!buf) {
		serr(s, "out of memory");
		return NULL;
	}
	while (have < n) {
		if (have == cap) {
			size_t nc = cap > n / 2 ? n : cap * 2;
			unsigned char *nb = gos_realloc(buf, nc);
			if (!nb) {
				serr(s, "out of memory (%zu bytes of data)", n);
				goto fail;
			}
			buf = nb;
			cap = nc;
		}
		size_t got;
		if (src_read(s, buf + have, cap - have, &got))
			goto fail;
		int short_read = got < cap - have;
		have += got;
		if (short_read)
			break;
	}
	if (have < n) {
		serr(s, "truncated: the header announces %zu bytes of data but only %zu follow", n,
		     have);
		goto fail;
	}
	unsigned char extra[1];
	size_t got;
	if (src_read(s, extra, 1, &got))
		goto fail;
	if (got) {
		serr(s, "trailing bytes after the %zu bytes of data the header announces", n);
		goto fail;
	}
	return buf;
fail:
	free(buf);
	return NULL;
}

/* Sets a's element count from its shape and reads its data (all checked). */
static int read_elements(src *s, raw *a)
{
	uint64_t numel = 1;
	for (int i = 0; i < a->rank; i++)
		if (__builtin_mul_overflow(numel, (uint64_t)a->shape[i], &numel))
			numel = UINT64_MAX;
	if (numel > MAX_ELEMS) {
		char sh[128];
		shape_str(a, sh, sizeof sh);
		return serr(s, "the array is too large (shape %s; at most %" PRIu64 " elements)", sh,
		            MAX_ELEMS);
	}
	uint64_t nbytes = numel * (uint64_t)etypes[a->t].size;
	if (nbytes > SIZE_MAX)
		return serr(s, "the array is too large for this machine");
	a->data = read_data(s, (size_t)nbytes);
	if (!a->data)
		return -1;
	a->numel = (size_t)numel;
	return 0;
}

/* ---- IDX ------------------------------------------------------------------ */

/* Reads an IDX array whose 4 magic bytes m have been read. */
static int read_idx(src *s, const unsigned char m[4], raw *a)
{
	if (m[0] || m[1])
		return serr(s, "not an IDX or .npy file (bad magic %02x %02x %02x %02x)", m[0], m[1],
		            m[2], m[3]);
	switch (m[2]) {
	case 0x08: a->t = E_U8; break;
	case 0x09: a->t = E_I8; break;
	case 0x0B: a->t = E_I16; break;
	case 0x0C: a->t = E_I32; break;
	case 0x0D: a->t = E_F32; break;
	case 0x0E: a->t = E_F64; break;
	default:
		return serr(s, "bad IDX magic: unknown element type 0x%02x", m[2]);
	}
	if (m[3] == 0 || m[3] > MAX_RANK)
		return serr(s, "bad IDX magic: rank %d (expected 1 to %d)", m[3], MAX_RANK);
	a->rank = m[3];
	a->be = 1;
	unsigned char dims[4 * MAX_RANK];
	if (src_exact(s, dims, 4 * (size_t)a->rank, "IDX header"))
		return -1;
	for (int i = 0; i < a->rank; i++)
		a->shape[i] = (int64_t)load_uint(dims + 4 * i, 4, 1);
	return read_elements(s, a);
}

/* ---- .npy ----------------------------------------------------------------- */

/* The header dictionary of a .npy array, being parsed. */
typedef struct npyhdr {
	const char *p, *end;
	char descr[16];
	int fortran, rank;
	int64_t shape[MAX_RANK];
} npyhdr;

static void hws(npyhdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
		h->p++;
}

static int hword(npyhdr *h, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
		h->p += n;
		return 1;
	}
	return 0;
}

/* A quoted string without escapes into out[n]; NULL or what is wrong. */
static const char *hstr(npyhdr *h, char *out, size_t n)
{
	hws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return "expected a quoted string";
	char q = *h->p++;
	size_t k = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || *h->p == '\n')
			return "unsupported character in a string";
		if (k + 1 >= n)
			return "string too long";
		out[k++] = *h->p++;
	}
	if (h->p >= h->end)
		return "unterminated string";
	h->p++;
	out[k] = 0;
	return NULL;
}

static const char *hshape(npyhdr *h)
{
	hws(h);
	if (h->p >= h->end || *h->p != '(')
		return "'shape' must be a tuple";
	h->p++;
	for (;;) {
		hws(h);
		if (h->p < h->end && *h->p == ')') {
			h->p++;
			return NULL;
		}
		if (h->p >= h->end || *h->p < '0' || *h->p > '9')
			return "'shape' must hold non-negative integers";
		int64_t v = 0;
		while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
			if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *h->p - '0', &v))
				return "a dimension is too large";
			h->p++;
		}
		if (h->p < h->end && *h->p == 'L') /* written by Python 2 */
			h->p++;
		if (h->rank == MAX_RANK)
			return "too many dimensions";
		h->shape[h->rank++] = v;
		hws(h);
		if (h->p < h->end && *h->p == ',')
			h->p++;
		else if (h->p < h->end && *h->p == ')') {
			if (h->rank == 1)
				return "a one-element shape needs a trailing comma";
		} else
			return "expected ',' or ')' in 'shape'";
	}
}

/* Parses the dictionary {'descr': .., 'fortran_order': .., 'shape': ..}
 * (each key exactly once, nothing else); NULL or what is wrong. */
static const char *hparse(npyhdr *h)
{
	int seen[3] = {0, 0, 0};
	const char *e;
	hws(h);
	if (h->p >= h->end || *h->p != '{')
		return "expected '{'";
	h->p++;
	for (;;) {
		hws(h);
		if (h->p < h->end && *h->p == '}') {
			h->p++;
			break;
		}
		char key[32];
		if ((e = hstr(h, key, sizeof key)))
			return e;
		hws(h);
		if (h->p >= h->end || *h->p != ':')
			return "expected ':' after a key";
		h->p++;
		hws(h);
		if (strcmp(key, "descr") == 0) {
			if (seen[0]++)
				return "duplicate key 'descr'";
			if (h->p < h->end && *h->p == '[')
				return "structured dtypes are not supported";
			if ((e = hstr(h, h->descr, sizeof h->descr)))
				return e;
		} else if (strcmp(key, "fortran_order") == 0) {
			if (seen[1]++)
				return "duplicate key 'fortran_order'";
			if (hword(h, "True"))
				h->fortran = 1;
			else if (!hword(h, "False"))
				return "'fortran_order' must be True or False";
		} else if (strcmp(key, "shape") == 0) {
			if (seen[2]++)
				return "duplicate key 'shape'";
			if ((e = hshape(h)))
				return e;
		} else {
			return "unknown key (expected 'descr', 'fortran_order', 'shape')";
		}
		hws(h);
		if (h->p < h->end && *h->p == ',')
			h->p++;
		else if (h->p >= h->end || *h->p != '}')
			return "expected ',' or '}'";
	}
	hws(h);
	if (h->p != h->end)
		return "text after the dictionary";
	if (!seen[0] || !seen[1] || !seen[2])
		return "missing 'descr', 'fortran_order' or 'shape'";
	return NULL;
}

/* The element type of a little-endian numeric dtype; -1 if unsupported. */
static int npy_dtype(const char *s)
{
	static const struct {
		const char *name;
		etype t;
	} tab[] = {
		{"|u1", E_U8},  {"<u1", E_U8},  {"|i1", E_I8},  {"<i1", E_I8},  {"<u2", E_U16},
		{"<i2", E_I16}, {"<u4", E_U32}, {"<i4", E_I32}, {"<u8", E_U64}, {"<i8", E_I64},
		{"<f4", E_F32}, {"<f8", E_F64},
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(s, tab[i].name) == 0)
			return (int)tab[i].t;
	return -1;
}

/* Reads a .npy array (format 1.0, 2.0 or 3.0) whose first 4 bytes m have
 * been read. */
static int read_npy(src *s, const unsigned char m[4], raw *a)
{
	unsigned char b[8];
	memcpy(b, m, 4);
	if (src_exact(s, b + 4, 4, ".npy header"))
		return -1;
	if (memcmp(b, "\x93NUMPY", 6) != 0)
		return serr(s, "not a .npy file (bad magic)");
	size_t hlen;
	unsigned char l[4];
	if (b[6] == 1) {
		if (src_exact(s, l, 2, ".npy header"))
			return -1;
		hlen = (size_t)load_uint(l, 2, 0);
	} else if (b[6] == 2 || b[6] == 3) {
		if (src_exact(s, l, 4, ".npy header"))
			return -1;
		hlen = (size_t)load_uint(l, 4, 0);
	} else {
		return serr(s, "unsupported .npy format version %d.%d", b[6], b[7]);
	}
	if (hlen > NPY_MAX_HEADER)
		return serr(s, "bad .npy header: %zu bytes long", hlen);
	char *text = gos_malloc(hlen ? hlen : 1);
	if (!text)
		return serr(s, "out of memory");
	if (src_exact(s, text, hlen, ".npy header")) {
		free(text);
		return -1;
	}
	npyhdr h;
	memset(&h, 0, sizeof h);
	h.p = text;
	h.end = text + hlen;
	const char *e = hparse(&h);
	free(text);
	if (e)
		return serr(s, "bad .npy header: %s", e);
	if (h.fortran)
		return serr(s, "Fortran-ordered arrays are not supported (save the array in C order)");
	int t = npy_dtype(h.descr);
	if (t < 0) {
		if (h.descr[0] == '>')
			return serr(s, "big-endian dtype '%s' is not supported (save it little-endian)",
			            h.descr);
		return serr(s, "unsupported dtype '%s' (supported: integers |u1..<u8, |i1..<i8, "
		               "floats <f4 <f8)",
		            h.descr);
	}
	a->t = (etype)t;
	a->be = 0;
	a->rank = h.rank;
	memcpy(a->shape, h.shape, sizeof h.shape);
	return read_elements(s, a);
}

/* Reads one array (IDX, or .npy; only .npy when npy_only) from s. */
static int read_array(src *s, raw *a, int npy_only)
{
	unsigned char m[4];
	size_t got;
	memset(a, 0, sizeof *a);
	if (src_read(s, m, 4, &got))
		return -1;
	if (got == 0)
		return serr(s, "empty file");
	if (got < 4)
		return serr(s, "truncated: %zu bytes, not even a header", got);
	if (m[0] == 0x93)
		return read_npy(s, m, a);
	if (npy_only)
		return serr(s, "not a .npy array (no \\x93NUMPY magic)");
	return read_idx(s, m, a);
}

/* Whether path is a regular file; an error at loc otherwise. */
static int check_regular(const char *path, gos_loc loc, gos_diags *d)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		gos_error(d, loc, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		gos_error(d, loc, "cannot read: not a regular file");
		return -1;
	}
	return 0;
}

/* Reads the array file path (IDX, gzipped or not, or .npy); *loc names it. */
static int read_array_file(const char *path, raw *a, gos_loc *loc, gos_diags *d)
{
	memset(a, 0, sizeof *a);
	*loc = file_loc(d, path);
	if (check_regular(path, *loc, d))
		return -1;
	src s = {gzopen(path, "rb"), NULL, 0, 0, *loc, NULL, d};
	if (!s.gz) {
		gos_error(d, *loc, "cannot open: %s", errno ? strerror(errno) : "out of memory");
		return -1;
	}
	gzbuffer(s.gz, 1 << 16);
	int rc = read_array(&s, a, 0);
	gzclose(s.gz);
	if (rc)
		raw_free(a);
	return rc;
}

/* ---- .npz (ZIP) ----------------------------------------------------------- */

static uint32_t le16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const unsigned char *p) { return (uint32_t)load_uint(p, 4, 0); }

/* A member of a ZIP archive, from its central directory entry. */
typedef struct zentry {
	const unsigned char *name;
	size_t nlen;
	unsigned flags, method;
	uint32_t crc, csize, usize, off;
} zentry;

/* Extracts member e (named name) of the archive z whose central
 * directory starts at offset cd: checks its local header, inflates it if
 * deflated, checks size and CRC. Returns a malloc'd buffer of e->usize
 * bytes, or NULL with an error. */
static unsigned char *zip_extract(const unsigned char *z, size_t cd, const zentry *e,
                                  const char *name, gos_loc loc, gos_diags *d)
{
	if (e->flags & 1) {
		gos_error(d, loc, "member '%s' is encrypted", name);
		return NULL;
	}
	if (e->method != 0 && e->method != 8) {
		gos_error(d, loc, "member '%s' uses compression method %u (only stored and deflated "
		                  "members are supported)", name, e->method);
		return NULL;
	}
	const unsigned char *p = z + e->off;
	if ((size_t)e->off > cd || cd - e->off < 30 || le32(p) != 0x04034b50) {
		gos_error(d, loc, "corrupt ZIP archive: no local header for member '%s'", name);
		return NULL;
	}
	size_t lnlen = le16(p + 26), lxlen = le16(p + 28);
	size_t start = (size_t)e->off + 30 + lnlen + lxlen;
	if (start > cd || cd - start < e->csize || lnlen != e->nlen ||
	    memcmp(p + 30, e->name, e->nlen) != 0 || le16(p + 8) != e->method) {
		gos_error(d, loc, "corrupt ZIP archive: the local header of member '%s' does not "
		                  "match the central directory", name);
		return NULL;
	}
	if (!(le16(p + 6) & 8)) { /* no data descriptor: the local header has crc and sizes */
		uint64_t lcs = le32(p + 18), lus = le32(p + 22);
		if (lcs == 0xFFFFFFFF && lus == 0xFFFFFFFF) { /* sizes in a zip64 extra field */
			const unsigned char *x = p + 30 + lnlen, *xe = x + lxlen;
			lcs = lus = UINT64_MAX;
			while (xe - x >= 4) {
				size_t sz = le16(x + 2);
				if ((size_t)(xe - x - 4) < sz)
					break;
				if (le16(x) == 1 && sz >= 16) {
					lus = load_uint(x + 4, 8, 0);
					lcs = load_uint(x + 12, 8, 0);
				}
				x += 4 + sz;
			}
		}
		if (le32(p + 14) != e->crc || lcs != e->csize || lus != e->usize) {
			gos_error(d, loc, "corrupt ZIP archive: the local header of member '%s' "
			                  "disagrees with the central directory on its CRC or sizes", name);
			return NULL;
		}
	}
	const unsigned char *data = z + start;
	if (e->method == 0 ? e->usize != e->csize
	                   : (uint64_t)e->usize > (uint64_t)e->csize * 1032 + 64) {
		gos_error(d, loc, "corrupt ZIP archive: member '%s' has impossible sizes (%" PRIu32
		                  " bytes compressed, %" PRIu32 " uncompressed)",
		          name, e->csize, e->usize);
		return NULL;
	}
	unsigned char *out = gos_malloc(e->usize ? e->usize : 1);
	if (!out) {
		gos_error(d, loc, "out of memory (member '%s')", name);
		return NULL;
	}
	if (e->method == 0) {
		if (e->usize)
			memcpy(out, data, e->usize);
	} else {
		z_stream zs;
		memset(&zs, 0, sizeof zs);
		if (inflateInit2(&zs, -15) != Z_OK) {
			free(out);
			gos_error(d, loc, "out of memory (inflating member '%s')", name);
			return NULL;
		}
		zs.next_in = (unsigned char *)data;
		zs.avail_in = e->csize;
		zs.next_out = out;
		zs.avail_out = e->usize;
		int r = inflate(&zs, Z_FINISH);
		int ok = r == Z_STREAM_END && zs.total_out == e->usize && zs.avail_in == 0;
		const char *msg = zs.msg;
		inflateEnd(&zs);
		if (!ok) {
			free(out);
			gos_error(d, loc, "corrupt ZIP archive: member '%s' does not inflate to its %" PRIu32
			                  " bytes (%s)", name, e->usize,
			          msg ? msg : r == Z_STREAM_END ? "size mismatch" : "data cut or too long");
			return NULL;
		}
	}
	uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), out, e->usize);
	if (crc != e->crc) {
		free(out);
		gos_error(d, loc, "corrupt ZIP archive: CRC mismatch in member '%s' (computed %08" PRIx32
		                  ", stored %08" PRIx32 ")", name, crc, e->crc);
		return NULL;
	}
	return out;
}

/* Reads the image and label arrays of the .npz archive path. */
static int read_npz(const char *path, raw *img, raw *lab, gos_loc *loc, gos_diags *d)
{
	static const char *const names[2][2] = {{"x.npy", "images.npy"}, {"y.npy", "labels.npy"}};
	memset(img, 0, sizeof *img);
	memset(lab, 0, sizeof *lab);
	*loc = file_loc(d, path);
	if (check_regular(path, *loc, d))
		return -1;
	size_t len;
	char *file = gos_read_file(d, loc->file, &len);
	if (!file)
		return -1;
	const unsigned char *z = (const unsigned char *)file;
	int rc = -1;
	unsigned char *buf[2] = {NULL, NULL};
	/* the end-of-central-directory record: the last 22 bytes plus a comment */
	size_t eocd = SIZE_MAX;
	for (size_t back = 0; len >= 22 && back <= 65535 && back <= len - 22; back++) {
		size_t at = len - 22 - back;
		if (le32(z + at) == 0x06054b50 && le16(z + at + 20) == back) {
			eocd = at;
			break;
		}
	}
	if (eocd == SIZE_MAX) {
		gos_error(d, *loc, "not a .npz (ZIP) archive: no end-of-central-directory record");
		goto out;
	}
	const unsigned char *e = z + eocd;
	uint32_t n_ent = le16(e + 10), cd_size = le32(e + 12), cd_off = le32(e + 16);
	if (n_ent == 0xFFFF || cd_size == 0xFFFFFFFF || cd_off == 0xFFFFFFFF ||
	    (eocd >= 20 && le32(z + eocd - 20) == 0x07064b50)) {
		gos_error(d, *loc, "zip64 archives are not supported");
		goto out;
	}
	if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != n_ent) {
		gos_error(d, *loc, "multi-disk ZIP archives are not supported");
		goto out;
	}
	if ((size_t)cd_off > eocd || eocd - cd_off < cd_size) {
		gos_error(d, *loc, "corrupt ZIP archive: the central directory is out of bounds");
		goto out;
	}
	zentry want[2];
	memset(want, 0, sizeof want);
	const char *want_name[2] = {NULL, NULL};
	char found[256] = "";
	size_t nfound = 0;
	const unsigned char *p = z + cd_off, *cd_end = z + cd_off + cd_size;
	for (uint32_t i = 0; i < n_ent; i++) {
		if (cd_end - p < 46 || le32(p) != 0x02014b50) {
			gos_error(d, *loc, "corrupt ZIP archive: bad central directory entry %" PRIu32, i);
			goto out;
		}
		zentry m = {p + 46, le16(p + 28), le16(p + 8), le16(p + 10), le32(p + 16),
		            le32(p + 20), le32(p + 24), le32(p + 42)};
		size_t extra = (size_t)le16(p + 30) + le16(p + 32);
		if ((size_t)(cd_end - p - 46) < m.nlen + extra) {
			gos_error(d, *loc, "corrupt ZIP archive: bad central directory entry %" PRIu32, i);
			goto out;
		}
		if (m.csize == 0xFFFFFFFF || m.usize == 0xFFFFFFFF || m.off == 0xFFFFFFFF) {
			gos_error(d, *loc, "zip64 members (4 GiB or more) are not supported");
			goto out;
		}
		if (nfound < sizeof found - 1)
			nfound += (size_t)snprintf(found + nfound, sizeof found - nfound, "%s'%.*s'",
			                           i ? ", " : "", (int)(m.nlen > 64 ? 64 : m.nlen),
			                           (const char *)m.name);
		for (int k = 0; k < 2; k++)
			for (int j = 0; j < 2; j++)
				if (m.nlen == strlen(names[k][j]) && memcmp(m.name, names[k][j], m.nlen) == 0) {
					if (want_name[k]) {
						gos_error(d, *loc, "the archive has both '%s' and '%s'", want_name[k],
						          names[k][j]);
						goto out;
					}
					want[k] = m;
					want_name[k] = names[k][j];
				}
		p += 46 + m.nlen + extra;
	}
	for (int k = 0; k < 2; k++)
		if (!want_name[k]) {
			gos_error(d, *loc, "the archive has no %s array (a member '%s' or '%s'); it has: %s",
			          k ? "label" : "image", names[k][0], names[k][1],
			          n_ent ? found : "no members");
			goto out;
		}
	for (int k = 0; k < 2; k++) {
		buf[k] = zip_extract(z, cd_off, &want[k], want_name[k], *loc, d);
		if (!buf[k])
			goto out;
		src s = {NULL, buf[k], want[k].usize, 0, *loc, want_name[k], d};
		if (read_array(&s, k ? lab : img, 1))
			goto out;
	}
	rc = 0;
out:
	free(buf[0]);
	free(buf[1]);
	free(file);
	if (rc) {
		raw_free(img);
		raw_free(lab);
	}
	return rc;
}

/* ---- from arrays to a dataset --------------------------------------------- */

/* The layout of an image array. */
typedef struct layout {
	int64_t n;
	int c, h, w;
	int nhwc; /* stored [N, H, W, C] */
} layout;

static int image_layout(const raw *a, gos_loc loc, gos_diags *d, layout *o)
{
	char sh[128];
	shape_str(a, sh, sizeof sh);
	memset(o, 0, sizeof *o);
	int64_t c, h, w;
	if (a->rank == 3) {
		c = 1, h = a->shape[1], w = a->shape[2];
	} else if (a->rank == 4) {
		o->nhwc = (a->shape[3] == 1 || a->shape[3] == 3) && a->shape[1] != 1 && a->shape[1] != 3;
		c = o->nhwc ? a->shape[3] : a->shape[1];
		h = o->nhwc ? a->shape[1] : a->shape[2];
		w = o->nhwc ? a->shape[2] : a->shape[3];
	} else {
		gos_error(d, loc, "images must be [N, H, W], [N, C, H, W] or [N, H, W, C]; the "
		                  "array has rank %d (shape %s)", a->rank, sh);
		return -1;
	}
	o->n = a->shape[0];
	if (o->n == 0) {
		gos_error(d, loc, "no images (shape %s)", sh);
		return -1;
	}
	if (c == 0 || h == 0 || w == 0 || c > INT_MAX || h > INT_MAX || w > INT_MAX) {
		gos_error(d, loc, "bad image shape %s", sh);
		return -1;
	}
	if (a->t != E_U8 && a->t != E_F32 && a->t != E_F64) {
		gos_error(d, loc, "image pixels must be uint8 or float, not %s", etypes[a->t].name);
		return -1;
	}
	o->c = (int)c, o->h = (int)h, o->w = (int)w;
	return 0;
}

/* Checks labels a for n images: a vector of integers in [0, MAX_LABEL];
 * sets *n_class to 1 + the largest. */
static int check_labels(const raw *a, gos_loc loc, int64_t n, int *n_class, gos_diags *d)
{
	char sh[128];
	shape_str(a, sh, sizeof sh);
	if (a->rank != 1) {
		gos_error(d, loc, "labels must be a vector [N], not shape %s", sh);
		return -1;
	}
	if (!etypes[a->t].is_int) {
		gos_error(d, loc, "labels must be integers, not %s", etypes[a->t].name);
		return -1;
	}
	if (a->shape[0] != n) {
		gos_error(d, loc, "%" PRId64 " labels for %" PRId64 " images", a->shape[0], n);
		return -1;
	}
	int64_t max = 0;
	for (size_t i = 0; i < a->numel; i++) {
		int big;
		int64_t v = integer(a, i, &big);
		if (big || v < 0 || v > MAX_LABEL) {
			if (big)
				gos_error(d, loc, "label of image %zu is out of range (labels must be in "
				                  "[0, %d])", i, MAX_LABEL);
			else
				gos_error(d, loc, "label %" PRId64 " of image %zu is out of range (labels "
				                  "must be in [0, %d])", v, i, MAX_LABEL);
			return -1;
		}
		if (v > max)
			max = v;
	}
	*n_class = (int)max + 1;
	return 0;
}

/* Checks norm against c channels: counts 0, 1 or c, means finite and
 * stds positive as float32. */
static int check_norm(const gos_norm *nm, int c, gos_loc loc, gos_diags *d)
{
	const int cnt[2] = {nm->n_mean, nm->n_std};
	for (int k = 0; k < 2; k++) {
		const char *what = k ? "std" : "mean";
		int n = cnt[k];
		if (n < 0 || n > GOS_DATA_MAX_CHANNELS || (n > 1 && n != c)) {
			gos_error(d, loc, "%d %s values for images of %d channel%s (give 1 or %d)", n, what,
			          c, c == 1 ? "" : "s", c);
			return -1;
		}
		for (int i = 0; i < n; i++) { /* pixels are normalised in float32 */
			double v = k ? nm->std[i] : nm->mean[i];
			float f = (float)v;
			if (!isfinite(v) || !isfinite(f) || (k && !(f > 0))) {
				gos_error(d, loc, "bad %s value %g (must be a finite%s float32)", what, v,
				          k ? " positive" : "");
				return -1;
			}
		}
	}
	return 0;
}

/* Fills ds with the first limit (<= 0: all) images of img and their labels
 * lab, normalised by norm; spec names ds. Every label of the file is
 * checked, and n_class counts them all (not only the first limit). */
static int assemble(gos_dataset *ds, const char *spec, const raw *img, gos_loc iloc,
                    const raw *lab, gos_loc lloc, int64_t limit, const gos_norm *norm,
                    gos_diags *d)
{
	layout L;
	int n_class;
	if (image_layout(img, iloc, d, &L) || check_labels(lab, lloc, L.n, &n_class, d) ||
	    (norm && check_norm(norm, L.c, iloc, d)))
		return -1;
	int64_t n = limit > 0 && limit < L.n ? limit : L.n;
	size_t hw = (size_t)L.h * (size_t)L.w, per = hw * (size_t)L.c;
	float *x = gos_malloc(sizeof *x * (size_t)n * per);
	int32_t *y = gos_malloc(sizeof *y * (size_t)n);
	if (!x || !y) {
		free(x);
		free(y);
		gos_error(d, iloc, "out of memory (%" PRId64 " images)", n);
		return -1;
	}
	for (int64_t i = 0; i < n; i++) {
		float *xi = x + (size_t)i * per;
		for (size_t j = 0; j < per; j++) {
			/* j = (ch * h + row) * w + col, channel first */
			size_t ch = j / hw, at = (size_t)i * per;
			at += L.nhwc ? (j % hw) * (size_t)L.c + ch : j;
			float v = pixel(img, at);
			if (!isfinite(v)) {
				free(x);
				free(y);
				gos_error(d, iloc, "pixel %zu of image %" PRId64 " is not a finite number",
				          j, i);
				return -1;
			}
			if (norm && norm->n_mean)
				v -= (float)norm->mean[norm->n_mean == 1 ? 0 : ch];
			if (norm && norm->n_std)
				v /= (float)norm->std[norm->n_std == 1 ? 0 : ch];
			xi[j] = v;
		}
		int big;
		y[i] = (int32_t)integer(lab, (size_t)i, &big);
	}
	snprintf(ds->name, sizeof ds->name, "%s", spec);
	ds->n = n;
	ds->c = L.c, ds->h = L.h, ds->w = L.w;
	ds->x = x;
	ds->y = y;
	ds->n_class = n_class;
	return 0;
}

/* ---- the interface -------------------------------------------------------- */

int gos_norm_parse(const char *text, int is_std, double *v, const char *what, gos_diags *d)
{
	gos_loc none = {NULL, 0, 0};
	int n = 0;
	const char *p = text ? text : "";
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char item[64];
		size_t a = 0, b = len;
		while (a < b && (p[a] == ' ' || p[a] == '\t'))
			a++;
		while (b > a && (p[b - 1] == ' ' || p[b - 1] == '\t'))
			b--;
		if (a == b) {
			gos_error(d, none, "%s '%s': item %d is empty", what, text ? text : "", n + 1);
			return -1;
		}
		if (n == GOS_DATA_MAX_CHANNELS) {
			gos_error(d, none, "%s '%s': more than %d values", what, text, GOS_DATA_MAX_CHANNELS);
			return -1;
		}
		char *stop = NULL;
		double x = 0;
		if (b - a < sizeof item) {
			memcpy(item, p + a, b - a);
			item[b - a] = 0;
			x = strtod(item, &stop);
		}
		if (b - a >= sizeof item || *stop || stop == item || !isfinite(x)) {
			gos_error(d, none, "%s '%s': item %d is not a finite number", what, text, n + 1);
			return -1;
		}
		if (is_std && x <= 0) {
			gos_error(d, none, "%s '%s': item %d must be > 0", what, text, n + 1);
			return -1;
		}
		v[n++] = x;
		if (!end)
			return n;
		p = end + 1;
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

int gos_dataset_load(gos_dataset *ds, const char *spec, int64_t limit, const gos_norm *norm,
                     gos_diags *d)
{
	gos_loc none = {NULL, 0, 0};
	memset(ds, 0, sizeof *ds);
	if (!spec || !*spec) {
		gos_error(d, none, "empty dataset name; %s", forms);
		return -1;
	}
	char *paths[2] = {NULL, NULL};
	raw img, lab;
	memset(&img, 0, sizeof img);
	memset(&lab, 0, sizeof lab);
	gos_loc iloc = none, lloc = none;
	int rc = -1;
	if (strncmp(spec, "fashion-mnist", 13) == 0 && (!spec[13] || spec[13] == ':')) {
		const char *split = spec[13] ? spec + 14 : "";
		const char *pre = strcmp(split, "train") == 0 ? "train"
		                  : strcmp(split, "test") == 0 ? "t10k" : NULL;
		if (!pre) {
			gos_error(d, none, "unknown fashion-mnist split '%s' (expected train or test)", split);
			return -1;
		}
		const char *dir = getenv("GOS_FASHION_MNIST_DIR");
		if (!dir || !*dir)
			dir = FASHION_DIR;
		struct stat st;
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			gos_error(d, file_loc(d, dir), "no Fashion-MNIST directory here: install Debian's "
			                               "dataset-fashion-mnist (or set GOS_FASHION_MNIST_DIR)");
			return -1;
		}
		for (int k = 0; k < 2; k++) {
			size_t n = strlen(dir) + 64;
			paths[k] = gos_malloc(n);
			if (!paths[k]) {
				gos_error(d, none, "out of memory");
				goto out;
			}
			snprintf(paths[k], n, "%s/%s-%s-idx%d-ubyte.gz", dir, pre, k ? "labels" : "images",
			         k ? 1 : 3);
		}
	} else if (strchr(spec, ',')) {
		const char *comma = strchr(spec, ',');
		if (comma == spec || !comma[1] || strchr(comma + 1, ',')) {
			gos_error(d, none, "dataset '%s': a pair is IMAGES,LABELS (two file names)", spec);
			return -1;
		}
		paths[0] = gos_strndup(spec, (size_t)(comma - spec));
		paths[1] = gos_strdup(comma + 1);
		if (!paths[0] || !paths[1]) {
			gos_error(d, none, "out of memory");
			goto out;
		}
	} else if (ends_with(spec, ".npz")) {
		if (read_npz(spec, &img, &lab, &iloc, d))
			goto out;
		lloc = iloc;
	} else {
		gos_error(d, none, "unknown dataset '%s'; %s", spec, forms);
		return -1;
	}
	if (paths[0] && (read_array_file(paths[0], &img, &iloc, d) ||
	                 read_array_file(paths[1], &lab, &lloc, d)))
		goto out;
	rc = assemble(ds, spec, &img, iloc, &lab, lloc, limit, norm, d);
out:
	free(paths[0]);
	free(paths[1]);
	raw_free(&img);
	raw_free(&lab);
	if (rc)
		memset(ds, 0, sizeof *ds);
	return rc;
}

void gos_dataset_free(gos_dataset *ds)
{
	free(ds->x);
	free(ds->y);
	memset(ds, 0, sizeof *ds);
}

int gos_dataset_select(gos_dataset *ds, const int64_t *idx, int64_t k, gos_diags *d)
{
	gos_loc none = {NULL, 0, 0};
	size_t per = (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
	if (k < 0) {
		gos_error(d, none, "%s: cannot keep %" PRId64 " images", ds->name, k);
		return -1;
	}
	for (int64_t i = 0; i < k; i++)
		if (idx[i] < 0 || idx[i] >= ds->n) {
			gos_error(d, none, "%s: image %" PRId64 " does not exist (%" PRId64 " images)",
			          ds->name, idx[i], ds->n);
			return -1;
		}
	float *x = gos_malloc(sizeof *x * ((size_t)k * per + 1));
	int32_t *y = gos_malloc(sizeof *y * ((size_t)k + 1));
	if (!x || !y) {
		free(x);
		free(y);
		gos_error(d, none, "%s: out of memory", ds->name);
		return -1;
	}
	for (int64_t i = 0; i < k; i++) {
		memcpy(x + (size_t)i * per, ds->x + (size_t)idx[i] * per, sizeof *x * per);
		y[i] = ds->y[idx[i]];
	}
	free(ds->x);
	free(ds->y);
	ds->x = x;
	ds->y = y;
	ds->n = k;
	return 0;
}

int gos_dataset_load_calib(gos_dataset *ds, const char *spec, uint64_t seed,
                           const gos_norm *norm, gos_diags *d)
{
	gos_loc none = {NULL, 0, 0};
	memset(ds, 0, sizeof *ds);
	if (!spec)
		spec = "";
	/* DATA:N when the part after the last colon is all digits */
	const char *colon = strrchr(spec, ':');
	size_t dlen = strlen(spec);
	int64_t want = CALIB_DEFAULT;
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		want = 0;
		for (const char *q = colon + 1; *q; q++)
			if (__builtin_mul_overflow(want, 10, &want) ||
			    __builtin_add_overflow(want, *q - '0', &want)) {
				gos_error(d, none, "calibration set '%s': the sample size is too large", spec);
				return -1;
			}
		dlen = (size_t)(colon - spec);
	}
	char *data = gos_strndup(spec, dlen);
	if (!data) {
		gos_error(d, none, "out of memory");
		return -1;
	}
	int rc = gos_dataset_load(ds, data, 0, norm, d);
	free(data);
	if (rc)
		return -1;
	if (want <= 0 || want > ds->n) {
		gos_error(d, none, "calibration set '%s': cannot draw %" PRId64 " images from %" PRId64
		                   " (give 1 to %" PRId64 ")", spec, want, ds->n, ds->n);
		gos_dataset_free(ds);
		return -1;
	}
	int64_t *idx = gos_malloc(sizeof *idx * (size_t)ds->n);
	if (!idx) {
		gos_error(d, none, "out of memory");
		gos_dataset_free(ds);
		return -1;
	}
	for (int64_t i = 0; i < ds->n; i++)
		idx[i] = i;
	gos_rng r;
	gos_rng_seed(&r, seed);
	for (int64_t i = 0; i < want; i++) { /* partial Fisher-Yates */
		int64_t j = i + (int64_t)(gos_rng_next(&r) % (uint64_t)(ds->n - i));
		int64_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	rc = gos_dataset_select(ds, idx, want, d);
	free(idx);
	if (rc) {
		gos_dataset_free(ds);
		return -1;
	}
	snprintf(ds->name, sizeof ds->name, "%s", spec);
	return 0;
}
