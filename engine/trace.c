/* trace.c — formatting for the narration hook of trace.h. */
#include "engine/trace.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

void trace_emit_at(const trace_t *t, const char *func, const char *fmt, ...)
{
	if (t->fn == NULL)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	size_t at = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
	snprintf(line + at, sizeof line - at, "  [%s]", func);
	t->fn(t->ctx, line);
}

const char *trace_bytes(char *out, size_t out_size, const void *p, size_t n, size_t max_bytes)
{
	const uint8_t *b = p;
	size_t o = 0;
	size_t shown = n < max_bytes ? n : max_bytes;
	for (size_t i = 0; i < shown && o + 5 < out_size; i++) {
		if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
			out[o++] = (char)b[i];
		else
			o += (size_t)snprintf(out + o, out_size - o, "\\x%02x", b[i]);
	}
	if (shown < n && o + 4 < out_size)
		o += (size_t)snprintf(out + o, out_size - o, "...");
	out[o < out_size ? o : out_size - 1] = '\0';
	return out;
}
