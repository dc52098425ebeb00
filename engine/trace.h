/*
 * trace.h — run-time narration of what a structure does.
 *
 * A learner switches tracing on for one handle and reads, line by line, what the
 * store did for a get or a put ("page 7 is an internal node with 212 keys; binary
 * search picks child 19"). The hook is a function pointer in the handle: NULL
 * means off, and the only cost left in the code is the test in trace_on(), a
 * branch the CPU predicts perfectly while tracing stays off.
 *
 * Use it as
 *     if (trace_on(&s->trace))
 *         trace_emit(&s->trace, "page %u: %u keys", pgno, n);
 * so that the arguments are not even computed when tracing is off.
 *
 * Every line ends with the name of the function that took the step, in
 * brackets ("... insert at slot 146  [bt_leaf_insert]"): the place to set a
 * breakpoint to watch that step happen in a debugger (docs/stepping.md).
 */
#ifndef SL_TRACE_H
#define SL_TRACE_H

#include <stdbool.h>
#include <stddef.h>

/* Receives one line of narration (no trailing newline). */
typedef void (*trace_fn)(void *ctx, const char *line);

typedef struct trace {
	trace_fn fn; /* NULL = tracing off */
	void *ctx;   /* passed back to fn */
} trace_t;

static inline bool trace_on(const trace_t *t)
{
	return __builtin_expect(t->fn != NULL, 0);
}

static inline void trace_set(trace_t *t, trace_fn fn, void *ctx)
{
	t->fn = fn;
	t->ctx = ctx;
}

/* Formats one line, adds "  [func]" and hands it to the hook (lines longer than
 * 1 KiB are cut). A helper that words a line for its caller passes the
 * caller's name, so the line names the step, not the wording. */
void trace_emit_at(const trace_t *t, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The usual form: the function that emits the line is the one named. */
#define trace_emit(t, ...) trace_emit_at((t), __func__, __VA_ARGS__)

/* Writes bytes as printable text into out (at most max_bytes of input shown,
 * "..." after a cut); non-printable bytes appear as \xHH. Returns out. */
const char *trace_bytes(char *out, size_t out_size, const void *p, size_t n, size_t max_bytes);

#endif
