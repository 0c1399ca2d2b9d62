/* elab.h -- internals of the .gos frontend shared by its files:
 * gos_load.c reads files (imports, the prelude) into a definition table,
 * elab.c turns a model (or one operator application) into IR. */
#ifndef GOS_ELAB_H
#define GOS_ELAB_H

#include "frontend/ast.h"
#include "ir/ir.h"

/* Definitions visible to a compilation: ops and blocks by name. */
typedef struct gos_fe {
	gos_arena *arena; /* syntax trees and definitions */
	gos_diags *d;
	gos_def **defs;   /* ops and blocks; later definitions replace prelude ones */
	int n_defs, cap_defs;
} gos_fe;

/* The op or block called name, or NULL. */
gos_def *gos_fe_find(const gos_fe *fe, const char *name);

/* Elaborates model md into a new module; weights_dir is the directory a
 * `weights "FILE"` path is relative to. Returns NULL with errors in fe->d. */
gos_module *gos_elab_model(gos_fe *fe, const gos_def *md, const char *weights_dir);

/* Appends to m one application of op to values in[] (-1 = absent optional
 * tensor) with attributes attrs; the node is called node_name and its
 * results are named node_name, node_name.1, ... (made unique with _N).
 * Stores result value indices in out[] (room for 8). Returns the result
 * count, or -1 with errors at loc in fe->d. */
int gos_elab_apply(gos_fe *fe, gos_module *m, const gos_def *op,
                   const char *node_name, int n_in, const int *in,
                   int n_attr, const gos_attr *attrs, int *out, gos_loc loc);

#endif
