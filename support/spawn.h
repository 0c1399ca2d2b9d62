/* spawn.h -- run a program and wait for it. */
#ifndef GOS_SPAWN_H
#define GOS_SPAWN_H

/* Runs argv (argv[0] searched in PATH unless it contains '/') with stdout
 * and stderr written to log_path (created or truncated); waits for it.
 * Returns its exit status (0..255), or -1 if it could not be started or
 * was killed (errno set when it could not be started). */
int gos_spawn_logged(char *const argv[], const char *log_path);

#endif
