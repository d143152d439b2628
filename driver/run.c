/* driver/run.c - drive a whole trace through an engine.
 *
 * read batch ─▶ feed engine ─▶ repeat; the time spent in the reader and in
 * the engine is measured separately (make bench reports both).  Policies
 * that need the future get the pre-pass first.  With a timeline observer and
 * stats.interval set, batches are fed in pieces that end exactly at interval
 * boundaries and the observer snapshots the engine between pieces, so the
 * engine's per-access loop carries no timeline work at all.
 *
 * The driver sits above the simulator and uses only its public API
 * (vmlab/engine.h): it keeps its own count of the accesses it has fed,
 * which is the engine's clock (every access record advances it by one,
 * refused or not).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/memory.h"
#include "core/sized.h"
#include "vmlab/engine.h"
#include "vmlab/run.h"
#include "driver/driver.h"

#define MEMCHECK_EVERY 16 /* batches */
#define PROGRESS_EVERY (1u << 22)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feed b in pieces that end at interval boundaries (counted in accesses:
 * the engine's time, *time here), calling the observer for each boundary
 * reached.  The row of a boundary is taken just before the next access
 * (*pending until then), so events that follow the boundary's last access
 * (a V EXIT at the end of a trace, heap frees) are in it, wherever the
 * batches happen to end; run_state_finish takes a row still pending.  Only
 * the driver scans the ops here; the engine's loop is unchanged. */
static int feed_split(struct vl_engine *e, const struct vl_batch *b, uint64_t interval,
		      uint64_t *time, uint64_t *next, bool *pending, const struct vl_run_opts *o,
		      double *cb_seconds, struct vl_error *err)
{
	size_t i = 0;
	while (i < b->n) {
		size_t j = i;
		uint64_t need = *next - *time; /* > 0 */
		if (*pending) { /* the events before the next access first */
			while (j < b->n && b->recs[j].op >= VL_OP_NACCESS)
				j++;
		}
		if (!*pending || j == i) {
			if (*pending) {
				double a = now();
				VL_TRY(o->on_interval(o->interval_ctx, e, *time, err));
				*cb_seconds += now() - a;
				*pending = false;
			}
			while (j < b->n && need) {
				if (b->recs[j].op < VL_OP_NACCESS)
					need--;
				j++;
			}
		}
		struct vl_batch view = *b;
		view.recs = b->recs + i;
		view.n = j - i;
		view.cap = view.n;
		VL_TRY(vl_engine_feed(e, &view, err));
		if (!*pending) {
			*time = *next - need;
			if (*time == *next) {
				*pending = true;
				*next += interval;
			}
		}
		i = j;
	}
	return 0;
}

/* An observer called under a lock (several engines on several threads). */
struct locked {
	const struct vl_run_opts *o;
	pthread_mutex_t *lock;
};

static int locked_interval(void *ctx, struct vl_engine *e, uint64_t done, struct vl_error *err)
{
	struct locked *lk = ctx;
	pthread_mutex_lock(lk->lock);
	int rc = lk->o->on_interval(lk->o->interval_ctx, e, done, err);
	pthread_mutex_unlock(lk->lock);
	return rc;
}

/* The first release's sizes (core/sized.h): fixed when fields are added. */
#define RUN_OPTS_V1 (offsetof(struct vl_run_opts, interval_ctx) + sizeof(void *))
#define RUN_STATS_V1 (offsetof(struct vl_run_stats, wall_seconds) + sizeof(double))

int run_state_init(struct run_state *rs, struct vl_engine *e, const struct vl_run_opts *opts,
		   struct vl_error *err)
{
	memset(rs, 0, sizeof(*rs));
	if (opts)
		VL_TRY(sized_in(&rs->o, sizeof(rs->o), opts, RUN_OPTS_V1, "struct vl_run_opts", err));
	rs->s.size = sizeof(rs->s);
	rs->time = vl_engine_counters(e)->accesses; /* the engine's clock */
	rs->interval = rs->o.on_interval ? vl_config_u64(vl_engine_config(e), "stats.interval") : 0;
	rs->next_boundary = rs->time + rs->interval;
	rs->last_reported = rs->time;
	rs->next_report = PROGRESS_EVERY;
	rs->budget = vl_memory_budget(vl_engine_config(e));
	rs->budget_default = !vl_config_u64(vl_engine_config(e), "run.max_memory");
	return 0;
}

int run_state_feed(struct run_state *rs, struct vl_engine *e, const struct vl_batch *b,
		   pthread_mutex_t *cb_lock, struct vl_error *err)
{
	const struct vl_run_opts *o = &rs->o;
	double m = now();
	int rc;
	rs->s.records += b->n;
	if (rs->interval) {
		double before = rs->cb_seconds;
		struct vl_run_opts lo = *o;
		struct locked lk = { .o = o, .lock = cb_lock };
		if (cb_lock) {
			lo.on_interval = locked_interval;
			lo.interval_ctx = &lk;
		}
		rc = feed_split(e, b, rs->interval, &rs->time, &rs->next_boundary, &rs->pending, &lo,
				&rs->cb_seconds, err);
		rs->last_reported = rs->next_boundary - rs->interval;
		rs->s.sim_seconds += now() - m - (rs->cb_seconds - before);
	} else {
		rc = vl_engine_feed(e, b, err);
		rs->s.sim_seconds += now() - m;
	}
	if (rc < 0)
		return rc;
	/* the memory budget (run.max_memory), every MEMCHECK_EVERY batches:
	 * cheap (one read of /proc/self/statm), and a run stops with an
	 * error naming the budget instead of meeting the OOM killer */
	if (++rs->batches % MEMCHECK_EVERY == 0 &&
	    (rc = vl_memory_check(rs->budget, rs->budget_default, 0, "the run", err)) < 0) {
		if (err) {
			char why[sizeof(err->msg)];
			snprintf(why, sizeof(why), "%s", err->msg);
			vl_err(err, rc, "%s (after record %llu)", why, (unsigned long long)rs->s.records);
		}
		return rc;
	}
	if (o->progress && rs->s.records >= rs->next_report) {
		rs->next_report = rs->s.records + PROGRESS_EVERY;
		if (cb_lock)
			pthread_mutex_lock(cb_lock);
		int stop = o->progress(o->progress_ctx, rs->s.records);
		if (cb_lock)
			pthread_mutex_unlock(cb_lock);
		if (stop)
			return vl_err(err, VL_EINVAL, "run stopped by the progress callback");
	}
	return 0;
}

int run_state_finish(struct run_state *rs, struct vl_engine *e, uint64_t nfuture,
		     bool has_future, struct vl_error *err)
{
	if (!rs->interval)
		rs->time = vl_engine_counters(e)->accesses;
	if (has_future && rs->time != nfuture)
		return vl_err(err, VL_EINVAL, "trace replayed %llu accesses, pre-pass counted %llu",
			      (unsigned long long)rs->time, (unsigned long long)nfuture);
	if (rs->interval && (rs->pending || rs->time > rs->last_reported)) {
		rs->pending = false;
		return rs->o.on_interval(rs->o.interval_ctx, e, rs->time, err);
	}
	return 0;
}

int vl_run(struct vl_engine *e, struct vl_trace *t, vl_progress_fn progress, void *pctx,
	   struct vl_run_stats *st, struct vl_error *err)
{
	struct vl_run_opts o = { .size = sizeof(o), .progress = progress, .progress_ctx = pctx };
	return vl_run_ex(e, t, &o, st, err);
}

int vl_run_ex(struct vl_engine *e, struct vl_trace *t, const struct vl_run_opts *opts,
	      struct vl_run_stats *st, struct vl_error *err)
{
	struct run_state rs;
	VL_TRY(run_state_init(&rs, e, opts, err));
	if (st)
		VL_TRY(sized_check(st, RUN_STATS_V1, "struct vl_run_stats", err));
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		/* a second CPU: decode on this thread while another feeds the
		 * engine (same batches, same counters) */
		int erc = 0;
		struct vl_error eerr = { 0 };
		int rc = vl_run_multi(&e, 1, t, 2, &opts, &st, &erc, &eerr, err);
		return rc;
	}
	uint64_t *future = NULL, nfuture = 0;
	struct vl_batch b;
	double t0 = now();
	int rc = 0;

	if (vl_engine_needs_future(e)) {
		VL_TRY(vl_future_compute(t, &future, &nfuture, err));
		vl_engine_set_future(e, future, nfuture);
		rs.s.prepass_seconds = now() - t0;
	}
	if ((rc = vl_batch_init(&b, RUN_BATCH, err)) < 0) {
		free(future);
		return rc;
	}
	if (rs.o.on_start)
		rc = rs.o.on_start(rs.o.hook_ctx, e, err);
	while (rc == 0) {
		double a = now();
		ssize_t got = vl_trace_read(t, &b, err);
		rs.s.decode_seconds += now() - a;
		if (got < 0) {
			rc = (int)got;
			break;
		}
		if (got == 0)
			break;
		if ((rc = run_state_feed(&rs, e, &b, NULL, err)) < 0)
			break;
	}
	if (rc == 0)
		rc = run_state_finish(&rs, e, nfuture, future != NULL, err);
	vl_engine_set_future(e, NULL, 0);
	free(future);
	vl_batch_free(&b);
	rs.s.wall_seconds = now() - t0;
	if (st)
		sized_out(st, &rs.s, sizeof(rs.s));
	if (rc == 0 && rs.o.on_end)
		rc = rs.o.on_end(rs.o.hook_ctx, e, &rs.s, err);
	return rc;
}
