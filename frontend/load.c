/* load.c -- pick the reader for a model file by its extension. */
#include "frontend/frontend.h"
#include "frontend/onnx/onnx.h"

#include <stdlib.h>
#include <string.h>

static int has_ext(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);
	return n > e && strcmp(path + n - e, ext) == 0;
}

/* Directory part of path ("." when none), in m's arena. */
static const char *dir_of(gos_module *m, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return ".";
	return gos_arena_strndup(m->arena, path, (size_t)(slash - path) + (slash == path));
}

gos_module *gos_load(const char *path, const char *model, gos_diags *d)
{
	if (has_ext(path, ".gir")) {
		size_t len;
		char *text = gos_read_file(d, path, &len);
		if (!text)
			return NULL;
		const char *file = gos_diags_source(d, path, text, len);
		gos_module *m = gos_ir_parse(file, text, len, d);
		free(text);
		if (m && !m->base_dir)
			m->base_dir = dir_of(m, path);
		return m;
	}
	if (has_ext(path, ".gos"))
		return gos_gos_load(path, model, d);
	if (has_ext(path, ".onnx"))
		return gos_onnx_load(path, NULL, d); /* frontend/onnx/onnx.h */
	gos_error(d, (gos_loc){path, 0, 0},
	          "unknown model file type (expected .gos, .gir or .onnx)");
	return NULL;
}
