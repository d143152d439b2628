/* sim/run.c - drive a whole trace through an engine.
 *
 * read batch ─▶ feed engine ─▶ repeat; the time spent in the reader and in
 * the engine is measured separately (make bench reports both).  Policies
 * that need the future get the pre-pass first.
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

int vl_run(struct vl_engine *e, struct vl_trace *t, vl_progress_fn progress, void *pctx,
	   struct vl_run_stats *st, struct vl_error *err)
{
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
		rc = vl_engine_feed(e, &b, err);
		s.sim_seconds += now() - m;
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
	vl_engine_set_future(e, NULL, 0);
	free(future);
	vl_batch_free(&b);
	s.wall_seconds = now() - t0;
	if (st)
		*st = s;
	return rc;
}
