/*
 * child.h — one store's measurement in a child process of its own.
 *
 * The fts and ts suites run each store in a fresh directory inside a forked
 * child, so that each store's peak memory (getrusage) is its own and a crash
 * of one engine cannot take the others' figures with it. The child fills a
 * plain struct of figures, which comes back to the parent through a pipe.
 */
#ifndef SL_CHILD_H
#define SL_CHILD_H

#include <stddef.h>

/* Fills *figures (size bytes) in the child, working in dir. */
typedef void (*child_fn)(void *ctx, const char *dir, void *figures);

/*
 * Makes a fresh directory parent/name-XXXXXX, runs fn there in a child,
 * copies the child's figures back and removes the directory. 0, or -1 with
 * the reason in err (the directory could not be made, the child died).
 */
int child_run(const char *parent, const char *name, child_fn fn, void *ctx, void *figures,
	      size_t size, char *err, size_t n);

#endif
