/* engine.c -- gos_engine (eval.h): one module run on many samples by the
 * interpreter, by in-process host code, or by a target's runner under
 * qemu. */
#include "eval/eval.h"
#include "support/alloc.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/llvm/llvm.h"
#include "passes/passes.h"
#include "passes/synth/synth.h"
#include "support/spawn.h"
#include "support/tensorio.h"

typedef enum kind { K_INTERP, K_HOST, K_RUNNER } kind;

struct gos_engine {
	kind k;
	gos_module *m;      /* the copy the engine runs */
	int threads;
	int n_in, n_out;
	int *in_val;        /* [n_in] input value indices (in m) */
	int64_t *in_numel, *out_numel;
	gos_jit *jit;       /* K_HOST */
	gos_target t;       /* K_RUNNER */
	char *dir;          /* K_RUNNER: temporary directory with the runner */
	char *exe;
};

const gos_module *gos_engine_module(const gos_engine *e) { return e->m; }
int gos_engine_n_inputs(const gos_engine *e) { return e->n_in; }
int gos_engine_n_outputs(const gos_engine *e) { return e->n_out; }
int64_t gos_engine_input_numel(const gos_engine *e, int i) { return e->in_numel[i]; }
int64_t gos_engine_output_numel(const gos_engine *e, int o) { return e->out_numel[o]; }
const gos_value *gos_engine_input(const gos_engine *e, int i) { return &e->m->vals[e->in_val[i]]; }
const gos_value *gos_engine_output(const gos_engine *e, int o)
{
	return &e->m->vals[e->m->outputs[o]];
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* Fills the input/output tables of e from e->m. */
static int describe(gos_engine *e, gos_diags *d)
{
	const gos_module *m = e->m;
	for (int v = 0; v < m->n_val; v++)
		e->n_in += m->vals[v].kind == GOS_VAL_INPUT;
	e->n_out = m->n_output;
	e->in_val = gos_calloc((size_t)e->n_in + 1, sizeof *e->in_val);
	e->in_numel = gos_calloc((size_t)e->n_in + 1, sizeof *e->in_numel);
	e->out_numel = gos_calloc((size_t)e->n_out + 1, sizeof *e->out_numel);
	if (!e->in_val || !e->in_numel || !e->out_numel) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
		return -1;
	}
	for (int v = 0, k = 0; v < m->n_val; v++)
		if (m->vals[v].kind == GOS_VAL_INPUT) {
			e->in_val[k] = v;
			e->in_numel[k++] = gos_numel(m->vals[v].rank, m->vals[v].shape);
		}
	for (int o = 0; o < e->n_out; o++) {
		const gos_value *v = &m->vals[m->outputs[o]];
		e->out_numel[o] = gos_numel(v->rank, v->shape);
	}
	return 0;
}

/* Builds the static runner of e->m for target e->t in a new temporary
 * directory. */
static int build_runner(gos_engine *e, int opt, gos_diags *d)
{
	gos_loc loc = {e->t.name, 0, 0};
	const char *td = getenv("TMPDIR");
	size_t n = strlen(td && *td ? td : "/tmp") + 32;
	e->dir = gos_malloc(n);
	if (!e->dir) {
		gos_error(d, loc, "out of memory");
		return -1;
	}
	snprintf(e->dir, n, "%s/gos-eval-XXXXXX", td && *td ? td : "/tmp");
	if (!mkdtemp(e->dir)) {
		gos_error(d, loc, "cannot create a temporary directory: %s", strerror(errno));
		free(e->dir);
		e->dir = NULL;
		return -1;
	}
	gos_llvm_opts lo = {opt, 0, "gos_eval_model", 0, 1};
	gos_llvm_output out;
	memset(&out, 0, sizeof out);
	if (gos_llvm_compile(e->m, &e->t, &lo, GOS_EMIT_OBJ, &out, d))
		return -1;
	size_t pl = strlen(e->dir) + 32;
	char *obj = gos_malloc(pl), *hdr = gos_malloc(pl);
	e->exe = gos_malloc(pl);
	int rc = -1;
	if (obj && hdr && e->exe) {
		snprintf(obj, pl, "%s/model.o", e->dir);
		snprintf(hdr, pl, "%s/model.h", e->dir);
		snprintf(e->exe, pl, "%s/runner", e->dir);
		FILE *fo = fopen(obj, "wb"), *fh = fopen(hdr, "wb");
		int ok = fo && fh && fwrite(out.code, 1, out.code_len, fo) == out.code_len &&
		         fputs(out.header, fh) >= 0;
		ok = (fo ? fclose(fo) == 0 : 0) & (fh ? fclose(fh) == 0 : 0) && ok;
		if (!ok)
			gos_error(d, loc, "cannot write the model into '%s'", e->dir);
		else
			rc = gos_llvm_link_runner(&e->t, obj, hdr, out.prefix, 0, e->exe, d);
		unlink(obj);
		unlink(hdr);
	} else {
		gos_error(d, loc, "out of memory");
	}
	free(obj);
	free(hdr);
	gos_llvm_output_free(&out);
	return rc;
}

gos_engine *gos_engine_new(const gos_module *m, const gos_engine_opts *o, gos_diags *d)
{
	const char *target = o && o->target ? o->target : "host";
	int opt = o && o->opt_level >= 0 ? o->opt_level : 2;
	gos_engine *e = gos_calloc(1, sizeof *e);
	if (!e) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
		return NULL;
	}
	e->threads = o && o->threads > 0 ? o->threads : online_cpus();
	e->k = !strcmp(target, "interp") ? K_INTERP : K_RUNNER;
	e->m = gos_module_clone(m);
	if (!e->m) {
		gos_error(d, (gos_loc){m->name, 0, 0}, "out of memory");
		goto fail;
	}
	e->m->name = m->name; /* diagnostics outlive the copy: they name the caller's module */
	if (gos_module_materialize(e->m, d))
		goto fail;
	if (e->k == K_RUNNER) {
		if (gos_target_load(&e->t, target, d))
			goto fail;
		if (!e->t.qemu[0]) /* native code: run it in this process */
			e->k = K_HOST;
		/* compiled as gosc compiles it */
		if (opt >= 2 && gos_synth_exact(&e->m, target, d) < 0)
			goto fail;
		gos_pipeline_opts po = {opt > 0, 0, NULL, NULL};
		if (gos_pipeline_run(e->m, &po, d))
			goto fail;
	}
	if (describe(e, d))
		goto fail;
	if (e->k == K_HOST) {
		gos_llvm_opts lo = {opt, 0, "gos_eval_model", 0, 1};
		e->jit = gos_jit_new(e->m, &e->t, &lo, d);
		if (!e->jit)
			goto fail;
	} else if (e->k == K_RUNNER && build_runner(e, opt, d)) {
		goto fail;
	}
	return e;
fail:
	gos_engine_free(e);
	return NULL;
}

void gos_engine_free(gos_engine *e)
{
	if (!e)
		return;
	gos_jit_free(e->jit);
	if (e->exe)
		unlink(e->exe);
	if (e->dir)
		rmdir(e->dir);
	free(e->exe);
	free(e->dir);
	free(e->in_val);
	free(e->in_numel);
	free(e->out_numel);
	gos_module_free(e->m);
	free(e);
}

/* ---- interpreter and host code: samples over worker threads ---------- */

typedef struct work {
	gos_engine *e;
	const float *const *in;
	float *const *out;
	int64_t lo, hi;  /* samples [lo, hi) */
	gos_diags d;     /* this worker's errors */
	int rc;
} work;

/* Runs samples [w->lo, w->hi) one at a time. */
static void *work_run(void *arg)
{
	work *w = arg;
	gos_engine *e = w->e;
	const gos_module *m = e->m;
	gos_loc loc = {m->name, 0, 0};
	gos_tensor *ins = gos_calloc((size_t)e->n_in + 1, sizeof *ins);
	gos_tensor *outs = gos_calloc((size_t)e->n_out + 1, sizeof *outs);
	const float **pin = gos_calloc((size_t)e->n_in + 1, sizeof *pin);
	float **pout = gos_calloc((size_t)e->n_out + 1, sizeof *pout);
	void *scratch = NULL;
	if (e->k == K_HOST) {
		int64_t sb = gos_jit_scratch_bytes(e->jit);
		scratch = gos_aligned_alloc(64, (size_t)((sb + 63) / 64 * 64 + 64));
	}
	if (!ins || !outs || !pin || !pout || (e->k == K_HOST && !scratch)) {
		gos_error(&w->d, loc, "out of memory");
		w->rc = -1;
	}
	for (int i = 0; i < e->n_in && !w->rc; i++) {
		const gos_value *v = &m->vals[e->in_val[i]];
		ins[i].rank = v->rank;
		memcpy(ins[i].shape, v->shape, sizeof ins[i].shape);
	}
	for (int64_t s = w->lo; s < w->hi && !w->rc; s++) {
		for (int i = 0; i < e->n_in; i++)
			pin[i] = w->in[i] + s * e->in_numel[i];
		for (int o = 0; o < e->n_out; o++)
			pout[o] = w->out[o] + s * e->out_numel[o];
		if (e->k == K_HOST) {
			if (gos_jit_run(e->jit)(pin, pout, scratch)) {
				gos_error(&w->d, loc, "sample %lld: the model's run function failed",
				          (long long)s);
				w->rc = -1;
			}
			continue;
		}
		for (int i = 0; i < e->n_in; i++)
			ins[i].data = (float *)pin[i];
		if (gos_interp_run(m, ins, outs, &w->d)) {
			gos_note(&w->d, loc, "while running sample %lld", (long long)s);
			w->rc = -1;
		}
		for (int o = 0; o < e->n_out; o++) {
			if (!w->rc)
				memcpy(pout[o], outs[o].data, sizeof(float) * (size_t)e->out_numel[o]);
			free(outs[o].data);
			outs[o].data = NULL;
		}
	}
	free(scratch);
	free(ins);
	free(outs);
	free(pin);
	free(pout);
	return NULL;
}

static int run_threads(gos_engine *e, int64_t n, const float *const *in, float *const *out,
                       gos_diags *d)
{
	int T = e->threads < n ? e->threads : (int)n;
	if (T < 1)
		T = 1;
	work *w = gos_calloc((size_t)T, sizeof *w);
	pthread_t *th = gos_calloc((size_t)T, sizeof *th);
	char *started = gos_calloc((size_t)T, 1);
	if (!w || !th || !started) {
		free(w);
		free(th);
		free(started);
		gos_error(d, (gos_loc){e->m->name, 0, 0}, "out of memory");
		return -1;
	}
	for (int t = 0; t < T; t++) {
		w[t] = (work){e, in, out, n * t / T, n * (t + 1) / T, {0}, 0};
		gos_diags_init(&w[t].d);
		/* worker 0 runs on this thread; a thread that cannot start runs here too */
		if (t > 0 && pthread_create(&th[t], NULL, work_run, &w[t]) == 0)
			started[t] = 1;
	}
	work_run(&w[0]);
	for (int t = 1; t < T; t++) {
		if (started[t])
			pthread_join(th[t], NULL);
		else
			work_run(&w[t]);
	}
	int rc = 0;
	for (int t = 0; t < T; t++) {
		for (int k = 0; k < w[t].d.n && !rc; k++) {
			const gos_diag *g = &w[t].d.v[k];
			if (g->sev == GOS_ERROR)
				gos_error(d, g->loc, "%s", g->msg);
			else
				gos_note(d, g->loc, "%s", g->msg);
		}
		rc |= w[t].rc;
		gos_diags_free(&w[t].d);
	}
	free(w);
	free(th);
	free(started);
	return rc ? -1 : 0;
}

/* ---- runner under qemu: one process, every sample in one file ------- */

/* Splits s at white space into argv (strdup'd) from index n; returns the
 * new count. */
static int split_words(const char *s, char **argv, int n, int max)
{
	while (*s && n < max) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		const char *b = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		argv[n++] = gos_strndup(b, (size_t)(s - b));
	}
	return n;
}

static int run_runner(gos_engine *e, int64_t n, const float *const *in, float *const *out,
                      gos_diags *d)
{
	const gos_module *m = e->m;
	gos_loc loc = {e->t.name, 0, 0};
	int maxa = 64 + 2 * e->n_in;
	char **argv = gos_calloc((size_t)maxa + 1, sizeof *argv);
	char **files = gos_calloc((size_t)e->n_in + e->n_out + 2, sizeof *files);
	size_t pl = strlen(e->dir) + 64;
	char *outdir = gos_malloc(pl), *log = gos_malloc(pl);
	int rc = -1, na = 0;
	if (!argv || !files || !outdir || !log) {
		gos_error(d, loc, "out of memory");
		goto done;
	}
	snprintf(outdir, pl, "%s/out", e->dir);
	snprintf(log, pl, "%s/runner.log", e->dir);
	na = split_words(e->t.qemu, argv, 0, 32);
	argv[na++] = gos_strdup(e->exe);
	char num[32];
	snprintf(num, sizeof num, "%lld", (long long)n);
	argv[na++] = gos_strdup("--samples");
	argv[na++] = gos_strdup(num);
	argv[na++] = gos_strdup("--output-dir");
	argv[na++] = gos_strdup(outdir);
	for (int i = 0; i < e->n_in; i++) {
		const gos_value *v = &m->vals[e->in_val[i]];
		gos_tensor t = {v->rank + 1, {n}, (float *)in[i]};
		if (v->rank + 1 > GOS_MAX_RANK) {
			gos_error(d, loc, "input '%s' has rank %d: too many for stacked samples", v->name,
			          v->rank);
			goto done;
		}
		memcpy(t.shape + 1, v->shape, sizeof(int64_t) * (size_t)v->rank);
		files[i] = gos_malloc(pl);
		if (!files[i])
			goto done;
		snprintf(files[i], pl, "%s/in%d.npy", e->dir, i);
		if (gos_npy_write(files[i], &t, d))
			goto done;
		size_t al = strlen(v->name) + strlen(files[i]) + 2;
		char *arg = gos_malloc(al);
		if (!arg)
			goto done;
		snprintf(arg, al, "%s=%s", v->name, files[i]);
		argv[na++] = gos_strdup("--input");
		argv[na++] = arg;
	}
	for (int k = 0; k < na; k++)
		if (!argv[k]) {
			gos_error(d, loc, "out of memory");
			goto done;
		}
	int st = gos_spawn_logged(argv, log);
	if (st != 0) {
		size_t ll = 0;
		gos_diags tmp;
		gos_diags_init(&tmp);
		char *text = gos_read_file(&tmp, log, &ll);
		gos_diags_free(&tmp);
		if (st < 0 && errno == ENOENT)
			gos_error(d, loc, "cannot run '%s' for target '%s': not installed (Debian qemu-user)",
			          argv[0], e->t.name);
		else
			gos_error(d, loc, "the runner of target '%s' failed (exit %d)%s%.2000s", e->t.name,
			          st, text && *text ? ":\n" : "", text ? text : "");
		free(text);
		goto done;
	}
	/* output file names follow the runner's rule: unsafe characters -> '_' */
	for (int o = 0; o < e->n_out; o++) {
		const gos_value *v = &m->vals[m->outputs[o]];
		char *f = gos_malloc(pl + strlen(v->name));
		if (!f)
			goto done;
		int k = snprintf(f, pl + strlen(v->name), "%s/", outdir);
		for (const char *p = v->name; *p; p++)
			f[k++] = (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-') ? *p : '_';
		strcpy(f + k, ".npy");
		files[e->n_in + o] = f;
		gos_tensor t;
		if (gos_npy_read(f, &t, d))
			goto done;
		int64_t got = gos_numel(t.rank, t.shape);
		if (t.rank < 1 || t.shape[0] != n || got != n * e->out_numel[o]) {
			gos_error(d, loc, "the runner wrote %lld values for output '%s', expected %lld",
			          (long long)got, v->name, (long long)(n * e->out_numel[o]));
			free(t.data);
			goto done;
		}
		memcpy(out[o], t.data, sizeof(float) * (size_t)got);
		free(t.data);
	}
	rc = 0;
done:
	for (int i = 0; files && i < e->n_in + e->n_out; i++) {
		if (files[i])
			unlink(files[i]);
		free(files[i]);
	}
	if (log)
		unlink(log);
	if (outdir)
		rmdir(outdir);
	for (int k = 0; argv && k < na; k++)
		free(argv[k]);
	free(argv);
	free(files);
	free(outdir);
	free(log);
	return rc;
}

int gos_engine_run(gos_engine *e, int64_t n, const float *const *in, float *const *out,
                   gos_diags *d)
{
	if (n <= 0)
		return 0;
	return e->k == K_RUNNER ? run_runner(e, n, in, out, d) : run_threads(e, n, in, out, d);
}
