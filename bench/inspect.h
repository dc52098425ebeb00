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

/*
 * Draws the store in dir (btree, hash, lsm, inverted index or time series):
 * an SVG to svg_path and/or a self-contained HTML page (the SVG and the
 * structure's dump) to html_path; either may be NULL. 0, or 1 with the reason
 * on stderr. Defined in inspect_draw.c.
 */
int inspect_draw(const char *dir, const char *svg_path, const char *html_path);

#endif
