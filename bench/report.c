/* report.c — tables, JSON, CSV, markdown, SVG and the summary (see report.h). */
#include "bench/report.h"

#include <dirent.h>
#include <sys/stat.h>

#include <math.h>
#include <string.h>

static const char *const lat_names[5] = { "p50", "p90", "p99", "p999", "max" };

const char *report_si(char *buf, size_t size, double v)
{
	if (v >= 1e9)
		snprintf(buf, size, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, size, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, size, "%.1fk", v / 1e3);
	else
		snprintf(buf, size, "%.3g", v);
	return buf;
}

/* A number JSON can hold (no inf or nan). */
static double report_finite(double v)
{
	return isfinite(v) ? v : 0;
}

static double report_spread_pct(const bench_result_t *r)
{
	return r->ops_per_sec > 0 ? 100.0 * (r->ops_per_sec_max - r->ops_per_sec_min) / r->ops_per_sec
				  : 0;
}

bool report_runs_overlap(const bench_result_t *a, const bench_result_t *b)
{
	return a->ops_per_sec_min <= b->ops_per_sec_max && b->ops_per_sec_min <= a->ops_per_sec_max;
}

/* ---------------------------------------------------------------- table */

void report_table(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	char mem[128] = "";
	int m = 0;
	if (cfg->memory_bytes > 0)
		m = snprintf(mem, sizeof mem, ", each store in %llu MiB (page cache included)",
			     (unsigned long long)(cfg->memory_bytes >> 20));
	if (cfg->reads > 0 && cfg->reads < cfg->n)
		snprintf(mem + m, sizeof mem - (size_t)m, ", %llu gets per read phase",
			 (unsigned long long)cfg->reads);
	fprintf(out, "n=%llu keys of %u B, values of %zu B, sync %s, batch %u%s, %u repeat%s, median "
		"shown; latency in us\n\n", (unsigned long long)cfg->n, cfg->key_size,
		cfg->value_size, sl_sync_name(cfg->sync), cfg->batch, mem, cfg->repeat,
		cfg->repeat == 1 ? "" : "s");
	int w = 11; /* the store column fits the longest name or spec ("lsm:policy=tiered") */
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(r[i].store) > w)
			w = (int)strlen(r[i].store);
	fprintf(out, "%-*s %-12s %10s %7s %9s %9s %9s %7s %7s %7s %9s %8s %7s\n", w, "store",
		"workload", "ops/s", "spread", "p50", "p99", "p99.9", "w-amp", "r-amp", "s-amp",
		"disk MB", "RSS MB", "close s");
	for (size_t i = 0; i < n; i++) {
		const bench_result_t *x = &r[i];
		if (x->status != 0) {
			fprintf(out, "%-*s %-12s %s: %s\n", w, x->store, x->workload,
				x->status == SL_NOTSUP ? "n/a" : "FAILED", x->error);
			continue;
		}
		char ops[16];
		fprintf(out, "%-*s %-12s %10s %6.1f%% %9.2f %9.2f %9.2f %7.2f %7.2f %7.2f %9.1f %8.1f "
			"%7.2f\n", w, x->store, x->workload, report_si(ops, sizeof ops, x->ops_per_sec),
			report_spread_pct(x), x->lat_us[0], x->lat_us[2], x->lat_us[3], x->write_amp,
			x->read_amp, x->space_amp, (double)x->disk_bytes / 1e6,
			(double)x->peak_rss_bytes / 1e6, x->close_seconds);
	}
}

/* The result's figure called name (or ending in "." name); NAN when it has none. */
static double report_figure(const bench_result_t *x, const char *name)
{
	size_t nl = strlen(name);
	for (size_t f = 0; f < x->nfigures; f++) {
		const char *fn = x->figure_names[f];
		size_t fl = strlen(fn);
		if (strcmp(fn, name) == 0 || (fl > nl && fn[fl - nl - 1] == '.' && strcmp(fn + fl - nl, name) == 0))
			return x->figures[f];
	}
	return NAN;
}

void report_figures(FILE *out, const bench_result_t *r, size_t n, const char *const *names,
		    size_t nnames)
{
	int w = 11;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(r[i].store) > w)
			w = (int)strlen(r[i].store);
	fprintf(out, "%-*s %-12s", w, "store", "workload");
	for (size_t k = 0; k < nnames; k++)
		fprintf(out, " %*s", (int)(strlen(names[k]) > 10 ? strlen(names[k]) : 10), names[k]);
	fputc('\n', out);
	for (size_t i = 0; i < n; i++) {
		bool any = false;
		for (size_t k = 0; k < nnames; k++)
			any = any || !isnan(report_figure(&r[i], names[k]));
		if (!any)
			continue;
		fprintf(out, "%-*s %-12s", w, r[i].store, r[i].workload);
		for (size_t k = 0; k < nnames; k++) {
			int cw = (int)(strlen(names[k]) > 10 ? strlen(names[k]) : 10);
			double v = report_figure(&r[i], names[k]);
			if (isnan(v))
				fprintf(out, " %*s", cw, "-");
			else
				fprintf(out, " %*.4g", cw, v);
		}
		fputc('\n', out);
	}
}

/* ---------------------------------------------------------------- JSON */

void report_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_lat(FILE *out, const double *lat)
{
	fputs("{", out);
	for (int q = 0; q < 5; q++)
		fprintf(out, "%s\"%s\": %.4g", q ? ", " : "", lat_names[q], report_finite(lat[q]));
	fputs("}", out);
}

static void json_kinds(FILE *out, const bench_result_t *x)
{
	fputs("\"ops_by_kind\": {", out);
	bool first = true;
	for (int k = 0; k < OP_KINDS_; k++) {
		if (x->kind_ops[k] == 0)
			continue;
		fprintf(out, "%s\"%s\": {\"ops\": %llu, \"lat_us\": ", first ? "" : ", ",
			op_kind_name((op_kind_t)k), (unsigned long long)x->kind_ops[k]);
		json_lat(out, x->kind_lat_us[k]);
		fputs("}", out);
		first = false;
	}
	fputs("}", out);
}

static void json_result(FILE *out, const bench_result_t *x)
{
	fprintf(out, "    {\"n\": %llu, \"store\": ", (unsigned long long)x->n);
	report_json_string(out, x->store);
	fputs(", \"workload\": ", out);
	report_json_string(out, x->workload);
	fprintf(out, ", \"status\": \"%s\"",
		x->status == 0 ? "ok" : x->status == SL_NOTSUP ? "unsupported" : "failed");
	if (x->status) {
		fputs(", \"error\": ", out);
		report_json_string(out, x->error);
	}
	fprintf(out, ",\n     \"ops\": %llu, \"seconds\": %.6g, \"close_seconds\": %.6g, "
		"\"ops_per_sec\": %.6g, \"ops_per_sec_min\": %.6g, \"ops_per_sec_max\": %.6g, "
		"\"repeats\": %u,\n     \"lat_us\": ",
		(unsigned long long)x->ops, report_finite(x->seconds), report_finite(x->close_seconds),
		report_finite(x->ops_per_sec),
		report_finite(x->ops_per_sec_min), report_finite(x->ops_per_sec_max), x->repeats);
	json_lat(out, x->lat_us);
	fprintf(out, ",\n     \"write_amp\": %.4g, \"read_amp\": %.4g, \"space_amp\": %.4g, "
		"\"disk_bytes\": %llu, \"peak_rss_bytes\": %llu, \"found_ratio\": %.4g,\n     ",
		report_finite(x->write_amp), report_finite(x->read_amp),
		report_finite(x->space_amp), (unsigned long long)x->disk_bytes,
		(unsigned long long)x->peak_rss_bytes, report_finite(x->found_ratio));
	json_kinds(out, x);
	fputs(",\n     \"figures\": {", out);
	for (size_t i = 0; i < x->nfigures; i++) {
		fputs(i ? ", " : "", out);
		report_json_string(out, x->figure_names[i]);
		fprintf(out, ": %.6g", report_finite(x->figures[i]));
	}
	fputs("}}", out);
}

void report_json(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	fprintf(out, "{\"suite\": \"kv\",\n \"config\": {\"n\": %llu, \"key_size\": %u, "
		"\"value_size\": %zu, \"compress_ratio\": %.3g, \"dist\": \"%s\", \"sync\": \"%s\", "
		"\"batch\": %u, \"seed\": %llu, \"scan_length\": %u, \"repeat\": %u, "
		"\"threads\": %u, \"cache_bytes\": %llu, \"memory_bytes\": %llu, \"reads\": %llu},\n"
		" \"results\": [\n",
		(unsigned long long)cfg->n, cfg->key_size, cfg->value_size, cfg->compress_ratio,
		dist_name(cfg->dist), sl_sync_name(cfg->sync), cfg->batch,
		(unsigned long long)cfg->seed, cfg->scan_length, cfg->repeat, cfg->threads,
		(unsigned long long)cfg->cache_bytes, (unsigned long long)cfg->memory_bytes,
		(unsigned long long)cfg->reads);
	for (size_t i = 0; i < n; i++) {
		json_result(out, &r[i]);
		fputs(i + 1 < n ? ",\n" : "\n", out);
	}
	fputs(" ]}\n", out);
}

/* ---------------------------------------------------------------- CSV */

void report_csv(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	(void)cfg;
	fputs("store,workload,status,ops,seconds,ops_per_sec,ops_per_sec_min,ops_per_sec_max,"
	      "lat_us_p50,lat_us_p90,lat_us_p99,lat_us_p999,lat_us_max,write_amp,read_amp,"
	      "space_amp,disk_bytes,peak_rss_bytes,error,n\n", out);
	for (size_t i = 0; i < n; i++) {
		const bench_result_t *x = &r[i];
		fprintf(out, "%s,%s,%s,%llu,%.6g,%.6g,%.6g,%.6g", x->store, x->workload,
			x->status == 0 ? "ok" : x->status == SL_NOTSUP ? "unsupported" : "failed", (unsigned long long)x->ops, x->seconds,
			x->ops_per_sec, x->ops_per_sec_min, x->ops_per_sec_max);
		for (int q = 0; q < 5; q++)
			fprintf(out, ",%.4g", x->lat_us[q]);
		fprintf(out, ",%.4g,%.4g,%.4g,%llu,%llu,\"", x->write_amp, x->read_amp, x->space_amp,
			(unsigned long long)x->disk_bytes, (unsigned long long)x->peak_rss_bytes);
		for (const char *c = x->error; *c; c++) {
			if (*c == '"')
				fputc('"', out);
			fputc(*c, out);
		}
		fprintf(out, "\",%llu\n", (unsigned long long)x->n);
	}
}

/* ---------------------------------------------------------------- markdown */

void report_markdown(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	fprintf(out, "%llu keys of %u bytes, %zu-byte values (compressible to %.0f%%), sync `%s`, "
		"batch %u, %u thread%s; each figure is the median of %u runs, spread = (fastest - "
		"slowest) / median. Latencies in microseconds.\n\n",
		(unsigned long long)cfg->n, cfg->key_size, cfg->value_size, cfg->compress_ratio * 100,
		sl_sync_name(cfg->sync), cfg->batch, cfg->threads, cfg->threads == 1 ? "" : "s",
		cfg->repeat);
	fputs("| store | workload | ops/s | spread | p50 | p99 | p99.9 | write amp | read amp | "
	      "space amp | disk MB | peak RSS MB |\n", out);
	fputs("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n", out);
	for (size_t i = 0; i < n; i++) {
		const bench_result_t *x = &r[i];
		if (x->status) {
			fprintf(out, "| %s | %s | %s: %s |||||||||\n", x->store, x->workload,
				x->status == SL_NOTSUP ? "n/a" : "failed", x->error);
			continue;
		}
		char ops[16];
		fprintf(out, "| %s | %s | %s | %.0f%% | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | "
			"%.1f |\n", x->store, x->workload, report_si(ops, sizeof ops, x->ops_per_sec),
			report_spread_pct(x), x->lat_us[0], x->lat_us[2], x->lat_us[3], x->write_amp,
			x->read_amp, x->space_amp, (double)x->disk_bytes / 1e6,
			(double)x->peak_rss_bytes / 1e6);
	}
}

/* ---------------------------------------------------------------- SVG */

#define SVG_W 980        /* document width, px */
#define SVG_PANEL_H 280  /* one chart */
#define SVG_LEFT 70      /* room for the y axis labels */
#define SVG_TOP 50       /* room for a panel's title */
#define SVG_LEGEND_ROW 20 /* a row of the legend above the first panel */
#define SVG_BOTTOM 40    /* room for the group labels */

static const char *const svg_colors[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
					  "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac" };

/* The distinct names in field (store or workload) of the results, in order. */
static size_t report_distinct(const bench_result_t *r, size_t n, bool store,
			      const char *out[], size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *name = store ? r[i].store : r[i].workload;
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= strcmp(out[j], name) == 0;
		if (!seen && k < max)
			out[k++] = name;
	}
	return k;
}

typedef double (*svg_value_fn)(const bench_result_t *x);

typedef struct svg_chart {
	const char *title;     /* panel heading */
	svg_value_fn value;    /* the figure drawn; <= 0 means no bar */
	bool log_scale;        /* for figures spanning orders of magnitude */
} svg_chart_t;

/* The result of store on workload, failed or not; NULL when it was not run. */
static const bench_result_t *report_find(const bench_result_t *r, size_t n, const char *store,
					 const char *workload)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].store, store) == 0 && strcmp(r[i].workload, workload) == 0)
			return &r[i];
	return NULL;
}

/* Maps v into [0, 1] of the axis. */
static double svg_pos(double v, double lo, double hi, bool log_scale)
{
	if (log_scale)
		return (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
	return (v - lo) / (hi - lo);
}

static void svg_axis(FILE *out, double y0, double plot_h, double lo, double hi, bool log_scale)
{
	int ticks = log_scale ? (int)lround(log10(hi) - log10(lo)) : 4;
	for (int t = 0; t <= ticks; t++) {
		double v = log_scale ? lo * pow(10, t) : lo + (hi - lo) * t / ticks;
		double y = y0 + plot_h * (1 - svg_pos(v, lo, hi, log_scale));
		char label[16];
		fprintf(out, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>\n", SVG_LEFT, y,
			SVG_W - 10, y);
		fprintf(out, "<text x='%d' y='%.1f' text-anchor='end' font-size='11'>%s</text>\n",
			SVG_LEFT - 6, y + 4, report_si(label, sizeof label, v));
	}
}

/* The axis range: [0, max*1.15] or whole decades around the values. */
static bool svg_range(const svg_chart_t *c, const bench_result_t *r, size_t n, double *lo,
		      double *hi)
{
	double mn = INFINITY, mx = 0;
	for (size_t i = 0; i < n; i++) {
		double v = r[i].status == 0 ? c->value(&r[i]) : 0;
		if (v > 0) {
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
	}
	if (mx <= 0)
		return false;
	if (c->log_scale) {
		*lo = pow(10, floor(log10(mn)));
		*hi = pow(10, ceil(log10(mx)));
		if (*hi <= *lo)
			*hi = *lo * 10;
	} else {
		/* Four ticks of a round step (1, 2, 2.5 or 5 times a power of ten). */
		double raw = mx * 1.1 / 4, mag = pow(10, floor(log10(raw))), step = 10 * mag;
		const double nice[] = { 1, 2, 2.5, 5 };
		for (int i = 3; i >= 0; i--)
			if (nice[i] * mag >= raw)
				step = nice[i] * mag;
		*lo = 0;
		*hi = 4 * step;
	}
	return true;
}

void report_xml_text(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++) {
		const char *esc = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;"
				: *p == '\'' ? "&apos;" : *p == '"' ? "&quot;" : NULL;
		if (esc)
			fputs(esc, out);
		else
			fputc(*p, out);
	}
}

/* Where a bar is missing because the run failed or cannot be done (a hash index
 * has no scans), says so at the bar's place, the reason in its tooltip. */
static void svg_missing(FILE *out, double bx, double base, double bar_w, const bench_result_t *x)
{
	fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='9' fill='#888'>n/a"
		"<title>", bx + bar_w * 0.46, base - 3);
	report_xml_text(out, x->store);
	fprintf(out, " %s: ", x->workload);
	report_xml_text(out, x->error);
	fputs("</title></text>\n", out);
}

static void svg_panel(FILE *out, int index, int top, const svg_chart_t *c, const bench_result_t *r,
		      size_t n, const char **stores, size_t ns, const char **groups, size_t ng)
{
	double y0 = top + index * SVG_PANEL_H + SVG_TOP;
	double plot_h = SVG_PANEL_H - SVG_TOP - SVG_BOTTOM;
	fprintf(out, "<text x='%d' y='%.0f' font-size='15' font-weight='bold'>%s</text>\n", SVG_LEFT,
		y0 - 28, c->title);
	double lo, hi;
	if (!svg_range(c, r, n, &lo, &hi)) {
		fprintf(out, "<text x='%d' y='%.0f' font-size='12'>no data</text>\n", SVG_LEFT,
			y0 + 20);
		return;
	}
	svg_axis(out, y0, plot_h, lo, hi, c->log_scale);
	double group_w = (double)(SVG_W - SVG_LEFT - 20) / (double)ng;
	double bar_w = group_w * 0.8 / (double)ns;
	for (size_t g = 0; g < ng; g++) {
		double gx = SVG_LEFT + 10 + group_w * (double)g;
		fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>%s</text>\n",
			gx + group_w * 0.4, y0 + plot_h + 18, groups[g]);
		for (size_t s = 0; s < ns; s++) {
			const bench_result_t *x = report_find(r, n, stores[s], groups[g]);
			double bx = gx + bar_w * (double)s;
			if (x != NULL && x->status != 0)
				svg_missing(out, bx, y0 + plot_h, bar_w, x);
			double v = x && x->status == 0 ? c->value(x) : 0;
			if (v <= 0)
				continue;
			double h = plot_h * svg_pos(v < lo ? lo : v, lo, hi, c->log_scale);
			char label[16];
			fprintf(out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'>"
				"<title>", bx, y0 + plot_h - h, bar_w * 0.92, h, svg_colors[s % 10]);
			report_xml_text(out, stores[s]);
			fprintf(out, " %s: %s</title></rect>\n", groups[g],
				report_si(label, sizeof label, v));
			if (bar_w >= 22)
				fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='9'>%s"
					"</text>\n", bx + bar_w * 0.46, y0 + plot_h - h - 3, label);
		}
	}
}

/* Each store's legend entry: its width in px at font size 12 (about 7 px a character). */
static int svg_legend_w(const char *store) { return 16 + 7 * (int)strlen(store) + 18; }

/* The legend's height: entries laid left to right, wrapping at the document's width. */
static int svg_legend_h(const char **stores, size_t ns)
{
	int x = SVG_LEFT, rows = 1;
	for (size_t s = 0; s < ns; s++) {
		if (x + svg_legend_w(stores[s]) > SVG_W - 10 && x > SVG_LEFT) {
			rows++;
			x = SVG_LEFT;
		}
		x += svg_legend_w(stores[s]);
	}
	return rows * SVG_LEGEND_ROW + 10;
}

/* A colour box and the name of each store, across the top, every one in full. */
static void svg_legend(FILE *out, const char **stores, size_t ns)
{
	int x = SVG_LEFT, y = 10;
	for (size_t s = 0; s < ns; s++) {
		if (x + svg_legend_w(stores[s]) > SVG_W - 10 && x > SVG_LEFT) {
			y += SVG_LEGEND_ROW;
			x = SVG_LEFT;
		}
		fprintf(out, "<rect x='%d' y='%d' width='12' height='12' fill='%s'/><text x='%d' y='%d' "
			"font-size='12'>", x, y, svg_colors[s % 10], x + 16, y + 11);
		report_xml_text(out, stores[s]);
		fputs("</text>\n", out);
		x += svg_legend_w(stores[s]);
	}
}

static double svg_ops(const bench_result_t *x) { return x->ops_per_sec; }
static double svg_p50(const bench_result_t *x) { return x->lat_us[0]; }
static double svg_p99(const bench_result_t *x) { return x->lat_us[2]; }
static double svg_wamp(const bench_result_t *x) { return x->write_amp; }
static double svg_samp(const bench_result_t *x) { return x->space_amp; }

void report_svg(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n)
{
	static const svg_chart_t charts[] = {
		{ "Throughput, operations per second (log scale; higher is better)", svg_ops, true },
		{ "Median latency, microseconds (log scale; lower is better)", svg_p50, true },
		{ "99th percentile latency, microseconds (log scale; lower is better)", svg_p99, true },
		{ "Write amplification: device bytes written per user byte (lower is better)", svg_wamp, false },
		{ "Space amplification: bytes on disk per live byte (lower is better)", svg_samp, false },
	};
	const char *stores[16], *groups[HARNESS_MAX_WORKLOADS];
	size_t ns = report_distinct(r, n, true, stores, 16);
	size_t ng = report_distinct(r, n, false, groups, HARNESS_MAX_WORKLOADS);
	size_t npanels = sizeof charts / sizeof charts[0];
	int top = svg_legend_h(stores, ns);
	int h = top + (int)npanels * SVG_PANEL_H + 40;
	fprintf(out, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
		"font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
		SVG_W, h);
	/* Legend, then one panel per chart. */
	svg_legend(out, stores, ns);
	fprintf(out, "<text x='10' y='%d' font-size='11' fill='#555'>storelab bench: n=%llu, "
		"key %u B, value %zu B, sync %s, batch %u, median of %u</text>\n", h - 12,
		(unsigned long long)cfg->n, cfg->key_size, cfg->value_size, sl_sync_name(cfg->sync),
		cfg->batch, cfg->repeat);
	for (size_t c = 0; c < npanels; c++)
		svg_panel(out, (int)c, top, &charts[c], r, n, stores, ns, groups, ng);
	fputs("</svg>\n", out);
}

/*
 * A size sweep (`--n 100000,1000000,...`): per workload, throughput against the
 * number of keys, a line per store (both axes log scale), and write
 * amplification against size for the fills — how each store's cost grows as
 * its data outgrows the caches.
 */
static void svg_sweep_panel(FILE *out, int index, int top, const char *workload, bool wamp,
			    const bench_result_t *r, size_t n, const char **stores, size_t ns,
			    const uint64_t *sizes, size_t nsizes)
{
	double y0 = top + index * SVG_PANEL_H + SVG_TOP, plot_h = SVG_PANEL_H - SVG_TOP - SVG_BOTTOM;
	svg_chart_t c = { NULL, wamp ? svg_wamp : svg_ops, true };
	fprintf(out, "<text x='%d' y='%.0f' font-size='15' font-weight='bold'>%s: %s against keys "
		"(log scales)</text>\n", SVG_LEFT, y0 - 28, workload,
		wamp ? "write amplification" : "operations per second");
	const bench_result_t *mine[64 * 16];
	size_t k = 0;
	for (size_t i = 0; i < n && k < 64 * 16; i++)
		if (strcmp(r[i].workload, workload) == 0 && r[i].status == 0)
			mine[k++] = &r[i];
	double mn = INFINITY, mx = 0;
	for (size_t i = 0; i < k; i++) {
		double v = c.value(mine[i]);
		mn = v > 0 && v < mn ? v : mn;
		mx = v > mx ? v : mx;
	}
	if (mx <= 0) {
		fprintf(out, "<text x='%d' y='%.0f' font-size='12'>no data</text>\n", SVG_LEFT, y0 + 20);
		return;
	}
	double lo = pow(10, floor(log10(mn))), hi = pow(10, ceil(log10(mx)));
	hi = hi <= lo ? lo * 10 : hi;
	svg_axis(out, y0, plot_h, lo, hi, true);
	double x_lo = log10((double)sizes[0]), x_hi = log10((double)sizes[nsizes - 1]);
	double plot_w = SVG_W - SVG_LEFT - 40;
	for (size_t z = 0; z < nsizes; z++) {
		double x = SVG_LEFT + 10 + plot_w * (x_hi > x_lo ? (log10((double)sizes[z]) - x_lo) / (x_hi - x_lo) : 0.5);
		char label[16];
		fprintf(out, "<text x='%.1f' y='%.1f' text-anchor='middle' font-size='12'>%s keys</text>\n",
			x, y0 + plot_h + 18, report_si(label, sizeof label, (double)sizes[z]));
	}
	for (size_t s = 0; s < ns; s++) {
		fprintf(out, "<polyline fill='none' stroke='%s' stroke-width='2' points='", svg_colors[s % 10]);
		for (size_t i = 0; i < k; i++) {
			double v = c.value(mine[i]);
			if (strcmp(mine[i]->store, stores[s]) != 0 || v <= 0)
				continue;
			double x = SVG_LEFT + 10 + plot_w * (x_hi > x_lo ? (log10((double)mine[i]->n) - x_lo) / (x_hi - x_lo) : 0.5);
			fprintf(out, "%.1f,%.1f ", x, y0 + plot_h * (1 - svg_pos(v < lo ? lo : v, lo, hi, true)));
		}
		fputs("'/>\n", out);
	}
}

void report_svg_sweep(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n,
		      const uint64_t *sizes, size_t nsizes)
{
	const char *stores[16], *groups[HARNESS_MAX_WORKLOADS];
	size_t ns = report_distinct(r, n, true, stores, 16);
	size_t ng = report_distinct(r, n, false, groups, HARNESS_MAX_WORKLOADS), npanels = 0;
	for (size_t g = 0; g < ng; g++)
		npanels += 1 + (strncmp(groups[g], "fill", 4) == 0);
	int top = svg_legend_h(stores, ns);
	int h = top + (int)npanels * SVG_PANEL_H + 40;
	fprintf(out, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
		"font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n", SVG_W, h);
	svg_legend(out, stores, ns);
	fprintf(out, "<text x='10' y='%d' font-size='11' fill='#555'>storelab bench size sweep: "
		"key %u B, value %zu B, sync %s, batch %u, median of %u</text>\n", h - 12,
		cfg->key_size, cfg->value_size, sl_sync_name(cfg->sync), cfg->batch, cfg->repeat);
	int panel = 0;
	for (size_t g = 0; g < ng; g++) {
		svg_sweep_panel(out, panel++, top, groups[g], false, r, n, stores, ns, sizes, nsizes);
		if (strncmp(groups[g], "fill", 4) == 0)
			svg_sweep_panel(out, panel++, top, groups[g], true, r, n, stores, ns, sizes,
					nsizes);
	}
	fputs("</svg>\n", out);
}

/* ---------------------------------------------------------------- summary */

typedef struct summary_line {
	const char *what;     /* "Random point reads" */
	const char *workload; /* where it is measured */
	svg_value_fn value;   /* the figure compared */
	bool lower_better;    /* latency, amplification */
	const char *unit;     /* printed after the figure */
} summary_line_t;

static double sum_p999(const bench_result_t *x) { return x->lat_us[3]; }

static void report_summary_line(FILE *out, const summary_line_t *l, const bench_result_t *r,
				size_t n)
{
	const bench_result_t *best = NULL, *second = NULL;
	for (size_t i = 0; i < n; i++) {
		const bench_result_t *x = &r[i];
		if (x->status || strcmp(x->workload, l->workload) != 0 || l->value(x) <= 0)
			continue;
		double v = l->value(x);
		bool better = best == NULL || (l->lower_better ? v < l->value(best) : v > l->value(best));
		if (better) {
			second = best;
			best = x;
		} else if (second == NULL ||
			   (l->lower_better ? v < l->value(second) : v > l->value(second))) {
			second = x;
		}
	}
	if (best == NULL)
		return;
	char a[16];
	fprintf(out, "  %-28s %s (%s %s)", l->what, best->store,
		report_si(a, sizeof a, l->value(best)), l->unit);
	if (second != NULL) {
		double ratio = l->lower_better ? l->value(second) / l->value(best)
					       : l->value(best) / l->value(second);
		/* Throughput has a spread over the repeats: a lead inside it is no lead. */
		if (l->value == svg_ops && report_runs_overlap(best, second))
			fprintf(out, " and %s tie: %.2fx, inside the runs' spread", second->store,
				ratio);
		else
			fprintf(out, ", %.2fx the next best, %s", ratio, second->store);
	}
	fputc('\n', out);
}

void report_summary(FILE *out, const bench_result_t *r, size_t n)
{
	static const summary_line_t lines[] = {
		{ "Bulk load in key order", "fillseq", svg_ops, false, "ops/s" },
		{ "Random inserts", "fillrandom", svg_ops, false, "ops/s" },
		{ "Random point reads", "readrandom", svg_ops, false, "ops/s" },
		{ "Lookups of absent keys", "readmissing", svg_ops, false, "ops/s" },
		{ "Range scans (100 entries)", "scan", svg_ops, false, "scans/s" },
		{ "Overwrites", "overwrite", svg_ops, false, "ops/s" },
		{ "Deletes", "deleterandom", svg_ops, false, "ops/s" },
		{ "Read-heavy mix (YCSB B)", "ycsb-b", svg_ops, false, "ops/s" },
		{ "Update-heavy mix (YCSB A)", "ycsb-a", svg_ops, false, "ops/s" },
		{ "Steadiest reads (p99.9)", "readrandom", sum_p999, true, "us" },
		{ "Fewest bytes written", "fillrandom", svg_wamp, true, "x user bytes" },
		{ "Smallest on disk", "fillrandom", svg_samp, true, "x live bytes" },
	};
	fputs("Which store when (from the figures above):\n", out);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		report_summary_line(out, &lines[i], r, n);
}

uint64_t report_tree_bytes(const char *dir)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[4400];
		struct stat st;
		if (snprintf(path, sizeof path, "%.4000s/%.255s", dir, e->d_name) >= (int)sizeof path ||
		    lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			total += report_tree_bytes(path);
		else if (S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	if (d != NULL)
		closedir(d);
	return total;
}
