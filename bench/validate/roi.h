/* bench/validate/roi.h - region of interest for validation workloads.
 *
 * A workload includes this header (nothing else of vmlab: it links no
 * library and is built without sanitizers, so nothing but its own code
 * touches memory in the region).  It does two jobs:
 *
 * Counting (native runs).  `vmlab validate` resolves the event names with
 * libpfm4 and passes the perf_event encodings in the environment:
 *   VMLAB_ROI_EVENTS = "TYPE:CONFIG:CONFIG1:CONFIG2:EXCL_USER:EXCL_KERNEL;..."
 *                      (numbers in hex, one group per event)
 *   VMLAB_ROI_OUT    = file that receives one line per event:
 *                      "I VALUE ENABLED_NS RUNNING_NS" or "I error ERRNO"
 * roi_begin() resets and enables every counter, roi_end() disables them;
 * roi_finish() reads them into VMLAB_ROI_OUT.  The counters are inherited:
 * a child forked inside the region (a real program the workload runs,
 * bench/validate/pressure.c) is counted with it once it has exited.  Without the variables the
 * workload runs without counting.
 *
 * Trace markers (captured runs).  Under valgrind (`--tool=lackey
 * --trace-mem=yes`), roi_commit/roi_map/roi_unmap/roi_advise and
 * roi_begin/roi_end print "vmlab V ..." lines with VALGRIND_PRINTF into
 * the same log as lackey's access lines, in program order: the mappings
 * the region uses (lackey does not see mmap) and the ROI markers.  Natively
 * VALGRIND_PRINTF costs a few instructions and prints nothing.
 *
 * roi_begin/roi_end also give the markers of <vmlab/roi.h>, so `vmlab
 * capture` (qemu, lackey or sancov) and `vmlab run --roi` see the same
 * region; those traces carry no mapping events, though (see
 * docs/validation.md).
 *
 * roi_init() faults in the program's text and 256 KiB of stack first, so
 * the region's own faults are those of its data.
 */
#ifndef VMLAB_BENCH_ROI_H
#define VMLAB_BENCH_ROI_H

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "vmlab/roi.h" /* the markers of every `vmlab capture` back end */

#define ROI_MAX_EVENTS 16
#define ROI_2M (2ul << 20)

static int roi_fd[ROI_MAX_EVENTS];
static int roi_err[ROI_MAX_EVENTS];
static int roi_n;

extern char __executable_start, etext;

static void roi_die(const char *what)
{
	fprintf(stderr, "roi: %s: %s\n", what, strerror(errno));
	exit(3);
}

static void roi_init(void)
{
	/* text and stack resident before the region */
	for (volatile char *p = &__executable_start; p < &etext; p += 4096)
		(void)*p;
	volatile char stack[256 << 10];
	for (size_t i = 0; i < sizeof(stack); i += 4096)
		stack[i] = 0;
	if (RUNNING_ON_VALGRIND)
		return;
	const char *ev = getenv("VMLAB_ROI_EVENTS");
	if (!ev || !*ev)
		return;
	while (*ev && roi_n < ROI_MAX_EVENTS) {
		struct perf_event_attr a;
		unsigned long long type, cfg, c1, c2, xu, xk;
		int used = 0;
		if (sscanf(ev, "%llx:%llx:%llx:%llx:%llx:%llx%n", &type, &cfg, &c1, &c2, &xu, &xk,
			   &used) != 6) {
			fprintf(stderr, "roi: bad VMLAB_ROI_EVENTS at '%s'\n", ev);
			exit(3);
		}
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.type = (uint32_t)type;
		a.config = cfg;
		a.config1 = c1;
		a.config2 = c2;
		a.exclude_user = xu != 0;
		a.exclude_kernel = xk != 0;
		a.disabled = 1;
		a.inherit = 1; /* children forked inside the region count too */
		a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		roi_fd[roi_n] = fd;
		roi_err[roi_n] = fd < 0 ? errno : 0;
		roi_n++;
		ev += used;
		if (*ev == ';')
			ev++;
	}
}

static void roi_begin(void)
{
	VALGRIND_PRINTF("vmlab V ROI_BEGIN\n");
	vmlab_roi_begin();
	for (int i = 0; i < roi_n; i++)
		if (roi_fd[i] >= 0)
			ioctl(roi_fd[i], PERF_EVENT_IOC_RESET, 0);
	for (int i = 0; i < roi_n; i++)
		if (roi_fd[i] >= 0)
			ioctl(roi_fd[i], PERF_EVENT_IOC_ENABLE, 0);
}

static void roi_end(void)
{
	for (int i = 0; i < roi_n; i++)
		if (roi_fd[i] >= 0)
			ioctl(roi_fd[i], PERF_EVENT_IOC_DISABLE, 0);
	vmlab_roi_end();
	VALGRIND_PRINTF("vmlab V ROI_END\n");
}

static void roi_finish(void)
{
	const char *path = getenv("VMLAB_ROI_OUT");
	if (!path || !*path || RUNNING_ON_VALGRIND)
		return;
	FILE *f = fopen(path, "w");
	if (!f)
		roi_die(path);
	for (int i = 0; i < roi_n; i++) {
		uint64_t v[3];
		if (roi_fd[i] < 0) {
			fprintf(f, "%d error %d\n", i, roi_err[i]);
		} else if (read(roi_fd[i], v, sizeof(v)) != (ssize_t)sizeof(v)) {
			fprintf(f, "%d error %d\n", i, errno);
		} else {
			fprintf(f, "%d %llu %llu %llu\n", i, (unsigned long long)v[0],
				(unsigned long long)v[1], (unsigned long long)v[2]);
		}
	}
	if (fclose(f) != 0)
		roi_die(path);
}

/* ---- mappings, announced to the trace ---- */

/* Anonymous private memory of len bytes at a 2 MiB-aligned address (the
 * kernel aligns only some lengths; the workloads want the same alignment
 * natively and under valgrind), announced as committed read-write. */
static char *roi_anon(size_t len)
{
	char *r = mmap(NULL, len + ROI_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (r == MAP_FAILED)
		roi_die("mmap");
	char *p = (char *)(((uintptr_t)r + ROI_2M - 1) & ~(uintptr_t)(ROI_2M - 1));
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	    MAP_FAILED)
		roi_die("mmap fixed");
	VALGRIND_PRINTF("vmlab V COMMIT 0x%lx 0x%lx readwrite\n", (unsigned long)(uintptr_t)p,
			(unsigned long)len);
	return p;
}

/* A 2 MiB-aligned address range of len bytes, reserved (PROT_NONE), for
 * roi_map_file. */
static char *roi_reserve(size_t len)
{
	char *r = mmap(NULL, len + ROI_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (r == MAP_FAILED)
		roi_die("mmap");
	return (char *)(((uintptr_t)r + ROI_2M - 1) & ~(uintptr_t)(ROI_2M - 1));
}

/* Map fd (file number file_id in the trace) at at, replacing what is
 * there: shared read-only, shared read-write, or private (copy-on-write). */
enum roi_view { ROI_READONLY, ROI_SHARED_RW, ROI_PRIVATE };

static char *roi_map_file(char *at, size_t len, int fd, int file_id, enum roi_view how)
{
	char *p = mmap(at, len, PROT_READ | (how != ROI_READONLY ? PROT_WRITE : 0),
		       (how == ROI_PRIVATE ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		roi_die("mmap file");
	VALGRIND_PRINTF("vmlab V MAP 0x%lx 0x%lx %d 0 %s\n", (unsigned long)(uintptr_t)p,
			(unsigned long)len, file_id,
			how == ROI_READONLY ? "readonly" : how == ROI_SHARED_RW ? "readwrite" : "writecopy");
	return p;
}

/* Unmap a view made by roi_map_file, leaving the range reserved. */
static void roi_unmap_file(char *p, size_t len)
{
	VALGRIND_PRINTF("vmlab V UNMAP 0x%lx\n", (unsigned long)(uintptr_t)p);
	if (mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
	    MAP_FAILED)
		roi_die("munmap");
}

/* madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE), announced. */
static void roi_advise(char *p, size_t len, int huge)
{
	if (madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
		roi_die("madvise");
	VALGRIND_PRINTF("vmlab V ADVISE 0x%lx 0x%lx %s\n", (unsigned long)(uintptr_t)p,
			(unsigned long)len, huge ? "hugepage" : "nohugepage");
}

#endif
