/* vmlab/engine.h - the simulation engine (sim/).
 *
 * An engine holds one simulated machine: physical frames, per-process
 * address spaces, the replacement policy and the counters.  It consumes
 * batches of records (vl_engine_feed); vmlab/run.h drives a whole trace
 * through it, including the pre-pass that policies needing the future ask
 * for.
 */
#ifndef VMLAB_ENGINE_H
#define VMLAB_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/api.h"
#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/error.h"
#include "vmlab/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vl_engine;

/* Build an engine from a configuration (copied; the caller may free cfg).
 * Returns 0, or VL_EINVAL naming the offending key, VL_ENOENT for an
 * unknown policy, VL_ENOMEM. */
VL_API int vl_engine_new(struct vl_engine **out, const struct vl_config *cfg, struct vl_error *err);
VL_API void vl_engine_free(struct vl_engine *e);

/* Whether the configured policy needs vl_engine_set_future before feeding. */
VL_API bool vl_engine_needs_future(const struct vl_engine *e);

/* Give the engine next_use[i] for access i (VL_NEVER when not used again),
 * n accesses in all; the array must outlive the run.  Feeding more than n
 * accesses afterwards is an error. */
VL_API void vl_engine_set_future(struct vl_engine *e, const uint64_t *next_use, uint64_t n);

/* Replay a batch.  Returns 0 or a negative code (VL_ENOMEM; VL_EINVAL when
 * the trace runs past the future array; VL_ESTATE from the invariant
 * checker when enabled). */
VL_API int vl_engine_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err);

/* Check the model's invariants (every resident frame is mapped by exactly
 * the PTE it names, list lengths add up, policy occupancy).  Returns 0 or
 * VL_ESTATE describing the first broken invariant. */
VL_API int vl_engine_check(struct vl_engine *e, struct vl_error *err);

/* Counters so far (a snapshot, valid until the next feed). */
VL_API const struct vl_counters *vl_engine_counters(struct vl_engine *e);

/* Every counter of this engine: the fixed ones of counters.h first, in
 * their order, then those that depend on the configuration (per TLB level
 * and the like).  Fills up to max names and values (either may be NULL) and
 * returns the total number.  Names stay valid for the engine's lifetime. */
VL_API size_t vl_engine_counter_list(struct vl_engine *e, const char **names, uint64_t *values,
				     size_t max);

/* What counter i of vl_engine_counter_list counts (one line, no
 * newline), or NULL when i is past the end. */
VL_API const char *vl_engine_counter_help(const struct vl_engine *e, size_t i);

/* Instantaneous state, for timelines (not counters: they go up and down).
 * The caller allocates it and sets size (see "Structs that grow" in
 * docs/design.md): struct vl_gauges g = { .size = sizeof g }. */
struct vl_gauges {
	size_t size;             /* sizeof(struct vl_gauges) as the caller knows it */
	uint64_t resident_pages; /* pages mapped by valid PTEs, all processes */
	uint64_t free_frames;    /* frames on the free lists */
	uint64_t ws_pages;       /* pages in working sets (= resident under textbook) */
	uint64_t heap_committed; /* pages the heap holds committed (docs/heap.md) */
};
VL_API void vl_engine_gauges(const struct vl_engine *e, struct vl_gauges *g);

/* Per-process counters, in base pages.  The caller allocates it and sets
 * size, as for struct vl_gauges. */
struct vl_proc_counters {
	size_t size;             /* sizeof(struct vl_proc_counters) as the caller knows it */
	uint32_t pid;
	uint64_t accesses;
	uint64_t faults, faults_demand_zero, faults_soft, faults_hard, faults_cow;
	uint64_t access_violations;
	uint64_t evictions;      /* pages of this process evicted */
	uint64_t writebacks;     /* dirty pages of this process written back */
	uint64_t resident_pages; /* now */
	uint64_t commit_pages;   /* commit charged to the process now */
	/* the heap counters of counters.h, for this process */
	uint64_t heap_allocs, heap_frees, heap_bytes_peak, heap_committed_peak;
	uint64_t heap_decommits, heap_releases, heap_errors;
};

/* Number of processes seen so far; they are numbered 0.. in order of first
 * appearance. */
VL_API size_t vl_engine_nprocs(const struct vl_engine *e);

/* Counters of the i-th process; returns 0 or VL_EINVAL when i is out of range. */
VL_API int vl_engine_proc_counters(const struct vl_engine *e, size_t i,
				   struct vl_proc_counters *out);

/* The engine's resolved configuration. */
VL_API const struct vl_config *vl_engine_config(const struct vl_engine *e);

/* Configured values that cannot work for the machine given (each names
 * its key and the value that would), one a line, or NULL when none. */
VL_API const char *vl_engine_warning(const struct vl_engine *e);

#ifdef __cplusplus
}
#endif

#endif
