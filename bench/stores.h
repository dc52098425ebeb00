/*
 * stores.h — the list of stores the storelab command knows.
 *
 * engine/store.h keeps a registry but knows no store; this is the one place that
 * links them in: our stores always, each peer adapter when its library was found
 * at build time. Tests call it too, to drive every store the same way.
 */
#ifndef SL_STORES_H
#define SL_STORES_H

/* Registers every built store (safe to call more than once). */
void stores_register_all(void);

/*
 * A store spec names a store and, optionally, params of its own, so that one
 * run can hold two configurations of a store side by side:
 *   "lsm"                              the store at its defaults
 *   "lsm:policy=tiered:memtable=4m"    with params policy=tiered,memtable=4m
 * stores_spec_lookup gives the implementation of the spec's store (NULL if
 * none); stores_spec_params writes the spec's params, comma-separated ("" if
 * none), into out.
 */
#include "engine/store.h"

const store_ops_t *stores_spec_lookup(const char *spec);
void stores_spec_params(const char *spec, char *out, size_t size);

/* The Debian package that would add peer `name`, or NULL when name is no known peer. */
const char *stores_peer_package(const char *name);

/* The store name of the i-th peer the kit has an adapter for, whether or not it was
 * built (store_lookup says that), or NULL when i is past the last. */
const char *stores_peer_name(size_t i);

#endif
