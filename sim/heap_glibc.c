/* sim/heap_glibc.c - glibc malloc, ptmalloc2 as in glibc 2.36 (Debian 12),
 * main arena only, x86-64 (heap.model = glibc).
 *
 * Source: glibc 2.36 malloc/malloc.c (sysmalloc, systrim, _int_free,
 * _int_realloc, mremap_chunk, __libc_free) and mallopt(3) for the defaults;
 * docs/heap.md, "## glibc", has the rules and what is approximated.
 *
 * Chunks: 16-byte header (prev_size, size), so the program's pointer is the
 * chunk + 16; a request of n bytes needs the chunk
 * request2size(n) = max(32, (n + 8 + 15) & ~15) (the next chunk's prev_size
 * field holds the last 8 bytes).  The arena lies on the program break:
 * [base, break) is every chunk, free chunk and the top chunk, in address
 * order; the top chunk ends at the break.  The first call allocates the
 * tcache_perthread_struct (a 0x290 chunk) at the base, as glibc does.
 *
 * Invariants: the free chunks (`free`) never touch each other nor the top
 * (they merge on free); [base, top) is covered by live and free chunks;
 * top + top_size is the break.  Memory on the break is committed by the
 * brk callback itself (no commit calls); mmapped chunks are one
 * reservation each, committed whole.
 */
#include <stdlib.h>

#include "heap_util.h"

#define GL_SIZE_SZ 8u
#define GL_MINSIZE 32u
#define GL_HDR 16u                  /* user pointer = chunk + 2 * SIZE_SZ */
#define GL_TOP_PAD 0x20000u         /* M_TOP_PAD default (mallopt(3)) */
#define GL_MMAP_THRESHOLD 0x20000u  /* DEFAULT_MMAP_THRESHOLD_MIN */
#define GL_TRIM_THRESHOLD 0x20000u  /* DEFAULT_TRIM_THRESHOLD */
#define GL_MMAP_THRESHOLD_MAX 0x2000000u /* 4 MiB * sizeof(long) */
#define GL_CONSOLIDATE 0x10000u     /* FASTBIN_CONSOLIDATION_THRESHOLD */
#define GL_MMAP_MAX 65536u          /* DEFAULT_MMAP_MAX */
#define GL_TCACHE_CHUNK 0x290u      /* sizeof(tcache_perthread_struct) 0x280 + header */
#define GL_IS_MMAPPED 2u

enum { K_ARENA = 1, K_MMAP = 2 };
#define KIND(w) ((unsigned)((w) >> 56))
#define LEN(w) ((w) & ((1ull << 56) - 1))
#define PACK(k, len) ((uint64_t)(k) << 56 | (len))

struct gl {
	struct vl_heap_os os;
	struct vl_hmap live;    /* user address -> v: chunk, w: PACK(kind, chunk length) */
	struct vl_hranges free; /* free chunks of the arena (not the top), sized */
	uint64_t base, top, top_size; /* break = top + top_size */
	int started;
	uint64_t mmap_threshold, trim_threshold, n_mmaps;
};

static uint64_t request2size(uint64_t n)
{
	uint64_t nb = (n + GL_SIZE_SZ + 15) & ~15ull;
	return nb < GL_MINSIZE ? GL_MINSIZE : nb;
}

/* sysmalloc's brk path: grow the top so that it holds nb + MINSIZE. */
static int grow_top(struct gl *g, uint64_t nb)
{
	uint64_t size = vl_hup(nb + GL_TOP_PAD + GL_MINSIZE - g->top_size, VL_HEAP_PAGE), base;
	uint64_t brk = g->top + g->top_size + size;
	if (g->os.brk(g->os.ctx, g->started ? brk - g->base : size, &base) < 0)
		return -1;
	if (!g->started) {
		g->base = g->top = base;
		g->started = 1;
	}
	g->top_size += size;
	return 0;
}

/* An arena chunk of at least nb bytes from the free chunks (best fit) or
 * the top, growing the break; *c receives it, the return its length (0:
 * refused).  No mmap here. */
static uint64_t arena_alloc(struct gl *g, uint64_t nb, uint64_t *c)
{
	struct vl_hnode *f = vl_hranges_best(&g->free, nb);
	if (f) {
		uint64_t a = f->k2, take = f->k1 - nb >= GL_MINSIZE ? nb : f->k1;
		if (vl_hranges_take(&g->free, a, take) < 0)
			return 0;
		*c = a;
		return take;
	}
	if (g->top_size < nb + GL_MINSIZE && grow_top(g, nb) < 0)
		return 0;
	*c = g->top;
	g->top += nb;
	g->top_size -= nb;
	return nb;
}

static void systrim(struct gl *g)
{
	uint64_t top_area = g->top_size - GL_MINSIZE - 1, base;
	if (g->top_size < GL_MINSIZE + 1 || top_area <= GL_TOP_PAD)
		return;
	uint64_t extra = vl_hdown(top_area - GL_TOP_PAD, VL_HEAP_PAGE);
	if (!extra)
		return;
	if (g->os.brk(g->os.ctx, g->top + g->top_size - extra - g->base, &base) == 0)
		g->top_size -= extra;
}

/* _int_free of an arena chunk: coalesce backward and forward, into the top
 * when it borders it; trim the top when the merged size reaches
 * FASTBIN_CONSOLIDATION_THRESHOLD and the top the trim threshold. */
static void arena_free(struct gl *g, uint64_t c, uint64_t n)
{
	uint64_t size;
	struct vl_hnode *p = c ? vl_hmap_floor(&g->free.by_addr, c - 1, 0) : NULL;
	if (c + n == g->top) {
		if (p && p->k1 + p->v == c) {
			uint64_t pa = p->k1, pl = p->v;
			vl_hranges_take(&g->free, pa, pl);
			c = pa;
			n += pl;
		}
		g->top = c;
		g->top_size += n;
		size = g->top_size;
	} else {
		uint64_t ma, ml;
		if (vl_hranges_add(&g->free, c, n, &ma, &ml) < 0)
			return; /* out of host memory: the chunk is lost */
		size = ml;
	}
	if (size >= GL_CONSOLIDATE && g->top_size >= g->trim_threshold)
		systrim(g);
}

static int mmap_chunk(struct gl *g, uint64_t nb, uint64_t *c, uint64_t *len)
{
	*len = vl_hup(nb + GL_SIZE_SZ, VL_HEAP_PAGE);
	if (g->os.reserve(g->os.ctx, *len, c) < 0)
		return -1;
	if (g->os.commit(g->os.ctx, *c, *len) < 0) {
		g->os.release(g->os.ctx, *c);
		return -1;
	}
	g->n_mmaps++;
	return 0;
}

/* _int_malloc then sysmalloc: free chunks, the top, then mmap when nb
 * reaches the threshold, else the break.  *c, *w receive the chunk. */
static int int_malloc(struct gl *g, uint64_t nb, uint64_t *c, uint64_t *w)
{
	struct vl_hnode *f = vl_hranges_best(&g->free, nb);
	if (!f && g->top_size < nb + GL_MINSIZE && nb >= g->mmap_threshold &&
	    g->n_mmaps < GL_MMAP_MAX) {
		uint64_t len;
		if (mmap_chunk(g, nb, c, &len) == 0) {
			*w = PACK(K_MMAP, len);
			return 0;
		}
	}
	uint64_t n = arena_alloc(g, nb, c);
	if (!n)
		return -1;
	*w = PACK(K_ARENA, n);
	return 0;
}

static void release_chunk(struct gl *g, uint64_t c, uint64_t w)
{
	if (KIND(w) == K_MMAP) {
		/* __libc_free: the dynamic threshold (chunksize_nomask carries
		 * IS_MMAPPED, hence the | 2) */
		uint64_t len = LEN(w);
		if ((len | GL_IS_MMAPPED) > g->mmap_threshold && (len | GL_IS_MMAPPED) <= GL_MMAP_THRESHOLD_MAX) {
			g->mmap_threshold = len;
			g->trim_threshold = 2 * len;
		}
		g->os.release(g->os.ctx, c);
		g->n_mmaps--;
	} else {
		arena_free(g, c, LEN(w));
	}
}

static int gl_create(void **state, const struct vl_heap_os *os)
{
	if (!os->brk)
		return -1; /* the main arena lives on the break: linux only */
	struct gl *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	g->os = *os;
	g->free.sized = 1;
	g->mmap_threshold = GL_MMAP_THRESHOLD;
	g->trim_threshold = GL_TRIM_THRESHOLD;
	*state = g;
	return 0;
}

static void gl_destroy(void *state)
{
	struct gl *g = state;
	vl_hmap_clear(&g->live);
	vl_hranges_clear(&g->free);
	free(g);
}

/* MAYBE_INIT_TCACHE: the first call takes the tcache's chunk. */
static int init(struct gl *g)
{
	uint64_t c;
	if (g->started)
		return 0;
	return arena_alloc(g, GL_TCACHE_CHUNK, &c) ? 0 : -1;
}

static int gl_alloc(void *state, uint64_t size, uint64_t align, uint64_t *addr)
{
	struct gl *g = state;
	if (size > VL_HEAP_MAX_REQUEST || align > VL_HEAP_MAX_REQUEST || init(g) < 0)
		return -1;
	/* _int_memalign asks for nb + alignment + MINSIZE and returns an
	 * aligned spot inside (the leading and trailing pieces stay with the
	 * chunk here) */
	uint64_t nb = request2size(size), c, w;
	if (align > 16)
		nb += align + GL_MINSIZE;
	if (int_malloc(g, nb, &c, &w) < 0)
		return -1;
	uint64_t user = c + GL_HDR;
	if (align > 16)
		user = vl_hup(user, align);
	if (!vl_hmap_put(&g->live, user, 0, c, w)) {
		release_chunk(g, c, w);
		return -1;
	}
	*addr = user;
	return 0;
}

static void gl_free(void *state, uint64_t addr)
{
	struct gl *g = state;
	struct vl_hnode *n = vl_hmap_get(&g->live, addr, 0);
	if (!n)
		return;
	uint64_t c = n->v, w = n->w;
	vl_hmap_del(&g->live, addr, 0);
	release_chunk(g, c, w);
}

/* _int_realloc and mremap_chunk, in place: 1 done, 0 must move, -1 refused. */
static int resize(struct gl *g, struct vl_hnode *n, uint64_t addr, uint64_t size)
{
	uint64_t c = n->v, len = LEN(n->w);
	uint64_t nb = request2size(addr + size - (c + GL_HDR)); /* aligned blocks: from the chunk */
	if (KIND(n->w) == K_MMAP) {
		uint64_t new_len = vl_hup(nb + GL_SIZE_SZ, VL_HEAP_PAGE);
		if (new_len == len)
			return 1;
		if (new_len > len)
			return 0; /* mremap may move: modelled as always moving */
		/* mremap shrinking: the tail pages go (decommitted here, the
		 * reservation keeps its length until munmap) */
		if (g->os.decommit(g->os.ctx, c + new_len, len - new_len) < 0)
			return -1;
		n->w = PACK(K_MMAP, new_len);
		return 1;
	}
	if (len >= nb) {
		if (len - nb >= GL_MINSIZE) {
			n->w = PACK(K_ARENA, nb);
			arena_free(g, c + nb, len - nb);
		}
		return 1;
	}
	uint64_t next = c + len;
	if (next == g->top && len + g->top_size >= nb + GL_MINSIZE) {
		g->top += nb - len;
		g->top_size -= nb - len;
		n->w = PACK(K_ARENA, nb);
		return 1;
	}
	struct vl_hnode *f = vl_hranges_starting(&g->free, next);
	if (f && len + f->v >= nb) {
		uint64_t take = len + f->v - nb >= GL_MINSIZE ? nb - len : f->v;
		if (vl_hranges_take(&g->free, next, take) < 0)
			return -1;
		n->w = PACK(K_ARENA, len + take);
		return 1;
	}
	return 0;
}

static int gl_realloc(void *state, uint64_t addr, uint64_t size, uint64_t *new_addr)
{
	struct gl *g = state;
	struct vl_hnode *n = vl_hmap_get(&g->live, addr, 0);
	if (size > VL_HEAP_MAX_REQUEST)
		return -1;
	if (!n)
		return gl_alloc(g, size, 0, new_addr);
	int r = resize(g, n, addr, size);
	if (r < 0)
		return -1;
	if (r) {
		*new_addr = addr;
		return 0;
	}
	uint64_t c = n->v, len = LEN(n->w), nb = request2size(size), nc, nw;
	if (KIND(n->w) == K_MMAP) {
		/* mremap moving: a new mapping, the old one unmapped (the
		 * threshold is not adjusted: that is free's doing) */
		uint64_t nl;
		if (mmap_chunk(g, nb, &nc, &nl) < 0)
			return -1;
		nw = PACK(K_MMAP, nl);
	} else {
		/* malloc, and when glibc's malloc returns the chunk right after
		 * this one (the top it just grew), the two merge in place */
		if (int_malloc(g, nb, &nc, &nw) < 0)
			return -1;
		if (KIND(nw) == K_ARENA && nc == c + len) {
			uint64_t total = len + LEN(nw), need = request2size(addr + size - (c + GL_HDR));
			n->w = PACK(K_ARENA, total);
			if (total - need >= GL_MINSIZE) {
				n->w = PACK(K_ARENA, need);
				arena_free(g, c + need, total - need);
			}
			*new_addr = addr;
			return 0;
		}
	}
	uint64_t user = nc + GL_HDR, ow = n->w;
	if (!vl_hmap_put(&g->live, user, 0, nc, nw)) {
		release_chunk(g, nc, nw);
		return -1;
	}
	vl_hmap_del(&g->live, addr, 0);
	if (KIND(ow) == K_MMAP) { /* the old mapping goes without free's threshold update */
		g->os.release(g->os.ctx, c);
		g->n_mmaps--;
	} else {
		release_chunk(g, c, ow);
	}
	*new_addr = user;
	return 0;
}

const struct vl_heap_model_ops vl_heap_glibc = {
	.name = "glibc",
	.summary = "glibc 2.36 malloc: main arena on brk, mmap threshold 128 KiB (dynamic), "
		   "trim threshold, top chunk",
	.create = gl_create,
	.destroy = gl_destroy,
	.alloc = gl_alloc,
	.free = gl_free,
	.realloc = gl_realloc,
};
