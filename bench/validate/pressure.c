/* bench/validate/pressure.c - workloads larger than a memory limit, for
 * `vmlab validate --limit SIZE --suite`: `vmlab-pressure NAME LIMIT_MIB`,
 * `--list`.
 *
 * Each sizes its memory from the limit it is run under (LIMIT_MIB, the
 * cgroup limit vmlab validate sets), so every one of them needs more than
 * the limit and Linux must reclaim and swap.  The region of interest
 * holds the first touch too (the demand-zero faults are part of what is
 * compared).  One byte per 4 KiB page is touched; the random ones draw
 * from a xorshift generator in registers, so nothing but the workload's
 * own mapping is touched inside the region.  At LIMIT_MIB = 48:
 *   seq-loop    64 MiB (4/3 of the limit) written in order, then read in
 *               order twice
 *   hot-random  96 MiB (2x) written, then 300,000 reads, 80% of them in
 *               the first eighth (the hot set), the rest anywhere
 *   strided     80 MiB (5/3) written in order, then 3 passes of writes
 *               with a stride of 7 pages (start 0, then 1, ... 6)
 *   zipf        96 MiB (2x) written, then 300,000 reads whose page ranks
 *               follow Zipf's law (s = 1, continuous inverse: rank =
 *               floor((n+1)^u) - 1), ranks scattered over the pages by a
 *               multiplicative bijection
 *   sort        [program] /usr/bin/sort (LC_ALL=C, one thread) of a 72 MiB
 *               (3/2) file of random lines written in setup
 *               (VMLAB_VALIDATE_DIR, default /var/tmp), then written back
 *               and dropped from the page cache, output to /dev/null
 *   sort-mem    [program] /usr/bin/sort (LC_ALL=C, one thread, -S 192M,
 *               TMPDIR naming no directory) of 29 MiB (3/5) of random
 *               lines written to its stdin through a pipe, sorted in its
 *               buffer (about 3/2 of the limit of anonymous memory), output
 *               to /dev/null: a real program with no file I/O
 *   python      [program] python3 -S running a script that fills a 72 MiB
 *               bytearray page by page, then reads it twice in order and
 *               writes 100,000 random pages
 * `vmlab-pressure --probe NAME LIMIT_MIB` (seq-loop, strided) runs the same
 * loops without counting a region and prints, every few thousand
 * touches, how many of the workload's pages are out of its page table but
 * still in the swap cache (/proc/self/pagemap says swapped, mincore says
 * resident: written or being written to swap, or read ahead and not yet
 * used) and the major faults so far (getrusage): run it in a memory
 * cgroup with swap to see how far Linux's reclaim runs ahead of its
 * writeback (docs/validation.md, the pressure suite's seq-loop row).
 * The [program] workloads run a real program in a child inside the region;
 * roi.h's counters are inherited by children, so the child's faults (its
 * exec, loader and libc included) are what is measured.  The lackey
 * capture does not trace the child: under valgrind they exit at once with
 * status 77, and vmlab validate captures them whole instead (`vmlab
 * capture`, qemu: every process, the ROI markers of <vmlab/roi.h> with
 * them) and counts the replay between the markers, the same scope.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* roi.h's file-mapping helpers are not used here */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "roi.h"

#define PAGE 4096ul

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static inline uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* n pages of anonymous memory, no THP, announced */
static volatile char *region(size_t n)
{
	char *p = roi_anon(n * PAGE);
	roi_advise(p, n * PAGE, 0);
	return p;
}

static size_t pages_of(size_t limit_mib, unsigned num, unsigned den)
{
	return (limit_mib << 20) / PAGE * num / den;
}

static void w_seq_loop(size_t limit)
{
	size_t n = pages_of(limit, 4, 3);
	volatile char *p = region(n);
	roi_begin();
	for (size_t i = 0; i < n; i++)
		p[i * PAGE] = 1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			(void)p[i * PAGE];
	roi_end();
}

static void w_hot_random(size_t limit)
{
	size_t n = pages_of(limit, 2, 1), hot = n / 8;
	volatile char *p = region(n);
	roi_begin();
	for (size_t i = 0; i < n; i++)
		p[i * PAGE] = 1;
	for (int k = 0; k < 300000; k++) {
		uint64_t r = next_rand();
		size_t pg = r % 10 < 8 ? (r >> 8) % hot : (r >> 8) % n;
		(void)p[pg * PAGE];
	}
	roi_end();
}

static void w_strided(size_t limit)
{
	size_t n = pages_of(limit, 5, 3);
	volatile char *p = region(n);
	roi_begin();
	for (size_t i = 0; i < n; i++)
		p[i * PAGE] = 1;
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0, pg = 0; i < n; i++, pg = (pg + 7) % n)
			p[pg * PAGE] = (char)(pass + 2);
	roi_end();
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static void w_zipf(size_t limit)
{
	size_t n = pages_of(limit, 2, 1);
	/* a bijection of 0..n-1: multiplication by a number prime to n */
	uint64_t mul = 2654435761u;
	while (gcd(mul, n) != 1)
		mul++;
	double logn1 = log((double)n + 1);
	volatile char *p = region(n);
	roi_begin();
	for (size_t i = 0; i < n; i++)
		p[i * PAGE] = 1;
	for (int k = 0; k < 300000; k++) {
		double u = (double)(next_rand() >> 11) * (1.0 / 9007199254740992.0);
		size_t rank = (size_t)exp(u * logn1) - 1;
		if (rank >= n)
			rank = n - 1;
		(void)p[(rank * mul % n) * PAGE];
	}
	roi_end();
}

/* Start argv in a child inside the region (roi_begin first), its
 * standard input in_fd when that is not -1 (the child closes in_fd and
 * other_fd, the pipe's two ends).  Its pid. */
static pid_t start_in_region(char *const argv[], int in_fd, int other_fd)
{
	fflush(NULL);
	roi_begin();
	pid_t pid = fork();
	if (pid < 0)
		roi_die("fork");
	if (pid == 0) {
		if (in_fd >= 0) {
			dup2(in_fd, 0);
			close(in_fd);
			close(other_fd);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Wait for the child start_in_region made and end the region; die
 * unless it exited 0.  A child killed by SIGKILL (the cgroup's OOM
 * killer) kills the workload the same way, so that vmlab validate sees
 * it. */
static void end_in_region(pid_t pid, const char *name)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		roi_die("waitpid");
	roi_end();
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		kill(getpid(), SIGKILL);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "%s exited with status %d\n", name,
			WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		exit(3);
	}
}

/* Run argv in a child inside the region; die unless it exits 0. */
static void run_in_region(char *const argv[])
{
	end_in_region(start_in_region(argv, -1, -1), argv[0]);
}

static void w_sort(size_t limit)
{
	const char *dir = getenv("VMLAB_VALIDATE_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/vmlab-sort-XXXXXX", dir && *dir ? dir : "/var/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		roi_die(path);
	unlink(path); /* sort reads it through /proc/self/fd: nothing is left */
	FILE *f = fdopen(dup(fd), "w");
	if (!f)
		roi_die("fdopen");
	size_t bytes = pages_of(limit, 3, 2) * PAGE;
	for (size_t o = 0; o < bytes; o += 32) { /* 31 characters and a newline */
		unsigned long long a = next_rand(), b = next_rand() >> 4;
		fprintf(f, "%016llx%015llx\n", a, b);
	}
	if (fclose(f) != 0)
		roi_die(path);
	/* sort starts from a known page cache: the input written back and
	 * dropped (its dirty pages, charged to the cgroup, would otherwise be
	 * written back and reclaimed while sort runs, as the disk allows) */
	if (fsync(fd) != 0)
		roi_die("fsync");
	int rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (rc) {
		errno = rc;
		roi_die("posix_fadvise");
	}
	setenv("LC_ALL", "C", 1);
	char buf[32], in[64];
	snprintf(buf, sizeof(buf), "-S%zuM", limit / 2);
	snprintf(in, sizeof(in), "/proc/self/fd/%d", fd);
	char *argv[] = { "/usr/bin/sort", "--parallel=1", buf, "-o", "/dev/null", in, NULL };
	run_in_region(argv);
	close(fd);
}

/* sort-mem: sort reads 3/5 of the limit of random lines from a pipe (the
 * parent writes them) and sorts them in its buffer (-S 4x the limit, so
 * no temporary file: TMPDIR names no directory, and sort would fail if it
 * wanted one), output to /dev/null.  Its buffer holds the text and a
 * 32-byte record per 32-byte line, and its merge sort half as many
 * records again: about 3/2 of the limit of anonymous memory, and no page
 * cache at all (the model charges none for read() and write()). */
static void w_sort_mem(size_t limit)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		roi_die("pipe");
	setenv("LC_ALL", "C", 1);
	setenv("TMPDIR", "/nonexistent/vmlab-sort-mem", 1);
	char buf[32];
	snprintf(buf, sizeof(buf), "-S%zuM", 4 * limit);
	char *argv[] = { "/usr/bin/sort", "--parallel=1", buf, "-o", "/dev/null", NULL };
	size_t bytes = pages_of(limit, 3, 5) * PAGE;
	pid_t pid = start_in_region(argv, pfd[0], pfd[1]);
	close(pfd[0]);
	/* sort killed (the OOM killer): stop writing and report its SIGKILL
	 * (end_in_region), not a SIGPIPE of our own */
	signal(SIGPIPE, SIG_IGN);
	bool gone = false;
	static char block[1 << 16]; /* 2,048 lines */
	for (size_t o = 0; o < bytes && !gone; o += sizeof(block)) {
		size_t n = bytes - o < sizeof(block) ? bytes - o : sizeof(block);
		for (size_t i = 0; i < n; i += 32) { /* 31 characters and a newline */
			unsigned long long a = next_rand(), b = next_rand() >> 4;
			char line[33];
			snprintf(line, sizeof(line), "%016llx%015llx\n", a, b);
			memcpy(block + i, line, 32);
		}
		for (size_t w = 0; w < n && !gone;) {
			ssize_t k = write(pfd[1], block + w, n - w);
			if (k < 0 && errno == EPIPE)
				gone = true;
			else if (k < 0 && errno != EINTR)
				roi_die("write to sort");
			else if (k > 0)
				w += (size_t)k;
		}
	}
	close(pfd[1]);
	end_in_region(pid, argv[0]);
}

static void w_python(size_t limit)
{
	static const char script[] =
		"import sys\n"
		"n = int(sys.argv[1]); P = 4096\n"
		"b = bytearray(n * P)\n"
		"for i in range(0, n * P, P): b[i] = 1\n"
		"s = 0\n"
		"for k in range(2):\n"
		"    for i in range(0, n * P, P): s += b[i]\n"
		"x = 88172645463325252\n"
		"for k in range(100000):\n"
		"    x ^= (x << 13) & 0xffffffffffffffff; x ^= x >> 7; x ^= (x << 17) & 0xffffffffffffffff\n"
		"    b[(x % n) * P] = 2\n"
		"sys.exit(0 if s == 2 * n else 1)\n";
	char n[32];
	snprintf(n, sizeof(n), "%zu", pages_of(limit, 3, 2));
	char *argv[] = { "/usr/bin/python3", "-S", "-c", (char *)script, n, NULL };
	run_in_region(argv);
}

/* --probe: pages of p[0..n) out of the page table but in the swap cache */
static int probe_fd = -1;
static unsigned char *probe_vec;
static uint64_t *probe_pm;

static void probe(volatile char *p, size_t n, const char *phase, size_t at)
{
	if (mincore((void *)p, n * PAGE, probe_vec) != 0)
		roi_die("mincore");
	off_t off = (off_t)((uintptr_t)p / PAGE * sizeof(uint64_t));
	if (pread(probe_fd, probe_pm, n * sizeof(uint64_t), off) != (ssize_t)(n * sizeof(uint64_t)))
		roi_die("/proc/self/pagemap");
	size_t cached = 0, lo = n, hi = 0;
	for (size_t i = 0; i < n; i++)
		if ((probe_pm[i] >> 62 & 1) && (probe_vec[i] & 1)) { /* swapped, yet resident */
			cached++;
			lo = i < lo ? i : lo;
			hi = i;
		}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	if (cached)
		printf("%-12s %6zu  %6zu unmapped in the swap cache (pages %zu-%zu)  %6ld major faults\n",
		       phase, at, cached, lo, hi, ru.ru_majflt);
	else
		printf("%-12s %6zu  %6zu unmapped in the swap cache  %6ld major faults\n", phase, at,
		       cached, ru.ru_majflt);
}

static int run_probe(const char *name, size_t limit)
{
	bool seq = !strcmp(name, "seq-loop");
	if (!seq && strcmp(name, "strided")) {
		fprintf(stderr, "vmlab-pressure: --probe takes seq-loop or strided, found '%s'\n", name);
		return 2;
	}
	size_t n = seq ? pages_of(limit, 4, 3) : pages_of(limit, 5, 3);
	probe_fd = open("/proc/self/pagemap", O_RDONLY);
	probe_vec = malloc(n);
	probe_pm = malloc(n * sizeof(uint64_t));
	if (probe_fd < 0 || !probe_vec || !probe_pm)
		roi_die("/proc/self/pagemap");
	volatile char *p = region(n);
	printf("# %s at %zu MiB: %zu pages\n", name, limit, n);
	for (size_t i = 0; i < n; i++)
		p[i * PAGE] = 1;
	probe(p, n, "written", n);
	size_t every = n / 8;
	for (int pass = 0; pass < (seq ? 2 : 3); pass++) {
		char ph[16];
		snprintf(ph, sizeof(ph), "pass %d at", pass + 1);
		for (size_t i = 0, pg = 0; i < n; i++, pg = seq ? i : (pg + 7) % n) {
			if (seq)
				(void)p[pg * PAGE];
			else
				p[pg * PAGE] = (char)(pass + 2);
			if (i % every == every - 1)
				probe(p, n, ph, i + 1);
		}
	}
	return 0;
}

static const struct {
	const char *name;
	void (*fn)(size_t limit);
	const char *help;
} workloads[] = {
	{ "seq-loop", w_seq_loop, "4/3 of the limit written in order, then read in order twice" },
	{ "hot-random", w_hot_random, "2x the limit written, 300k reads, 80% in the first eighth" },
	{ "strided", w_strided, "5/3 of the limit written, then 3 passes of stride-7 page writes" },
	{ "zipf", w_zipf, "2x the limit written, 300k Zipf (s = 1) reads over scattered pages" },
	{ "sort", w_sort, "[program] sort of a file of 3/2 the limit (LC_ALL=C, one thread)" },
	{ "sort-mem", w_sort_mem, "[program] sort of 3/5 the limit of lines from a pipe, in memory" },
	{ "python", w_python, "[program] python3 script: 3/2 the limit bytearray, 3 passes" },
};
#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < NWORKLOADS; i++)
			printf("%-13s %s\n", workloads[i].name, workloads[i].help);
		return 0;
	}
	bool probing = argc == 4 && !strcmp(argv[1], "--probe");
	if (probing) {
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s --list | [--probe] NAME LIMIT_MIB\n", argv[0]);
		return 2;
	}
	char *end;
	unsigned long v = strtoul(argv[2], &end, 10);
	if (*end || v < 4 || v > 4096) {
		fprintf(stderr, "%s: limit must be 4..4096 MiB, found '%s'\n", argv[0], argv[2]);
		return 2;
	}
	if (probing)
		return run_probe(argv[1], v);
	for (size_t i = 0; i < NWORKLOADS; i++)
		if (!strcmp(workloads[i].name, argv[1])) {
			if (RUNNING_ON_VALGRIND && !strncmp(workloads[i].help, "[program]", 9)) {
				/* its accesses are in a child valgrind does not
				 * trace: nothing to capture (vmlab validate reads
				 * the status and captures it with qemu) */
				fprintf(stderr, "%s: %s runs a real program in a child, which a lackey "
						"capture does not trace\n",
					argv[0], argv[1]);
				return 77;
			}
			roi_init();
			workloads[i].fn(v);
			roi_finish();
			return 0;
		}
	fprintf(stderr, "%s: unknown workload '%s' (--list names them)\n", argv[0], argv[1]);
	return 2;
}
