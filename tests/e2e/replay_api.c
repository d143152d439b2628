/* tests/e2e/replay_api.c - a program that knows vmlab only through its
 * installed headers and pkg-config (tests/e2e/library.sh builds it against
 * `make install PREFIX=...`, shared and static).  It builds the
 * configuration `vmlab run` builds (machine preset, then OS preset, then
 * -s settings), replays the trace through the public API and prints every
 * counter as name=value, then each process's, for the test to compare
 * with `vmlab run --json`.
 *
 *   usage: replay_api TRACE MACHINE OS [KEY=VALUE]...
 */
#include <stdio.h>
#include <stdlib.h>

#include <vmlab/vmlab.h>

static int fail(const char *what, const struct vl_error *err)
{
	fprintf(stderr, "replay_api: %s: %s\n", what, err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: replay_api TRACE MACHINE OS [KEY=VALUE]...\n");
		return 2;
	}
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	if (vl_config_new(&cfg, &err) < 0)
		return fail("configuration", &err);
	if (vl_config_load_preset(cfg, "machines", argv[2], &err) < 0 ||
	    vl_config_load_preset(cfg, "os", argv[3], &err) < 0)
		return fail("preset", &err);
	for (int i = 4; i < argc; i++)
		if (vl_config_set_arg(cfg, argv[i], &err) < 0)
			return fail(argv[i], &err);
	struct vl_engine *e;
	if (vl_engine_new(&e, cfg, &err) < 0)
		return fail("engine", &err);
	vl_config_free(cfg);
	struct vl_trace *t;
	if (vl_trace_open(&t, argv[1], NULL, &err) < 0)
		return fail("trace", &err);

	/* a struct that grows must say its size: one that does not is refused,
	 * before anything is read */
	struct vl_run_stats unset = { 0 };
	if (vl_run(e, t, NULL, NULL, &unset, &err) != VL_EINVAL) {
		fprintf(stderr, "replay_api: vl_run accepted a vl_run_stats without its size\n");
		return 1;
	}
	struct vl_run_stats st = { .size = sizeof(st) };
	if (vl_run(e, t, NULL, NULL, &st, &err) < 0)
		return fail("run", &err);
	vl_trace_close(t);

	printf("records=%llu\n", (unsigned long long)st.records);
	size_t n = vl_engine_counter_list(e, NULL, NULL, 0);
	const char **names = malloc(n * sizeof(*names));
	uint64_t *values = malloc(n * sizeof(*values));
	if (!names || !values)
		return 2;
	vl_engine_counter_list(e, names, values, n);
	for (size_t i = 0; i < n; i++)
		printf("%s=%llu\n", names[i], (unsigned long long)values[i]);
	free(names);
	free(values);
	for (size_t i = 0; i < vl_engine_nprocs(e); i++) {
		struct vl_proc_counters p = { .size = sizeof(p) };
		if (vl_engine_proc_counters(e, i, &p) < 0)
			return 2;
#define P(f) printf("p%u.%s=%llu\n", (unsigned)p.pid, #f, (unsigned long long)p.f)
		P(accesses);
		P(faults);
		P(faults_demand_zero);
		P(faults_soft);
		P(faults_hard);
		P(faults_cow);
		P(access_violations);
		P(commit_pages);
		P(evictions);
		P(writebacks);
		P(resident_pages);
		P(heap_allocs);
		P(heap_frees);
		P(heap_bytes_peak);
		P(heap_committed_peak);
		P(heap_decommits);
		P(heap_releases);
		P(heap_errors);
#undef P
	}
	fprintf(stderr, "replay_api: vmlab %s, %zu counters\n", vl_version(), n);
	vl_engine_free(e);
	return 0;
}
