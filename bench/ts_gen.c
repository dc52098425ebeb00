/*
 * ts_gen.c — `storelab ts gen`: time-series data to ingest and benchmark.
 *
 *   proc       real machine metrics: this machine's /proc sampled every
 *              interval for a duration — CPU time per core and mode, memory,
 *              network and disk counters, load, virtual-memory counters; a few
 *              hundred series, each with a real scheduler's jitter
 *   synthetic  made from a seed: gauges (a daily wave plus noise), counters
 *              (with rare resets), random walks, percentages, some series on
 *              irregular intervals with dropped samples
 *
 * Both write the CSV that `ts ingest` and `bench --suite ts` read:
 * timestamp (ms),series,value after a header line.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/ts_cmd.h"
#include "kv/ts_parse.h"

static const char gen_usage[] =
	"usage: storelab ts gen synthetic OUT.csv [--series N] [--points N] [--interval D] [--seed S]\n"
	"       storelab ts gen proc OUT.csv [--interval D] [--duration D]\n"
	"  synthetic   N series (default 200) of N points each (default 20000), every D\n"
	"              (default 100ms) from 2023-11-14T22:13:20Z: gauges, counters, random\n"
	"              walks and percentages, a fifth of them irregular; the same seed, the\n"
	"              same file\n"
	"  proc        this machine's /proc every D (default 100ms) for the duration\n"
	"              (default 60s): CPU, memory, network, disk and vm counters\n";

/* ---------------------------------------------------------------- synthetic */

static uint64_t gen_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double gen_unit(uint64_t *s) { return (double)(gen_rng(s) >> 11) / 9007199254740992.0; }

typedef struct gen_series {
	char name[128];
	int kind;                /* 0 gauge, 1 counter, 2 walk, 3 percent */
	bool irregular;
	double level, phase;
	int64_t next;            /* next sample time, ms */
} gen_series_t;

static void gen_name(gen_series_t *g, unsigned i)
{
	static const char *metric[] = { "sensor_temp", "http_requests_total", "queue_depth", "cpu_util" };
	static const char *label[] = { "rack", "path", "queue", "core" };
	g->kind = (int)(i % 4);
	snprintf(g->name, sizeof g->name, "%s{host=\"h%u\",%s=\"%u\"}", metric[g->kind], i / 32,
		 label[g->kind], i / 4 % 8);
	g->irregular = i % 5 == 4;
}

static double gen_value(gen_series_t *g, uint64_t *rng, int64_t t)
{
	switch (g->kind) {
	case 0: /* a wave over a day, plus noise, to a tenth of a degree */
		return round((20 + 5 * sin(2 * M_PI * (double)t / 86400000.0 + g->phase) +
			      gen_unit(rng) * 0.4) * 10) / 10;
	case 1: /* requests: a few per scrape; a restart now and then */
		g->level = gen_rng(rng) % 200000 == 0 ? 0 : g->level + (double)(gen_rng(rng) % 8);
		return g->level;
	case 2: /* a queue that grows and drains */
		g->level += (double)(gen_rng(rng) % 3) - 1;
		if (g->level < 0)
			g->level = 0;
		return g->level;
	default: /* a utilisation, two decimals */
		g->level += (gen_unit(rng) - 0.5) * 4;
		g->level = g->level < 0 ? 0 : g->level > 100 ? 100 : g->level;
		return round(g->level * 100) / 100;
	}
}

static int gen_synthetic(FILE *out, unsigned nseries, uint64_t points, int64_t interval, uint64_t seed)
{
	gen_series_t *s = calloc(nseries, sizeof *s);
	if (s == NULL)
		return -1;
	uint64_t rng = seed;
	int64_t start = 1700000000000;
	for (unsigned i = 0; i < nseries; i++) {
		gen_name(&s[i], i);
		s[i].phase = gen_unit(&rng) * 6.28;
		s[i].level = s[i].kind == 3 ? 50 : 0;
		s[i].next = start;
	}
	fprintf(out, "timestamp,series,value\n");
	for (uint64_t k = 0; k < points; k++) {
		for (unsigned i = 0; i < nseries; i++) {
			gen_series_t *g = &s[i];
			/* A scrape: on the tick, a few ms late; irregular series wander and drop samples. */
			int64_t t = start + (int64_t)k * interval + (int64_t)(gen_rng(&rng) % 3);
			if (g->irregular) {
				if (gen_rng(&rng) % 100 == 0)
					continue;
				t += (int64_t)(gen_rng(&rng) % (uint64_t)(interval / 2 + 1));
			}
			if (t < g->next)
				t = g->next;
			g->next = t + 1;
			fprintf(out, "%lld,%s,%.10g\n", (long long)t, g->name, gen_value(g, &rng, t));
		}
	}
	free(s);
	return 0;
}

/* ---------------------------------------------------------------- /proc */

/* Appends name{labels} value lines for one sample at t. */
static void proc_line(FILE *out, int64_t t, const char *series, double v)
{
	fprintf(out, "%lld,%s,%.15g\n", (long long)t, series, v); /* /proc values: integers, or hundredths */
}

static void proc_stat(FILE *out, int64_t t)
{
	static const char *modes[] = { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal" };
	FILE *f = fopen("/proc/stat", "r");
	char line[1024], series[256];
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		unsigned long long v[8];
		char cpu[32];
		if (strncmp(line, "cpu", 3) != 0 ||
		    sscanf(line, "%31s %llu %llu %llu %llu %llu %llu %llu %llu", cpu, &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) != 9)
			continue;
		for (int m = 0; m < 8; m++) {
			snprintf(series, sizeof series, "node_cpu_seconds_total{cpu=\"%s\",mode=\"%s\"}",
				 strcmp(cpu, "cpu") == 0 ? "all" : cpu + 3, modes[m]);
			proc_line(out, t, series, (double)v[m] / 100);
		}
	}
	if (f != NULL)
		fclose(f);
}

/* "Key: value" files (/proc/meminfo) and "key value" ones (/proc/vmstat, /proc/loadavg aside). */
static void proc_keyed(FILE *out, int64_t t, const char *path, const char *metric, double scale)
{
	FILE *f = fopen(path, "r");
	char line[512], key[128], series[256];
	unsigned long long v;
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%127[^: ]%*[: ]%llu", key, &v) != 2)
			continue;
		for (char *p = key; *p; p++)
			if (*p == '(' || *p == ')')
				*p = '_';
		snprintf(series, sizeof series, "%s{field=\"%s\"}", metric, key);
		proc_line(out, t, series, (double)v * scale);
	}
	if (f != NULL)
		fclose(f);
}

static void proc_net(FILE *out, int64_t t)
{
	static const char *fields[] = { "receive_bytes", "receive_packets", "receive_errs",
					"receive_drop", "transmit_bytes", "transmit_packets",
					"transmit_errs", "transmit_drop" };
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512], dev[64], series[256];
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		unsigned long long v[16];
		if (sscanf(line, " %63[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   dev, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) != 13)
			continue;
		static const int at[] = { 0, 1, 2, 3, 8, 9, 10, 11 };
		for (int k = 0; k < 8; k++) {
			snprintf(series, sizeof series, "node_network_%s_total{device=\"%s\"}", fields[k], dev);
			proc_line(out, t, series, (double)v[at[k]]);
		}
	}
	if (f != NULL)
		fclose(f);
}

static void proc_disk(FILE *out, int64_t t)
{
	static const char *fields[] = { "reads_completed", "reads_merged", "sectors_read",
					"read_ms", "writes_completed", "writes_merged",
					"sectors_written", "write_ms", "io_in_progress", "io_ms" };
	FILE *f = fopen("/proc/diskstats", "r");
	char line[512], dev[64], series[256];
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		unsigned long long v[10];
		unsigned maj, min;
		if (sscanf(line, " %u %u %63s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &maj,
			   &min, dev, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
			   &v[9]) != 13 || strncmp(dev, "loop", 4) == 0 || strncmp(dev, "ram", 3) == 0)
			continue;
		for (int k = 0; k < 10; k++) {
			snprintf(series, sizeof series, "node_disk_%s{device=\"%s\"}", fields[k], dev);
			proc_line(out, t, series, (double)v[k]);
		}
	}
	if (f != NULL)
		fclose(f);
}

static int64_t gen_now_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int gen_proc(FILE *out, int64_t interval, int64_t duration)
{
	fprintf(out, "timestamp,series,value\n");
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int64_t done = 0; done < duration; done += interval) {
		int64_t t = gen_now_ms(CLOCK_REALTIME);
		proc_stat(out, t);
		proc_keyed(out, t, "/proc/meminfo", "node_memory_kb", 1);
		proc_keyed(out, t, "/proc/vmstat", "node_vmstat", 1);
		proc_net(out, t);
		proc_disk(out, t);
		next.tv_nsec += (long)(interval % 1000) * 1000000;
		next.tv_sec += (time_t)(interval / 1000 + next.tv_nsec / 1000000000);
		next.tv_nsec %= 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return 0;
}

int ts_gen_main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "synthetic") != 0 && strcmp(argv[1], "proc") != 0)) {
		fputs(gen_usage, argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	unsigned long long nseries = 200, points = 20000, seed = 1;
	int64_t interval = 100, duration = 60000;
	char why[TS_WHY_BYTES];
	for (int i = 3; i < argc; i += 2) {
		const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;
		unsigned long long v = val ? strtoull(val, &end, 10) : 0;
		bool num = val && end != val && *end == '\0' && val[0] != '-';
		if (val == NULL) {
			fprintf(stderr, "storelab ts gen: %s needs a value\n%s", flag, gen_usage);
			return 2;
		} else if (strcmp(flag, "--series") == 0 && num && v >= 1 && v <= 1000000) {
			nseries = v;
		} else if (strcmp(flag, "--points") == 0 && num && v >= 1 && v <= 1000000000) {
			points = v;
		} else if (strcmp(flag, "--seed") == 0 && num) {
			seed = v;
		} else if ((strcmp(flag, "--interval") == 0 || strcmp(flag, "--duration") == 0) &&
			   ts_duration_parse(val, TS_UNIT_MS, flag[2] == 'i' ? &interval : &duration, why) &&
			   (flag[2] == 'd' || interval >= 1)) {
		} else {
			fprintf(stderr, "storelab ts gen: bad option %s %s\n%s", flag, val, gen_usage);
			return 2;
		}
	}
	FILE *out = strcmp(argv[2], "-") == 0 ? stdout : fopen(argv[2], "w");
	if (out == NULL) {
		fprintf(stderr, "storelab ts gen: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	int rc = argv[1][0] == 's' ? gen_synthetic(out, (unsigned)nseries, points, interval, seed)
				   : gen_proc(out, interval, duration);
	if ((out != stdout && fclose(out) != 0) || rc != 0) {
		fprintf(stderr, "storelab ts gen: %s: write failed\n", argv[2]);
		return 1;
	}
	return 0;
}
