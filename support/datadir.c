/* datadir.c -- the search for shipped files (datadir.h). */
#include "support/datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gos_is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Appends dir (when it exists and is not listed yet; resolved so that
 * the build tree and an install are told apart) to dirs[*k]. */
static void add(char dirs[GOS_DATADIR_MAX][GOS_DATADIR_PATH], int *k, const char *dir)
{
	char real[PATH_MAX];
	if (*k >= GOS_DATADIR_MAX || !is_dir(dir) || !realpath(dir, real))
		return;
	for (int i = 0; i < *k; i++)
		if (!strcmp(dirs[i], real))
			return;
	snprintf(dirs[(*k)++], GOS_DATADIR_PATH, "%s", real);
}

int gos_datadir_list(const char *env, const char *sub, char dirs[GOS_DATADIR_MAX][GOS_DATADIR_PATH])
{
	int k = 0;
	const char *e = env ? getenv(env) : NULL;
	if (e && *e)
		add(dirs, &k, e);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			char dir[PATH_MAX + 64];
			*slash = 0;
			snprintf(dir, sizeof dir, "%s/../share/gosc/%s", exe, sub);
			add(dirs, &k, dir);
		}
	}
#ifdef GOS_SOURCE_DIR
	char src[GOS_DATADIR_PATH];
	snprintf(src, sizeof src, "%s/%s", GOS_SOURCE_DIR, sub);
	add(dirs, &k, src);
#endif
	return k;
}

int gos_datadir_find(const char *env, const char *sub, const char *file, char *out, size_t n)
{
	char dirs[GOS_DATADIR_MAX][GOS_DATADIR_PATH];
	int k = gos_datadir_list(env, sub, dirs);
	for (int i = 0; i < k; i++) {
		snprintf(out, n, "%s/%s", dirs[i], file);
		if (gos_is_file(out))
			return 1;
	}
	if (n)
		out[0] = 0;
	return 0;
}
