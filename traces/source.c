/* traces/source.c - byte sources: plain, gzip, zstd and xz, by magic bytes.
 *
 * A source reads a file descriptor (a file, or stdin for "-") in 256 KiB
 * blocks and, when the first bytes are a compression magic, decompresses
 * them on the way:
 *
 *   1f 8b              gzip (zlib inflate; concatenated members are read on)
 *   28 b5 2f fd        zstd (libzstd streaming; concatenated frames too)
 *   fd 37 7a 58 5a 00  xz   (liblzma stream decoder, concatenated streams)
 *   anything else      plain
 *
 * The decision is made on the content, never on the file name, so a pipe
 * (stdin) is detected too: the first block stays in the input buffer.
 * Errors name the compressed byte offset; a compressed stream that ends
 * before its end marker is an error (truncated file), never a silent EOF,
 * and bytes after a complete stream that do not start another one (xz:
 * after its zero padding) are an error naming them (trailing data), not
 * a truncation.
 */
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "traces/internal.h"

#define IN_SIZE (1u << 18)

struct vl_src {
	int fd;
	bool own_fd;
	enum vl_src_kind kind;
	uint8_t *in;
	size_t in_pos, in_len;
	uint64_t in_off;  /* compressed bytes consumed before in[0] */
	bool in_eof;
	bool done;        /* clean end reached */
	bool in_frame;    /* a compressed member/frame is open */
	z_stream z;
	bool z_init;
	ZSTD_DStream *zs;
	lzma_stream lz;
	bool lz_init;
};

static const char *const kind_names[] = { "plain", "gzip", "zstd", "xz" };

const char *vl_src_kind_name(const struct vl_src *s)
{
	return kind_names[s->kind];
}

uint64_t vl_src_offset(const struct vl_src *s)
{
	return s->in_off + s->in_pos;
}

enum vl_src_kind vl_src_kind(const struct vl_src *s)
{
	return s->kind;
}

/* Read more raw bytes; 0 at EOF, <0 error. */
static int refill(struct vl_src *s, struct vl_error *err)
{
	if (s->in_pos > 0) {
		memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
		s->in_off += s->in_pos;
		s->in_len -= s->in_pos;
		s->in_pos = 0;
	}
	if (s->in_eof || s->in_len == IN_SIZE)
		return 0;
	for (;;) {
		ssize_t got = read(s->fd, s->in + s->in_len, IN_SIZE - s->in_len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return vl_err(err, VL_EIO, "read failed at byte %llu: %s",
				      (unsigned long long)(s->in_off + s->in_len), strerror(errno));
		if (got == 0)
			s->in_eof = true;
		s->in_len += (size_t)got;
		return (int)got;
	}
}

static bool has_magic(const struct vl_src *s, const char *m, size_t n)
{
	return s->in_len - s->in_pos >= n && !memcmp(s->in + s->in_pos, m, n);
}

/* Start decoding a member/frame of the source's kind. */
static int start_frame(struct vl_src *s, struct vl_error *err)
{
	switch (s->kind) {
	case VL_SRC_GZIP:
		if (!s->z_init) {
			if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
				return vl_err(err, VL_ENOMEM, "cannot start the gzip decoder");
			s->z_init = true;
		} else {
			inflateReset(&s->z);
		}
		break;
	case VL_SRC_ZSTD:
		if (!s->zs && !(s->zs = ZSTD_createDStream()))
			return vl_err(err, VL_ENOMEM, "cannot start the zstd decoder");
		ZSTD_initDStream(s->zs);
		break;
	case VL_SRC_XZ:
		if (s->lz_init)
			lzma_end(&s->lz);
		s->lz = (lzma_stream)LZMA_STREAM_INIT;
		/* one stream at a time: after_frame checks what follows */
		if (lzma_stream_decoder(&s->lz, UINT64_MAX, 0) != LZMA_OK)
			return vl_err(err, VL_ENOMEM, "cannot start the xz decoder");
		s->lz_init = true;
		break;
	case VL_SRC_PLAIN:
		break;
	}
	s->in_frame = true;
	return 0;
}

static void src_reset_state(struct vl_src *s)
{
	s->in_pos = s->in_len = 0;
	s->in_off = 0;
	s->in_eof = s->done = s->in_frame = false;
}

int vl_src_open(struct vl_src **out, const char *path, struct vl_error *err)
{
	struct vl_src *s = calloc(1, sizeof(*s));
	if (!s || !(s->in = malloc(IN_SIZE))) {
		free(s);
		return vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
	}
	if (!strcmp(path, "-")) {
		s->fd = 0;
	} else {
		s->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0) {
			int rc = vl_err(err, VL_ENOENT, "cannot open %s: %s", path, strerror(errno));
			free(s->in);
			free(s);
			return rc;
		}
		s->own_fd = true;
	}
	int rc;
	/* Sniff the magic: read until 6 bytes are there or EOF. */
	while (s->in_len < 6 && !s->in_eof)
		if ((rc = refill(s, err)) < 0)
			goto fail;
	s->kind = VL_SRC_PLAIN;
	if (has_magic(s, "\x1f\x8b", 2))
		s->kind = VL_SRC_GZIP;
	else if (has_magic(s, "\x28\xb5\x2f\xfd", 4))
		s->kind = VL_SRC_ZSTD;
	else if (has_magic(s, "\xfd" "7zXZ\0", 6))
		s->kind = VL_SRC_XZ;
	if ((rc = start_frame(s, err)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	vl_src_close(s);
	return rc;
}

int vl_src_rewind(struct vl_src *s, struct vl_error *err)
{
	if (!s->own_fd || lseek(s->fd, 0, SEEK_SET) < 0)
		return vl_err(err, VL_EIO, "cannot re-read this input (a pipe)");
	src_reset_state(s);
	return start_frame(s, err);
}

void vl_src_close(struct vl_src *s)
{
	if (!s)
		return;
	if (s->z_init)
		inflateEnd(&s->z);
	if (s->zs)
		ZSTD_freeDStream(s->zs);
	if (s->lz_init)
		lzma_end(&s->lz);
	if (s->own_fd)
		close(s->fd);
	free(s->in);
	free(s);
}

/* Called when a member/frame/stream ended: is another one next, or the
 * end?  Anything else is trailing data, an error. */
static int after_frame(struct vl_src *s, struct vl_error *err)
{
	s->in_frame = false;
	for (;;) {
		if (s->in_pos < s->in_len) {
			uint8_t c = s->in[s->in_pos];
			if (s->kind == VL_SRC_XZ && c == 0) { /* stream padding */
				s->in_pos++;
				continue;
			}
			/* first magic byte: gzip 1f, zstd 28 (or 5x, a skippable
			 * frame), xz fd; the decoder checks the rest */
			bool next = (s->kind == VL_SRC_GZIP && c == 0x1f) ||
				    (s->kind == VL_SRC_ZSTD && (c == 0x28 || (c & 0xf0) == 0x50)) ||
				    (s->kind == VL_SRC_XZ && c == 0xfd);
			if (!next)
				return vl_err(err, VL_EFORMAT,
					      "trailing data after the %s stream at compressed byte %llu "
					      "(byte 0x%02x starts no %s stream)",
					      kind_names[s->kind],
					      (unsigned long long)(s->in_off + s->in_pos), c,
					      kind_names[s->kind]);
			return start_frame(s, err); /* concatenated member or frame */
		}
		if (s->in_eof) {
			s->done = true;
			return 0;
		}
		int rc = refill(s, err);
		if (rc < 0)
			return rc;
	}
}

ssize_t vl_src_read(struct vl_src *s, void *buf, size_t len, struct vl_error *err)
{
	uint8_t *out = buf;
	size_t got = 0;
	int rc;
	while (got < len && !s->done) {
		if (s->in_pos == s->in_len && !s->in_eof) {
			if ((rc = refill(s, err)) < 0)
				return rc;
			continue;
		}
		if (s->in_pos == s->in_len && s->kind == VL_SRC_PLAIN) {
			s->done = true;
			break;
		}
		size_t got_before = got;
		size_t avail = s->in_len - s->in_pos;
		uint64_t at = s->in_off + s->in_pos;
		switch (s->kind) {
		case VL_SRC_PLAIN: {
			size_t n = avail < len - got ? avail : len - got;
			memcpy(out + got, s->in + s->in_pos, n);
			s->in_pos += n;
			got += n;
			break;
		}
		case VL_SRC_GZIP: {
			s->z.next_in = s->in + s->in_pos;
			s->z.avail_in = (uInt)avail;
			s->z.next_out = out + got;
			s->z.avail_out = (uInt)(len - got > (1u << 30) ? (1u << 30) : len - got);
			uInt before = s->z.avail_out;
			int zr = inflate(&s->z, Z_NO_FLUSH);
			got += before - s->z.avail_out;
			s->in_pos = (size_t)(s->z.next_in - s->in);
			if (zr == Z_STREAM_END) {
				if ((rc = after_frame(s, err)) < 0)
					return rc;
			} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
				return vl_err(err, VL_EFORMAT, "corrupt gzip data near compressed byte %llu: %s",
					      (unsigned long long)at, s->z.msg ? s->z.msg : "inflate failed");
			}
			break;
		}
		case VL_SRC_ZSTD: {
			ZSTD_inBuffer zi = { s->in, s->in_len, s->in_pos };
			ZSTD_outBuffer zo = { out, len, got };
			size_t zr = ZSTD_decompressStream(s->zs, &zo, &zi);
			if (ZSTD_isError(zr))
				return vl_err(err, VL_EFORMAT, "corrupt zstd data near compressed byte %llu: %s",
					      (unsigned long long)at, ZSTD_getErrorName(zr));
			got = zo.pos;
			s->in_pos = zi.pos;
			if (zr == 0 && (rc = after_frame(s, err)) < 0)
				return rc;
			break;
		}
		case VL_SRC_XZ: {
			s->lz.next_in = s->in + s->in_pos;
			s->lz.avail_in = avail;
			s->lz.next_out = out + got;
			s->lz.avail_out = len - got;
			lzma_ret lr = lzma_code(&s->lz, s->in_eof ? LZMA_FINISH : LZMA_RUN);
			got = len - s->lz.avail_out;
			s->in_pos = (size_t)(s->lz.next_in - s->in);
			if (lr == LZMA_STREAM_END) {
				if ((rc = after_frame(s, err)) < 0)
					return rc;
			} else if (lr != LZMA_OK && lr != LZMA_BUF_ERROR) {
				return vl_err(err, VL_EFORMAT, "corrupt xz data near compressed byte %llu (%s)",
					      (unsigned long long)at,
					      lr == LZMA_DATA_ERROR	? "data error"
					      : lr == LZMA_FORMAT_ERROR ? "format error"
					      : lr == LZMA_MEM_ERROR	? "out of memory"
									: "decoder error");
			}
			break;
		}
		}
		/* Input exhausted, decoder flushed, frame still open: truncated. */
		if (s->in_eof && s->in_pos == s->in_len && s->in_frame && !s->done &&
		    got == got_before && got < len)
			return vl_err(err, VL_EFORMAT,
				      "%s stream ends early at compressed byte %llu (truncated file?)",
				      kind_names[s->kind], (unsigned long long)(s->in_off + s->in_len));
	}
	return (ssize_t)got;
}
