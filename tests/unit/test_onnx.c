/* test_onnx.c -- the ONNX importer (frontend/onnx) on models encoded by
 * hand in this file (a small protobuf writer, independent of protobuf-c):
 * tensor decoding (typed fields, raw data, float16, external data, size
 * checks), attribute semantics checked against naive C references run on
 * the interpreter (auto_pad, ceil_mode, count_include_pad, Gemm
 * alpha/beta/transA/transB, Softmax before and after opset 13, Clip bounds
 * from initializers), the error messages for unsupported operators and
 * attributes, and robustness: every truncation and many random byte
 * changes of a model give an error or a valid module, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/onnx/onnx.h"

/* ---- a protobuf writer ----------------------------------------------- */

typedef struct pb {
	uint8_t *p;
	size_t n, cap;
} pb;

static void pb_raw(pb *b, const void *data, size_t n)
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

static void pb_varint(pb *b, uint64_t v)
{
	do {
		uint8_t c = v & 0x7f;
		v >>= 7;
		if (v)
			c |= 0x80;
		pb_raw(b, &c, 1);
	} while (v);
}

static void pb_int(pb *b, int field, int64_t v)
{
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, (uint64_t)v);
}

static void pb_bytes(pb *b, int field, const void *data, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, n);
	pb_raw(b, data, n);
}

static void pb_str(pb *b, int field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

/* Appends sub as message field `field` and frees sub. */
static void pb_msg(pb *b, int field, pb *sub)
{
	pb_bytes(b, field, sub->p, sub->n);
	free(sub->p);
	memset(sub, 0, sizeof *sub);
}

static void pb_float(pb *b, int field, float f)
{
	pb_varint(b, (uint64_t)field << 3 | 5);
	pb_raw(b, &f, 4);
}

/* ---- ONNX messages ----------------------------------------------------- */

/* TensorProto: float data (raw_data when raw), dims. */
static void tensor_f32(pb *t, const char *name, int rank, const int64_t *dims, const float *v,
                       int raw)
{
	int64_t n = 1;
	for (int k = 0; k < rank; k++) {
		pb_int(t, 1, dims[k]);
		n *= dims[k];
	}
	pb_int(t, 2, 1);
	pb_str(t, 8, name);
	if (raw)
		pb_bytes(t, 9, v, sizeof(float) * (size_t)n);
	else
		pb_bytes(t, 4, v, sizeof(float) * (size_t)n); /* packed float_data */
}

static void tensor_i64(pb *t, const char *name, int64_t n, const int64_t *v)
{
	pb_int(t, 1, n);
	pb_int(t, 2, 7);
	pb_str(t, 8, name);
	for (int64_t k = 0; k < n; k++)
		pb_int(t, 7, v[k]);
}

/* ValueInfoProto of a float tensor (rank < 0: no shape). */
static void value_info(pb *g, int field, const char *name, int rank, const int64_t *dims)
{
	pb shape = {0}, tt = {0}, tp = {0}, vi = {0};
	for (int k = 0; k < rank; k++) {
		pb dim = {0};
		pb_int(&dim, 1, dims[k]);
		pb_msg(&shape, 1, &dim);
	}
	pb_int(&tt, 1, 1);
	if (rank >= 0)
		pb_msg(&tt, 2, &shape);
	free(shape.p);
	pb_msg(&tp, 1, &tt);
	pb_str(&vi, 1, name);
	pb_msg(&vi, 2, &tp);
	pb_msg(g, field, &vi);
}

/* A node under construction. */
typedef struct node {
	pb b;
} node;

static void node_begin(node *n, const char *op, const char *name, const char *ins,
                       const char *outs)
{
	memset(n, 0, sizeof *n);
	char buf[256];
	/* ins/outs: comma separated; an empty item is an absent input */
	snprintf(buf, sizeof buf, "%s", ins);
	for (char *s = buf, *e;; s = e + 1) {
		e = strchr(s, ',');
		if (e)
			*e = 0;
		if (*s || e)
			pb_str(&n->b, 1, s);
		if (!e)
			break;
	}
	snprintf(buf, sizeof buf, "%s", outs);
	for (char *s = buf, *e;; s = e + 1) {
		e = strchr(s, ',');
		if (e)
			*e = 0;
		pb_str(&n->b, 2, s);
		if (!e)
			break;
	}
	pb_str(&n->b, 3, name);
	pb_str(&n->b, 4, op);
}

static void attr_int(node *n, const char *name, int64_t v)
{
	pb a = {0};
	pb_str(&a, 1, name);
	pb_int(&a, 20, 2);
	pb_int(&a, 3, v);
	pb_msg(&n->b, 5, &a);
}

static void attr_ints(node *n, const char *name, int k, const int64_t *v)
{
	pb a = {0};
	pb_str(&a, 1, name);
	pb_int(&a, 20, 7);
	for (int j = 0; j < k; j++)
		pb_int(&a, 8, v[j]);
	pb_msg(&n->b, 5, &a);
}

static void attr_float(node *n, const char *name, float v)
{
	pb a = {0};
	pb_str(&a, 1, name);
	pb_int(&a, 20, 1);
	pb_float(&a, 2, v);
	pb_msg(&n->b, 5, &a);
}

static void attr_str(node *n, const char *name, const char *v)
{
	pb a = {0};
	pb_str(&a, 1, name);
	pb_int(&a, 20, 3);
	pb_str(&a, 4, v);
	pb_msg(&n->b, 5, &a);
}

/* ModelProto around graph g (freed) with opset. */
static void model(pb *m, pb *g, int opset)
{
	memset(m, 0, sizeof *m);
	pb op = {0};
	pb_int(m, 1, 7);
	pb_str(&op, 1, "");
	pb_int(&op, 2, opset);
	pb_msg(m, 8, &op);
	pb_str(g, 2, "g");
	pb_msg(m, 7, g);
}

static char tmpdir[256];

static char *tmp_path(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static const char *all_messages(const gos_diags *d)
{
	static char buf[4096];
	buf[0] = 0;
	for (int k = 0; k < d->n; k++)
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s\n", d->v[k].msg);
	return buf;
}

/* Loads the model bytes; returns the module (NULL on error, with the
 * messages in *msgs when msgs != NULL). */
static gos_module *load_bytes(const pb *m, gos_onnx_options *opt, char **msgs)
{
	const char *path = tmp_path("model.onnx");
	write_file(path, m->p, m->n);
	gos_diags d;
	gos_diags_init(&d);
	gos_module *mod = gos_onnx_load(path, opt, &d);
	if (msgs)
		*msgs = strdup(all_messages(&d));
	if (!mod && !msgs)
		fprintf(stderr, "load failed:\n%s", all_messages(&d));
	gos_diags_free(&d);
	return mod;
}

/* Runs mod on one input; returns its first output (malloc'd data). */
static gos_tensor run1(gos_module *mod, int rank, const int64_t *shape, float *x)
{
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_verify(mod, &d), 0);
	assert_int_equal(gos_module_materialize(mod, &d), 0);
	gos_tensor in = {rank, {0}, x}, out[4] = {{0}};
	memcpy(in.shape, shape, sizeof(int64_t) * (size_t)rank);
	if (gos_interp_run(mod, &in, out, &d))
		fprintf(stderr, "%s", all_messages(&d));
	assert_non_null(out[0].data);
	for (int k = 1; k < mod->n_output && k < 4; k++)
		free(out[k].data);
	gos_diags_free(&d);
	return out[0];
}

static float frand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((*s >> 40) / (double)(1 << 24)) * 2.0f - 1.0f;
}

static void fill(float *v, int64_t n, uint64_t seed)
{
	for (int64_t k = 0; k < n; k++)
		v[k] = frand(&seed);
}

static void assert_close(const float *got, const float *want, int64_t n)
{
	for (int64_t k = 0; k < n; k++) {
		if (!(fabsf(got[k] - want[k]) <= 1e-5f + 1e-4f * fabsf(want[k]))) {
			fprintf(stderr, "element %lld: got %.9g, want %.9g\n", (long long)k, got[k], want[k]);
			fail();
		}
	}
}

/* ---- tensors ------------------------------------------------------------ */

static void test_tensor_decoding(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	gos_onnx_tensor t;
	/* packed float_data */
	float v[8] = {1, -2, 3.5f, 4, 5, 6, 7, 8};
	pb b = {0};
	tensor_f32(&b, "a", 2, (int64_t[]){2, 3}, v, 0);
	write_file(tmp_path("a.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("a.pb"), &t, &d), 0);
	assert_string_equal(t.name, "a");
	assert_int_equal(t.rank, 2);
	assert_int_equal(t.shape[1], 3);
	assert_int_equal(t.is_float, 1);
	assert_true(t.f[2] == 3.5f && t.f[5] == 6);
	gos_onnx_tensor_free(&t);
	free(b.p);
	/* raw_data */
	memset(&b, 0, sizeof b);
	tensor_f32(&b, "r", 1, (int64_t[]){6}, v, 1);
	write_file(tmp_path("r.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("r.pb"), &t, &d), 0);
	assert_true(t.f[1] == -2);
	gos_onnx_tensor_free(&t);
	/* a raw_data size that does not match the shape is an error */
	pb bad = {0};
	tensor_f32(&bad, "r", 1, (int64_t[]){7}, v, 1);
	write_file(tmp_path("bad.pb"), b.p, b.n - 1); /* truncated */
	assert_int_equal(gos_onnx_tensor_read(tmp_path("bad.pb"), &t, &d), -1);
	write_file(tmp_path("bad.pb"), bad.p, bad.n - 24); /* shape 7 but fewer bytes */
	int n_err = d.n_errors;
	assert_int_equal(gos_onnx_tensor_read(tmp_path("bad.pb"), &t, &d), -1);
	assert_true(d.n_errors > n_err);
	free(b.p);
	free(bad.p);
	/* int64 and float16 (raw) */
	memset(&b, 0, sizeof b);
	tensor_i64(&b, "i", 3, (int64_t[]){-1, 0, 1LL << 40});
	write_file(tmp_path("i.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("i.pb"), &t, &d), 0);
	assert_int_equal(t.is_float, 0);
	assert_true(t.i[0] == -1 && t.i[2] == 1LL << 40);
	gos_onnx_tensor_free(&t);
	free(b.p);
	memset(&b, 0, sizeof b);
	uint16_t h[3] = {0x3c00, 0xc000, 0x3555}; /* 1, -2, 0.333251953125 */
	pb_int(&b, 1, 3);
	pb_int(&b, 2, 10);
	pb_bytes(&b, 9, h, sizeof h);
	write_file(tmp_path("h.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("h.pb"), &t, &d), 0);
	assert_true(t.f[0] == 1.0f && t.f[1] == -2.0f && t.f[2] == 0.333251953125f);
	gos_onnx_tensor_free(&t);
	free(b.p);
	/* external data: bytes [8, 20) of a file beside the tensor */
	float ext[5] = {9, 9, 7, 8, 9};
	write_file(tmp_path("ext.bin"), ext, sizeof ext);
	memset(&b, 0, sizeof b);
	pb_int(&b, 1, 3);
	pb_int(&b, 2, 1);
	const char *kv[3][2] = {{"location", "ext.bin"}, {"offset", "8"}, {"length", "12"}};
	for (int k = 0; k < 3; k++) {
		pb e = {0};
		pb_str(&e, 1, kv[k][0]);
		pb_str(&e, 2, kv[k][1]);
		pb_msg(&b, 13, &e);
	}
	pb_int(&b, 14, 1);
	write_file(tmp_path("e.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("e.pb"), &t, &d), 0);
	assert_true(t.f[0] == 7 && t.f[1] == 8 && t.f[2] == 9);
	gos_onnx_tensor_free(&t);
	/* ... past the end of the file, or escaping the directory: errors */
	free(b.p);
	memset(&b, 0, sizeof b);
	pb_int(&b, 1, 5);
	pb_int(&b, 2, 1);
	const char *kv2[2][2] = {{"location", "ext.bin"}, {"offset", "8"}};
	for (int k = 0; k < 2; k++) {
		pb e = {0};
		pb_str(&e, 1, kv2[k][0]);
		pb_str(&e, 2, kv2[k][1]);
		pb_msg(&b, 13, &e);
	}
	pb_int(&b, 14, 1);
	write_file(tmp_path("e2.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("e2.pb"), &t, &d), -1);
	assert_non_null(strstr(all_messages(&d), "has no bytes"));
	free(b.p);
	memset(&b, 0, sizeof b);
	pb_int(&b, 1, 1);
	pb_int(&b, 2, 1);
	pb e = {0};
	pb_str(&e, 1, "location");
	pb_str(&e, 2, "../etc/passwd");
	pb_msg(&b, 13, &e);
	pb_int(&b, 14, 1);
	write_file(tmp_path("e3.pb"), b.p, b.n);
	assert_int_equal(gos_onnx_tensor_read(tmp_path("e3.pb"), &t, &d), -1);
	assert_non_null(strstr(all_messages(&d), "must be a relative path"));
	free(b.p);
	gos_diags_free(&d);
}

/* ---- semantics against naive references ------------------------------- */

/* Graph: x[in] -> op -> y, with initializers added by the caller. */
typedef struct graph {
	pb g;
} graph;

static void graph_io(graph *G, int rank, const int64_t *xs)
{
	value_info(&G->g, 11, "x", rank, xs);
	value_info(&G->g, 12, "y", -1, NULL);
}

static void add_node(graph *G, node *n)
{
	pb_msg(&G->g, 1, &n->b);
}

static void add_init(graph *G, const char *name, int rank, const int64_t *dims, const float *v)
{
	pb t = {0};
	tensor_f32(&t, name, rank, dims, v, 1);
	pb_msg(&G->g, 5, &t);
}

/* Naive 2-D convolution with explicit padding. */
static void conv_ref(const float *x, int C, int H, int W, const float *w, int K, int R, int S,
                     int sh, int sw, int pt, int pl, int OH, int OW, float *y)
{
	for (int k = 0; k < K; k++)
		for (int p = 0; p < OH; p++)
			for (int q = 0; q < OW; q++) {
				double acc = 0;
				for (int c = 0; c < C; c++)
					for (int r = 0; r < R; r++)
						for (int s = 0; s < S; s++) {
							int h = p * sh + r - pt, ww = q * sw + s - pl;
							if (h >= 0 && h < H && ww >= 0 && ww < W)
								acc += x[(c * H + h) * W + ww] * w[((k * C + c) * R + r) * S + s];
						}
				y[(k * OH + p) * OW + q] = (float)acc;
			}
}

static void test_conv_auto_pad(void **state)
{
	(void)state;
	/* H=7, W=8, kernel 4x3, stride 2x3: outputs 4x3; SAME pads totals
	 * are 3 (H) and 1 (W): begin/end (1, 2) and (0, 1) for SAME_UPPER,
	 * (2, 1) and (1, 0) for SAME_LOWER */
	const char *modes[2] = {"SAME_UPPER", "SAME_LOWER"};
	for (int mode = 0; mode < 2; mode++) {
		graph G = {{0}};
		int64_t xs[4] = {1, 2, 7, 8}, ws[4] = {3, 2, 4, 3};
		float w[72], x[112];
		fill(w, 72, 11);
		fill(x, 112, 12);
		graph_io(&G, 4, xs);
		add_init(&G, "w", 4, ws, w);
		node n;
		node_begin(&n, "Conv", "conv", "x,w", "y");
		attr_str(&n, "auto_pad", modes[mode]);
		attr_ints(&n, "strides", 2, (int64_t[]){2, 3});
		attr_ints(&n, "kernel_shape", 2, (int64_t[]){4, 3});
		add_node(&G, &n);
		pb m;
		model(&m, &G.g, 11);
		gos_module *mod = load_bytes(&m, NULL, NULL);
		assert_non_null(mod);
		gos_tensor y = run1(mod, 4, xs, x);
		assert_int_equal(y.shape[2], 4);
		assert_int_equal(y.shape[3], 3);
		float want[36];
		conv_ref(x, 2, 7, 8, w, 3, 4, 3, 2, 3, mode ? 2 : 1, mode ? 1 : 0, 4, 3, want);
		assert_close(y.data, want, 36);
		free(y.data);
		gos_module_free(mod);
		free(m.p);
	}
}

static void test_pool_ceil_and_count_include_pad(void **state)
{
	(void)state;
	/* H=6, kernel 3, stride 2, pads 1/1, ceil_mode: out = ceil(5/2)+1 = 4,
	 * the last window [5, 8) has one element in X, one in the explicit end
	 * padding and one past it */
	for (int kind = 0; kind < 3; kind++) { /* max, avg cip=0, avg cip=1 */
		graph G = {{0}};
		int64_t xs[4] = {1, 1, 6, 6};
		float x[36];
		fill(x, 36, 21 + kind);
		graph_io(&G, 4, xs);
		node n;
		node_begin(&n, kind ? "AveragePool" : "MaxPool", "pool", "x", "y");
		attr_ints(&n, "kernel_shape", 2, (int64_t[]){3, 3});
		attr_ints(&n, "strides", 2, (int64_t[]){2, 2});
		attr_ints(&n, "pads", 4, (int64_t[]){1, 1, 1, 1});
		attr_int(&n, "ceil_mode", 1);
		if (kind)
			attr_int(&n, "count_include_pad", kind - 1);
		add_node(&G, &n);
		pb m;
		model(&m, &G.g, 12);
		gos_module *mod = load_bytes(&m, NULL, NULL);
		assert_non_null(mod);
		gos_tensor y = run1(mod, 4, xs, x);
		assert_int_equal(y.shape[2], 4);
		assert_int_equal(y.shape[3], 4);
		float want[16];
		for (int p = 0; p < 4; p++)
			for (int q = 0; q < 4; q++) {
				double mx = -INFINITY, sum = 0;
				int inside = 0, padded = 0;
				for (int r = 0; r < 3; r++)
					for (int s = 0; s < 3; s++) {
						int h = 2 * p + r - 1, w = 2 * q + s - 1;
						/* positions in X or in the explicit padding [-1, 7) */
						if (h < 7 && w < 7)
							padded++;
						if (h < 0 || h >= 6 || w < 0 || w >= 6)
							continue;
						inside++;
						sum += x[h * 6 + w];
						mx = fmax(mx, x[h * 6 + w]);
					}
				want[p * 4 + q] = (float)(kind == 0 ? mx : kind == 1 ? sum / inside : sum / padded);
			}
		assert_close(y.data, want, 16);
		free(y.data);
		gos_module_free(mod);
		free(m.p);
	}
}

static void test_gemm_attributes(void **state)
{
	(void)state;
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			graph G = {{0}};
			int M = 3, K = 4, N = 5;
			int64_t as[2] = {ta ? K : M, ta ? M : K}, bs[2] = {tb ? N : K, tb ? K : N};
			int64_t cs[2] = {M, 1};
			float a[12], b[20], c[3];
			fill(a, 12, 31);
			fill(b, 20, 32);
			fill(c, 3, 33);
			graph_io(&G, 2, as);
			add_init(&G, "b", 2, bs, b);
			add_init(&G, "c", 2, cs, c);
			node n;
			node_begin(&n, "Gemm", "gemm", "x,b,c", "y");
			attr_float(&n, "alpha", 0.5f);
			attr_float(&n, "beta", -2.0f);
			attr_int(&n, "transA", ta);
			attr_int(&n, "transB", tb);
			add_node(&G, &n);
			pb m;
			model(&m, &G.g, 13);
			gos_module *mod = load_bytes(&m, NULL, NULL);
			assert_non_null(mod);
			gos_tensor y = run1(mod, 2, as, a);
			float want[15];
			for (int i = 0; i < M; i++)
				for (int j = 0; j < N; j++) {
					double acc = 0;
					for (int k = 0; k < K; k++)
						acc += a[ta ? k * M + i : i * K + k] * b[tb ? j * K + k : k * N + j];
					want[i * N + j] = (float)(0.5 * acc - 2.0 * c[i]);
				}
			assert_close(y.data, want, 15);
			free(y.data);
			gos_module_free(mod);
			free(m.p);
		}
}

static void test_softmax_opset_semantics(void **state)
{
	(void)state;
	/* x[2,3,4], axis 1: opset 11 normalises over the 12 elements of each
	 * batch (input coerced to [2, 12]); opset 13 over the 3 of axis 1 */
	for (int opset = 11; opset <= 13; opset += 2) {
		graph G = {{0}};
		int64_t xs[3] = {2, 3, 4};
		float x[24];
		fill(x, 24, 41);
		graph_io(&G, 3, xs);
		node n;
		node_begin(&n, "Softmax", "sm", "x", "y");
		attr_int(&n, "axis", 1);
		add_node(&G, &n);
		pb m;
		model(&m, &G.g, opset);
		gos_module *mod = load_bytes(&m, NULL, NULL);
		assert_non_null(mod);
		gos_tensor y = run1(mod, 3, xs, x);
		float want[24];
		for (int b = 0; b < 2; b++) {
			if (opset == 11) {
				double z = 0;
				for (int k = 0; k < 12; k++)
					z += exp(x[b * 12 + k]);
				for (int k = 0; k < 12; k++)
					want[b * 12 + k] = (float)(exp(x[b * 12 + k]) / z);
			} else {
				for (int j = 0; j < 4; j++) {
					double z = 0;
					for (int c = 0; c < 3; c++)
						z += exp(x[b * 12 + c * 4 + j]);
					for (int c = 0; c < 3; c++)
						want[b * 12 + c * 4 + j] = (float)(exp(x[b * 12 + c * 4 + j]) / z);
				}
			}
		}
		assert_close(y.data, want, 24);
		free(y.data);
		gos_module_free(mod);
		free(m.p);
	}
}

static void test_clip_bounds_from_initializers(void **state)
{
	(void)state;
	graph G = {{0}};
	int64_t xs[1] = {16};
	float x[16];
	fill(x, 16, 51);
	graph_io(&G, 1, xs);
	add_init(&G, "hi", 0, NULL, (float[]){0.25f});
	node n;
	node_begin(&n, "Clip", "clip", "x,,hi", "y"); /* min absent */
	add_node(&G, &n);
	pb m;
	model(&m, &G.g, 13);
	gos_module *mod = load_bytes(&m, NULL, NULL);
	assert_non_null(mod);
	gos_tensor y = run1(mod, 1, xs, x);
	float want[16];
	for (int k = 0; k < 16; k++)
		want[k] = fminf(x[k], 0.25f);
	assert_close(y.data, want, 16);
	free(y.data);
	gos_module_free(mod);
	free(m.p);
}

/* ---- errors ------------------------------------------------------------ */

static void test_unsupported_operator_and_attribute(void **state)
{
	(void)state;
	int64_t xs[2] = {2, 3};
	/* an unknown operator */
	graph G = {{0}};
	graph_io(&G, 2, xs);
	node n;
	node_begin(&n, "FooBar", "weird_node", "x", "y");
	add_node(&G, &n);
	pb m;
	model(&m, &G.g, 13);
	gos_onnx_options opt;
	memset(&opt, 0, sizeof opt);
	char *msgs;
	assert_null(load_bytes(&m, &opt, &msgs));
	assert_int_equal(opt.unsupported, 1);
	assert_non_null(strstr(msgs, "node 'weird_node' (FooBar): operator FooBar is not supported"));
	free(msgs);
	free(m.p);
	/* an attribute the mapping does not know */
	memset(&G, 0, sizeof G);
	graph_io(&G, 2, xs);
	node_begin(&n, "Relu", "r1", "x", "y");
	attr_int(&n, "frobnicate", 3);
	add_node(&G, &n);
	model(&m, &G.g, 13);
	assert_null(load_bytes(&m, &opt, &msgs));
	assert_int_equal(opt.unsupported, 1);
	assert_non_null(strstr(msgs, "node 'r1' (Relu): attribute 'frobnicate' is not supported"));
	free(msgs);
	free(m.p);
	/* an attribute value the mapping does not support */
	memset(&G, 0, sizeof G);
	graph_io(&G, 2, xs);
	node_begin(&n, "Pad", "p1", "x", "y");
	attr_str(&n, "mode", "wrap");
	attr_ints(&n, "pads", 4, (int64_t[]){0, 1, 0, 1});
	add_node(&G, &n);
	model(&m, &G.g, 10);
	assert_null(load_bytes(&m, &opt, &msgs));
	assert_non_null(strstr(msgs, "node 'p1' (Pad): attribute 'mode' = \"wrap\" is not supported"));
	free(msgs);
	free(m.p);
	/* a shape that must be constant but is a graph input: need_const */
	memset(&G, 0, sizeof G);
	graph_io(&G, 2, xs);
	pb tp = {0}, tt = {0}, shape = {0}, dim = {0}, vi = {0};
	pb_int(&dim, 1, 1);
	pb_msg(&shape, 1, &dim);
	pb_int(&tt, 1, 7);
	pb_msg(&tt, 2, &shape);
	pb_msg(&tp, 1, &tt);
	pb_str(&vi, 1, "shape");
	pb_msg(&vi, 2, &tp);
	pb_msg(&G.g, 11, &vi);
	node_begin(&n, "Reshape", "rs", "x,shape", "y");
	add_node(&G, &n);
	model(&m, &G.g, 13);
	assert_null(load_bytes(&m, &opt, &msgs));
	assert_string_equal(opt.need_const, "shape");
	free(msgs);
	/* ... and bound to a value it imports */
	gos_onnx_tensor bind = {0};
	bind.name = "shape";
	bind.elem_type = 7;
	bind.rank = 1;
	bind.shape[0] = 1;
	bind.numel = 1;
	int64_t six = 6;
	bind.i = &six;
	opt.bind = &bind;
	opt.n_bind = 1;
	gos_module *mod = load_bytes(&m, &opt, NULL);
	assert_non_null(mod);
	assert_int_equal(mod->vals[mod->outputs[0]].rank, 1);
	assert_int_equal(mod->vals[mod->outputs[0]].shape[0], 6);
	assert_string_equal(mod->vals[mod->outputs[0]].name, "y");
	gos_module_free(mod);
	free(m.p);
}

/* A small valid model: Conv + Relu + Gemm with initializers. */
static void sample_model(pb *m)
{
	graph G = {{0}};
	int64_t xs[4] = {1, 2, 5, 5};
	float w[12], fw[60], fb[2];
	fill(w, 12, 61);
	fill(fw, 60, 62);
	fill(fb, 2, 63);
	graph_io(&G, 4, xs);
	add_init(&G, "w", 4, (int64_t[]){2, 2, 1, 3}, w);
	add_init(&G, "fw", 2, (int64_t[]){2, 30}, fw);
	add_init(&G, "fb", 1, (int64_t[]){2}, fb);
	node n;
	node_begin(&n, "Conv", "conv", "x,w", "h");
	attr_ints(&n, "pads", 4, (int64_t[]){0, 0, 0, 0});
	add_node(&G, &n);
	node_begin(&n, "Relu", "relu", "h", "r");
	add_node(&G, &n);
	node_begin(&n, "Flatten", "flat", "r", "f");
	add_node(&G, &n);
	node_begin(&n, "Gemm", "fc", "f,fw,fb", "y");
	attr_int(&n, "transB", 1);
	add_node(&G, &n);
	model(m, &G.g, 13);
}

static void test_corrupt_files_never_crash(void **state)
{
	(void)state;
	pb m;
	sample_model(&m);
	gos_module *mod = load_bytes(&m, NULL, NULL);
	assert_non_null(mod); /* the intact model imports */
	gos_module_free(mod);
	const char *path = tmp_path("cut.onnx");
	int failed = 0;
	/* every truncation */
	for (size_t len = 0; len < m.n; len++) {
		write_file(path, m.p, len);
		gos_diags d;
		gos_diags_init(&d);
		gos_module *t = gos_onnx_load(path, NULL, &d);
		if (!t) {
			assert_true(d.n_errors > 0);
			failed++;
		}
		gos_module_free(t);
		gos_diags_free(&d);
	}
	assert_true(failed > (int)m.n / 2);
	/* random byte changes and random files */
	uint64_t seed = 77;
	uint8_t *buf = malloc(m.n);
	for (int round = 0; round < 400; round++) {
		memcpy(buf, m.p, m.n);
		int changes = 1 + round % 4;
		for (int k = 0; k < changes; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			buf[(seed >> 33) % m.n] = (uint8_t)(seed >> 17);
		}
		size_t len = round < 350 ? m.n : (size_t)((seed >> 20) % m.n);
		if (round >= 380)
			for (size_t k = 0; k < len; k++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				buf[k] = (uint8_t)(seed >> 29);
			}
		write_file(path, buf, len);
		gos_diags d;
		gos_diags_init(&d);
		gos_module *t = gos_onnx_load(path, NULL, &d);
		if (t) {
			assert_int_equal(gos_verify(t, &d), 0);
		} else {
			assert_true(d.n_errors > 0);
		}
		gos_module_free(t);
		gos_diags_free(&d);
	}
	free(buf);
	free(m.p);
}

static void test_names_and_outputs(void **state)
{
	(void)state;
	/* graph outputs keep their names, also when one is an input or an
	 * initializer passed through Identity */
	graph G = {{0}};
	int64_t xs[2] = {2, 2};
	value_info(&G.g, 11, "x:0", 2, xs);
	value_info(&G.g, 12, "out/a", -1, NULL);
	value_info(&G.g, 12, "out/b", -1, NULL);
	add_init(&G, "k", 2, xs, (float[]){1, 2, 3, 4});
	node n;
	node_begin(&n, "Identity", "id", "x:0", "out/a");
	add_node(&G, &n);
	node_begin(&n, "Identity", "id2", "k", "out/b");
	add_node(&G, &n);
	pb m;
	model(&m, &G.g, 16);
	gos_module *mod = load_bytes(&m, NULL, NULL);
	assert_non_null(mod);
	assert_int_equal(mod->n_output, 2);
	assert_string_equal(mod->vals[mod->outputs[0]].name, "out/a");
	assert_string_equal(mod->vals[mod->outputs[1]].name, "out/b");
	int in = gos_module_find_value(mod, "x:0");
	assert_true(in >= 0 && mod->vals[in].kind == GOS_VAL_INPUT);
	gos_tensor y = run1(mod, 2, xs, (float[]){5, 6, 7, 8});
	assert_true(y.data[0] == 5 && y.data[3] == 8);
	free(y.data);
	gos_module_free(mod);
	free(m.p);
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/gos-test-onnx-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	const char *files[] = {"a.pb", "r.pb", "bad.pb", "i.pb", "h.pb", "ext.bin", "e.pb", "e2.pb",
	                       "e3.pb", "model.onnx", "cut.onnx"};
	for (size_t k = 0; k < sizeof files / sizeof *files; k++)
		remove(tmp_path(files[k]));
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	if (!gos_onnx_available()) {
		printf("built without ONNX support: skipped\n");
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tensor_decoding),
		cmocka_unit_test(test_conv_auto_pad),
		cmocka_unit_test(test_pool_ceil_and_count_include_pad),
		cmocka_unit_test(test_gemm_attributes),
		cmocka_unit_test(test_softmax_opset_semantics),
		cmocka_unit_test(test_clip_bounds_from_initializers),
		cmocka_unit_test(test_unsupported_operator_and_attribute),
		cmocka_unit_test(test_names_and_outputs),
		cmocka_unit_test(test_corrupt_files_never_crash),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
