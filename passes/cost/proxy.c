/* proxy.c -- the proxy measurement of OneProxy: compile the model for
 * this machine with gosc, time it with the generated runner. */
#include "passes/cost/cost.h"
#include "frontend/frontend.h"
#include "support/spawn.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* First line of the file at path (for error messages), in buf. */
static const char *first_lines(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (!f)
		return buf;
	size_t k = fread(buf, 1, n - 1, f);
	buf[k] = 0;
	fclose(f);
	char *nl = strchr(buf, '\n');
	if (nl && nl[1])
		nl = strchr(nl + 1, '\n'); /* keep two lines */
	if (nl)
		*nl = 0;
	return buf;
}

int gos_cost_proxy_measure(const char *gosc, const char *model_path,
                           const gos_load_options *lo_opts, int runs, double *median_ms,
                           double *min_ms, gos_diags *d)
{
	gos_loc loc = {model_path, 0, 0};
	const char *tmpdir = getenv("TMPDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/gos-cost-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(dir)) {
		gos_error(d, loc, "proxy: cannot create a temporary directory: %s", strerror(errno));
		return -1;
	}
	char exe[4200], log[4200], outarg[4300], runs_s[32], msg[512];
	snprintf(exe, sizeof exe, "%s/runner", dir);
	snprintf(log, sizeof log, "%s/log", dir);
	snprintf(outarg, sizeof outarg, "%s", exe);
	snprintf(runs_s, sizeof runs_s, "%d", runs > 0 ? runs : 10);
	int result = -1;
	/* gosc MODEL -target=host -emit=exe -o EXE [-input-shape NAME=D0,..]... */
	enum { FIXED = 6 };
	char *cargv[FIXED + 2 * GOS_MAX_INPUT_SHAPES + 1] = {
		(char *)gosc, (char *)model_path, "-target=host", "-emit=exe", "-o", outarg};
	char shape_s[GOS_MAX_INPUT_SHAPES][256 + 24 * GOS_MAX_RANK];
	int na = FIXED;
	for (int k = 0; lo_opts && k < lo_opts->n_shapes; k++) {
		const gos_input_shape *is = &lo_opts->shapes[k];
		size_t n = (size_t)snprintf(shape_s[k], sizeof shape_s[k], "%s=", is->name);
		for (int j = 0; j < is->rank && n < sizeof shape_s[k]; j++)
			n += (size_t)snprintf(shape_s[k] + n, sizeof shape_s[k] - n, "%s%lld",
			                      j ? "," : "", (long long)is->dims[j]);
		cargv[na++] = "-input-shape";
		cargv[na++] = shape_s[k];
	}
	cargv[na] = NULL;
	int st = gos_spawn_logged(cargv, log);
	if (st != 0) {
		gos_error(d, loc, "proxy: `%s %s -target=host -emit=exe` failed (status %d): %s",
		          gosc, model_path, st, first_lines(log, msg, sizeof msg));
		goto done;
	}
	char *rargv[] = {exe, "--random-inputs", "--bench", runs_s, NULL};
	st = gos_spawn_logged(rargv, log);
	if (st != 0) {
		gos_error(d, loc, "proxy: the runner failed (status %d): %s", st,
		          first_lines(log, msg, sizeof msg));
		goto done;
	}
	FILE *f = fopen(log, "r");
	char line[1024];
	double med = NAN, lo = NAN;
	while (f && fgets(line, sizeof line, f)) {
		char *p = strstr(line, "median_ms=");
		if (p)
			med = strtod(p + 10, NULL);
		p = strstr(line, "min_ms=");
		if (p)
			lo = strtod(p + 7, NULL);
	}
	if (f)
		fclose(f);
	if (!(med >= 0) || (min_ms && !(lo >= 0))) {
		gos_error(d, loc, "proxy: the runner printed no median_ms=<x> min_ms=<y>");
		goto done;
	}
	*median_ms = med;
	if (min_ms)
		*min_ms = lo;
	result = 0;
done:
	unlink(exe);
	unlink(log);
	rmdir(dir);
	return result;
}
