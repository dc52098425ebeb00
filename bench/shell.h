/*
 * shell.h — the `storelab shell` and `storelab trace` commands.
 *
 * The shell reads one command per line from standard input (a terminal or a
 * pipe) and prints exactly one reply line per command on standard output:
 *
 *   put K V          OK
 *   get K            the value (escaped as cmdline.h says), or NOTFOUND
 *   del K            OK
 *   scan A B [LIMIT] "N k=v k=v ..." — N pairs with A <= key < B, at most LIMIT
 *                    (default 100); B = "" means no end
 *   stats            "name=value name=value ..."
 *   trace on|off     OK; narration lines then go to standard error
 *   sync             OK once every write so far is durable
 *   check            OK, or ERR with the broken invariant
 *   help             the command list
 *   quit | exit      OK, then the shell ends
 *
 * Anything wrong gets "ERR <message>" and the shell carries on. Blank lines and
 * lines starting with # are skipped without a reply. A write is answered only
 * after the store accepted it under the chosen sync mode, so a script can trust
 * every OK it reads.
 */
#ifndef SL_SHELL_H
#define SL_SHELL_H

int shell_main(int argc, char **argv);
int trace_main(int argc, char **argv);

#endif
