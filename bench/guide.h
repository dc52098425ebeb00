/*
 * guide.h — `storelab guide`: docs/when-to-use.md written from measured runs
 * (the kv, fts and ts suites' JSON, and a memory-capped kv run when there is one).
 */
#ifndef SL_GUIDE_H
#define SL_GUIDE_H

int guide_main(int argc, char **argv);

#endif
