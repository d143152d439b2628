/* core/memory.c - the memory budget's measurements (core/memory.h). */
#include <stdio.h>
#include <unistd.h>

#include "core/memory.h"

uint64_t vl_host_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	return pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;
}

uint64_t vl_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, resident = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	long psz = sysconf(_SC_PAGESIZE);
	return psz > 0 ? resident * (uint64_t)psz : 0;
}

uint64_t vl_memory_budget(const struct vl_config *cfg)
{
	uint64_t b = cfg ? vl_config_u64(cfg, "run.max_memory") : 0;
	if (b)
		return b;
	uint64_t host = vl_host_memory();
	return host ? host / 4 * 3 : UINT64_MAX;
}

static void gib(char *buf, size_t len, uint64_t bytes)
{
	if (bytes < (1ull << 30))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, len, "%.1f GiB", (double)bytes / (double)(1ull << 30));
}

int vl_memory_check(uint64_t budget, bool dflt, uint64_t more, const char *what,
		    struct vl_error *err)
{
	if (budget == UINT64_MAX)
		return 0;
	uint64_t rss = vl_rss();
	if (rss + more <= budget)
		return 0;
	char b[32], r[32], m[32];
	gib(b, sizeof(b), budget);
	gib(r, sizeof(r), rss);
	gib(m, sizeof(m), more);
	char need[160];
	if (more)
		snprintf(need, sizeof(need), "%s would need %s more, with %s in use", what, m, r);
	else
		snprintf(need, sizeof(need), "%s uses %s", what, r);
	return vl_err(err, VL_ELIMIT,
		      "run.max_memory: %s, over the budget of %s%s; stopped before the system runs "
		      "out of memory (simulate less memory or a smaller trace, or raise "
		      "run.max_memory)",
		      need, b, dflt ? " (3/4 of this host's memory, the default)" : "");
}
