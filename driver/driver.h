/* driver/driver.h - what driver/run.c and driver/multi.c share: one
 * engine's replay, batch by batch.  Not a public API. */
#ifndef VMLAB_DRIVER_DRIVER_H
#define VMLAB_DRIVER_DRIVER_H

#include <pthread.h>

#include "vmlab/engine.h"
#include "vmlab/run.h"

#define RUN_BATCH 8192

struct run_state {
	struct vl_run_opts o;  /* the caller's options, zero beyond their size */
	uint64_t time;         /* accesses fed: the engine's clock */
	uint64_t interval;     /* stats.interval with an observer, else 0 */
	uint64_t next_boundary, last_reported, next_report;
	bool pending; /* a boundary reached whose row waits for the next access */
	double cb_seconds;     /* time in the observer */
	uint64_t budget;       /* run.max_memory (core/memory.h), checked every few batches */
	bool budget_default;
	unsigned batches;
	struct vl_run_stats s;
};

/* Options and start of a replay through e; 0 or VL_EINVAL (opts' size). */
int run_state_init(struct run_state *rs, struct vl_engine *e, const struct vl_run_opts *opts,
		   struct vl_error *err);
/* Feed batch b (split at timeline boundaries; observers and the progress
 * callback called under cb_lock when it is not NULL); 0 or an error. */
int run_state_feed(struct run_state *rs, struct vl_engine *e, const struct vl_batch *b,
		   pthread_mutex_t *cb_lock, struct vl_error *err);
/* The end of the trace: the last, shorter interval, and the check against
 * the pre-pass's count (nfuture, when has_future). */
int run_state_finish(struct run_state *rs, struct vl_engine *e, uint64_t nfuture,
		     bool has_future, struct vl_error *err);

#endif
