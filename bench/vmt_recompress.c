/* bench/vmt_recompress.c - recompress the chunks of a .vmt file.
 *
 *   usage: vmt_recompress IN.vmt OUT.vmt LEVEL
 *
 * Copies the header (metadata and all) byte for byte and every chunk's
 * uncompressed payload unchanged, compressing each again at zstd level
 * LEVEL with literals stored as they are (what traces/vmt_write.c does),
 * then writes the index with the new offsets.  The records, their chunks
 * and the metadata are the same; only the zstd frames differ.  Used to
 * re-encode traces/samples (docs/benchmarks.md): `vmlab convert` would
 * write a new header (tool, date) and drop the process names.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_literalCompressionMode */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "traces/internal.h"
#include "traces/vmt.h"

static int fail(const char *what, long at)
{
	fprintf(stderr, "vmt_recompress: %s at byte %ld\n", what, at);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: vmt_recompress IN.vmt OUT.vmt LEVEL\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	uint8_t *in = malloc((size_t)n + 1);
	if (!in || fread(in, 1, (size_t)n, f) != (size_t)n)
		return fail("cannot read the input", 0);
	fclose(f);
	if (n < HDR_FIXED + 4 || memcmp(in, VMT_MAGIC, 8))
		return fail("not a .vmt file", 0);
	size_t hdr = HDR_FIXED + get32(in + 16) + 4;
	FILE *o = fopen(argv[2], "wb");
	if (!o) {
		perror(argv[2]);
		return 1;
	}
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, atoi(argv[3]));
	ZSTD_CCtx_setParameter(c, ZSTD_c_literalCompressionMode, ZSTD_lcm_uncompressed);
	fwrite(in, 1, hdr, o);
	uint64_t out_off = hdr, total = 0;
	size_t off = hdr, nchunks = 0, cap = 0;
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
	fprintf(stderr, "%s: %zu chunks, %ld -> %llu bytes\n", argv[2], nchunks, n,
		(unsigned long long)(out_off + body + 20));
	return 0;
}
