/* status.c — status code names and the message helpers of status.h. */
#include "engine/status.h"

#include <stdio.h>
#include <string.h>

const char *sl_strerror(int code)
{
	switch (code) {
	case SL_OK: return "ok";
	case SL_NOTFOUND: return "not found";
	case SL_CORRUPT: return "corrupt";
	case SL_IO: return "I/O error";
	case SL_NOMEM: return "out of memory";
	case SL_INVALID: return "invalid argument";
	case SL_NOTSUP: return "not supported";
	case SL_FULL: return "no space";
	case SL_BUSY: return "busy";
	case SL_READONLY: return "read-only";
	default: return "unknown status";
	}
}

int sl_errf(sl_err_t *err, int code, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->code = code;
	return code;
}

int sl_err_prefix(sl_err_t *err, const char *fmt, ...)
{
	if (err == NULL)
		return SL_OK;
	char prefix[SL_ERR_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);

	/* Compose "prefix: old message", cutting the old message if it must. */
	char old[SL_ERR_MSG_BYTES];
	memcpy(old, err->msg, sizeof old);
	size_t cap = sizeof err->msg;
	size_t plen = strnlen(prefix, cap - 3);
	memcpy(err->msg, prefix, plen);
	memcpy(err->msg + plen, ": ", 2);
	size_t olen = strnlen(old, cap - plen - 3);
	memcpy(err->msg + plen + 2, old, olen);
	err->msg[plen + 2 + olen] = '\0';
	return err->code;
}

void sl_err_clear(sl_err_t *err)
{
	if (err == NULL)
		return;
	err->code = SL_OK;
	err->msg[0] = '\0';
}
