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

static int add_range(struct vl_pc_file *f, uint64_t a, uint64_t b)
{
	if (b + 1 > f->npages) {
		uint64_t words = (b + 64) / 64, old = (f->npages + 63) / 64;
		uint64_t *nb = realloc(f->bits, words * sizeof(*nb));
		if (!nb)
			return -1;
		memset(nb + old, 0, (words - old) * sizeof(*nb));
		f->bits = nb;
		f->npages = words * 64;
	}
	for (uint64_t p = a; p <= b; p++)
		f->bits[p / 64] |= 1ull << (p % 64);
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
			if (add_range(f, a, b) < 0) {
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
 *   - nothing happens when every page read is cached already (no cache
 *     miss: Linux's asynchronous read-ahead at a PG_readahead mark is not
 *     modelled);
 *   - a read at the start of the file, or of more than max pages: the
 *     initial window, get_init_ra_size(request pages, max) pages from the
 *     first page read (at least the request);
 *   - elsewhere: when the c pages before the first one read are cached
 *     and c > request pages (a sequential stream's history),
 *     min(c + request, max) pages from it (c doubled when cached from the
 *     file's first page); otherwise the pages read alone.
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
	if (!miss)
		return 0;
	uint64_t n = req;
	if (max > 1) {
		if (first == 0 || req > max) {
			n = init_ra_size(req, max);
		} else {
			uint64_t c = 0;
			while (c < max && c < first && vl_pagecache_has(e, file_id, first - 1 - c))
				c++;
			if (c > req) {
				if (c == first)
					c *= 2;
				n = c + req < max ? c + req : max;
			}
		}
		if (n < req)
			n = req;
	}
	struct vl_pc_file *f = pc_file(e, file_id);
	if (!f || add_range(f, first, first + n - 1) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for the page cache of file %llu",
			      (unsigned long long)file_id);
	return 0;
}

bool vl_pagecache_has(const struct vl_engine *e, uint64_t file_id, uint64_t idx)
{
	for (size_t i = 0; i < e->npc_files; i++)
		if (e->pc_files[i].file_id == file_id)
			return idx < e->pc_files[i].npages &&
			       (e->pc_files[i].bits[idx / 64] >> (idx % 64) & 1);
	return false;
}

void vl_pagecache_free(struct vl_engine *e)
{
	for (size_t i = 0; i < e->npc_files; i++)
		free(e->pc_files[i].bits);
	free(e->pc_files);
	e->pc_files = NULL;
	e->npc_files = 0;
}
