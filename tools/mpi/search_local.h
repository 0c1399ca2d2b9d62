/* search_local.h -- gosc's local engine for -search: the scheme of
 * search_mpi.h (every process runs the same search; each evaluates its
 * block of every batch of jobs; every record reaches every process, so
 * all take the same path; process 0 writes the output) over processes
 * forked on this machine and socketpairs, for `gosc -search -j=N`
 * without mpirun. Process 0 is the caller; the others are its children.
 * If a child dies, process 0 evaluates its jobs itself and goes on alone:
 * the result is the same, only slower. */
#ifndef GOS_SEARCH_LOCAL_H
#define GOS_SEARCH_LOCAL_H

#include <sys/types.h>

#include "passes/search/search.h"

#define GOS_SEARCH_LOCAL_MAX 16

typedef struct gos_search_local {
	int rank, size;                 /* 0, 1 when not started */
	int fd[GOS_SEARCH_LOCAL_MAX];   /* process 0: a socket per child (index
	                                   = rank); a child: fd[0] to process 0 */
	pid_t pid[GOS_SEARCH_LOCAL_MAX]; /* process 0: the children */
	int alone;                      /* process 0 lost a child: no more exchanges */
} gos_search_local;

/* Rank r's block of n jobs among size processes: [lo, hi), rounded up,
 * so a single job (a final check) runs in process 0, which writes the
 * output and keeps the chosen member's build from its check. Shared by
 * the MPI engine. */
void gos_search_block(int n, int size, int r, int *lo, int *hi);

/* Forks n - 1 children (n at most GOS_SEARCH_LOCAL_MAX); returns in every
 * process with p->rank set (0 in the caller). Stdio buffers are flushed
 * first. Returns 0, or -1 when a fork or socketpair fails (the children
 * forked are stopped: one process, p->size 1). */
int gos_search_local_start(gos_search_local *p, int n);
/* Sets o's map to the local one when there are several processes. */
void gos_search_local_opts(gos_search_local *p, gos_search_opts *o);
/* Process 0: closes the sockets and reaps the children. A child: exits
 * with status rc (0 or 1) without returning. */
void gos_search_local_finish(gos_search_local *p, int rc);

#endif
