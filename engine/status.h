/*
 * status.h — status codes and the error message every handle keeps.
 *
 * Every fallible function in storelab returns an int: SL_OK (0) or one of the
 * negative codes below. The code says what kind of thing went wrong; the message
 * in an sl_err_t says exactly what (the file, the offset, what was expected).
 *
 * Three kinds of trouble are kept apart (see shared/STYLE.md):
 *   - a bug in our own code       -> assert()
 *   - bad bytes read from a disk  -> SL_CORRUPT with a message, never an assert
 *   - a failed system call        -> SL_IO with errno's text in the message
 *
 * The numeric values appear in the CLI's exit statuses and in tests: never
 * renumber them.
 */
#ifndef SL_STATUS_H
#define SL_STATUS_H

#include <stdarg.h>
#include <stddef.h>

enum {
	SL_OK = 0,
	SL_NOTFOUND = -1, /* the key (or file) is not there: not an error as such */
	SL_CORRUPT = -2,  /* bytes on disk are not what the format says */
	SL_IO = -3,       /* a system call failed; errno is in the message */
	SL_NOMEM = -4,    /* an allocation failed */
	SL_INVALID = -5,  /* the caller passed something unacceptable */
	SL_NOTSUP = -6,   /* this store cannot do that (e.g. scan on a hash) */
	SL_FULL = -7,     /* no space left: the disk, or a fixed-size structure */
	SL_BUSY = -8,     /* locked by another process or handle */
	SL_READONLY = -9, /* the handle refuses writes (e.g. after a failed fsync) */
};

/* The short name of a status code ("corrupt", "I/O error", ...). Never NULL. */
const char *sl_strerror(int code);

/*
 * sl_err_t — the last error of a handle: its code and a human-readable message.
 * Lower layers write into the sl_err_t * their caller passes; a NULL pointer means
 * "the caller does not want the message".
 */
#define SL_ERR_MSG_BYTES 512

typedef struct sl_err {
	int code;                   /* SL_OK when no error has been recorded */
	char msg[SL_ERR_MSG_BYTES]; /* NUL-terminated; "" when code is SL_OK */
} sl_err_t;

/* Records code and a printf-style message in err (if not NULL); returns code,
 * so a caller can write `return sl_errf(err, SL_CORRUPT, "...", ...);`. */
int sl_errf(sl_err_t *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Puts "prefix: " in front of the message already in err (if any); returns the
 * code already in err. Used to add context such as the file name on the way up. */
int sl_err_prefix(sl_err_t *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Resets err to SL_OK with an empty message. */
void sl_err_clear(sl_err_t *err);

#endif
