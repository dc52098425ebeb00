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

/* The Debian package that would add peer `name`, or NULL when name is no known peer. */
const char *stores_peer_package(const char *name);

#endif
