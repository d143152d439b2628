/* vmlab/engine.h - the simulation engine and the run driver.
 *
 * An engine holds one simulated machine: physical frames, per-process
 * address spaces, the replacement policy and the counters.  It consumes
 * batches of records (vl_engine_feed); vl_run drives a whole trace through
 * it, including the pre-pass that policies needing the future ask for.
 */
#ifndef VMLAB_ENGINE_H
#define VMLAB_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmlab/config.h"
#include "vmlab/counters.h"
#include "vmlab/error.h"
#include "vmlab/trace.h"

struct vl_engine;

/* Build an engine from a configuration (copied; the caller may free cfg).
 * Returns 0, or VL_EINVAL naming the offending key, VL_ENOENT for an
 * unknown policy, VL_ENOMEM. */
int vl_engine_new(struct vl_engine **out, const struct vl_config *cfg, struct vl_error *err);
void vl_engine_free(struct vl_engine *e);

/* Whether the configured policy needs vl_engine_set_future before feeding. */
bool vl_engine_needs_future(const struct vl_engine *e);

/* Give the engine next_use[i] for access i (VL_NEVER when not used again),
 * n accesses in all; the array must outlive the run.  Feeding more than n
 * accesses afterwards is an error. */
void vl_engine_set_future(struct vl_engine *e, const uint64_t *next_use, uint64_t n);

/* Replay a batch.  Returns 0 or a negative code (VL_ENOMEM; VL_EINVAL when
 * the trace runs past the future array; VL_ESTATE from the invariant
 * checker when enabled). */
int vl_engine_feed(struct vl_engine *e, const struct vl_batch *b, struct vl_error *err);

/* Check the model's invariants (every resident frame is mapped by exactly
 * the PTE it names, list lengths add up, policy occupancy).  Returns 0 or
 * VL_ESTATE describing the first broken invariant. */
int vl_engine_check(struct vl_engine *e, struct vl_error *err);

/* Counters so far (a snapshot, valid until the next feed). */
const struct vl_counters *vl_engine_counters(struct vl_engine *e);

/* Every counter of this engine: the fixed ones of counters.h first, in
 * their order, then those that depend on the configuration (per TLB level
 * and the like).  Fills up to max names and values (either may be NULL) and
 * returns the total number.  Names stay valid for the engine's lifetime. */
size_t vl_engine_counter_list(struct vl_engine *e, const char **names, uint64_t *values,
			      size_t max);

/* What counter i of vl_engine_counter_list counts (one line, no
 * newline), or NULL when i is past the end. */
const char *vl_engine_counter_help(const struct vl_engine *e, size_t i);

/* Instantaneous state, for timelines (not counters: they go up and down). */
struct vl_gauges {
	uint64_t resident_pages; /* pages mapped by valid PTEs, all processes */
	uint64_t free_frames;    /* frames on the free lists */
	uint64_t ws_pages;       /* pages in working sets (= resident under textbook) */
};
void vl_engine_gauges(const struct vl_engine *e, struct vl_gauges *g);

/* Per-process counters, in base pages. */
struct vl_proc_counters {
	uint32_t pid;
	uint64_t accesses;
	uint64_t faults, faults_demand_zero, faults_soft, faults_hard, faults_cow;
	uint64_t access_violations;
	uint64_t evictions;      /* pages of this process evicted */
	uint64_t writebacks;     /* dirty pages of this process written back */
	uint64_t resident_pages; /* now */
	uint64_t commit_pages;   /* commit charged to the process now */
};

/* Number of processes seen so far; they are numbered 0.. in order of first
 * appearance. */
size_t vl_engine_nprocs(const struct vl_engine *e);

/* Counters of the i-th process; returns 0 or VL_EINVAL when i is out of range. */
int vl_engine_proc_counters(const struct vl_engine *e, size_t i, struct vl_proc_counters *out);

/* The engine's resolved configuration. */
const struct vl_config *vl_engine_config(const struct vl_engine *e);

/* Compute next-use times for a trace: reads it to the end, then rewinds it.
 * On success *out (malloc'd, caller frees) holds one entry per access and
 * *n the number of accesses.  Returns 0 or a negative code. */
int vl_future_compute(struct vl_trace *t, uint64_t **out, uint64_t *n, struct vl_error *err);

/* ---- whole runs ---- */

struct vl_run_stats {
	uint64_t records;          /* records read (accesses + events) */
	double decode_seconds;     /* time in the reader */
	double sim_seconds;        /* time in the engine */
	double prepass_seconds;    /* future pre-pass, if any */
	double wall_seconds;
};

/* Optional progress callback, called about every few million records with
 * the records done so far; return non-zero to stop the run (VL_EINVAL). */
typedef int (*vl_progress_fn)(void *ctx, uint64_t records_done);

/* Replay trace t through engine e to the end.  Runs the future pre-pass
 * first when the policy needs it.  Returns 0 or a negative code with err
 * set; the counters are then incomplete and must not be reported. */
int vl_run(struct vl_engine *e, struct vl_trace *t, vl_progress_fn progress, void *pctx,
	   struct vl_run_stats *st, struct vl_error *err);

/* Timeline observer for vl_run_ex: called with the engine between feeds
 * after every stats.interval accesses (the run splits batches at interval
 * boundaries, so the counters then cover exactly whole intervals) and once
 * more at the end for a last, shorter interval if it has any accesses.
 * accesses_done is the engine's access count at that point.  It may read
 * counters, gauges and per-process counters; it must not feed.  Return 0,
 * or a negative VL_E* code (with err filled) to stop the run with it. */
typedef int (*vl_interval_fn)(void *ctx, struct vl_engine *e, uint64_t accesses_done,
			      struct vl_error *err);

/* Options of vl_run_ex; zero-initialise, then set what you need. */
struct vl_run_opts {
	vl_progress_fn progress;    /* as for vl_run; may be NULL */
	void *progress_ctx;
	vl_interval_fn on_interval; /* NULL, or called per stats.interval (0 = never) */
	void *interval_ctx;
};

/* vl_run with options (opts may be NULL).  The interval length is the
 * engine's stats.interval key, so the recorded configuration says how a
 * timeline was cut.  Returns as vl_run. */
int vl_run_ex(struct vl_engine *e, struct vl_trace *t, const struct vl_run_opts *opts,
	      struct vl_run_stats *st, struct vl_error *err);

/* Library version string (VMLAB_VERSION, "0.2.0"). */
const char *vl_version(void);

#endif
