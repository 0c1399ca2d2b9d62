/* search_local.c -- see search_local.h. */
#include "tools/mpi/search_local.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int gos_search_local_start(gos_search_local *p, int n)
{
	memset(p, 0, sizeof *p);
	p->size = 1;
	if (n < 2)
		return 0;
	if (n > GOS_SEARCH_LOCAL_MAX)
		n = GOS_SEARCH_LOCAL_MAX;
	fflush(stdout);
	fflush(stderr);
	pid_t parent = getpid();
	for (int r = 1; r < n; r++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			break;
		pid_t pid = fork();
		if (pid < 0) {
			close(sv[0]);
			close(sv[1]);
			break;
		}
		if (pid == 0) { /* the child: rank r, one socket to process 0 */
			for (int k = 1; k < r; k++)
				close(p->fd[k]);
			close(sv[0]);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			memset(p, 0, sizeof *p);
			p->rank = r;
			p->size = n;
			p->fd[0] = sv[1];
			return 0;
		}
		close(sv[1]);
		p->fd[r] = sv[0];
		p->pid[r] = pid;
		p->size = r + 1;
	}
	if (p->size == n)
		return 0;
	/* the children know n processes: without all of them, none */
	for (int r = 1; r < p->size; r++) {
		kill(p->pid[r], SIGKILL);
		waitpid(p->pid[r], NULL, 0);
		close(p->fd[r]);
	}
	memset(p, 0, sizeof *p);
	p->size = 1;
	return -1;
}

void gos_search_block(int n, int size, int r, int *lo, int *hi)
{
	*lo = (int)(((long long)n * r + size - 1) / size);
	*hi = (int)(((long long)n * (r + 1) + size - 1) / size);
}

/* Sends (out) or receives n bytes of buf over socket fd, all of them.
 * A dead peer is an error, not SIGPIPE. Returns 0 or -1. */
static int xfer(int fd, void *buf, size_t n, int out)
{
	char *b = buf;
	while (n) {
		ssize_t k = out ? send(fd, b, n, MSG_NOSIGNAL) : read(fd, b, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Process 0 goes on alone: the children are stopped. */
static void go_alone(gos_search_local *p)
{
	for (int r = 1; r < p->size; r++) {
		if (p->pid[r] > 0) {
			kill(p->pid[r], SIGKILL);
			waitpid(p->pid[r], NULL, 0);
		}
		close(p->fd[r]);
		p->pid[r] = 0;
	}
	p->alone = 1;
}

static int run(int lo, int hi, size_t size, gos_search_job job, void *jctx, void *out)
{
	int bad = 0;
	for (int j = lo; j < hi && !bad; j++)
		bad = job(jctx, j, (char *)out + (size_t)j * size) != 0;
	return bad;
}

/* Every process its block; the children send theirs to process 0 (a
 * flag, then the records), which sends every record back with the
 * common flag. */
static int local_map(void *mctx, int n, size_t size, gos_search_job job, void *jctx, void *out)
{
	gos_search_local *p = mctx;
	if (p->alone)
		return run(0, n, size, job, jctx, out) ? -1 : 0;
	int lo, hi;
	gos_search_block(n, p->size, p->rank, &lo, &hi);
	int32_t bad = run(lo, hi, size, job, jctx, out);
	if (p->rank > 0) {
		if (xfer(p->fd[0], &bad, sizeof bad, 1) ||
		    xfer(p->fd[0], (char *)out + (size_t)lo * size, (size_t)(hi - lo) * size, 1) ||
		    xfer(p->fd[0], &bad, sizeof bad, 0) || xfer(p->fd[0], out, (size_t)n * size, 0))
			_exit(1); /* process 0 is gone */
		return bad ? -1 : 0;
	}
	for (int r = 1; r < p->size; r++) {
		int a, b;
		int32_t theirs = 0;
		gos_search_block(n, p->size, r, &a, &b);
		if (xfer(p->fd[r], &theirs, sizeof theirs, 0) ||
		    xfer(p->fd[r], (char *)out + (size_t)a * size, (size_t)(b - a) * size, 0)) {
			/* a child died: its jobs and the rest's, here */
			go_alone(p);
			return bad || run(a, n, size, job, jctx, out) ? -1 : 0;
		}
		bad |= theirs;
	}
	for (int r = 1; r < p->size; r++)
		if (xfer(p->fd[r], &bad, sizeof bad, 1) || xfer(p->fd[r], out, (size_t)n * size, 1)) {
			go_alone(p);
			break;
		}
	return bad ? -1 : 0;
}

void gos_search_local_opts(gos_search_local *p, gos_search_opts *o)
{
	if (p->size > 1) {
		o->map = local_map;
		o->map_ctx = p;
	}
}

void gos_search_local_finish(gos_search_local *p, int rc)
{
	if (p->rank > 0) {
		fflush(stdout);
		fflush(stderr);
		_exit(rc ? 1 : 0);
	}
	for (int r = 1; r < p->size && !p->alone; r++) {
		close(p->fd[r]);
		if (p->pid[r] > 0)
			waitpid(p->pid[r], NULL, 0);
	}
	p->size = 1;
	p->alone = 0;
}
