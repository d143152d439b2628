/* traces/champsim.c - ChampSim binary instruction traces.
 *
 * A sequence of 64-byte records (ChampSim's struct input_instr, little
 * endian, no padding):
 *
 *   off  0  u64 ip
 *   off  8  u8  is_branch, u8 branch_taken
 *   off 10  u8  destination_registers[2]
 *   off 12  u8  source_registers[4]
 *   off 16  u64 destination_memory[2]   0 = unused
 *   off 32  u64 source_memory[4]        0 = unused
 *
 * Each record becomes an instruction fetch of ip, then a read per non-zero
 * source_memory, then a write per non-zero destination_memory (the order a
 * core performs them), all pid 1 and of unknown size.  The DPC-3/CRC-2
 * traces are distributed as .xz, which the byte source reads by magic.
 */
#include <string.h>

#include "traces/internal.h"

#define REC 64

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static ssize_t champsim_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	while (b->n + 7 <= b->cap) {
		const uint8_t *p;
		ssize_t got = vl_trace_peek(t, REC, &p, err);
		if (got < 0)
			return got;
		if (got == 0)
			break;
		if (got < REC)
			return vl_err(err, VL_EFORMAT,
				      "%s at byte %llu: last ChampSim record has %zd of 64 bytes "
				      "(truncated file?)",
				      t->path, (unsigned long long)vl_trace_pos(t), got);
		if (p[8] > 1 || p[9] > 1)
			return vl_err(err, VL_EFORMAT,
				      "%s at byte %llu: is_branch/branch_taken must be 0 or 1 in a "
				      "ChampSim record",
				      t->path, (unsigned long long)vl_trace_pos(t));
		struct vl_rec *r = b->recs + b->n;
		*r++ = (struct vl_rec){ .addr = get64(p), .pid = 1, .op = VL_OP_IFETCH };
		for (int i = 0; i < 4; i++) {
			uint64_t a = get64(p + 32 + 8 * i);
			if (a)
				*r++ = (struct vl_rec){ .addr = a, .pid = 1, .op = VL_OP_READ };
		}
		for (int i = 0; i < 2; i++) {
			uint64_t a = get64(p + 16 + 8 * i);
			if (a)
				*r++ = (struct vl_rec){ .addr = a, .pid = 1, .op = VL_OP_WRITE };
		}
		b->n = (size_t)(r - b->recs);
		vl_trace_skip(t, REC);
	}
	return (ssize_t)b->n;
}

static bool canonical(uint64_t a)
{
	return a < (1ull << 47) || a >= 0xffff800000000000ull;
}

static int champsim_probe(const char *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	size_t n = len / REC;
	if (n == 0)
		return 0;
	if (n > 256)
		n = 256;
	for (size_t i = 0; i < n; i++, p += REC) {
		uint64_t ip = get64(p);
		if (ip == 0 || !canonical(ip) || p[8] > 1 || p[9] > 1 || (p[9] && !p[8]))
			return 0;
		for (int k = 0; k < 6; k++)
			if (!canonical(get64(p + 16 + 8 * k)))
				return 0;
	}
	return 90;
}

const struct vl_trace_format vl_fmt_champsim = {
	.name = "champsim",
	.help = "ChampSim binary instruction trace (64-byte input_instr records; .xz or plain)",
	.probe = champsim_probe,
	.read = champsim_read,
};
