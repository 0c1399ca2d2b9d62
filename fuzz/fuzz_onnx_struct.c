/* fuzz_onnx_struct.c -- structure-aware ONNX fuzzing: the input goes
 * through the same readers as fuzz_onnx.c, but LLVMFuzzerCustomMutator
 * decodes a valid ModelProto (protobuf-c), applies a few mutations that a
 * byte-level mutator rarely produces -- input dimensions set to 0, 1,
 * -1, 2^40 or INT64_MAX or made symbolic; integer and float attributes
 * and attribute types changed; node inputs pointed at missing values
 * (dangling), at the node's own or a later node's outputs (cycles),
 * emptied; nodes swapped, duplicated or dropped; initializer dimensions
 * changed against their data -- and re-encodes it. Inputs that do not
 * decode get libFuzzer's byte mutations. */
#include "fuzz/fuzz_onnx.c"

#if GOS_HAVE_ONNX
#include "onnx.pb-c.h"

#include <stdlib.h>
#include <string.h>

/* libFuzzer's byte mutator; weak so that the replay driver (regress.c),
 * which never mutates, links without libFuzzer. */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size) __attribute__((weak));

static size_t byte_mutate(uint8_t *data, size_t size, size_t max_size)
{
	return LLVMFuzzerMutate ? LLVMFuzzerMutate(data, size, max_size) : size;
}

/* Undo log: the bytes each mutation overwrote inside the decoded message,
 * put back before protobuf-c frees it (so that pointers it frees are the
 * ones it allocated, each once). */
enum { MAX_UNDO = 64 };
typedef struct undo {
	void *at;
	size_t n;
	unsigned char old[16];
} undo;
static undo log_[MAX_UNDO];
static int n_log;

/* Overwrites n (<= 16) bytes at p with v, logging the old bytes. */
static int set(void *p, const void *v, size_t n)
{
	if (n_log == MAX_UNDO || n > sizeof log_[0].old)
		return 0;
	undo *u = &log_[n_log++];
	u->at = p;
	u->n = n;
	memcpy(u->old, p, n);
	memcpy(p, v, n);
	return 1;
}

static void restore(void)
{
	while (n_log > 0) {
		undo *u = &log_[--n_log];
		memcpy(u->at, u->old, u->n);
	}
}

static uint64_t rng;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}
static size_t pick(size_t n) { return n ? (size_t)(next() % n) : 0; }

static const int64_t odd_dims[] = {0, 1, -1, 2, 3, 1 << 20, (int64_t)1 << 40, INT64_MAX,
                                   INT64_MIN, 7};
static char *dangling = "no_such_value";
static char *sym = "N";

/* One mutation of graph g (may do nothing when g lacks what it needs). */
static void mutate_graph(Onnx__GraphProto *g)
{
	switch (pick(9)) {
	case 0: { /* an input dimension */
		if (!g->n_input)
			return;
		Onnx__ValueInfoProto *vi = g->input[pick(g->n_input)];
		if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
		    !vi->type->tensor_type->shape || !vi->type->tensor_type->shape->n_dim)
			return;
		Onnx__TensorShapeProto *s = vi->type->tensor_type->shape;
		Onnx__TensorShapeProto__Dimension *dm = s->dim[pick(s->n_dim)];
		Onnx__TensorShapeProto__Dimension nd = *dm;
		if (pick(4) == 0) {
			nd.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
			nd.dim_param = sym;
		} else {
			nd.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
			nd.dim_value = odd_dims[pick(sizeof odd_dims / sizeof *odd_dims)];
		}
		set(&dm->value_case, &nd.value_case, sizeof nd.value_case);
		set(&dm->dim_value, &nd.dim_value, sizeof nd.dim_value);
		return;
	}
	case 1: { /* the rank of an input: fewer dimensions */
		if (!g->n_input)
			return;
		Onnx__ValueInfoProto *vi = g->input[pick(g->n_input)];
		if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
		    !vi->type->tensor_type->shape || !vi->type->tensor_type->shape->n_dim)
			return;
		size_t n = pick(vi->type->tensor_type->shape->n_dim);
		set(&vi->type->tensor_type->shape->n_dim, &n, sizeof n);
		return;
	}
	case 2: { /* an integer or float attribute, or its type */
		if (!g->n_node)
			return;
		Onnx__NodeProto *nd = g->node[pick(g->n_node)];
		if (!nd->n_attribute)
			return;
		Onnx__AttributeProto *a = nd->attribute[pick(nd->n_attribute)];
		int64_t v = odd_dims[pick(sizeof odd_dims / sizeof *odd_dims)];
		if (a->n_ints) {
			set(&a->ints[pick(a->n_ints)], &v, sizeof v);
		} else if (a->has_i) {
			set(&a->i, &v, sizeof v);
		} else if (a->has_f) {
			static const float fs[] = {0.0f, -1.0f, 1e30f, -1e-30f, __builtin_nanf("")};
			set(&a->f, &fs[pick(5)], sizeof(float));
		} else if (a->n_floats) {
			float f = 1e38f;
			set(&a->floats[pick(a->n_floats)], &f, sizeof f);
		}
		if (pick(4) == 0) {
			Onnx__AttributeProto__AttributeType t = (Onnx__AttributeProto__AttributeType)pick(15);
			set(&a->type, &t, sizeof t);
		}
		if (a->n_ints && pick(3) == 0) { /* fewer elements */
			size_t n = pick(a->n_ints);
			set(&a->n_ints, &n, sizeof n);
		}
		return;
	}
	case 3: { /* a node input becomes dangling, a cycle, or absent */
		if (!g->n_node)
			return;
		size_t i = pick(g->n_node);
		Onnx__NodeProto *nd = g->node[i];
		if (!nd->n_input)
			return;
		char **slot = &nd->input[pick(nd->n_input)];
		char *v = dangling;
		size_t j = i + pick(g->n_node - i); /* this node or a later one */
		if (pick(3) && g->node[j]->n_output)
			v = g->node[j]->output[pick(g->node[j]->n_output)];
		else if (pick(2))
			v = "";
		set(slot, &v, sizeof v);
		return;
	}
	case 4: { /* two nodes swap (use before definition) */
		if (g->n_node < 2)
			return;
		size_t a = pick(g->n_node), b = pick(g->n_node);
		Onnx__NodeProto *na = g->node[a], *nb = g->node[b];
		set(&g->node[a], &nb, sizeof nb);
		set(&g->node[b], &na, sizeof na);
		return;
	}
	case 5: { /* drop the last nodes */
		size_t n = pick(g->n_node);
		set(&g->n_node, &n, sizeof n);
		return;
	}
	case 6: { /* an initializer's dimensions disagree with its data */
		if (!g->n_initializer)
			return;
		Onnx__TensorProto *t = g->initializer[pick(g->n_initializer)];
		if (t->n_dims) {
			int64_t v = odd_dims[pick(sizeof odd_dims / sizeof *odd_dims)];
			set(&t->dims[pick(t->n_dims)], &v, sizeof v);
		}
		if (pick(3) == 0) {
			size_t n = pick(t->n_dims + 1);
			set(&t->n_dims, &n, sizeof n);
		}
		if (pick(4) == 0) {
			int32_t dt = (int32_t)pick(20);
			set(&t->data_type, &dt, sizeof dt);
		}
		return;
	}
	case 7: { /* a graph output names a missing value or a graph input */
		if (!g->n_output)
			return;
		Onnx__ValueInfoProto *vi = g->output[pick(g->n_output)];
		char *v = g->n_input && pick(2) ? g->input[pick(g->n_input)]->name : dangling;
		set(&vi->name, &v, sizeof v);
		return;
	}
	default: { /* a node's op type becomes another node's */
		if (g->n_node < 2)
			return;
		Onnx__NodeProto *a = g->node[pick(g->n_node)], *b = g->node[pick(g->n_node)];
		set(&a->op_type, &b->op_type, sizeof b->op_type);
		return;
	}
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
	if (!mp || !mp->graph) {
		if (mp)
			onnx__model_proto__free_unpacked(mp, NULL);
		return byte_mutate(data, size, max_size);
	}
	rng = (uint64_t)seed * 0x9e3779b97f4a7c15u + 1;
	int k = 1 + (int)pick(3);
	for (int i = 0; i < k; i++)
		mutate_graph(mp->graph);
	if (pick(8) == 0 && mp->n_opset_import) { /* an odd opset version */
		Onnx__OperatorSetIdProto *o = mp->opset_import[0];
		int64_t v = odd_dims[pick(sizeof odd_dims / sizeof *odd_dims)];
		set(&o->version, &v, sizeof v);
	}
	size_t n = onnx__model_proto__get_packed_size(mp);
	size_t out = size;
	if (n <= max_size) {
		onnx__model_proto__pack(mp, data);
		out = n;
	}
	restore();
	onnx__model_proto__free_unpacked(mp, NULL);
	return out == size && n > max_size ? byte_mutate(data, size, max_size) : out;
}
#endif
