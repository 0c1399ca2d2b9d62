/* load.c -- pick the reader for a model file by its extension. */
#include "frontend/frontend.h"
#include "frontend/onnx/onnx.h"

#include <errno.h>
#include <stdio.h>
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

int gos_load_options_add_shape(gos_load_options *o, const char *spec, const char *flag,
                               gos_diags *d)
{
	gos_loc loc = {flag, 0, 0};
	const char *eq = strrchr(spec, '=');
	if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof o->shapes[0].name) {
		gos_error(d, loc, "'%s': expected NAME=D0,D1,... (an input's name and its dimensions)",
		          spec);
		return -1;
	}
	gos_input_shape s = {.rank = 0};
	memcpy(s.name, spec, (size_t)(eq - spec));
	for (const char *p = eq + 1;; p++) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		if (end == p || errno || v <= 0 || v > ((int64_t)1 << 40) || (*end && *end != ',')) {
			gos_error(d, loc, "'%s': dimension %d is not a positive integer", spec, s.rank);
			return -1;
		}
		if (s.rank == GOS_MAX_RANK) {
			gos_error(d, loc, "'%s': more than %d dimensions", spec, GOS_MAX_RANK);
			return -1;
		}
		s.dims[s.rank++] = v;
		p = end;
		if (!*p)
			break;
	}
	int k = 0;
	while (k < o->n_shapes && strcmp(o->shapes[k].name, s.name))
		k++;
	if (k == GOS_MAX_INPUT_SHAPES) {
		gos_error(d, loc, "more than %d input shapes", GOS_MAX_INPUT_SHAPES);
		return -1;
	}
	o->shapes[k] = s;
	if (k == o->n_shapes)
		o->n_shapes++;
	return 0;
}

int gos_load_options_arg(gos_load_options *o, int argc, char **argv, int *i, gos_diags *d)
{
	const char *a = argv[*i];
	if (a[0] == '-' && a[1] == '-')
		a++;
	if (strncmp(a, "-input-shape", 12) || (a[12] && a[12] != '='))
		return 0;
	const char *spec = a[12] == '=' ? a + 13 : NULL;
	if (!spec && *i + 1 < argc)
		spec = argv[++*i];
	if (!spec) {
		gos_error(d, (gos_loc){argv[*i], 0, 0}, "expected NAME=D0,D1,... after it");
		return -1;
	}
	return gos_load_options_add_shape(o, spec, "-input-shape", d) ? -1 : 1;
}

/* For .gos / .gir models, whose shapes are declared: every shape given
 * must name an input and equal its declared shape. */
static int check_shapes(const gos_module *m, const char *path, const gos_load_options *o,
                        gos_diags *d)
{
	for (int k = 0; k < o->n_shapes; k++) {
		const gos_input_shape *s = &o->shapes[k];
		int v = gos_module_find_value(m, s->name);
		if (v < 0 || m->vals[v].kind != GOS_VAL_INPUT) {
			gos_error(d, (gos_loc){path, 0, 0},
			          "-input-shape names '%s', which is not an input of the model", s->name);
			return -1;
		}
		const gos_value *x = &m->vals[v];
		int same = x->rank == s->rank;
		for (int i = 0; same && i < s->rank; i++)
			same = x->shape[i] == s->dims[i];
		if (!same) {
			char have[160] = "";
			size_t u = 0;
			for (int i = 0; i < x->rank && u < sizeof have; i++)
				u += (size_t)snprintf(have + u, sizeof have - u, "%s%lld", i ? "," : "",
				                      (long long)x->shape[i]);
			gos_error(d, x->loc,
			          "input '%s' is declared with shape [%s]; -input-shape cannot change "
			          "the shapes of .gos or .gir models (only symbolic ONNX dimensions)",
			          s->name, have);
			return -1;
		}
	}
	return 0;
}

gos_module *gos_load_with(const char *path, const char *model, const gos_load_options *o,
                          gos_diags *d)
{
	if (!o || (!o->n_shapes && !o->dim_param_value))
		return gos_load(path, model, d);
	if (has_ext(path, ".onnx")) {
		gos_onnx_options opt;
		memset(&opt, 0, sizeof opt);
		opt.n_shapes = o->n_shapes;
		opt.shapes = o->shapes;
		opt.dim_param_value = o->dim_param_value;
		return gos_onnx_load(path, &opt, d);
	}
	gos_module *m = gos_load(path, model, d);
	if (m && check_shapes(m, path, o, d)) {
		gos_module_free(m);
		return NULL;
	}
	return m;
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
