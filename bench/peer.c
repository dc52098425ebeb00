/* peer.c — helpers shared by the peer adapters (see peer.h). */
#include "bench/peer.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether name matches one of the space-separated patterns (the first one alone if first_only). */
static bool peer_name_matches(const char *name, const char *patterns, bool first_only)
{
	char pat[64];
	for (const char *p = patterns; *p;) {
		size_t n = strcspn(p, " ");
		snprintf(pat, sizeof pat, "%.*s", (int)n, p);
		if (fnmatch(pat, name, 0) == 0)
			return true;
		if (first_only)
			return false;
		p += n + (p[n] == ' ');
	}
	return false;
}

int peer_prepare_dir(const char *dir, const store_opts_t *opts, const char *name,
		     const char *files, sl_err_t *err)
{
	if (opts->no_create && !env_exists(dir))
		return sl_errf(err, SL_NOTFOUND, "%s: no such store directory", dir);
	int rc = opts->read_only ? SL_OK : env_mkdir(NULL, dir, err);
	char **names = NULL;
	size_t n = 0;
	if (rc == SL_OK)
		rc = env_list_dir(NULL, dir, &names, &n, err);
	bool marked = false;
	for (size_t i = 0; rc == SL_OK && i < n; i++) {
		if (!peer_name_matches(names[i], files, false))
			rc = sl_errf(err, SL_INVALID, "%s is not a %s store: it holds '%s'", dir, name,
				     names[i]);
		marked = marked || peer_name_matches(names[i], files, true);
	}
	env_list_free(names, n);
	if (rc == SL_OK && opts->no_create && !marked)
		rc = sl_errf(err, SL_NOTFOUND, "%s: no %s store there", dir, name);
	return rc;
}

uint64_t peer_expected_keys(const store_opts_t *opts, uint64_t dflt)
{
	char v[32];
	if (!store_opts_param(opts, "expected_keys", v, sizeof v))
		return dflt;
	uint64_t n = strtoull(v, NULL, 10);
	return n ? n : dflt;
}

void peer_stats_disk(const char *dir, stats_list_t *out)
{
	uint64_t bytes = 0;
	env_dir_bytes(dir, &bytes, NULL);
	stats_list_add(out, "disk_bytes", (double)bytes);
}
