/* vmlab/trace.h - trace records, batches and the reader API.
 *
 * Readers turn outside bytes into validated records; the engine never parses.
 * Records travel in batches: a caller-owned array that a reader refills,
 * thousands at a time, with no allocation per record.
 *
 * One access record touches exactly one 4 KiB base page: readers split an
 * access that straddles a page boundary into one record per page touched,
 * so every downstream consumer (engine, MRC, info) sees the same page
 * reference string.
 */
#ifndef VMLAB_TRACE_H
#define VMLAB_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmlab/error.h"

#define VL_PAGE_SHIFT 12
#define VL_PAGE_SIZE (1u << VL_PAGE_SHIFT)

/* Record kinds.  Values below VL_OP_EVENT are memory accesses. */
enum vl_op {
	VL_OP_READ = 0,   /* data load */
	VL_OP_WRITE = 1,  /* data store */
	VL_OP_IFETCH = 2, /* instruction fetch */
	VL_OP_MODIFY = 3, /* read-modify-write (lackey M): one access that dirties */
	VL_OP_NACCESS = 4,
	VL_OP_EVENT = 8,  /* non-access event; rec.addr indexes batch->events */
};

/* One access (16 bytes). pid 0 is reserved; traces without pids use 1. */
struct vl_rec {
	uint64_t addr;   /* virtual address (access), or event index (VL_OP_EVENT) */
	uint32_t pid;    /* process id from the trace */
	uint8_t op;      /* enum vl_op */
	uint8_t size;    /* access size in bytes, 0 when unknown */
	uint16_t pad;
};

/* Event kinds carried by VL_OP_EVENT records (address-space operations and
 * markers).  The foundation engine ignores them; later model parts act on
 * them.  Arguments are in struct vl_event; the process is the record's pid.
 *
 *   RESERVE addr len        reserve address space (base rounded down to
 *                           64 KiB, end up to a page), no commit charge
 *   COMMIT addr len prot    commit pages (reserving first when the range is
 *                           free); charges commit for pages not yet committed
 *   DECOMMIT addr len       free the pages' frames and slots, uncharge
 *   RELEASE addr            addr is a reservation base: decommit, delete it
 *   PROTECT addr len prot   change the protection of committed pages
 *   MAP addr len file_id offset prot   map a view of a file section
 *   UNMAP addr              addr is a view base: unmap it
 *   EXIT                    the process ends: everything is freed
 *   ROI_BEGIN / ROI_END     region-of-interest markers */
enum vl_event_kind {
	VL_EV_NONE = 0,
	VL_EV_RESERVE,
	VL_EV_COMMIT,
	VL_EV_DECOMMIT,
	VL_EV_RELEASE,
	VL_EV_PROTECT,
	VL_EV_MAP,
	VL_EV_UNMAP,
	VL_EV_EXIT,
	VL_EV_ROI_BEGIN,
	VL_EV_ROI_END,
};

/* Page protections, in the Windows memory manager's 5-bit encoding (WRK
 * mi.h): the low 3 bits are the access, 0x10 is the guard modifier.
 * NOACCESS is 0x18 as in Windows; 0 means "none given". */
enum vl_prot {
	VL_PROT_READONLY = 1,
	VL_PROT_EXECUTE = 2,
	VL_PROT_EXECUTE_READ = 3,
	VL_PROT_READWRITE = 4,
	VL_PROT_WRITECOPY = 5,
	VL_PROT_EXECUTE_READWRITE = 6,
	VL_PROT_EXECUTE_WRITECOPY = 7,
	VL_PROT_GUARD = 0x10,    /* modifier: the first access raises a guard exception */
	VL_PROT_NOACCESS = 0x18,
};

struct vl_event {
	uint32_t kind;   /* enum vl_event_kind */
	uint32_t prot;   /* enum vl_prot, possibly | VL_PROT_GUARD (VAD events) */
	uint64_t addr, len;
	uint64_t file_id, offset;
};

/* A reusable batch.  Readers append to recs/events up to cap/ev_cap; the
 * caller owns the arrays (vl_batch_init allocates them once). */
struct vl_batch {
	struct vl_rec *recs;
	size_t n, cap;
	struct vl_event *events;
	size_t n_events, ev_cap;
};

/* Allocate a batch with room for cap records and cap/16+16 events.
 * Returns 0 or VL_ENOMEM (batch left empty). */
int vl_batch_init(struct vl_batch *b, size_t cap, struct vl_error *err);
void vl_batch_free(struct vl_batch *b);
static inline void vl_batch_reset(struct vl_batch *b) { b->n = 0; b->n_events = 0; }

struct vl_trace;

/* Open a trace.  format is a registered name ("addr", "lackey", ...) or
 * "auto"/NULL to detect by content.  Compressed files (gzip) are read
 * transparently.  Returns 0, or VL_ENOENT (missing file, unknown format) /
 * VL_EFORMAT (undetectable content) with err naming the file. */
int vl_trace_open(struct vl_trace **out, const char *path, const char *format,
		  struct vl_error *err);

/* Refill b (reset first) with the next records.  Returns the number of
 * records (> 0), 0 at a clean end of trace, or a negative code with err
 * naming the file and line or byte offset.  After an error the trace must
 * only be closed. */
ssize_t vl_trace_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err);

/* Rewind to the first record (for multi-pass consumers such as OPT).
 * Returns 0 or VL_EIO when the input cannot be re-read (a pipe). */
int vl_trace_rewind(struct vl_trace *t, struct vl_error *err);

/* Name of the format actually used (after auto-detection). */
const char *vl_trace_format(const struct vl_trace *t);
const char *vl_trace_path(const struct vl_trace *t);

/* How far the reader is through its input, for progress bars: *done the
 * bytes of the file consumed so far (compressed bytes for a gzip file),
 * *total the file's size, 0 when unknown (stdin, a pipe).  Returns 0. */
int vl_trace_bytes(const struct vl_trace *t, uint64_t *done, uint64_t *total);

/* Close and free (NULL is a no-op). */
void vl_trace_close(struct vl_trace *t);

/* Registered trace formats, for listings: returns the count and fills
 * names/help up to max entries. */
size_t vl_trace_formats(const char **names, const char **help, size_t max);

#endif
