/* sim/pagecache.c - which pages of which files the page cache holds when a
 * replay starts, page by page (pagecache.resident), for replays of
 * programs measured after their files were dropped (pagecache.warm =
 * none): pages that other processes of the machine kept mapped stay in
 * Linux's page cache, and a first touch of one is a minor fault.
 *
 * File format, one file a line ('#' comments, blank lines allowed):
 *     FILEID PAGES
 * FILEID is the trace's file id (decimal, as in the .vmt file table);
 * PAGES a comma list of page indexes and ranges FIRST-LAST (inclusive),
 * or "-" for none.  `vmlab validate` writes one from mincore(2).
 *
 * V FREAD events (a captured read()/pread64() of a regular file) add the
 * pages they read, and Linux's read-ahead around them, to the same set
 * under the linux personality: vl_pagecache_fread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/internal.h"

/* A bitmap of *n bits at *bits grown to hold bit b. */
static int grow(uint64_t **bits, uint64_t *n, uint64_t b)
{
	if (b + 1 > *n) {
		uint64_t words = (b + 64) / 64, old = (*n + 63) / 64;
		uint64_t *nb = realloc(*bits, words * sizeof(*nb));
		if (!nb)
			return -1;
		memset(nb + old, 0, (words - old) * sizeof(*nb));
		*bits = nb;
		*n = words * 64;
	}
	return 0;
}

static bool bit(const uint64_t *bits, uint64_t n, uint64_t i)
{
	return i < n && (bits[i / 64] >> (i % 64) & 1);
}

/* Pages a..b cached: at the start (run false: charged to whoever read
 * them, sim/section.c's cached_frame), or read by the run (true). */
static int add_range(struct vl_pc_file *f, uint64_t a, uint64_t b, bool run)
{
	if (grow(&f->bits, &f->npages, b) < 0 || (run && grow(&f->read, &f->nread, b) < 0))
		return -1;
	for (uint64_t p = a; p <= b; p++) {
		if (run && !bit(f->bits, f->npages, p))
			f->read[p / 64] |= 1ull << (p % 64);
		f->bits[p / 64] |= 1ull << (p % 64);
	}
	return 0;
}

int vl_pagecache_load(struct vl_engine *e, const char *path, struct vl_error *err)
{
	FILE *in = fopen(path, "r");
	if (!in)
		return vl_err(err, VL_ENOENT, "pagecache.resident: %s: %s", path, strerror(errno));
	char line[1 << 16];
	unsigned long ln = 0;
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), in)) {
		ln++;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || !*p)
			continue;
		char *end;
		errno = 0;
		unsigned long long id = strtoull(p, &end, 10);
		if (end == p || errno || (*end != ' ' && *end != '\t')) {
			rc = vl_err(err, VL_EFORMAT, "%s line %lu: expected FILEID PAGES", path, ln);
			break;
		}
		struct vl_pc_file *nf = realloc(e->pc_files, (e->npc_files + 1) * sizeof(*nf));
		if (!nf) {
			rc = vl_err(err, VL_ENOMEM, "out of memory");
			break;
		}
		e->pc_files = nf;
		struct vl_pc_file *f = &e->pc_files[e->npc_files++];
		*f = (struct vl_pc_file){ .file_id = id };
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '-' && (p[1] == '\n' || !p[1]))
			continue;
		for (;;) {
			unsigned long long a, b;
			errno = 0;
			a = strtoull(p, &end, 10);
			if (end == p || errno) {
				rc = vl_err(err, VL_EFORMAT,
					    "%s line %lu: expected a page index or FIRST-LAST", path, ln);
				break;
			}
			b = a;
			p = end;
			if (*p == '-') {
				b = strtoull(p + 1, &end, 10);
				if (end == p + 1 || b < a || b - a > (1ull << 32)) {
					rc = vl_err(err, VL_EFORMAT,
						    "%s line %lu: expected FIRST-LAST with LAST >= FIRST",
						    path, ln);
					break;
				}
				p = end;
			}
			if (add_range(f, a, b, false) < 0) {
				rc = vl_err(err, VL_ENOMEM, "out of memory");
				break;
			}
			if (*p != ',')
				break;
			p++;
		}
		if (!rc && *p != '\n' && *p != '\0' && *p != '\r')
			rc = vl_err(err, VL_EFORMAT, "%s line %lu: unexpected '%c' after the pages",
				    path, ln, *p);
	}
	fclose(in);
	return rc;
}

static struct vl_pc_file *pc_file(struct vl_engine *e, uint64_t file_id)
{
	for (size_t i = 0; i < e->npc_files; i++)
		if (e->pc_files[i].file_id == file_id)
			return &e->pc_files[i];
	struct vl_pc_file *nf = realloc(e->pc_files, (e->npc_files + 1) * sizeof(*nf));
	if (!nf)
		return NULL;
	e->pc_files = nf;
	nf[e->npc_files] = (struct vl_pc_file){ .file_id = file_id };
	return &nf[e->npc_files++];
}

static struct vl_pc_file *pc_find(const struct vl_engine *e, uint64_t file_id)
{
	for (size_t i = 0; i < e->npc_files; i++)
		if (e->pc_files[i].file_id == file_id)
			return &e->pc_files[i];
	return NULL;
}

bool vl_pagecache_has(const struct vl_engine *e, uint64_t file_id, uint64_t idx)
{
	const struct vl_pc_file *f = pc_find(e, file_id);
	return f && bit(f->bits, f->npages, idx);
}

bool vl_pagecache_before(const struct vl_engine *e, uint64_t file_id, uint64_t idx)
{
	const struct vl_pc_file *f = pc_find(e, file_id);
	return f && bit(f->bits, f->npages, idx) && !bit(f->read, f->nread, idx);
}

/* ---- read-ahead marks (PG_readahead) ----
 *
 * Linux marks one page of each read-ahead window it reads (the first of
 * the window's last async_size pages: page_cache_ra_order's `mark`, set
 * only on a page the read brought in).  filemap_map_pages skips a marked
 * page, so fault-around leaves it unmapped and the first touch of it is
 * a fault of its own (minor: it is cached); that fault, or a read() that
 * reaches it, clears the mark and reads the next window ahead
 * (page_cache_async_ra, mm/readahead.c).  Measured on this host: `ls
 * -lR` with ASLR off, cold, takes the warm run's faults plus its major
 * faults plus one minor fault on page 1 of ls and of libselinux, the
 * marks of the 4-page windows exec's and ld.so's reads of their ELF
 * headers left.  An asynchronous window is read in larger folios (4 times
 * the hit folio's pages) and its mark is the whole folio at its start, so
 * a touch of any page of that folio is the hit (gcc's cc1: page 2051 hits
 * the folio 2048..2051; docs/validation.md, "Read-ahead marks"). */

/* get_next_ra_size: the window after one of cur pages, at most max */
static uint64_t next_ra_size(uint64_t cur, uint64_t max)
{
	if (cur < max / 16)
		return 4 * cur;
	if (cur <= max / 2)
		return 2 * cur;
	return max;
}

static const struct vl_section *file_section(const struct vl_engine *e, uint64_t file_id)
{
	for (uint32_t i = 0; i < e->nsections; i++)
		if (e->sections[i].file_id == file_id && !e->sections[i].pagefile)
			return &e->sections[i];
	return NULL;
}

/* In memory: in the page-cache set, or a frame of the file's section. */
static bool in_cache(const struct vl_pc_file *f, const struct vl_section *s, uint64_t idx)
{
	return (f && bit(f->bits, f->npages, idx)) || (s && idx < s->npages && proto_get(s, idx) != 0);
}

bool vl_pagecache_marked(const struct vl_engine *e, uint64_t file_id, uint64_t idx)
{
	const struct vl_pc_file *f = e->npc_marks ? pc_find(e, file_id) : NULL;
	return f && bit(f->mark, f->nmark, idx);
}

/* A read-ahead of the window [start, start + size) with async pages of
 * look-ahead became file_id's read-ahead state; marked: the window's mark
 * page, start + size - async, was read by it (not cached before).  Linux
 * marks a folio: the window's folios have 2^order pages (the mark's folio
 * no larger than the mark's alignment allows, nor past end, the file's
 * last page + 1 where known), so every page of that folio is marked.
 * Returns 0 or -1 (out of memory: the mark is only lost). */
int vl_pagecache_window(struct vl_engine *e, uint64_t file_id, uint64_t start, uint64_t size,
			uint64_t async, bool marked, unsigned order, uint64_t end)
{
	struct vl_pc_file *f = pc_file(e, file_id);
	if (!f)
		return -1;
	f->ra_start = start;
	f->ra_size = size;
	f->ra_async = async;
	uint64_t m = start + size - async;
	if (!marked || bit(f->mark, f->nmark, m))
		return 0;
	while (order && ((m & ((1ull << order) - 1)) || m + (1ull << order) > end))
		order--;
	if (grow(&f->mark, &f->nmark, m + (1ull << order) - 1) < 0)
		return -1;
	for (uint64_t p = m; p < m + (1ull << order); p++) {
		if (!bit(f->mark, f->nmark, p))
			e->npc_marks++;
		f->mark[p / 64] |= 1ull << (p % 64);
	}
	return 0;
}

/* A fault on page idx, or a read() of req pages from page idx, of file_id
 * where a read-ahead marked idx's folio: the mark goes and the next window
 * is read into the page cache (page_cache_async_ra): after the last window
 * when the folio holds that window's mark (its index rounded down to the
 * folio), else from the first page after idx not in memory (within
 * file.readaround pages of it) for next_ra_size(pages to it + req) pages;
 * its folios 4 times the hit one's (order + 2; at most 2^9 pages, nor
 * more than the window).  Pages beyond the file's section are not read;
 * count: the pages read are file_reads (a fault's read-ahead, as
 * read_around counts them; a read()'s are the program's, as in
 * vl_pagecache_fread). */
int vl_pagecache_mark_hit(struct vl_engine *e, uint64_t file_id, uint64_t idx, uint64_t req,
			  bool count, struct vl_error *err)
{
	struct vl_pc_file *f = pc_find(e, file_id);
	if (!f || !bit(f->mark, f->nmark, idx))
		return 0;
	/* the marked folio: the run of marked pages around idx */
	uint64_t flo = idx, fhi = idx + 1;
	while (flo > 0 && bit(f->mark, f->nmark, flo - 1))
		flo--;
	while (bit(f->mark, f->nmark, fhi))
		fhi++;
	for (uint64_t p = flo; p < fhi; p++)
		f->mark[p / 64] &= ~(1ull << (p % 64));
	e->npc_marks -= fhi - flo;
	unsigned order = 0;
	while ((2ull << order) <= fhi - flo)
		order++;
	uint64_t max = e->readaround, start, size;
	if (max <= 1)
		return 0;
	const struct vl_section *s = file_section(e, file_id);
	uint64_t expected = (f->ra_start + f->ra_size - f->ra_async) & ~((1ull << order) - 1);
	if (f->ra_size && idx == expected) {
		start = f->ra_start + f->ra_size;
		size = next_ra_size(f->ra_size, max);
	} else {
		/* page_cache_next_miss(idx + 1, max) */
		start = idx + 1;
		while (start - idx <= max && in_cache(f, s, start))
			start++;
		if (start - idx > max)
			return 0;
		size = next_ra_size(start - idx + req, max);
	}
	order += 2;
	while (order > 9 || (1ull << order) > size)
		order--;
	uint64_t hi = start + size, end = s ? s->npages : UINT64_MAX;
	if (hi > end)
		hi = end;
	bool marked = false;
	for (uint64_t p = start; p < hi; p++) {
		if (in_cache(f, s, p))
			continue;
		if (add_range(f, p, p, true) < 0)
			return vl_err(err, VL_ENOMEM, "out of memory for the page cache of file %llu",
				      (unsigned long long)file_id);
		if (count)
			e->ctr.file_reads++;
		marked |= p == start;
	}
	if (vl_pagecache_window(e, file_id, start, size, size, marked, order, end) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for the page cache of file %llu",
			      (unsigned long long)file_id);
	return 0;
}

/* Linux's get_init_ra_size (mm/readahead.c): the first read-ahead window
 * of a request of size pages, at most max pages. */
static uint64_t init_ra_size(uint64_t size, uint64_t max)
{
	uint64_t n = 1;
	while (n < size)
		n <<= 1; /* roundup_pow_of_two */
	if (n <= max / 32)
		return n * 4;
	if (n <= max / 4)
		return n * 2;
	return max;
}

/* A read() of [offset, offset + len) of file_id brought its pages into the
 * page cache, with Linux's synchronous read-ahead (page_cache_sync_ra,
 * mm/readahead.c, kernel 6.x) sized from max = file.readaround pages (the
 * device's read_ahead_kb / 4; 0 or 1: the pages read alone).  No per-file
 * read-ahead state is kept (the trace does not say which open file a read
 * used), so:
 *   - no read when every page read is cached already (no cache miss),
 *     only the asynchronous read-ahead of any mark the read reaches;
 *   - a read at the start of the file, or of more than max pages: the
 *     initial window, get_init_ra_size(request pages, max) pages from the
 *     first page read (at least the request);
 *   - elsewhere: when the c pages before the first one read are cached
 *     and c > request pages (a sequential stream's history),
 *     min(c + request, max) pages from it (c doubled when cached from the
 *     file's first page); otherwise the pages read alone.
 * The window's mark and the file's read-ahead state are set as Linux sets
 * them (initial window: async = the pages beyond the request; a stream's:
 * async = 1; a lone small read sets neither), then each mark in the pages
 * read is hit (vl_pagecache_mark_hit).
 * Not counted as faults nor as file reads (the read is the program's). */
int vl_pagecache_fread(struct vl_engine *e, uint64_t file_id, uint64_t offset, uint64_t len,
		       struct vl_error *err)
{
	if (!len)
		return 0;
	/* Linux reads at most 0x7ffff000 bytes at once (MAX_RW_COUNT); the
	 * cached pages are a dense bitmap, so files beyond 1 TiB are refused */
	if (len > 0x7ffff000u || offset >= (1ull << 40))
		return vl_err(err, VL_EINVAL,
			      "V FREAD of file %llu: expected a length of at most 0x7ffff000 bytes "
			      "at an offset below 1 TiB, found 0x%llx bytes at 0x%llx",
			      (unsigned long long)file_id, (unsigned long long)len,
			      (unsigned long long)offset);
	uint64_t first = offset >> VL_PAGE_SHIFT, last = (offset + len - 1) >> VL_PAGE_SHIFT;
	uint64_t req = last - first + 1, max = e->readaround > 1 ? e->readaround : 1;
	bool miss = false;
	for (uint64_t p = first; p <= last && !miss; p++)
		miss = !vl_pagecache_has(e, file_id, p);
	if (miss) {
		/* n pages read; a window of size pages with async of them
		 * look-ahead (0: a small random read, no window) */
		uint64_t n = req, size = 0, async = 0;
		if (max > 1) {
			if (first == 0 || req > max) {
				n = size = init_ra_size(req, max);
				async = size > req ? size - req : size;
			} else {
				uint64_t c = 0;
				while (c < max && c < first && vl_pagecache_has(e, file_id, first - 1 - c))
					c++;
				if (c > req) {
					if (c == first)
						c *= 2;
					n = size = c + req < max ? c + req : max;
					async = 1;
				}
			}
			if (n < req)
				n = req;
		}
		struct vl_pc_file *f = pc_file(e, file_id);
		bool fresh = f && async && !in_cache(f, file_section(e, file_id), first + size - async);
		if (!f || add_range(f, first, first + n - 1, true) < 0 ||
		    (async && vl_pagecache_window(e, file_id, first, size, async, fresh, 0, UINT64_MAX) < 0))
			return vl_err(err, VL_ENOMEM, "out of memory for the page cache of file %llu",
				      (unsigned long long)file_id);
	}
	/* the marks the read reaches: each starts its read-ahead */
	for (uint64_t p = first; e->npc_marks && p <= last; p++)
		VL_TRY(vl_pagecache_mark_hit(e, file_id, p, last - p + 1, false, err));
	return 0;
}

void vl_pagecache_free(struct vl_engine *e)
{
	for (size_t i = 0; i < e->npc_files; i++) {
		free(e->pc_files[i].bits);
		free(e->pc_files[i].read);
		free(e->pc_files[i].mark);
	}
	free(e->pc_files);
	e->pc_files = NULL;
	e->npc_files = 0;
	e->npc_marks = 0;
}
