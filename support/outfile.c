/* outfile.c -- temporary file + rename, so failures leave no partial output. */
#include "support/outfile.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gos_outfile_open(gos_outfile *o, const char *path)
{
	memset(o, 0, sizeof *o);
	if (!path || strcmp(path, "-") == 0) {
		o->f = stdout;
		return 0;
	}
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or pipe (-o /dev/null): written directly, never replaced */
		o->f = fopen(path, "wb");
		o->direct = 1;
		return o->f ? 0 : -1;
	}
	size_t n = strlen(path);
	o->path = gos_malloc(n + 1);
	o->tmp = gos_malloc(n + 16);
	if (!o->path || !o->tmp) {
		free(o->path);
		free(o->tmp);
		return -1;
	}
	memcpy(o->path, path, n + 1);
	snprintf(o->tmp, n + 16, "%s.tmpXXXXXX", path);
	int fd = mkstemp(o->tmp);
	if (fd < 0 || !(o->f = fdopen(fd, "wb"))) {
		if (fd >= 0) {
			close(fd);
			unlink(o->tmp);
		}
		free(o->path);
		free(o->tmp);
		o->path = o->tmp = NULL;
		return -1;
	}
	return 0;
}

int gos_outfile_commit(gos_outfile *o)
{
	if (o->direct) {
		int bad = ferror(o->f);
		bad |= fclose(o->f) != 0;
		memset(o, 0, sizeof *o);
		return bad ? -1 : 0;
	}
	if (!o->path) {
		int rc = fflush(stdout) || ferror(stdout) ? -1 : 0;
		return rc;
	}
	int bad = ferror(o->f);
	bad |= fclose(o->f) != 0;
	if (!bad) {
		/* mkstemp makes 0600 files; outputs should look like any other */
		mode_t um = umask(0);
		umask(um);
		chmod(o->tmp, 0666 & ~um);
		bad = rename(o->tmp, o->path) != 0;
	}
	if (bad)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof *o);
	return bad ? -1 : 0;
}

void gos_outfile_abort(gos_outfile *o)
{
	if (o->direct)
		fclose(o->f);
	if (o->path) {
		fclose(o->f);
		unlink(o->tmp);
	}
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof *o);
}
