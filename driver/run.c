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
#include <time.h>

#include "core/memory.h"
#include "core/sized.h"
#include "vmlab/engine.h"
#include "vmlab/run.h"

#define RUN_BATCH 8192
#define MEMCHECK_EVERY 16 /* batches */
#define PROGRESS_EVERY (1u << 22)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feed b in pieces that end at interval boundaries (counted in accesses:
 * the engine's time, *time here), calling the observer at each boundary
 * reached.  Only the driver scans the ops here; the engine's loop is
 * unchanged. */
static int feed_split(struct vl_engine *e, const struct vl_batch *b, uint64_t interval,
		      uint64_t *time, uint64_t *next, const struct vl_run_opts *o,
		      double *cb_seconds, struct vl_error *err)
{
	size_t i = 0;
	while (i < b->n) {
		uint64_t need = *next - *time; /* > 0 */
		size_t j = i;
		while (j < b->n && need) {
			if (b->recs[j].op < VL_OP_NACCESS)
				need--;
			j++;
		}
		struct vl_batch view = *b;
		view.recs = b->recs + i;
		view.n = j - i;
		view.cap = view.n;
		VL_TRY(vl_engine_feed(e, &view, err));
		*time = *next - need;
		i = j;
		if (*time == *next) {
			double a = now();
			VL_TRY(o->on_interval(o->interval_ctx, e, *time, err));
			*cb_seconds += now() - a;
			*next += interval;
		}
	}
	return 0;
}

int vl_run(struct vl_engine *e, struct vl_trace *t, vl_progress_fn progress, void *pctx,
	   struct vl_run_stats *st, struct vl_error *err)
{
	struct vl_run_opts o = { .size = sizeof(o), .progress = progress, .progress_ctx = pctx };
	return vl_run_ex(e, t, &o, st, err);
}

/* The first release's sizes (core/sized.h): fixed when fields are added. */
#define RUN_OPTS_V1 (offsetof(struct vl_run_opts, interval_ctx) + sizeof(void *))
#define RUN_STATS_V1 (offsetof(struct vl_run_stats, wall_seconds) + sizeof(double))

int vl_run_ex(struct vl_engine *e, struct vl_trace *t, const struct vl_run_opts *opts,
	      struct vl_run_stats *st, struct vl_error *err)
{
	struct vl_run_opts ob = { 0 };
	if (opts)
		VL_TRY(sized_in(&ob, sizeof(ob), opts, RUN_OPTS_V1, "struct vl_run_opts", err));
	if (st)
		VL_TRY(sized_check(st, RUN_STATS_V1, "struct vl_run_stats", err));
	const struct vl_run_opts *o = &ob;
	vl_progress_fn progress = o->progress;
	void *pctx = o->progress_ctx;
	uint64_t time = vl_engine_counters(e)->accesses; /* the engine's clock */
	uint64_t interval = o->on_interval ? vl_config_u64(vl_engine_config(e), "stats.interval") : 0;
	uint64_t next_boundary = time + interval;
	uint64_t last_reported = time;
	double cb_seconds = 0;
	struct vl_run_stats s = { .size = sizeof(s) };
	uint64_t *future = NULL, nfuture = 0;
	struct vl_batch b;
	double t0 = now();
	int rc = 0;

	if (vl_engine_needs_future(e)) {
		VL_TRY(vl_future_compute(t, &future, &nfuture, err));
		vl_engine_set_future(e, future, nfuture);
		s.prepass_seconds = now() - t0;
	}
	if ((rc = vl_batch_init(&b, RUN_BATCH, err)) < 0) {
		free(future);
		return rc;
	}
	uint64_t next_report = PROGRESS_EVERY;
	/* the memory budget (run.max_memory), every MEMCHECK_EVERY batches:
	 * cheap (one read of /proc/self/statm), and a run stops with an
	 * error naming the budget instead of meeting the OOM killer */
	const struct vl_config *cfg = vl_engine_config(e);
	uint64_t budget = vl_memory_budget(cfg);
	bool bdefault = !vl_config_u64(cfg, "run.max_memory");
	unsigned batches = 0;
	for (;;) {
		double a = now();
		ssize_t got = vl_trace_read(t, &b, err);
		double m = now();
		s.decode_seconds += m - a;
		if (got < 0) {
			rc = (int)got;
			break;
		}
		if (got == 0)
			break;
		s.records += b.n;
		if (interval) {
			double before = cb_seconds;
			rc = feed_split(e, &b, interval, &time, &next_boundary, o, &cb_seconds, err);
			last_reported = next_boundary - interval;
			s.sim_seconds += now() - m - (cb_seconds - before);
		} else {
			rc = vl_engine_feed(e, &b, err);
			s.sim_seconds += now() - m;
		}
		if (rc < 0)
			break;
		if (++batches % MEMCHECK_EVERY == 0 &&
		    (rc = vl_memory_check(budget, bdefault, 0, "the run", err)) < 0) {
			if (err) {
				char why[sizeof(err->msg)];
				snprintf(why, sizeof(why), "%s", err->msg);
				vl_err(err, rc, "%s (after record %llu)", why,
				       (unsigned long long)s.records);
			}
			break;
		}
		if (progress && s.records >= next_report) {
			next_report = s.records + PROGRESS_EVERY;
			if (progress(pctx, s.records)) {
				rc = vl_err(err, VL_EINVAL, "run stopped by the progress callback");
				break;
			}
		}
	}
	if (rc == 0 && !interval)
		time = vl_engine_counters(e)->accesses;
	if (rc == 0 && future && time != nfuture)
		rc = vl_err(err, VL_EINVAL, "trace replayed %llu accesses, pre-pass counted %llu",
			    (unsigned long long)time, (unsigned long long)nfuture);
	if (rc == 0 && interval && time > last_reported)
		rc = o->on_interval(o->interval_ctx, e, time, err);
	vl_engine_set_future(e, NULL, 0);
	free(future);
	vl_batch_free(&b);
	s.wall_seconds = now() - t0;
	if (st)
		sized_out(st, &s, sizeof(s));
	return rc;
}
