/* onnx_tensor.c -- TensorProto decoding: typed fields, raw_data and
 * external data files, every size checked against the declared shape. */
#include "frontend/onnx/onnx.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64",
	"string", "bool", "float16", "double", "uint32", "uint64", "complex64",
	"complex128", "bfloat16",
};

const char *gos_onnx_type_name(int elem_type)
{
	if (elem_type >= 0 && elem_type < (int)(sizeof type_names / sizeof *type_names))
		return type_names[elem_type];
	return "unknown";
}

void gos_onnx_tensor_free(gos_onnx_tensor *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->f);
	free(t->i);
	memset(t, 0, sizeof *t);
}

#ifndef GOS_HAVE_ONNX

int gos_onnx_tensor_read(const char *path, gos_onnx_tensor *t, gos_diags *d)
{
	memset(t, 0, sizeof *t);
	gos_error(d, (gos_loc){path, 0, 0}, "gosc was built without ONNX support (protobuf-c)");
	return -1;
}

#else

#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "frontend/onnx/onnx_internal.h"

/* Bytes per element of a numeric type; 0 for types we cannot decode. */
static int elem_size(int type)
{
	switch (type) {
	case ONNX_FLOAT: case ONNX_INT32: case ONNX_UINT32: return 4;
	case ONNX_DOUBLE: case ONNX_INT64: case ONNX_UINT64: return 8;
	case ONNX_FLOAT16: case ONNX_BFLOAT16: case ONNX_INT16: case ONNX_UINT16: return 2;
	case ONNX_INT8: case ONNX_UINT8: case ONNX_BOOL: return 1;
	default: return 0;
	}
}

static int type_is_float(int type)
{
	return type == ONNX_FLOAT || type == ONNX_DOUBLE || type == ONNX_FLOAT16 ||
	       type == ONNX_BFLOAT16;
}

/* IEEE half to float. */
static float half_to_float(uint16_t h)
{
	int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
	float v;
	if (e == 0)
		v = ldexpf((float)m, -24);
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexpf((float)(m | 1024), e - 25);
	return s ? -v : v;
}

static float bf16_to_float(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* Element k of little-endian raw bytes p of the given type. */
static double raw_float(const uint8_t *p, int type, int64_t k)
{
	switch (type) {
	case ONNX_FLOAT: { float f; memcpy(&f, p + 4 * k, 4); return f; }
	case ONNX_DOUBLE: { double f; memcpy(&f, p + 8 * k, 8); return f; }
	case ONNX_FLOAT16: { uint16_t h; memcpy(&h, p + 2 * k, 2); return half_to_float(h); }
	default: { uint16_t h; memcpy(&h, p + 2 * k, 2); return bf16_to_float(h); }
	}
}

static int64_t raw_int(const uint8_t *p, int type, int64_t k)
{
	switch (type) {
	case ONNX_INT8: return (int8_t)p[k];
	case ONNX_UINT8: case ONNX_BOOL: return p[k];
	case ONNX_INT16: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
	case ONNX_UINT16: { uint16_t v; memcpy(&v, p + 2 * k, 2); return v; }
	case ONNX_INT32: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
	case ONNX_UINT32: { uint32_t v; memcpy(&v, p + 4 * k, 4); return v; }
	case ONNX_UINT64: { uint64_t v; memcpy(&v, p + 8 * k, 8); return (int64_t)v; }
	default: { int64_t v; memcpy(&v, p + 8 * k, 8); return v; }
	}
}

static void *alloc(gos_arena *a, size_t n)
{
	if (n == 0)
		n = 1;
	return a ? gos_arena_alloc(a, n) : gos_calloc(1, n);
}

/* Reads bytes [offset, offset + len) of base_dir/location into a malloc'd
 * buffer; NULL with an error. */
static uint8_t *read_external(const char *base_dir, const char *location, int64_t offset,
                              int64_t len, const char *what, gos_loc loc, gos_diags *d)
{
	if (!base_dir) {
		gos_error(d, loc, "%s: external data is not allowed here", what);
		return NULL;
	}
	if (!location || !location[0] || location[0] == '/' || strstr(location, "..")) {
		gos_error(d, loc, "%s: external data location '%s' must be a relative path "
		          "inside the model's directory", what, location ? location : "");
		return NULL;
	}
	if (offset < 0 || len < 0) {
		gos_error(d, loc, "%s: negative external data offset or length", what);
		return NULL;
	}
	size_t pn = strlen(base_dir) + strlen(location) + 2;
	char *path = gos_malloc(pn);
	if (!path)
		return NULL;
	snprintf(path, pn, "%s/%s", base_dir, location);
	FILE *f = fopen(path, "rb");
	if (!f) {
		gos_error(d, loc, "%s: cannot open external data file '%s': %s", what, path,
		          strerror(errno));
		free(path);
		return NULL;
	}
	uint8_t *buf = NULL;
	long size = -1;
	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size < 0 || offset > size || len > size - offset) {
		gos_error(d, loc, "%s: external data file '%s' (%ld bytes) has no bytes "
		          "[%lld, %lld)", what, path, size, (long long)offset,
		          (long long)(offset + len));
	} else if (!(buf = gos_malloc((size_t)len + 1))) {
		gos_error(d, loc, "%s: out of memory", what);
	} else if (fseek(f, (long)offset, SEEK_SET) != 0 ||
	           fread(buf, 1, (size_t)len, f) != (size_t)len) {
		gos_error(d, loc, "%s: reading external data file '%s' failed", what, path);
		free(buf);
		buf = NULL;
	}
	fclose(f);
	free(path);
	return buf;
}

/* Allocates t's data (t->numel values, in a or malloc'd); -1 when out of
 * memory. */
static int alloc_data(gos_onnx_tensor *t, gos_arena *a)
{
	if (t->is_float)
		t->f = alloc(a, sizeof(float) * (size_t)t->numel);
	else
		t->i = alloc(a, sizeof(int64_t) * (size_t)t->numel);
	return !t->f && !t->i ? -1 : 0;
}

int gos_onnx_decode_tensor(const Onnx__TensorProto *tp, gos_arena *a, const char *base_dir,
                           const char *what, gos_onnx_tensor *t, gos_loc loc,
                           gos_diags *d)
{
	memset(t, 0, sizeof *t);
	int type = tp->has_data_type ? tp->data_type : 0;
	t->elem_type = type;
	const char *name = tp->name ? tp->name : "";
	t->name = a ? gos_arena_strdup(a, name) : gos_strdup(name);
	if (!t->name)
		goto oom;
	if (tp->n_dims > GOS_MAX_RANK) {
		gos_error(d, loc, "%s: rank %zu is larger than the supported %d", what, tp->n_dims,
		          GOS_MAX_RANK);
		goto fail;
	}
	t->rank = (int)tp->n_dims;
	t->numel = 1;
	for (int k = 0; k < t->rank; k++) {
		int64_t v = tp->dims[k];
		if (v < 0 || v > ONNX_MAX_NUMEL) {
			gos_error(d, loc, "%s: invalid dimension %lld", what, (long long)v);
			goto fail;
		}
		t->shape[k] = v;
		t->numel *= v;
		if (t->numel > ONNX_MAX_NUMEL) {
			gos_error(d, loc, "%s: too many elements", what);
			goto fail;
		}
	}
	int es = elem_size(type);
	if (!es) {
		gos_error(d, loc, "%s: data type %s is not supported", what, gos_onnx_type_name(type));
		goto fail;
	}
	if (tp->segment) {
		gos_error(d, loc, "%s: segmented tensors are not supported", what);
		goto fail;
	}
	t->is_float = type_is_float(type);
	int64_t n = t->numel;
	/* the data is allocated only once the file is known to hold it (a
	 * small file must not make us allocate gigabytes) */

	const uint8_t *raw = NULL;
	uint8_t *ext = NULL;
	size_t raw_len = 0;
	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
		const char *location = NULL;
		int64_t offset = 0, length = n * es;
		for (size_t k = 0; k < tp->n_external_data; k++) {
			const Onnx__StringStringEntryProto *e = tp->external_data[k];
			if (!e->key || !e->value)
				continue;
			char *end;
			if (!strcmp(e->key, "location")) {
				location = e->value;
			} else if (!strcmp(e->key, "offset")) {
				offset = strtoll(e->value, &end, 10);
				if (*end)
					offset = -1;
			} else if (!strcmp(e->key, "length")) {
				length = strtoll(e->value, &end, 10);
				if (*end)
					length = -1;
			}
		}
		if (length != n * es) {
			gos_error(d, loc, "%s: external data length %lld does not match %lld elements "
			          "of %s", what, (long long)length, (long long)n, gos_onnx_type_name(type));
			goto fail;
		}
		ext = read_external(base_dir, location, offset, length, what, loc, d);
		if (!ext)
			goto fail;
		raw = ext;
		raw_len = (size_t)length;
	} else if (tp->has_raw_data) {
		raw = tp->raw_data.data;
		raw_len = tp->raw_data.len;
		if (raw_len != (size_t)(n * es)) {
			gos_error(d, loc, "%s: raw data has %zu bytes, the shape needs %lld (%lld x %s)",
			          what, raw_len, (long long)(n * es), (long long)n,
			          gos_onnx_type_name(type));
			goto fail;
		}
	}
	if (raw) {
		if (alloc_data(t, a)) {
			free(ext);
			goto oom;
		}
		for (int64_t k = 0; k < n; k++) {
			if (t->is_float)
				t->f[k] = (float)raw_float(raw, type, k);
			else
				t->i[k] = raw_int(raw, type, k);
		}
		free(ext);
		return 0;
	}
	/* typed fields */
	size_t have;
	switch (type) {
	case ONNX_FLOAT: have = tp->n_float_data; break;
	case ONNX_DOUBLE: have = tp->n_double_data; break;
	case ONNX_INT64: have = tp->n_int64_data; break;
	case ONNX_UINT32: case ONNX_UINT64: have = tp->n_uint64_data; break;
	default: have = tp->n_int32_data; break;
	}
	if (have != (size_t)n) {
		gos_error(d, loc, "%s: has %zu values, its shape needs %lld", what, have, (long long)n);
		goto fail;
	}
	if (alloc_data(t, a))
		goto oom;
	for (int64_t k = 0; k < n; k++) {
		switch (type) {
		case ONNX_FLOAT: t->f[k] = tp->float_data[k]; break;
		case ONNX_DOUBLE: t->f[k] = (float)tp->double_data[k]; break;
		case ONNX_FLOAT16: t->f[k] = half_to_float((uint16_t)tp->int32_data[k]); break;
		case ONNX_BFLOAT16: t->f[k] = bf16_to_float((uint16_t)tp->int32_data[k]); break;
		case ONNX_INT64: t->i[k] = tp->int64_data[k]; break;
		case ONNX_UINT32: case ONNX_UINT64: t->i[k] = (int64_t)tp->uint64_data[k]; break;
		default: t->i[k] = tp->int32_data[k]; break;
		}
	}
	return 0;
oom:
	gos_error(d, loc, "%s: out of memory", what);
fail:
	if (!a)
		gos_onnx_tensor_free(t);
	else
		memset(t, 0, sizeof *t);
	return -1;
}

/* Directory of path (malloc'd). */
static char *dir_of(const char *path)
{
	const char *s = strrchr(path, '/');
	if (!s)
		return gos_strdup(".");
	size_t n = s == path ? 1 : (size_t)(s - path);
	char *r = gos_malloc(n + 1);
	if (r) {
		memcpy(r, path, n);
		r[n] = 0;
	}
	return r;
}

int gos_onnx_tensor_read(const char *path, gos_onnx_tensor *t, gos_diags *d)
{
	memset(t, 0, sizeof *t);
	size_t len;
	char *bytes = gos_read_file(d, path, &len);
	if (!bytes)
		return -1;
	gos_loc loc = {path, 0, 0};
	if (gos_onnx_check_nesting(bytes, len, &onnx__tensor_proto__descriptor, loc, d)) {
		free(bytes);
		return -1;
	}
	Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&gos_onnx_pb_allocator, len, (const uint8_t *)bytes);
	free(bytes);
	if (!tp) {
		gos_error(d, loc, "not a valid ONNX TensorProto (corrupt or truncated file)");
		return -1;
	}
	char *dir = dir_of(path);
	int rc = gos_onnx_decode_tensor(tp, NULL, dir, "tensor", t, loc, d);
	free(dir);
	onnx__tensor_proto__free_unpacked(tp, &gos_onnx_pb_allocator);
	return rc;
}

#endif
