/*
 * lab_rides.c — `storelab lab rides`: index design answered by measurement.
 *
 * A ride-sharing trips table (kv/table) with realistic skew — a few big cities,
 * heavy riders, rush hours, a soft-delete column — and a drivers table, then
 * eight questions, each a small table of estimates beside what really happened
 * (pages touched in the indexes and the table, rows examined and returned,
 * time) and a conclusion printed from this run's numbers.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/harness.h"
#include "bench/lab.h"
#include "bench/workload.h"
#include "kv/table.h"

#define RIDES_CITIES 30
#define RIDES_DAYS 30
#define RIDES_PAGE 10 /* rows per page in the pagination lesson */

static const char *const city_names[RIDES_CITIES] = {
	"Sao Paulo", "Mexico City", "Jakarta", "Lagos", "Delhi", "Cairo", "Lima", "Bogota",
	"Manila", "Istanbul", "Nairobi", "Dhaka", "Karachi", "Chennai", "Santiago", "Madrid",
	"Berlin", "Warsaw", "Lisbon", "Accra", "Quito", "Porto", "Cork", "Leeds", "Turin",
	"Graz", "Split", "Bergen", "Tartu", "Reno",
};

static const table_index_def_t trip_indexes[] = {
	{ "city_time", TABLE_BTREE, "city,start_time", NULL, NULL },
	{ "time_city", TABLE_BTREE, "start_time,city", NULL, NULL },
	{ "rider", TABLE_BTREE, "rider", NULL, NULL },
	{ "rider_cover", TABLE_BTREE, "rider", "fare,start_time,driver_name", NULL },
	{ "rider_hash", TABLE_HASH, "rider", NULL, NULL },
	{ "status", TABLE_BTREE, "status", NULL, NULL },
	{ "live_rider", TABLE_BTREE, "rider", NULL, "deleted_at" },
};
#define TRIP_COLUMNS "trip_id INT, rider INT, driver INT, driver_name TEXT, city TEXT, " \
	"start_time INT, fare FLOAT, status TEXT, deleted_at INT"
enum { C_TRIP, C_RIDER, C_DRIVER, C_DNAME, C_CITY, C_START, C_FARE, C_STATUS, C_DELETED, C_N };

typedef struct rides {
	const lab_cfg_t *cfg;
	uint64_t rows;
	uint32_t riders, drivers;
	int64_t t0, t_end;          /* the first and last start times */
	uint32_t heavy_rider;       /* the busiest rider */
	table_t *trips, *drivers_t, *riders_t;
} rides_t;

static double rides_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static table_t *rides_open(const rides_t *r, const char *sub, const table_def_t *def)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/%s", r->cfg->work, sub);
	harness_rmrf(dir);
	table_opts_t o = { .sync = SL_SYNC_NONE, .create = true };
	table_t *t = NULL;
	sl_err_t err = { 0 };
	if (table_open(dir, def, &o, &t, &err) != SL_OK)
		fprintf(stderr, "storelab lab rides: %s\n", err.msg);
	return t;
}

/* ---------------------------------------------------------------- the data */

/* One trip: rider zipfian (heavy riders), city 1/(c+1) (big cities), start time with rush hours. */
static void rides_trip(rides_t *r, wl_rng_t *rng, const zipf_t *riders, uint64_t id,
		       table_value_t *row, char *dname)
{
	double u = wl_unit(rng) * 3.99, cdf = 0; /* H(30) ~ 3.99 */
	int city = 0;
	while (city + 1 < RIDES_CITIES && (cdf += 1.0 / (city + 1)) < u)
		city++;
	/* Trips come in time order, denser at 8-9 and 17-19 o'clock. */
	int64_t span = (int64_t)RIDES_DAYS * 86400;
	int64_t t = r->t0 + (int64_t)((double)id / (double)r->rows * (double)span);
	int hour = (int)(t % 86400 / 3600);
	bool rush = hour == 8 || hour == 17 || hour == 18;
	if (!rush && wl_below(rng, 3) == 0) /* a third of off-peak trips move into a rush hour */
		t = t - t % 86400 + (wl_below(rng, 2) ? 8 : 17) * 3600 + (int64_t)wl_below(rng, 3600);
	uint32_t rider = (uint32_t)(zipf_next(riders, rng) * 2654435761u % r->riders);
	uint32_t driver = (uint32_t)wl_below(rng, r->drivers);
	snprintf(dname, 24, "driver-%u", driver);
	uint64_t s = wl_below(rng, 1000);
	const char *status = s < 900 ? "completed" : s < 985 ? "cancelled" : s < 995 ? "refunded"
										: "disputed";
	row[C_TRIP] = tv_int((int64_t)id);
	row[C_RIDER] = tv_int(rider);
	row[C_DRIVER] = tv_int(driver);
	row[C_DNAME] = tv_text(sl_slice_str(dname));
	row[C_CITY] = tv_text(sl_slice_str(city_names[city]));
	row[C_START] = tv_int(t);
	row[C_FARE] = tv_float(4 + (double)wl_below(rng, 5000) / 100);
	row[C_STATUS] = tv_text(sl_slice_str(status));
	/* soft deletes: three trips in ten, older ones more often */
	row[C_DELETED] = wl_below(rng, 10) < 3 ? tv_int(t + 86400) : tv_null();
}

/* Inserts trips 0..n-1 into t (the same trips for the same seed). */
static int rides_fill(rides_t *r, table_t *t, uint64_t n)
{
	zipf_t riders;
	zipf_init(&riders, r->riders, 0.99);
	wl_rng_t rng = { r->cfg->seed };
	table_value_t row[C_N];
	char dname[24];
	for (uint64_t id = 0; id < n; id++) {
		rides_trip(r, &rng, &riders, id, row, dname);
		if (table_insert(t, row) != SL_OK) {
			fprintf(stderr, "storelab lab rides: %s\n", table_errmsg(t));
			return -1;
		}
	}
	return 0;
}

static int rides_load(rides_t *r)
{
	static const table_def_t trips_def = { TRIP_COLUMNS, "trip_id", trip_indexes,
					       sizeof trip_indexes / sizeof trip_indexes[0] };
	static const table_def_t drivers_def = { "driver_id INT, name TEXT, rating FLOAT",
						 "driver_id", NULL, 0 };
	static const table_def_t riders_def = { "rider_id INT, name TEXT, home_city TEXT",
						"rider_id", NULL, 0 };
	r->trips = rides_open(r, "trips", &trips_def);
	r->drivers_t = rides_open(r, "drivers", &drivers_def);
	r->riders_t = rides_open(r, "riders", &riders_def);
	if (r->trips == NULL || r->drivers_t == NULL || r->riders_t == NULL)
		return -1;
	char name[24];
	for (uint32_t d = 0; d < r->riders; d++) {
		snprintf(name, sizeof name, "rider-%u", d);
		table_value_t row[3] = { tv_int(d), tv_text(sl_slice_str(name)),
					 tv_text(sl_slice_str(city_names[d % RIDES_CITIES])) };
		if (table_insert(r->riders_t, row) != SL_OK)
			return -1;
	}
	for (uint32_t d = 0; d < r->drivers; d++) {
		snprintf(name, sizeof name, "driver-%u", d);
		table_value_t row[3] = { tv_int(d), tv_text(sl_slice_str(name)),
					 tv_float(3.5 + (d % 15) / 10.0) };
		if (table_insert(r->drivers_t, row) != SL_OK)
			return -1;
	}
	if (rides_fill(r, r->trips, r->rows) != 0)
		return -1;
	r->t_end = r->t0 + (int64_t)RIDES_DAYS * 86400;
	r->heavy_rider = 0; /* zipf rank 0 scattered: rank 0 maps to rider 0 */
	return table_analyze(r->trips) == SL_OK && table_analyze(r->drivers_t) == SL_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- measuring */

/* Runs q (forced through `path`, or the planner's choice when NULL) `times` times; res is the last. */
static int rides_run(table_t *t, table_query_t q, const char *path, int times, table_result_t *res,
		     double *ms)
{
	q.force = path;
	double t0 = rides_now();
	int rc = SL_OK;
	for (int i = 0; rc == SL_OK && i < times; i++) {
		if (i > 0)
			table_result_free(res);
		rc = table_query(t, &q, NULL, NULL, res);
	}
	*ms = (rides_now() - t0) * 1000 / times;
	if (rc != SL_OK)
		fprintf(stderr, "storelab lab rides: %s: %s\n", path ? path : "planner",
			table_errmsg(t));
	return rc;
}

/* A row of est. pages | pages (index + table) | rows examined | returned | ms. */
static void rides_row(lab_table_t *t, const char *label, const table_result_t *res, double ms)
{
	int r = lab_table_row(t);
	lab_cell(t, r, 0, "%s", label);
	lab_cell(t, r, 1, "%.0f", res->chosen.pages);
	lab_cell(t, r, 2, "%" PRIu64 " + %" PRIu64, res->index_pages, res->table_pages);
	lab_cell(t, r, 3, "%" PRIu64, res->rows_examined);
	lab_cell(t, r, 4, "%" PRIu64, res->rows_returned);
	lab_cell(t, r, 5, "%.3f", ms);
}

static const char *const measure_heads[] = { "path", "est. pages", "pages (index + table)",
					     "rows examined", "rows returned", "ms", NULL };

/* ---------------------------------------------------------------- the lessons */

static int lesson_column_order(rides_t *r)
{
	lab_table_t t;
	lab_table_init(&t, "1. Column order: trips in Sao Paulo in the last hour", measure_heads);
	table_pred_t w[3] = { { "city", TQ_EQ, tv_text(sl_slice_str("Sao Paulo")) },
			      { "start_time", TQ_GE, tv_int(r->t_end - 3600) },
			      { "start_time", TQ_LT, tv_int(r->t_end) } };
	table_query_t q = { w, 3, "trip_id,fare", NULL, 0, 0, { 0 }, NULL };
	table_result_t a, b, c;
	double ma, mb, mc;
	if (rides_run(r->trips, q, "city_time", 20, &a, &ma) || rides_run(r->trips, q, "time_city", 20, &b, &mb) ||
	    rides_run(r->trips, q, NULL, 1, &c, &mc))
		return -1;
	rides_row(&t, "(city, start_time)", &a, ma);
	rides_row(&t, "(start_time, city)", &b, mb);
	lab_table_print(&t, r->cfg, "(city, start_time) examined %" PRIu64 " rows for %" PRIu64
			" results; (start_time, city) examined %" PRIu64 " — every city's trips of "
			"that hour — and %.1fx the pages: put the = column first, the range last "
			"(the planner chose %s)", a.rows_examined, a.rows_returned, b.rows_examined,
			(double)(b.index_pages + b.table_pages) / (double)(a.index_pages + a.table_pages),
			c.chosen.name);
	/* The planner's view of the same query, every path weighed, beside what it cost. */
	printf(r->cfg->markdown ? "\nEXPLAIN ANALYZE (the planner's choice):\n\n```\n"
				: "\nEXPLAIN ANALYZE (the planner's choice):\n");
	table_explain(&c, stdout);
	if (r->cfg->markdown)
		printf("```\n");
	table_result_free(&a);
	table_result_free(&b);
	table_result_free(&c);
	return 0;
}

static int lesson_covering(rides_t *r)
{
	lab_table_t t;
	lab_table_init(&t, "2. Covering: the fares of the busiest rider", measure_heads);
	table_pred_t w[1] = { { "rider", TQ_EQ, tv_int(r->heavy_rider) } };
	table_query_t q = { w, 1, "fare,start_time", NULL, 0, 0, { 0 }, NULL };
	table_result_t a, b;
	double ma, mb;
	if (rides_run(r->trips, q, "rider", 20, &a, &ma) || rides_run(r->trips, q, "rider_cover", 20, &b, &mb))
		return -1;
	rides_row(&t, "rider (not covering)", &a, ma);
	rides_row(&t, "rider include (fare, ...)", &b, mb);
	lab_table_print(&t, r->cfg, "for %" PRIu64 " trips the plain index touched %" PRIu64
			" table pages (one lookup per row); the covering one none, %.1fx fewer pages "
			"in all and %.1fx faster — at the price of a larger index",
			a.rows_returned, a.table_pages,
			(double)(a.index_pages + a.table_pages) / (double)(b.index_pages + b.table_pages),
			ma / mb);
	table_result_free(&a);
	table_result_free(&b);
	return 0;
}

static int lesson_hash_vs_btree(rides_t *r)
{
	static const char *const heads[] = { "index", "pages per lookup", "lookups/s",
					     "can range or order", NULL };
	lab_table_t t;
	lab_table_init(&t, "3. Equality: hash vs B+tree, 2,000 lookups of random riders' trips",
		       heads);
	const char *paths[2] = { "rider_hash", "rider" };
	double rate[2], pages[2];
	for (int k = 0; k < 2; k++) {
		wl_rng_t rng = { r->cfg->seed ^ 0x4a5 };
		uint64_t idx = 0;
		double t0 = rides_now();
		for (int i = 0; i < 2000; i++) {
			table_pred_t w[1] = { { "rider", TQ_EQ, tv_int((int64_t)wl_below(&rng, r->riders)) } };
			table_query_t q = { w, 1, "trip_id,fare", NULL, 0, 0, { 0 }, paths[k] };
			table_result_t res;
			if (table_query(r->trips, &q, NULL, NULL, &res) != SL_OK)
				return -1;
			idx += res.index_pages;
			table_result_free(&res);
		}
		rate[k] = 2000 / (rides_now() - t0);
		pages[k] = (double)idx / 2000;
		int row = lab_table_row(&t);
		lab_cell(&t, row, 0, "%s", k == 0 ? "hash (rider)" : "B+tree (rider)");
		lab_cell(&t, row, 1, "%.2f", pages[k]);
		lab_cell(&t, row, 2, "%.0f", rate[k]);
		lab_cell(&t, row, 3, "%s", k == 0 ? "no" : "yes");
	}
	lab_table_print(&t, r->cfg, "the hash index read %.2f index pages per lookup against the "
			"B+tree's %.2f and ran %.2fx as many lookups, both fetching every row from the "
			"table; only the B+tree also answers ranges and ORDER BY",
			pages[0], pages[1], rate[0] / rate[1]);
	return 0;
}

static int lesson_selectivity(rides_t *r)
{
	lab_table_t t;
	lab_table_init(&t, "4. Selectivity: status = 'completed' (90%) and 'disputed' (0.5%)",
		       measure_heads);
	const char *values[2] = { "completed", "disputed" };
	char chose[2][64];
	double pages_ix[2], pages_scan[2], ms_ix[2], ms_scan[2];
	for (int k = 0; k < 2; k++) {
		table_pred_t w[1] = { { "status", TQ_EQ, tv_text(sl_slice_str(values[k])) } };
		table_query_t q = { w, 1, "trip_id,fare", NULL, 0, 0, { 0 }, NULL };
		table_result_t a, b, c;
		double ma, mb, mc;
		if (rides_run(r->trips, q, "status", 1, &a, &ma) || rides_run(r->trips, q, "scan", 1, &b, &mb) ||
		    rides_run(r->trips, q, NULL, 1, &c, &mc))
			return -1;
		char label[64];
		snprintf(label, sizeof label, "%s: index status", values[k]);
		rides_row(&t, label, &a, ma);
		snprintf(label, sizeof label, "%s: scan", values[k]);
		rides_row(&t, label, &b, mb);
		snprintf(chose[k], sizeof chose[k], "%s", c.chosen.name);
		pages_ix[k] = (double)(a.index_pages + a.table_pages);
		pages_scan[k] = (double)(b.index_pages + b.table_pages);
		ms_ix[k] = ma;
		ms_scan[k] = mb;
		table_result_free(&a);
		table_result_free(&b);
		table_result_free(&c);
	}
	lab_table_print(&t, r->cfg, "for 'completed' the index touched %.0fx the pages of a scan "
			"(a lookup per row) and took %.1fx its time: the planner chose %s; for "
			"'disputed' it touched %.2fx the pages but tested 0.5%% of the rows, took "
			"%.2fx the time, and the planner chose %s", pages_ix[0] / pages_scan[0],
			ms_ix[0] / ms_scan[0], chose[0], pages_ix[1] / pages_scan[1],
			ms_ix[1] / ms_scan[1], chose[1]);
	return 0;
}

static int lesson_partial(rides_t *r)
{
	static const char *const heads[] = { "index", "MB on disk", "pages (index + table)",
					     "rows examined", "rows returned", NULL };
	lab_table_t t;
	lab_table_init(&t, "5. Partial index: live trips (deleted_at IS NULL) of the busiest rider",
		       heads);
	table_pred_t w[2] = { { "rider", TQ_EQ, tv_int(r->heavy_rider) },
			      { "deleted_at", TQ_IS_NULL, tv_null() } };
	table_query_t q = { w, 2, "trip_id,fare", NULL, 0, 0, { 0 }, NULL };
	const char *paths[2] = { "rider", "live_rider" };
	int ixs[2] = { 2, 6 };
	double mb[2], pages[2];
	for (int k = 0; k < 2; k++) {
		table_result_t res;
		double ms;
		if (rides_run(r->trips, q, paths[k], 1, &res, &ms))
			return -1;
		mb[k] = (double)table_structure_bytes(r->trips, ixs[k]) / 1e6;
		pages[k] = (double)(res.index_pages + res.table_pages);
		int row = lab_table_row(&t);
		lab_cell(&t, row, 0, "%s", k == 0 ? "rider (every row)" : "rider where deleted_at IS NULL");
		lab_cell(&t, row, 1, "%.2f", mb[k]);
		lab_cell(&t, row, 2, "%" PRIu64 " + %" PRIu64, res.index_pages, res.table_pages);
		lab_cell(&t, row, 3, "%" PRIu64, res.rows_examined);
		lab_cell(&t, row, 4, "%" PRIu64, res.rows_returned);
		table_result_free(&res);
	}
	lab_table_print(&t, r->cfg, "the partial index is %.0f%% the size of the full one and the "
			"query touched %.0f%% of its pages: it never holds, reads or fetches a "
			"soft-deleted row", 100 * mb[1] / mb[0], 100 * pages[1] / pages[0]);
	return 0;
}

static int lesson_pagination(rides_t *r)
{
	static const char *const heads[] = { "page", "OFFSET: rows examined", "pages", "ms",
					     "cursor: rows examined", "pages", "ms", NULL };
	lab_table_t t;
	char title[128];
	snprintf(title, sizeof title, "6. Pagination: trips by start time, %d per page", RIDES_PAGE);
	lab_table_init(&t, title, heads);
	static const uint64_t pages[3] = { 1, 100, 10000 };
	double off_ms[3] = { 0 }, cur_ms[3] = { 0 };
	uint64_t shown = 0;
	for (int k = 0; k < 3; k++) {
		uint64_t skip = (pages[k] - 1) * RIDES_PAGE;
		if (skip >= r->rows)
			break;
		table_pred_t w[1] = { { "start_time", TQ_GE, tv_int(r->t0) } };
		table_query_t q = { w, 1, "trip_id,start_time", "start_time", RIDES_PAGE, skip, { 0 }, "time_city" };
		table_result_t a, b, prev;
		double ma, mb, mp;
		if (rides_run(r->trips, q, "time_city", 3, &a, &ma))
			return -1;
		/* the previous page's cursor: what the client kept from it */
		table_query_t before = q;
		before.limit = skip ? skip : 1;
		before.offset = 0;
		if (rides_run(r->trips, before, "time_city", 1, &prev, &mp))
			return -1;
		table_query_t c = q;
		c.offset = 0;
		c.after = skip ? buf_slice(&prev.cursor) : sl_slice(NULL, 0);
		if (rides_run(r->trips, c, "time_city", 3, &b, &mb))
			return -1;
		int row = lab_table_row(&t);
		lab_cell(&t, row, 0, "%" PRIu64, pages[k]);
		lab_cell(&t, row, 1, "%" PRIu64, a.rows_examined);
		lab_cell(&t, row, 2, "%" PRIu64, a.index_pages + a.table_pages);
		lab_cell(&t, row, 3, "%.3f", ma);
		lab_cell(&t, row, 4, "%" PRIu64, b.rows_examined);
		lab_cell(&t, row, 5, "%" PRIu64, b.index_pages + b.table_pages);
		lab_cell(&t, row, 6, "%.3f", mb);
		off_ms[k] = ma;
		cur_ms[k] = mb;
		shown = pages[k];
		table_result_free(&a);
		table_result_free(&b);
		table_result_free(&prev);
	}
	int last = shown == 10000 ? 2 : shown == 100 ? 1 : 0;
	lab_table_print(&t, r->cfg, "OFFSET reads and throws away every earlier row: page %" PRIu64
			" took %.0fx page 1's time; a cursor seeks straight past the last row seen and "
			"took %.1fx", shown, off_ms[last] / off_ms[0], cur_ms[last] / cur_ms[0]);
	return 0;
}

/* The drivers of a rider's trips, as the query returns them. */
typedef struct rides_drivers {
	int64_t id[8192];
	int n;
} rides_drivers_t;

static int rides_keep_driver(void *ctx, const table_value_t *row)
{
	rides_drivers_t *d = ctx;
	if (d->n < 8192)
		d->id[d->n++] = row[C_DRIVER].i;
	return SL_OK;
}

/* The N+1 pattern: a rider's trips, then one query per trip for its driver. */
static int rides_n_plus_1(rides_t *r, int64_t rider, uint64_t *queries, uint64_t *pages)
{
	static rides_drivers_t ds;
	ds.n = 0;
	table_pred_t w[1] = { { "rider", TQ_EQ, tv_int(rider) } };
	table_query_t q = { w, 1, "trip_id,driver", NULL, 0, 0, { 0 }, "rider" };
	table_result_t res;
	int rc = table_query(r->trips, &q, rides_keep_driver, &ds, &res);
	(*queries)++;
	*pages += res.index_pages + res.table_pages;
	table_result_free(&res);
	for (int i = 0; rc == SL_OK && i < ds.n; i++) {
		table_pred_t dw[1] = { { "driver_id", TQ_EQ, tv_int(ds.id[i]) } };
		table_query_t dq = { dw, 1, "name", NULL, 0, 0, { 0 }, "primary" };
		rc = table_query(r->drivers_t, &dq, NULL, NULL, &res);
		(*queries)++;
		*pages += res.index_pages + res.table_pages;
		table_result_free(&res);
	}
	return rc;
}

static int lesson_n_plus_1(rides_t *r)
{
	static const char *const heads[] = { "pattern", "queries", "pages", "ms", NULL };
	lab_table_t t;
	lab_table_init(&t, "7. A rider's trips with their drivers' names, for 200 riders", heads);
	uint64_t q1 = 0, p1 = 0, q2 = 0, p2 = 0;
	wl_rng_t rng = { r->cfg->seed ^ 0x77 };
	double t0 = rides_now();
	for (int i = 0; i < 200; i++)
		if (rides_n_plus_1(r, (int64_t)wl_below(&rng, r->riders), &q1, &p1) != SL_OK)
			return -1;
	double ms1 = (rides_now() - t0) * 1000;
	rng.state = r->cfg->seed ^ 0x77;
	t0 = rides_now();
	for (int i = 0; i < 200; i++) {
		table_pred_t w[1] = { { "rider", TQ_EQ, tv_int((int64_t)wl_below(&rng, r->riders)) } };
		table_query_t q = { w, 1, "start_time,driver_name", NULL, 0, 0, { 0 }, "rider_cover" };
		table_result_t res;
		if (table_query(r->trips, &q, NULL, NULL, &res) != SL_OK)
			return -1;
		q2++;
		p2 += res.index_pages + res.table_pages;
		table_result_free(&res);
	}
	double ms2 = (rides_now() - t0) * 1000;
	int row = lab_table_row(&t);
	lab_cell(&t, row, 0, "N+1: trips, then each driver by key");
	lab_cell(&t, row, 1, "%" PRIu64, q1);
	lab_cell(&t, row, 2, "%" PRIu64, p1);
	lab_cell(&t, row, 3, "%.1f", ms1);
	row = lab_table_row(&t);
	lab_cell(&t, row, 0, "one range read (name kept in the index)");
	lab_cell(&t, row, 1, "%" PRIu64, q2);
	lab_cell(&t, row, 2, "%" PRIu64, p2);
	lab_cell(&t, row, 3, "%.1f", ms2);
	lab_table_print(&t, r->cfg, "N+1 issued %.1fx the queries and touched %.1fx the pages "
			"(%.1fx the time): one range over an index that carries the driver's name "
			"answers in one read — the denormalisation a document store does by default",
			(double)q1 / (double)q2, (double)p1 / (double)p2, ms1 / ms2);
	return 0;
}

static int lesson_write_cost(rides_t *r)
{
	static const char *const heads[] = { "secondary indexes", "inserts/s", "MB on disk",
					     "vs none", NULL };
	lab_table_t t;
	uint64_t n = r->rows / 4 > 2000 ? r->rows / 4 : 2000;
	char title[128];
	snprintf(title, sizeof title, "8. The write cost of indexes: %" PRIu64 " inserts", n);
	lab_table_init(&t, title, heads);
	double base = 0, rate5 = 0;
	for (size_t k = 0; k <= 5; k++) {
		table_def_t def = { TRIP_COLUMNS, "trip_id", trip_indexes, k };
		char sub[32];
		snprintf(sub, sizeof sub, "write-%zu", k);
		table_t *tt = rides_open(r, sub, &def);
		if (tt == NULL)
			return -1;
		double t0 = rides_now();
		if (rides_fill(r, tt, n) != 0)
			return -1;
		double rate = (double)n / (rides_now() - t0);
		uint64_t bytes = table_structure_bytes(tt, -1);
		for (size_t i = 0; i < k; i++)
			bytes += table_structure_bytes(tt, (int)i);
		table_close(tt);
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/%s", r->cfg->work, sub);
		harness_rmrf(dir);
		base = k == 0 ? rate : base;
		rate5 = rate;
		int row_n = lab_table_row(&t);
		lab_cell(&t, row_n, 0, "%zu", k);
		lab_cell(&t, row_n, 1, "%.0f", rate);
		lab_cell(&t, row_n, 2, "%.1f", (double)bytes / 1e6);
		lab_cell(&t, row_n, 3, "%.2fx", rate / base);
	}
	lab_table_print(&t, r->cfg, "every index is one more structure to change on each insert: "
			"with five, inserts ran at %.2fx the rate of none — index what your queries "
			"need, not every column", rate5 / base);
	return 0;
}

int lab_rides(const lab_cfg_t *cfg)
{
	rides_t r = { .cfg = cfg, .rows = cfg->keys, .t0 = 1767225600 /* 2026-01-01 */ };
	r.riders = (uint32_t)(cfg->keys / 10 > 100 ? cfg->keys / 10 : 100);
	r.drivers = (uint32_t)(cfg->keys / 50 > 50 ? cfg->keys / 50 : 50);
	printf(cfg->markdown ? "## storelab lab rides: %" PRIu64 " trips, %u riders, %u drivers, "
			       "seed %" PRIu64 "\n"
			     : "storelab lab rides: %" PRIu64 " trips, %u riders, %u drivers, seed %"
			       PRIu64 "\n", r.rows, r.riders, r.drivers, cfg->seed);
	double t0 = rides_now();
	int rc = rides_load(&r);
	if (rc == 0)
		printf("(loaded in %.1f s: 7 indexes, statistics gathered)\n", rides_now() - t0);
	int (*const lessons[])(rides_t *) = { lesson_column_order, lesson_covering,
					      lesson_hash_vs_btree, lesson_selectivity, lesson_partial,
					      lesson_pagination, lesson_n_plus_1, lesson_write_cost };
	for (size_t i = 0; rc == 0 && i < sizeof lessons / sizeof lessons[0]; i++)
		rc = lessons[i](&r);
	table_close(r.trips);
	table_close(r.drivers_t);
	table_close(r.riders_t);
	if (rc == 0)
		printf("\n(%.0f s)\n", rides_now() - t0);
	return rc;
}
