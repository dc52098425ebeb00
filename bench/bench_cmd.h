/*
 * bench_cmd.h — the `storelab bench` and `storelab advise` commands.
 *
 * Both parse the same workload options (--n, --key-size, --value-size, --dist,
 * --sync, --seed, ...) into a bench_cfg_t, run the harness, and print.
 */
#ifndef SL_BENCH_CMD_H
#define SL_BENCH_CMD_H

#include "bench/harness.h"

int bench_main(int argc, char **argv);
int advise_main(int argc, char **argv);

/*
 * Parses one option shared by bench and advise (flag and its value) into cfg.
 * Returns 1 when it was one of them, 0 when the flag is not shared, -1 with a
 * message in err when the value is bad.
 */
int bench_parse_common(const char *flag, const char *value, bench_cfg_t *cfg, char *err,
		       size_t err_size);

/*
 * The store specs to run: those of the comma-separated list (split in place), or
 * with list NULL every registered store but those marked STORE_BY_NAME (the
 * test oracle ref, the sharded store). -1 with a message naming an unknown or
 * unbuilt store.
 */
int bench_stores(char *list, const char **out, size_t max, size_t *n, char *err, size_t size);

/* Splits a comma-separated list in place into at most max words. */
size_t bench_split_list(char *list, const char **out, size_t max);

#endif
