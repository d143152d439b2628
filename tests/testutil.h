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

/* Engine from a NULL-terminated array of settings, over the machine
 * preset `machine` (NULL: none). */
static inline struct vl_engine *tu_engine_on(const char *machine, const char *const *sets)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	if (vl_config_new(&cfg, &err) < 0)
		fail_msg("config: %s", err.msg);
	if (machine && vl_config_load_preset(cfg, "machines", machine, &err) < 0)
		fail_msg("preset %s: %s", machine, err.msg);
	for (size_t i = 0; sets[i]; i++)
		if (vl_config_set_arg(cfg, sets[i], &err) < 0)
			fail_msg("config %s: %s", sets[i], err.msg);
	struct vl_engine *e;
	if (vl_engine_new(&e, cfg, &err) < 0)
		fail_msg("engine: %s", err.msg);
	vl_config_free(cfg);
	return e;
}

/* Counter `name` of vl_engine_counter_list, the configuration-dependent
 * ones included; fails the test when there is none. */
static inline uint64_t tu_counter(struct vl_engine *e, const char *name)
{
	const char *names[256];
	uint64_t values[256];
	size_t n = vl_engine_counter_list(e, names, values, 256);
	for (size_t i = 0; i < n && i < 256; i++)
		if (!strcmp(names[i], name))
			return values[i];
	fail_msg("no counter %s", name);
	return 0;
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
 * driver/future.c: one forward pass with a map (pid, vpn) -> last index that
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

/* ---- a random address-space workload ----
 *
 * TU_VM_NPROC processes, each working in [TU_VM_REGION, +64 MiB): 8% of the
 * records are address-space events (reserve, commit with assorted
 * protections, decommit, release, protect, map copy-on-write or shared views
 * of three files, unmap, exit), a third of the accesses go to the views,
 * the rest to 1 MiB of private pages, many outside what the process owns.
 * recs[i].addr of an event record indexes evs.  Used by the stress and
 * contract tests that run the model with its invariant checker. */
#define TU_VM_NPROC 4
#define TU_VM_REGION 0x10000000ull

static const unsigned tu_prots[] = { VL_PROT_READONLY, VL_PROT_READWRITE, VL_PROT_EXECUTE_READ,
				  VL_PROT_EXECUTE_READWRITE, VL_PROT_NOACCESS,
				  VL_PROT_READWRITE | VL_PROT_GUARD };

static inline void tu_gen_vm(uint64_t seed, size_t n, struct vl_rec *recs, struct vl_event *evs,
			     size_t *nev)
{
	uint64_t s = seed;
	*nev = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = tu_rand(&s);
		uint32_t pid = 1 + (uint32_t)(x % TU_VM_NPROC);
		uint64_t page = (x >> 8) % 256;             /* 1 MiB of pages per process */
		uint64_t addr = TU_VM_REGION + (page << 12) + ((x >> 20) & 0xff8);
		unsigned k = (unsigned)((x >> 40) % 100);
		if (k < 8) {
			struct vl_event ev = { 0 };
			uint64_t base = TU_VM_REGION + (((x >> 48) % 16) << 16); /* 64 KiB slots */
			uint64_t len = (1 + (x >> 52) % 16) << 12;
			switch ((x >> 56) % 8) {
			case 0: ev.kind = VL_EV_RESERVE; ev.addr = base; ev.len = 0x10000; break;
			case 1:
			case 2: ev.kind = VL_EV_COMMIT; ev.addr = base; ev.len = len;
				ev.prot = tu_prots[(x >> 60) % 6]; break;
			case 3: ev.kind = VL_EV_DECOMMIT; ev.addr = base; ev.len = len; break;
			case 4: ev.kind = VL_EV_RELEASE; ev.addr = base; break;
			case 5: ev.kind = VL_EV_PROTECT; ev.addr = base; ev.len = len;
				ev.prot = tu_prots[(x >> 60) % 6]; break;
			case 6: ev.kind = VL_EV_MAP; ev.addr = TU_VM_REGION + 0x1000000 + (((x >> 48) % 4) << 20);
				ev.len = 0x40000; ev.file_id = (x >> 50) % 3; ev.offset = ((x >> 52) % 4) << 12;
				ev.prot = (x >> 62) & 1 ? VL_PROT_WRITECOPY : VL_PROT_READWRITE; break;
			default:
				if ((x >> 59) % 8 == 0) {
					ev.kind = VL_EV_EXIT;
				} else {
					ev.kind = VL_EV_UNMAP;
					ev.addr = TU_VM_REGION + 0x1000000 + (((x >> 48) % 4) << 20);
				}
				break;
			}
			evs[*nev] = ev;
			recs[i] = (struct vl_rec){ .addr = *nev, .pid = pid, .op = VL_OP_EVENT };
			(*nev)++;
			continue;
		}
		if (k < 40) /* the mapped views */
			addr = TU_VM_REGION + 0x1000000 + (((x >> 48) % 4) << 20) + (((x >> 8) % 64) << 12);
		uint8_t op = (x >> 30) % 10 < 6 ? VL_OP_READ : (x >> 30) % 10 < 9 ? VL_OP_WRITE : VL_OP_IFETCH;
		recs[i] = (struct vl_rec){ .addr = addr, .pid = pid, .op = op };
	}
}

/* Feed recs (events from evs) in batches of at most cap records; label
 * names the run in a failure message. */
static inline void tu_feed_events(struct vl_engine *e, const struct vl_rec *recs,
				  const struct vl_event *evs, size_t n, size_t cap,
				  const char *label)
{
	struct vl_batch b;
	struct vl_error err = { 0 };
	if (vl_batch_init(&b, cap, &err) < 0)
		fail_msg("batch: %s", err.msg);
	for (size_t i = 0; i < n;) {
		vl_batch_reset(&b);
		while (i < n && b.n < cap && b.n_events < b.ev_cap) {
			struct vl_rec r = recs[i++];
			if (r.op == VL_OP_EVENT) {
				b.events[b.n_events] = evs[r.addr];
				r.addr = b.n_events++;
			}
			b.recs[b.n++] = r;
		}
		if (vl_engine_feed(e, &b, &err) < 0) {
			vl_batch_free(&b);
			fail_msg("%s, record %zu: %s", label, i, err.msg);
		}
	}
	vl_batch_free(&b);
}

#endif
