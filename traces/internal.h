/* traces/internal.h - what the trace readers share.
 *
 * A reader is a struct vl_trace_format.  Text formats supply parse_line and
 * probe; the shared text driver (traces/reader.c) owns the byte source
 * (zlib gzread: plain or gzip, from a file or stdin), splits lines, counts
 * them for error messages and fills batches.  A parse_line error message
 * says what was expected; the driver prefixes "FILE line N: ".
 */
#ifndef VMLAB_TRACES_INTERNAL_H
#define VMLAB_TRACES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/trace.h"

/* Most records one text line may produce (an access straddling pages). */
#define LINE_MAX_RECS 8

struct vl_trace_format {
	const char *name;
	const char *help;
	/* How well the sample (the first bytes of the decompressed content)
	 * fits this format: 0 (not at all) to 100. */
	int (*probe)(const char *buf, size_t len);
	/* Parse one line (NUL-terminated, no newline) and append at most
	 * LINE_MAX_RECS records to b.  Return 0, or a negative code with a
	 * message saying what was expected (no location). */
	int (*parse_line)(char *line, size_t len, struct vl_batch *b, struct vl_error *err);
};

extern const struct vl_trace_format vl_fmt_addr, vl_fmt_lackey, vl_fmt_vmsim;

/* Append accesses covering [addr, addr + size) one record per 4 KiB page
 * (size 0 = one byte).  Returns 0 or VL_EFORMAT when it would take more
 * than LINE_MAX_RECS records. */
int vl_emit_access(struct vl_batch *b, uint64_t addr, uint64_t size, uint8_t op, uint32_t pid,
		   struct vl_error *err);

/* Number parsing over [*p, end): advance *p past the digits.  Return 0, or
 * VL_EFORMAT when there is no digit or the value overflows 64 bits. */
int vl_scan_hex(const char **p, const char *end, uint64_t *out);
int vl_scan_dec(const char **p, const char *end, uint64_t *out);
/* "0x..." hex or decimal. */
int vl_scan_num(const char **p, const char *end, uint64_t *out);

/* Fraction (0..100) of the sample's lines accepted by ok(); lines for which
 * ignore() is true (blank, comments) do not count.  At most 64 lines; an
 * incomplete last line is not judged. */
int vl_probe_lines(const char *buf, size_t len, bool (*ok)(const char *line, size_t len),
		   bool (*ignore)(const char *line, size_t len));

static inline bool vl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

#endif
