/* bench/vmt_recompress.c - recompress (and upgrade) the chunks of a .vmt file.
 *
 *   usage: vmt_recompress IN.vmt OUT.vmt LEVEL [MINMATCH]
 *
 * Copies the header (metadata and all) byte for byte and compresses every
 * chunk's payload again at zstd level LEVEL with literals stored as they
 * are (what traces/vmt_write.c does), then writes the index with the new
 * offsets.  A version 1.0 file is first re-encoded as version 1.1 (its
 * records, events and process starts, in order, through the library's
 * writer; the header gets minor version 1 and flag 0x1, its CRC again).
 * The records and the metadata are the same; the payloads and zstd frames
 * differ.  MINMATCH (3 to 7) sets zstd's shortest match: longer ones make
 * fewer, cheaper sequences to decode (docs/benchmarks.md).  Used to
 * re-encode traces/samples (docs/benchmarks.md): `vmlab
 * convert` would write a new header (tool, date) and drop the process
 * names.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_literalCompressionMode */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "traces/internal.h"
#include "traces/vmt.h"

static int fail(const char *what, long at)
{
	fprintf(stderr, "vmt_recompress: %s at byte %ld\n", what, at);
	return 1;
}

static uint8_t *slurp(const char *path, long *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = ftell(f);
	rewind(f);
	uint8_t *in = malloc((size_t)*n + 1);
	if (in && fread(in, 1, (size_t)*n, f) != (size_t)*n) {
		free(in);
		in = NULL;
	}
	fclose(f);
	return in;
}

static int varint_at(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned sh = 0; sh < 64 && *p < end; sh += 7) {
		uint8_t c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << sh;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

/* The records of a version 1.0 file (from byte hdr of in) written again by
 * the library's writer (version 1.1) to tmp at the given level. */
static int upgrade(const uint8_t *in, long n, size_t hdr, const char *tmp, int level)
{
	static const uint8_t size_of_code[16] = { 0, 1, 2, 4, 8, 16, 32, 64, 128 };
	struct vl_error err = { 0 };
	uint32_t maxrecs = 1;
	for (size_t off = hdr; off + CHUNK_HDR <= (size_t)n && !memcmp(in + off, "VMTC", 4);
	     off += CHUNK_HDR + get32(in + off + 16))
		if (get32(in + off + 8) > maxrecs)
			maxrecs = get32(in + off + 8);
	struct vl_vmt_writer *w;
	struct vl_batch b;
	if (vl_vmt_writer_open(&w, tmp, NULL, maxrecs, &err) < 0 ||
	    vl_vmt_writer_level(w, level, &err) < 0 || vl_batch_init(&b, 4096, &err) < 0) {
		fprintf(stderr, "vmt_recompress: %s\n", err.msg);
		return 1;
	}
	ZSTD_DCtx *d = ZSTD_createDCtx();
	for (size_t off = hdr; off + CHUNK_HDR <= (size_t)n && !memcmp(in + off, "VMTC", 4);
	     off += CHUNK_HDR + get32(in + off + 16)) {
		uint32_t raw = get32(in + off + 12), comp = get32(in + off + 16);
		uint8_t *p = malloc(raw);
		if (!p || ZSTD_decompressDCtx(d, p, raw, in + off + CHUNK_HDR, comp) != raw)
			return fail("corrupt chunk", (long)off);
		const uint8_t *s[NSECT], *e[NSECT], *q = p + NSECT * 4;
		for (int i = 0; i < NSECT; i++) {
			s[i] = q;
			q += get32(p + 4 * i);
			e[i] = q;
		}
		uint64_t prev[2] = { 0, 0 }, v;
		uint32_t pid = 1;
		for (const uint8_t *op = s[S_OPS]; op < e[S_OPS]; op++) {
			unsigned kind = *op & 7u, code = *op >> 4;
			if (*op & F_PID) {
				if (varint_at(&s[S_PID], e[S_PID], &v) < 0)
					return fail("bad pid", (long)off);
				pid = (uint32_t)v;
			}
			uint8_t size = code == SIZE_EXPLICIT ? *s[S_SIZE]++ : size_of_code[code];
			if (b.n == b.cap || b.n_events == b.ev_cap || kind == K_PROC) {
				if (vl_vmt_write(w, &b, &err) < 0) {
					fprintf(stderr, "vmt_recompress: %s\n", err.msg);
					return 1;
				}
				vl_batch_reset(&b);
			}
			if (kind <= K_MODIFY) {
				int st = kind == K_IFETCH ? S_IADDR : S_DADDR;
				if (varint_at(&s[st], e[st], &v) < 0)
					return fail("bad address", (long)off);
				prev[st == S_IADDR] += (uint64_t)vl_unzigzag(v);
				b.recs[b.n++] = (struct vl_rec){ .addr = prev[st == S_IADDR], .pid = pid,
								 .op = (uint8_t)kind, .size = size };
			} else if (kind == K_EVENT) {
				uint64_t f[6];
				for (int j = 0; j < 6; j++)
					if (varint_at(&s[S_EVENT], e[S_EVENT], &f[j]) < 0)
						return fail("bad event", (long)off);
				b.events[b.n_events] = (struct vl_event){
					.kind = (uint32_t)f[0], .prot = (uint32_t)f[1], .addr = f[2],
					.len = f[3], .file_id = f[4], .offset = f[5] };
				b.recs[b.n++] = (struct vl_rec){ .addr = b.n_events++, .pid = pid,
								 .op = VL_OP_EVENT };
			} else if (kind == K_PROC) {
				char name[4100];
				if (varint_at(&s[S_EVENT], e[S_EVENT], &v) < 0 || v > 4096)
					return fail("bad process start", (long)off);
				memcpy(name, s[S_EVENT], v);
				name[v] = '\0';
				s[S_EVENT] += v;
				if (vl_vmt_write_proc(w, pid, name, &err) < 0) {
					fprintf(stderr, "vmt_recompress: %s\n", err.msg);
					return 1;
				}
			} else {
				return fail("unknown record kind", (long)off);
			}
		}
		free(p);
	}
	if (vl_vmt_write(w, &b, &err) < 0 || vl_vmt_writer_close(w, &err) < 0) {
		fprintf(stderr, "vmt_recompress: %s\n", err.msg);
		return 1;
	}
	vl_batch_free(&b);
	ZSTD_freeDCtx(d);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: vmt_recompress IN.vmt OUT.vmt LEVEL [MINMATCH]\n");
		return 2;
	}
	long n;
	uint8_t *in = slurp(argv[1], &n);
	if (!in)
		return fail("cannot read the input", 0);
	if (n < HDR_FIXED + 4 || memcmp(in, VMT_MAGIC, 8))
		return fail("not a .vmt file", 0);
	size_t hdr = HDR_FIXED + get32(in + 16) + 4, off = hdr;
	long n0 = n;
	uint8_t *orig = in;
	if (!(get32(in + 12) & VMT_FLAG_TABLE)) {
		/* version 1.0: the chunks of a 1.1 file the writer wrote, the
		 * original header marked 1.1 */
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s.tmp-1.1", argv[2]);
		if (upgrade(in, n, hdr, tmp, atoi(argv[3])) != 0)
			return 1;
		long tn;
		uint8_t *t = slurp(tmp, &tn);
		unlink(tmp);
		if (!t)
			return fail("cannot read the upgraded file", 0);
		put16(orig + 10, VMT_MINOR);
		put32(orig + 12, VMT_FLAG_TABLE);
		put32(orig + hdr - 4, vl_crc32c(0, orig, hdr - 4));
		in = t;
		n = tn;
		off = HDR_FIXED + get32(t + 16) + 4;
	}
	FILE *o = fopen(argv[2], "wb");
	if (!o) {
		perror(argv[2]);
		return 1;
	}
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, atoi(argv[3]));
	ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, ZSTD_lcm_uncompressed);
	if (argc == 5 && ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_minMatch, atoi(argv[4]))))
		return fail("bad MINMATCH", 0);
	fwrite(orig, 1, hdr, o);
	uint64_t out_off = hdr, total = 0;
	size_t nchunks = 0, cap = 0;
	uint8_t *ent = NULL;
	while (off + CHUNK_HDR <= (size_t)n && !memcmp(in + off, "VMTC", 4)) {
		uint32_t raw = get32(in + off + 12), comp = get32(in + off + 16);
		uint8_t *p = malloc(raw), *z = malloc(ZSTD_compressBound(raw) + CHUNK_HDR);
		if (!p || !z)
			return fail("out of memory", (long)off);
		size_t dn = ZSTD_decompressDCtx(d, p, raw, in + off + CHUNK_HDR, comp);
		if (ZSTD_isError(dn) || dn != raw)
			return fail("corrupt chunk", (long)off);
		size_t zn = ZSTD_compress2(c, z + CHUNK_HDR, ZSTD_compressBound(raw), p, raw);
		if (ZSTD_isError(zn))
			return fail("compression failed", (long)off);
		memcpy(z, in + off, 28); /* magic, seq, nrecs, raw_len, (comp), first */
		put32(z + 16, (uint32_t)zn);
		put32(z + 28, vl_crc32c(vl_crc32c(0, z, 28), z + CHUNK_HDR, zn));
		fwrite(z, 1, CHUNK_HDR + zn, o);
		if ((nchunks + 1) * 20 > cap && !(ent = realloc(ent, cap = 2 * cap + 20 * 64)))
			return fail("out of memory", (long)off);
		put64(ent + 20 * nchunks, out_off);
		put64(ent + 20 * nchunks + 8, get64(in + off + 20));
		put32(ent + 20 * nchunks + 16, get32(in + off + 8));
		total += get32(in + off + 8);
		nchunks++;
		out_off += CHUNK_HDR + zn;
		off += CHUNK_HDR + comp;
		free(p);
		free(z);
	}
	if (off + 8 > (size_t)n || memcmp(in + off, "VMTI", 4))
		return fail("expected the index", (long)off);
	size_t body = 8 + 20 * nchunks + 8;
	uint8_t *ix = malloc(body + 4 + 16);
	if (!ix)
		return fail("out of memory", (long)off);
	memcpy(ix, "VMTI", 4);
	put32(ix + 4, (uint32_t)nchunks);
	if (nchunks)
		memcpy(ix + 8, ent, 20 * nchunks);
	put64(ix + 8 + 20 * nchunks, total);
	put32(ix + body, vl_crc32c(0, ix, body));
	put64(ix + body + 4, out_off);
	memcpy(ix + body + 12, "VMTEND\0\0", 8);
	fwrite(ix, 1, body + 4 + 16, o);
	if (fclose(o) != 0)
		return fail("cannot write the output", 0);
	fprintf(stderr, "%s: %zu chunks, %ld -> %llu bytes\n", argv[2], nchunks, n0,
		(unsigned long long)(out_off + body + 20));
	if (in != orig)
		free(in);
	free(orig);
	free(ent);
	free(ix);
	ZSTD_freeDCtx(d);
	ZSTD_freeCCtx(c);
	return 0;
}
