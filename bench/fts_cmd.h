/*
 * fts_cmd.h — the inverted index's commands: `storelab index` (build from a
 * corpus file) and `storelab search` (BM25 top-k). See fts_cmd.c's usage texts.
 */
#ifndef SL_FTS_CMD_H
#define SL_FTS_CMD_H

int index_main(int argc, char **argv);
int search_main(int argc, char **argv);

#endif
