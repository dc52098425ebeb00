/* stats.c — name/value lists and the derived figures of stats.h. */
#include "engine/stats.h"

#include <stdlib.h>
#include <string.h>

void stats_list_add(stats_list_t *l, const char *name, double value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].name, name) == 0) {
			l->items[i].value = value;
			return;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		stats_item_t *grown = realloc(l->items, cap * sizeof *grown);
		if (grown == NULL)
			return;
		l->items = grown;
		l->cap = cap;
	}
	stats_item_t *it = &l->items[l->n++];
	snprintf(it->name, sizeof it->name, "%s", name);
	it->value = value;
}

bool stats_list_get(const stats_list_t *l, const char *name, double *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].name, name) == 0) {
			*value = l->items[i].value;
			return true;
		}
	}
	return false;
}

void stats_list_print(const stats_list_t *l, FILE *out)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%s=%.6g", i ? " " : "", l->items[i].name, l->items[i].value);
}

void stats_list_free(stats_list_t *l)
{
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

static double stats_ratio(double num, double den)
{
	return den > 0 ? num / den : 0;
}

void stats_add_derived(stats_list_t *l)
{
	double dw = 0, uw = 0, dr = 0, ur = 0, disk = 0, live = 0;
	stats_list_get(l, "device.bytes_written", &dw);
	stats_list_get(l, "user.bytes_written", &uw);
	stats_list_get(l, "device.bytes_read", &dr);
	stats_list_get(l, "user.bytes_read", &ur);
	stats_list_get(l, "disk_bytes", &disk);
	stats_list_get(l, "live_bytes", &live);
	stats_list_add(l, "write_amp", stats_ratio(dw, uw));
	stats_list_add(l, "read_amp", stats_ratio(dr, ur));
	stats_list_add(l, "space_amp", stats_ratio(disk, live));
}

void stats_add_user(stats_list_t *l, const stats_counters_t *c)
{
	stats_list_add(l, "user.puts", (double)stats_load(c, STAT_PUTS));
	stats_list_add(l, "user.gets", (double)stats_load(c, STAT_GETS));
	stats_list_add(l, "user.get_hits", (double)stats_load(c, STAT_GET_HITS));
	stats_list_add(l, "user.dels", (double)stats_load(c, STAT_DELS));
	stats_list_add(l, "user.scans", (double)stats_load(c, STAT_SCANS));
	stats_list_add(l, "user.bytes_written", (double)stats_load(c, STAT_USER_BYTES_WRITTEN));
	stats_list_add(l, "user.bytes_read", (double)stats_load(c, STAT_USER_BYTES_READ));
}

void stats_add_device(stats_list_t *l, const env_counters_t *io, uint64_t disk_bytes,
		      uint64_t live_bytes)
{
	stats_list_add(l, "device.bytes_written", (double)io->bytes_written);
	stats_list_add(l, "device.bytes_read", (double)io->bytes_read);
	stats_list_add(l, "device.writes", (double)io->writes);
	stats_list_add(l, "device.reads", (double)io->reads);
	stats_list_add(l, "device.syncs", (double)io->syncs);
	stats_list_add(l, "disk_bytes", (double)disk_bytes);
	stats_list_add(l, "live_bytes", (double)live_bytes);
}
