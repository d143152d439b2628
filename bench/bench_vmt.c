/* bench/bench_vmt.c - size and decoding speed of .vmt files.
 *
 *   usage: bench_vmt FILE.vmt [SECONDS]
 *
 * Prints the file's bytes per access record and decodes it with
 * vl_trace_read (batches of 8192, one thread) repeatedly for at least
 * SECONDS (default 1), reporting the best pass in records per CPU second
 * of the decoding thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "vmlab/vmlab.h"

/* CPU time of this thread: decoding is single-threaded, and CPU time is
 * what a busy shared machine distorts least. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_vmt FILE.vmt [SECONDS]\n");
		return 2;
	}
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	struct stat st;
	if (stat(argv[1], &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	struct vl_error err = { 0 };
	struct vl_trace *t;
	if (vl_trace_open(&t, argv[1], "vmt", &err) < 0) {
		fprintf(stderr, "bench_vmt: %s\n", err.msg);
		return 1;
	}
	struct vl_batch b;
	if (vl_batch_init(&b, 8192, &err) < 0)
		return 1;
	double best = 0, start = now();
	uint64_t recs = 0, sum = 0;
	int passes = 0;
	do {
		if (passes && vl_trace_rewind(t, &err) < 0) {
			fprintf(stderr, "bench_vmt: %s\n", err.msg);
			return 1;
		}
		double a = cpu_now();
		ssize_t got;
		recs = 0;
		while ((got = vl_trace_read(t, &b, &err)) > 0) {
			recs += b.n;
			sum += b.recs[b.n - 1].addr; /* keep the work observable */
		}
		if (got < 0) {
			fprintf(stderr, "bench_vmt: %s\n", err.msg);
			return 1;
		}
		double rate = (double)recs / (cpu_now() - a);
		if (rate > best)
			best = rate;
		passes++;
	} while (now() - start < secs);
	printf("%-40s %10llu records %6.3f bytes/record  decode %6.1f M records/CPU-s (best of %d, 1 thread)%s\n",
	       argv[1], (unsigned long long)recs, (double)st.st_size / (double)recs, best / 1e6,
	       passes, sum == 42 ? " " : "");
	vl_batch_free(&b);
	vl_trace_close(t);
	return 0;
}
