/* gos_load.c -- reading .gos files: the prelude, imports (relative to the
 * importing file, each read once, cycles reported) and the table of
 * definitions; entry points gos_gos_load* and the operator library. */
#include "frontend/elab.h"
#include "support/alloc.h"
#include "frontend/frontend.h"

#include <stdlib.h>
#include <string.h>

extern const char gos_prelude_text[];
extern const unsigned long gos_prelude_text_len;

#define MAX_FILES 256

gos_def *gos_fe_find(const gos_fe *fe, const char *name)
{
	for (int i = fe->n_defs - 1; i >= 0; i--)
		if (!strcmp(fe->defs[i]->name, name))
			return fe->defs[i];
	return NULL;
}

/* Files being or already read, for imports. */
typedef struct files {
	const char *path[MAX_FILES];
	int done[MAX_FILES];
	int n;
} files;

static const char *dir_of(gos_arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return ".";
	if (slash == path)
		return "/";
	return gos_arena_strndup(a, path, (size_t)(slash - path));
}

/* Lexically normalised path: drops "./" and folds "dir/../". */
static const char *normalize(gos_arena *a, const char *path)
{
	size_t n = strlen(path);
	char *out = gos_arena_alloc(a, n + 1);
	const char *seg[512];
	size_t len[512];
	int ns = 0, abs = path[0] == '/';
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		const char *q = p;
		while (*q && *q != '/')
			q++;
		size_t l = (size_t)(q - p);
		if (l == 1 && p[0] == '.') {
		} else if (l == 2 && p[0] == '.' && p[1] == '.' && ns > 0 &&
		           !(len[ns - 1] == 2 && seg[ns - 1][0] == '.' && seg[ns - 1][1] == '.')) {
			ns--;
		} else if (l && ns < 512) {
			seg[ns] = p;
			len[ns++] = l;
		}
		p = q;
	}
	char *w = out;
	if (abs)
		*w++ = '/';
	for (int i = 0; i < ns; i++) {
		if (i)
			*w++ = '/';
		memcpy(w, seg[i], len[i]);
		w += len[i];
	}
	if (w == out)
		*w++ = '.';
	*w = 0;
	return out;
}

static void add_def(gos_fe *fe, gos_def *d, int from_prelude)
{
	gos_def *old = gos_fe_find(fe, d->name);
	if (old && !from_prelude && old->loc.file && strcmp(old->loc.file, "prelude.gos")) {
		gos_error(fe->d, d->loc, "'%s' is already defined", d->name);
		gos_note(fe->d, old->loc, "previous definition here");
		return;
	}
	if (fe->n_defs == fe->cap_defs) {
		fe->cap_defs = fe->cap_defs ? fe->cap_defs * 2 : 64;
		gos_def **nv = GOS_NEWN(fe->arena, gos_def *, fe->cap_defs);
		if (fe->n_defs)
			memcpy(nv, fe->defs, sizeof *nv * (size_t)fe->n_defs);
		fe->defs = nv;
	}
	fe->defs[fe->n_defs++] = d;
}

#define MAX_EXPR_DEPTH 500
#define MAX_STMT_DEPTH 100

/* The first node of a deeper than lim (its recursion is bounded by lim),
 * or NULL. */
static const gos_ast *too_deep(const gos_ast *a, int lim)
{
	if (!a)
		return NULL;
	if (lim <= 0)
		return a;
	const gos_ast *kids[3] = {a->a, a->b, a->c};
	for (int i = 0; i < 3; i++) {
		const gos_ast *r = too_deep(kids[i], lim - 1);
		if (r)
			return r;
	}
	for (int i = 0; i < a->items.n; i++) {
		const gos_ast *r = too_deep(a->items.v[i], lim - 1);
		if (r)
			return r;
	}
	for (int i = 0; i < a->named.n; i++) {
		const gos_ast *r = too_deep(a->named.v[i], lim - 1);
		if (r)
			return r;
	}
	return NULL;
}

static int check_expr(gos_fe *fe, const gos_ast *a)
{
	const gos_ast *r = too_deep(a, MAX_EXPR_DEPTH);
	if (r)
		gos_error(fe->d, r->loc, "expression nested more than %d levels deep", MAX_EXPR_DEPTH);
	return r ? -1 : 0;
}

static int check_list(gos_fe *fe, const gos_alist *l)
{
	for (int i = 0; i < l->n; i++)
		if (check_expr(fe, l->v[i]))
			return -1;
	return 0;
}

/* Bounds the nesting of statements and expressions, so elaboration (which
 * recurses over them) cannot exhaust the stack. */
static int check_stmts(gos_fe *fe, const gos_slist *l, int depth)
{
	for (int i = 0; i < l->n; i++) {
		const gos_sast *s = l->v[i];
		if (depth > MAX_STMT_DEPTH) {
			gos_error(fe->d, s->loc, "statements nested more than %d levels deep", MAX_STMT_DEPTH);
			return -1;
		}
		if (check_expr(fe, s->lhs) || check_expr(fe, s->e) || check_expr(fe, s->e2) ||
		    check_list(fe, &s->items) || check_stmts(fe, &s->body, depth + 1) ||
		    check_stmts(fe, &s->els, depth + 1))
			return -1;
	}
	return 0;
}

static int check_def(gos_fe *fe, const gos_def *d)
{
	const gos_plist *ps[3] = {&d->tparams, &d->aparams, &d->results};
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < ps[k]->n; i++)
			if (check_list(fe, &ps[k]->v[i].shape) || check_expr(fe, ps[k]->v[i].dflt))
				return -1;
	return check_stmts(fe, &d->body, 0);
}

/* Parses text as file `name`; adds its ops and blocks (and those of its
 * imports) to fe. Returns the file's items, or NULL on syntax errors. */
static gos_def *read_text(gos_fe *fe, files *fs, const char *name, const char *text, size_t len,
                          int prelude)
{
	gos_pctx ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.arena = fe->arena;
	ctx.diags = fe->d;
	ctx.file = gos_diags_source(fe->d, name, text, len);
	if (gos_parse_text(&ctx, text, len))
		return NULL;
	int bad = 0;
	for (gos_def *d = ctx.first; d; d = d->next)
		bad |= check_def(fe, d);
	if (bad)
		return NULL;
	for (gos_def *d = ctx.first; d; d = d->next) {
		if (d->kind == GOS_D_OP || d->kind == GOS_D_BLOCK) {
			add_def(fe, d, prelude);
			continue;
		}
		if (d->kind != GOS_D_IMPORT)
			continue;
		const char *dir = dir_of(fe->arena, name);
		const char *path = d->name[0] == '/' ? d->name : gos_arena_printf(fe->arena, "%s/%s", dir, d->name);
		path = normalize(fe->arena, path);
		int k;
		for (k = 0; k < fs->n; k++)
			if (!strcmp(fs->path[k], path))
				break;
		if (k < fs->n) {
			if (!fs->done[k])
				gos_error(fe->d, d->loc, "import cycle: '%s' imports itself through '%s'", path, name);
			continue;
		}
		if (fs->n == MAX_FILES) {
			gos_error(fe->d, d->loc, "too many imported files (at most %d)", MAX_FILES);
			return NULL;
		}
		fs->path[fs->n++] = path;
		size_t ilen;
		gos_diags tmp;
		gos_diags_init(&tmp);
		char *itext = gos_read_file(&tmp, path, &ilen);
		gos_diags_free(&tmp);
		if (!itext) {
			gos_error(fe->d, d->loc, "cannot read imported file '%s'", path);
			continue;
		}
		gos_def *r = read_text(fe, fs, path, itext, ilen, 0);
		free(itext);
		(void)r;
		fs->done[k] = 1;
	}
	return ctx.first;
}

static int load_prelude(gos_fe *fe, files *fs)
{
	int errs = fe->d->n_errors;
	read_text(fe, fs, "prelude.gos", gos_prelude_text, (size_t)gos_prelude_text_len, 1);
	return fe->d->n_errors == errs ? 0 : -1;
}

static gos_module *load_from_text(const char *file, const char *text, size_t len, const char *model,
                                  gos_diags *d)
{
	gos_fe fe;
	memset(&fe, 0, sizeof fe);
	fe.arena = gos_arena_new();
	fe.d = d;
	files *fs = gos_calloc(1, sizeof *fs);
	if (!fe.arena || !fs) {
		gos_arena_free(fe.arena);
		free(fs);
		gos_error(d, (gos_loc){file, 0, 0}, "out of memory");
		return NULL;
	}
	gos_module *m = NULL;
	int errs = d->n_errors;
	if (load_prelude(&fe, fs))
		goto out;
	const char *path = normalize(fe.arena, file);
	int mine = fs->n++;
	fs->path[mine] = path;
	gos_def *items = read_text(&fe, fs, file, text, len, 0);
	fs->done[mine] = 1;
	if (d->n_errors != errs)
		goto out;
	const gos_def *md = NULL;
	const char *fname = gos_diags_source(d, file, text, len);
	for (gos_def *it = items; it; it = it->next) {
		if (it->kind != GOS_D_MODEL)
			continue;
		for (gos_def *p = items; p != it; p = p->next)
			if (p->kind == GOS_D_MODEL && !strcmp(p->name, it->name)) {
				gos_error(d, it->loc, "model '%s' is already defined", it->name);
				gos_note(d, p->loc, "previous definition here");
			}
		if (!model || !strcmp(it->name, model))
			md = it;
	}
	if (d->n_errors != errs)
		goto out;
	if (!md) {
		if (model)
			gos_error(d, (gos_loc){fname, 0, 0}, "no model named '%s' in %s", model, file);
		else
			gos_error(d, (gos_loc){fname, 0, 0}, "no model in %s (a file needs `model NAME { ... }` to be compiled)", file);
		goto out;
	}
	m = gos_elab_model(&fe, md, dir_of(fe.arena, file));
	if (m && !m->base_dir)
		m->base_dir = gos_arena_strdup(m->arena, dir_of(fe.arena, file));
out:
	free(fs);
	gos_arena_free(fe.arena);
	return m;
}

gos_module *gos_gos_load_text(const char *file, const char *text, size_t len, const char *model,
                              gos_diags *d)
{
	return load_from_text(file, text, len, model, d);
}

gos_module *gos_gos_load(const char *path, const char *model, gos_diags *d)
{
	size_t len;
	char *text = gos_read_file(d, path, &len);
	if (!text)
		return NULL;
	gos_module *m = load_from_text(path, text, len, model, d);
	free(text);
	return m;
}

/* ---- operator library ----------------------------------------------------- */

struct gos_oplib {
	gos_fe fe;
	files fs;
};

gos_oplib *gos_oplib_new(const char *extra_file, gos_diags *d)
{
	gos_oplib *lib = gos_calloc(1, sizeof *lib);
	if (lib)
		lib->fe.arena = gos_arena_new();
	if (!lib || !lib->fe.arena) {
		gos_oplib_free(lib);
		gos_error(d, (gos_loc){extra_file ? extra_file : "prelude.gos", 0, 0}, "out of memory");
		return NULL;
	}
	lib->fe.d = d;
	if (load_prelude(&lib->fe, &lib->fs)) {
		gos_oplib_free(lib);
		return NULL;
	}
	if (extra_file) {
		size_t len;
		char *text = gos_read_file(d, extra_file, &len);
		int errs = d->n_errors;
		if (text) {
			read_text(&lib->fe, &lib->fs, extra_file, text, len, 0);
			free(text);
		}
		if (!text || d->n_errors != errs) {
			gos_oplib_free(lib);
			return NULL;
		}
	}
	return lib;
}

void gos_oplib_free(gos_oplib *lib)
{
	if (!lib)
		return;
	gos_arena_free(lib->fe.arena);
	free(lib);
}

int gos_oplib_apply(gos_oplib *lib, gos_module *m, const char *op, const char *node_name, int n_in,
                    const int *in, int n_attr, const gos_attr *attrs, int *out, gos_loc loc,
                    gos_diags *d)
{
	lib->fe.d = d;
	const gos_def *def = gos_fe_find(&lib->fe, op);
	if (!def || def->kind != GOS_D_OP) {
		gos_error(d, loc, "unknown operator '%s'", op);
		return -1;
	}
	int errs = d->n_errors;
	int r = gos_elab_apply(&lib->fe, m, def, node_name, n_in, in, n_attr, attrs, out, loc);
	if (r < 0 && d->n_errors == errs)
		gos_error(d, loc, "cannot apply '%s'", op);
	return r;
}
