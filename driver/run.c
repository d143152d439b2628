/* sim/run.c - drive a whole trace through an engine.
 *
 * read batch ─▶ feed engine ─▶ repeat; the time spent in the reader and in
 * the engine is measured separately (make bench reports both).  Policies
 * that need the future get the pre-pass first.  With a timeline observer and
 * stats.interval set, batches are fed in pieces that end exactly at interval
 * boundaries and the observer snapshots the engine between pieces, so the
 * engine's per-access loop carries no timeline work at all.
 */
#include <stdlib.h>
#include <time.h>

#include "sim/internal.h"

#define RUN_BATCH 8192
#define PROGRESS_EVERY (1u << 22)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Feed b in pieces that end at interval boundaries (counted in accesses:
 * the engine's time), calling the observer at each boundary reached.  Only
 * the driver scans the ops here; the engine's loop is unchanged. */
static int feed_split(struct vl_engine *e, const struct vl_batch *b, uint64_t interval,
		      uint64_t *next, const struct vl_run_opts *o, double *cb_seconds,
		      struct vl_error *err)
{
	size_t i = 0;
	while (i < b->n) {
		uint64_t need = *next - e->time; /* > 0 */
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
		i = j;
		if (e->time == *next) {
			double a = now();
			VL_TRY(o->on_interval(o->interval_ctx, e, e->time, err));
			*cb_seconds += now() - a;
			*next += interval;
		}
	}
	return 0;
}

int vl_run(struct vl_engine *e, struct vl_trace *t, vl_progress_fn progress, void *pctx,
	   struct vl_run_stats *st, struct vl_error *err)
{
	struct vl_run_opts o = { .progress = progress, .progress_ctx = pctx };
	return vl_run_ex(e, t, &o, st, err);
}

int vl_run_ex(struct vl_engine *e, struct vl_trace *t, const struct vl_run_opts *opts,
	      struct vl_run_stats *st, struct vl_error *err)
{
	static const struct vl_run_opts none;
	const struct vl_run_opts *o = opts ? opts : &none;
	vl_progress_fn progress = o->progress;
	void *pctx = o->progress_ctx;
	uint64_t interval = o->on_interval ? vl_config_u64(e->cfg, "stats.interval") : 0;
	uint64_t next_boundary = e->time + interval;
	uint64_t last_reported = e->time;
	double cb_seconds = 0;
	struct vl_run_stats s = { 0 };
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
			rc = feed_split(e, &b, interval, &next_boundary, o, &cb_seconds, err);
			last_reported = next_boundary - interval;
			s.sim_seconds += now() - m - (cb_seconds - before);
		} else {
			rc = vl_engine_feed(e, &b, err);
			s.sim_seconds += now() - m;
		}
		if (rc < 0)
			break;
		if (progress && s.records >= next_report) {
			next_report = s.records + PROGRESS_EVERY;
			if (progress(pctx, s.records)) {
				rc = vl_err(err, VL_EINVAL, "run stopped by the progress callback");
				break;
			}
		}
	}
	if (rc == 0 && future && e->time != nfuture)
		rc = vl_err(err, VL_EINVAL, "trace replayed %llu accesses, pre-pass counted %llu",
			    (unsigned long long)e->time, (unsigned long long)nfuture);
	if (rc == 0 && interval && e->time > last_reported)
		rc = o->on_interval(o->interval_ctx, e, e->time, err);
	vl_engine_set_future(e, NULL, 0);
	free(future);
	vl_batch_free(&b);
	s.wall_seconds = now() - t0;
	if (st)
		*st = s;
	return rc;
}
