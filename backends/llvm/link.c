/* link.c -- building the standalone runner (llvm.h): runtime/runner.c is
 * compiled by the target's C compiler against the model's header and
 * linked with the model's object. */
#include "backends/llvm/llvm.h"
#include "support/alloc.h"
#include "support/datadir.h"
#include "support/spawn.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Splits s at white space, appending copies to argv (at most max). */
static int split(const char *s, char **argv, int n, int max)
{
	while (*s && n < max) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		argv[n++] = gos_strndup(s, (size_t)(e - s));
		s = e;
	}
	return n;
}

int gos_llvm_link_runner(const gos_target *t, const char *obj_path, const char *header_path,
                         const char *prefix, int external, const char *exe_path, gos_diags *d)
{
	gos_loc here = {exe_path, 0, 0};
	char runner[4096];
	if (!gos_datadir_find("GOS_RUNTIME_DIR", "runtime", "runner.c", runner, sizeof runner)) {
		gos_error(d, here, "cannot find runtime/runner.c (set GOS_RUNTIME_DIR to the "
		                   "directory holding it)");
		return -1;
	}
	enum { MAXA = 200 };
	char *argv[MAXA + 1];
	int n = 0;
	n = split(t->cc[0] ? t->cc : "cc", argv, n, 8);
	n = split(t->cflags, argv, n, MAXA - 40);
	char P[160];
	snprintf(P, sizeof P, "%s", prefix);
	for (char *q = P; *q; q++)
		*q = (char)toupper((unsigned char)*q);
	char def_h[4200], def_p[200], def_r[200], def_rp[220];
	snprintf(def_h, sizeof def_h, "-DGOS_MODEL_H=\"%s\"", header_path);
	snprintf(def_p, sizeof def_p, "-DGOS_MODEL_PREFIX=%s_", P);
	snprintf(def_r, sizeof def_r, "-DGOS_MODEL_RUN=%s_run", prefix);
	snprintf(def_rp, sizeof def_rp, "-DGOS_MODEL_RUN_PROFILE=%s_run_profile", prefix);
	const char *fixed[] = {"-O2", "-std=c11", def_h, def_p, def_r, def_rp,
	                       external ? "-DGOS_WEIGHTS_EXTERNAL=1" : "-DGOS_WEIGHTS_EXTERNAL=0",
	                       runner, obj_path, "-o", exe_path};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		argv[n++] = gos_strdup(fixed[i]);
	n = split(t->ldflags, argv, n, MAXA - 2);
	argv[n++] = gos_strdup("-lm");
	argv[n++] = gos_strdup("-pthread"); /* for models compiled with -threads */
	argv[n] = NULL;
	for (int i = 0; i < n; i++)
		if (!argv[i]) {
			gos_error(d, here, "out of memory");
			for (int j = 0; j < n; j++)
				free(argv[j]);
			return -1;
		}
	char log[4300];
	snprintf(log, sizeof log, "%s.log.XXXXXX", exe_path);
	int fd = mkstemp(log);
	if (fd < 0) {
		gos_error(d, here, "cannot create a temporary file next to '%s': %s", exe_path,
		          strerror(errno));
		for (int j = 0; j < n; j++)
			free(argv[j]);
		return -1;
	}
	close(fd);
	int st = gos_spawn_logged(argv, log);
	int rc = 0;
	if (st != 0) {
		char text[3000] = "";
		FILE *f = fopen(log, "r");
		if (f) {
			size_t k = fread(text, 1, sizeof text - 1, f);
			text[k] = 0;
			fclose(f);
		}
		char cmd[1024] = "";
		size_t u = 0;
		for (int i = 0; i < n && u < sizeof cmd; i++)
			u += (size_t)snprintf(cmd + u, sizeof cmd - u, "%s%s", i ? " " : "", argv[i]);
		if (st < 0)
			gos_error(d, here, "cannot run the target's C compiler '%s' (target '%s'): %s", argv[0],
			          t->name, strerror(errno));
		else
			gos_error(d, here, "linking the runner failed (status %d): %s\n%s", st, cmd, text);
		rc = -1;
	}
	unlink(log);
	for (int j = 0; j < n; j++)
		free(argv[j]);
	return rc;
}
