/* tests/testutil.h - helpers shared by the cmocka test programs.
 *
 * Build an engine from "key=value" strings, feed it records made in the
 * test, read its counters.  Everything fails the test (not the process) on
 * error, with the library's message.
 */
#ifndef VMLAB_TESTUTIL_H
#define VMLAB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmlab/vmlab.h"

/* Engine from NULL-terminated "key=value" settings over the defaults. */
static inline struct vl_engine *tu_engine(const char *first, ...)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	if (vl_config_new(&cfg, &err) < 0)
		fail_msg("config: %s", err.msg);
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *))
		if (vl_config_set_arg(cfg, s, &err) < 0)
			fail_msg("config %s: %s", s, err.msg);
	va_end(ap);
	struct vl_engine *e;
	if (vl_engine_new(&e, cfg, &err) < 0)
		fail_msg("engine: %s", err.msg);
	vl_config_free(cfg);
	return e;
}

/* Feed n records in batches of at most 4096. */
static inline void tu_feed(struct vl_engine *e, const struct vl_rec *recs, size_t n)
{
	struct vl_error err = { 0 };
	struct vl_batch b;
	if (vl_batch_init(&b, 4096, &err) < 0)
		fail_msg("batch: %s", err.msg);
	for (size_t i = 0; i < n;) {
		vl_batch_reset(&b);
		while (i < n && b.n < b.cap)
			b.recs[b.n++] = recs[i++];
		if (vl_engine_feed(e, &b, &err) < 0)
			fail_msg("feed: %s", err.msg);
	}
	vl_batch_free(&b);
}

/* Next-use times for a record array, computed independently of
 * sim/future.c: one forward pass with a map (pid, vpn) -> last index that
 * patches the previous occurrence of each page. */
static inline uint64_t *tu_future(const struct vl_rec *recs, size_t n)
{
	uint64_t *next = malloc((n ? n : 1) * sizeof(*next));
	size_t cap = 1;
	while (cap < 4 * n + 16)
		cap <<= 1;
	uint64_t *keys = malloc(cap * sizeof(*keys));
	uint64_t *last = malloc(cap * sizeof(*last));
	assert_non_null(next);
	assert_non_null(keys);
	assert_non_null(last);
	memset(keys, 0xff, cap * sizeof(*keys));
	for (size_t i = 0; i < n; i++) {
		uint64_t key = ((uint64_t)recs[i].pid << 40) ^ (recs[i].addr >> 12);
		size_t s = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
		while (keys[s] != UINT64_MAX && keys[s] != key)
			s = (s + 1) & (cap - 1);
		if (keys[s] == key)
			next[last[s]] = i;
		keys[s] = key;
		last[s] = i;
		next[i] = VL_NEVER;
	}
	free(keys);
	free(last);
	return next;
}

/* Write records to a temporary addr-format file; returns its path (static). */
static inline const char *tu_write_addr(const struct vl_rec *recs, size_t n)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/vmlab-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%c 0x%llx %u\n", "RWI"[recs[i].op], (unsigned long long)recs[i].addr,
			recs[i].pid);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Deterministic generator for test traces (splitmix64). */
static inline uint64_t tu_rand(uint64_t *s)
{
	return vl_rand_next(s);
}

#endif
