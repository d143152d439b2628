/* bench/bench_engine.c - throughput of the engine and of the text decoder.
 *
 * Generates a 10M-access trace in memory (uniform random pages: under LRU
 * the independent-reference model gives a miss ratio of 1 - F/P, so P is
 * chosen for 10% and 90% misses with F = 16384 frames), then:
 *   sim      vl_engine_feed over the pre-decoded batches (no I/O, no parse)
 *   decode   vl_trace_read of the same trace written as an addr text file
 * for every registered policy (sim), without TLBs (the library default)
 * and with the generic machine's TLBs (the CLI default), and once for
 * decoding; then the TLB-hit path: a working set that fits the first-level
 * data TLB.
 *   usage: bench_engine [ACCESSES] [POLICY...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmlab/vmlab.h"

#define FRAMES 16384u

static double l1_hit_ratio; /* of the last sim() */

static double now(void)
{
	struct timespec ts;
	/* CPU time of this process: on a shared machine, time spent waiting
	 * for a core does not count against the code measured (cache
	 * contention still does).  On an idle machine it equals wall time. */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const struct vl_error *err)
{
	fprintf(stderr, "bench: %s: %s\n", what, err->msg);
	exit(1);
}

static struct vl_rec *gen(size_t n, uint32_t pages, uint64_t seed)
{
	struct vl_rec *r = malloc(n * sizeof(*r));
	if (!r)
		exit(1);
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = vl_rand_next(&s);
		uint64_t page = vl_rand_below(&s, pages);
		r[i] = (struct vl_rec){ .addr = 0x7f0000000000ull + (page << 12) + (x & 0xff8),
					.pid = 1, .op = (x >> 32) % 4 == 0 ? VL_OP_WRITE : VL_OP_READ };
	}
	return r;
}

/* Simulate n records through a fresh engine (with the TLBs of machine
 * preset `machine`, or none when NULL); returns seconds in feed. */
static double sim(const char *policy, const char *machine, const struct vl_rec *recs, size_t n,
		  double *miss_ratio)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	char po[64], fr[64];
	snprintf(po, sizeof(po), "replacement.policy=%s", policy);
	snprintf(fr, sizeof(fr), "memory.frames=%u", FRAMES);
	if (vl_config_new(&cfg, &err) < 0 ||
	    (machine && vl_config_load_preset(cfg, "machines", machine, &err) < 0) ||
	    vl_config_set_arg(cfg, po, &err) < 0 || vl_config_set_arg(cfg, fr, &err) < 0)
		die("config", &err);
	struct vl_engine *e;
	if (vl_engine_new(&e, cfg, &err) < 0)
		die("engine", &err);
	vl_config_free(cfg);
	uint64_t *future = NULL;
	if (vl_engine_needs_future(e)) {
		/* the pre-pass is timed separately by `vmlab run`; here only the
		 * replay is measured, so compute next-use naively outside the clock */
		future = malloc(n * sizeof(*future));
		uint64_t *last = malloc(((size_t)1 << 24) * sizeof(*last));
		memset(last, 0xff, ((size_t)1 << 24) * sizeof(*last));
		for (size_t i = n; i-- > 0;) {
			size_t p = (size_t)((recs[i].addr - 0x7f0000000000ull) >> 12);
			future[i] = last[p];
			last[p] = i;
		}
		free(last);
		vl_engine_set_future(e, future, n);
	}
	struct vl_batch b = { 0 };
	double t = 0;
	for (size_t i = 0; i < n; i += 8192) {
		b.recs = (struct vl_rec *)recs + i;
		b.n = b.cap = n - i < 8192 ? n - i : 8192;
		double t0 = now();
		if (vl_engine_feed(e, &b, &err) < 0)
			die("feed", &err);
		t += now() - t0;
	}
	const struct vl_counters *c = vl_engine_counters(e);
	*miss_ratio = (double)c->faults / (double)c->accesses;
	const char *names[128];
	uint64_t values[128];
	size_t nc = vl_engine_counter_list(e, names, values, 128);
	l1_hit_ratio = 0;
	for (size_t i = 0; i < nc && i < 128; i++)
		if (!strcmp(names[i], "tlb_l1d_hits"))
			l1_hit_ratio = (double)values[i] / (double)c->accesses;
	vl_engine_free(e);
	free(future);
	return t;
}

static double decode(const struct vl_rec *recs, size_t n, size_t *bytes)
{
	char path[] = "/tmp/vmlab-bench-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		exit(1);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%c 0x%llx\n", recs[i].op == VL_OP_WRITE ? 'W' : 'R',
			(unsigned long long)recs[i].addr);
	*bytes = (size_t)ftell(f);
	fclose(f);
	struct vl_error err = { 0 };
	struct vl_trace *t;
	struct vl_batch b;
	if (vl_trace_open(&t, path, "addr", &err) < 0 || vl_batch_init(&b, 8192, &err) < 0)
		die("open", &err);
	double t0 = now();
	size_t got = 0;
	ssize_t r;
	while ((r = vl_trace_read(t, &b, &err)) > 0)
		got += (size_t)r;
	double secs = now() - t0;
	if (r < 0 || got != n)
		die("decode", &err);
	vl_trace_close(t);
	vl_batch_free(&b);
	unlink(path);
	return secs;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000u;
	const struct { const char *label; uint32_t pages; } loads[] = {
		{ "10% miss", (uint32_t)(FRAMES / 0.9) },
		{ "90% miss", FRAMES * 10 },
	};
	printf("engine (textbook, %u frames, %zu accesses, trace pre-decoded; rates per CPU second):\n",
	       FRAMES, n);
	printf("  %-10s %-9s %12s %12s\n", "policy", "load", "miss ratio", "M acc/s");
	for (size_t l = 0; l < 2; l++) {
		struct vl_rec *recs = gen(n, loads[l].pages, 42 + l);
		for (size_t i = 0; vl_repl_at(i); i++) {
			const char *name = vl_repl_at(i)->name;
			bool picked = argc <= 2;
			for (int a = 2; a < argc && !picked; a++)
				picked = !strcmp(argv[a], name);
			if (!picked)
				continue;
			double mr, secs = sim(name, NULL, recs, n, &mr);
			printf("  %-10s %-9s %12.4f %12.1f\n", name, loads[l].label, mr,
			       (double)n / secs / 1e6);
			fflush(stdout);
			secs = sim(name, "generic", recs, n, &mr);
			printf("  %-10s %-9s %12.4f %12.1f   with TLBs (machine generic)\n", name,
			       loads[l].label, mr, (double)n / secs / 1e6);
			fflush(stdout);
		}
		if (l == 0) {
			size_t bytes;
			double secs = decode(recs, n, &bytes);
			printf("decoder (addr text, %.1f bytes/record): %.1f M records/s, %.0f MB/s\n",
			       (double)bytes / (double)n, (double)n / secs / 1e6,
			       (double)bytes / secs / 1e6);
		}
		free(recs);
	}
	/* the TLB-hit path: 48 pages fit the generic machine's 64-entry,
	 * 4-way L1 DTLB (3 per set on average; a set overflows only when
	 * more than 4 of them share it: seeded, fixed) */
	struct vl_rec *recs = gen(n, 48, 44);
	printf("TLB-hit path (machine generic, 48-page working set, %zu accesses; target 100M acc/s):\n",
	       n);
	printf("  %-10s %12s %12s\n", "policy", "L1 hit ratio", "M acc/s");
	for (size_t i = 0; vl_repl_at(i); i++) {
		const char *name = vl_repl_at(i)->name;
		bool picked = argc <= 2;
		for (int a = 2; a < argc && !picked; a++)
			picked = !strcmp(argv[a], name);
		if (!picked || !strcmp(name, "opt"))
			continue;
		double mr, secs = sim(name, "generic", recs, n, &mr);
		printf("  %-10s %12.4f %12.1f\n", name, l1_hit_ratio, (double)n / secs / 1e6);
	}
	free(recs);
	return 0;
}
