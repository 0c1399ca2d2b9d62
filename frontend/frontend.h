/* frontend.h -- from source files to IR modules. */
#ifndef GOS_FRONTEND_H
#define GOS_FRONTEND_H

#include "ir/ir.h"

/* Parses and elaborates the .gos file at path (plus its imports and the
 * prelude) into a module for model `model` (NULL: the last model in the
 * file). Weights are described (init/seed/key), not materialised.
 * Returns NULL with errors (file:line:col) in d. */
gos_module *gos_gos_load(const char *path, const char *model, gos_diags *d);
/* Same, from a text in memory; file is the name used in diagnostics and
 * the directory imports are relative to. */
gos_module *gos_gos_load_text(const char *file, const char *text, size_t len,
                              const char *model, gos_diags *d);

/* An operator library: the prelude (and optionally more .gos files),
 * parsed once, used to instantiate operators programmatically (the ONNX
 * importer does this). */
typedef struct gos_oplib gos_oplib;
/* Parses the prelude plus extra_file (may be NULL). NULL with errors in d. */
gos_oplib *gos_oplib_new(const char *extra_file, gos_diags *d);
void gos_oplib_free(gos_oplib *lib);
/* Appends to m a node `node_name` applying operator `op` to values in[]
 * (NULL entries of in[] = absent optional inputs; n_in may be less than
 * the operator's parameter count) with the given attributes. Creates the
 * result values (named node_name, node_name.1, ...) and stores their
 * indices in out[] (room for 8). Returns the number of results, or -1
 * with errors at loc in d (unknown op or attribute, shape mismatch). */
int gos_oplib_apply(gos_oplib *lib, gos_module *m, const char *op,
                    const char *node_name, int n_in, const int *in,
                    int n_attr, const gos_attr *attrs, int *out,
                    gos_loc loc, gos_diags *d);

/* Loads any supported model file by extension: .gos, .gir (textual IR),
 * .onnx (when built with ONNX support). Returns NULL with errors in d. */
gos_module *gos_load(const char *path, const char *model, gos_diags *d);

#endif
