/* parse.c -- the textual IR (docs/ir.md) back into a module: a hand-written
 * lexer and recursive-descent parser. The first error stops the parse
 * (longjmp to gos_ir_parse, which frees the partial module). Names are
 * resolved here; everything else about validity is gos_verify's job,
 * except what the text alone gets wrong (instruction numbering, operands
 * used before their definition, index counts, variable ranges). */
#include "ir/ir.h"
#include "support/alloc.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IX_DEPTH 1000 /* index expression nesting */
#define MAX_NUMEL 2147483647LL /* elements of one tensor (frontend/elab.c) */

enum { T_EOF, T_IDENT, T_STR, T_SIGIL, T_NUM, T_PUNCT };
enum { P_ARROW = 'A' }; /* the punctuation "->" */

typedef struct tok {
	int kind;
	int c;          /* T_PUNCT: the character, P_ARROW for -> */
	const char *str; /* IDENT/STR/SIGIL: the (decoded) name; NUM: its text.
	                    Valid until the next token. */
	int quoted;     /* SIGIL: the name was a string literal */
	int is_int;     /* NUM: no '.' or exponent */
	int ovf;        /* NUM: integer does not fit 64 bits */
	uint64_t u;     /* NUM: integer value */
	int line, col;
} tok;

/* Open-addressing map from names (arena strings) to ints. */
typedef struct strmap {
	const char **k;
	int *v;
	size_t cap, n;
} strmap;

typedef struct P {
	const char *file;  /* name in diagnostics */
	const char *mfile; /* arena copy, for locations stored in the module */
	const char *cur, *end;
	int line, col;     /* of cur */
	tok t;
	char *scratch;     /* token text */
	size_t scap;
	gos_diags *d;
	jmp_buf jb;
	gos_module *m;
	strmap vals;       /* value name -> index */
	strmap bufs;       /* buffer name -> index in the current node, -2 = ambiguous */
	gos_node *n;       /* node being parsed */
	int cap_buf;
	/* statement being parsed */
	gos_stmt *s;
	int nvars;
	const char *vnames[GOS_MAX_VARS];
	int64_t vext[GOS_MAX_VARS];
	int cap_ix, cap_ins;
	short *ixdepth;    /* [n_ix] depth of each index node */
	int nest;          /* recursion depth of the expression parser */
} P;

/* ---- errors ------------------------------------------------------------ */

static _Noreturn void fail_at(P *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static _Noreturn void fail_at(P *p, int line, int col, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	gos_error(p->d, (gos_loc){p->file, line, col}, "%s", msg);
	longjmp(p->jb, 1);
}

#define fail(p, ...) fail_at((p), (p)->t.line, (p)->t.col, __VA_ARGS__)

/* Describes the current token for "expected X, found Y" messages. */
static const char *tok_desc(P *p, char *buf, size_t n)
{
	tok *t = &p->t;
	switch (t->kind) {
	case T_EOF:
		return "end of file";
	case T_IDENT:
		snprintf(buf, n, "'%.40s'", t->str);
		return buf;
	case T_STR:
		return "a string";
	case T_SIGIL:
		snprintf(buf, n, "'%%%.40s'", t->str);
		return buf;
	case T_NUM:
		snprintf(buf, n, "number '%.40s'", t->str);
		return buf;
	default:
		if (t->c == P_ARROW)
			return "'->'";
		snprintf(buf, n, "'%c'", t->c);
		return buf;
	}
}

static _Noreturn void expected(P *p, const char *what)
{
	char buf[64];
	fail(p, "expected %s, found %s", what, tok_desc(p, buf, sizeof buf));
}

/* ---- memory -------------------------------------------------------------- */

static void *alloc(P *p, size_t n)
{
	void *q = gos_arena_alloc(p->m->arena, n);
	if (!q)
		fail(p, "out of memory");
	return q;
}

static char *dup(P *p, const char *s)
{
	char *q = gos_arena_strdup(p->m->arena, s);
	if (!q)
		fail(p, "out of memory");
	return q;
}

/* Returns arena array v (n used, *cap room) with room for one more. */
static void *grow(P *p, void *v, int n, int *cap, size_t sz)
{
	if (n < *cap)
		return v;
	if (*cap > INT_MAX / 4)
		fail(p, "too many items");
	int nc = *cap ? *cap * 2 : 8;
	void *nv = alloc(p, sz * (size_t)nc);
	if (n)
		memcpy(nv, v, sz * (size_t)n);
	*cap = nc;
	return nv;
}

#define PUSH(p, arr, n, cap) \
	((arr) = grow((p), (arr), (n), &(cap), sizeof *(arr)), &(arr)[(n)++])

/* ---- name maps ------------------------------------------------------------ */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Slot of key in map (its entry or the empty slot where it would go). */
static size_t map_slot(const strmap *mp, const char *key)
{
	size_t i = (size_t)hash_str(key) & (mp->cap - 1);
	while (mp->k[i] && strcmp(mp->k[i], key) != 0)
		i = (i + 1) & (mp->cap - 1);
	return i;
}

/* Value of key, or -1 if absent. */
static int map_get(const strmap *mp, const char *key)
{
	if (!mp->cap)
		return -1;
	size_t i = map_slot(mp, key);
	return mp->k[i] ? mp->v[i] : -1;
}

static void map_put(P *p, strmap *mp, const char *key, int val)
{
	if (2 * (mp->n + 1) > mp->cap) {
		size_t nc = mp->cap ? 2 * mp->cap : 16;
		strmap nm = {gos_calloc(nc, sizeof *nm.k), gos_calloc(nc, sizeof *nm.v), nc, 0};
		if (!nm.k || !nm.v) {
			free(nm.k);
			free(nm.v);
			fail(p, "out of memory");
		}
		for (size_t i = 0; i < mp->cap; i++)
			if (mp->k[i]) {
				size_t j = map_slot(&nm, mp->k[i]);
				nm.k[j] = mp->k[i];
				nm.v[j] = mp->v[i];
				nm.n++;
			}
		free(mp->k);
		free(mp->v);
		*mp = nm;
	}
	size_t i = map_slot(mp, key);
	if (!mp->k[i])
		mp->n++;
	mp->k[i] = key;
	mp->v[i] = val;
}

/* Empties the map; shrinks it if the last use was much smaller, so that
 * many small nodes after one big node stay cheap. */
static void map_clear(strmap *mp)
{
	if (mp->cap > 64 && mp->cap > 8 * mp->n) {
		free(mp->k);
		free(mp->v);
		memset(mp, 0, sizeof *mp);
		return;
	}
	if (mp->cap)
		memset(mp->k, 0, sizeof *mp->k * mp->cap);
	mp->n = 0;
}

static void map_free(strmap *mp)
{
	free(mp->k);
	free(mp->v);
	memset(mp, 0, sizeof *mp);
}

/* ---- lexer ---------------------------------------------------------------- */

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_name_char(int c)
{
	return is_alpha(c) || is_digit(c) || c == '.';
}

static int hex_val(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Character at offset k from the cursor, or -1 past the end. */
static int peekc(P *p, size_t k)
{
	return (size_t)(p->end - p->cur) > k ? (unsigned char)p->cur[k] : -1;
}

static void advance(P *p)
{
	if (*p->cur == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->cur++;
}

/* Appends c to the scratch buffer at *n. */
static void scratch_put(P *p, size_t *n, char c)
{
	if (*n + 1 >= p->scap) {
		size_t nc = p->scap ? 2 * p->scap : 256;
		char *s = gos_realloc(p->scratch, nc);
		if (!s)
			fail(p, "out of memory");
		p->scratch = s;
		p->scap = nc;
	}
	p->scratch[(*n)++] = c;
	p->scratch[*n] = 0;
}

/* Reads a "..." literal at the cursor into scratch. */
static void lex_string(P *p)
{
	size_t n = 0;
	scratch_put(p, &n, 0);
	n = 0;
	advance(p); /* the opening quote */
	for (;;) {
		int c = peekc(p, 0);
		if (c < 0 || c == '\n')
			fail(p, "unterminated string");
		if (c == '"') {
			advance(p);
			return;
		}
		if (c == '\\') {
			int l = p->line, col = p->col;
			advance(p);
			int e = peekc(p, 0);
			if (e == '"' || e == '\\') {
				c = e;
			} else if (e == 'n') {
				c = '\n';
			} else if (e == 't') {
				c = '\t';
			} else if (e == 'x' && hex_val(peekc(p, 1)) >= 0 &&
			           hex_val(peekc(p, 2)) >= 0) {
				c = hex_val(peekc(p, 1)) * 16 + hex_val(peekc(p, 2));
				advance(p);
				advance(p);
				if (c == 0)
					fail_at(p, l, col, "a string may not contain \\x00");
			} else {
				fail_at(p, l, col, "unknown escape in string (known: \\\" \\\\ \\n \\t \\xHH)");
			}
			advance(p);
			scratch_put(p, &n, (char)c);
			continue;
		}
		if (c < 0x20 && c != '\t')
			fail_at(p, p->line, p->col, "control character in string (write \\x%02x)", c);
		advance(p);
		scratch_put(p, &n, (char)c);
	}
}

/* Reads a number at the cursor: 0x hex integer, decimal integer, or a
 * decimal float with '.' and/or exponent. */
static void lex_number(P *p)
{
	tok *t = &p->t;
	size_t n = 0;
	t->is_int = 1;
	t->ovf = 0;
	t->u = 0;
	if (peekc(p, 0) == '0' && (peekc(p, 1) == 'x' || peekc(p, 1) == 'X') &&
	    hex_val(peekc(p, 2)) >= 0) {
		scratch_put(p, &n, '0');
		advance(p);
		scratch_put(p, &n, 'x');
		advance(p);
		while (hex_val(peekc(p, 0)) >= 0) {
			int h = hex_val(peekc(p, 0));
			if (t->u > (UINT64_MAX - (uint64_t)h) / 16)
				t->ovf = 1;
			else
				t->u = t->u * 16 + (uint64_t)h;
			scratch_put(p, &n, (char)peekc(p, 0));
			advance(p);
		}
		return;
	}
	while (is_digit(peekc(p, 0))) {
		uint64_t dgt = (uint64_t)(peekc(p, 0) - '0');
		if (t->u > (UINT64_MAX - dgt) / 10)
			t->ovf = 1;
		else
			t->u = t->u * 10 + dgt;
		scratch_put(p, &n, (char)peekc(p, 0));
		advance(p);
	}
	if (peekc(p, 0) == '.') {
		t->is_int = 0;
		scratch_put(p, &n, '.');
		advance(p);
		while (is_digit(peekc(p, 0))) {
			scratch_put(p, &n, (char)peekc(p, 0));
			advance(p);
		}
	}
	int e = peekc(p, 0);
	if ((e == 'e' || e == 'E') &&
	    (is_digit(peekc(p, 1)) ||
	     ((peekc(p, 1) == '+' || peekc(p, 1) == '-') && is_digit(peekc(p, 2))))) {
		t->is_int = 0;
		for (int k = 0; k < 2; k++) { /* e and its sign */
			int c = peekc(p, 0);
			if (k == 1 && c != '+' && c != '-')
				break;
			scratch_put(p, &n, (char)c);
			advance(p);
		}
		while (is_digit(peekc(p, 0))) {
			scratch_put(p, &n, (char)peekc(p, 0));
			advance(p);
		}
	}
}

/* Reads the next token into p->t. */
static void next(P *p)
{
	tok *t = &p->t;
	for (;;) { /* white space and // comments */
		int c = peekc(p, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			advance(p);
		else if (c == '/' && peekc(p, 1) == '/')
			while (peekc(p, 0) >= 0 && peekc(p, 0) != '\n')
				advance(p);
		else
			break;
	}
	t->line = p->line;
	t->col = p->col;
	t->str = "";
	t->quoted = 0;
	int c = peekc(p, 0);
	if (c < 0) {
		t->kind = T_EOF;
		return;
	}
	size_t n = 0;
	if (is_alpha(c)) {
		t->kind = T_IDENT;
		while (is_name_char(peekc(p, 0))) {
			scratch_put(p, &n, (char)peekc(p, 0));
			advance(p);
		}
		t->str = p->scratch;
		return;
	}
	if (is_digit(c)) {
		t->kind = T_NUM;
		lex_number(p);
		t->str = p->scratch;
		return;
	}
	if (c == '"') {
		t->kind = T_STR;
		lex_string(p);
		t->str = p->scratch;
		return;
	}
	if (c == '%' && (is_name_char(peekc(p, 1)) || peekc(p, 1) == '"')) {
		t->kind = T_SIGIL;
		advance(p);
		if (peekc(p, 0) == '"') {
			lex_string(p);
			t->quoted = 1;
		} else {
			while (is_name_char(peekc(p, 0))) {
				scratch_put(p, &n, (char)peekc(p, 0));
				advance(p);
			}
		}
		t->str = p->scratch;
		return;
	}
	if (c == '-' && peekc(p, 1) == '>') {
		t->kind = T_PUNCT;
		t->c = P_ARROW;
		advance(p);
		advance(p);
		return;
	}
	if (strchr("[](){},:=+-*/%#", c)) {
		t->kind = T_PUNCT;
		t->c = c;
		advance(p);
		return;
	}
	if (c >= 0x20 && c < 0x7f)
		fail(p, "unexpected character '%c'", c);
	fail(p, "unexpected byte 0x%02x", c);
}

/* ---- token helpers ------------------------------------------------------- */

static int is_punct(P *p, int c)
{
	return p->t.kind == T_PUNCT && p->t.c == c;
}

static int is_word(P *p, const char *w)
{
	return p->t.kind == T_IDENT && strcmp(p->t.str, w) == 0;
}

static int accept(P *p, int c)
{
	if (!is_punct(p, c))
		return 0;
	next(p);
	return 1;
}

static void expect(P *p, int c)
{
	if (!accept(p, c)) {
		char what[8];
		snprintf(what, sizeof what, c == P_ARROW ? "'->'" : "'%c'", c);
		expected(p, what);
	}
}

static void expect_word(P *p, const char *w)
{
	if (!is_word(p, w)) {
		char what[64];
		snprintf(what, sizeof what, "'%s'", w);
		expected(p, what);
	}
	next(p);
}

/* A name: identifier or string literal. Returns an arena copy. */
static const char *parse_name(P *p, const char *what)
{
	if (p->t.kind != T_IDENT && p->t.kind != T_STR)
		expected(p, what);
	const char *s = dup(p, p->t.str);
	next(p);
	return s;
}

/* An integer literal >= 0 that fits in int64. */
static int64_t parse_uint(P *p, const char *what)
{
	if (p->t.kind != T_NUM || !p->t.is_int)
		expected(p, what);
	if (p->t.ovf || p->t.u > (uint64_t)INT64_MAX)
		fail(p, "integer %s is too large", p->t.str);
	int64_t v = (int64_t)p->t.u;
	next(p);
	return v;
}

/* An integer literal with an optional '-'. */
static int64_t parse_int(P *p, const char *what)
{
	int neg = accept(p, '-');
	if (p->t.kind != T_NUM || !p->t.is_int)
		expected(p, what);
	uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	if (p->t.ovf || p->t.u > lim)
		fail(p, "integer %s%s is too large", neg ? "-" : "", p->t.str);
	int64_t v = neg ? (int64_t)(0 - p->t.u) : (int64_t)p->t.u;
	if (neg && p->t.u == (uint64_t)INT64_MAX + 1)
		v = INT64_MIN;
	next(p);
	return v;
}

/* A float literal: [-] (number | inf | nan); single precision if f32. */
static double parse_real(P *p, int f32)
{
	int line = p->t.line, col = p->t.col;
	int neg = accept(p, '-');
	double v;
	if (is_word(p, "inf")) {
		v = INFINITY;
	} else if (is_word(p, "nan")) {
		v = NAN;
	} else if (p->t.kind == T_NUM) {
		if (p->t.str[0] == '0' && (p->t.str[1] == 'x' || p->t.str[1] == 'X'))
			fail(p, "expected a decimal number, found %s", p->t.str);
		v = f32 ? (double)strtof(p->t.str, NULL) : strtod(p->t.str, NULL);
		if (isinf(v))
			fail_at(p, line, col, "number %s%s is out of range for %s",
			        neg ? "-" : "", p->t.str, f32 ? "f32" : "a double");
	} else {
		expected(p, "a number");
	}
	next(p);
	return neg ? -v : v;
}

/* ---- module level ------------------------------------------------------- */

static int lookup_value(P *p)
{
	if (p->t.kind != T_SIGIL)
		expected(p, "a value (%name)");
	int v = map_get(&p->vals, p->t.str);
	if (v < 0) {
		int best = -1, bd = 3;
		for (int i = 0; i < p->m->n_val; i++) {
			int dd = gos_edit_distance(p->t.str, p->m->vals[i].name, 2);
			if (dd < bd) {
				bd = dd;
				best = i;
			}
		}
		if (best >= 0)
			fail(p, "unknown value '%%%s' (did you mean '%%%s'?)", p->t.str,
			     p->m->vals[best].name);
		fail(p, "unknown value '%%%s'", p->t.str);
	}
	next(p);
	return v;
}

/* [d0,d1,...] into shape; returns the rank. The element count must be at
 * most MAX_NUMEL (what the frontend allows; a file cannot declare a
 * tensor that no allocation could hold). */
static int parse_shape(P *p, int64_t *shape)
{
	int rank = 0;
	uint64_t numel = 1;
	expect(p, '[');
	if (!is_punct(p, ']')) {
		do {
			if (rank == GOS_MAX_RANK)
				fail(p, "more than %d dimensions", GOS_MAX_RANK);
			shape[rank] = parse_uint(p, "a dimension");
			if (__builtin_mul_overflow(numel, (uint64_t)shape[rank], &numel) ||
			    numel > MAX_NUMEL)
				fail(p, "a shape with more than %lld elements", (long long)MAX_NUMEL);
			rank++;
		} while (accept(p, ','));
	}
	expect(p, ']');
	return rank;
}

/* uniform(lo, hi, seed=S) | normal(mean, std, seed=S) | fill(v) |
 * file("key") | file() | data(v, ...) */
static void parse_init(P *p, int vi)
{
	int line = p->t.line, col = p->t.col;
	gos_value *v = &p->m->vals[vi];
	if (is_word(p, "uniform") || is_word(p, "normal")) {
		v->init = is_word(p, "uniform") ? GOS_INIT_UNIFORM : GOS_INIT_NORMAL;
		next(p);
		expect(p, '(');
		v->lo = parse_real(p, 0);
		expect(p, ',');
		v->hi = parse_real(p, 0);
		expect(p, ',');
		expect_word(p, "seed");
		expect(p, '=');
		if (p->t.kind != T_NUM || !p->t.is_int)
			expected(p, "a seed");
		if (p->t.ovf)
			fail(p, "seed %s does not fit 64 bits", p->t.str);
		v->seed = p->t.u;
		next(p);
		expect(p, ')');
	} else if (is_word(p, "fill")) {
		v->init = GOS_INIT_FILL;
		next(p);
		expect(p, '(');
		v->lo = parse_real(p, 0);
		expect(p, ')');
	} else if (is_word(p, "file")) {
		v->init = GOS_INIT_FILE;
		next(p);
		expect(p, '(');
		if (p->t.kind == T_STR) {
			v->key = dup(p, p->t.str);
			next(p);
		}
		expect(p, ')');
	} else if (is_word(p, "data")) {
		v->init = GOS_INIT_DATA;
		next(p);
		expect(p, '(');
		float *data = NULL;
		int n = 0, cap = 0;
		if (!is_punct(p, ')'))
			do
				*PUSH(p, data, n, cap) = (float)parse_real(p, 1);
			while (accept(p, ','));
		expect(p, ')');
		v = &p->m->vals[vi];
		if (n != gos_numel(v->rank, v->shape))
			fail_at(p, line, col, "data() has %d values but %s[...] of '%%%s' has %" PRId64,
			        n, gos_dtype_name(v->dtype), v->name, gos_numel(v->rank, v->shape));
		v->data = data;
	} else {
		expected(p, "an initialiser (uniform, normal, fill, file, data)");
	}
}

/* Declares value %name : dtype[shape] (= init) of kind; the cursor is on
 * the sigil. Returns its index. */
static int parse_value_decl(P *p, gos_valkind kind)
{
	if (p->t.kind != T_SIGIL)
		expected(p, "a value name (%name)");
	int line = p->t.line, col = p->t.col;
	int old = map_get(&p->vals, p->t.str);
	if (old >= 0)
		fail(p, "value '%%%s' is already defined at %d:%d", p->t.str,
		     p->m->vals[old].loc.line, p->m->vals[old].loc.col);
	const char *name = dup(p, p->t.str);
	next(p);
	expect(p, ':');
	gos_dtype dt;
	if (is_word(p, "f32"))
		dt = GOS_F32;
	else if (is_word(p, "i64"))
		dt = GOS_I64;
	else
		expected(p, "a type (f32 or i64)");
	next(p);
	int64_t shape[GOS_MAX_RANK];
	int rank = parse_shape(p, shape);
	int vi = gos_module_add_value(p->m, name, kind, dt, rank, shape);
	if (vi < 0 || !p->m->vals[vi].name)
		fail(p, "out of memory");
	p->m->vals[vi].loc = (gos_loc){p->mfile, line, col};
	map_put(p, &p->vals, p->m->vals[vi].name, vi);
	if (accept(p, '='))
		parse_init(p, vi);
	return vi;
}

/* ---- node level ------------------------------------------------------- */

/* Appends a buffer to the current node; returns its index. */
static int add_buf(P *p, const char *name, int rank, const int64_t *shape,
                   int value)
{
	gos_node *n = p->n;
	gos_buf *b = PUSH(p, n->bufs, n->n_buf, p->cap_buf);
	b->name = name;
	b->rank = rank;
	memcpy(b->shape, shape, sizeof(int64_t) * (size_t)rank);
	b->value = value;
	int old = map_get(&p->bufs, name);
	map_put(p, &p->bufs, name, old == -1 ? n->n_buf - 1 : -2);
	return n->n_buf - 1;
}

/* NAME [shape] = %value (: type (= init))  -- a node argument or result.
 * Results may declare the value they define. Returns the value. */
static int parse_binding(P *p, int result)
{
	const char *name = parse_name(p, "a parameter name");
	int64_t shape[GOS_MAX_RANK];
	int rank = -1;
	if (is_punct(p, '['))
		rank = parse_shape(p, shape);
	expect(p, '=');
	int v;
	if (result) {
		if (p->t.kind != T_SIGIL)
			expected(p, "a value (%name)");
		/* a typed result declares a new value; a bare one refers */
		const char *save = dup(p, p->t.str);
		int line = p->t.line, col = p->t.col;
		next(p);
		if (is_punct(p, ':')) {
			int old = map_get(&p->vals, save);
			if (old >= 0)
				fail_at(p, line, col, "value '%%%s' is already defined at %d:%d",
				        save, p->m->vals[old].loc.line, p->m->vals[old].loc.col);
			next(p);
			gos_dtype dt;
			if (is_word(p, "f32"))
				dt = GOS_F32;
			else if (is_word(p, "i64"))
				dt = GOS_I64;
			else
				expected(p, "a type (f32 or i64)");
			next(p);
			int64_t vs[GOS_MAX_RANK];
			int vr = parse_shape(p, vs);
			v = gos_module_add_value(p->m, save, GOS_VAL_TEMP, dt, vr, vs);
			if (v < 0 || !p->m->vals[v].name)
				fail(p, "out of memory");
			p->m->vals[v].loc = (gos_loc){p->mfile, line, col};
			map_put(p, &p->vals, p->m->vals[v].name, v);
			if (accept(p, '='))
				parse_init(p, v);
		} else {
			v = map_get(&p->vals, save);
			if (v < 0)
				fail_at(p, line, col, "unknown value '%%%s' (a result that defines a value needs its type: %%%s : f32[...])",
				        save, save);
		}
	} else {
		v = lookup_value(p);
	}
	const gos_value *val = &p->m->vals[v];
	if (rank < 0)
		add_buf(p, name, val->rank, val->shape, v);
	else
		add_buf(p, name, rank, shape, v);
	return v;
}

/* {name=v, name=[v, ...], ...} */
static void parse_attrs(P *p, int *n_attr, gos_attr **attr)
{
	int cap = 0;
	expect(p, '{');
	if (!is_punct(p, '}')) {
		do {
			gos_attr *a = PUSH(p, *attr, *n_attr, cap);
			a->name = parse_name(p, "an attribute name");
			expect(p, '=');
			int vcap = 0;
			if (accept(p, '[')) {
				if (!is_punct(p, ']'))
					do
						*PUSH(p, a->v, a->n, vcap) = parse_real(p, 0);
					while (accept(p, ','));
				expect(p, ']');
			} else {
				*PUSH(p, a->v, a->n, vcap) = parse_real(p, 0);
			}
		} while (accept(p, ','));
	}
	expect(p, '}');
}

/* A buffer reference NAME or NAME#index in the current node. */
static int parse_bufref(P *p)
{
	int line = p->t.line, col = p->t.col;
	if (p->t.kind != T_IDENT && p->t.kind != T_STR)
		expected(p, "a buffer name");
	const char *name = dup(p, p->t.str);
	next(p);
	gos_node *n = p->n;
	if (accept(p, '#')) {
		int il = p->t.line, ic = p->t.col;
		int64_t b = parse_uint(p, "a buffer number");
		if (b >= n->n_buf || strcmp(n->bufs[b].name, name) != 0)
			fail_at(p, il, ic, "buffer #%" PRId64 " of node '%s' is not '%s'",
			        b, n->name, name);
		return (int)b;
	}
	int b = map_get(&p->bufs, name);
	if (b == -2)
		fail_at(p, line, col, "several buffers of node '%s' are named '%s' (write %s#N)",
		        n->name, name, name);
	if (b < 0)
		fail_at(p, line, col, "node '%s' has no buffer '%s'", n->name, name);
	return b;
}

/* ---- statements --------------------------------------------------------- */

/* Appends index node {op, a, b, k}; fails if it nests too deeply. */
static int new_ix(P *p, gos_ixop op, int a, int b, int64_t k)
{
	gos_stmt *s = p->s;
	int depth = 1;
	if (op >= GOS_IX_ADD) {
		depth = 1 + p->ixdepth[a];
		if (op != GOS_IX_DIV && op != GOS_IX_MOD && p->ixdepth[b] + 1 > depth)
			depth = 1 + p->ixdepth[b];
	}
	if (depth > MAX_IX_DEPTH)
		fail(p, "index expression nested more than %d deep", MAX_IX_DEPTH);
	int cap = p->cap_ix, n = s->n_ix;
	gos_ix *x = PUSH(p, s->ix, s->n_ix, p->cap_ix);
	*x = (gos_ix){op, a, b, k};
	p->ixdepth = grow(p, p->ixdepth, n, &cap, sizeof *p->ixdepth);
	p->ixdepth[n] = (short)depth;
	return n;
}

/* A variable reference NAME or NAME#number. */
static int parse_varref(P *p)
{
	int line = p->t.line, col = p->t.col;
	const char *name = dup(p, p->t.str);
	next(p);
	if (accept(p, '#')) {
		int il = p->t.line, ic = p->t.col;
		int64_t d = parse_uint(p, "a variable number");
		if (d >= p->nvars || strcmp(p->vnames[d], name) != 0)
			fail_at(p, il, ic, "variable #%" PRId64 " is not '%s'", d, name);
		return (int)d;
	}
	int found = -1;
	for (int d = 0; d < p->nvars; d++)
		if (strcmp(p->vnames[d], name) == 0) {
			if (found >= 0)
				fail_at(p, line, col, "several index variables are named '%s' (write %s#N)",
				        name, name);
			found = d;
		}
	if (found < 0)
		fail_at(p, line, col, "unknown index variable '%s'", name);
	return found;
}

static int parse_ix(P *p);

/* atom: integer | var | min(e, e) | max(e, e) | (e) | -atom */
static int parse_ix_atom(P *p)
{
	if (++p->nest > MAX_IX_DEPTH)
		fail(p, "index expression nested more than %d deep", MAX_IX_DEPTH);
	int r;
	if (is_punct(p, '-')) {
		next(p);
		if (p->t.kind == T_NUM) {
			if (!p->t.is_int)
				fail(p, "index expressions are integers; found %s", p->t.str);
			if (p->t.ovf || p->t.u > (uint64_t)INT64_MAX + 1)
				fail(p, "integer -%s is too large", p->t.str);
			int64_t k = p->t.u == (uint64_t)INT64_MAX + 1 ? INT64_MIN
			                                               : -(int64_t)p->t.u;
			next(p);
			r = new_ix(p, GOS_IX_CONST, 0, 0, k);
		} else {
			int a = parse_ix_atom(p);
			r = new_ix(p, GOS_IX_MUL, new_ix(p, GOS_IX_CONST, 0, 0, -1), a, 0);
		}
	} else if (p->t.kind == T_NUM) {
		if (!p->t.is_int)
			fail(p, "index expressions are integers; found %s", p->t.str);
		r = new_ix(p, GOS_IX_CONST, 0, 0, parse_uint(p, "an integer"));
	} else if (is_word(p, "min") || is_word(p, "max")) {
		gos_ixop op = is_word(p, "min") ? GOS_IX_MIN : GOS_IX_MAX;
		next(p);
		expect(p, '(');
		int a = parse_ix(p);
		expect(p, ',');
		int b = parse_ix(p);
		expect(p, ')');
		r = new_ix(p, op, a, b, 0);
	} else if (p->t.kind == T_IDENT || p->t.kind == T_STR) {
		r = new_ix(p, GOS_IX_VAR, 0, 0, parse_varref(p));
	} else if (accept(p, '(')) {
		r = parse_ix(p);
		expect(p, ')');
	} else {
		expected(p, "an index expression");
	}
	p->nest--;
	return r;
}

/* term: atom (* atom | / int | % int)* */
static int parse_ix_term(P *p)
{
	int a = parse_ix_atom(p);
	for (;;) {
		if (accept(p, '*')) {
			a = new_ix(p, GOS_IX_MUL, a, parse_ix_atom(p), 0);
		} else if (is_punct(p, '/') || is_punct(p, '%')) {
			gos_ixop op = is_punct(p, '/') ? GOS_IX_DIV : GOS_IX_MOD;
			next(p);
			a = new_ix(p, op, a, 0, parse_int(p, "an integer divisor"));
		} else {
			return a;
		}
	}
}

/* expr: term ((+|-) term)* */
static int parse_ix(P *p)
{
	int a = parse_ix_term(p);
	for (;;) {
		if (accept(p, '+'))
			a = new_ix(p, GOS_IX_ADD, a, parse_ix_term(p), 0);
		else if (accept(p, '-'))
			a = new_ix(p, GOS_IX_SUB, a, parse_ix_term(p), 0);
		else
			return a;
	}
}

/* e0, e1, ... into an arena array; returns the count. */
static int parse_ix_list(P *p, int **out, int closing)
{
	int *v = NULL, n = 0, cap = 0;
	if (!closing || !is_punct(p, closing))
		do
			*PUSH(p, v, n, cap) = parse_ix(p);
		while (accept(p, ','));
	*out = v;
	return n;
}

/* %N: an instruction number that must be below `below`. */
static int parse_insref(P *p, int below, const char *what)
{
	if (p->t.kind != T_SIGIL || p->t.quoted || !is_digit(p->t.str[0]))
		expected(p, what);
	int64_t k = 0;
	for (const char *s = p->t.str; *s; s++) {
		if (!is_digit(*s))
			expected(p, what);
		k = k * 10 + (*s - '0');
		if (k > INT_MAX)
			fail(p, "instruction number %%%s is too large", p->t.str);
	}
	if (k >= below)
		fail(p, "%%%d does not name an earlier instruction", (int)k);
	next(p);
	return (int)k;
}

/* One instruction: %i = op operands */
static void parse_ins(P *p)
{
	gos_stmt *s = p->s;
	int i = s->n_ins;
	if (p->t.kind != T_SIGIL || p->t.quoted || !is_digit(p->t.str[0]))
		expected(p, "an instruction (%N = ...) or '}'");
	char want[16];
	snprintf(want, sizeof want, "%d", i);
	if (strcmp(p->t.str, want) != 0)
		fail(p, "instruction %%%s is number %d: write %%%d", p->t.str, i, i);
	next(p);
	expect(p, '=');
	if (p->t.kind != T_IDENT)
		expected(p, "an instruction name");
	int op = -1;
	for (int o = 0; o < GOS_NOPS; o++)
		if (strcmp(p->t.str, gos_opinfo_tab[o].name) == 0)
			op = o;
	if (op < 0)
		fail(p, "unknown instruction '%s'", p->t.str);
	next(p);
	gos_ins *in = PUSH(p, s->ins, s->n_ins, p->cap_ins);
	in->op = (gos_opcode)op;
	switch (in->op) {
	case GOS_OP_CONST:
		in->f = (float)parse_real(p, 1);
		break;
	case GOS_OP_LOAD: {
		in->buf = parse_bufref(p);
		int line = p->t.line, col = p->t.col;
		expect(p, '[');
		int *idx;
		int nidx = parse_ix_list(p, &idx, ']');
		expect(p, ']');
		in = &s->ins[i];
		in->idx = idx;
		in->nidx = nidx;
		const gos_buf *b = &p->n->bufs[in->buf];
		if (nidx != b->rank)
			fail_at(p, line, col, "'%s' has rank %d but the load has %d indices",
			        b->name, b->rank, nidx);
		if (is_word(p, "else")) {
			next(p);
			float f = (float)parse_real(p, 1);
			in = &s->ins[i];
			in->has_pad = 1;
			in->f = f;
		}
		break;
	}
	case GOS_OP_INDEX: {
		int *idx;
		int nidx = parse_ix_list(p, &idx, 0);
		in = &s->ins[i];
		in->idx = idx;
		in->nidx = nidx;
		break;
	}
	default:
		for (int a = 0; a < gos_opinfo_tab[op].arity; a++) {
			if (a)
				expect(p, ',');
			int r = parse_insref(p, i, "an operand (%N)");
			s->ins[i].arg[a] = r;
		}
	}
}

/* name:extent; appends a variable to the statement. */
static int64_t parse_var_decl(P *p)
{
	if (p->nvars == GOS_MAX_VARS)
		fail(p, "more than %d index variables", GOS_MAX_VARS);
	p->vnames[p->nvars] = parse_name(p, "an index variable");
	expect(p, ':');
	int64_t e = parse_int(p, "the variable's range");
	p->vext[p->nvars++] = e;
	return e;
}

/* DST[v:n, ...] = (sum|max|min|none)(r:n, ...)? { instructions } -> %R */
static void parse_stmt(P *p, gos_stmt *s)
{
	gos_node *n = p->n;
	p->s = s;
	p->nvars = 0;
	p->cap_ix = p->cap_ins = 0;
	p->ixdepth = NULL;
	s->dst = parse_bufref(p);
	const gos_buf *dst = &n->bufs[s->dst];
	int line = p->t.line, col = p->t.col;
	expect(p, '[');
	if (!is_punct(p, ']'))
		do {
			int vl = p->t.line, vc = p->t.col;
			int d = p->nvars;
			int64_t e = parse_var_decl(p);
			if (d >= dst->rank)
				fail_at(p, vl, vc, "'%s' has rank %d but %d index variables are given",
				        dst->name, dst->rank, d + 1);
			if (e != dst->shape[d])
				fail_at(p, vl, vc, "index variable '%s' ranges over %" PRId64
				        " but dimension %d of '%s' has size %" PRId64,
				        p->vnames[d], e, d, dst->name, dst->shape[d]);
		} while (accept(p, ','));
	if (p->nvars != dst->rank)
		fail_at(p, line, col, "'%s' has rank %d but %d index variables are given",
		        dst->name, dst->rank, p->nvars);
	expect(p, ']');
	expect(p, '=');
	s->red = GOS_RED_NONE;
	int rank = p->nvars;
	if (p->t.kind == T_IDENT) {
		if (is_word(p, "sum"))
			s->red = GOS_RED_SUM;
		else if (is_word(p, "max"))
			s->red = GOS_RED_MAX;
		else if (is_word(p, "min"))
			s->red = GOS_RED_MIN;
		else if (!is_word(p, "none"))
			expected(p, "a reduction (sum, max, min) or '{'");
		next(p);
		expect(p, '(');
		if (!is_punct(p, ')'))
			do
				parse_var_decl(p);
			while (accept(p, ','));
		expect(p, ')');
	}
	s->n_red = p->nvars - rank;
	if (s->n_red) {
		s->red_extent = alloc(p, sizeof(int64_t) * (size_t)s->n_red);
		memcpy(s->red_extent, p->vext + rank, sizeof(int64_t) * (size_t)s->n_red);
	}
	s->var_names = alloc(p, sizeof(char *) * (size_t)(p->nvars + 1));
	memcpy(s->var_names, p->vnames, sizeof(char *) * (size_t)p->nvars);
	expect(p, '{');
	while (!accept(p, '}'))
		parse_ins(p);
	expect(p, P_ARROW);
	s->result = parse_insref(p, s->n_ins, "the result instruction (%N)");
	p->s = NULL;
}

/* node NAME = OP(bindings) {attrs}? -> (bindings) { locals and statements } */
static void parse_node(P *p)
{
	int line = p->t.line, col = p->t.col;
	next(p); /* node */
	const char *name = parse_name(p, "a node name");
	expect(p, '=');
	const char *op = parse_name(p, "an operator name");
	int ni = gos_module_add_node(p->m, name, op);
	if (ni < 0 || !p->m->nodes[ni].name)
		fail(p, "out of memory");
	gos_node *n = p->n = &p->m->nodes[ni];
	n->loc = (gos_loc){p->mfile, line, col};
	p->cap_buf = 0;
	map_clear(&p->bufs);
	int cap_in = 0, cap_out = 0, cap_stmt = 0;
	expect(p, '(');
	if (!is_punct(p, ')'))
		do {
			int v = parse_binding(p, 0);
			*PUSH(p, n->in, n->n_in, cap_in) = v;
		} while (accept(p, ','));
	expect(p, ')');
	if (is_punct(p, '{'))
		parse_attrs(p, &n->n_attr, &n->attr);
	expect(p, P_ARROW);
	expect(p, '(');
	if (!is_punct(p, ')'))
		do {
			int v = parse_binding(p, 1);
			*PUSH(p, n->out, n->n_out, cap_out) = v;
		} while (accept(p, ','));
	expect(p, ')');
	expect(p, '{');
	while (!accept(p, '}')) {
		if (is_word(p, "local")) {
			next(p);
			const char *bn = parse_name(p, "a buffer name");
			int64_t shape[GOS_MAX_RANK];
			int rank = parse_shape(p, shape);
			add_buf(p, bn, rank, shape, -1);
		} else if (p->t.kind == T_IDENT || p->t.kind == T_STR) {
			gos_stmt *s = PUSH(p, n->stmts, n->n_stmt, cap_stmt);
			parse_stmt(p, s);
		} else {
			expected(p, "'local', a statement or '}'");
		}
	}
	p->n = NULL;
}

static void parse_module(P *p)
{
	next(p);
	expect_word(p, "gir");
	int line = p->t.line, col = p->t.col;
	int64_t version = parse_uint(p, "the format version");
	if (version != 1)
		fail_at(p, line, col, "unsupported gir version %" PRId64 " (this reader knows 1)",
		        version);
	expect_word(p, "model");
	p->m->name = parse_name(p, "the model name");
	while (p->t.kind != T_EOF) {
		if (is_word(p, "weights")) {
			if (p->m->weights_file)
				fail(p, "the weights file is already given");
			next(p);
			if (p->t.kind != T_STR)
				expected(p, "the weights file name (a string)");
			p->m->weights_file = dup(p, p->t.str);
			next(p);
		} else if (is_word(p, "input")) {
			next(p);
			parse_value_decl(p, GOS_VAL_INPUT);
		} else if (is_word(p, "weight")) {
			next(p);
			parse_value_decl(p, GOS_VAL_WEIGHT);
		} else if (is_word(p, "temp")) {
			next(p);
			parse_value_decl(p, GOS_VAL_TEMP);
		} else if (is_word(p, "node")) {
			parse_node(p);
		} else if (is_word(p, "output")) {
			next(p);
			int v = lookup_value(p);
			int before = p->m->n_output;
			gos_module_add_output(p->m, v);
			if (p->m->n_output == before)
				fail(p, "out of memory");
		} else {
			expected(p, "'input', 'weight', 'temp', 'node', 'output' or 'weights'");
		}
	}
}

gos_module *gos_ir_parse(const char *file, const char *text, size_t len,
                         gos_diags *d)
{
	file = file ? file : "<gir>";
	P *p = gos_calloc(1, sizeof *p);
	gos_module *m = gos_module_new("model");
	if (!p || !m) {
		free(p);
		gos_module_free(m);
		gos_error(d, (gos_loc){file, 0, 0}, "out of memory");
		return NULL;
	}
	p->file = gos_diags_source(d, file, text, len);
	p->mfile = gos_arena_strdup(m->arena, p->file);
	p->cur = text;
	p->end = text + len;
	p->line = p->col = 1;
	p->d = d;
	p->m = m;
	if (setjmp(p->jb) == 0) {
		parse_module(p);
	} else {
		gos_module_free(p->m);
		m = NULL;
	}
	map_free(&p->vals);
	map_free(&p->bufs);
	free(p->scratch);
	free(p);
	return m;
}
