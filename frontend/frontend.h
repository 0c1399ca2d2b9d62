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

/* The shape of one model input, as `-input-shape NAME=D0,D1,...` gives it. */
typedef struct gos_input_shape {
	char name[256];
	int rank;
	int64_t dims[GOS_MAX_RANK];
} gos_input_shape;

enum { GOS_MAX_INPUT_SHAPES = 32 };

/* How gos_load_with loads; zero-initialise. */
typedef struct gos_load_options {
	/* Shapes of inputs by name. ONNX: they fix the input's symbolic
	 * dimensions (and must agree with its fixed ones); a symbolic
	 * dimension left unset is an error naming it. .gos / .gir: the
	 * input's declared shape must be the one given. A name that is not
	 * an input is an error. */
	int n_shapes;
	gos_input_shape shapes[GOS_MAX_INPUT_SHAPES];
	/* ONNX: size of every symbolic dimension not set by shapes (0: none). */
	int64_t dim_param_value;
} gos_load_options;

/* Parses spec ("NAME=D0,D1,...", each D a positive integer) and appends
 * it to o (a later spec for the same name replaces the earlier one).
 * Returns 0, or -1 with an error naming `flag` in d. */
int gos_load_options_add_shape(gos_load_options *o, const char *spec, const char *flag,
                               gos_diags *d);

/* The command-line form, shared by the tools: when argv[*i] is
 * `-input-shape SPEC`, `--input-shape SPEC` or either with `=SPEC`, adds
 * SPEC to o (advancing *i past a separate value) and returns 1; returns 0
 * for any other argument, -1 with an error in d for a bad or missing SPEC. */
int gos_load_options_arg(gos_load_options *o, int argc, char **argv, int *i, gos_diags *d);

/* gos_load with options (o may be NULL: gos_load). */
gos_module *gos_load_with(const char *path, const char *model, const gos_load_options *o,
                          gos_diags *d);

#endif
