/* sim/section.c - file sections: shared pages, read clustering,
 * fault-around, and the reverse map computed on demand.
 *
 * A section (a mapped file) has one prototype PTE per page (struct
 * vl_section): 0 while the page is only in the file (in a section backed
 * by the page file: never touched, demand-zero; SWPTE_PAGEFILE(slot) once
 * paged out), PTE_P | frame while
 * it is in memory (mapped by any number of processes, or by none), or
 * SWPTE_TRANS | frame while it waits on the standby or modified list.
 * Process PTEs map the frame while valid and otherwise hold a prototype
 * marker resolved through their VAD (reference notes A.9).  The frame's
 * aux counts the valid PTEs mapping it.
 *
 * There is no reverse map: the rare paths that must find every PTE
 * mapping a shared frame (eviction and accessed-bit scans under global
 * replacement) walk the views of its section (shared_visit).
 */
#include <stdlib.h>

#include "sim/internal.h"

/* ---- prototype PTE chunks ---- */

static uint32_t chunk_slot(const struct vl_section *s, uint64_t key)
{
	uint32_t mask = s->chunks_cap - 1;
	uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
	while (s->chunks[i].pte && s->chunks[i].key != key)
		i = (i + 1) & mask;
	return i;
}

uint64_t proto_get(const struct vl_section *s, uint64_t idx)
{
	if (!s->chunks_cap)
		return 0;
	const struct proto_chunk *c = &s->chunks[chunk_slot(s, idx >> PROTO_CHUNK_SHIFT)];
	return c->pte ? c->pte[idx & (PROTO_CHUNK - 1)] : 0;
}

uint64_t *proto_ref(struct vl_section *s, uint64_t idx)
{
	uint64_t key = idx >> PROTO_CHUNK_SHIFT;
	if (s->chunks_cap) {
		struct proto_chunk *c = &s->chunks[chunk_slot(s, key)];
		if (c->pte)
			return &c->pte[idx & (PROTO_CHUNK - 1)];
	}
	if (2 * (s->nchunks + 1) > s->chunks_cap) { /* rehash into twice the room */
		uint32_t ncap = s->chunks_cap ? 2 * s->chunks_cap : 16;
		struct proto_chunk *nc = calloc(ncap, sizeof(*nc));
		if (!nc)
			return NULL;
		struct vl_section old = *s;
		s->chunks = nc;
		s->chunks_cap = ncap;
		for (uint32_t i = 0; i < old.chunks_cap; i++)
			if (old.chunks[i].pte)
				s->chunks[chunk_slot(s, old.chunks[i].key)] = old.chunks[i];
		free(old.chunks);
	}
	uint64_t *pte = calloc(PROTO_CHUNK, sizeof(*pte));
	if (!pte)
		return NULL;
	s->chunks[chunk_slot(s, key)] = (struct proto_chunk){ key, pte };
	s->nchunks++;
	return &pte[idx & (PROTO_CHUNK - 1)];
}

void proto_free(struct vl_section *s)
{
	for (uint32_t i = 0; i < s->chunks_cap; i++)
		free(s->chunks[i].pte);
	free(s->chunks);
	s->chunks = NULL;
	s->nchunks = s->chunks_cap = 0;
}

/* Frame f now holds page idx of section sec, mapped by no PTE yet. */
static void section_frame(struct vl_engine *e, uint32_t f, uint32_t sec, uint64_t idx)
{
	struct vl_pfn *p = &e->db.pfn[f];
	p->flags = PFN_F_PROTO;
	p->owner = sec;
	pfn_set_proto_index(e, f, idx);
	p->aux = 0;
}

/* Frame f holds page idx of section sec, in memory (its prototype PTE,
 * whose chunk exists, says so) and mapped by no PTE yet: the policy holds
 * it from now on, unless it is an extra frame (cached_frame). */
static void section_install(struct vl_engine *e, uint32_t f, uint32_t sec, uint64_t idx,
			    const struct vl_access *a)
{
	section_frame(e, f, sec, idx);
	e->db.pfn[f].loc = PFN_ACTIVE;
	*proto_ref(&e->sections[sec], idx) = PTE_P | PTE_MAKE(f);
	if (f < e->db.nframes) {
		e->resident_shared++;
		count_resident(e, 1);
		e->rsm->cached(e, f, a);
	}
}

/* A frame for page idx of file section s, which the page cache holds
 * (no read now).  Under a memory cgroup's limit (extra frames: memory.limit
 * below memory.frames), a page cached before the run (pagecache.warm =
 * all, or listed in pagecache.resident and not read by the run) is
 * charged to the cgroup whose read brought it into the cache (Linux
 * charges a page-cache folio when it is added to the cache,
 * filemap_add_folio's mem_cgroup_charge; mapping it later charges
 * nothing), so it takes an extra frame: outside the limit, never the
 * policy's, never reclaimed, as the cgroup's own reclaim never sees it.
 * Measured: `vmlab validate --limit 8M --programs`, gcc's cc1 fits in 8 MiB
 * with its text cached (docs/validation.md).  Otherwise, or when the
 * extra frames are used up, a frame of the limit. */
static uint32_t cached_frame(struct vl_engine *e, const struct vl_section *s, uint64_t idx,
			     bool zero, const struct vl_access *a, struct vl_error *err)
{
	if (e->db.nextra && !s->pagefile &&
	    (s->fill == SEC_FILL_CACHED ||
	     (s->fill == SEC_FILL_READ && vl_pagecache_before(e, s->file_id, idx)))) {
		uint32_t f = pfn_alloc_extra(&e->db);
		if (f != VL_NIL)
			return f;
	}
	return vl_frame_get(e, zero, a, err);
}

/* What a PTE mapping shared frame f says besides frame and protection:
 * an extra frame is no policy's (PTE_SW_NOPOLICY). */
static inline uint64_t shared_pte_bits(const struct vl_engine *e, uint32_t f)
{
	return f >= e->db.nframes ? PTE_SW_NOPOLICY : 0;
}

/* Linux's mmap read-around (do_sync_mmap_readahead): a hard fault on page
 * idx reads file.readaround pages from idx - readaround/2 (clamped to the
 * file) into the page cache with the same read; they are cached, not
 * mapped (a later touch is a minor fault, and fault-around maps them).
 * Pages already in memory, or listed as cached, are not read again.
 * Through an executable view (VM_EXEC; Linux 6.16 and later) the window
 * starts at the faulting page instead and ends at the view's end, with no
 * look-ahead mark (ra->async_size = 0): measured here, a 16 MiB file
 * mapped PROT_READ|PROT_EXEC and touched backwards takes 4,096 major
 * faults, mapped PROT_READ 4 (docs/validation.md). */
static void read_around(struct vl_engine *e, uint32_t sec, uint64_t idx, const struct vl_vad *d,
			const struct vl_access *a)
{
	uint64_t half = e->readaround / 2, size = e->readaround, async = e->readaround / 4;
	uint64_t lo = idx > half ? idx - half : 0;
	if (d && prot_exec(d->prot)) {
		uint64_t vend = d->offset_pages + (d->end - d->start);
		lo = idx;
		size = vend > idx && vend - idx < size ? vend - idx : size;
		async = 0;
	}
	uint64_t hi = lo + size;
	/* its mark: the first of the window's last async pages (a quarter of
	 * it), where that is in the file and read now */
	uint64_t mark = async ? lo + size - async : UINT64_MAX;
	bool marked = false;
	if (hi > e->sections[sec].npages)
		hi = e->sections[sec].npages;
	for (uint64_t j = lo; j < hi; j++) {
		struct vl_section *s = &e->sections[sec];
		if (j == idx || proto_get(s, j) != 0 || vl_available(e) <= 16)
			continue;
		bool cached = e->npc_files && vl_pagecache_has(e, s->file_id, j);
		marked |= j == mark && !cached;
		uint64_t *jp = proto_ref(s, j);
		if (!jp)
			return; /* out of memory: read-around is only a read-ahead */
		uint32_t g = cached ? cached_frame(e, s, j, false, a, NULL)
				    : vl_frame_get(e, false, a, NULL);
		if (g == VL_NIL)
			return;
		section_install(e, g, sec, j, a); /* its chunk exists: made above */
		if (!cached)
			e->ctr.file_reads++;
	}
	/* the file's read-ahead state (out of memory: only the mark is lost) */
	vl_pagecache_window(e, e->sections[sec].file_id, lo, size, async, marked, 0, UINT64_MAX);
}

bool vl_section_will_read(struct vl_engine *e, uint32_t sec, uint64_t idx)
{
	const struct vl_section *s = &e->sections[sec];
	return !s->pagefile && s->fill == SEC_FILL_READ && idx < s->npages &&
	       proto_get(s, idx) == 0 && !(e->npc_files && vl_pagecache_has(e, s->file_id, idx));
}

uint32_t vl_section_page(struct vl_engine *e, uint32_t sec, uint64_t idx, const struct vl_vad *d,
			 const struct vl_access *a, int *how, struct vl_error *err)
{
	struct vl_section *s = &e->sections[sec];
	uint64_t *qp = proto_ref(s, idx);
	if (!qp) {
		vl_err(err, VL_ENOMEM, "out of memory for the prototype PTEs of file %llu",
		       (unsigned long long)s->file_id);
		return VL_NIL;
	}
	uint64_t q = *qp;
	if (q & PTE_P) {
		*how = -1;
		return PTE_FRAME(q);
	}
	if (q & SWPTE_TRANS) {
		uint32_t f = PTE_FRAME(q);
		vl_unlist(e, f);
		e->db.pfn[f].loc = PFN_ACTIVE;
		*qp = PTE_P | PTE_MAKE(f);
		e->resident_shared++;
		count_resident(e, 1);
		*how = FAULT_SOFT;
		return f;
	}
	if (s->pagefile || s->fill != SEC_FILL_READ ||
	    (e->npc_files && vl_pagecache_has(e, s->file_id, idx))) {
		/* backed by the page file: demand-zero at its first touch
		 * (modified: it has no copy anywhere), read back from its slot
		 * once paged out (A.6 PROTOTYPE: q demand-zero / q page file);
		 * in the page cache already (pagecache.warm), or anonymous
		 * (zero-filled): a frame and a soft fault, no read */
		bool zero = s->pagefile ? !SWPTE_HAS_SLOT(q) : s->fill == SEC_FILL_ZERO;
		uint32_t f = cached_frame(e, s, idx, zero, a, err);
		if (f == VL_NIL)
			return VL_NIL;
		section_install(e, f, sec, idx, a); /* its chunk exists: found, not made */
		s = &e->sections[sec];
		if (!s->pagefile) {
			*how = FAULT_SOFT;
		} else if (SWPTE_HAS_SLOT(q)) {
			e->db.pfn[f].slot = SWPTE_SLOT(q);
			e->ctr.pagefile_reads++;
			*how = FAULT_HARD;
		} else {
			e->db.pfn[f].flags |= PFN_F_MODIFIED;
			*how = FAULT_DEMAND_ZERO;
		}
		return f;
	}
	/* in the file: read it, plus a cluster of following non-resident pages
	 * that go to standby (file.read_cluster: windows read clustering, A.6),
	 * where the resident-set manager keeps such lists */
	uint32_t f = vl_frame_get(e, false, a, err);
	if (f == VL_NIL)
		return VL_NIL;
	e->ctr.file_reads++;
	section_install(e, f, sec, idx, a); /* the chunk exists: made above */
	for (uint32_t k = 1; k < e->file_cluster && e->rsm->lists; k++) {
		uint64_t j = idx + k;
		if (j >= e->sections[sec].npages || proto_get(&e->sections[sec], j) != 0 ||
		    vl_available(e) <= (uint64_t)e->file_cluster + 16)
			break;
		uint64_t *jp = proto_ref(&e->sections[sec], j);
		if (!jp)
			break; /* out of memory: the cluster is only a read-ahead */
		uint32_t g = vl_frame_get(e, false, a, err);
		if (g == VL_NIL)
			return VL_NIL;
		section_frame(e, g, sec, j);
		*jp = SWPTE_TRANS | PTE_MAKE(g); /* chunks never move */
		vl_to_list(e, g); /* clean: standby */
		e->ctr.file_reads++;
	}
	if (e->readaround > 1 && !e->rsm->lists)
		read_around(e, sec, idx, d, a);
	*how = FAULT_HARD;
	return f;
}

int vl_map_shared(struct vl_engine *e, uint32_t proc, uint32_t li, uint32_t f, uint64_t vpn,
		  unsigned prot, bool write, struct vl_error *err)
{
	struct vl_pfn *p = &e->db.pfn[f];
	struct vl_proc *pr = &e->procs[proc];
	p->aux++;
	pt_set(&e->pt, li, PTE_MAKE(f) | prot_hw(prot) | PTE_A | (write ? PTE_D : 0) |
			    shared_pte_bits(e, f));
	pr->ctr.resident_pages++;
	return e->rsm->mapped(e, proc, vpn, f, NULL, err);
}

void vl_fault_around(struct vl_engine *e, uint32_t proc, const struct vl_vad *d, uint64_t vpn,
		     unsigned prot)
{
	/* Linux's do_fault_around: the window starts at the faulting page
	 * aligned down to fault_around pages in virtual addresses, or at the
	 * VMA's start when that is later, and spans fault_around pages from
	 * that start (so a VMA starting inside an aligned window has its
	 * first fault_around pages mapped together), clamped to the VMA and
	 * to the page table.  Addresses are taken fa_phase pages higher
	 * (file.fault_around_phase: where ASLR would have put the mapping). */
	uint64_t ph = e->fa_phase, al = (vpn + ph) & ~(uint64_t)(e->fault_around - 1);
	uint64_t lo = al >= ph ? al - ph : 0;
	if (lo < d->start)
		lo = d->start;
	uint64_t hi = lo + e->fault_around;
	if (hi > d->end)
		hi = d->end;
	struct vl_section *s = &e->sections[d->section];
	for (uint64_t v = lo; v < hi; v++) {
		if (v == vpn || ((v + ph) >> 9) != ((vpn + ph) >> 9))
			continue; /* stays inside the faulting page table */
		uint64_t idx = d->offset_pages + (v - d->start);
		if (vl_pagecache_marked(e, s->file_id, idx))
			continue; /* a read-ahead mark: its own fault (sim/pagecache.c) */
		uint64_t q = idx < s->npages ? proto_get(s, idx) : 0;
		if (idx < s->npages && q == 0 &&
		    (s->fill == SEC_FILL_CACHED ||
		     (s->fill == SEC_FILL_READ && e->npc_files &&
		      vl_pagecache_has(e, s->file_id, idx)))) {
			/* in the page cache though not yet in our frames: Linux maps
			 * it too (filemap_map_pages maps every cached page of the
			 * window); give it its frame first */
			uint32_t tl = pt_walk(&e->pt, e->procs[proc].root, va_of(v));
			uint64_t t = tl == VL_NIL ? 0 : e->pt.e[tl];
			if (t & PTE_P || (t && !(t & SWPTE_PROTO)))
				continue;
			uint64_t *qp = proto_ref(s, idx);
			if (!qp)
				return;
			struct vl_access a = vl_access_at(e, e->time, v, e->procs[proc].pid, VL_OP_READ);
			uint32_t f = cached_frame(e, s, idx, false, &a, NULL);
			if (f == VL_NIL)
				return;
			section_install(e, f, d->section, idx, &a); /* its chunk exists */
			s = &e->sections[d->section];
			q = PTE_P | PTE_MAKE(f);
		}
		if (!(q & PTE_P))
			continue;
		uint32_t li = pt_walk(&e->pt, e->procs[proc].root, va_of(v));
		if (li == VL_NIL || e->pt.e[li] & PTE_P)
			continue;
		uint64_t old = e->pt.e[li];
		if (old != 0 && !(old & SWPTE_PROTO))
			continue; /* a private copy or an explicit protection */
		unsigned pprot = old ? SWPTE_PROT(old) : prot;
		if (!prot_usable(pprot) || (pprot & VL_PROT_GUARD))
			continue;
		uint32_t f = PTE_FRAME(q);
		if (e->rsm->mapped(e, proc, v, f, NULL, NULL) < 0)
			return;
		e->db.pfn[f].aux++;
		/* A clear: not accessed yet */
		pt_set(&e->pt, li, q | prot_hw(pprot) | shared_pte_bits(e, f));
		e->procs[proc].ctr.resident_pages++;
	}
}

/* ---- the reverse map, on demand ---- */

struct shared_scan {
	struct vl_engine *e;
	uint32_t f;
	bool clear, dirty, referenced, unmap;
};

/* Visit every process PTE that maps shared frame f (through the VADs of
 * views of its section): a reverse map computed on demand, used only on
 * the rare paths (eviction, accessed-bit scans of shared pages). */
static void shared_visit(struct shared_scan *s)
{
	struct vl_engine *e = s->e;
	struct vl_pfn *p = &e->db.pfn[s->f];
	uint64_t idx = pfn_vpn(e, s->f);
	for (uint32_t k = 0, i; proc_next(e, &k, &i);) {
		struct vl_proc *pr = &e->procs[i];
		for (uint32_t v = 0; v < pr->nvads; v++) {
			struct vl_vad *d = &pr->vads[v];
			if (d->kind != VAD_MAPPED || d->section != p->owner || idx < d->offset_pages ||
			    idx - d->offset_pages >= d->end - d->start)
				continue;
			uint64_t vpn = d->start + (idx - d->offset_pages);
			uint32_t li = pt_walk(&e->pt, pr->root, va_of(vpn));
			if (li == VL_NIL)
				continue;
			uint64_t pte = e->pt.e[li];
			if (!(pte & PTE_P) || PTE_FRAME(pte) != s->f)
				continue;
			s->referenced |= (pte & PTE_A) != 0;
			s->dirty |= (pte & PTE_D) != 0;
			if ((s->clear && (pte & PTE_A)) || s->unmap)
				xl_invlpg(e, i, vpn);
			if (s->clear)
				e->pt.e[li] &= ~PTE_A;
			if (s->unmap) {
				pt_set(&e->pt, li, SWPTE_PROTO | SWPTE_MKPROT(VPTE_PROT(pte)));
				pr->ctr.evictions++;
				pr->ctr.resident_pages--;
			}
		}
	}
}

void vl_shared_unmap_all(struct vl_engine *e, uint32_t f, bool *dirty)
{
	struct shared_scan s = { .e = e, .f = f, .unmap = true };
	shared_visit(&s);
	*dirty |= s.dirty;
	e->db.pfn[f].aux = 0;
}

bool vl_shared_referenced(struct vl_engine *e, uint32_t f, bool clear)
{
	struct shared_scan s = { .e = e, .f = f, .clear = clear };
	shared_visit(&s);
	if (s.dirty)
		e->db.pfn[f].flags |= PFN_F_MODIFIED;
	return s.referenced;
}
