/* export.c -- a module as an ONNX ModelProto (opset 17) through the
 * protobuf-c code generated from Debian's onnx.proto. All protobuf
 * structures live in one arena; protobuf-c only packs them. */
#include "backends/onnx/export.h"
#include "support/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef GOS_HAVE_ONNX

int gos_onnx_export(gos_module *m, char **buf, size_t *len, gos_diags *d)
{
	(void)m;
	*buf = NULL;
	*len = 0;
	gos_error(d, (gos_loc){0}, "gosc was built without ONNX support (needs protobuf-c and libonnx-dev)");
	return -1;
}

#else

#include "onnx.pb-c.h"

#define OPSET 17
#define MAXN 32

typedef struct ex {
	gos_arena *a;
	gos_diags *d;
	gos_module *m;
	Onnx__NodeProto **nodes;
	int n_nodes, cap_nodes;
	Onnx__TensorProto **inits;
	int n_inits, cap_inits;
	int n_tmp;
} ex;

static Onnx__TensorProto *tensor(ex *x, const char *name, int rank, const int64_t *shape)
{
	Onnx__TensorProto *t = GOS_NEW(x->a, Onnx__TensorProto);
	onnx__tensor_proto__init(t);
	t->name = gos_arena_strdup(x->a, name);
	t->n_dims = (size_t)rank;
	t->dims = rank ? gos_arena_memdup(x->a, shape, sizeof(int64_t) * (size_t)rank) : NULL;
	t->has_data_type = 1;
	x->inits = gos_arena_grow(x->a, x->inits, x->n_inits, &x->cap_inits, sizeof *x->inits);
	x->inits[x->n_inits++] = t;
	return t;
}

static void float_init(ex *x, const char *name, int rank, const int64_t *shape, const float *data)
{
	Onnx__TensorProto *t = tensor(x, name, rank, shape);
	int64_t n = gos_numel(rank, shape);
	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	t->has_raw_data = 1;
	t->raw_data.len = sizeof(float) * (size_t)n;
	t->raw_data.data = (uint8_t *)data; /* little-endian host */
}

/* A new int64 constant initializer of the given values (rank 1). */
static const char *int_const(ex *x, const int64_t *v, int n)
{
	const char *name = gos_arena_printf(x->a, "gos_const_%d", x->n_tmp++);
	int64_t dim = n;
	Onnx__TensorProto *t = tensor(x, name, 1, &dim);
	t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
	t->n_int64_data = (size_t)n;
	t->int64_data = gos_arena_memdup(x->a, v, sizeof *v * (size_t)(n ? n : 1));
	return name;
}

/* A new float scalar constant. */
static const char *float_const(ex *x, float v)
{
	const char *name = gos_arena_printf(x->a, "gos_const_%d", x->n_tmp++);
	float *d = GOS_NEW(x->a, float);
	*d = v;
	float_init(x, name, 0, NULL, d);
	return name;
}

static Onnx__NodeProto *node(ex *x, const char *op, const char *name, int nin, const char **in,
                             const char *out)
{
	Onnx__NodeProto *n = GOS_NEW(x->a, Onnx__NodeProto);
	onnx__node_proto__init(n);
	n->op_type = gos_arena_strdup(x->a, op);
	n->name = gos_arena_strdup(x->a, name);
	n->n_input = (size_t)nin;
	n->input = GOS_NEWN(x->a, char *, nin ? nin : 1);
	for (int i = 0; i < nin; i++)
		n->input[i] = gos_arena_strdup(x->a, in[i]);
	n->n_output = 1;
	n->output = GOS_NEWN(x->a, char *, 1);
	n->output[0] = gos_arena_strdup(x->a, out);
	x->nodes = gos_arena_grow(x->a, x->nodes, x->n_nodes, &x->cap_nodes, sizeof *x->nodes);
	x->nodes[x->n_nodes++] = n;
	return n;
}

static Onnx__AttributeProto *attr(ex *x, Onnx__NodeProto *n, const char *name)
{
	Onnx__AttributeProto *a = GOS_NEW(x->a, Onnx__AttributeProto);
	onnx__attribute_proto__init(a);
	a->name = gos_arena_strdup(x->a, name);
	a->has_type = 1;
	Onnx__AttributeProto **nv = GOS_NEWN(x->a, Onnx__AttributeProto *, n->n_attribute + 1);
	if (n->n_attribute)
		memcpy(nv, n->attribute, sizeof *nv * n->n_attribute);
	nv[n->n_attribute++] = a;
	n->attribute = nv;
	return a;
}

static void attr_i(ex *x, Onnx__NodeProto *n, const char *name, int64_t v)
{
	Onnx__AttributeProto *a = attr(x, n, name);
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
	a->has_i = 1;
	a->i = v;
}

static void attr_f(ex *x, Onnx__NodeProto *n, const char *name, double v)
{
	Onnx__AttributeProto *a = attr(x, n, name);
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
	a->has_f = 1;
	a->f = (float)v;
}

static void attr_ints(ex *x, Onnx__NodeProto *n, const char *name, const int64_t *v, int k)
{
	Onnx__AttributeProto *a = attr(x, n, name);
	a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
	a->n_ints = (size_t)k;
	a->ints = gos_arena_memdup(x->a, v, sizeof *v * (size_t)(k ? k : 1));
}

/* Attribute `name` of node n, or NULL. */
static const gos_attr *get(const gos_node *n, const char *name)
{
	for (int i = 0; i < n->n_attr; i++)
		if (n->attr[i].name && !strcmp(n->attr[i].name, name))
			return &n->attr[i];
	return NULL;
}

/* Element k of attribute name (a one-element list gives that element for
 * every k, as in the language); dflt when absent. */
static double at(const gos_node *n, const char *name, int k, double dflt)
{
	const gos_attr *a = get(n, name);
	if (!a || a->n == 0)
		return dflt;
	if (k < 0)
		k += a->n;
	return a->n == 1 ? a->v[0] : (k >= 0 && k < a->n ? a->v[k] : dflt);
}

static void spatial(ex *x, Onnx__NodeProto *o, const gos_node *n, int sd, int kernel_attr, int dil)
{
	int64_t v[MAXN];
	if (kernel_attr) {
		for (int i = 0; i < sd; i++)
			v[i] = (int64_t)at(n, "kernel", i, 1);
		attr_ints(x, o, "kernel_shape", v, sd);
	}
	for (int i = 0; i < sd; i++)
		v[i] = (int64_t)at(n, "stride", i, kernel_attr ? at(n, "kernel", i, 1) : 1);
	attr_ints(x, o, "strides", v, sd);
	for (int i = 0; i < 2 * sd; i++)
		v[i] = (int64_t)at(n, "pad", i, 0);
	attr_ints(x, o, "pads", v, 2 * sd);
	if (dil) {
		for (int i = 0; i < sd; i++)
			v[i] = (int64_t)at(n, "dilation", i, 1);
		attr_ints(x, o, "dilations", v, sd);
	}
}

static const char *vname(ex *x, int v) { return x->m->vals[v].name; }

static int export_node(ex *x, const gos_node *n)
{
	const char *op = n->op;
	const char *in[8];
	for (int i = 0; i < n->n_in && i < 8; i++)
		in[i] = vname(x, n->in[i]);
	const char *out = vname(x, n->out[0]);
	const char *nm = n->name;
	if (n->n_out != 1)
		goto unsupported;
	static const struct { const char *gos, *onnx; } same[] = {
		{"relu", "Relu"}, {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"hard_swish", "HardSwish"},
		{"add", "Add"}, {"sub", "Sub"}, {"mul", "Mul"}, {"div", "Div"}, {"matmul", "MatMul"},
		{"global_avgpool", "GlobalAveragePool"}, {"global_maxpool", "GlobalMaxPool"}};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		if (!strcmp(op, same[i].gos)) {
			node(x, same[i].onnx, nm, n->n_in, in, out);
			return 0;
		}
	if (!strcmp(op, "conv1d") || !strcmp(op, "conv2d")) {
		Onnx__NodeProto *o = node(x, "Conv", nm, n->n_in, in, out);
		int sd = op[4] == '1' ? 1 : 2;
		spatial(x, o, n, sd, 0, 1);
		attr_i(x, o, "group", (int64_t)at(n, "groups", 0, 1));
		return 0;
	}
	if (!strcmp(op, "maxpool1d") || !strcmp(op, "maxpool2d") || !strcmp(op, "avgpool1d") ||
	    !strcmp(op, "avgpool2d")) {
		int maxp = op[1] == 'a', sd = op[7] == '1' ? 1 : 2;
		Onnx__NodeProto *o = node(x, maxp ? "MaxPool" : "AveragePool", nm, 1, in, out);
		spatial(x, o, n, sd, 1, maxp);
		if (!maxp)
			attr_i(x, o, "count_include_pad", (int64_t)at(n, "count_include_pad", 0, 0));
		return 0;
	}
	if (!strcmp(op, "dense")) {
		Onnx__NodeProto *o = node(x, "Gemm", nm, n->n_in, in, out);
		attr_i(x, o, "transB", 1);
		return 0;
	}
	if (!strcmp(op, "batchnorm")) {
		Onnx__NodeProto *o = node(x, "BatchNormalization", nm, n->n_in, in, out);
		attr_f(x, o, "epsilon", at(n, "eps", 0, 1e-5));
		return 0;
	}
	if (!strcmp(op, "relu6") || !strcmp(op, "clip")) {
		int r6 = op[1] == 'e';
		const char *a3[3] = {in[0], float_const(x, r6 ? 0.0f : (float)at(n, "lo", 0, -INFINITY)),
		                     float_const(x, r6 ? 6.0f : (float)at(n, "hi", 0, INFINITY))};
		node(x, "Clip", nm, 3, a3, out);
		return 0;
	}
	if (!strcmp(op, "hard_sigmoid") || !strcmp(op, "leaky_relu")) {
		int hs = op[0] == 'h';
		Onnx__NodeProto *o = node(x, hs ? "HardSigmoid" : "LeakyRelu", nm, 1, in, out);
		attr_f(x, o, "alpha", at(n, "alpha", 0, hs ? 0.2 : 0.01));
		if (hs)
			attr_f(x, o, "beta", at(n, "beta", 0, 0.5));
		return 0;
	}
	if (!strcmp(op, "gelu")) {
		/* 0.5 x (1 + erf(x / sqrt 2)) with opset-17 operators */
		const char *t1 = gos_arena_printf(x->a, "%s.gelu_div", out);
		const char *t2 = gos_arena_printf(x->a, "%s.gelu_erf", out);
		const char *t3 = gos_arena_printf(x->a, "%s.gelu_add", out);
		const char *t4 = gos_arena_printf(x->a, "%s.gelu_mul", out);
		const char *a[2] = {in[0], float_const(x, 1.4142135623730951f)};
		node(x, "Div", t1, 2, a, t1);
		node(x, "Erf", t2, 1, &t1, t2);
		const char *b[2] = {t2, float_const(x, 1.0f)};
		node(x, "Add", t3, 2, b, t3);
		const char *c[2] = {in[0], t3};
		node(x, "Mul", t4, 2, c, t4);
		const char *e[2] = {t4, float_const(x, 0.5f)};
		node(x, "Mul", nm, 2, e, out);
		return 0;
	}
	if (!strcmp(op, "concat") || !strcmp(op, "flatten") || !strcmp(op, "softmax")) {
		const char *t = op[0] == 'c' ? "Concat" : op[0] == 'f' ? "Flatten" : "Softmax";
		Onnx__NodeProto *o = node(x, t, nm, n->n_in, in, out);
		attr_i(x, o, "axis", (int64_t)at(n, "axis", 0, op[0] == 's' ? -1 : 1));
		return 0;
	}
	if (!strcmp(op, "transpose")) {
		const gos_attr *p = get(n, "perm");
		int64_t v[MAXN];
		for (int i = 0; p && i < p->n && i < MAXN; i++)
			v[i] = (int64_t)p->v[i];
		Onnx__NodeProto *o = node(x, "Transpose", nm, 1, in, out);
		attr_ints(x, o, "perm", v, p ? p->n : 0);
		return 0;
	}
	if (!strcmp(op, "reshape")) {
		const gos_value *y = &x->m->vals[n->out[0]];
		const char *a[2] = {in[0], int_const(x, y->shape, y->rank)};
		node(x, "Reshape", nm, 2, a, out);
		return 0;
	}
	if (!strcmp(op, "pad")) {
		int64_t v[8];
		for (int i = 0; i < 8; i++)
			v[i] = (int64_t)at(n, "pads", i, 0);
		const char *a[3] = {in[0], int_const(x, v, 8), float_const(x, (float)at(n, "value", 0, 0))};
		Onnx__NodeProto *o = node(x, "Pad", nm, 3, a, out);
		(void)o;
		return 0;
	}
	if (!strcmp(op, "reduce_mean")) {
		int64_t axis = (int64_t)at(n, "axis", 0, 0);
		Onnx__NodeProto *o = node(x, "ReduceMean", nm, 1, in, out);
		attr_ints(x, o, "axes", &axis, 1);
		attr_i(x, o, "keepdims", (int64_t)at(n, "keepdims", 0, 1));
		return 0;
	}
unsupported:
	gos_error(x->d, n->loc, "cannot export node '%s' to ONNX: operator '%s' has no ONNX equivalent", n->name, op);
	return -1;
}

static Onnx__ValueInfoProto *value_info(ex *x, const gos_value *v)
{
	Onnx__ValueInfoProto *vi = GOS_NEW(x->a, Onnx__ValueInfoProto);
	onnx__value_info_proto__init(vi);
	vi->name = gos_arena_strdup(x->a, v->name);
	Onnx__TypeProto *tp = GOS_NEW(x->a, Onnx__TypeProto);
	onnx__type_proto__init(tp);
	Onnx__TypeProto__Tensor *tt = GOS_NEW(x->a, Onnx__TypeProto__Tensor);
	onnx__type_proto__tensor__init(tt);
	tt->has_elem_type = 1;
	tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
	Onnx__TensorShapeProto *sh = GOS_NEW(x->a, Onnx__TensorShapeProto);
	onnx__tensor_shape_proto__init(sh);
	sh->n_dim = (size_t)v->rank;
	sh->dim = GOS_NEWN(x->a, Onnx__TensorShapeProto__Dimension *, v->rank ? v->rank : 1);
	for (int i = 0; i < v->rank; i++) {
		Onnx__TensorShapeProto__Dimension *dm = GOS_NEW(x->a, Onnx__TensorShapeProto__Dimension);
		onnx__tensor_shape_proto__dimension__init(dm);
		dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
		dm->dim_value = v->shape[i];
		sh->dim[i] = dm;
	}
	tt->shape = sh;
	tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
	tp->tensor_type = tt;
	vi->type = tp;
	return vi;
}

int gos_onnx_export(gos_module *m, char **buf, size_t *len, gos_diags *d)
{
	*buf = NULL;
	*len = 0;
	if (gos_module_materialize(m, d))
		return -1;
	ex x;
	memset(&x, 0, sizeof x);
	x.a = gos_arena_new();
	x.d = d;
	x.m = m;
	if (!x.a)
		return -1;
	int rc = 0;
	for (int i = 0; i < m->n_node && !rc; i++)
		rc = export_node(&x, &m->nodes[i]);
	if (rc) {
		gos_arena_free(x.a);
		return -1;
	}
	Onnx__GraphProto g;
	onnx__graph_proto__init(&g);
	g.name = gos_arena_strdup(x.a, m->name ? m->name : "model");
	int ni = 0;
	for (int i = 0; i < m->n_val; i++)
		ni += m->vals[i].kind == GOS_VAL_INPUT;
	g.input = GOS_NEWN(x.a, Onnx__ValueInfoProto *, ni ? ni : 1);
	for (int i = 0; i < m->n_val; i++) {
		const gos_value *v = &m->vals[i];
		if (v->kind == GOS_VAL_INPUT)
			g.input[g.n_input++] = value_info(&x, v);
		else if (v->kind == GOS_VAL_WEIGHT)
			float_init(&x, v->name, v->rank, v->shape, v->data);
	}
	g.n_output = (size_t)m->n_output;
	g.output = GOS_NEWN(x.a, Onnx__ValueInfoProto *, m->n_output ? m->n_output : 1);
	for (int i = 0; i < m->n_output; i++)
		g.output[i] = value_info(&x, &m->vals[m->outputs[i]]);
	g.n_node = (size_t)x.n_nodes;
	g.node = x.nodes;
	g.n_initializer = (size_t)x.n_inits;
	g.initializer = x.inits;
	Onnx__OperatorSetIdProto os;
	onnx__operator_set_id_proto__init(&os);
	os.domain = "";
	os.has_version = 1;
	os.version = OPSET;
	Onnx__OperatorSetIdProto *osp = &os;
	Onnx__ModelProto mp;
	onnx__model_proto__init(&mp);
	mp.has_ir_version = 1;
	mp.ir_version = 8;
	mp.producer_name = "gosc";
	mp.n_opset_import = 1;
	mp.opset_import = &osp;
	mp.graph = &g;
	size_t n = onnx__model_proto__get_packed_size(&mp);
	uint8_t *out = gos_malloc(n ? n : 1);
	if (!out) {
		gos_arena_free(x.a);
		gos_error(d, (gos_loc){0}, "out of memory");
		return -1;
	}
	onnx__model_proto__pack(&mp, out);
	*buf = (char *)out;
	*len = n;
	gos_arena_free(x.a);
	return 0;
}

#endif
