/* traces/raw.c - raw little-endian 64-bit addresses.
 *
 * What many ad-hoc tools dump: one u64 virtual address per record, no
 * header, every record a read of unknown size by pid 1.  A file whose
 * length is not a multiple of 8 is an error at its last, partial record.
 *
 * Detection is weak by nature (any 8 bytes are an address): the probe
 * only accepts binary content whose first words are all canonical user
 * addresses (below 2^47) and not text, and scores below every format with
 * a real signature.
 */
#include <string.h>

#include "traces/internal.h"

static ssize_t raw_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	while (b->n < b->cap) {
		const uint8_t *p;
		size_t want = (b->cap - b->n) * 8;
		ssize_t got = vl_trace_peek(t, want, &p, err);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		size_t n = (size_t)got / 8;
		if (n == 0)
			return vl_err(err, VL_EFORMAT,
				      "%s at byte %llu: last record has %zd of 8 bytes (truncated file?)",
				      t->path, (unsigned long long)vl_trace_pos(t), got);
		for (size_t i = 0; i < n; i++) {
			uint64_t a;
			memcpy(&a, p + 8 * i, 8);
			b->recs[b->n++] = (struct vl_rec){ .addr = a, .pid = 1, .op = VL_OP_READ };
		}
		vl_trace_skip(t, n * 8);
	}
	vl_trace_release(t);
	return (ssize_t)b->n;
}

static int raw_probe(const char *buf, size_t len)
{
	size_t n = len / 8;
	if (n == 0)
		return 0;
	if (n > 512)
		n = 512;
	bool binary = false;
	for (size_t i = 0; i < n * 8; i++)
		if (buf[i] == 0)
			binary = true;
	if (!binary)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t a;
		memcpy(&a, buf + 8 * i, 8);
		if (a >= (1ull << 47))
			return 0;
	}
	return 61; /* just above the 60 every format needs */
}

const struct vl_trace_format vl_fmt_raw = {
	.name = "raw",
	.help = "binary: little-endian u64 addresses, all reads, pid 1 (detected weakly)",
	.probe = raw_probe,
	.read = raw_read,
};
