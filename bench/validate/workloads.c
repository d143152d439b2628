/* bench/validate/workloads.c - validation workloads with known access
 * patterns, one per name: `vmlab-workloads NAME [MiB]`, `--list`.
 *
 * Each one maps its memory (announced to the trace by roi.h), does its
 * setup outside the region of interest, and touches one byte per 4 KiB
 * page inside it.  What Linux counts for each (reference notes B.5/B.6,
 * THP = madvise, fault-around 64 KiB):
 *   seq-write     N MiB untouched anonymous, written in order: N*256 faults
 *   seq-read      the same, read: N*256 (the zero page)
 *   read-write    read then write each page: 2*N*256 (zero page, then COW)
 *   random-touch  written in a random page order: N*256
 *   strided       every 3rd page written: ceil(N*256/3)
 *   second-pass   written in setup, written again in the region: 0
 *   file-read     memfd (shmem, small folios) of N MiB, written through a
 *                 mapping in setup (cached), mapped again read-only and
 *                 read in order: N*256/16 (fault-around)
 *   file-offset   the same, mapped 4 KiB past a 64 KiB boundary: the first
 *                 window is cut short, N*256/16 + 1
 *   file-cow      the cached memfd mapped private and written: one
 *                 copy-on-write fault per page, N*256 (no fault-around)
 *   file-cold     an N MiB file on disk, written, synced and dropped from
 *                 the page cache (POSIX_FADV_DONTNEED), mapped with
 *                 MADV_RANDOM (no readahead) and read: every page is a
 *                 major fault, N*256 (VMLAB_VALIDATE_DIR, default /var/tmp)
 *   thp           2 MiB-aligned N MiB with MADV_HUGEPAGE, written:
 *                 N/2 (one fault per 2 MiB page, if the kernel finds them)
 *   tlb-random    4*N MiB written in setup, then random reads over it: 0
 *                 faults; TLB misses where a PMU counts them
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "roi.h"

#define PAGE 4096ul

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random permutation of 0..n-1, made outside the region. */
static uint32_t *perm(size_t n)
{
	uint32_t *p = malloc(n * sizeof(*p));
	if (!p)
		roi_die("malloc");
	for (size_t i = 0; i < n; i++)
		p[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = next_rand() % (i + 1);
		uint32_t t = p[i];
		p[i] = p[j];
		p[j] = t;
	}
	return p;
}

static void w_seq_write(size_t mib)
{
	size_t len = mib << 20;
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)p)[o] = 1;
	roi_end();
}

static void w_seq_read(size_t mib)
{
	size_t len = mib << 20;
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		(void)((volatile char *)p)[o];
	roi_end();
}

static void w_read_write(size_t mib)
{
	size_t len = mib << 20;
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		(void)((volatile char *)p)[o];
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)p)[o] = 1;
	roi_end();
}

static void w_random_touch(size_t mib)
{
	size_t len = mib << 20, n = len / PAGE;
	uint32_t *order = perm(n);
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	roi_begin();
	for (size_t i = 0; i < n; i++)
		((volatile char *)p)[(size_t)order[i] * PAGE] = 1;
	roi_end();
	free(order);
}

static void w_strided(size_t mib)
{
	size_t len = mib << 20;
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	roi_begin();
	for (size_t o = 0; o < len; o += 3 * PAGE)
		((volatile char *)p)[o] = 1;
	roi_end();
}

static void w_second_pass(size_t mib)
{
	size_t len = mib << 20;
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)p)[o] = 1;
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)p)[o] = 2;
	roi_end();
}

/* A memfd of len bytes whose pages are all in the page cache: written
 * through a shared view in setup, which is then unmapped. */
static int cached_memfd(size_t len, char *at)
{
	int fd = memfd_create("vmlab-validate", 0);
	if (fd < 0)
		roi_die("memfd_create");
	if (ftruncate(fd, (off_t)len) != 0)
		roi_die("ftruncate");
	char *w = roi_map_file(at, len, fd, 1, ROI_SHARED_RW);
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)w)[o] = 1;
	roi_unmap_file(w, len);
	return fd;
}

static void file_read_at(size_t mib, size_t offset)
{
	size_t len = mib << 20;
	char *at = roi_reserve(len + offset);
	int fd = cached_memfd(len, at);
	char *r = roi_map_file(at + offset, len, fd, 1, ROI_READONLY);
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		(void)((volatile char *)r)[o];
	roi_end();
	close(fd);
}

static void w_file_read(size_t mib)
{
	file_read_at(mib, 0);
}

static void w_file_offset(size_t mib)
{
	file_read_at(mib, PAGE);
}

static void w_file_cow(size_t mib)
{
	size_t len = mib << 20;
	char *at = roi_reserve(len);
	int fd = cached_memfd(len, at);
	char *r = roi_map_file(at, len, fd, 1, ROI_PRIVATE);
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)r)[o] = 2;
	roi_end();
	close(fd);
}

static void w_file_cold(size_t mib)
{
	size_t len = mib << 20;
	const char *dir = getenv("VMLAB_VALIDATE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmlab-cold-XXXXXX", dir && *dir ? dir : "/var/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		roi_die(path);
	unlink(path);
	static char buf[1 << 16];
	memset(buf, 7, sizeof(buf));
	for (size_t o = 0; o < len; o += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			roi_die("write");
	if (fsync(fd) != 0)
		roi_die("fsync");
	if (posix_fadvise(fd, 0, (off_t)len, POSIX_FADV_DONTNEED) != 0)
		roi_die("posix_fadvise");
	char *at = roi_reserve(len);
	char *r = roi_map_file(at, len, fd, 2, ROI_READONLY);
	if (madvise(r, len, MADV_RANDOM) != 0)
		roi_die("madvise");
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		(void)((volatile char *)r)[o];
	roi_end();
	close(fd);
}

static void w_thp(size_t mib)
{
	size_t len = ((mib << 20) + ROI_2M - 1) & ~(ROI_2M - 1);
	char *p = roi_anon(len);
	roi_advise(p, len, 1);
	roi_begin();
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)p)[o] = 1;
	roi_end();
}

static void w_tlb_random(size_t mib)
{
	size_t len = 4 * (mib << 20), n = len / PAGE;
	char *p = roi_anon(len);
	roi_advise(p, len, 0);
	for (size_t o = 0; o < len; o += PAGE)
		((volatile char *)p)[o] = 1;
	uint32_t *order = perm(n);
	roi_begin();
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			(void)((volatile char *)p)[(size_t)order[i] * PAGE + 64 * (size_t)pass];
	roi_end();
	free(order);
}

static const struct {
	const char *name;
	void (*fn)(size_t mib);
	const char *help;
} workloads[] = {
	{ "seq-write", w_seq_write, "sequential first touch of N MiB, writes" },
	{ "seq-read", w_seq_read, "sequential first touch of N MiB, reads (zero page)" },
	{ "read-write", w_read_write, "read then write each page (zero page, then copy-on-write)" },
	{ "random-touch", w_random_touch, "first-touch writes in a random page order" },
	{ "strided", w_strided, "every third page written" },
	{ "second-pass", w_second_pass, "writes over memory made resident before the region" },
	{ "file-read", w_file_read, "read of a cached memfd mapping (fault-around)" },
	{ "file-offset", w_file_offset, "the same, mapped 4 KiB past a 64 KiB boundary" },
	{ "file-cow", w_file_cow, "writes to a private mapping of a cached memfd (COW)" },
	{ "file-cold", w_file_cold, "MADV_RANDOM read of a file dropped from the page cache" },
	{ "thp", w_thp, "writes to a 2 MiB-aligned MADV_HUGEPAGE region" },
	{ "tlb-random", w_tlb_random, "random reads over 4N MiB resident memory (TLB misses)" },
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < NWORKLOADS; i++)
			printf("%-13s %s\n", workloads[i].name, workloads[i].help);
		return 0;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s --list | NAME [MiB]\n", argv[0]);
		return 2;
	}
	size_t mib = 8;
	if (argc == 3) {
		char *end;
		unsigned long v = strtoul(argv[2], &end, 10);
		if (*end || v == 0 || v > 4096) {
			fprintf(stderr, "%s: size must be 1..4096 MiB, found '%s'\n", argv[0], argv[2]);
			return 2;
		}
		mib = v;
	}
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (!strcmp(workloads[i].name, argv[1])) {
			roi_init();
			workloads[i].fn(mib);
			roi_finish();
			return 0;
		}
	fprintf(stderr, "%s: unknown workload '%s' (--list names them)\n", argv[0], argv[1]);
	return 2;
}
