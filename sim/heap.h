/* sim/heap.h - heap models: allocators that replay a captured program's
 * malloc/free under another heap manager (issue 19).
 *
 * A model decides where every heap block lives and what address space it
 * reserves, commits, decommits and releases to get it.  It never touches the
 * engine: it asks the operating system through struct vl_heap_os, whose
 * callbacks the engine's heap layer (sim/heap.c) turns into the
 * personality's VAD and commit operations (as V events would be), counting
 * heap_decommits, heap_releases and the heap's committed pages on the way.
 * So a model is a pure allocator, testable on its own with a fake OS.
 *
 * One model instance per simulated process (its default heap; the models
 * keep one arena / one heap, documented in docs/heap.md).
 *
 * Sizes and addresses are bytes.  Every callback returns 0, or -1 when the
 * operating system refuses (no address space, commit limit reached): the
 * model then fails the allocation (returns -1) leaving its state as before.
 */
#ifndef VMLAB_SIM_HEAP_H
#define VMLAB_SIM_HEAP_H

#include <stdbool.h>
#include <stdint.h>

struct vl_heap_os {
	void *ctx;
	/* Reserve len bytes of address space anywhere (len a multiple of the
	 * granularity below); *addr receives the base (granularity-aligned).
	 * Windows: VirtualAlloc(MEM_RESERVE); Linux: mmap(PROT_NONE). */
	int (*reserve)(void *ctx, uint64_t len, uint64_t *addr);
	/* Commit [addr, addr + len) (page-aligned, inside one reservation),
	 * read-write.  Windows: VirtualAlloc(MEM_COMMIT); Linux: mprotect RW. */
	int (*commit)(void *ctx, uint64_t addr, uint64_t len);
	/* Decommit [addr, addr + len): frames and page-file slots freed, commit
	 * uncharged, the range stays reserved.  Windows: VirtualFree(MEM_DECOMMIT);
	 * Linux: madvise(MADV_DONTNEED) (glibc trims non-main heaps that way). */
	int (*decommit)(void *ctx, uint64_t addr, uint64_t len);
	/* Release the reservation based at addr.  VirtualFree(MEM_RELEASE) / munmap. */
	int (*release)(void *ctx, uint64_t addr);
	/* Linux only (NULL under windows): the program break.  *base receives the
	 * start of the heap segment (the initial break) the first time; sbrk moves
	 * the break to base + len (grow or shrink; committed up to it). */
	int (*brk)(void *ctx, uint64_t len, uint64_t *base);
	/* Reservation granularity: 65536 under windows, 4096 under linux. */
	uint64_t granularity;
};

struct vl_heap_model_ops {
	const char *name;        /* the heap.model value: "nt", "segment", "glibc" */
	const char *summary;     /* one line for help and docs */
	/* The model needs os->brk (a program break): the engine refuses it at
	 * start under a personality without one (windows), naming the key. */
	bool needs_brk;
	/* New heap for one process.  *state receives the model's state.  A model
	 * may reserve its first segment here (HeapCreate) or lazily. Returns 0 or -1
	 * (out of host memory, or the OS refused). */
	int (*create)(void **state, const struct vl_heap_os *os);
	/* Free all host memory of the state (the process exited: its address
	 * space is gone already, so no OS calls). */
	void (*destroy)(void *state);
	/* A block of size bytes (size may be 0), aligned to align (a power of
	 * two; 0 means the model's natural alignment, 16 on x86-64).  *addr
	 * receives the address the program would get.  Returns 0, or -1 when
	 * the OS refused to give memory (nothing changed). */
	int (*alloc)(void *state, uint64_t size, uint64_t align, uint64_t *addr);
	/* Free the live block at addr (an address alloc or realloc returned;
	 * the caller guarantees it is live). */
	void (*free)(void *state, uint64_t addr);
	/* Resize the live block at addr to size bytes: *new_addr receives its
	 * address, equal to addr when it grew or shrank in place.  When it
	 * moves, the model has freed the old block.  Returns 0, or -1 when the
	 * OS refused (the old block stays live and unchanged). */
	int (*realloc)(void *state, uint64_t addr, uint64_t size, uint64_t *new_addr);
};

/* The registered models (sim/heap_models.c), NULL-terminated.  "captured"
 * (the default: addresses as recorded) is not a model and not listed. */
extern const struct vl_heap_model_ops *const vl_heap_models[];

#endif
