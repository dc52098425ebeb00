/*
 * report.h — the results of a benchmark as a table, JSON, CSV, markdown, SVG
 * charts, and a "which store when" summary.
 *
 * The JSON and CSV field names are a contract (shared/DESIGN.md): other tools
 * read them. Every result object carries at least store, workload, ops, seconds,
 * ops_per_sec, lat_us {p50, p90, p99, p999, max}, write_amp, read_amp,
 * space_amp, disk_bytes and peak_rss_bytes.
 */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "bench/harness.h"

void report_table(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n);
void report_json(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n);
void report_csv(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n);
void report_markdown(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n);

/* One SVG document with a panel per figure: throughput, p50 and p99 latency,
 * write and space amplification, grouped by workload with a bar per store. */
void report_svg(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n);
/* A size sweep's chart: throughput (and the fills' write amplification) against keys. */
void report_svg_sweep(FILE *out, const bench_cfg_t *cfg, const bench_result_t *r, size_t n,
		      const uint64_t *sizes, size_t nsizes);

/* A table of the store figures named (each a full name such as lsm.files_per_get,
 * or its last part, files_per_get), a row per result that has any of them. */
void report_figures(FILE *out, const bench_result_t *r, size_t n, const char *const *names,
		    size_t nnames);

/* Writes text with XML's five special characters escaped (SVG and HTML pages). */
void report_xml_text(FILE *out, const char *text);

/* A few lines naming the best store for each kind of work, from the figures. */
void report_summary(FILE *out, const bench_result_t *r, size_t n);

/* s as a JSON string literal, quoted and escaped. */
void report_json_string(FILE *out, const char *s);

/* 1234567 -> "1.23M", 4321 -> "4.32k" (into buf). */
const char *report_si(char *buf, size_t size, double v);

/* Bytes of the regular files under dir, at any depth (each engine lays out its own). */
uint64_t report_tree_bytes(const char *dir);

/*
 * Whether the throughput of a's repeats and b's overlap (the slowest of one at or
 * below the fastest of the other): then a lead of either is inside the noise,
 * and the reports call it a tie.
 */
bool report_runs_overlap(const bench_result_t *a, const bench_result_t *b);

#endif
