/* datadir.h -- where gosc finds the files it ships beside its code: target
 * descriptions (targets/NAME.target) and the runner's source (runtime/runner.c).
 *
 * Searched in order:
 *  1. the directory named by an environment variable (GOS_TARGET_DIR,
 *     GOS_RUNTIME_DIR), when set;
 *  2. <directory of the running program>/../share/gosc/<sub>: an
 *     installed copy (cmake --install) finds its own files wherever the
 *     prefix is;
 *  3. <source tree>/<sub>, for programs run from a build tree.
 */
#ifndef GOS_DATADIR_H
#define GOS_DATADIR_H

#include <stddef.h>

enum { GOS_DATADIR_MAX = 3, GOS_DATADIR_PATH = 4096 };

/* Fills dirs[0..) with the existing directories of that search for
 * subdirectory sub ("targets", "runtime") with override variable env (may
 * be NULL), in order, without repeats. Returns their count. */
int gos_datadir_list(const char *env, const char *sub, char dirs[GOS_DATADIR_MAX][GOS_DATADIR_PATH]);

/* Finds file in the first of those directories that holds it as a
 * regular file; writes its path to out[n]. Returns 1, or 0 when none does
 * (out is then ""). */
int gos_datadir_find(const char *env, const char *sub, const char *file, char *out, size_t n);

/* Whether path names a regular file (after symbolic links). */
int gos_is_file(const char *path);

#endif
