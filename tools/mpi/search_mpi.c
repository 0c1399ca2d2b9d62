/* search_mpi.c -- see search_mpi.h. */
#include <stdlib.h>
#include <string.h>

#include "tools/mpi/search_local.h"
#include "tools/mpi/search_mpi.h"

#ifdef GOS_HAVE_MPI
#include <mpi.h>

/* Whether the process was started by an MPI launcher. */
static int launched(void)
{
	return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

void gos_search_mpi_init(gos_search_mpi *p, int *argc, char ***argv)
{
	memset(p, 0, sizeof *p);
	p->size = 1;
	if (!launched())
		return;
	if (MPI_Init(argc, argv) != MPI_SUCCESS)
		return;
	p->active = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &p->size);
}

static int mpi_map(void *mctx, int n, size_t size, gos_search_job job, void *jctx, void *out)
{
	gos_search_mpi *p = mctx;
	int lo, hi, bad = 0, any = 0;
	gos_search_block(n, p->size, p->rank, &lo, &hi);
	for (int j = lo; j < hi && !bad; j++)
		bad = job(jctx, j, (char *)out + (size_t)j * size) != 0;
	MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	if (any)
		return -1;
	int *counts = malloc(sizeof *counts * (size_t)p->size);
	int *displs = malloc(sizeof *displs * (size_t)p->size);
	int rc = 0;
	if (!counts || !displs)
		rc = -1;
	for (int r = 0; !rc && r < p->size; r++) {
		int a, b;
		gos_search_block(n, p->size, r, &a, &b);
		counts[r] = (int)((size_t)(b - a) * size);
		displs[r] = (int)((size_t)a * size);
	}
	/* every rank's block to every rank (in place: each sent its own part) */
	if (!rc && MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, counts, displs, MPI_BYTE,
	                          MPI_COMM_WORLD) != MPI_SUCCESS)
		rc = -1;
	free(counts);
	free(displs);
	return rc;
}

void gos_search_mpi_opts(gos_search_mpi *p, gos_search_opts *o)
{
	if (p->active && p->size > 1) {
		o->map = mpi_map;
		o->map_ctx = p;
	}
}

void gos_search_mpi_finalize(gos_search_mpi *p)
{
	if (p->active)
		MPI_Finalize();
	p->active = 0;
}

#else

void gos_search_mpi_init(gos_search_mpi *p, int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memset(p, 0, sizeof *p);
	p->size = 1;
}

void gos_search_mpi_opts(gos_search_mpi *p, gos_search_opts *o)
{
	(void)p;
	(void)o;
}

void gos_search_mpi_finalize(gos_search_mpi *p)
{
	(void)p;
}

#endif
