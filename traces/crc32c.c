/* traces/crc32c.c - CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected
 * 0x82F63B78), the checksum of .vmt chunks.
 *
 * Two implementations giving the same value: the SSE4.2 crc32 instruction
 * when the CPU has it, else slicing-by-8 tables built on first use.
 * Standard check value: crc32c("123456789") = 0xE3069283.
 *
 * The crc32 instruction takes 8 bytes a step but its result is ready only
 * three cycles later, so one chain of steps runs at a third of what the
 * CPU can issue.  Long buffers are therefore cut into three adjacent
 * blocks checked side by side (three independent chains) and the three
 * CRCs combined: the CRC register is linear over GF(2), so
 *   crc(c, A B) = shift_|B|(crc(c, A)) ^ crc(0, B)
 * where shift_n is what n zero bytes do to the register: a 32x32 bit
 * matrix, applied through four 256-entry tables (one per byte of the
 * register) for the two block lengths used.
 */
#include <stdbool.h>
#include <string.h>

#include "traces/internal.h"

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
	__atomic_store_n(&table_ready, true, __ATOMIC_RELEASE);
}

static uint32_t crc_table(uint32_t crc, const uint8_t *p, size_t n)
{
	if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
		build_table(); /* idempotent: racing builders write the same values */
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		      table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		      table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__)
#define BLOCK_LONG 8192
#define BLOCK_SHORT 256

/* shift_long[k][v]: the register after BLOCK_LONG zero bytes, starting from
 * v in byte k and zeros elsewhere; the same for BLOCK_SHORT. */
static uint32_t shift_long[4][256], shift_short[4][256];
static bool shift_ready;

/* op (32 columns: the image of each bit) applied to v. */
static uint32_t gf2_apply(const uint32_t op[32], uint32_t v)
{
	uint32_t r = 0;
	for (int i = 0; v; i++, v >>= 1)
		if (v & 1)
			r ^= op[i];
	return r;
}

/* The operator for 2^log2_bits zero bits, by squaring the one for one bit. */
static void zeros_op(uint32_t op[32], int log2_bits)
{
	uint32_t sq[32];
	op[0] = POLY; /* one zero bit: c -> c >> 1 ^ (c & 1 ? POLY : 0) */
	for (int i = 1; i < 32; i++)
		op[i] = 1u << (i - 1);
	for (int k = 0; k < log2_bits; k++) {
		for (int i = 0; i < 32; i++)
			sq[i] = gf2_apply(op, op[i]);
		memcpy(op, sq, sizeof(sq));
	}
}

static void build_shift(uint32_t t[4][256], int log2_bits)
{
	uint32_t op[32];
	zeros_op(op, log2_bits);
	for (int k = 0; k < 4; k++)
		for (uint32_t v = 0; v < 256; v++)
			t[k][v] = gf2_apply(op, v << (8 * k));
}

static inline uint32_t shift(const uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

/* Three blocks of len bytes at p side by side, then combined. */
__attribute__((target("sse4.2"))) static inline uint64_t crc_3way(uint64_t c, const uint8_t *p,
								  size_t len,
								  const uint32_t t[4][256])
{
	uint64_t c1 = 0, c2 = 0;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w0, w1, w2;
		memcpy(&w0, p + i, 8);
		memcpy(&w1, p + len + i, 8);
		memcpy(&w2, p + 2 * len + i, 8);
		c = __builtin_ia32_crc32di(c, w0);
		c1 = __builtin_ia32_crc32di(c1, w1);
		c2 = __builtin_ia32_crc32di(c2, w2);
	}
	c = shift(t, (uint32_t)c) ^ (uint32_t)c1;
	return shift(t, (uint32_t)c) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *p,
							      size_t n)
{
	uint64_t c = crc;
	if (n >= 3 * BLOCK_SHORT) {
		if (!__atomic_load_n(&shift_ready, __ATOMIC_ACQUIRE)) {
			/* idempotent: racing builders write the same values */
			build_shift(shift_long, 3 + __builtin_ctz(BLOCK_LONG));
			build_shift(shift_short, 3 + __builtin_ctz(BLOCK_SHORT));
			__atomic_store_n(&shift_ready, true, __ATOMIC_RELEASE);
		}
		for (; n >= 3 * BLOCK_LONG; p += 3 * BLOCK_LONG, n -= 3 * BLOCK_LONG)
			c = crc_3way(c, p, BLOCK_LONG, shift_long);
		for (; n >= 3 * BLOCK_SHORT; p += 3 * BLOCK_SHORT, n -= 3 * BLOCK_SHORT)
			c = crc_3way(c, p, BLOCK_SHORT, shift_short);
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = __builtin_ia32_crc32di(c, w);
		p += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}
#endif

/* Exposed for the test that checks both implementations agree. */
uint32_t vl_crc32c_portable(uint32_t crc, const void *p, size_t n)
{
	return ~crc_table(~crc, p, n);
}

uint32_t vl_crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		return ~crc_sse42(~crc, p, n);
#endif
	return ~crc_table(~crc, p, n);
}
