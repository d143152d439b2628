/* traces/vmt.h - layout constants the .vmt reader and writer share
 * (docs/trace-format.md is the specification). */
#ifndef VMLAB_TRACES_VMT_H
#define VMLAB_TRACES_VMT_H

#include <stdint.h>
#include <string.h>

static const uint8_t VMT_MAGIC[8] __attribute__((unused)) = { 0x89, 'V', 'M', 'T', '\r', '\n', 0x1a, '\n' };
#define VMT_MAJOR 1
#define VMT_MINOR 1        /* what the writer writes: 1.1 */
/* Header flag of version 1.1: chunks use the op table encoding below.  A
 * reader of 1.0 refuses any flag, so it refuses a 1.1 file cleanly. */
#define VMT_FLAG_TABLE 1u
#define HDR_FIXED 20       /* magic, major, minor, flags, meta_len */
#define META_MAX (1u << 20)
#define CHUNK_HDR 32
#define CHUNK_RECS_DEFAULT (1u << 20)
#define CHUNK_RECS_MAX (16u << 20)
#define RAW_MAX (256u << 20)
#define NSECT 6
#define ZLEVEL 3

enum { K_READ = 0, K_WRITE = 1, K_IFETCH = 2, K_MODIFY = 3, K_EVENT = 4, K_PROC = 5 };
enum { S_OPS, S_IADDR, S_DADDR, S_PID, S_SIZE, S_EVENT };
/* Version 1.1 sections: ops (table indices), the op table, one address
 * stream, pids, an unused (empty) section, events. */
enum { S_TABLE = 1, S_ADDR = 2 };
#define TAB_MAX 256        /* op table entries per chunk */
#define TAB_ENT 3          /* bytes per entry: kind|F_PID, size, len|base<<4 */
#define NBASE 3            /* address bases of 1.1 */
#define F_PID 0x08
#define SIZE_EXPLICIT 15

static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Size code: 0 unknown, c in 1..8 means 1 << (c - 1) bytes, 15 explicit. */
static inline uint8_t size_code(uint8_t size)
{
	if (size == 0)
		return 0;
	if ((size & (size - 1)) == 0)
		return (uint8_t)(__builtin_ctz(size) + 1);
	return SIZE_EXPLICIT;
}


#endif
