/*
 * unicode_tables.h — the Unicode data the tokenizer needs, as sorted tables
 * (generated into unicode_tables.c by index/mkunicode.awk; see there for what
 * each holds and why it stops at Unicode 6.1). Only index/tokenizer.c uses them.
 */
#ifndef SL_UNICODE_TABLES_H
#define SL_UNICODE_TABLES_H

#include <stddef.h>
#include <stdint.h>

extern const uint32_t unicode_token_ranges[][2]; /* [first, last] token code points */
extern const size_t unicode_token_nranges;
extern const uint32_t unicode_fold_pairs[][2];   /* code point -> its simple case fold */
extern const size_t unicode_fold_npairs;
extern const uint32_t unicode_base_pairs[][2];   /* letter with a diacritic -> ASCII letter */
extern const size_t unicode_base_npairs;
extern const uint32_t unicode_diacritics[];      /* combining marks dropped inside tokens */
extern const size_t unicode_ndiacritics;

#endif
