/* gos-onnx-test -- the ONNX conformance runner: imports each test case's
 * model.onnx, runs it with the inputs of every test_data_set_* on the
 * reference interpreter and/or as compiled code (gosc -emit=exe for host,
 * or armv8 under qemu), compares with the expected outputs and prints one
 * line per case (passed / failed / unsupported with the reason), then
 * `N passed, M failed, K skipped`. Thin: the work is in libgos and gosc. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/onnx/onnx.h"
#include "support/tensorio.h"

static void usage(FILE *f)
{
	fputs("usage: gos-onnx-test [options] PATH...\n"
	      "  PATH is a test case (a directory with model.onnx and test_data_set_*/)\n"
	      "  or a directory of test cases (e.g. /usr/share/libonnx-testdata/data/node).\n"
	      "  --backends=LIST    comma list of: interp (the reference interpreter,\n"
	      "                     in process), host (gosc -target=host -emit=exe),\n"
	      "                     armv8 (gosc -target=armv8 -emit=exe, run under qemu);\n"
	      "                     default interp\n"
	      "  --gosc=PATH        the gosc to compile with (default: beside this program)\n"
	      "  --qemu=PATH        the emulator for armv8 (default qemu-aarch64)\n"
	      "  --ops=A,B,...      only cases whose graphs use nothing but these operators\n"
	      "                     and have float inputs and outputs (others are not listed)\n"
	      "  --scope=issue4     --ops= the 31 operators of the conformance goal\n"
	      "  --sample=N         only every N-th case (in name order, after --ops),\n"
	      "                     for quick runs\n"
	      "  --rtol=R --atol=A  tolerance |y - ref| <= A + R |ref| (default 1e-3, 1e-5)\n"
	      "  --scale-tol=T      instead: |y - ref| <= T max |ref| (whole networks)\n"
	      "  --markdown         print the table in Markdown\n"
	      "  --timeout=S        a case running longer than S seconds fails (default 600)\n"
	      "  -v                 print the error messages of failed cases on stderr\n"
	      "Each case runs in a child process: a crash or a time-out fails that case.\n"
	      "A graph input that the importer needs as a constant (e.g. Reshape's shape\n"
	      "in the node tests) is bound to its value from the test data set; compiled\n"
	      "backends then compile the imported module (written as .gir) instead of\n"
	      "the .onnx.\n"
	      "A case passes when it passes on every backend; the last line counts cases.\n"
	      "Exit status: 0 when no case failed, 1 otherwise.\n",
	      f);
}

static const char *const issue4_ops =
	"Conv,Gemm,MatMul,Relu,Clip,Sigmoid,Tanh,HardSwish,HardSigmoid,LeakyRelu,Add,Sub,Mul,"
	"Div,BatchNormalization,MaxPool,AveragePool,GlobalAveragePool,GlobalMaxPool,Concat,"
	"Reshape,Flatten,Transpose,Softmax,Pad,Identity,Constant,ReduceMean,Squeeze,Unsqueeze,"
	"Dropout";

enum { B_INTERP, B_HOST, B_ARMV8, NB };
static const char *const backend_names[NB] = {"interp", "host", "armv8"};

typedef struct opts {
	const char *ops;    /* comma list or NULL */
	int sample;
	double rtol, atol;
	double scale_tol;   /* > 0: |y - ref| <= scale_tol * max |ref| instead */
	int markdown, verbose;
	int timeout;        /* seconds per case */
	int use[NB];        /* backends to run */
	const char *gosc, *qemu;
} opts;

typedef struct counts {
	int passed, failed, skipped;
	int be[NB][3];      /* per backend: passed, failed, unsupported */
} counts;

/* ---- small helpers -------------------------------------------------------- */

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir starting with prefix; *n of them. */
static char **list_dir(const char *dir, const char *prefix, int *n)
{
	*n = 0;
	DIR *dp = opendir(dir);
	if (!dp)
		return NULL;
	char **v = NULL;
	int cap = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			char **nv = realloc(v, sizeof *v * (size_t)cap);
			if (!nv)
				break;
			v = nv;
		}
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(dp);
	if (v)
		qsort(v, (size_t)*n, sizeof *v, cmp_str);
	return v;
}

static void free_list(char **v, int n)
{
	for (int k = 0; k < n; k++)
		free(v[k]);
	free(v);
}

/* 1 if op is in the comma list ops. */
static int in_list(const char *ops, const char *op)
{
	size_t n = strlen(op);
	for (const char *p = ops; *p;) {
		const char *e = strchr(p, ',');
		size_t k = e ? (size_t)(e - p) : strlen(p);
		if (k == n && !strncmp(p, op, n))
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* The first error of d as one line (static buffer). */
static const char *first_error(const gos_diags *d)
{
	static char buf[512];
	for (int k = 0; k < d->n; k++) {
		if (d->v[k].sev == GOS_ERROR) {
			snprintf(buf, sizeof buf, "%s", d->v[k].msg);
			for (char *p = buf; *p; p++)
				if (*p == '\n')
					*p = ' ';
			return buf;
		}
	}
	return "(no message)";
}

/* The first line of file path containing "error", else its first line. */
static const char *first_error_line(const char *path)
{
	static char buf[512], first[512];
	FILE *f = fopen(path, "r");
	buf[0] = first[0] = 0;
	if (!f)
		return "(no message)";
	while (fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\n")] = 0;
		if (!first[0])
			snprintf(first, sizeof first, "%s", buf);
		if (strstr(buf, "error")) {
			fclose(f);
			return buf;
		}
	}
	fclose(f);
	return first[0] ? first : "(no message)";
}

/* Runs argv with stdout and stderr to file log; returns the exit status,
 * 128 + signal, or -1 if it could not start. */
static int run_cmd(char *const *argv, const char *log)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "error: cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- one case ------------------------------------------------------------- */

typedef struct bres {
	int status;         /* 0 passed, 1 failed, 2 unsupported, -1 not run */
	char detail[1024];
	double max_err;     /* passed: largest |y - ref| over all outputs */
	double scale;       /* passed: largest |ref| */
} bres;

typedef struct result {
	bres b[NB];
} result;

static void set_detail(bres *r, int status, const char *fmt, const char *a)
{
	r->status = status;
	snprintf(r->detail, sizeof r->detail, fmt, a);
}

/* Compares got with want; fills r on a mismatch. Returns 0 if equal. */
static int compare(const opts *o, const char *name, const gos_tensor *got,
                   const gos_onnx_tensor *want, bres *r)
{
	int same_shape = got->rank == want->rank;
	for (int k = 0; same_shape && k < got->rank; k++)
		same_shape = got->shape[k] == want->shape[k];
	if (!same_shape) {
		char g[128] = "", w[128] = "";
		for (int k = 0; k < got->rank; k++)
			snprintf(g + strlen(g), sizeof g - strlen(g), "%s%lld", k ? "," : "",
			         (long long)got->shape[k]);
		for (int k = 0; k < want->rank; k++)
			snprintf(w + strlen(w), sizeof w - strlen(w), "%s%lld", k ? "," : "",
			         (long long)want->shape[k]);
		r->status = 1;
		snprintf(r->detail, sizeof r->detail, "output '%s' has shape [%s], expected [%s]",
		         name, g, w);
		return -1;
	}
	double scale = 0, max_err = 0;
	for (int64_t k = 0; k < want->numel; k++)
		if (isfinite(want->f[k]) && fabs(want->f[k]) > scale)
			scale = fabs(want->f[k]);
	int64_t bad = 0, worst = -1;
	double worst_excess = 0;
	for (int64_t k = 0; k < want->numel; k++) {
		double y = got->data[k], ref = want->f[k];
		if (isnan(ref) && isnan(y))
			continue;
		if (isinf(ref) && y == ref)
			continue;
		double err = fabs(y - ref);
		double tol = o->scale_tol > 0 ? o->scale_tol * scale : o->atol + o->rtol * fabs(ref);
		if (err > max_err || isnan(err))
			max_err = isnan(err) ? INFINITY : err;
		if (!(err <= tol)) {
			bad++;
			double excess = isnan(err) ? INFINITY : err - tol;
			if (worst < 0 || excess > worst_excess) {
				worst = k;
				worst_excess = excess;
			}
		}
	}
	if (!bad) {
		if (max_err > r->max_err)
			r->max_err = max_err;
		if (scale > r->scale)
			r->scale = scale;
		return 0;
	}
	r->status = 1;
	snprintf(r->detail, sizeof r->detail,
	         "output '%s': %lld of %lld values differ; worst at %lld: got %.9g, expected %.9g "
	         "(max |ref| %.3g)", name, (long long)bad, (long long)want->numel, (long long)worst,
	         (double)got->data[worst], (double)want->f[worst], scale);
	return -1;
}

/* Reads input_K.pb / output_K.pb, K = 0, 1, ... of one data set. */
static int read_set(const char *set, const char *prefix, gos_onnx_tensor **ts, int *n,
                    gos_diags *d)
{
	int nn;
	char **names = list_dir(set, prefix, &nn);
	*n = 0;
	*ts = calloc((size_t)nn + 1, sizeof **ts);
	if (!*ts) {
		free_list(names, nn);
		return -1;
	}
	int rc = 0;
	for (int k = 0; k < nn && !rc; k++) {
		char file[64];
		snprintf(file, sizeof file, "%s%d.pb", prefix, k);
		char *p = join(set, file);
		rc = !p || gos_onnx_tensor_read(p, &(*ts)[k], d);
		free(p);
		*n = k + 1;
	}
	free_list(names, nn);
	return rc ? -1 : 0;
}

static void free_tensors(gos_onnx_tensor *ts, int n)
{
	for (int k = 0; k < n; k++)
		gos_onnx_tensor_free(&ts[k]);
	free(ts);
}

/* The file name the compiled runner gives value `name`. */
static char *npy_name(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(name);
	char *s = malloc(n + strlen(suffix) + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		         c == '_' || c == '.' || c == '-';
		s[i] = ok ? c : '_';
	}
	strcpy(s + n, suffix);
	char *p = join(dir, s);
	free(s);
	return p;
}

/* Everything one data set needs. */
typedef struct dataset {
	gos_onnx_tensor *ins, *outs;
	int n_in, n_out;
	gos_module *m;         /* imported, materialised */
	gos_tensor *args;      /* module inputs in order */
	int n_args;
	int n_bind;
} dataset;

static void dataset_free(dataset *s)
{
	gos_module_free(s->m);
	free(s->args);
	free_tensors(s->ins, s->n_in);
	free_tensors(s->outs, s->n_out);
	memset(s, 0, sizeof *s);
}

/* Reads a data set and imports the model for it. Returns 0, or fills r
 * (for every backend) and returns -1. */
static int prepare(const opts *o, const char *model, const gos_onnx_info *info,
                   const char *set, dataset *s, result *r)
{
	gos_diags d;
	gos_diags_init(&d);
	int status = 1;
	const char *why = NULL;
	char buf[600];
	if (read_set(set, "input_", &s->ins, &s->n_in, &d) ||
	    read_set(set, "output_", &s->outs, &s->n_out, &d)) {
		snprintf(buf, sizeof buf, "cannot read the test data: %s", first_error(&d));
		why = buf;
		goto done;
	}
	/* name the inputs after the graph's when the files do not */
	for (int k = 0; k < s->n_in && k < info->n_inputs; k++) {
		if (!s->ins[k].name[0]) {
			free(s->ins[k].name);
			s->ins[k].name = strdup(info->inputs[k]);
		}
	}
	/* import; bind inputs the importer needs as constants, one by one */
	gos_onnx_tensor bind[16];
	gos_onnx_options opt;
	memset(&opt, 0, sizeof opt);
	opt.bind = bind;
	for (;;) {
		gos_diags_free(&d);
		gos_diags_init(&d);
		s->m = gos_onnx_load(model, &opt, &d);
		if (s->m || !opt.need_const[0] || opt.n_bind == 16)
			break;
		int found = 0;
		for (int k = 0; k < s->n_in && !found; k++) {
			if (s->ins[k].name && !strcmp(s->ins[k].name, opt.need_const)) {
				bind[opt.n_bind++] = s->ins[k];
				found = 1;
			}
		}
		if (!found)
			break;
	}
	s->n_bind = opt.n_bind;
	if (!s->m) {
		status = opt.unsupported ? 2 : 1;
		why = first_error(&d);
		goto done;
	}
	if (gos_verify(s->m, &d)) {
		snprintf(buf, sizeof buf, "the imported module does not verify: %s", first_error(&d));
		why = buf;
		goto done;
	}
	if (gos_module_materialize(s->m, &d)) {
		why = first_error(&d);
		goto done;
	}
	const gos_module *m = s->m;
	s->args = calloc((size_t)m->n_val + 1, sizeof *s->args);
	if (!s->args) {
		why = "out of memory";
		goto done;
	}
	for (int v = 0; v < m->n_val; v++) {
		if (m->vals[v].kind != GOS_VAL_INPUT)
			continue;
		const gos_onnx_tensor *t = NULL;
		for (int k = 0; k < s->n_in && !t; k++)
			if (!strcmp(s->ins[k].name, m->vals[v].name))
				t = &s->ins[k];
		if (!t || !t->is_float) {
			snprintf(buf, sizeof buf, "%s '%s'", !t ? "no test data for input"
			                                        : "no float test data for input",
			         m->vals[v].name);
			why = buf;
			goto done;
		}
		gos_tensor *a = &s->args[s->n_args++];
		a->rank = t->rank;
		memcpy(a->shape, t->shape, sizeof a->shape);
		a->data = t->f;
	}
	if (s->n_out != m->n_output) {
		snprintf(buf, sizeof buf, "the test data has %d outputs, the model %d", s->n_out,
		         m->n_output);
		why = buf;
		goto done;
	}
	for (int k = 0; k < s->n_out; k++) {
		if (!s->outs[k].is_float) {
			status = 2;
			snprintf(buf, sizeof buf, "output %d is not float data", k);
			why = buf;
			goto done;
		}
	}
done:
	if (why) {
		for (int b = 0; b < NB; b++)
			if (o->use[b])
				set_detail(&r->b[b], status, "%s", why);
		if (status == 1 && o->verbose)
			gos_diags_render(&d, stderr);
	}
	gos_diags_free(&d);
	return why ? -1 : 0;
}

static void run_interp(const opts *o, dataset *s, bres *r)
{
	gos_diags d;
	gos_diags_init(&d);
	const gos_module *m = s->m;
	gos_tensor *res = calloc((size_t)m->n_output + 1, sizeof *res);
	if (!res) {
		set_detail(r, 1, "%s", "out of memory");
	} else if (gos_interp_run(m, s->args, res, &d)) {
		set_detail(r, 1, "interpreter: %s", first_error(&d));
		if (o->verbose)
			gos_diags_render(&d, stderr);
	} else {
		for (int k = 0; k < s->n_out; k++)
			if (compare(o, m->vals[m->outputs[k]].name, &res[k], &s->outs[k], r))
				break;
	}
	for (int k = 0; res && k < m->n_output; k++)
		free(res[k].data);
	free(res);
	gos_diags_free(&d);
}

/* Compiles (once per work directory, unless inputs were bound) and runs
 * the model for backend b on data set s. */
static void run_compiled(const opts *o, int b, const char *model, dataset *s, const char *work,
                         bres *r)
{
	char exe[4200], log[4200], gir[4200], outdir[4200];
	snprintf(exe, sizeof exe, "%s/%s.exe", work, backend_names[b]);
	snprintf(log, sizeof log, "%s/%s.log", work, backend_names[b]);
	snprintf(outdir, sizeof outdir, "%s/%s.out", work, backend_names[b]);
	const char *src = model;
	if (s->n_bind) {
		/* the module with the bound inputs folded in */
		snprintf(gir, sizeof gir, "%s/bound.gir", work);
		FILE *f = fopen(gir, "w");
		if (!f) {
			set_detail(r, 1, "%s", "cannot write the module as .gir");
			return;
		}
		gos_ir_print(f, s->m);
		fclose(f);
		src = gir;
		remove(exe);
	}
	if (!is_file(exe)) {
		char target[32];
		snprintf(target, sizeof target, "-target=%s", backend_names[b]);
		char *argv[] = {(char *)o->gosc, (char *)src, target, "-emit=exe", "-o", exe, NULL};
		int rc = run_cmd(argv, log);
		if (rc) {
			char buf[600];
			snprintf(buf, sizeof buf, "gosc (status %d): %s", rc, first_error_line(log));
			set_detail(r, 1, "%s", buf);
			if (o->verbose)
				fprintf(stderr, "%s: gosc %s %s failed\n", model, src, target);
			return;
		}
	}
	/* inputs as .npy, run, outputs from .npy */
	const gos_module *m = s->m;
	char *argv[64];
	char *owned[64];
	int n = 0, n_owned = 0;
	if (b == B_ARMV8)
		argv[n++] = (char *)o->qemu;
	argv[n++] = exe;
	int ai = 0;
	for (int v = 0; v < m->n_val && n < 56; v++) {
		if (m->vals[v].kind != GOS_VAL_INPUT)
			continue;
		char *path = npy_name(work, m->vals[v].name, ".in.npy");
		gos_diags d;
		gos_diags_init(&d);
		int bad = !path || gos_npy_write(path, &s->args[ai++], &d);
		gos_diags_free(&d);
		size_t len = strlen(m->vals[v].name) + (path ? strlen(path) : 0) + 2;
		char *arg = malloc(len);
		if (bad || !arg) {
			free(path);
			free(arg);
			set_detail(r, 1, "%s", "cannot write the inputs");
			goto out;
		}
		snprintf(arg, len, "%s=%s", m->vals[v].name, path);
		free(path);
		argv[n++] = "--input";
		argv[n++] = owned[n_owned++] = arg;
	}
	argv[n++] = "--output-dir";
	argv[n++] = outdir;
	argv[n] = NULL;
	int rc = run_cmd(argv, log);
	if (rc) {
		char buf[600];
		snprintf(buf, sizeof buf, "%s (status %d): %s", b == B_ARMV8 ? "qemu run" : "run", rc,
		         first_error_line(log));
		set_detail(r, 1, "%s", buf);
		goto out;
	}
	for (int k = 0; k < s->n_out; k++) {
		const char *name = m->vals[m->outputs[k]].name;
		char *path = npy_name(outdir, name, ".npy");
		gos_tensor t = {0};
		gos_diags d;
		gos_diags_init(&d);
		int bad = !path || gos_npy_read(path, &t, &d);
		if (bad)
			set_detail(r, 1, "cannot read the output: %s", first_error(&d));
		gos_diags_free(&d);
		free(path);
		int diff = !bad && compare(o, name, &t, &s->outs[k], r);
		free(t.data);
		if (bad || diff)
			break;
	}
out:
	for (int k = 0; k < n_owned; k++)
		free(owned[k]);
}

/* Removes the work directory and what the runs left in it. */
static void remove_tree(const char *dir)
{
	int n;
	char **names = list_dir(dir, "", &n);
	for (int k = 0; k < n; k++) {
		char *p = join(dir, names[k]);
		struct stat st;
		if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(p);
		else if (p)
			remove(p);
		free(p);
	}
	free_list(names, n);
	rmdir(dir);
}

/* Runs every data set of a case on every backend. */
static void run_sets(const opts *o, const char *model, const gos_onnx_info *info,
                     const char *dir, char **sets, int nsets, result *r)
{
	char work[4096];
	const char *t = getenv("TMPDIR");
	snprintf(work, sizeof work, "%s/gos-onnx-test-XXXXXX", t && *t ? t : "/tmp");
	int compiled = o->use[B_HOST] || o->use[B_ARMV8];
	if (compiled && !mkdtemp(work)) {
		for (int b = 0; b < NB; b++)
			if (o->use[b])
				set_detail(&r->b[b], 1, "%s", "cannot create a work directory");
		return;
	}
	for (int k = 0; k < nsets; k++) {
		char *set = join(dir, sets[k]);
		dataset s;
		memset(&s, 0, sizeof s);
		if (set && !prepare(o, model, info, set, &s, r)) {
			for (int b = 0; b < NB; b++) {
				if (!o->use[b] || r->b[b].status > 0)
					continue;
				if (b == B_INTERP)
					run_interp(o, &s, &r->b[b]);
				else
					run_compiled(o, b, model, &s, work, &r->b[b]);
			}
		}
		dataset_free(&s);
		free(set);
	}
	if (compiled)
		remove_tree(work);
}

/* Runs run_sets in a child process, so that a crash or a hang is reported
 * as a failure of this case only. */
static void run_isolated(const opts *o, const char *model, const gos_onnx_info *info,
                         const char *dir, char **sets, int nsets, result *r)
{
	int fd[2];
	if (pipe(fd)) {
		for (int b = 0; b < NB; b++)
			if (o->use[b])
				set_detail(&r->b[b], 1, "%s", "cannot create a pipe");
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		close(fd[0]);
		alarm((unsigned)o->timeout);
		run_sets(o, model, info, dir, sets, nsets, r);
		ssize_t w = write(fd[1], r, sizeof *r);
		_exit(w == (ssize_t)sizeof *r ? 0 : 1);
	}
	close(fd[1]);
	ssize_t got = 0, n;
	while (pid > 0 && got < (ssize_t)sizeof *r &&
	       (n = read(fd[0], (char *)r + got, sizeof *r - (size_t)got)) > 0)
		got += n;
	close(fd[0]);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (got != (ssize_t)sizeof *r) {
		char buf[64];
		if (pid < 0)
			snprintf(buf, sizeof buf, "cannot fork");
		else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
			snprintf(buf, sizeof buf, "timed out after %d s", o->timeout);
		else if (WIFSIGNALED(st))
			snprintf(buf, sizeof buf, "crashed (signal %d)", WTERMSIG(st));
		else
			snprintf(buf, sizeof buf, "exited with status %d", WEXITSTATUS(st));
		for (int b = 0; b < NB; b++)
			if (o->use[b])
				set_detail(&r->b[b], 1, "%s", buf);
	}
}

/* 1 if the case with this model passes the --ops filter. */
static int in_scope(const opts *o, const char *model)
{
	if (!o->ops)
		return 1;
	gos_diags d;
	gos_diags_init(&d);
	gos_onnx_info info;
	int ok = !gos_onnx_info_read(model, &info, &d);
	for (int k = 0; ok && k < info.n_ops; k++)
		ok = in_list(o->ops, info.ops[k]);
	for (int k = 0; ok && k < info.n_inputs; k++)
		ok = info.input_types[k] == 1;
	for (int k = 0; ok && k < info.n_outputs; k++)
		ok = info.output_types[k] == 1;
	gos_onnx_info_free(&info);
	gos_diags_free(&d);
	return ok;
}

/* Runs case dir (named name) and prints its line, unless filtered. */
static void run_case(const opts *o, const char *dir, const char *name, counts *c)
{
	char *model = join(dir, "model.onnx");
	gos_diags d;
	gos_diags_init(&d);
	gos_onnx_info info;
	result r;
	memset(&r, 0, sizeof r);
	for (int b = 0; b < NB; b++)
		r.b[b].status = o->use[b] ? 0 : -1;
	const char *why = NULL;
	int status = 0;
	if (gos_onnx_info_read(model, &info, &d)) {
		if (o->ops)
			goto out; /* cannot tell whether it is in scope */
		status = 1;
		why = first_error(&d);
	} else {
		int listed = 1;
		if (o->ops) {
			for (int k = 0; k < info.n_ops; k++)
				listed &= in_list(o->ops, info.ops[k]);
			for (int k = 0; k < info.n_inputs; k++)
				listed &= info.input_types[k] == 1;
			for (int k = 0; k < info.n_outputs; k++)
				listed &= info.output_types[k] == 1;
		}
		if (!listed) {
			gos_onnx_info_free(&info);
			goto out;
		}
		char buf[300];
		for (int k = 0; k < info.n_inputs && !why; k++)
			if (!info.input_types[k] || info.input_types[k] == 8) {
				snprintf(buf, sizeof buf, "input '%s' is not a numeric tensor", info.inputs[k]);
				why = buf, status = 2;
			}
		for (int k = 0; k < info.n_outputs && !why; k++)
			if (info.output_types[k] != 1) {
				snprintf(buf, sizeof buf, "output '%s' is not a float tensor", info.outputs[k]);
				why = buf, status = 2;
			}
		int nsets = 0;
		char **sets = why ? NULL : list_dir(dir, "test_data_set_", &nsets);
		if (!why && !nsets)
			why = "no test data sets", status = 2;
		if (why) {
			for (int b = 0; b < NB; b++)
				if (o->use[b])
					set_detail(&r.b[b], status, "%s", why);
		} else {
			run_isolated(o, model, &info, dir, sets, nsets, &r);
		}
		free_list(sets, nsets);
		gos_onnx_info_free(&info);
		why = NULL;
	}
	if (why) {
		for (int b = 0; b < NB; b++)
			if (o->use[b])
				set_detail(&r.b[b], status, "%s", why);
	}
	/* the case: unsupported if unsupported anywhere, else failed if
	 * failed anywhere; detail from the first such backend */
	int cs = 0, first = -1;
	for (int b = 0; b < NB; b++) {
		if (!o->use[b])
			continue;
		c->be[b][r.b[b].status]++;
		if (r.b[b].status == 2 && cs != 2) {
			cs = 2;
			first = b;
		} else if (r.b[b].status == 1 && cs == 0) {
			cs = 1;
			first = b;
		}
	}
	char detail[700] = "";
	if (first >= 0) {
		int n_use = 0;
		for (int b = 0; b < NB; b++)
			n_use += o->use[b];
		if (n_use > 1 && cs == 1)
			snprintf(detail, sizeof detail, "%s: %s", backend_names[first], r.b[first].detail);
		else
			snprintf(detail, sizeof detail, "%s", r.b[first].detail);
	} else {
		double err = 0, scale = 0;
		for (int b = 0; b < NB; b++)
			if (o->use[b]) {
				err = fmax(err, r.b[b].max_err);
				scale = fmax(scale, r.b[b].scale);
			}
		if (scale > 0)
			snprintf(detail, sizeof detail, "max |err| %.2g = %.2g of max |ref| %.3g", err,
			         err / scale, scale);
	}
	static const char *const words[] = {"passed", "failed", "unsupported"};
	char cols[64] = "";
	int n_use = 0;
	for (int b = 0; b < NB; b++)
		n_use += o->use[b];
	if (n_use > 1)
		for (int b = 0; b < NB; b++)
			if (o->use[b])
				snprintf(cols + strlen(cols), sizeof cols - strlen(cols), o->markdown ? " %s |" : " %-6s",
				         r.b[b].status == 0 ? "ok" : r.b[b].status == 1 ? "FAIL" : "-");
	if (o->markdown) {
		/* '|' would end the cell */
		char esc[1500];
		size_t k = 0;
		for (const char *p = detail; *p && k + 3 < sizeof esc; p++) {
			if (*p == '|')
				esc[k++] = '\\';
			esc[k++] = *p;
		}
		esc[k] = 0;
		printf("| %s | %s |%s %s |\n", name, words[cs], cols, esc);
	}
	else {
		printf("%-58s %-11s%s %s\n", name, words[cs], cols, detail);
	}
	fflush(stdout);
	if (cs == 0)
		c->passed++;
	else if (cs == 1)
		c->failed++;
	else
		c->skipped++;
out:
	gos_diags_free(&d);
	free(model);
}

/* The gosc beside this program. */
static char *default_gosc(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return strdup("gosc");
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	return join(self, "gosc");
}

int main(int argc, char **argv)
{
	opts o;
	memset(&o, 0, sizeof o);
	o.sample = 1;
	o.rtol = 1e-3;
	o.atol = 1e-5;
	o.timeout = 600;
	o.use[B_INTERP] = 1;
	o.qemu = "qemu-aarch64";
	char *gosc = NULL;
	/* the case paths, gathered at the front of argv (n_paths < i always) */
	char **paths = argv;
	int n_paths = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strncmp(a, "--backends=", 11)) {
			memset(o.use, 0, sizeof o.use);
			int any = 0;
			for (int b = 0; b < NB; b++)
				any |= o.use[b] = in_list(a + 11, backend_names[b]);
			if (!any) {
				fprintf(stderr, "gos-onnx-test: error: no known backend in '%s'\n", a + 11);
				return 1;
			}
		} else if (!strncmp(a, "--gosc=", 7)) {
			o.gosc = a + 7;
		} else if (!strncmp(a, "--qemu=", 7)) {
			o.qemu = a + 7;
		} else if (!strncmp(a, "--ops=", 6)) {
			o.ops = a + 6;
		} else if (!strcmp(a, "--scope=issue4")) {
			o.ops = issue4_ops;
		} else if (!strncmp(a, "--sample=", 9)) {
			o.sample = atoi(a + 9);
		} else if (!strncmp(a, "--rtol=", 7)) {
			o.rtol = atof(a + 7);
		} else if (!strncmp(a, "--atol=", 7)) {
			o.atol = atof(a + 7);
		} else if (!strncmp(a, "--scale-tol=", 12)) {
			o.scale_tol = atof(a + 12);
		} else if (!strncmp(a, "--timeout=", 10)) {
			o.timeout = atoi(a + 10);
		} else if (!strcmp(a, "--markdown")) {
			o.markdown = 1;
		} else if (!strcmp(a, "-v")) {
			o.verbose = 1;
		} else if (a[0] == '-') {
			fprintf(stderr, "gos-onnx-test: error: unknown option '%s'\n", a);
			usage(stderr);
			return 1;
		} else {
			paths[n_paths++] = argv[i];
		}
	}
	if (!n_paths || o.sample < 1) {
		usage(stderr);
		return 1;
	}
	if (!gos_onnx_available()) {
		fprintf(stderr, "gos-onnx-test: error: built without ONNX support\n");
		return 1;
	}
	if (!o.gosc)
		o.gosc = gosc = default_gosc();
	if (o.markdown) {
		printf("| test | result |");
		int n_use = 0;
		for (int b = 0; b < NB; b++)
			n_use += o.use[b];
		for (int b = 0; n_use > 1 && b < NB; b++)
			if (o.use[b])
				printf(" %s |", backend_names[b]);
		printf(" detail |\n|---|---|");
		for (int b = 0; n_use > 1 && b < NB; b++)
			if (o.use[b])
				printf("---|");
		printf("---|\n");
	}
	counts c;
	memset(&c, 0, sizeof c);
	int seen = 0;
	for (int p = 0; p < n_paths; p++) {
		char *model = join(paths[p], "model.onnx");
		int single = model && is_file(model);
		free(model);
		if (single) {
			const char *base = strrchr(paths[p], '/');
			run_case(&o, paths[p], base && base[1] ? base + 1 : paths[p], &c);
			continue;
		}
		int n;
		char **cases = list_dir(paths[p], "", &n);
		if (!cases) {
			fprintf(stderr, "gos-onnx-test: error: cannot read '%s'\n", paths[p]);
			free(gosc);
			return 1;
		}
		const char *group = strrchr(paths[p], '/');
		group = group && group[1] ? group + 1 : paths[p];
		for (int k = 0; k < n; k++) {
			char *dir = join(paths[p], cases[k]);
			char *mf = join(dir, "model.onnx");
			if (is_file(mf) && in_scope(&o, mf) && seen++ % o.sample == 0) {
				char name[512];
				snprintf(name, sizeof name, "%s/%s", group, cases[k]);
				run_case(&o, dir, name, &c);
			}
			free(mf);
			free(dir);
		}
		free_list(cases, n);
	}
	int n_use = 0;
	for (int b = 0; b < NB; b++)
		n_use += o.use[b];
	for (int b = 0; n_use > 1 && b < NB; b++)
		if (o.use[b])
			printf("%s%s: %d passed, %d failed, %d skipped\n", o.markdown ? "\n" : "",
			       backend_names[b], c.be[b][0], c.be[b][1], c.be[b][2]);
	printf("%s%d passed, %d failed, %d skipped\n", o.markdown ? "\n" : "", c.passed, c.failed,
	       c.skipped);
	free(gosc);
	return c.failed ? 1 : 0;
}
