/* memcap.c — memory cgroups for `bench --memory` (see memcap.h). */
#include "bench/memcap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes text to a cgroup file; 0, or -1 (errno set). */
static int memcap_write(const char *dir, const char *file, const char *text)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	bool ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Where new cgroups go: the memory hierarchy's directory of our own cgroup. */
static int memcap_parent(char *out, size_t n, int *v2)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	char line[512];
	int found = -1;
	while (f != NULL && found != 0 && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		char *cg = strrchr(line, ':');
		struct stat st;
		if (cg == NULL)
			continue;
		if (strstr(line, ":memory:") != NULL) {
			snprintf(out, n, "/sys/fs/cgroup/memory%s", cg + 1);
			*v2 = 0;
			found = 0;
		} else if (strncmp(line, "0::", 3) == 0 && stat("/sys/fs/cgroup/cgroup.controllers", &st) == 0) {
			snprintf(out, n, "/sys/fs/cgroup%s", cg + 1);
			*v2 = 1;
			found = 0; /* a v1 memory line, if any, comes first in the file and wins */
		}
	}
	if (f != NULL)
		fclose(f);
	return found;
}

int memcap_create(memcap_t *m, uint64_t limit, char *err, size_t n)
{
	static unsigned seq;
	char parent[900];
	memset(m, 0, sizeof *m);
	if (memcap_parent(parent, sizeof parent, &m->v2) != 0) {
		snprintf(err, n, "--memory needs a memory cgroup, and /proc/self/cgroup names none");
		return -1;
	}
	snprintf(m->path, sizeof m->path, "%s/storelab-%d-%u", parent, (int)getpid(), seq++);
	char text[32];
	snprintf(text, sizeof text, "%llu", (unsigned long long)limit);
	if (mkdir(m->path, 0755) != 0) {
		snprintf(err, n, "--memory: cannot make the cgroup %s: %s%s", m->path, strerror(errno),
			 errno == EACCES || errno == EPERM || errno == EROFS ? " (run as root)" : "");
		m->path[0] = '\0';
		return -1;
	}
	int rc = memcap_write(m->path, m->v2 ? "memory.max" : "memory.limit_in_bytes", text);
	if (rc != 0) {
		snprintf(err, n, "--memory: cannot set the limit of %s: %s", m->path, strerror(errno));
		memcap_destroy(m);
		return -1;
	}
	/* No swap either, where the kernel lets us (a machine that small would not swap to
	 * its neighbour's memory); not every kernel has the file. */
	if (m->v2)
		(void)memcap_write(m->path, "memory.swap.max", "0");
	else
		(void)memcap_write(m->path, "memory.memsw.limit_in_bytes", text);
	return 0;
}

int memcap_enter(const memcap_t *m, char *err, size_t n)
{
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	if (m->path[0] == '\0' || memcap_write(m->path, "cgroup.procs", pid) == 0)
		return 0;
	snprintf(err, n, "--memory: cannot join the cgroup %s: %s", m->path, strerror(errno));
	return -1;
}

void memcap_destroy(memcap_t *m)
{
	if (m->path[0] != '\0')
		rmdir(m->path); /* the kernel moves the pages still charged to the parent */
	m->path[0] = '\0';
}
