/* export.h -- writing a module as an ONNX model (opset 17), so the same
 * network with the same weights can be run by other runtimes (ONNX
 * Runtime is the reference of the benchmarks and of the whole-network
 * tests). Every node must apply a prelude operator; the mapping follows
 * the ONNX operator each prelude op documents. */
#ifndef GOS_ONNX_EXPORT_H
#define GOS_ONNX_EXPORT_H

#include <stddef.h>

#include "ir/ir.h"

/* Serialises m (weights are materialised here if needed) into a malloc'd
 * ModelProto in *buf (*len bytes). Returns 0, or -1 with an error naming
 * the first node that has no ONNX equivalent (user-defined operators) or
 * when built without ONNX support. */
int gos_onnx_export(gos_module *m, char **buf, size_t *len, gos_diags *d);

#endif
