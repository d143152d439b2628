/* driver/multi.c - one decode, many configurations: replay a trace once
 * and feed every batch to several engines.
 *
 *   decoding thread (the caller):  read batch k+1 (and feed its share of
 *                                  engines when threads <= engines)
 *   worker threads (up to `threads`):  feed batch k to their engines
 *   wait for all, swap the two batches, repeat
 *
 * The decoding works in chunks of CHUNK batches, and each engine is fed a
 * whole chunk at a time (its structures stay in the caches meanwhile).
 * The threads take the engines of a chunk one at a time from a shared
 * list, costliest first (by the time each took on the previous chunk:
 * longest processing time first), so that the decoding thread, which
 * joins in once the next chunk is read, and engines of unequal cost (a
 * small memory faults more) leave no thread idle at the end of a chunk.
 * An engine is fed by one thread at a time, and all threads meet after
 * each chunk (under mu), which orders one chunk's feeding before the
 * next; the batches are read-only to the workers.  Each engine sees exactly the batches a vl_run_ex of its own
 * would see (same batch size, same splitting at timeline boundaries), so
 * its counters are bit-identical to a run of its own.  Timeline observers
 * (vl_run_opts.on_interval) are called under one lock: an observer that
 * writes a results file (HDF5 is not thread-safe) needs nothing more.  The
 * future pre-pass of policies that need it is computed once and shared.
 * An engine that fails stops there (its code in rcs[i], its message in
 * errs[i]); the others go on to the end of the trace.
 *
 * The start and end hooks (vl_run_opts.on_start, on_end: a sweep opens and
 * writes each cell's results file there) run on the feeding threads, under
 * the same lock: on_start before an engine's first chunk, on_end after its
 * last one.  The last chunk is known once the decoding thread's read of
 * the next one comes back empty (it publishes `last`); an engine a thread
 * finishes after that is ended by that thread while the others are still
 * fed, so the results of most engines are written while the last chunk is
 * replayed instead of after it, one thread at a time.  Engines finished
 * before `last` was known are ended by the caller's thread at the end.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/sized.h"
#include "core/thread.h"
#include "driver/driver.h"
#include "vmlab/engine.h"
#include "vmlab/run.h"

/* Batches decoded together: an engine is fed a whole chunk before the
 * thread moves on to its next engine, so that its structures stay in the
 * caches for CHUNK batches (feeding the engines batch by batch in turn
 * made them evict each other: slower than separate runs).  128 batches
 * (1M records, 32 MiB for the two chunks): the bench's 16-cell sweep took
 * 1.0 s of wall clock and 1.8 CPU-s with 32, 0.88 and 1.55 with 64, 0.81
 * and 1.45 with 128, each engine reloading its structures into the
 * caches less often (docs/benchmarks.md, "The single run's chunk"). */
#define CHUNK 128
/* A single engine's chunk (vl_run_ex on a machine with a second CPU): the
 * two threads meet once per chunk, and each meeting puts the feeding
 * thread to sleep and wakes it (a futex wait and an inter-processor wake,
 * dear in a VM).  Meeting after every batch (8,192 records) cost a
 * 20M-access lru run with --machine none 0.85 CPU-s and 0.89 s of wall
 * clock where 16 batches cost 0.64 and 0.58 (docs/benchmarks.md, "The
 * single run's chunk"). */
#define CHUNK1 16
struct chunk {
	struct vl_batch b[CHUNK];
	size_t nb, len; /* batches read, batches it holds (CHUNK1 for one engine) */
};

/* Decode up to c->len batches into c: the number of records (0 at the
 * end); *rc gets a read error, after the batches read before it. */
static size_t read_chunk(struct vl_trace *t, struct chunk *c, int *rc, struct vl_error *err)
{
	size_t total = 0;
	c->nb = 0;
	while (c->nb < c->len && *rc == 0) {
		ssize_t got = vl_trace_read(t, &c->b[c->nb], err);
		if (got < 0)
			*rc = (int)got;
		if (got <= 0)
			break;
		total += c->b[c->nb].n;
		c->nb++;
	}
	return total;
}

struct multi {
	struct vl_engine **e;
	size_t n;
	struct run_state *rs;
	int *rcs;
	struct vl_error *errs;
	unsigned nworkers;
	/* the workers wait for a new generation (a batch in cur, or stop) and
	 * count themselves out in pending */
	pthread_mutex_t mu;
	pthread_cond_t go, fin;
	unsigned gen, pending;
	bool stop;
	const struct chunk *cur;
	pthread_mutex_t cb_lock;
	/* the engines of the current chunk, costliest first; the threads
	 * take order[next++] until next reaches n */
	size_t *order;
	double *cost; /* seconds engine i took on the last chunk */
	size_t next;
	/* engine i's on_start called (or skipped: it failed before), and
	 * engine i ended (finish_engine); each touched only by the thread
	 * feeding engine i, and by the caller's thread once the workers are
	 * joined */
	bool *started, *ended;
	/* the last chunk, once known (published with release by the caller's
	 * thread; the records and the decoding time are final by then) */
	const struct chunk *last;
	uint64_t records;
	double decode, prepass, t0;
	uint64_t *future, nfuture;
	struct vl_run_stats *const *st;
};

struct worker {
	struct multi *m;
	unsigned id;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Engine i has been fed the whole trace (or has failed): its last
 * timeline row, the check against the pre-pass, its statistics, and the
 * end hook, all under the observers' lock. */
static void finish_engine(struct multi *m, size_t i)
{
	struct run_state *rs = &m->rs[i];
	pthread_mutex_lock(&m->cb_lock);
	if (m->rcs[i] == 0)
		m->rcs[i] = run_state_finish(rs, m->e[i], m->future ? m->nfuture : 0,
					     m->future && vl_engine_needs_future(m->e[i]), &m->errs[i]);
	vl_engine_set_future(m->e[i], NULL, 0);
	rs->s.records = m->records;
	rs->s.decode_seconds = m->decode;
	rs->s.prepass_seconds = m->prepass;
	rs->s.wall_seconds = now() - m->t0;
	if (m->st && m->st[i])
		sized_out(m->st[i], &rs->s, sizeof(rs->s));
	if (m->rcs[i] == 0 && rs->o.on_end)
		m->rcs[i] = rs->o.on_end(rs->o.hook_ctx, m->e[i], &rs->s, &m->errs[i]);
	pthread_mutex_unlock(&m->cb_lock);
	m->ended[i] = true;
}

/* Feed chunk c to engines taken from m->order until none is left. */
static void feed_mine(struct multi *m, const struct chunk *c)
{
	for (;;) {
		size_t j = __atomic_fetch_add(&m->next, 1, __ATOMIC_RELAXED);
		if (j >= m->n)
			break;
		size_t i = m->order[j];
		double a = now();
		if (!m->started[i]) {
			m->started[i] = true;
			if (m->rcs[i] == 0 && m->rs[i].o.on_start) {
				pthread_mutex_lock(&m->cb_lock);
				m->rcs[i] = m->rs[i].o.on_start(m->rs[i].o.hook_ctx, m->e[i],
								&m->errs[i]);
				pthread_mutex_unlock(&m->cb_lock);
			}
		}
		for (size_t k = 0; k < c->nb && m->rcs[i] == 0; k++)
			m->rcs[i] = run_state_feed(&m->rs[i], m->e[i], &c->b[k], &m->cb_lock,
						   &m->errs[i]);
		m->cost[i] = now() - a;
		if (__atomic_load_n(&m->last, __ATOMIC_ACQUIRE) == c)
			finish_engine(m, i);
	}
}

static int by_cost(const void *a, const void *b, void *arg)
{
	const double *cost = arg;
	double x = cost[*(const size_t *)a], y = cost[*(const size_t *)b];
	if (x != y)
		return x < y ? 1 : -1;
	return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct multi *m = w->m;
	unsigned seen = 0;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (m->gen == seen && !m->stop)
			pthread_cond_wait(&m->go, &m->mu);
		if (m->stop)
			break;
		seen = m->gen;
		const struct chunk *b = m->cur;
		pthread_mutex_unlock(&m->mu);
		feed_mine(m, b);
		pthread_mutex_lock(&m->mu);
		if (--m->pending == 0)
			pthread_cond_signal(&m->fin);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

int vl_run_multi(struct vl_engine **e, size_t n, struct vl_trace *t, unsigned threads,
		 const struct vl_run_opts *const *opts, struct vl_run_stats *const *st, int *rcs,
		 struct vl_error *errs, struct vl_error *err)
{
	if (n == 0)
		return 0;
	struct multi m = { .e = e, .n = n, .rcs = rcs, .errs = errs, .st = st };
	m.rs = calloc(n, sizeof(*m.rs));
	m.order = calloc(n, sizeof(*m.order));
	m.cost = calloc(n, sizeof(*m.cost));
	m.started = calloc(n, sizeof(*m.started));
	m.ended = calloc(n, sizeof(*m.ended));
	if (!m.rs || !m.order || !m.cost || !m.started || !m.ended) {
		free(m.rs);
		free(m.order);
		free(m.cost);
		free(m.started);
		free(m.ended);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		m.order[i] = i;
	for (size_t i = 0; i < n; i++) {
		rcs[i] = run_state_init(&m.rs[i], e[i], opts ? opts[i] : NULL, &errs[i]);
		if (rcs[i] == 0 && st && st[i])
			rcs[i] = sized_check(st[i], sizeof(size_t) + sizeof(uint64_t) + 4 * sizeof(double),
					     "struct vl_run_stats", &errs[i]);
	}
	m.t0 = now();
	int rc = 0;
	bool fed = false; /* the engines were fed: each has its own result */
	for (size_t i = 0; i < n; i++) {
		if (rcs[i] || !vl_engine_needs_future(e[i]))
			continue;
		if (!m.future) {
			if ((rc = vl_future_compute(t, &m.future, &m.nfuture, err)) < 0)
				goto out;
			m.prepass = now() - m.t0;
		}
		vl_engine_set_future(e[i], m.future, m.nfuture);
	}

	/* with a thread to spare, the caller's thread only decodes: every
	 * engine is fed by a worker of its own while the next batch is read */
	bool caller_feeds = threads <= n;
	m.nworkers = threads < 1 ? 1 : threads;
	if (m.nworkers > n)
		m.nworkers = (unsigned)n;
	struct chunk *b = calloc(2, sizeof(*b));
	if (!b) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	/* one engine keeps its caches anyway: fewer batches are enough (4 MiB
	 * for the two chunks instead of 32) */
	b[0].len = b[1].len = n == 1 ? CHUNK1 : CHUNK;
	for (size_t k = 0; k < 2 * CHUNK && rc == 0; k++)
		if (k % CHUNK < b[k / CHUNK].len)
			rc = vl_batch_init(&b[k / CHUNK].b[k % CHUNK], RUN_BATCH, err);
	if (rc < 0) {
		for (size_t k = 0; k < 2 * CHUNK; k++)
			vl_batch_free(&b[k / CHUNK].b[k % CHUNK]);
		free(b);
		goto out;
	}
	pthread_mutex_init(&m.cb_lock, NULL);
	pthread_mutex_init(&m.mu, NULL);
	pthread_cond_init(&m.go, NULL);
	pthread_cond_init(&m.fin, NULL);
	/* the caller's thread decodes and feeds worker 0's engines; fewer
	 * threads than asked for (pthread_create failed) is not an error */
	unsigned want = m.nworkers;
	pthread_t *tid = calloc(want, sizeof(*tid));
	struct worker *ws = calloc(want, sizeof(*ws));
	unsigned started = 0;
	if (!tid || !ws)
		want = 0; /* no threads: the caller feeds every engine */
	unsigned first = caller_feeds ? 1 : 0; /* worker 0 is the caller's thread */
	for (unsigned k = first; k < want; k++) {
		ws[k] = (struct worker){ .m = &m, .id = k };
		if (vl_thread_start(&tid[k - first], worker_main, &ws[k]) != 0)
			break;
		started++;
	}
	if (!caller_feeds && started == 0)
		caller_feeds = true; /* no thread at all: feed here */
	pthread_mutex_lock(&m.mu);
	m.nworkers = started + caller_feeds;
	pthread_mutex_unlock(&m.mu);
	fed = true;
	unsigned cur = 0;
	double a = now();
	int rrc = 0;
	size_t got = read_chunk(t, &b[cur], &rrc, err);
	m.decode += now() - a;
	while (got > 0 || b[cur].nb) {
		m.records += got;
		pthread_mutex_lock(&m.mu);
		m.cur = &b[cur];
		m.next = 0;
		m.pending = started;
		m.gen++;
		pthread_cond_broadcast(&m.go);
		pthread_mutex_unlock(&m.mu);
		/* decode the next chunk while the workers feed this one */
		a = now();
		size_t next = rrc ? 0 : read_chunk(t, &b[cur ^ 1], &rrc, err);
		if (rrc && next == 0)
			b[cur ^ 1].nb = 0;
		m.decode += now() - a;
		if (next == 0 && rrc == 0) /* the end: this chunk is the last */
			__atomic_store_n(&m.last, &b[cur], __ATOMIC_RELEASE);
		if (caller_feeds)
			feed_mine(&m, &b[cur]);
		pthread_mutex_lock(&m.mu);
		while (m.pending)
			pthread_cond_wait(&m.fin, &m.mu);
		pthread_mutex_unlock(&m.mu);
		if (n > 1) /* the next chunk: costliest first */
			qsort_r(m.order, n, sizeof(*m.order), by_cost, m.cost);
		got = next;
		cur ^= 1;
		size_t live = 0;
		for (size_t i = 0; i < n; i++)
			live += rcs[i] == 0;
		if (!live)
			break; /* every engine failed: no need to read on */
	}
	if (rrc < 0)
		rc = rrc;
	pthread_mutex_lock(&m.mu);
	m.stop = true;
	pthread_cond_broadcast(&m.go);
	pthread_mutex_unlock(&m.mu);
	for (unsigned k = 0; k < started; k++)
		pthread_join(tid[k], NULL);
	free(tid);
	free(ws);
	for (size_t i = 0; i < n; i++) {
		if (m.ended[i])
			continue; /* ended by the thread that fed its last chunk */
		if (rcs[i] == 0 && rc < 0) {
			rcs[i] = rc; /* the trace could not be read to its end */
			errs[i] = *err;
		}
		if (rcs[i] == 0 && !m.started[i] && m.rs[i].o.on_start) { /* an empty trace */
			pthread_mutex_lock(&m.cb_lock);
			rcs[i] = m.rs[i].o.on_start(m.rs[i].o.hook_ctx, e[i], &errs[i]);
			pthread_mutex_unlock(&m.cb_lock);
		}
		finish_engine(&m, i);
	}
	pthread_cond_destroy(&m.go);
	pthread_cond_destroy(&m.fin);
	pthread_mutex_destroy(&m.mu);
	pthread_mutex_destroy(&m.cb_lock);
	for (size_t k = 0; k < 2 * CHUNK; k++)
		vl_batch_free(&b[k / CHUNK].b[k % CHUNK]);
	free(b);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (rcs[i] < 0) {
			*err = errs[i];
			rc = rcs[i];
		}
out:
	for (size_t i = 0; rc < 0 && !fed && i < n; i++)
		if (rcs[i] == 0) { /* the pre-pass or the buffers failed: no engine ran */
			rcs[i] = rc;
			errs[i] = *err;
		}
	free(m.future);
	free(m.rs);
	free(m.order);
	free(m.cost);
	free(m.started);
	free(m.ended);
	return rc;
}
