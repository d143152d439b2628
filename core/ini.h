/* core/ini.h - the one INI reader: configuration files and presets
 * (core/config.c) and sweep experiments (analysis/sweep_exp.c).
 *
 * Grammar, one line at a time (lines end at \n; a \r before it is
 * dropped; a UTF-8 byte-order mark at the start is skipped):
 *   - blank, or starting with ';' or '#' after blanks: a comment;
 *   - [NAME]: a section (blanks around NAME dropped, nothing after ']');
 *   - KEY = VALUE: a pair; KEY and VALUE trimmed, KEY not empty;
 * and, with VL_INI_INLINE_COMMENTS (configuration files, as libinih read
 * them), a ';' preceded by a blank starts a comment to the line's end;
 * without it (experiments, whose names and lists may hold ';'), ';' and
 * '#' start a comment only at a line's start.
 * Anything else is an error naming the origin and the line.  A line may
 * have up to VL_INI_MAX_LINE characters: never is one line taken as two
 * (libinih, which this replaces, cut lines at 199 characters in Debian's
 * build, a compile-time limit); a longer line is an error naming it.
 *
 * For the library's layers (core, analysis); not exported.
 */
#ifndef VMLAB_CORE_INI_H
#define VMLAB_CORE_INI_H

#include <stddef.h>

#include "vmlab/error.h"

#define VL_INI_MAX_LINE 65536
#define VL_INI_INLINE_COMMENTS 0x1 /* flags of vl_ini_parse */

struct vl_ini_line {
	unsigned line;       /* 1-based */
	const char *section; /* the current section ("" before the first) */
	const char *key;     /* NULL on a [section] line */
	const char *value;
};

/* Called for every [section] and KEY = VALUE line, in order.  Returns 0 to
 * go on, or a negative code (err filled) that stops the parse and is
 * returned by vl_ini_parse. */
typedef int (*vl_ini_fn)(void *ctx, const struct vl_ini_line *l, struct vl_error *err);

/* Parse text[0..len) (origin names it in errors: "ORIGIN line N: ...").
 * Returns 0, the callback's code, VL_EFORMAT for a malformed line or a
 * NUL byte, or VL_ENOMEM. */
int vl_ini_parse(const char *text, size_t len, const char *origin, unsigned flags, vl_ini_fn fn,
		 void *ctx, struct vl_error *err);

#endif
