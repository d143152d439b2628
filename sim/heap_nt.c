/* sim/heap_nt.c - the NT heap (heap.model = nt), the process default heap
 * of Windows before the segment heap, 64-bit.
 *
 * Sources (docs/heap.md, "## nt", cites them): Windows Internals 7th ed.,
 * Part 1, ch. 5, "Heap manager"; the RTL_HEAP_PARAMETERS documentation for
 * the defaults (SegmentReserve 1 MiB, SegmentCommit 2 pages,
 * DeCommitFreeBlockThreshold one page, DeCommitTotalFreeThreshold 64 KiB,
 * VirtualMemoryThreshold 0x7F000); the MSDN low-fragmentation-heap page for
 * the LFH's bucket ranges; the "17 back-end allocations, then the LFH"
 * activation (Valasek's Windows 7 LFH paper, re-measured by debugoff.com).
 *
 * Three components, chosen by the request:
 *
 *   size >= 0x7F000          VirtualAlloc block: reserved (64 KiB
 *                            granularity) and committed (pages) on its own,
 *                            0x40-byte _HEAP_VIRTUAL_ALLOC_ENTRY in front,
 *                            released by free.
 *   size <= 16368 and the
 *   bucket is active         LFH: fixed-size slots in UserBlocks, which are
 *                            back-end blocks; the lowest free slot first.
 *   otherwise                back end: 16-byte header, 16-byte granularity,
 *                            best fit over the free blocks of every segment,
 *                            split, coalesced on free.
 *
 * Back end invariants: every segment byte is either a segment header, a
 * live block (back-end chunk, or UserBlocks), or inside one range of
 * `free`; no two free ranges touch (they merge); a segment header separates
 * the free space of two segments even when their reservations touch.  Every
 * page overlapping a live block or a header is committed (`com`).  The
 * committed free bytes are therefore com.bytes - busy - hdr, the heap's
 * TotalFreeSize that the decommit rule compares.
 */
#include <stdlib.h>

#include "heap_util.h"

#define NT_SEG_RESERVE 0x100000u  /* SegmentReserve default, 1 MiB, doubling */
#define NT_SEG_COMMIT 0x2000u     /* SegmentCommit default, 2 pages */
#define NT_HEAP_HDR 0x2c0u        /* sizeof(_HEAP), the first segment's header */
#define NT_SEG_HDR 0x70u          /* sizeof(_HEAP_SEGMENT), later segments */
#define NT_DECOMMIT_BLOCK 0x1000u /* DeCommitFreeBlockThreshold */
#define NT_DECOMMIT_TOTAL 0x10000u /* DeCommitTotalFreeThreshold */
#define NT_VA_THRESHOLD 0x7f000u  /* VirtualMemoryThreshold */
#define NT_VA_HDR 0x40u           /* sizeof(_HEAP_VIRTUAL_ALLOC_ENTRY) */
#define NT_BLOCK_HDR 16u          /* _HEAP_ENTRY */
#define NT_MIN_BLOCK 32u
#define NT_LFH_MAX 16368u         /* 16 KiB less the block header */
#define NT_LFH_ACTIVATE 17u       /* back-end allocations before the LFH serves */
#define NT_UB_HDR 0x30u           /* UserBlocks header (approximation) */
#define NT_UB_MAX 0x10000u        /* UserBlocks at most 64 KiB (approximation) */
#define NT_NBUCKETS 112

enum { K_BACK = 1, K_LFH = 2, K_VA = 3 };
#define KIND(w) ((unsigned)((w) >> 56))
#define LEN(w) ((w) & ((1ull << 56) - 1))
#define PACK(k, len) ((uint64_t)(k) << 56 | (len))

struct nt_sub {
	uint64_t chunk, chunk_len; /* the UserBlocks' back-end block */
	uint64_t base;             /* slot 0 */
	uint32_t stride, nslots, nfree, bucket;
	uint64_t bits[];           /* busy slots */
};

struct nt {
	struct vl_heap_os os;
	uint64_t gran; /* reservation granularity: os.granularity, 64 KiB if unset */
	struct vl_hmap live;     /* user address -> v: chunk / sub / base, w: PACK(kind, len) */
	struct vl_hranges free;  /* back-end free space, sized */
	struct vl_hranges com;   /* committed pages of the segments */
	struct vl_hmap subs;     /* every UserBlocks: chunk -> sub */
	uint64_t busy, hdr;      /* bytes of live back-end blocks, of segment headers */
	uint64_t next_reserve;   /* the next segment's reservation */
	uint32_t lfh_count[NT_NBUCKETS]; /* back-end allocations of the bucket */
	uint32_t lfh_nsub[NT_NBUCKETS];  /* its UserBlocks alive */
	struct vl_hmap lfh_open[NT_NBUCKETS]; /* UserBlocks with a free slot, by address */
};

/* The LFH bucket of a block of bs bytes (header included, a multiple of 16,
 * at most 16 KiB): MSDN's ranges, at 16-byte granularity up to 512 on
 * 64-bit.  *bsize receives the bucket's block size. */
static int nt_bucket(uint64_t bs, uint64_t *bsize)
{
	static const uint32_t lim[] = { 512, 1024, 2048, 4096, 8192, 16384 };
	static const uint32_t gran[] = { 16, 32, 64, 128, 256, 512 };
	uint64_t lo = 0;
	int idx = 0;
	for (int i = 0; i < 6; i++) {
		if (bs <= lim[i]) {
			*bsize = vl_hup(bs, gran[i]);
			return idx + (int)((*bsize - lo) / gran[i]) - 1;
		}
		idx += (int)((lim[i] - lo) / gran[i]);
		lo = lim[i];
	}
	return -1;
}

static uint64_t block_size(uint64_t size)
{
	uint64_t bs = vl_hup(size, 16) + NT_BLOCK_HDR;
	return bs < NT_MIN_BLOCK ? NT_MIN_BLOCK : bs;
}

/* ---- back end ---- */

static int nt_grow(struct nt *h, uint64_t nb)
{
	uint64_t hdr = h->hdr ? NT_SEG_HDR : NT_HEAP_HDR;
	uint64_t need = vl_hup(nb + hdr, h->gran), len = h->next_reserve, base;
	if (len < need)
		len = need;
	if (h->os.reserve(h->os.ctx, len, &base) < 0) {
		if (len == need || h->os.reserve(h->os.ctx, need, &base) < 0)
			return -1;
		len = need;
	}
	if (vl_hcommit(&h->os, &h->com, base, base + NT_SEG_COMMIT) < 0 ||
	    vl_hranges_add(&h->free, base + hdr, len - hdr, NULL, NULL) < 0) {
		vl_hdecommit(&h->os, &h->com, base, base + NT_SEG_COMMIT);
		h->os.release(h->os.ctx, base);
		return -1;
	}
	h->hdr += hdr;
	h->next_reserve = 2 * len;
	return 0;
}

/* A back-end block of at least nb bytes; *chunk receives it, the return
 * value its length (0: refused). */
static uint64_t be_alloc(struct nt *h, uint64_t nb, uint64_t *chunk)
{
	struct vl_hnode *f = vl_hranges_best(&h->free, nb);
	if (!f) {
		if (nt_grow(h, nb) < 0)
			return 0;
		f = vl_hranges_best(&h->free, nb);
	}
	uint64_t a = f->k2, take = f->k1 - nb >= NT_MIN_BLOCK ? nb : f->k1;
	if (vl_hcommit(&h->os, &h->com, vl_hdown(a, VL_HEAP_PAGE), vl_hup(a + take, VL_HEAP_PAGE)) < 0)
		return 0;
	if (vl_hranges_take(&h->free, a, take) < 0)
		return 0;
	h->busy += take;
	*chunk = a;
	return take;
}

/* Return [c, c + n) to the free space: coalesce; then, when the coalesced
 * block is at least DeCommitFreeBlockThreshold long and the heap's
 * committed free bytes (this block's included) reach
 * DeCommitTotalFreeThreshold, decommit the whole pages inside it, leaving
 * no 16-byte fragment at either end (a page more stays then), as
 * RtlpFreeHeap and RtlpDeCommitFreeBlock do in ReactOS's heap.c. */
static void be_free(struct nt *h, uint64_t c, uint64_t n)
{
	uint64_t a = c, len = n;
	h->busy -= n;
	if (vl_hranges_add(&h->free, c, n, &a, &len) < 0)
		return; /* out of host memory: the space is lost, not corrupted */
	uint64_t total = h->com.bytes - h->busy - h->hdr;
	if (len < NT_DECOMMIT_BLOCK || total < NT_DECOMMIT_TOTAL)
		return;
	uint64_t lo = vl_hup(a, VL_HEAP_PAGE), hi = vl_hdown(a + len, VL_HEAP_PAGE);
	if (lo - a == NT_BLOCK_HDR)
		lo += VL_HEAP_PAGE;
	if (a + len - hi == NT_BLOCK_HDR)
		hi -= VL_HEAP_PAGE;
	if (hi > lo)
		vl_hdecommit(&h->os, &h->com, lo, hi);
}

/* ---- LFH ---- */

static struct nt_sub *lfh_new_sub(struct nt *h, int b, uint64_t stride)
{
	uint32_t k = h->lfh_nsub[b] < 6 ? h->lfh_nsub[b] : 6;
	uint64_t count = 16u << k, cap = (NT_UB_MAX - NT_UB_HDR - NT_BLOCK_HDR) / stride;
	if (count > cap)
		count = cap ? cap : 1;
	uint64_t words = (count + 63) / 64, chunk;
	struct nt_sub *s = calloc(1, sizeof(*s) + words * sizeof(uint64_t));
	if (!s)
		return NULL;
	uint64_t n = be_alloc(h, block_size(NT_UB_HDR + count * stride), &chunk);
	if (!n)
		goto fail;
	*s = (struct nt_sub){ .chunk = chunk, .chunk_len = n, .stride = (uint32_t)stride,
			      .nslots = (uint32_t)count, .nfree = (uint32_t)count, .bucket = (uint32_t)b };
	s->base = chunk + NT_BLOCK_HDR + NT_UB_HDR;
	if (!vl_hmap_put(&h->subs, chunk, 0, (uintptr_t)s, 0)) {
		be_free(h, chunk, n);
		goto fail;
	}
	if (!vl_hmap_put(&h->lfh_open[b], chunk, 0, (uintptr_t)s, 0)) {
		vl_hmap_del(&h->subs, chunk, 0);
		be_free(h, chunk, n);
		goto fail;
	}
	h->lfh_nsub[b]++;
	return s;
fail:
	free(s);
	return NULL;
}

/* A slot of bucket b; *user receives the address, the return its sub. */
static struct nt_sub *lfh_alloc(struct nt *h, int b, uint64_t stride, uint64_t *user)
{
	struct vl_hnode *o = vl_hmap_ceil(&h->lfh_open[b], 0, 0);
	struct nt_sub *s = o ? (struct nt_sub *)(uintptr_t)o->v : lfh_new_sub(h, b, stride);
	if (!s)
		return NULL;
	uint32_t i = 0;
	while (s->bits[i / 64] == ~0ull)
		i += 64;
	while (s->bits[i / 64] >> (i % 64) & 1)
		i++;
	s->bits[i / 64] |= 1ull << (i % 64);
	if (--s->nfree == 0)
		vl_hmap_del(&h->lfh_open[b], s->chunk, 0);
	*user = s->base + (uint64_t)i * s->stride + NT_BLOCK_HDR;
	return s;
}

static void lfh_free(struct nt *h, struct nt_sub *s, uint64_t slot_addr)
{
	uint32_t i = (uint32_t)((slot_addr - s->base) / s->stride);
	s->bits[i / 64] &= ~(1ull << (i % 64));
	if (s->nfree++ == 0 && !vl_hmap_put(&h->lfh_open[s->bucket], s->chunk, 0, (uintptr_t)s, 0)) {
		s->bits[i / 64] |= 1ull << (i % 64); /* no memory: the slot stays taken */
		s->nfree--;
		return;
	}
	if (s->nfree == s->nslots) {
		vl_hmap_del(&h->lfh_open[s->bucket], s->chunk, 0);
		vl_hmap_del(&h->subs, s->chunk, 0);
		h->lfh_nsub[s->bucket]--;
		be_free(h, s->chunk, s->chunk_len);
		free(s);
	}
}

/* ---- the ops ---- */

static int nt_create(void **state, const struct vl_heap_os *os)
{
	struct nt *h = calloc(1, sizeof(*h));
	if (!h)
		return -1;
	h->os = *os;
	h->gran = os->granularity ? os->granularity : 0x10000;
	h->free.sized = 1;
	h->next_reserve = NT_SEG_RESERVE;
	if (nt_grow(h, 0) < 0) { /* HeapCreate: the first segment */
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

static void nt_destroy(void *state)
{
	struct nt *h = state;
	while (h->subs.root) {
		struct vl_hnode *n = h->subs.root;
		free((void *)(uintptr_t)n->v);
		vl_hmap_del(&h->subs, n->k1, n->k2);
	}
	for (int b = 0; b < NT_NBUCKETS; b++)
		vl_hmap_clear(&h->lfh_open[b]);
	vl_hmap_clear(&h->live);
	vl_hranges_clear(&h->free);
	vl_hranges_clear(&h->com);
	free(h);
}

static int va_alloc(struct nt *h, uint64_t size, uint64_t *base, uint64_t *clen)
{
	uint64_t len = size + NT_VA_HDR;
	if (h->os.reserve(h->os.ctx, vl_hup(len, h->gran), base) < 0)
		return -1;
	*clen = vl_hup(len, VL_HEAP_PAGE);
	if (h->os.commit(h->os.ctx, *base, *clen) < 0) {
		h->os.release(h->os.ctx, *base);
		return -1;
	}
	return 0;
}

static void drop(struct nt *h, uint64_t addr, uint64_t v, uint64_t w)
{
	switch (KIND(w)) {
	case K_VA:
		h->os.release(h->os.ctx, v);
		break;
	case K_LFH: {
		struct nt_sub *s = (struct nt_sub *)(uintptr_t)v;
		lfh_free(h, s, s->base + (addr - s->base) / s->stride * s->stride);
		break;
	}
	default:
		be_free(h, v, LEN(w));
	}
}

static int nt_alloc(void *state, uint64_t size, uint64_t align, uint64_t *addr)
{
	struct nt *h = state;
	if (size > VL_HEAP_MAX_REQUEST || align > VL_HEAP_MAX_REQUEST)
		return -1;
	uint64_t req = align > 16 ? size + align : size, user, v, w;
	if (req >= NT_VA_THRESHOLD) {
		uint64_t base, clen;
		if (va_alloc(h, req, &base, &clen) < 0)
			return -1;
		user = base + NT_VA_HDR;
		v = base;
		w = PACK(K_VA, clen);
	} else {
		uint64_t bs = block_size(req), bsize = 0;
		int b = req <= NT_LFH_MAX ? nt_bucket(bs, &bsize) : -1;
		if (b >= 0 && h->lfh_count[b] >= NT_LFH_ACTIVATE) {
			struct nt_sub *s = lfh_alloc(h, b, bsize, &user);
			if (!s)
				return -1;
			v = (uintptr_t)s;
			w = PACK(K_LFH, 0);
		} else {
			uint64_t c, n = be_alloc(h, bs, &c);
			if (!n)
				return -1;
			if (b >= 0)
				h->lfh_count[b]++;
			user = c + NT_BLOCK_HDR;
			v = c;
			w = PACK(K_BACK, n);
		}
	}
	if (align > 16)
		user = vl_hup(user, align);
	if (!vl_hmap_put(&h->live, user, 0, v, w)) {
		drop(h, user, v, w); /* out of host memory: undo */
		return -1;
	}
	*addr = user;
	return 0;
}

static void nt_free(void *state, uint64_t addr)
{
	struct nt *h = state;
	struct vl_hnode *n = vl_hmap_get(&h->live, addr, 0);
	if (!n)
		return;
	uint64_t v = n->v, w = n->w;
	vl_hmap_del(&h->live, addr, 0);
	drop(h, addr, v, w);
}

/* In place when possible (docs/heap.md, "## nt"): 1 when done, 0 when the
 * block must move, -1 when the OS refused. */
static int resize(struct nt *h, struct vl_hnode *n, uint64_t addr, uint64_t size)
{
	uint64_t v = n->v, w = n->w;
	switch (KIND(w)) {
	case K_VA: {
		if (size < NT_VA_THRESHOLD)
			return 0;
		uint64_t clen = LEN(w), need = vl_hup(addr + size - v, VL_HEAP_PAGE);
		if (need <= clen)
			return 1;
		if (need > vl_hup(clen, h->gran))
			return 0;
		if (h->os.commit(h->os.ctx, v + clen, need - clen) < 0)
			return -1;
		n->w = PACK(K_VA, need);
		return 1;
	}
	case K_LFH: {
		struct nt_sub *s = (struct nt_sub *)(uintptr_t)v;
		uint64_t bsize, slot = s->base + (addr - s->base) / s->stride * s->stride;
		return size <= NT_LFH_MAX && nt_bucket(block_size(size), &bsize) == (int)s->bucket &&
		       addr + size <= slot + s->stride;
	}
	default: {
		if (size >= NT_VA_THRESHOLD)
			return 0;
		uint64_t c = v, len = LEN(w), need = vl_hup(addr + size, 16) - c;
		if (need < NT_MIN_BLOCK)
			need = NT_MIN_BLOCK;
		if (need <= len) {
			if (len - need >= NT_MIN_BLOCK) {
				n->w = PACK(K_BACK, need);
				be_free(h, c + need, len - need);
			}
			return 1;
		}
		struct vl_hnode *f = vl_hranges_starting(&h->free, c + len);
		if (!f || len + f->v < need)
			return 0;
		uint64_t take = len + f->v - need >= NT_MIN_BLOCK ? need - len : f->v;
		if (vl_hcommit(&h->os, &h->com, vl_hdown(c + len, VL_HEAP_PAGE),
			       vl_hup(c + len + take, VL_HEAP_PAGE)) < 0)
			return -1;
		if (vl_hranges_take(&h->free, c + len, take) < 0)
			return -1;
		h->busy += take;
		n->w = PACK(K_BACK, len + take);
		return 1;
	}
	}
}

static int nt_realloc(void *state, uint64_t addr, uint64_t size, uint64_t *new_addr)
{
	struct nt *h = state;
	struct vl_hnode *n = vl_hmap_get(&h->live, addr, 0);
	if (size > VL_HEAP_MAX_REQUEST)
		return -1;
	if (!n)
		return nt_alloc(h, size, 0, new_addr);
	int r = resize(h, n, addr, size);
	if (r < 0)
		return -1;
	if (r) {
		*new_addr = addr;
		return 0;
	}
	if (nt_alloc(h, size, 0, new_addr) < 0)
		return -1;
	nt_free(h, addr);
	return 0;
}

const struct vl_heap_model_ops vl_heap_nt = {
	.name = "nt",
	.summary = "Windows NT heap: back end with segments, LFH for hot small sizes, "
		   "VirtualAlloc at 0x7F000 bytes",
	.create = nt_create,
	.destroy = nt_destroy,
	.alloc = nt_alloc,
	.free = nt_free,
	.realloc = nt_realloc,
};
