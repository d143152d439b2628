/* traces/capture/capbuf.h - what the capture runtimes share: per-thread
 * record buffers flushed into one .vmt writer under a lock.
 *
 * Each recording thread (a program thread for sancov, a vCPU thread for
 * qemu) appends records, and the events they name, to its own buffer with
 * no locking; a full buffer goes to the writer under cap_lock, and so does
 * one whose last event must reach the file at once (cap_event, cap_vevent;
 * cap_vevent_buffered leaves it for the next flush).  Only the process
 * that opened the writer records: a forked child sees another pid and
 * stops (its accesses are not traced; writing into the parent's file
 * would corrupt it).
 *
 * Errors cannot be returned to anyone here (we run inside the traced
 * program): the first one is printed once on stderr, recording stops, and
 * the file is left without its index, so readers report it as incomplete.
 */
#ifndef VMLAB_CAPBUF_H
#define VMLAB_CAPBUF_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmlab/trace.h"

#define CAP_BUF 4096 /* records per thread buffer */
#define CAP_EVS 256  /* events per thread buffer */

struct capbuf {
	struct vl_rec r[CAP_BUF + 3]; /* + a split access, an event, a tick */
	size_t n;
	struct vl_event ev[CAP_EVS]; /* the events the buffer's event records name */
	size_t nev;
	const void *last_insn; /* qemu: the instruction of the last record (code=on) */
};

static struct vl_vmt_writer *cap_w;
static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int cap_on;     /* recording */
static pid_t cap_pid;           /* the process that owns cap_w */
static const char *cap_who = "vmlab capture";
/* qemu: after every flush a line "RECORDS TIME" goes to cap_tickf: the
 * records written so far and the CLOCK_MONOTONIC time in ns, so that
 * vmlab capture can interleave the files of several processes in time
 * order.  cap_extra: more metadata lines for the header. */
static FILE *cap_tickf;
static uint64_t cap_nrec;
/* nonzero: the time the next tick line gives instead of now (a forked
 * child's first segment, its V FORK, is dated at the fork) */
static uint64_t cap_tick_ns;
static const char *cap_extra;

static void cap_fail(const struct vl_error *err)
{
	if (cap_on) {
		cap_on = 0;
		fprintf(stderr, "%s: recording stopped: %s\n", cap_who, err->msg);
	}
}

/* Write a buffer's records (and the events they name) to the file; empties it. */
static void cap_flush(struct capbuf *b)
{
	if (!b->n)
		return;
	if (getpid() != cap_pid) { /* a forked child: not ours to write */
		b->n = b->nev = 0;
		return;
	}
	struct vl_batch batch = { .recs = b->r, .n = b->n, .cap = b->n, .events = b->ev,
				  .n_events = b->nev, .ev_cap = b->nev };
	struct vl_error err = { 0 };
	pthread_mutex_lock(&cap_lock);
	if (cap_on && cap_w && vl_vmt_write(cap_w, &batch, &err) < 0)
		cap_fail(&err);
	else if (cap_tickf) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t ns = cap_tick_ns ? cap_tick_ns
					  : (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		cap_tick_ns = 0;
		cap_nrec += b->n;
		fprintf(cap_tickf, "%llu %llu\n", (unsigned long long)cap_nrec, (unsigned long long)ns);
	}
	pthread_mutex_unlock(&cap_lock);
	b->n = b->nev = 0;
}

/* One access of size bytes (0..255); split at a page boundary as readers do.
 * A full buffer is flushed before the next record, not after the last:
 * the last record stays in the buffer until then, so that the qemu plugin
 * can still turn a read into the modify of a read-modify-write whose store
 * follows (wherever the buffer's boundaries fall). */
static inline void cap_access(struct capbuf *b, uint64_t a, uint8_t op, uint8_t size, uint32_t pid)
{
	if (__builtin_expect(b->n >= CAP_BUF, 0))
		cap_flush(b);
	b->r[b->n++] = (struct vl_rec){ .addr = a, .pid = pid, .op = op, .size = size };
	if (__builtin_expect((a & (VL_PAGE_SIZE - 1)) + size > VL_PAGE_SIZE, 0))
		b->r[b->n++] = (struct vl_rec){ .addr = (a | (VL_PAGE_SIZE - 1)) + 1, .pid = pid,
						 .op = op, .size = size };
}

/* Append one address-space event (of process pid) after b's records,
 * in order; it reaches the file with them, at the next flush. */
static inline void cap_vevent_buffered(struct capbuf *b, const struct vl_event *ev, uint32_t pid)
{
	if (b->n >= CAP_BUF || b->nev >= CAP_EVS)
		cap_flush(b);
	b->ev[b->nev] = *ev;
	b->r[b->n++] = (struct vl_rec){ .addr = b->nev++, .pid = pid, .op = VL_OP_EVENT };
}

/* Write b's records, then one address-space event after them, now. */
static __attribute__((unused)) void cap_vevent(struct capbuf *b, const struct vl_event *ev,
					       uint32_t pid)
{
	cap_vevent_buffered(b, ev, pid);
	cap_flush(b);
}

/* Write b's records, then one event of this kind after them, now. */
static __attribute__((unused)) void cap_event(struct capbuf *b, uint32_t kind, uint32_t pid)
{
	struct vl_event ev = { .kind = kind };
	cap_vevent(b, &ev, pid);
}

/* The program's command line from /proc/self/cmdline, spaces between. */
static __attribute__((unused)) void cap_cmdline(char *buf, size_t len)
{
	buf[0] = '\0';
	FILE *f = fopen("/proc/self/cmdline", "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i + 1 < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

/* Open the writer; returns 0 or -1 after printing why. */
static __attribute__((unused)) int cap_open(const char *path, const char *tool, const char *cmdline, const char *name)
{
	struct vl_error err = { 0 };
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = tool, .cmdline = cmdline,
				    .extra = cap_extra };
	if (vl_vmt_writer_open(&cap_w, path, &meta, 0, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cap_who, err.msg);
		return -1;
	}
	cap_pid = getpid();
	/* zstd level: vmlab capture --level (VMLAB_CAPTURE_LEVEL), else 1:
	 * the writer's compression thread is a third of a capture's CPU time
	 * at level 3, half that at 1, for about 20 % more bytes */
	const char *lv = getenv("VMLAB_CAPTURE_LEVEL");
	if (vl_vmt_writer_level(cap_w, lv ? atoi(lv) : 1, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cap_who, err.msg);
		return -1;
	}
	if (vl_vmt_writer_async(cap_w, &err) < 0 ||
	    vl_vmt_write_proc(cap_w, (uint32_t)cap_pid, name, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cap_who, err.msg);
		return -1;
	}
	cap_on = 1;
	return 0;
}

/* Stop recording and finish the file (the owner process only). */
static __attribute__((unused)) void cap_close(void)
{
	if (getpid() != cap_pid || !cap_w)
		return;
	pthread_mutex_lock(&cap_lock);
	struct vl_error err = { 0 };
	int was_on = cap_on;
	cap_on = 0;
	if (vl_vmt_writer_close(cap_w, &err) < 0 && was_on)
		fprintf(stderr, "%s: %s\n", cap_who, err.msg);
	cap_w = NULL;
	pthread_mutex_unlock(&cap_lock);
}

#endif
