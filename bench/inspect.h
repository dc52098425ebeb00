/*
 * inspect.h — `storelab inspect PATH`: decode any file or folder the kit wrote.
 *
 * A file is recognised by its magic number (log, paged file); a folder is listed
 * with the kind of each file in it. Every checksum is verified on the way, and
 * damage is reported with its offset. Exit status 0 when everything decoded,
 * 1 when something is damaged or unknown.
 */
#ifndef SL_INSPECT_H
#define SL_INSPECT_H

int inspect_main(int argc, char **argv);

#endif
