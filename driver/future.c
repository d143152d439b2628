/* driver/future.c - the pre-pass that gives each access its next-use time.
 *
 * Belady's MIN needs, at every access, when the same page (of the same
 * process) is used next.  Pass 1 reads the whole trace and records one key
 * per access: (process ordinal << 36) | vpn, with vpn the 36-bit page number
 * of a 48-bit address.  Pass 2 walks the keys backwards with a hash map
 * key -> latest index seen, overwriting each key with its next-use index in
 * place.  Memory: 8 bytes per access, plus the map (16 bytes per distinct
 * page, doubled for load factor).  A key and its value share a slot (one
 * cache line per probe), and the process of the previous record is
 * remembered (traces come in long runs of one process).  The map is read
 * at random (32 MiB for 1M pages), so it lives on huge pages where the
 * host gives them (vl_alloc_big), and pass 2, which knows the keys to
 * come, prefetches the slot of the key AHEAD records on.  Tried: a table direct-indexed within
 * chunks of 64 pages, the chunks found through a small map (a quarter of
 * the memory); 22% more instructions and more level-1 misses for fewer
 * last-level ones, no faster (docs/benchmarks.md).
 */
#include <stdlib.h>
#include <string.h>

#include "vmlab/policy.h" /* VL_NEVER */
#include "vmlab/run.h"

struct slot {
	uint64_t key, val;
};

struct map {
	struct slot *s;
	uint64_t mask, n;
};

#define EMPTY UINT64_MAX
#define AHEAD 16 /* pass 2 prefetches the slot of the key this far ahead */

static inline uint64_t mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static int map_init(struct map *m, uint64_t cap)
{
	m->mask = cap - 1;
	m->n = 0;
	m->s = vl_alloc_big(cap * sizeof(*m->s)); /* read at random: huge pages */
	if (!m->s)
		return VL_ENOMEM;
	for (uint64_t i = 0; i < cap; i++)
		m->s[i].key = EMPTY;
	return 0;
}

static struct slot *map_slot(struct map *m, uint64_t key)
{
	uint64_t s = mix(key) & m->mask;
	while (m->s[s].key != EMPTY && m->s[s].key != key)
		s = (s + 1) & m->mask;
	return &m->s[s];
}

static int map_grow(struct map *m)
{
	struct map n;
	if (map_init(&n, (m->mask + 1) * 2) < 0)
		return VL_ENOMEM;
	for (uint64_t i = 0; i <= m->mask; i++) {
		if (m->s[i].key == EMPTY)
			continue;
		*map_slot(&n, m->s[i].key) = m->s[i];
		n.n++;
	}
	free(m->s);
	*m = n;
	return 0;
}

int vl_future_compute(struct vl_trace *t, uint64_t **out, uint64_t *n_out, struct vl_error *err)
{
	struct vl_batch b;
	struct map pids = { 0 }, pages = { 0 };
	uint64_t *keys = NULL, n = 0, cap = 1u << 20;
	int rc = VL_ENOMEM;

	VL_TRY(vl_batch_init(&b, 8192, err));
	keys = malloc(cap * sizeof(*keys));
	if (!keys || map_init(&pids, 64) < 0 || map_init(&pages, 1u << 16) < 0)
		goto oom;

	ssize_t got;
	uint32_t last_pid = 0;
	uint64_t proc = EMPTY; /* ordinal of last_pid, EMPTY before the first */
	while ((got = vl_trace_read(t, &b, err)) > 0) {
		for (size_t i = 0; i < b.n; i++) {
			const struct vl_rec *r = &b.recs[i];
			if (r->op >= VL_OP_NACCESS)
				continue;
			if (r->pid != last_pid || proc == EMPTY) {
				struct slot *pk = map_slot(&pids, r->pid);
				if (pk->key == EMPTY) {
					pk->key = r->pid;
					pk->val = pids.n++;
					if (pids.n > (1u << 27)) {
						rc = vl_err(err, VL_ELIMIT,
							    "more than 2^27 processes in the trace");
						goto fail;
					}
				}
				proc = pk->val;
				last_pid = r->pid;
				if (pids.n * 2 > pids.mask && map_grow(&pids) < 0)
					goto oom;
			}
			if (n == cap) {
				uint64_t *nk = realloc(keys, cap * 2 * sizeof(*nk));
				if (!nk)
					goto oom;
				keys = nk;
				cap *= 2;
			}
			keys[n++] = (proc << 36) | ((r->addr >> VL_PAGE_SHIFT) & ((1ull << 36) - 1));
		}
	}
	if (got < 0) {
		rc = (int)got;
		goto fail;
	}
	if ((rc = vl_trace_rewind(t, err)) < 0)
		goto fail;

	for (uint64_t i = n; i-- > 0;) {
		uint64_t key = keys[i];
#if defined(__GNUC__) || defined(__clang__)
		/* the keys ahead are known: start loading the slot of the one
		 * AHEAD records on (a hint; a growth may move it) */
		if (i >= AHEAD)
			__builtin_prefetch(&pages.s[mix(keys[i - AHEAD]) & pages.mask], 1);
#endif
		struct slot *k = map_slot(&pages, key);
		uint64_t next = VL_NEVER;
		if (k->key == EMPTY) {
			k->key = key;
			pages.n++;
		} else {
			next = k->val;
		}
		k->val = i;
		keys[i] = next;
		if (pages.n * 2 > pages.mask && map_grow(&pages) < 0)
			goto oom;
	}
	free(pids.s);
	free(pages.s);
	vl_batch_free(&b);
	*out = keys;
	*n_out = n;
	return 0;
oom:
	rc = vl_err(err, VL_ENOMEM, "out of memory in the future pre-pass (%llu accesses)",
		    (unsigned long long)n);
fail:
	free(keys);
	free(pids.s);
	free(pages.s);
	vl_batch_free(&b);
	return rc;
}
