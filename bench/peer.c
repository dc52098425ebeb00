/* peer.c — helpers shared by the peer adapters (see peer.h). */
#include "bench/peer.h"

#include <stdlib.h>

int peer_prepare_dir(const char *dir, const store_opts_t *opts, sl_err_t *err)
{
	if (opts->no_create && !env_exists(dir))
		return sl_errf(err, SL_NOTFOUND, "%s: no such store directory", dir);
	return env_mkdir(NULL, dir, err);
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
