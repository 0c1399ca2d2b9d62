/* onnx_info.c -- what an ONNX model declares (inputs, outputs, operator
 * types), read without importing it. */
#include "frontend/onnx/onnx.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

void gos_onnx_info_free(gos_onnx_info *info)
{
	if (!info)
		return;
	for (int k = 0; k < info->n_inputs; k++)
		free(info->inputs[k]);
	for (int k = 0; k < info->n_outputs; k++)
		free(info->outputs[k]);
	for (int k = 0; k < info->n_ops; k++)
		free(info->ops[k]);
	free(info->inputs);
	free(info->input_types);
	free(info->outputs);
	free(info->output_types);
	free(info->ops);
	memset(info, 0, sizeof *info);
}

#ifndef GOS_HAVE_ONNX

int gos_onnx_info_read(const char *path, gos_onnx_info *info, gos_diags *d)
{
	memset(info, 0, sizeof *info);
	gos_error(d, (gos_loc){path, 0, 0}, "gosc was built without ONNX support (protobuf-c)");
	return -1;
}

#else

#include "frontend/onnx/onnx_internal.h"

static int elem_type_of(const Onnx__ValueInfoProto *vi)
{
	const Onnx__TypeProto *tp = vi->type;
	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return 0;
	return tp->tensor_type->has_elem_type ? tp->tensor_type->elem_type : 0;
}

static char *dup(const char *s)
{
	return gos_strdup(s ? s : "");
}

int gos_onnx_info_read(const char *path, gos_onnx_info *info, gos_diags *d)
{
	memset(info, 0, sizeof *info);
	gos_loc loc = {path, 0, 0};
	size_t len;
	char *bytes = gos_read_file(d, path, &len);
	if (!bytes)
		return -1;
	if (gos_onnx_check_nesting(bytes, len, &onnx__model_proto__descriptor, loc, d)) {
		free(bytes);
		return -1;
	}
	Onnx__ModelProto *mp = onnx__model_proto__unpack(&gos_onnx_pb_allocator, len, (const uint8_t *)bytes);
	free(bytes);
	if (!mp || !mp->graph) {
		gos_error(d, loc, "not a valid ONNX model (corrupt or truncated protobuf)");
		if (mp)
			onnx__model_proto__free_unpacked(mp, &gos_onnx_pb_allocator);
		return -1;
	}
	const Onnx__GraphProto *g = mp->graph;
	info->opset = mp->n_opset_import ? 0 : 1;
	for (size_t k = 0; k < mp->n_opset_import; k++) {
		const Onnx__OperatorSetIdProto *o = mp->opset_import[k];
		if (!o->domain || !o->domain[0] || !strcmp(o->domain, "ai.onnx"))
			info->opset = o->has_version ? (int)o->version : 1;
	}
	size_t nin = g->n_input, nout = g->n_output, nop = g->n_node;
	info->inputs = gos_calloc(nin + 1, sizeof(char *));
	info->input_types = gos_calloc(nin + 1, sizeof(int));
	info->outputs = gos_calloc(nout + 1, sizeof(char *));
	info->output_types = gos_calloc(nout + 1, sizeof(int));
	info->ops = gos_calloc(nop + 1, sizeof(char *));
	int rc = -1;
	if (!info->inputs || !info->input_types || !info->outputs || !info->output_types ||
	    !info->ops)
		goto oom;
	for (size_t k = 0; k < nin; k++) {
		const char *name = g->input[k]->name ? g->input[k]->name : "";
		int init = 0;
		for (size_t j = 0; j < g->n_initializer && !init; j++)
			init = g->initializer[j]->name && !strcmp(g->initializer[j]->name, name);
		if (init)
			continue;
		if (!(info->inputs[info->n_inputs] = dup(name)))
			goto oom;
		info->input_types[info->n_inputs++] = elem_type_of(g->input[k]);
	}
	for (size_t k = 0; k < nout; k++) {
		if (!(info->outputs[info->n_outputs] = dup(g->output[k]->name)))
			goto oom;
		info->output_types[info->n_outputs++] = elem_type_of(g->output[k]);
	}
	for (size_t k = 0; k < nop; k++) {
		const char *op = g->node[k]->op_type ? g->node[k]->op_type : "";
		int seen = 0;
		for (int j = 0; j < info->n_ops && !seen; j++)
			seen = !strcmp(info->ops[j], op);
		if (!seen && !(info->ops[info->n_ops++] = dup(op)))
			goto oom;
	}
	rc = 0;
	goto done;
oom:
	gos_error(d, loc, "out of memory");
	gos_onnx_info_free(info);
done:
	onnx__model_proto__free_unpacked(mp, &gos_onnx_pb_allocator);
	return rc;
}

#endif
