/*
 * ts_cmd.h — `storelab ts`: the time-series store's commands — ingest a CSV
 * or line-protocol file, query with a selector and an aggregate per step,
 * stats, check, and gen (data to try it on). See ts_cmd.c's usage texts.
 */
#ifndef SL_TS_CMD_H
#define SL_TS_CMD_H

int ts_main(int argc, char **argv);

/* `storelab ts gen` (bench/ts_gen.c). */
int ts_gen_main(int argc, char **argv);

#endif
