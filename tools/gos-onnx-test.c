/* gos-onnx-test -- the ONNX conformance runner: imports each test case's
 * model.onnx, runs it on the reference interpreter with the inputs of
 * every test_data_set_*, compares with the expected outputs and prints
 * one line per case (passed / failed / unsupported with the reason), then
 * `N passed, M failed, K skipped`. Thin: the work is in libgos. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/onnx/onnx.h"

static void usage(FILE *f)
{
	fputs("usage: gos-onnx-test [options] PATH...\n"
	      "  PATH is a test case (a directory with model.onnx and test_data_set_*/)\n"
	      "  or a directory of test cases (e.g. /usr/share/libonnx-testdata/data/node).\n"
	      "  --ops=A,B,...      only cases whose graphs use nothing but these operators\n"
	      "                     and have float inputs and outputs (others are not listed)\n"
	      "  --scope=issue4     --ops= the 31 operators of the conformance goal\n"
	      "  --sample=N         only every N-th case (in name order), for quick runs\n"
	      "  --rtol=R --atol=A  tolerance |y - ref| <= A + R |ref| (default 1e-3, 1e-5)\n"
	      "  --markdown         print the table in Markdown\n"
	      "  --timeout=S        a case running longer than S seconds fails (default 600)\n"
	      "  -v                 print every error message of failed cases\n"
	      "Each case runs in a child process: a crash or a time-out fails that case.\n"
	      "A graph input that the importer needs as a constant (e.g. Reshape's shape\n"
	      "in the node tests) is bound to its value from the test data set.\n"
	      "Exit status: 0 when no case failed, 1 otherwise.\n",
	      f);
}

static const char *const issue4_ops =
	"Conv,Gemm,MatMul,Relu,Clip,Sigmoid,Tanh,HardSwish,HardSigmoid,LeakyRelu,Add,Sub,Mul,"
	"Div,BatchNormalization,MaxPool,AveragePool,GlobalAveragePool,GlobalMaxPool,Concat,"
	"Reshape,Flatten,Transpose,Softmax,Pad,Identity,Constant,ReduceMean,Squeeze,Unsqueeze,"
	"Dropout";

typedef struct opts {
	const char *ops;   /* comma list or NULL */
	int sample;
	double rtol, atol;
	int markdown, verbose;
	int timeout;       /* seconds per case */
} opts;

typedef struct counts {
	int passed, failed, skipped;
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

/* ---- one case ------------------------------------------------------------- */

typedef struct result {
	int status;        /* 0 passed, 1 failed, 2 unsupported */
	char detail[600];
} result;

static void set_detail(result *r, int status, const char *fmt, const char *a)
{
	r->status = status;
	snprintf(r->detail, sizeof r->detail, fmt, a);
}

/* Compares got with want; fills r on a mismatch. Returns 0 if equal. */
static int compare(const opts *o, const char *name, const gos_tensor *got,
                   const gos_onnx_tensor *want, result *r)
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
	int64_t bad = 0, worst = -1;
	double worst_excess = 0;
	for (int64_t k = 0; k < want->numel; k++) {
		double y = got->data[k], ref = want->f[k];
		if (isnan(ref) && isnan(y))
			continue;
		double err = fabs(y - ref), tol = o->atol + o->rtol * fabs(ref);
		if (isinf(ref) && y == ref)
			continue;
		if (!(err <= tol)) {
			bad++;
			double excess = isnan(err) ? INFINITY : err - tol;
			if (worst < 0 || excess > worst_excess) {
				worst = k;
				worst_excess = excess;
			}
		}
	}
	if (!bad)
		return 0;
	r->status = 1;
	snprintf(r->detail, sizeof r->detail,
	         "output '%s': %lld of %lld values differ; worst at %lld: got %.9g, expected %.9g",
	         name, (long long)bad, (long long)want->numel, (long long)worst,
	         (double)got->data[worst], (double)want->f[worst]);
	return -1;
}

/* Reads every input_K.pb / output_K.pb of one data set. */
static int read_set(const char *set, const char *prefix, gos_onnx_tensor **ts, int *n,
                    gos_diags *d)
{
	char **names;
	int nn;
	*ts = NULL;
	*n = 0;
	names = list_dir(set, prefix, &nn);
	/* numeric order: input_10 after input_9 */
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

/* Runs one data set of a case. */
static void run_set(const opts *o, const char *model, const gos_onnx_info *info,
                    const char *set, result *r)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_onnx_tensor *ins = NULL, *outs = NULL;
	int n_in = 0, n_out = 0;
	gos_module *m = NULL;
	gos_tensor *args = NULL, *res = NULL;
	int n_args = 0;
	if (read_set(set, "input_", &ins, &n_in, &d) || read_set(set, "output_", &outs, &n_out, &d)) {
		set_detail(r, 1, "cannot read the test data: %s", first_error(&d));
		goto done;
	}
	/* name the inputs after the graph's when the files do not */
	for (int k = 0; k < n_in && k < info->n_inputs; k++) {
		if (!ins[k].name[0]) {
			free(ins[k].name);
			ins[k].name = strdup(info->inputs[k]);
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
		m = gos_onnx_load(model, &opt, &d);
		if (m || !opt.need_const[0] || opt.n_bind == 16)
			break;
		int found = 0;
		for (int k = 0; k < n_in && !found; k++) {
			if (ins[k].name && !strcmp(ins[k].name, opt.need_const)) {
				bind[opt.n_bind++] = ins[k];
				found = 1;
			}
		}
		if (!found)
			break;
	}
	if (!m) {
		set_detail(r, opt.unsupported ? 2 : 1, "%s", first_error(&d));
		goto done;
	}
	if (gos_verify(m, &d)) {
		set_detail(r, 1, "the imported module does not verify: %s", first_error(&d));
		goto done;
	}
	if (gos_module_materialize(m, &d)) {
		set_detail(r, 1, "%s", first_error(&d));
		goto done;
	}
	/* inputs in module order, matched by name */
	args = calloc((size_t)m->n_val + 1, sizeof *args);
	res = calloc((size_t)m->n_output + 1, sizeof *res);
	if (!args || !res) {
		set_detail(r, 1, "%s", "out of memory");
		goto done;
	}
	for (int v = 0; v < m->n_val; v++) {
		if (m->vals[v].kind != GOS_VAL_INPUT)
			continue;
		const gos_onnx_tensor *t = NULL;
		for (int k = 0; k < n_in && !t; k++)
			if (!strcmp(ins[k].name, m->vals[v].name))
				t = &ins[k];
		if (!t) {
			set_detail(r, 1, "no test data for input '%s'", m->vals[v].name);
			goto done;
		}
		if (!t->is_float) {
			set_detail(r, 2, "input '%s' is not float data", m->vals[v].name);
			goto done;
		}
		gos_tensor *a = &args[n_args++];
		a->rank = t->rank;
		memcpy(a->shape, t->shape, sizeof a->shape);
		a->data = t->f;
	}
	if (n_out != m->n_output) {
		char buf[64];
		snprintf(buf, sizeof buf, "%d", n_out);
		set_detail(r, 1, "the test data has %s outputs, the model a different number", buf);
		goto done;
	}
	if (gos_interp_run(m, args, res, &d)) {
		set_detail(r, 1, "interpreter: %s", first_error(&d));
		goto done;
	}
	for (int k = 0; k < n_out; k++) {
		if (!outs[k].is_float) {
			set_detail(r, 2, "output %s is not float data", outs[k].name);
			goto done;
		}
		if (compare(o, m->vals[m->outputs[k]].name, &res[k], &outs[k], r))
			goto done;
	}
	r->status = 0;
done:
	if (r->status == 1 && o->verbose)
		gos_diags_render(&d, stderr);
	if (res && m)
		for (int k = 0; k < m->n_output; k++)
			free(res[k].data);
	free(res);
	free(args);
	gos_module_free(m);
	free_tensors(ins, n_in);
	free_tensors(outs, n_out);
	gos_diags_free(&d);
}

/* Runs every data set of a case in a child process, so that a crash or a
 * hang is reported as a failure of this case only. */
static void run_isolated(const opts *o, const char *model, const gos_onnx_info *info,
                         const char *dir, char **sets, int nsets, result *r)
{
	int fd[2];
	if (pipe(fd)) {
		set_detail(r, 1, "%s", "cannot create a pipe");
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		set_detail(r, 1, "%s", "cannot fork");
		return;
	}
	if (pid == 0) {
		close(fd[0]);
		alarm((unsigned)o->timeout);
		for (int k = 0; k < nsets && r->status == 0; k++) {
			char *set = join(dir, sets[k]);
			run_set(o, model, info, set, r);
			free(set);
		}
		ssize_t w = write(fd[1], r, sizeof *r);
		_exit(w == (ssize_t)sizeof *r ? 0 : 1);
	}
	close(fd[1]);
	ssize_t got = 0, n;
	while (got < (ssize_t)sizeof *r && (n = read(fd[0], (char *)r + got, sizeof *r - (size_t)got)) > 0)
		got += n;
	close(fd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	if (got != (ssize_t)sizeof *r) {
		char buf[64];
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM)
			snprintf(buf, sizeof buf, "timed out after %d s", o->timeout);
		else if (WIFSIGNALED(st))
			snprintf(buf, sizeof buf, "crashed (signal %d)", WTERMSIG(st));
		else
			snprintf(buf, sizeof buf, "exited with status %d", WEXITSTATUS(st));
		set_detail(r, 1, "%s", buf);
	}
}

/* Runs case dir (named name); returns 1 if it is listed, 0 if filtered. */
static int run_case(const opts *o, const char *dir, const char *name, counts *c)
{
	char *model = join(dir, "model.onnx");
	gos_diags d;
	gos_diags_init(&d);
	gos_onnx_info info;
	result r = {0};
	int listed = 1;
	if (gos_onnx_info_read(model, &info, &d)) {
		if (o->ops) {
			listed = 0;
			goto out;
		}
		set_detail(&r, 1, "%s", first_error(&d));
	} else {
		if (o->ops) {
			for (int k = 0; k < info.n_ops; k++)
				listed &= in_list(o->ops, info.ops[k]);
			for (int k = 0; k < info.n_inputs; k++)
				listed &= info.input_types[k] == 1;
			for (int k = 0; k < info.n_outputs; k++)
				listed &= info.output_types[k] == 1;
		}
		for (int k = 0; listed && k < info.n_inputs; k++)
			if (!info.input_types[k] || info.input_types[k] == 8)
				set_detail(&r, 2, "input '%s' is not a numeric tensor", info.inputs[k]);
		for (int k = 0; listed && k < info.n_outputs; k++)
			if (info.output_types[k] != 1)
				set_detail(&r, 2, "output '%s' is not a float tensor", info.outputs[k]);
		int nsets = 0;
		char **sets = listed && r.status == 0 ? list_dir(dir, "test_data_set_", &nsets) : NULL;
		if (listed && r.status == 0 && !nsets)
			set_detail(&r, 2, "%s", "no test data sets");
		if (nsets)
			run_isolated(o, model, &info, dir, sets, nsets, &r);
		free_list(sets, nsets);
		gos_onnx_info_free(&info);
	}
	if (listed) {
		static const char *const words[] = {"passed", "failed", "unsupported"};
		if (o->markdown)
			printf("| %s | %s | %s |\n", name, words[r.status], r.detail);
		else
			printf("%-58s %-11s %s\n", name, words[r.status], r.detail);
		fflush(stdout);
		if (r.status == 0)
			c->passed++;
		else if (r.status == 1)
			c->failed++;
		else
			c->skipped++;
	}
out:
	gos_diags_free(&d);
	free(model);
	return listed;
}

int main(int argc, char **argv)
{
	opts o = {NULL, 1, 1e-3, 1e-5, 0, 0, 600};
	const char *paths[64];
	int n_paths = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
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
		} else if (n_paths < 64) {
			paths[n_paths++] = a;
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
	if (o.markdown)
		printf("| test | result | detail |\n|---|---|---|\n");
	counts c = {0, 0, 0};
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
			return 1;
		}
		const char *group = strrchr(paths[p], '/');
		group = group && group[1] ? group + 1 : paths[p];
		for (int k = 0; k < n; k++) {
			char *dir = join(paths[p], cases[k]);
			char *mf = join(dir, "model.onnx");
			if (is_file(mf) && seen++ % o.sample == 0) {
				char name[512];
				snprintf(name, sizeof name, "%s/%s", group, cases[k]);
				run_case(&o, dir, name, &c);
			}
			free(mf);
			free(dir);
		}
		free_list(cases, n);
	}
	printf("%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped);
	return c.failed ? 1 : 0;
}
