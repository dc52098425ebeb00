/* tsv.c — corpus lines (see tsv.h). */
#include "bench/tsv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index/inverted.h"
#include "index/tokenizer.h"

bool tsv_open(tsv_t *t, const char *path)
{
	memset(t, 0, sizeof *t);
	t->path = path;
	t->f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (t->f == NULL) {
		snprintf(t->error, sizeof t->error, "%s: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	if (fstat(fileno(t->f), &st) == 0 && S_ISREG(st.st_mode))
		t->size = (uint64_t)st.st_size;
	return true;
}

static int tsv_bad(tsv_t *t, const char *why)
{
	snprintf(t->error, sizeof t->error, "%s:%llu: %s", t->path, (unsigned long long)t->line, why);
	return -1;
}

int tsv_next(tsv_t *t)
{
	t->error[0] = '\0';
	errno = 0;
	ssize_t got = getline(&t->line_buf, &t->line_cap, t->f);
	if (got < 0) {
		if (ferror(t->f)) {
			snprintf(t->error, sizeof t->error, "%s: read error: %s", t->path,
				 strerror(errno ? errno : EIO));
			return -2;
		}
		return 0;
	}
	t->line++;
	t->bytes += (uint64_t)got;
	const uint8_t *line = (const uint8_t *)t->line_buf;
	size_t len = (size_t)got;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	const uint8_t *tab = memchr(line, '\t', len);
	if (tab == NULL)
		return tsv_bad(t, "no tab between id and text");
	size_t idlen = (size_t)(tab - line);
	char why[96];
	if (idlen == 0 || idlen > INVERTED_MAX_ID) {
		snprintf(why, sizeof why, "an id of %zu bytes (1 to %d allowed)", idlen, INVERTED_MAX_ID);
		return tsv_bad(t, why);
	}
	const char *what;
	size_t bad = tokenizer_utf8_valid(sl_slice(line, len), &what);
	if (bad < len) {
		snprintf(why, sizeof why, "%s at byte %zu", what, bad + 1);
		return tsv_bad(t, why);
	}
	t->id = sl_slice(line, idlen);
	t->text = sl_slice(tab + 1, len - idlen - 1);
	return 1;
}

void tsv_close(tsv_t *t)
{
	if (t->f != NULL && t->f != stdin)
		fclose(t->f);
	free(t->line_buf);
	t->line_buf = NULL;
	t->f = NULL;
}
