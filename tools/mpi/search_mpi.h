/* search_mpi.h -- gosc's distributed engine for -search: under mpirun
 * (Open MPI), every rank runs the same search and a map that evaluates a
 * block of each batch of jobs per rank and gathers every record on all
 * ranks (MPI_Allgatherv), so all take the same path; rank 0 writes the
 * output. Without MPI (not built with it, or not started by mpirun) one
 * process runs everything. */
#ifndef GOS_SEARCH_MPI_H
#define GOS_SEARCH_MPI_H

#include "passes/search/search.h"

typedef struct gos_search_mpi {
	int rank, size; /* 0, 1 without MPI */
	int active;     /* MPI_Init was called */
} gos_search_mpi;

/* Starts MPI when the process was started by mpirun. */
void gos_search_mpi_init(gos_search_mpi *p, int *argc, char ***argv);
/* Sets o's map to the distributed one when there are several ranks. */
void gos_search_mpi_opts(gos_search_mpi *p, gos_search_opts *o);
void gos_search_mpi_finalize(gos_search_mpi *p);

#endif
