/* child.c — a store's measurement in a child process (see child.h). */
#include "bench/child.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int child_run(const char *parent, const char *name, child_fn fn, void *ctx, void *figures,
	      size_t size, char *err, size_t n)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%s-XXXXXX", parent, name);
	int fds[2];
	if (mkdtemp(dir) == NULL || pipe(fds) != 0) {
		snprintf(err, n, "%.180s: %s", dir, strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		fn(ctx, dir, figures);
		ssize_t w = write(fds[1], figures, size);
		_exit(w == (ssize_t)size ? 0 : 1);
	}
	close(fds[1]);
	ssize_t got = pid > 0 ? read(fds[0], figures, size) : -1;
	close(fds[0]);
	int status = 0;
	if (pid > 0)
		waitpid(pid, &status, 0);
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "storelab bench: could not remove %s\n", dir);
	if (got != (ssize_t)size) {
		snprintf(err, n, "%s: the run died (status %d)", name, status);
		return -1;
	}
	return 0;
}
