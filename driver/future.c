/* driver/future.c - the pre-pass that gives each access its next-use time.
 *
 * Belady's MIN needs, at every access, when the same page (of the same
 * process) is used next.  Pass 1 reads the whole trace and records one key
 * per access: (process ordinal << 36) | vpn, with vpn the 36-bit page number
 * of a 48-bit address.  Pass 2 walks the keys backwards with a hash map
 * key -> latest index seen, overwriting each key with its next-use index in
 * place.  Memory: 8 bytes per access, plus the map (16 bytes per distinct
 * page, doubled for load factor).
 */
#include <stdlib.h>
#include <string.h>

#include "vmlab/policy.h" /* VL_NEVER */
#include "vmlab/run.h"

struct map {
	uint64_t *keys, *vals;
	uint64_t mask, n;
};

#define EMPTY UINT64_MAX

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
	m->keys = malloc(cap * sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	if (!m->keys || !m->vals) {
		free(m->keys);
		free(m->vals);
		return VL_ENOMEM;
	}
	memset(m->keys, 0xff, cap * sizeof(*m->keys));
	return 0;
}

static uint64_t *map_slot(struct map *m, uint64_t key)
{
	uint64_t s = mix(key) & m->mask;
	while (m->keys[s] != EMPTY && m->keys[s] != key)
		s = (s + 1) & m->mask;
	return &m->keys[s];
}

static int map_grow(struct map *m)
{
	struct map n;
	if (map_init(&n, (m->mask + 1) * 2) < 0)
		return VL_ENOMEM;
	for (uint64_t i = 0; i <= m->mask; i++) {
		if (m->keys[i] == EMPTY)
			continue;
		uint64_t *k = map_slot(&n, m->keys[i]);
		*k = m->keys[i];
		n.vals[k - n.keys] = m->vals[i];
		n.n++;
	}
	free(m->keys);
	free(m->vals);
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
	while ((got = vl_trace_read(t, &b, err)) > 0) {
		for (size_t i = 0; i < b.n; i++) {
			const struct vl_rec *r = &b.recs[i];
			if (r->op >= VL_OP_NACCESS)
				continue;
			uint64_t *pk = map_slot(&pids, r->pid);
			if (*pk == EMPTY) {
				*pk = r->pid;
				pids.vals[pk - pids.keys] = pids.n++;
				if (pids.n > (1u << 27)) {
					rc = vl_err(err, VL_ELIMIT, "more than 2^27 processes in the trace");
					goto fail;
				}
				if (pids.n * 2 > pids.mask && map_grow(&pids) < 0)
					goto oom;
			}
			uint64_t proc = pids.vals[map_slot(&pids, r->pid) - pids.keys];
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
		uint64_t *k = map_slot(&pages, key);
		uint64_t next = VL_NEVER;
		if (*k == EMPTY) {
			*k = key;
			pages.n++;
		} else {
			next = pages.vals[k - pages.keys];
		}
		pages.vals[k - pages.keys] = i;
		keys[i] = next;
		if (pages.n * 2 > pages.mask && map_grow(&pages) < 0)
			goto oom;
	}
	free(pids.keys);
	free(pids.vals);
	free(pages.keys);
	free(pages.vals);
	vl_batch_free(&b);
	*out = keys;
	*n_out = n;
	return 0;
oom:
	rc = vl_err(err, VL_ENOMEM, "out of memory in the future pre-pass (%llu accesses)",
		    (unsigned long long)n);
fail:
	free(keys);
	free(pids.keys);
	free(pids.vals);
	free(pages.keys);
	free(pages.vals);
	vl_batch_free(&b);
	return rc;
}
