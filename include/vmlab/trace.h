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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vmlab/api.h"
#include "vmlab/error.h"

#ifdef __cplusplus
extern "C" {
#endif

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
 *   ROI_BEGIN / ROI_END     region-of-interest markers
 *   ADVISE addr len advice  madvise(): advice (in prot) is VL_ADV_*; the
 *                           range must cover whole private VADs (hugepage,
 *                           nohugepage); dontneed drops any range's pages
 *
 * Linux address-space calls, as captured from real programs (any range,
 * splitting what they cover, as Linux splits VMAs):
 *   MMAP addr len prot file_id offset   mmap(): replaces whatever was in
 *                           the range; prot may carry VL_MAP_SHARED;
 *                           file_id 0 is anonymous memory
 *   MUNMAP addr len         munmap()
 *   MPROTECT addr len prot  mprotect() over every mapping in the range
 *   BRK addr len            the heap is [addr, addr + len) from now on
 *   MREMAP addr len offset file_id   mremap(): [addr, addr + len) moves to
 *                           offset (the new address), file_id pages long
 *                           (the new length in bytes); pages move along
 *   FORK addr               this process starts as a copy-on-write copy of
 *                           the address space of process addr (the parent)
 *
 * Heap calls, as captured from real programs (docs/heap.md); they feed the
 * heap layer (sim/heap.c) and change no VAD by themselves:
 *   HEAP_ALLOC addr len offset    malloc() and friends returned addr for len
 *                           requested bytes; offset: the alignment asked
 *                           for (memalign and friends), 0 for none
 *   HEAP_FREE addr          free(addr) of a live block
 *   HEAP_REALLOC addr len offset  realloc(addr, len) returned offset (the
 *                           new address; equal to addr when in place)
 *
 * File reads, as captured from real programs:
 *   FREAD file_id offset len  a successful read()/pread64() of a regular
 *                           file read bytes [offset, offset + len) of file
 *                           file_id (the .vmt file table's id): Linux has
 *                           them, and its read-ahead, in the page cache;
 *                           no address-space change
 *
 * Pages the kernel makes present without a page-fault event:
 *   POPULATE addr len prot  Linux's get_user_pages (exec's copy of the
 *                           argument and environment strings),
 *                           MAP_POPULATE, mlock, MADV_POPULATE_(READ|WRITE):
 *                           every page of [addr, addr + len) is made
 *                           present as a read (prot 0) or a write
 *                           (prot VL_POP_WRITE) would make it, counted in
 *                           `populated`, not in the fault counters */
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
	VL_EV_ADVISE,
	VL_EV_MMAP,
	VL_EV_MUNMAP,
	VL_EV_MPROTECT,
	VL_EV_BRK,
	VL_EV_MREMAP,
	VL_EV_FORK,
	VL_EV_HEAP_ALLOC,
	VL_EV_HEAP_FREE,
	VL_EV_HEAP_REALLOC,
	VL_EV_FREAD,
	VL_EV_POPULATE,
	VL_EV_NKINDS
};

/* The prot of a VL_EV_POPULATE: the pages are populated for writing
 * (FOLL_WRITE, MADV_POPULATE_WRITE); 0 populates them for reading. */
#define VL_POP_WRITE 1u

/* Or-ed into the prot of a VL_EV_MMAP: a shared mapping (MAP_SHARED);
 * without it the mapping is private (file pages copied on write). */
#define VL_MAP_SHARED 0x100u

/* Advice of a VL_EV_ADVISE event (carried in vl_event.prot). */
enum vl_advice {
	VL_ADV_HUGEPAGE = 1,   /* MADV_HUGEPAGE: eligible for THP under thp.enabled = madvise */
	VL_ADV_NOHUGEPAGE = 2, /* MADV_NOHUGEPAGE: never THP */
	VL_ADV_DONTNEED = 3,   /* MADV_DONTNEED: drop the range's pages (anonymous pages
				* read back as zeros, file pages from the file) */
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
	VL_PROT_LARGE = 0x20,    /* modifier of V COMMIT: MEM_LARGE_PAGES (2 MiB pages,
				  * non-pageable, allocated at commit) */
};

/* The file id of a section backed by the page file (CreateFileMapping with
 * no file): `V MAP ADDR LEN pagefile OFFSET PROT` in the addr format. */
#define VL_FILE_PAGEFILE UINT64_MAX

struct vl_event {
	uint32_t kind;   /* enum vl_event_kind */
	uint32_t prot;   /* enum vl_prot, possibly | VL_PROT_GUARD (VAD events) */
	uint64_t addr, len;
	uint64_t file_id, offset;
};

/* A reusable batch.  Readers append to recs/events up to cap/ev_cap; the
 * caller owns the arrays (vl_batch_init allocates them once).  Its layout
 * is fixed for the soname, like vl_rec's and vl_event's: readers and the
 * engine use it on the hot path, and new per-record data would come as a
 * new array, not a field here. */
struct vl_batch {
	struct vl_rec *recs;
	size_t n, cap;
	struct vl_event *events;
	size_t n_events, ev_cap;
};

/* Allocate a batch with room for cap records and cap/16+16 events.
 * Returns 0 or VL_ENOMEM (batch left empty). */
VL_API int vl_batch_init(struct vl_batch *b, size_t cap, struct vl_error *err);
VL_API void vl_batch_free(struct vl_batch *b);
static inline void vl_batch_reset(struct vl_batch *b) { b->n = 0; b->n_events = 0; }

struct vl_trace;

/* Open a trace.  format is a registered name ("addr", "lackey", ...) or
 * "auto"/NULL to detect by content.  Compressed files (gzip, zstd, xz; by
 * magic bytes, not by name) are read transparently.  Returns 0, or VL_ENOENT (missing file, unknown format) /
 * VL_EFORMAT (undetectable content) with err naming the file. */
VL_API int vl_trace_open(struct vl_trace **out, const char *path, const char *format,
			 struct vl_error *err);

/* Refill b (reset first) with the next records.  Returns the number of
 * records (> 0), 0 at a clean end of trace, or a negative code with err
 * naming the file and line or byte offset.  After an error the trace must
 * only be closed. */
VL_API ssize_t vl_trace_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err);

/* Rewind to the first record (for multi-pass consumers such as OPT).
 * Returns 0 or VL_EIO when the input cannot be re-read (a pipe). */
VL_API int vl_trace_rewind(struct vl_trace *t, struct vl_error *err);

/* Name of the format actually used (after auto-detection). */
VL_API const char *vl_trace_format(const struct vl_trace *t);
VL_API const char *vl_trace_path(const struct vl_trace *t);

/* How far the reader is through its input, for progress bars: *done the
 * bytes of the file consumed so far (compressed bytes for a compressed file),
 * *total the file's size, 0 when unknown (stdin, a pipe).  Returns 0. */
VL_API int vl_trace_bytes(const struct vl_trace *t, uint64_t *done, uint64_t *total);

/* Close and free (NULL is a no-op). */
VL_API void vl_trace_close(struct vl_trace *t);

/* A warning about the input that did not stop the read (for example a .vmt
 * file whose writer was killed: read up to its last complete chunk), or
 * NULL.  Valid until the next read, rewind or close; check after the last
 * read.  The library never prints it: the caller does. */
VL_API const char *vl_trace_warning(const struct vl_trace *t);

/* Replay only regions of interest: from now on vl_trace_read drops the
 * access records outside VL_EV_ROI_BEGIN .. VL_EV_ROI_END markers (events
 * are all kept).  A trace without any marker yields no accesses and a
 * warning at its end. */
VL_API void vl_trace_set_roi(struct vl_trace *t, bool on);

/* Compression of the input: "plain", "gzip", "zstd" or "xz". */
VL_API const char *vl_trace_compression(const struct vl_trace *t);

/* Metadata the trace carries (.vmt header keys such as "tool", "cmdline",
 * "date", "page_size", and "process.PID" = name as process starts are
 * read): the value for key, or NULL. */
VL_API const char *vl_trace_meta(const struct vl_trace *t, const char *key);
/* All metadata pairs: returns the count, fills keys/vals up to max. */
VL_API size_t vl_trace_meta_list(const struct vl_trace *t, const char **keys, const char **vals,
				 size_t max);

/* ---- what a trace holds (vmlab info) ---- */

#define VL_STATS_EVENT_KINDS 16   /* the last counts kinds beyond it */
#define VL_STATS_REUSE_BUCKETS 65

struct vl_trace_stats {
	size_t size;                      /* sizeof(struct vl_trace_stats) as the caller knows it */
	uint64_t records;                 /* access + event records */
	uint64_t accesses;
	uint64_t by_op[VL_OP_NACCESS];    /* accesses by enum vl_op */
	uint64_t events;
	uint64_t by_event[VL_STATS_EVENT_KINDS]; /* events by enum vl_event_kind */
	uint64_t processes;               /* distinct pids */
	uint64_t pages;                   /* distinct (pid, 4 KiB page) pairs touched */
	uint64_t imin, imax, dmin, dmax;  /* instruction / data address ranges (min > max: none) */
	uint64_t reuse_cold;              /* first touches of a page */
	/* reuse[0]: distance 0 (same page again); reuse[k]: LRU stack distance
	 * (distinct pages touched since the last access of this page) in
	 * [2^(k-1), 2^k). */
	uint64_t reuse[VL_STATS_REUSE_BUCKETS];
	/* events of kinds VL_STATS_EVENT_KINDS - 1 onwards, by kind (entry k
	 * counts kind VL_STATS_EVENT_KINDS - 1 + k; by_event's last entry is
	 * their sum); valid when size reaches it */
	uint64_t by_event_more[16];
};

/* Read the trace from its current position to the end and fill st (the
 * caller sets st->size first, see "Structs that grow" in docs/design.md:
 * struct vl_trace_stats st = { .size = sizeof st }).  Memory grows with the
 * distinct pages and the trace length (5 bytes per access).  Returns 0,
 * VL_EINVAL (size not set) or the reader's negative code with err. */
VL_API int vl_trace_stats(struct vl_trace *t, struct vl_trace_stats *st, struct vl_error *err);

/* ---- synthetic generators (vmlab gen; parameters in docs/trace-format.md) ---- */

struct vl_gen;

/* Generator kind ("seq", "strided", "loop", "uniform", "zipf", "phased",
 * "mix") with nparams "key=value" parameters.  Returns 0 or VL_EINVAL
 * (unknown kind or key, bad value) / VL_ENOMEM with err. */
VL_API int vl_gen_open(struct vl_gen **out, const char *kind, int nparams, char *const *params,
		       struct vl_error *err);
/* Refill b (reset first): the record count, 0 when all n were produced. */
VL_API ssize_t vl_gen_read(struct vl_gen *g, struct vl_batch *b, struct vl_error *err);
/* Number of processes the generator uses, the first pid in *first_pid. */
VL_API uint64_t vl_gen_procs(const struct vl_gen *g, uint32_t *first_pid);
/* "seq, strided, ..." for messages. */
VL_API const char *vl_gen_kinds(void);
VL_API void vl_gen_close(struct vl_gen *g);

/* ---- writing the native .vmt format (docs/trace-format.md) ---- */

/* What a .vmt header records; NULL strings are left out.  date NULL means
 * now (UTC, ISO 8601); page_size 0 means 4096.  Set size first: struct
 * vl_vmt_meta m = { .size = sizeof m, ... }; a field beyond size reads as
 * zero. */
struct vl_vmt_meta {
	size_t size;          /* sizeof(struct vl_vmt_meta) as the caller knows it */
	const char *tool;     /* what captured or produced the trace */
	const char *cmdline;  /* the captured program's command line */
	const char *date;
	uint32_t page_size;
	const char *comment;
	/* more metadata: "key=value\n" lines (vmlab capture's file table,
	 * `file.ID=DEV:INODE SIZE PATH`); NULL for none */
	const char *extra;
};

struct vl_vmt_writer;

/* Create path ("-" = stdout) and write the header; meta may be NULL.
 * chunk_recs is the number of records per chunk (0 = the default, 1M).
 * Returns 0 or VL_EIO/VL_ENOMEM/VL_EINVAL (also: meta->size not set) with
 * err naming the file. */
VL_API int vl_vmt_writer_open(struct vl_vmt_writer **out, const char *path,
			      const struct vl_vmt_meta *meta, size_t chunk_recs,
			      struct vl_error *err);

/* Append a batch (access records and VL_OP_EVENT records with their
 * events).  Full chunks are compressed and written as they fill, each with
 * one write(2), so a killed writer leaves a file readable up to its last
 * chunk.  Returns 0 or a negative code; after an error only close. */
VL_API int vl_vmt_write(struct vl_vmt_writer *w, const struct vl_batch *b, struct vl_error *err);

/* Compress the chunks written from now on at zstd level `level` (1 to
 * ZSTD_maxCLevel(), 19 on Debian 12; default 3): higher levels write
 * smaller files, more slowly, that decode a little faster.  Call it before
 * vl_vmt_writer_async.  Returns 0 or VL_EINVAL (level out of range, or an
 * async writer). */
VL_API int vl_vmt_writer_level(struct vl_vmt_writer *w, int level, struct vl_error *err);

/* Compress and write chunks in a second thread from now on, so filling the
 * next chunk overlaps compressing the last (capture, convert).  Returns 0
 * or VL_ENOMEM; an error in that thread is returned by a later write or by
 * close. */
VL_API int vl_vmt_writer_async(struct vl_vmt_writer *w, struct vl_error *err);

/* Record the start of process pid, named name (its command), in the stream.
 * Returns 0 or a negative code. */
VL_API int vl_vmt_write_proc(struct vl_vmt_writer *w, uint32_t pid, const char *name,
			     struct vl_error *err);

/* Records written so far (access and event records). */
VL_API uint64_t vl_vmt_records(const struct vl_vmt_writer *w);
/* Compressed bytes written so far (header and chunks). */
VL_API uint64_t vl_vmt_bytes(const struct vl_vmt_writer *w);

/* Put extra metadata ("key=value\n" lines) into the finished .vmt at path,
 * in place of the space its writer reserved with a metadata line
 * `reserved=` followed by spaces (what is left stays reserved); the CRC is
 * updated, nothing else moves.  0, or VL_EINVAL when extra does not fit
 * (or is not key=value lines), VL_EFORMAT, VL_EIO, with err naming path. */
VL_API int vl_vmt_fill_reserved(const char *path, const char *extra, struct vl_error *err);

/* Write the last chunk and the index, close the file and free w (NULL is
 * a no-op).  Returns 0, or a negative code when anything failed: then the
 * file is incomplete. */
VL_API int vl_vmt_writer_close(struct vl_vmt_writer *w, struct vl_error *err);

/* Registered trace formats, for listings: returns the count and fills
 * names/help up to max entries. */
VL_API size_t vl_trace_formats(const char **names, const char **help, size_t max);

#ifdef __cplusplus
}
#endif

#endif
