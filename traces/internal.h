/* traces/internal.h - what the trace readers share.
 *
 * A reader is a struct vl_trace_format.  Every format reads through the
 * shared byte source (traces/source.c: plain, gzip, zstd or xz, detected by
 * magic bytes, from a file or stdin) into the driver's buffer.
 *
 * Text formats supply parse_line and probe; the text driver
 * (traces/reader.c) splits lines, counts them for error messages and fills
 * batches.  A parse_line error message says what was expected; the driver
 * prefixes "FILE line N: ".
 *
 * Binary formats supply read instead of parse_line (and optionally open and
 * close for per-trace state in t->state).  They pull bytes with
 * vl_trace_peek/vl_trace_skip and name byte offsets (vl_trace_pos) in their
 * own error messages, which they write whole ("FILE at byte N: ...").
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
	/* Binary formats (parse_line NULL).  open: set up t->state after
	 * detection (may be NULL).  read: refill b (already reset) like
	 * vl_trace_read.  close: free t->state (may be NULL).  After a rewind
	 * the driver calls close then open again. */
	int (*open)(struct vl_trace *t, struct vl_error *err);
	ssize_t (*read)(struct vl_trace *t, struct vl_batch *b, struct vl_error *err);
	void (*close)(struct vl_trace *t);
};

extern const struct vl_trace_format vl_fmt_addr, vl_fmt_lackey, vl_fmt_vmsim, vl_fmt_din,
	vl_fmt_pin, vl_fmt_champsim, vl_fmt_raw, vl_fmt_vmt;

/* ---- byte sources (traces/source.c) ---- */

enum vl_src_kind { VL_SRC_PLAIN, VL_SRC_GZIP, VL_SRC_ZSTD, VL_SRC_XZ };
struct vl_src;

/* Open path ("-" = stdin) and detect compression by magic.  Returns 0 or
 * VL_ENOENT/VL_EIO/VL_ENOMEM with a message naming path. */
int vl_src_open(struct vl_src **out, const char *path, struct vl_error *err);
/* Read up to len decompressed bytes: count, 0 at the clean end, or <0 with
 * a message naming the compressed byte offset (no file name). */
ssize_t vl_src_read(struct vl_src *s, void *buf, size_t len, struct vl_error *err);
/* Start again from the first byte; VL_EIO for a pipe. */
int vl_src_rewind(struct vl_src *s, struct vl_error *err);
const char *vl_src_kind_name(const struct vl_src *s);
/* Bytes of the file (compressed, if it is) consumed so far. */
uint64_t vl_src_offset(const struct vl_src *s);
enum vl_src_kind vl_src_kind(const struct vl_src *s);
void vl_src_close(struct vl_src *s);

/* ---- the open trace (traces/reader.c) ---- */

struct vl_trace {
	const struct vl_trace_format *fmt;
	char *path;
	struct vl_src *src;
	char *buf;
	size_t cap;        /* buf holds cap bytes (+1 for a NUL) */
	size_t start, end; /* unconsumed bytes are buf[start, end) */
	uint64_t base;     /* decompressed offset of buf[0] */
	uint64_t line;     /* lines consumed so far (text formats) */
	bool eof;
	void *state;       /* binary format's own state */
	char warning[VL_ERRMSG_MAX]; /* empty, or one line for the user */
	size_t nmeta;
	char **meta_keys, **meta_vals;
	bool roi, in_roi, roi_seen; /* vl_trace_set_roi filtering */
	bool mapped;       /* buf is the whole file, mapped (a plain raw or .vmt file):
			    * cap = end = its size, eof set, never refilled */
	size_t released;   /* mapped: bytes before this given back (vl_trace_release) */
};

/* Make at least want bytes available at *p (fewer only at the end of the
 * input).  Returns the number available (>= 0) or a negative code with err
 * naming the file and byte offset. */
ssize_t vl_trace_peek(struct vl_trace *t, size_t want, const uint8_t **p, struct vl_error *err);
static inline void vl_trace_skip(struct vl_trace *t, size_t n) { t->start += n; }
/* A mapped trace (t->mapped): give the consumed part's pages back, so that
 * the mapping does not count in the resident set; a no-op otherwise. */
void vl_trace_release(struct vl_trace *t);
/* Decompressed byte offset of the next unconsumed byte. */
static inline uint64_t vl_trace_pos(const struct vl_trace *t) { return t->base + t->start; }
/* Set the trace's warning (kept until close; the last one wins). */
void vl_trace_set_warning(struct vl_trace *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Add a metadata key (copied); a repeated key replaces the value.
 * Returns 0 or VL_ENOMEM. */
int vl_trace_add_meta(struct vl_trace *t, const char *key, const char *val, struct vl_error *err);

/* CRC32C (Castagnoli), as in iSCSI and ext4: crc = vl_crc32c(0, p, n). */
uint32_t vl_crc32c(uint32_t crc, const void *p, size_t n);
/* The same with tables only (no SSE4.2), for tests. */
uint32_t vl_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* LEB128 varints: append v to p (at most 10 bytes); returns bytes written. */
static inline size_t vl_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}
static inline uint64_t vl_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t vl_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

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
