/* vmlab/run.h - the run driver (driver/): whole traces through an engine.
 *
 * vl_run reads a trace batch by batch and feeds an engine, timing the
 * reader and the engine apart; a policy that needs the future gets the
 * pre-pass (vl_future_compute) first, and a timeline observer sees the
 * engine at exact interval boundaries.
 */
#ifndef VMLAB_RUN_H
#define VMLAB_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "vmlab/api.h"
#include "vmlab/engine.h"
#include "vmlab/error.h"
#include "vmlab/trace.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Compute next-use times for a trace: reads it to the end, then rewinds it.
 * On success *out (malloc'd, caller frees) holds one entry per access and
 * *n the number of accesses.  Returns 0 or a negative code. */
VL_API int vl_future_compute(struct vl_trace *t, uint64_t **out, uint64_t *n,
			     struct vl_error *err);

/* What a run measured.  The caller allocates it and sets size (see "Structs
 * that grow" in docs/design.md): struct vl_run_stats st = { .size = sizeof st }.
 * The run fills the fields that fit in size and leaves size as it was. */
struct vl_run_stats {
	size_t size;               /* sizeof(struct vl_run_stats) as the caller knows it */
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
 * first when the policy needs it.  st may be NULL; otherwise st->size must
 * be set.  Returns 0 or a negative code with err set (VL_EINVAL for a
 * struct whose size is not set); the counters are then incomplete and
 * must not be reported. */
VL_API int vl_run(struct vl_engine *e, struct vl_trace *t, vl_progress_fn progress, void *pctx,
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

/* Start and end hooks of vl_run_ex and vl_run_multi (since 0.8.2): on_start
 * is called with the engine before its first batch is fed, on the thread
 * that feeds it; on_end once the engine has been fed the whole trace and
 * its last timeline row is written, with its final statistics (as st of
 * vl_run_ex will hold them), on the thread that fed its last batch, which
 * may be while other engines of a vl_run_multi are still being fed.  Both
 * are called under the observers' lock (one observer, progress callback
 * or hook at a time), so they may write results files that are not
 * thread-safe (HDF5).  Return 0, or a negative VL_E* code with err filled:
 * the engine then fails with it (for on_start: it is not fed at all).
 * on_end is not called for an engine that failed. */
typedef int (*vl_start_fn)(void *ctx, struct vl_engine *e, struct vl_error *err);
typedef int (*vl_end_fn)(void *ctx, struct vl_engine *e, const struct vl_run_stats *st,
			 struct vl_error *err);

/* Options of vl_run_ex: set size, then what you need; a field beyond size
 * reads as zero (struct vl_run_opts o = { .size = sizeof o, ... }). */
struct vl_run_opts {
	size_t size;                /* sizeof(struct vl_run_opts) as the caller knows it */
	vl_progress_fn progress;    /* as for vl_run; may be NULL */
	void *progress_ctx;
	vl_interval_fn on_interval; /* NULL, or called per stats.interval (0 = never) */
	void *interval_ctx;
	/* since 0.8.2 */
	vl_start_fn on_start;       /* NULL, or as above */
	vl_end_fn on_end;           /* NULL, or as above */
	void *hook_ctx;             /* ctx of on_start and on_end */
};

/* vl_run with options (opts may be NULL: no options).  The interval length
 * is the engine's stats.interval key, so the recorded configuration says
 * how a timeline was cut.  Returns as vl_run. */
VL_API int vl_run_ex(struct vl_engine *e, struct vl_trace *t, const struct vl_run_opts *opts,
		     struct vl_run_stats *st, struct vl_error *err);

/* One decode, many configurations: replay trace t once, feeding every
 * batch to each of the n engines e[0..n), on up to `threads` threads (the
 * caller's thread decodes the next batch meanwhile and feeds its share;
 * one engine is only ever fed by one thread; batches are shared
 * read-only).  Each engine's counters are those of a vl_run_ex of its own
 * over the same trace, bit for bit.  opts[i] and st[i] as for vl_run_ex
 * (opts and st, or any entry, may be NULL); observers and progress
 * callbacks are called one at a time, under a lock.  The pre-pass of
 * policies that need the future runs once.  rcs[i] gets engine i's result
 * (0 or a negative code) and errs[i] its error; an engine that fails stops
 * there while the others go on.  Returns 0 when every engine completed,
 * else the first failure's code, with err set. */
VL_API int vl_run_multi(struct vl_engine **e, size_t n, struct vl_trace *t, unsigned threads,
			const struct vl_run_opts *const *opts, struct vl_run_stats *const *st,
			int *rcs, struct vl_error *errs, struct vl_error *err);

#ifdef __cplusplus
}
#endif

#endif
