/* safetensors.c -- reading and writing safetensors files: an 8-byte
 * little-endian header length N, N bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
 *    ..., "__metadata__": {...}}
 * then the data buffer (offsets are relative to its start). The reader
 * parses the header with the small JSON parser below, validates every
 * entry (offsets inside the buffer, sizes matching dtype and shape) and
 * reads only the bytes of the requested tensor, converting F32, F16, BF16
 * and F64 to float. Errors name the file and the key. */
#include "support/tensorio.h"
#include "support/alloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support/outfile.h"

enum { JSON_MAX_DEPTH = 64 };
#define MAX_HEADER ((uint64_t)100 << 20) /* as the reference implementation */

/* ---- a small JSON parser (what safetensors headers need) ------------- */

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jkind;

typedef struct jval {
	jkind k;
	int first, next;  /* first child, next sibling (-1: none) */
	int n;            /* children */
	char *key;        /* member name inside an object (decoded) */
	size_t keylen;
	char *s;          /* J_STR: decoded bytes, NUL-terminated */
	size_t slen;
	int is_uint;      /* J_NUM: a non-negative integer that fits in u */
	uint64_t u;
} jval;

typedef struct jp {
	const char *p, *start, *end;
	gos_arena *a;
	jval *v;
	int n, cap;
	const char *err;
	size_t err_at;
} jp;

static int jfail(jp *j, const char *msg)
{
	if (!j->err) {
		j->err = msg;
		j->err_at = (size_t)(j->p - j->start);
	}
	return -1;
}

static void jws(jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jnew(jp *j, jkind k)
{
	if (j->n == j->cap) {
		int nc = j->cap ? 2 * j->cap : 64;
		jval *nv = gos_realloc(j->v, sizeof *nv * (size_t)nc);
		if (!nv)
			return jfail(j, "out of memory");
		j->v = nv;
		j->cap = nc;
	}
	j->v[j->n] = (jval){.k = k, .first = -1, .next = -1};
	return j->n++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_hex4(jp *j, unsigned *out)
{
	if (j->end - j->p < 4)
		return jfail(j, "truncated \\u escape");
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(j->p[i]);
		if (h < 0)
			return jfail(j, "bad \\u escape");
		v = v << 4 | (unsigned)h;
	}
	j->p += 4;
	*out = v;
	return 0;
}

/* Parses a string at j->p (the opening quote) into arena memory. */
static int jstring(jp *j, char **out, size_t *outlen)
{
	j->p++; /* '"' */
	const char *q = j->p;
	while (q < j->end && *q != '"') /* upper bound of the decoded size */
		q += *q == '\\' && q + 1 < j->end ? 2 : 1;
	if (q >= j->end)
		return jfail(j, "unterminated string");
	char *s = gos_arena_alloc(j->a, (size_t)(q - j->p) + 1);
	if (!s)
		return jfail(j, "out of memory");
	size_t n = 0;
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return jfail(j, "control character in a string");
		if (c != '\\') {
			s[n++] = (char)c;
			j->p++;
			continue;
		}
		j->p++;
		char e = *j->p++;
		unsigned cp;
		switch (e) {
		case '"': s[n++] = '"'; break;
		case '\\': s[n++] = '\\'; break;
		case '/': s[n++] = '/'; break;
		case 'b': s[n++] = '\b'; break;
		case 'f': s[n++] = '\f'; break;
		case 'n': s[n++] = '\n'; break;
		case 'r': s[n++] = '\r'; break;
		case 't': s[n++] = '\t'; break;
		case 'u':
			if (read_hex4(j, &cp))
				return -1;
			if (cp >= 0xdc00 && cp < 0xe000)
				return jfail(j, "lone low surrogate");
			if (cp >= 0xd800 && cp < 0xdc00) {
				unsigned lo;
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return jfail(j, "lone high surrogate");
				j->p += 2;
				if (read_hex4(j, &lo))
					return -1;
				if (lo < 0xdc00 || lo >= 0xe000)
					return jfail(j, "bad surrogate pair");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			/* UTF-8; the 6-byte escape is longer than its encoding */
			if (cp < 0x80) {
				s[n++] = (char)cp;
			} else if (cp < 0x800) {
				s[n++] = (char)(0xc0 | cp >> 6);
				s[n++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				s[n++] = (char)(0xe0 | cp >> 12);
				s[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				s[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				s[n++] = (char)(0xf0 | cp >> 18);
				s[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
				s[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				s[n++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			j->p--;
			return jfail(j, "bad escape in a string");
		}
	}
	j->p++; /* '"' */
	s[n] = 0;
	*out = s;
	*outlen = n;
	return 0;
}

static int jnumber(jp *j, int at)
{
	const char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jfail(j, "bad number");
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
		return jfail(j, "leading zero in a number");
	uint64_t u = 0;
	int ok = *s != '-';
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (__builtin_mul_overflow(u, 10, &u) || __builtin_add_overflow(u, (uint64_t)(*j->p - '0'), &u))
			ok = 0;
		j->p++;
	}
	if (j->p < j->end && *j->p == '.') {
		ok = 0;
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jfail(j, "bad number");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		ok = 0;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jfail(j, "bad number");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	j->v[at].is_uint = ok;
	j->v[at].u = ok ? u : 0;
	return 0;
}

static int jlit(jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return jfail(j, "unexpected character");
	j->p += n;
	return 0;
}

/* Parses one value; returns its index or -1. */
static int jvalue(jp *j, int depth)
{
	jws(j);
	if (j->p >= j->end)
		return jfail(j, "unexpected end of the header");
	if (depth > JSON_MAX_DEPTH)
		return jfail(j, "nested too deeply");
	char c = *j->p;
	int at;
	if (c == '{' || c == '[') {
		at = jnew(j, c == '{' ? J_OBJ : J_ARR);
		if (at < 0)
			return -1;
		j->p++;
		int last = -1;
		jws(j);
		if (j->p < j->end && *j->p == (c == '{' ? '}' : ']')) {
			j->p++;
			return at;
		}
		for (;;) {
			char *key = NULL;
			size_t keylen = 0;
			if (c == '{') {
				jws(j);
				if (j->p >= j->end || *j->p != '"')
					return jfail(j, "expected a member name");
				if (jstring(j, &key, &keylen))
					return -1;
				jws(j);
				if (j->p >= j->end || *j->p != ':')
					return jfail(j, "expected ':'");
				j->p++;
			}
			int ch = jvalue(j, depth + 1);
			if (ch < 0)
				return -1;
			j->v[ch].key = key;
			j->v[ch].keylen = keylen;
			if (last < 0)
				j->v[at].first = ch;
			else
				j->v[last].next = ch;
			last = ch;
			j->v[at].n++;
			jws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == (c == '{' ? '}' : ']')) {
				j->p++;
				return at;
			}
			return jfail(j, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	if (c == '"') {
		at = jnew(j, J_STR);
		if (at < 0)
			return -1;
		char *s;
		size_t n;
		if (jstring(j, &s, &n))
			return -1;
		j->v[at].s = s;
		j->v[at].slen = n;
		return at;
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		at = jnew(j, J_NUM);
		return at < 0 || jnumber(j, at) ? -1 : at;
	}
	if (c == 't' || c == 'f') {
		at = jnew(j, J_BOOL);
		return at < 0 || jlit(j, c == 't' ? "true" : "false") ? -1 : at;
	}
	if (c == 'n') {
		at = jnew(j, J_NULL);
		return at < 0 || jlit(j, "null") ? -1 : at;
	}
	return jfail(j, "unexpected character");
}

/* Member `name` of object o, or -1. */
static int jget(const jp *j, int o, const char *name)
{
	size_t n = strlen(name);
	for (int c = j->v[o].first; c >= 0; c = j->v[c].next)
		if (j->v[c].keylen == n && memcmp(j->v[c].key, name, n) == 0)
			return c;
	return -1;
}

/* ---- the safetensors header -------------------------------------------- */

typedef struct entry {
	const char *key;
	size_t keylen;
	const char *dtype;
	int size;      /* bytes per element, 0 for dtypes we do not convert */
	int rank;
	int64_t shape[GOS_MAX_RANK];
	uint64_t begin, end;
} entry;

typedef struct sfile {
	const char *path;
	gos_diags *d;
	FILE *f;
	uint64_t hlen, fsize, dsize; /* header length, file size, data size */
	jp j;
	entry *e;
	int n_e;
} sfile;

static int dtype_size(const char *s)
{
	if (!strcmp(s, "F32"))
		return 4;
	if (!strcmp(s, "F16") || !strcmp(s, "BF16"))
		return 2;
	if (!strcmp(s, "F64"))
		return 8;
	return 0;
}

/* Byte size of the other safetensors dtypes (for validation only). */
static int other_dtype_size(const char *s)
{
	static const struct {
		const char *n;
		int size;
	} tab[] = {{"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1},
	           {"I16", 2}, {"U16", 2}, {"I32", 4}, {"U32", 4}, {"I64", 8}, {"U64", 8}};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (!strcmp(s, tab[i].n))
			return tab[i].size;
	return 0;
}

static void sf_err(sfile *f, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Adds "tensor 'key': msg" (or msg) located at the file. */
static void sf_err(sfile *f, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (key)
		gos_error(f->d, (gos_loc){f->path, 0, 0}, "tensor '%s': %s", key, msg);
	else
		gos_error(f->d, (gos_loc){f->path, 0, 0}, "%s", msg);
}

static void sf_close(sfile *f)
{
	if (f->f)
		fclose(f->f);
	free(f->j.v);
	gos_arena_free(f->j.a);
	free(f->e);
}

/* Opens path and parses and validates its header. */
static int sf_open(sfile *f, const char *path, gos_diags *d)
{
	memset(f, 0, sizeof *f);
	f->path = path;
	f->d = d;
	f->f = fopen(path, "rb");
	if (!f->f) {
		sf_err(f, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	struct stat sb;
	if (fstat(fileno(f->f), &sb) || !S_ISREG(sb.st_mode)) {
		sf_err(f, NULL, "not a regular file");
		return -1;
	}
	f->fsize = (uint64_t)sb.st_size;
	unsigned char b8[8];
	if (f->fsize < 8 || fread(b8, 1, 8, f->f) != 8) {
		sf_err(f, NULL, "too short for a safetensors file (%" PRIu64 " bytes)", f->fsize);
		return -1;
	}
	for (int i = 7; i >= 0; i--)
		f->hlen = f->hlen << 8 | b8[i];
	if (f->hlen > f->fsize - 8 || f->hlen > MAX_HEADER) {
		sf_err(f, NULL, "not a safetensors file: header length %" PRIu64
		       " does not fit in the file (%" PRIu64 " bytes)", f->hlen, f->fsize);
		return -1;
	}
	if (f->hlen < 2) {
		sf_err(f, NULL, "not a safetensors file: header of %" PRIu64 " bytes", f->hlen);
		return -1;
	}
	f->dsize = f->fsize - 8 - f->hlen;
	char *h = gos_malloc((size_t)f->hlen);
	f->j.a = gos_arena_new();
	if (!h || !f->j.a) {
		free(h);
		sf_err(f, NULL, "out of memory");
		return -1;
	}
	if (fread(h, 1, (size_t)f->hlen, f->f) != f->hlen) {
		free(h);
		sf_err(f, NULL, "cannot read the header");
		return -1;
	}
	jp *j = &f->j;
	j->p = j->start = h;
	j->end = h + f->hlen;
	int top = jvalue(j, 0);
	if (top >= 0) {
		jws(j);
		if (j->p != j->end)
			jfail(j, "text after the header object");
		else if (j->v[top].k != J_OBJ)
			jfail(j, "the header is not a JSON object");
	}
	free(h); /* strings were copied into the arena */
	if (j->err) {
		sf_err(f, NULL, "bad safetensors header: %s at byte %zu", j->err, j->err_at);
		return -1;
	}
	f->e = gos_calloc((size_t)j->v[top].n + 1, sizeof *f->e);
	if (!f->e) {
		sf_err(f, NULL, "out of memory");
		return -1;
	}
	for (int c = j->v[top].first; c >= 0; c = j->v[c].next) {
		const jval *v = &j->v[c];
		if (v->keylen == 12 && memcmp(v->key, "__metadata__", 12) == 0)
			continue;
		if (strlen(v->key) != v->keylen) {
			sf_err(f, NULL, "a tensor name contains a NUL character");
			return -1;
		}
		for (int k = 0; k < f->n_e; k++)
			if (f->e[k].keylen == v->keylen && !memcmp(f->e[k].key, v->key, v->keylen)) {
				sf_err(f, v->key, "appears twice in the header");
				return -1;
			}
		entry *e = &f->e[f->n_e++];
		e->key = v->key;
		e->keylen = v->keylen;
		if (v->k != J_OBJ) {
			sf_err(f, e->key, "the header entry is not an object");
			return -1;
		}
		int dt = jget(j, c, "dtype"), sh = jget(j, c, "shape"), of = jget(j, c, "data_offsets");
		if (dt < 0 || sh < 0 || of < 0) {
			sf_err(f, e->key, "the header entry lacks 'dtype', 'shape' or 'data_offsets'");
			return -1;
		}
		if (j->v[dt].k != J_STR) {
			sf_err(f, e->key, "'dtype' is not a string");
			return -1;
		}
		e->dtype = j->v[dt].s;
		e->size = dtype_size(e->dtype);
		int esize = e->size ? e->size : other_dtype_size(e->dtype);
		if (j->v[sh].k != J_ARR || j->v[sh].n > GOS_MAX_RANK) {
			sf_err(f, e->key, "'shape' is not an array of at most %d dimensions", GOS_MAX_RANK);
			return -1;
		}
		uint64_t numel = 1;
		int bad = 0;
		for (int x = j->v[sh].first; x >= 0; x = j->v[x].next) {
			if (j->v[x].k != J_NUM || !j->v[x].is_uint || j->v[x].u > INT64_MAX) {
				sf_err(f, e->key, "'shape' holds something other than a non-negative integer");
				return -1;
			}
			e->shape[e->rank++] = (int64_t)j->v[x].u;
			bad |= __builtin_mul_overflow(numel, j->v[x].u, &numel);
		}
		if (j->v[of].k != J_ARR || j->v[of].n != 2 ||
		    j->v[j->v[of].first].k != J_NUM || !j->v[j->v[of].first].is_uint ||
		    j->v[j->v[j->v[of].first].next].k != J_NUM ||
		    !j->v[j->v[j->v[of].first].next].is_uint) {
			sf_err(f, e->key, "'data_offsets' is not a pair of non-negative integers");
			return -1;
		}
		e->begin = j->v[j->v[of].first].u;
		e->end = j->v[j->v[j->v[of].first].next].u;
		if (e->begin > e->end || e->end > f->dsize) {
			sf_err(f, e->key, "data_offsets [%" PRIu64 ", %" PRIu64
			       "] lie outside the data (%" PRIu64 " bytes)", e->begin, e->end, f->dsize);
			return -1;
		}
		uint64_t bytes;
		if (esize && (bad || __builtin_mul_overflow(numel, (uint64_t)esize, &bytes) ||
		              bytes != e->end - e->begin)) {
			sf_err(f, e->key, "holds %" PRIu64 " bytes but dtype %s and its shape need %s%" PRIu64,
			       e->end - e->begin, e->dtype, bad ? "more than " : "", bad ? UINT64_MAX : bytes);
			return -1;
		}
	}
	return 0;
}

static float half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h >> 15) << 31, e = h >> 10 & 0x1f, m = h & 0x3ff, u;
	if (e == 0x1f) {
		u = sign | 0x7f800000u | m << 13; /* inf, nan */
	} else if (e) {
		u = sign | (e + 112) << 23 | m << 13;
	} else if (m) { /* subnormal: normalise */
		int sh = 0;
		while (!(m & 0x400)) {
			m <<= 1;
			sh++;
		}
		u = sign | (uint32_t)(113 - sh) << 23 | (m & 0x3ff) << 13;
	} else {
		u = sign;
	}
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static void shape_str(char *buf, size_t n, int rank, const int64_t *shape)
{
	size_t u = (size_t)snprintf(buf, n, "[");
	for (int i = 0; i < rank && u < n; i++)
		u += (size_t)snprintf(buf + u, n - u, "%s%" PRId64, i ? "," : "", shape[i]);
	if (u < n)
		snprintf(buf + u, n - u, "]");
}

int gos_safetensors_read(const char *path, const char *key, int rank,
                         const int64_t *shape, float *out, gos_diags *d)
{
	sfile f;
	int rc = -1;
	if (sf_open(&f, path, d))
		goto done;
	const entry *e = NULL;
	for (int k = 0; k < f.n_e && !e; k++)
		if (!strcmp(f.e[k].key, key))
			e = &f.e[k];
	if (!e) {
		const char *best = NULL;
		int cap = (int)strlen(key) / 3 + 2, bestd = cap + 1;
		for (int k = 0; k < f.n_e; k++) {
			int dist = gos_edit_distance(key, f.e[k].key, cap);
			if (dist < bestd) {
				best = f.e[k].key;
				bestd = dist;
			}
		}
		if (best)
			sf_err(&f, NULL, "no tensor '%s' in the file (did you mean '%s'?)", key, best);
		else
			sf_err(&f, NULL, "no tensor '%s' in the file (it holds %d tensors)", key, f.n_e);
		goto done;
	}
	if (!e->size) {
		sf_err(&f, key, "dtype %s is not supported (F32, F16, BF16, F64 are)", e->dtype);
		goto done;
	}
	int same = e->rank == rank;
	for (int i = 0; same && i < rank; i++)
		same = e->shape[i] == shape[i];
	if (!same) {
		char s1[160], s2[160];
		shape_str(s1, sizeof s1, e->rank, e->shape);
		shape_str(s2, sizeof s2, rank, shape);
		sf_err(&f, key, "has shape %s in the file but %s is expected", s1, s2);
		goto done;
	}
	uint64_t numel = (e->end - e->begin) / (uint64_t)e->size;
	if (fseeko(f.f, (off_t)(8 + f.hlen + e->begin), SEEK_SET)) {
		sf_err(&f, key, "cannot seek to its data");
		goto done;
	}
	unsigned char buf[8192];
	uint64_t done_n = 0;
	while (done_n < numel) {
		uint64_t want = numel - done_n;
		if (want > sizeof buf / (size_t)e->size)
			want = sizeof buf / (size_t)e->size;
		if (fread(buf, (size_t)e->size, (size_t)want, f.f) != want) {
			sf_err(&f, key, "cannot read its data (file truncated?)");
			goto done;
		}
		for (uint64_t i = 0; i < want; i++) {
			const unsigned char *p = buf + i * (size_t)e->size;
			float v;
			if (e->size == 4) {
				uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				             (uint32_t)p[3] << 24;
				memcpy(&v, &u, 4);
			} else if (e->size == 8) {
				uint64_t u = 0;
				for (int b = 7; b >= 0; b--)
					u = u << 8 | p[b];
				double x;
				memcpy(&x, &u, 8);
				v = (float)x;
			} else {
				uint16_t u = (uint16_t)(p[0] | p[1] << 8);
				if (e->dtype[0] == 'B') {
					uint32_t w = (uint32_t)u << 16;
					memcpy(&v, &w, 4);
				} else {
					v = half_to_float(u);
				}
			}
			out[done_n + i] = v;
		}
		done_n += want;
	}
	rc = 0;
done:
	sf_close(&f);
	return rc;
}

/* ---- writing ------------------------------------------------------------- */

/* Appends s to the growable buffer (*b, *n, *cap); returns 0 or -1. */
static int put(char **b, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n + len + 1 > *cap) {
		size_t nc = (*cap ? *cap * 2 : 256) + len;
		char *p = gos_realloc(*b, nc);
		if (!p)
			return -1;
		*b = p;
		*cap = nc;
	}
	memcpy(*b + *n, s, len);
	*n += len;
	(*b)[*n] = 0;
	return 0;
}

static int put_json_string(char **b, size_t *n, size_t *cap, const char *s)
{
	int bad = put(b, n, cap, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			bad |= put(b, n, cap, esc, 2);
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			bad |= put(b, n, cap, esc, 6);
		} else {
			bad |= put(b, n, cap, (const char *)p, 1);
		}
	}
	return bad | put(b, n, cap, "\"", 1);
}

int gos_safetensors_write(const char *path, int n, const char *const *keys,
                          const gos_tensor *ts, gos_diags *d)
{
	gos_loc loc = {path, 0, 0};
	char *h = NULL;
	size_t hn = 0, hcap = 0;
	int bad = put(&h, &hn, &hcap, "{", 1);
	uint64_t off = 0;
	for (int i = 0; i < n; i++) {
		if (!keys[i] || !strcmp(keys[i], "__metadata__")) {
			gos_error(d, loc, "tensor %d has no usable name", i);
			free(h);
			return -1;
		}
		for (int k = 0; k < i; k++)
			if (!strcmp(keys[k], keys[i])) {
				gos_error(d, loc, "tensor '%s' is given twice", keys[i]);
				free(h);
				return -1;
			}
		const gos_tensor *t = &ts[i];
		int64_t numel = 1;
		int ok = t->rank >= 0 && t->rank <= GOS_MAX_RANK;
		for (int k = 0; ok && k < t->rank; k++)
			ok = t->shape[k] >= 0 && !__builtin_mul_overflow(numel, t->shape[k], &numel);
		if (!ok || (numel && !t->data) || (uint64_t)numel > (UINT64_MAX - off) / 4) {
			gos_error(d, loc, "tensor '%s' has an invalid shape or no data", keys[i]);
			free(h);
			return -1;
		}
		char tmp[160];
		bad |= i ? put(&h, &hn, &hcap, ",", 1) : 0;
		bad |= put_json_string(&h, &hn, &hcap, keys[i]);
		bad |= put(&h, &hn, &hcap, ":{\"dtype\":\"F32\",\"shape\":[", 25);
		for (int k = 0; k < t->rank; k++) {
			int w = snprintf(tmp, sizeof tmp, "%s%" PRId64, k ? "," : "", t->shape[k]);
			bad |= put(&h, &hn, &hcap, tmp, (size_t)w);
		}
		int w = snprintf(tmp, sizeof tmp, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off,
		                 off + 4 * (uint64_t)numel);
		bad |= put(&h, &hn, &hcap, tmp, (size_t)w);
		off += 4 * (uint64_t)numel;
	}
	bad |= put(&h, &hn, &hcap, "}", 1);
	while (!bad && hn % 8) /* the data starts 8-byte aligned */
		bad |= put(&h, &hn, &hcap, " ", 1);
	if (bad) {
		free(h);
		gos_error(d, loc, "out of memory");
		return -1;
	}
	gos_outfile o;
	if (gos_outfile_open(&o, path)) {
		free(h);
		gos_error(d, loc, "cannot create the file");
		return -1;
	}
	unsigned char b8[8];
	for (int i = 0; i < 8; i++)
		b8[i] = (unsigned char)((uint64_t)hn >> (8 * i));
	fwrite(b8, 1, 8, o.f);
	fwrite(h, 1, hn, o.f);
	free(h);
	unsigned char chunk[4096];
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		int64_t numel = gos_numel(ts[i].rank, ts[i].shape);
		for (int64_t e = 0; e < numel; e++) {
			uint32_t v;
			memcpy(&v, &ts[i].data[e], 4);
			for (int b = 0; b < 4; b++)
				chunk[k++] = (unsigned char)(v >> (8 * b));
			if (k == sizeof chunk) {
				fwrite(chunk, 1, k, o.f);
				k = 0;
			}
		}
	}
	fwrite(chunk, 1, k, o.f);
	if (gos_outfile_commit(&o)) {
		gos_error(d, loc, "writing failed");
		return -1;
	}
	return 0;
}
