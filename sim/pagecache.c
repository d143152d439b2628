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
