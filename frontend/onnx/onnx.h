/* onnx.h -- ONNX models (protobuf, onnx.proto) into IR modules.
 *
 * The reader is protobuf-c code generated at build time from the
 * onnx.proto of libonnx-dev. Every ONNX node becomes one or more
 * applications of prelude operators (frontend/prelude.gos) or of the
 * importer's own operators (frontend/onnx/onnx_ops.gos) through
 * gos_oplib_apply; initializers become weights holding their data
 * (GOS_INIT_DATA); integer tensors (shapes, axes, pads) are folded at
 * import. Supported opsets: 1..19 of the default domain (semantics of each
 * operator follow the version the model imports). Built without protobuf-c
 * every entry point reports "built without ONNX support". */
#ifndef GOS_ONNX_H
#define GOS_ONNX_H

#include "ir/ir.h"

/* A tensor read from a TensorProto, in host types. */
typedef struct gos_onnx_tensor {
	char *name;      /* TensorProto.name ("" when absent) */
	int elem_type;   /* ONNX TensorProto.DataType: 1 FLOAT, 7 INT64, ... */
	int is_float;    /* 1: f holds the data (FLOAT, DOUBLE, FLOAT16,
	                  * BFLOAT16); 0: i holds it (integer and BOOL types) */
	int rank;
	int64_t shape[GOS_MAX_RANK];
	int64_t numel;
	float *f;        /* numel floats, or NULL */
	int64_t *i;      /* numel integers, or NULL */
} gos_onnx_tensor;

/* Reads a serialised TensorProto (e.g. test_data_set_0/input_0.pb) into t
 * (malloc'd; release with gos_onnx_tensor_free). External data is read
 * relative to the file's directory. Returns 0, or -1 with an error in d;
 * never crashes on corrupt or truncated files. */
int gos_onnx_tensor_read(const char *path, gos_onnx_tensor *t, gos_diags *d);
void gos_onnx_tensor_free(gos_onnx_tensor *t);
/* Name of ONNX data type code `elem_type` ("float", "int64", ...). */
const char *gos_onnx_type_name(int elem_type);

/* Options of gos_onnx_load; zero-initialise, then set what you need. */
typedef struct gos_onnx_options {
	/* Graph inputs fixed to these values at import (matched by name):
	 * they are constants, not inputs of the module. Used where an operator
	 * needs a compile-time constant that the model passes as an input
	 * (e.g. the shape of Reshape in the ONNX node tests). */
	int n_bind;
	const gos_onnx_tensor *bind;
	/* Shapes of graph inputs by name (frontend.h gos_input_shape): they
	 * set symbolic dimensions and must agree with fixed ones; a name that
	 * is not a float graph input is an error. */
	int n_shapes;
	const struct gos_input_shape *shapes;
	/* Size of every symbolic input dimension that shapes leave unset;
	 * 0: such a dimension is an error naming it. */
	int64_t dim_param_value;
	/* Out: 1 when the import failed because of something the importer
	 * does not support (operator, attribute value, data type, dynamic
	 * shape), 0 for any other failure (corrupt file, bad model). */
	int unsupported;
	/* Out: when the import failed because a graph input is used where a
	 * constant is required, that input's name (else ""). */
	char need_const[256];
} gos_onnx_options;

/* Loads the ONNX model at path. opt may be NULL (defaults). Inputs of the
 * module are the graph inputs that are not initializers, in graph order,
 * with their ONNX names; outputs are the graph outputs, in order, with
 * their ONNX names. Returns NULL with errors in d: an unsupported
 * operator or attribute gives one error naming the node, its op type and
 * the attribute. */
gos_module *gos_onnx_load(const char *path, gos_onnx_options *opt, gos_diags *d);

/* What a model file declares, without importing it (for test runners
 * and tools). All strings and arrays malloc'd; gos_onnx_info_free. */
typedef struct gos_onnx_info {
	int opset;          /* version of the default domain */
	int n_inputs;       /* graph inputs that are not initializers */
	char **inputs;
	int *input_types;   /* ONNX elem_type of each (0: not a tensor) */
	int n_outputs;
	char **outputs;
	int *output_types;
	int n_ops;          /* distinct operator types, in order of first use */
	char **ops;
} gos_onnx_info;
int gos_onnx_info_read(const char *path, gos_onnx_info *info, gos_diags *d);
void gos_onnx_info_free(gos_onnx_info *info);

/* 1 when the library was built with ONNX support. */
int gos_onnx_available(void);

/* Writes m as a readable .gos model (docs/language.md) to out: one binding
 * per node (`name = op(inputs; attributes);`), one `param` declaration per
 * weight loaded from weights_file (a path relative to the .gos file),
 * inputs and outputs with identifiers made from the module's names. If
 * keys is not NULL, keys[v] receives (arena memory of m) the parameter's
 * name for each weight value v: the tensor name to use in weights_file,
 * NULL for non-weights. Operators of frontend/onnx/onnx_ops.gos that m
 * uses are copied into the file. Returns 0, or -1 with an error in d
 * (a node whose attributes cannot be written). */
int gos_onnx_write_gos(FILE *out, const gos_module *m, const char *weights_file,
                       const char **keys, gos_diags *d);

/* Writes m as readable .gos at path (which ends in .gos) with its weights
 * in PATH-without-.gos.safetensors beside it (frontend/save.c). Returns 0,
 * or -1 with errors in d and nothing left behind. */
int gos_save_gos(const gos_module *m, const char *path, gos_diags *d);

#endif
