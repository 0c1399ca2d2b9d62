/* onnx_import.c -- an ONNX ModelProto into an IR module: reads the file
 * with the generated protobuf-c code, turns initializers into weights and
 * graph inputs into inputs, walks the nodes in order and maps each with
 * the operator table (onnx_ops.c), then names the outputs. */
#include "frontend/onnx/onnx.h"

#include <stdlib.h>
#include <string.h>

#ifndef GOS_HAVE_ONNX

int gos_onnx_available(void)
{
	return 0;
}

gos_module *gos_onnx_load(const char *path, gos_onnx_options *opt, gos_diags *d)
{
	if (opt)
		opt->unsupported = 1;
	gos_error(d, (gos_loc){path, 0, 0}, "gosc was built without ONNX support (protobuf-c)");
	return NULL;
}

#else

#include <stdarg.h>
#include <stdio.h>

#include "frontend/onnx/onnx_internal.h"
#include "frontend/frontend.h"

int gos_onnx_available(void)
{
	return 1;
}

/* The importer's own operators (frontend/onnx/onnx_ops.gos), embedded at
 * build time. */
extern const char gos_onnx_ops_text[];
extern const unsigned long gos_onnx_ops_text_len;

/* ---- symbols ----------------------------------------------------------- */

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

onnx_sym *onnx_sym_find(onnx_imp *I, const char *name)
{
	if (!I->hcap || !name)
		return NULL;
	for (unsigned h = hash_str(name) & (unsigned)(I->hcap - 1);; h = (h + 1) & (unsigned)(I->hcap - 1)) {
		int k = I->hash[h];
		if (!k)
			return NULL;
		if (!strcmp(I->syms[k - 1].name, name))
			return &I->syms[k - 1];
	}
}

static int grow_syms(onnx_imp *I)
{
	if (I->n_sym < I->cap_sym && 2 * (I->n_sym + 1) <= I->hcap)
		return 0;
	int cap = I->cap_sym ? 2 * I->cap_sym : 256;
	onnx_sym *s = GOS_NEWN(I->a, onnx_sym, cap);
	int hcap = 2 * cap;
	int *h = GOS_NEWN(I->a, int, hcap);
	if (!s || !h)
		return -1;
	if (I->n_sym)
		memcpy(s, I->syms, sizeof *s * (size_t)I->n_sym);
	for (int i = 0; i < I->n_sym; i++) {
		unsigned k = hash_str(s[i].name) & (unsigned)(hcap - 1);
		while (h[k])
			k = (k + 1) & (unsigned)(hcap - 1);
		h[k] = i + 1;
	}
	I->syms = s;
	I->cap_sym = cap;
	I->hash = h;
	I->hcap = hcap;
	return 0;
}

onnx_sym *onnx_sym_define(onnx_imp *I, const char *name)
{
	if (onnx_sym_find(I, name)) {
		onnx_err(I, "tensor '%s' is defined more than once", name);
		return NULL;
	}
	if (grow_syms(I)) {
		gos_error(I->d, I->loc, "out of memory");
		return NULL;
	}
	onnx_sym *s = &I->syms[I->n_sym];
	memset(s, 0, sizeof *s);
	s->name = gos_arena_strdup(I->a, name);
	s->value = -1;
	unsigned k = hash_str(name) & (unsigned)(I->hcap - 1);
	while (I->hash[k])
		k = (k + 1) & (unsigned)(I->hcap - 1);
	I->hash[k] = ++I->n_sym;
	return s;
}

/* ---- errors ------------------------------------------------------------- */

static int verr(onnx_imp *I, int unsup, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof buf, fmt, ap);
	if (I->label)
		gos_error(I->d, I->loc, "%s: %s", I->label, buf);
	else
		gos_error(I->d, I->loc, "%s", buf);
	if (unsup && I->opt)
		I->opt->unsupported = 1;
	return -1;
}

int onnx_err(onnx_imp *I, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(I, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int onnx_unsup(onnx_imp *I, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr(I, 1, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- attributes ----------------------------------------------------------- */

const Onnx__AttributeProto *onnx_attr(onnx_imp *I, const char *name)
{
	const Onnx__NodeProto *n = I->node;
	for (size_t k = 0; k < n->n_attribute; k++) {
		const Onnx__AttributeProto *a = n->attribute[k];
		if (a->name && !strcmp(a->name, name)) {
			I->used[k] = 1;
			if (a->ref_attr_name && a->ref_attr_name[0]) {
				onnx_unsup(I, "attribute '%s' refers to a function attribute", name);
				return NULL;
			}
			return a;
		}
	}
	return NULL;
}

void onnx_attr_ignore(onnx_imp *I, const char *name)
{
	(void)onnx_attr(I, name);
}

/* Attribute type, inferred from the fields set when `type` is missing
 * (IR version 1). */
static int attr_type(const Onnx__AttributeProto *a)
{
	if (a->has_type)
		return a->type;
	if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
	if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
	if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
	if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
	if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
	if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
	return 0;
}

static int attr_type_err(onnx_imp *I, const char *name, const char *want)
{
	return onnx_err(I, "attribute '%s' must be %s", name, want);
}

/* Integer attributes beyond +-2^31 are refused (no operator has a use for
 * them; they would overflow the size arithmetic of the mappings), except
 * the ends of ranges, where INT64_MAX means "to the end" and the mapping
 * clamps to the dimension. */
#define ATTR_INT_MAX ((int64_t)1 << 31)

static int attr_int_ok(onnx_imp *I, const char *name, int64_t v)
{
	static const char *const ranges[] = {"starts", "ends", "start", "end"};
	if (v >= -ATTR_INT_MAX && v <= ATTR_INT_MAX)
		return 0;
	for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++)
		if (!strcmp(name, ranges[k]))
			return 0;
	return onnx_unsup(I, "attribute '%s' is %lld (at most 2^31 in magnitude is supported)",
	                  name, (long long)v);
}

int onnx_attr_int(onnx_imp *I, const char *name, int64_t def, int64_t *v)
{
	const Onnx__AttributeProto *a = onnx_attr(I, name);
	*v = def;
	if (!a)
		return 0;
	if (attr_type(a) != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
		return attr_type_err(I, name, "an integer");
	if (attr_int_ok(I, name, a->i))
		return -1;
	*v = a->i;
	return 0;
}

int onnx_attr_float(onnx_imp *I, const char *name, double def, double *v)
{
	const Onnx__AttributeProto *a = onnx_attr(I, name);
	*v = def;
	if (!a)
		return 0;
	int t = attr_type(a);
	if (t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
		*v = a->f;
	else if (t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)
		*v = (double)a->i;
	else
		return attr_type_err(I, name, "a number");
	return 0;
}

int onnx_attr_ints(onnx_imp *I, const char *name, int64_t *v, int cap, int *n)
{
	const Onnx__AttributeProto *a = onnx_attr(I, name);
	*n = -1;
	if (!a)
		return 0;
	int t = attr_type(a);
	if (t == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
		if (attr_int_ok(I, name, a->i))
			return -1;
		*n = 1;
		v[0] = a->i;
		return 0;
	}
	if (t != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS && !(t == 0 && !a->n_ints))
		return attr_type_err(I, name, "a list of integers");
	if (a->n_ints > (size_t)cap)
		return onnx_unsup(I, "attribute '%s' has %zu values (at most %d are supported)",
		                  name, a->n_ints, cap);
	for (size_t k = 0; k < a->n_ints; k++) {
		if (attr_int_ok(I, name, a->ints[k]))
			return -1;
		v[k] = a->ints[k];
	}
	*n = (int)a->n_ints;
	return 0;
}

int onnx_attr_string(onnx_imp *I, const char *name, const char *def, const char **v)
{
	const Onnx__AttributeProto *a = onnx_attr(I, name);
	*v = def;
	if (!a)
		return 0;
	if (attr_type(a) != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)
		return attr_type_err(I, name, "a string");
	*v = gos_arena_strndup(I->a, (const char *)a->s.data, a->s.len);
	return 0;
}

/* ---- inputs and outputs ------------------------------------------------ */

int onnx_n_in(onnx_imp *I)
{
	int n = (int)I->node->n_input;
	while (n > 0 && !I->node->input[n - 1][0])
		n--;
	return n;
}

int onnx_has_in(onnx_imp *I, int k)
{
	return k < (int)I->node->n_input && I->node->input[k][0];
}

/* The symbol of input k, which may be an unbound non-float graph input. */
static onnx_sym *in_sym_any(onnx_imp *I, int k)
{
	if (!onnx_has_in(I, k)) {
		onnx_err(I, "input %d is missing", k);
		return NULL;
	}
	onnx_sym *s = onnx_sym_find(I, I->node->input[k]);
	if (!s) {
		onnx_err(I, "input '%s' is not defined before the node (the graph must be in "
		         "topological order)", I->node->input[k]);
		return NULL;
	}
	if (s->missing) {
		onnx_unsup(I, "input '%s': %s", s->name, s->missing);
		return NULL;
	}
	return s;
}

onnx_sym *onnx_in_sym(onnx_imp *I, int k)
{
	onnx_sym *s = in_sym_any(I, k);
	if (s && s->value < 0 && !s->c) {
		onnx_unsup(I, "graph input '%s' has type %s; only float inputs are supported",
		           s->name, gos_onnx_type_name(s->input_type));
		return NULL;
	}
	return s;
}

int onnx_in_value(onnx_imp *I, int k)
{
	onnx_sym *s = onnx_in_sym(I, k);
	if (!s)
		return -1;
	if (s->value >= 0)
		return s->value;
	s->value = onnx_const_value(I, s->name, s->c);
	return s->value;
}

gos_onnx_tensor *onnx_in_const(onnx_imp *I, int k, const char *what)
{
	onnx_sym *s = in_sym_any(I, k);
	if (!s)
		return NULL;
	if (s->c)
		return s->c;
	if (s->graph_input) {
		if (I->opt)
			snprintf(I->opt->need_const, sizeof I->opt->need_const, "%s", s->name);
		onnx_unsup(I, "%s '%s' is a graph input; it must be a constant (an initializer "
		           "or a Constant node)", what, s->name);
	} else {
		onnx_unsup(I, "%s '%s' is computed at run time; it must be a constant (an "
		           "initializer or a Constant node)", what, s->name);
	}
	return NULL;
}

int onnx_in_shape(onnx_imp *I, int k, int64_t *shape)
{
	onnx_sym *s = onnx_in_sym(I, k);
	if (!s)
		return -1;
	if (s->value >= 0) {
		const gos_value *v = &I->m->vals[s->value];
		memcpy(shape, v->shape, sizeof(int64_t) * (size_t)v->rank);
		return v->rank;
	}
	memcpy(shape, s->c->shape, sizeof(int64_t) * (size_t)s->c->rank);
	return s->c->rank;
}

const char *onnx_out_name(onnx_imp *I, int k)
{
	return k < (int)I->node->n_output ? I->node->output[k] : "";
}

static onnx_sym *define_out(onnx_imp *I, int k)
{
	const char *name = onnx_out_name(I, k);
	if (!name[0])
		return NULL; /* an unused optional output */
	return onnx_sym_define(I, name);
}

int onnx_set_out(onnx_imp *I, int k, int v)
{
	if (v < 0)
		return -1;
	if (!onnx_out_name(I, k)[0])
		return 0;
	onnx_sym *s = define_out(I, k);
	if (!s)
		return -1;
	s->value = v;
	return 0;
}

int onnx_set_out_const(onnx_imp *I, int k, gos_onnx_tensor *c)
{
	if (!onnx_out_name(I, k)[0])
		return 0;
	onnx_sym *s = define_out(I, k);
	if (!s)
		return -1;
	s->c = c;
	return 0;
}

void onnx_outs_missing(onnx_imp *I, int k, const char *why)
{
	for (; k < (int)I->node->n_output; k++) {
		if (!onnx_out_name(I, k)[0])
			continue;
		onnx_sym *s = define_out(I, k);
		if (s)
			s->missing = gos_arena_printf(I->a, "%s (%s)", why, I->label);
	}
}

/* ---- emitting ------------------------------------------------------------ */

void onnx_attrs_int(onnx_attrs *A, const char *name, int n, const int64_t *v)
{
	if (A->n >= 12 || n > 2 * GOS_MAX_RANK)
		return;
	gos_attr *a = &A->v[A->n];
	a->name = name;
	a->n = n;
	a->v = A->buf[A->n];
	for (int k = 0; k < n; k++)
		a->v[k] = (double)v[k];
	A->n++;
}

void onnx_attrs_num(onnx_attrs *A, const char *name, double v)
{
	if (A->n >= 12)
		return;
	gos_attr *a = &A->v[A->n];
	a->name = name;
	a->n = 1;
	a->v = A->buf[A->n];
	a->v[0] = v;
	A->n++;
}

/* name, or name_N for the smallest N >= 1 that no value uses. */
static const char *unique_value_name(onnx_imp *I, const char *name)
{
	if (gos_module_find_value(I->m, name) < 0)
		return name;
	for (int k = 1;; k++) {
		const char *s = gos_arena_printf(I->a, "%s_%d", name, k);
		if (gos_module_find_value(I->m, s) < 0)
			return s;
	}
}

int onnx_apply_n(onnx_imp *I, const char *op, const char *name, int n, const int *in,
                 const onnx_attrs *A, int *out)
{
	static const onnx_attrs none;
	if (!A)
		A = &none;
	for (int k = 0; k < n; k++)
		if (in[k] < -1)
			return -1;
	int errs = I->d->n_errors;
	int r = gos_oplib_apply(I->lib, I->m, op, unique_value_name(I, name), n, in, A->n, A->v,
	                        out, I->loc, I->d);
	if (r < 1) {
		if (I->d->n_errors == errs)
			gos_error(I->d, I->loc, "%s: applying '%s' failed", I->label, op);
		gos_note(I->d, I->loc, "while importing %s as %s", I->label, op);
		return -1;
	}
	return r;
}

int onnx_apply(onnx_imp *I, const char *op, const char *name, int n, const int *in,
               const onnx_attrs *A)
{
	int out[8];
	return onnx_apply_n(I, op, name, n, in, A, out) < 0 ? -1 : out[0];
}

const char *onnx_tmp_name(onnx_imp *I, const char *suffix)
{
	const char *base = onnx_out_name(I, 0);
	if (!base[0])
		base = "tmp";
	return gos_arena_printf(I->a, "%s/%s", base, suffix);
}

int onnx_const_value(onnx_imp *I, const char *name, const gos_onnx_tensor *c)
{
	if (c->numel == 0)
		return onnx_unsup(I, "tensor '%s' is empty", name);
	int v = gos_module_add_value(I->m, unique_value_name(I, name), GOS_VAL_WEIGHT, GOS_F32,
	                             c->rank, c->shape);
	/* integer constants used as data (e.g. an exponent) become floats */
	float *data = v >= 0 ? GOS_NEWN(I->m->arena, float, c->numel) : NULL;
	if (!data) {
		gos_error(I->d, I->loc, "out of memory");
		return -1;
	}
	for (int64_t k = 0; k < c->numel; k++)
		data[k] = c->is_float ? c->f[k] : (float)c->i[k];
	gos_value *val = &I->m->vals[v];
	val->init = GOS_INIT_DATA;
	val->data = data;
	val->loc = I->loc;
	return v;
}

gos_onnx_tensor *onnx_new_const(onnx_imp *I, int is_float, int rank, const int64_t *shape)
{
	gos_onnx_tensor *t = GOS_NEW(I->a, gos_onnx_tensor);
	if (!t)
		return NULL;
	t->name = "";
	t->elem_type = is_float ? ONNX_FLOAT : ONNX_INT64;
	t->is_float = is_float;
	t->rank = rank;
	t->numel = 1;
	for (int k = 0; k < rank; k++) {
		t->shape[k] = shape[k];
		if (shape[k] < 0) {
			onnx_err(I, "negative dimension %lld", (long long)shape[k]);
			return NULL;
		}
		if (__builtin_mul_overflow(t->numel, shape[k], &t->numel) ||
		    t->numel > ONNX_MAX_CONST_NUMEL) {
			onnx_unsup(I, "a constant of more than %lld elements computed at import",
			           (long long)ONNX_MAX_CONST_NUMEL);
			return NULL;
		}
	}
	size_t n = (size_t)(t->numel ? t->numel : 1);
	if (is_float)
		t->f = GOS_NEWN(I->a, float, n);
	else
		t->i = GOS_NEWN(I->a, int64_t, n);
	if (!t->f && !t->i) {
		onnx_err(I, "out of memory");
		return NULL;
	}
	return t;
}

int onnx_reshape(onnx_imp *I, int v, int rank, const int64_t *shape, const char *name)
{
	if (v < 0)
		return -1;
	const gos_value *val = &I->m->vals[v];
	if (val->rank == rank && !memcmp(val->shape, shape, sizeof(int64_t) * (size_t)rank))
		return v;
	onnx_attrs A = {0};
	onnx_attrs_int(&A, "shape", rank, shape);
	return onnx_apply(I, "reshape", name, 1, &v, &A);
}

/* ---- the graph ----------------------------------------------------------- */

/* Directory of path in arena a. */
static const char *dir_of(gos_arena *a, const char *path)
{
	const char *s = strrchr(path, '/');
	if (!s)
		return ".";
	return gos_arena_strndup(a, path, s == path ? 1 : (size_t)(s - path));
}

/* A new oplib with the prelude and onnx_ops.gos. The oplib API reads the
 * extra operators from a file, so the embedded text goes to a temporary
 * one. */
static gos_oplib *new_oplib(gos_diags *d, gos_loc loc)
{
	const char *tmpdir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/gos-onnx-ops-XXXXXX.gos",
	         tmpdir && tmpdir[0] ? tmpdir : "/tmp");
	int fd = mkstemps(path, 4);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		gos_error(d, loc, "cannot create a temporary file for the ONNX operators");
		return NULL;
	}
	size_t n = fwrite(gos_onnx_ops_text, 1, gos_onnx_ops_text_len, f);
	int bad = fclose(f) != 0 || n != gos_onnx_ops_text_len;
	gos_oplib *lib = bad ? NULL : gos_oplib_new(path, d);
	if (bad)
		gos_error(d, loc, "cannot write a temporary file for the ONNX operators");
	remove(path);
	return lib;
}

/* Adds graph input vi as a module input (or a bound constant). */
static int import_input(onnx_imp *I, const Onnx__ValueInfoProto *vi)
{
	const char *name = vi->name ? vi->name : "";
	if (!name[0])
		return onnx_err(I, "a graph input has no name");
	if (onnx_sym_find(I, name))
		return 0; /* an initializer (IR version < 4 lists them as inputs) */
	onnx_sym *s = onnx_sym_define(I, name);
	if (!s)
		return -1;
	for (int k = 0; I->opt && k < I->opt->n_bind; k++) {
		const gos_onnx_tensor *b = &I->opt->bind[k];
		if (b->name && !strcmp(b->name, name)) {
			s->c = GOS_NEW(I->a, gos_onnx_tensor);
			if (!s->c)
				return -1;
			*s->c = *b;
			return 0;
		}
	}
	s->graph_input = 1;
	const Onnx__TypeProto *tp = vi->type;
	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return onnx_unsup(I, "graph input '%s' is not a tensor", name);
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	int et = tt->has_elem_type ? tt->elem_type : 0;
	if (et != ONNX_FLOAT) {
		/* not an input of the module; an error only where it is used
		 * (binding it as a constant makes it usable) */
		s->input_type = et;
		return 0;
	}
	if (!tt->shape)
		return onnx_unsup(I, "graph input '%s' has no shape; static shapes are required",
		                  name);
	if (tt->shape->n_dim > GOS_MAX_RANK)
		return onnx_unsup(I, "graph input '%s' has rank %zu (at most %d is supported)", name,
		                  tt->shape->n_dim, GOS_MAX_RANK);
	int64_t shape[GOS_MAX_RANK];
	int rank = (int)tt->shape->n_dim;
	const gos_input_shape *given = NULL;
	for (int k = 0; I->opt && k < I->opt->n_shapes; k++)
		if (!strcmp(I->opt->shapes[k].name, name))
			given = &I->opt->shapes[k];
	if (given && given->rank != rank)
		return onnx_err(I, "graph input '%s' has rank %d; -input-shape gives %d dimensions",
		                name, rank, given->rank);
	for (int k = 0; k < rank; k++) {
		const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[k];
		int fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
		if (fixed && given && dim->dim_value != given->dims[k])
			return onnx_err(I, "graph input '%s': dimension %d is %lld in the model; "
			                "-input-shape gives %lld", name, k, (long long)dim->dim_value,
			                (long long)given->dims[k]);
		if (fixed && dim->dim_value > 0 && dim->dim_value <= ONNX_MAX_NUMEL) {
			shape[k] = dim->dim_value;
		} else if (!fixed && given) {
			shape[k] = given->dims[k];
		} else if (!fixed && I->opt && I->opt->dim_param_value > 0) {
			shape[k] = I->opt->dim_param_value;
		} else if (fixed) {
			return onnx_unsup(I, "graph input '%s': dimension %d is %lld; dimensions must "
			                  "be positive", name, k, (long long)dim->dim_value);
		} else {
			const char *p = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
			                        && dim->dim_param ? dim->dim_param : "?";
			return onnx_unsup(I, "graph input '%s': dimension %d is symbolic ('%s'); set the "
			                  "input's shape with -input-shape %s=D0,...,D%d (gosc) or "
			                  "--input-shape (other tools)", name, k, p, name, rank - 1);
		}
	}
	s->value = gos_module_add_value(I->m, name, GOS_VAL_INPUT, GOS_F32, rank, shape);
	if (s->value < 0)
		return onnx_err(I, "out of memory");
	I->m->vals[s->value].loc = I->loc;
	return 0;
}

/* Imports node n (index idx). */
static int import_node(onnx_imp *I, const Onnx__NodeProto *n, int idx)
{
	const char *op = n->op_type ? n->op_type : "";
	I->node = n;
	if (n->name && n->name[0])
		I->label = gos_arena_printf(I->a, "node '%s' (%s)", n->name, op);
	else if (n->n_output && n->output[0][0])
		I->label = gos_arena_printf(I->a, "node %d (%s, output '%s')", idx, op, n->output[0]);
	else
		I->label = gos_arena_printf(I->a, "node %d (%s)", idx, op);
	I->used = GOS_NEWN(I->a, unsigned char, n->n_attribute + 1);
	if (!I->used)
		return -1;
	if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx"))
		return onnx_unsup(I, "operator domain '%s' is not supported", n->domain);
	if (I->opset < 0)
		return onnx_err(I, "the model imports no opset of the default ONNX domain");
	onnx_op_fn fn = onnx_find_op(op);
	if (!fn)
		return onnx_unsup(I, "operator %s is not supported", op[0] ? op : "(no op_type)");
	if (fn(I))
		return -1;
	for (size_t k = 0; k < n->n_attribute; k++) {
		if (!I->used[k]) {
			const char *an = n->attribute[k]->name ? n->attribute[k]->name : "";
			return onnx_unsup(I, "attribute '%s' is not supported", an);
		}
	}
	/* every named output must now be defined */
	for (size_t k = 0; k < n->n_output; k++)
		if (n->output[k][0] && !onnx_sym_find(I, n->output[k]))
			return onnx_err(I, "internal error: output '%s' was not defined", n->output[k]);
	return 0;
}

/* Makes graph output vi a module output called vi->name. */
static int import_output(onnx_imp *I, const Onnx__ValueInfoProto *vi)
{
	const char *name = vi->name ? vi->name : "";
	I->label = gos_arena_printf(I->a, "graph output '%s'", name);
	onnx_sym *s = onnx_sym_find(I, name);
	if (!s)
		return onnx_err(I, "not computed by any node");
	if (s->missing)
		return onnx_unsup(I, "%s", s->missing);
	if (s->value < 0 && !s->c)
		return onnx_unsup(I, "is graph input '%s' of type %s; only float inputs are supported",
		                  s->name, gos_onnx_type_name(s->input_type));
	const Onnx__TypeProto *tp = vi->type;
	if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type &&
	    tp->tensor_type->has_elem_type && tp->tensor_type->elem_type != ONNX_FLOAT)
		return onnx_unsup(I, "has type %s; only float outputs are supported",
		                  gos_onnx_type_name(tp->tensor_type->elem_type));
	int v = s->value;
	if (v < 0) {
		v = s->value = onnx_const_value(I, gos_arena_printf(I->a, "%s/const", name), s->c);
		if (v < 0)
			return -1;
	}
	const gos_value *val = &I->m->vals[v];
	int taken = 0;
	for (int k = 0; k < I->m->n_output; k++)
		taken |= I->m->outputs[k] == v;
	if (val->kind != GOS_VAL_TEMP || strcmp(val->name, name) || taken) {
		/* a copy named after the output: reshape to the same shape */
		onnx_attrs A = {0};
		onnx_attrs_int(&A, "shape", val->rank, val->shape);
		int out[8];
		int r = gos_oplib_apply(I->lib, I->m, "reshape", unique_value_name(I, name), 1, &v,
		                        A.n, A.v, out, I->loc, I->d);
		if (r < 1) {
			gos_note(I->d, I->loc, "while copying %s", I->label);
			return -1;
		}
		v = out[0];
	}
	if (gos_module_add_output(I->m, v))
		return onnx_err(I, "out of memory");
	return 0;
}

static int import_graph(onnx_imp *I, const Onnx__GraphProto *g)
{
	if (g->n_sparse_initializer)
		return onnx_unsup(I, "sparse initializers are not supported");
	for (size_t k = 0; k < g->n_initializer; k++) {
		const Onnx__TensorProto *tp = g->initializer[k];
		const char *name = tp->name ? tp->name : "";
		const char *what = gos_arena_printf(I->a, "initializer '%s'", name);
		if (!name[0])
			return onnx_err(I, "an initializer has no name");
		gos_onnx_tensor *t = GOS_NEW(I->a, gos_onnx_tensor);
		if (!t || gos_onnx_decode_tensor(tp, I->a, I->base_dir, what, t, I->loc, I->d))
			return -1;
		onnx_sym *s = onnx_sym_define(I, name);
		if (!s)
			return -1;
		s->c = t;
	}
	for (size_t k = 0; k < g->n_input; k++)
		if (import_input(I, g->input[k]))
			return -1;
	for (int k = 0; I->opt && k < I->opt->n_shapes; k++) {
		const char *want = I->opt->shapes[k].name;
		onnx_sym *s = onnx_sym_find(I, want);
		if (!s || !s->graph_input || s->value < 0)
			return onnx_err(I, "-input-shape names '%s', which is not a float input of the "
			                "graph", want);
	}
	for (size_t k = 0; k < g->n_node; k++) {
		if (import_node(I, g->node[k], (int)k))
			return -1;
		I->label = NULL;
	}
	if (!g->n_output)
		return onnx_err(I, "the graph has no outputs");
	for (size_t k = 0; k < g->n_output; k++)
		if (import_output(I, g->output[k]))
			return -1;
	I->label = NULL;
	return 0;
}

/* Model name: the graph's name, else the file's base name without .onnx. */
static const char *model_name(gos_arena *a, const char *path, const Onnx__GraphProto *g)
{
	if (g->name && g->name[0])
		return g->name;
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	if (n > 5 && !strcmp(b + n - 5, ".onnx"))
		n -= 5;
	return gos_arena_strndup(a, b, n);
}

gos_module *gos_onnx_load(const char *path, gos_onnx_options *opt, gos_diags *d)
{
	gos_onnx_options defaults;
	if (!opt) {
		memset(&defaults, 0, sizeof defaults);
		opt = &defaults;
	}
	opt->unsupported = 0;
	opt->need_const[0] = 0;
	gos_loc loc = {path, 0, 0};
	int errs = d->n_errors;
	size_t len;
	char *bytes = gos_read_file(d, path, &len);
	if (!bytes)
		return NULL;
	if (gos_onnx_check_nesting(bytes, len, &onnx__model_proto__descriptor, loc, d)) {
		free(bytes);
		return NULL;
	}
	Onnx__ModelProto *mp = onnx__model_proto__unpack(&gos_onnx_pb_allocator, len, (const uint8_t *)bytes);
	free(bytes);
	if (!mp) {
		gos_error(d, loc, "not a valid ONNX model (corrupt or truncated protobuf)");
		return NULL;
	}
	onnx_imp imp = {0};
	onnx_imp *I = &imp;
	I->d = d;
	I->opt = opt;
	I->loc = loc;
	I->a = gos_arena_new();
	gos_module *m = NULL;
	int rc = -1;
	if (!I->a) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	if (!mp->graph) {
		gos_error(d, loc, "not an ONNX model: no graph (corrupt or truncated file?)");
		goto done;
	}
	I->opset = mp->n_opset_import ? -1 : 1; /* IR version < 3: opset 1 */
	for (size_t k = 0; k < mp->n_opset_import; k++) {
		const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
		if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
			I->opset = o->has_version ? (int)o->version : 1;
	}
	if (I->opset == 0 || I->opset > 19) {
		opt->unsupported = 1;
		gos_error(d, loc, "ONNX opset %d is not supported (supported: 1 to 19)", I->opset);
		goto done;
	}
	I->base_dir = dir_of(I->a, path);
	m = gos_module_new(model_name(I->a, path, mp->graph));
	if (!m) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	m->base_dir = gos_arena_strdup(m->arena, I->base_dir);
	I->m = m;
	I->lib = new_oplib(d, loc);
	if (!I->lib)
		goto done;
	rc = import_graph(I, mp->graph);
done:
	if (I->lib)
		gos_oplib_free(I->lib);
	gos_arena_free(I->a);
	onnx__model_proto__free_unpacked(mp, &gos_onnx_pb_allocator);
	if (rc || d->n_errors > errs) {
		gos_module_free(m);
		return NULL;
	}
	return m;
}

#endif
