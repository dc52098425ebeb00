/* testutil.c — helpers shared by the cmocka suites (see testutil.h). */
#include "tests/testutil.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t tu_seed(void)
{
	static uint64_t seed;
	static int printed;
	if (!printed) {
		const char *s = getenv("SL_SEED");
		seed = s ? strtoull(s, NULL, 10) : 42;
		fprintf(stderr, "[ seed     ] %llu (replay with SL_SEED=%llu)\n",
			(unsigned long long)seed, (unsigned long long)seed);
		printed = 1;
	}
	return seed;
}

uint64_t tu_ops(uint64_t n)
{
	const char *soak = getenv("SL_SOAK");
	return soak && soak[0] == '1' ? n * 50 : n;
}

uint64_t tu_rounds(uint64_t n)
{
	const char *rounds = getenv("SL_CRASH_ROUNDS");
	if (rounds != NULL && strtoull(rounds, NULL, 10) > 0)
		return strtoull(rounds, NULL, 10);
	return tu_ops(n);
}

void tu_filter(void)
{
	const char *pattern = getenv("SL_TESTS");
	if (pattern != NULL && pattern[0] != '\0')
		cmocka_set_test_filter(pattern);
}

void tu_rng_init(tu_rng_t *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t tu_next(tu_rng_t *r)
{
	uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t tu_below(tu_rng_t *r, uint64_t n)
{
	return tu_next(r) % n;
}

void tu_fill(tu_rng_t *r, void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)tu_next(r);
}

char *tu_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof tmpl, "%s/storelab-test-XXXXXX", base ? base : "/tmp");
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	return strdup(dir);
}

static int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmrf(const char *path)
{
	nftw(path, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_path(const char *dir, const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

void tu_flip_byte(const char *path, uint64_t off, uint8_t mask)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= mask;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

uint64_t tu_file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

void tu_truncate(const char *path, uint64_t size)
{
	assert_int_equal(truncate(path, (off_t)size), 0);
}

int tu_setup(void **state)
{
	tu_fixture_t *f = calloc(1, sizeof *f);
	f->dir = tu_tempdir();
	f->path = strdup(tu_path(f->dir, "under-test"));
	f->env = env_new();
	*state = f;
	return 0;
}

int tu_teardown(void **state)
{
	tu_fixture_t *f = *state;
	tu_rmrf(f->dir);
	free(f->dir);
	free(f->path);
	env_free(f->env);
	free(f);
	return 0;
}

void tu_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

void tu_skip_no_peer(const char *peer, const char *package, const char *why)
{
	print_message("the %s peer was not built (install %s): %s\n", peer, package, why);
	skip();
}

uint32_t tu_fork_acked(void (*child)(void *ctx, int fd), void *ctx, int *status)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(ctx, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	uint32_t acked = 0, i;
	while (read(fds[0], &i, sizeof i) == sizeof i)
		acked = i + 1;
	close(fds[0]);
	waitpid(pid, status, 0);
	return acked;
}

const char *tu_bin(void)
{
	const char *b = getenv("SL_BIN");
	return b ? b : "build/storelab";
}

int tu_run(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	while (fgetc(p) != EOF)
		; /* the rest, unread: the command is not cut off by a closed pipe */
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* XML well-formedness, enough for our SVG: tags nest and close in order, text holds
 * no bare '<' and every '&' starts an entity. Returns the number of elements. */
int tu_xml_elements(const char *p)
{
	const char *stack[256];
	size_t depth[256], top = 0;
	int elements = 0;
	while (*p) {
		if (*p == '&') {
			assert_true(strncmp(p, "&lt;", 4) == 0 || strncmp(p, "&gt;", 4) == 0 ||
				    strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&apos;", 6) == 0 ||
				    strncmp(p, "&quot;", 6) == 0);
			p++;
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		const char *end = strchr(p, '>');
		assert_non_null(end);
		if (p[1] == '/') { /* a closing tag: must match the innermost open one */
			assert_true(top > 0);
			top--;
			assert_int_equal(strcspn(p + 2, " >"), depth[top]);
			assert_memory_equal(p + 2, stack[top], depth[top]);
		} else if (end[-1] != '/') {
			assert_true(top < 256);
			stack[top] = p + 1;
			depth[top++] = strcspn(p + 1, " >");
			elements++;
		} else {
			elements++;
		}
		p = end + 1;
	}
	assert_int_equal(top, 0);
	return elements;
}
