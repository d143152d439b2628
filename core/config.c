/* core/config.c - the configuration schema, layering and INI loading.
 *
 * Declared keys live in one array of definitions (the built-in schema
 * below, then policy parameters declared at creation).  Values set by a
 * layer are kept as text in a second array; a key never set reads as its
 * default.  Values are validated when set, so the getters cannot fail.
 * INI files and presets are read by core/ini.c (lines of any length up to
 * 64 KiB, never split); its callback composes "section.name".
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ini.h"
#include "core/internal.h"

/* The built-in schema.  Every key a run reads is here, with its default;
 * docs/config.md documents the same list (a test keeps them in step). */
static const struct vl_key_def builtin_keys[] = {
	{ "os.personality", VL_KT_ENUM, "textbook",
	  "memory-manager personality the model follows (use --os NAME for the full preset)",
	  "textbook|windows|linux", 0, 0, NULL },
	{ "heap.model", VL_KT_STR, "captured",
	  "heap manager the captured malloc/free replay under: captured (addresses as recorded) or a "
	  "heap model (docs/heap.md)", NULL, 0, 0, NULL },
	{ "memory.frames", VL_KT_U64, "16384",
	  "physical memory in 4 KiB frames", NULL, 1, 2147483647.0, "memory.size" },
	{ "memory.size", VL_KT_SIZE, "",
	  "physical memory in bytes (64M, 2G); overrides memory.frames", NULL, 4096,
	  8796093022208.0, "memory.frames" },
	{ "replacement.policy", VL_KT_POLICY, "lru",
	  "page-replacement policy (see `vmlab policies`)", NULL, 0, 0, NULL },
	{ "pagefile.size", VL_KT_SIZE, "0",
	  "page-file size in bytes (its initial size when it may grow); 0 = unlimited, or "
	  "system-managed with pagefile.managed", NULL, 0, 0, NULL },
	{ "pagefile.max", VL_KT_SIZE, "",
	  "largest size the page file grows to when commit needs it; unset: pagefile.size "
	  "(no growth), or the system-managed maximum", NULL, 0, 0, NULL },
	{ "pagefile.managed", VL_KT_BOOL, "off",
	  "a system-managed page file (windows): with pagefile.size = 0, initial RAM (1.5 x RAM "
	  "below 1 GiB), maximum max(3 x RAM, 4 GiB)", NULL, 0, 0, NULL },
	{ "run.seed", VL_KT_U64, "1",
	  "seed for every randomized choice; same seed, same result", NULL, 0, 0, NULL },
	{ "run.check", VL_KT_BOOL, "off",
	  "check the model's invariants after every batch (slow; for tests)", NULL, 0, 0, NULL },
	{ "run.max_memory", VL_KT_SIZE, "0",
	  "memory budget in bytes: a run that would use more stops with an error instead of "
	  "meeting the OOM killer; 0 = 3/4 of the host's memory", NULL, 0, 0, NULL },
	{ "run.on_av", VL_KT_ENUM, "count",
	  "on an access violation: count it, or also stop replaying that process",
	  "count|stop-process", 0, 0, NULL },
	{ "memory.pt_frames", VL_KT_BOOL, "off",
	  "page-table pages occupy physical frames (windows, linux)", NULL, 0, 0, NULL },
	{ "anon.zero_page", VL_KT_BOOL, "off",
	  "a read of an untouched anonymous page maps the shared zero page (linux)", NULL, 0, 0,
	  NULL },
	{ "anon.dz_dirty", VL_KT_BOOL, "off",
	  "demand-zero pages start dirty, so they are written before reuse (windows)", NULL, 0, 0,
	  NULL },
	{ "anon.count_zeroing", VL_KT_BOOL, "off",
	  "count the zero fill of each 4 KiB demand-zero page in zeroed_pages (linux, windows; "
	  "large pages and the zero page thread are always counted)", NULL, 0, 0, NULL },
	{ "commit.pt_pages", VL_KT_BOOL, "off",
	  "page-table pages in frames are charged to their process's commit (windows)", NULL, 0,
	  0, NULL },
	{ "commit.overcommit", VL_KT_BOOL, "off",
	  "never refuse a commit (linux overcommit); else the limit is frames + page file",
	  NULL, 0, 0, NULL },
	{ "file.read_cluster", VL_KT_U64, "1",
	  "pages read per hard fault on a mapped file; extra pages go to standby (windows)", NULL,
	  1, 64, NULL },
	{ "pagecache.warm", VL_KT_ENUM, "all",
	  "files mapped by V MMAP (captured Linux programs) start in the page cache (all: a "
	  "first touch is a minor fault) or on disk only (none: major fault and a read)",
	  "all|none", 0, 0, NULL },
	{ "swap.cache", VL_KT_BOOL, "off",
	  "the linux swap cache: a page read from swap keeps its slot until written, swap "
	  "readahead brings neighbours in, a fault that finds its page there is minor (linux)",
	  NULL, 0, 0, NULL },
	{ "swap.page_cluster", VL_KT_U64, "3",
	  "swap readahead reads up to 2^N pages per major fault (vm.page-cluster; 0 = none; "
	  "with swap.cache)", NULL, 0, 10, NULL },
	{ "swap.vma_readahead", VL_KT_BOOL, "on",
	  "readahead by virtual address around the fault, else by swap slot "
	  "(/sys/kernel/mm/swap/vma_ra_enabled; with swap.cache)", NULL, 0, 0, NULL },
	{ "swap.rotational", VL_KT_BOOL, "off",
	  "a swap device is rotational (as a virtual disk may say): Linux then reads ahead by "
	  "swap slot whatever swap.vma_readahead says", NULL, 0, 0, NULL },
	{ "swap.synchronous", VL_KT_BOOL, "off",
	  "the swap device is synchronous (zram, a RAM disk, pmem): a swap-in reads just its page "
	  "past the swap cache, a major fault, and frees the slot (with swap.cache)",
	  NULL, 0, 0, NULL },
	{ "memory.limit", VL_KT_SIZE, "",
	  "memory-cgroup limit in bytes: the processes get at most this many bytes of frames "
	  "(their anonymous, page-cache, swap-cache and page-table pages); unset: no limit",
	  NULL, 4096, 8796093022208.0, NULL },
	{ "pagecache.resident", VL_KT_STR, "",
	  "file listing the pages of each V MMAP file cached at the start when pagecache.warm = "
	  "none (FILEID PAGES per line: docs/config.md); empty: none",
	  NULL, 0, 0, NULL },
	{ "file.readaround", VL_KT_U64, "0",
	  "linux: pages read into the page cache around a hard fault on a mapped file, half "
	  "before it (mmap read-around: the device's read_ahead_kb / 4); 0: the page alone",
	  NULL, 0, 65536, NULL },
	{ "file.cow_read_major", VL_KT_BOOL, "off",
	  "a copy-on-write fault on a file page that must be read first counts as a hard "
	  "(major) fault, as Linux counts it (linux: on); off: a copy-on-write fault",
	  NULL, 0, 0, NULL },
	{ "file.fault_around", VL_KT_U64, "1",
	  "pages of the aligned window mapped around a file read fault when cached (linux: 16)",
	  NULL, 1, 512, NULL },
	{ "file.fault_around_phase", VL_KT_U64, "0",
	  "the fault-around window is aligned as if every address were this many pages higher "
	  "(where ASLR would have put the mappings); vmlab validate averages the 16 phases",
	  NULL, 0, 511, NULL },
	{ "ws.min_pages", VL_KT_U64, "",
	  "working-set minimum, pages (windows); unset: 50, at most frames/16", NULL, 0,
	  4294967295.0, NULL },
	{ "ws.max_pages", VL_KT_U64, "345",
	  "working-set maximum, pages: a soft limit while memory is plentiful (windows)", NULL, 1,
	  4294967295.0, NULL },
	{ "wsm.available_pages", VL_KT_U64, "",
	  "the working-set manager trims when available pages fall below this goal (windows); "
	  "unset: 400 (800 from 63 MiB), at most frames/8", NULL, 0, 0, NULL },
	{ "wsm.interval", VL_KT_U64, "0",
	  "accesses between working-set manager passes; 0 = once per wsm.period of the model "
	  "clock (windows)", NULL, 0, 0, NULL },
	{ "wsm.period", VL_KT_DOUBLE, "1",
	  "simulated seconds between working-set manager passes (the balance-set manager's timer)",
	  NULL, 1e-9, 1e9, NULL },
	{ "cost.file_read", VL_KT_DOUBLE, "0",
	  "cycles per page read from a mapped file (0: left out, as before 0.3; the windows "
	  "preset sets 300000)", NULL, 0, 1e15, NULL },
	{ "cost.file_write", VL_KT_DOUBLE, "0",
	  "cycles per dirty mapped-file page written back (0: left out; windows: 300000)", NULL,
	  0, 1e15, NULL },
	{ "cost.hz", VL_KT_DOUBLE, "3e9",
	  "cycles per simulated second: the model clock is est_cycles / cost.hz", NULL, 1, 1e15,
	  NULL },
	{ "wsm.zero_thread", VL_KT_BOOL, "on",
	  "each pass zeroes the free frames (counted in zeroed_pages) (windows)", NULL, 0, 0, NULL },
	{ "mpw.threshold_pages", VL_KT_U64, "",
	  "the modified page writer runs when the modified list is longer (windows); unset: "
	  "min(frames/16, 16384)", NULL, 0, 0, NULL },
	{ "mpw.cluster_pages", VL_KT_U64, "16",
	  "pages the modified page writer writes per I/O when memory runs out (windows)", NULL, 1,
	  65536, NULL },
	{ "stats.interval", VL_KT_U64, "0",
	  "timeline interval in accesses: results get one row per interval; 0 = no timeline",
	  NULL, 0, 0, NULL },
	/* ---- address translation (issue 3) ---- */
	{ "machine.name", VL_KT_STR, "", "name of the machine preset the TLB geometry came from",
	  NULL, 0, 0, NULL },
	{ "memory.fragmentation", VL_KT_DOUBLE, "0",
	  "fraction of 2 MiB blocks holding one pinned (unmovable) frame from the start", NULL, 0,
	  1, NULL },
	{ "tlb.*.level", VL_KT_U64, "1", "TLB level of structure NAME (1 is probed first)", NULL, 1,
	  8, NULL },
	{ "tlb.*.kind", VL_KT_ENUM, "unified", "translations it holds: data, instr or unified",
	  "data|instr|unified", 0, 0, NULL },
	{ "tlb.*.entries", VL_KT_U64, "64", "entries of TLB NAME", NULL, 1, 1048576, NULL },
	{ "tlb.*.ways", VL_KT_U64, "4", "associativity (ways = entries: fully associative)", NULL, 1,
	  1048576, NULL },
	{ "tlb.*.page_sizes", VL_KT_STR, "4k", "page sizes it holds: comma list of 4k, 2m, 1g", NULL,
	  0, 0, NULL },
	{ "tlb.*.replacement", VL_KT_STR, "lru", "in-set replacement: lru, plru, random, fifo, srrip",
	  NULL, 0, 0, NULL },
	{ "tlb.pcid", VL_KT_BOOL, "off",
	  "tag TLB entries with the process (PCID): context switches flush nothing", NULL, 0, 0,
	  NULL },
	{ "psc.pml4e.entries", VL_KT_U64, "0", "PML4-entry walk-cache entries (0 = none)", NULL, 0,
	  65536, NULL },
	{ "psc.pml4e.ways", VL_KT_U64, "0", "PML4-entry cache ways (0 = fully associative)", NULL, 0,
	  65536, NULL },
	{ "psc.pdpte.entries", VL_KT_U64, "0", "PDPT-entry walk-cache entries (0 = none)", NULL, 0,
	  65536, NULL },
	{ "psc.pdpte.ways", VL_KT_U64, "0", "PDPT-entry cache ways (0 = fully associative)", NULL, 0,
	  65536, NULL },
	{ "psc.pde.entries", VL_KT_U64, "0", "PD-entry walk-cache entries (0 = none)", NULL, 0,
	  65536, NULL },
	{ "psc.pde.ways", VL_KT_U64, "0", "PD-entry cache ways (0 = fully associative)", NULL, 0,
	  65536, NULL },
	{ "largepage.policy", VL_KT_STR, "none",
	  "large-page policy: none, always, madvise, promote, reservation", NULL, 0, 0, NULL },
	{ "largepage.interval", VL_KT_U64, "1000000",
	  "accesses between large-page policy scans (promote)", NULL, 1, 1e18, NULL },
	{ "cost.tlb_hit", VL_KT_DOUBLE, "1", "cycles per access for the first-level TLB lookup",
	  NULL, 0, 1e9, NULL },
	{ "cost.tlb_miss", VL_KT_DOUBLE, "7", "cycles added per TLB level missed", NULL, 0, 1e9,
	  NULL },
	{ "cost.walk_ref", VL_KT_DOUBLE, "25", "cycles per page-walk memory reference", NULL, 0, 1e9,
	  NULL },
	{ "cost.dirty_update", VL_KT_DOUBLE, "25",
	  "cycles per dirty-bit update by a store through a clean TLB entry", NULL, 0, 1e9, NULL },
	{ "cost.tlb_flush", VL_KT_DOUBLE, "100", "cycles per TLB flush at a context switch", NULL, 0,
	  1e9, NULL },
	{ "cost.fault", VL_KT_DOUBLE, "2000", "cycles per page fault (trap and handler)", NULL, 0,
	  1e12, NULL },
	{ "cost.page_zero", VL_KT_DOUBLE, "500", "cycles per 4 KiB page zero-filled", NULL, 0, 1e12,
	  NULL },
	{ "cost.page_copy", VL_KT_DOUBLE, "1000",
	  "cycles per 4 KiB page copied (large-page collapse)", NULL, 0, 1e12, NULL },
	{ "cost.pagefile_read", VL_KT_DOUBLE, "300000",
	  "cycles per page read from the page file (hard-fault I/O)", NULL, 0, 1e15, NULL },
	{ "cost.pagefile_write", VL_KT_DOUBLE, "300000", "cycles per page written to the page file",
	  NULL, 0, 1e15, NULL },
	{ "memory.page_size", VL_KT_SIZE, "4096",
	  "base page size of the machine; only 4 KiB is modelled (vmlab host records the host's)",
	  NULL, 4096, 4096, NULL },
	{ "thp.enabled", VL_KT_ENUM, "never",
	  "transparent huge pages: always, only in MADV_HUGEPAGE ranges, or never (linux)",
	  "always|madvise|never", 0, 0, NULL },
	{ "thp.defrag", VL_KT_ENUM, "madvise",
	  "host THP defrag mode, recorded (the model's 2 MiB allocations never stall)",
	  "always|defer|defer+madvise|madvise|never", 0, 0, NULL },
	{ "thp.use_zero_page", VL_KT_BOOL, "on",
	  "a read fault in a THP-eligible empty 2 MiB range maps the huge zero page (linux)", NULL,
	  0, 0, NULL },
	{ "thp.khugepaged", VL_KT_BOOL, "off",
	  "periodic scans collapse 4 KiB-mapped eligible ranges into huge pages (linux)", NULL, 0,
	  0, NULL },
	{ "thp.khugepaged.interval", VL_KT_U64, "1000000", "accesses between khugepaged scans",
	  NULL, 1, 1e18, NULL },
	{ "thp.khugepaged.pages_to_scan", VL_KT_U64, "4096",
	  "PTEs a scan examines (whole 2 MiB ranges of 512)", NULL, 512, 1e18, NULL },
	{ "thp.khugepaged.max_ptes_none", VL_KT_U64, "511",
	  "most empty or zero-page PTEs a range may have and still collapse", NULL, 0, 511, NULL },
	{ "events.pmu", VL_KT_STR, "",
	  "libpfm4 name of the core PMU the events.* names belong to (machine presets)", NULL, 0,
	  0, NULL },
	{ "events.page_faults", VL_KT_STR, "perf::PAGE-FAULTS",
	  "libpfm4 name of the event counting every page fault", NULL, 0, 0, NULL },
	{ "events.minor_faults", VL_KT_STR, "perf::MINOR-FAULTS",
	  "libpfm4 name of the event counting faults resolved without I/O", NULL, 0, 0, NULL },
	{ "events.major_faults", VL_KT_STR, "perf::MAJOR-FAULTS",
	  "libpfm4 name of the event counting faults that needed I/O", NULL, 0, 0, NULL },
	{ "events.instructions", VL_KT_STR, "perf::INSTRUCTIONS",
	  "libpfm4 name of the retired-instructions event", NULL, 0, 0, NULL },
	{ "events.dtlb_l2_hits", VL_KT_STR, "",
	  "libpfm4 name of the event counting first-level data TLB misses that hit the second level",
	  NULL, 0, 0, NULL },
	{ "events.dtlb_walks", VL_KT_STR, "",
	  "libpfm4 name of the data-side page-walk (last-level TLB miss) event; per CPU", NULL, 0,
	  0, NULL },
	{ "events.itlb_l2_hits", VL_KT_STR, "",
	  "libpfm4 name of the event counting first-level instruction TLB misses that hit the second level",
	  NULL, 0, 0, NULL },
	{ "events.itlb_walks", VL_KT_STR, "",
	  "libpfm4 name of the instruction-side page-walk event; per CPU", NULL, 0, 0, NULL },
	{ "events.walk_cycles", VL_KT_STR, "",
	  "libpfm4 name of the page-walk cycles event (empty where the CPU has none)", NULL, 0, 0,
	  NULL },
};

struct val {
	char *key, *value, *origin;
};

struct vl_config {
	struct vl_key_def *defs;
	char **owned;          /* per def: malloc'd key string for declared keys, or NULL */
	size_t ndefs, defs_cap;
	struct val *vals;
	size_t nvals, vals_cap;
	char *conflicts; /* lines "A (origin) and B (origin) ...", for vl_config_warnings */
};

/* ---- parsing helpers ---- */

int vl_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return VL_EINVAL;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		for (const char *q = s; *q; q++)
			if (!isxdigit((unsigned char)*q))
				return VL_EINVAL; /* strtoull would take "0x0x5" */
		if (!*s)
			return VL_EINVAL;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return VL_EINVAL;
	*out = v;
	return 0;
}

int vl_parse_size(const char *s, uint64_t *out_bytes)
{
	if (!s || !*s || !isdigit((unsigned char)*s))
		return VL_EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return VL_EINVAL;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return VL_EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return VL_EINVAL;
	*out_bytes = (uint64_t)v << shift;
	return 0;
}

int vl_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return VL_EINVAL;
}

/* ---- schema ---- */

static bool key_matches(const char *pattern, const char *key)
{
	while (*pattern && *key) {
		if (pattern[0] == '*' && (pattern[1] == '.' || pattern[1] == '\0')) {
			const char *dot = strchr(key, '.');
			if (!dot)
				return pattern[1] == '\0';
			if (dot == key)
				return false;
			key = dot;
			pattern++;
			continue;
		}
		if (*pattern != *key)
			return false;
		pattern++;
		key++;
	}
	return *pattern == '\0' && *key == '\0';
}

static const struct vl_key_def *find_def(const struct vl_config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->ndefs; i++)
		if (key_matches(cfg->defs[i].key, key))
			return &cfg->defs[i];
	return NULL;
}

static int add_def(struct vl_config *cfg, const struct vl_key_def *d, char *owned)
{
	if (cfg->ndefs == cfg->defs_cap) {
		size_t ncap = cfg->defs_cap ? cfg->defs_cap * 2 : 32;
		struct vl_key_def *nd = realloc(cfg->defs, ncap * sizeof(*nd));
		if (!nd)
			return VL_ENOMEM;
		cfg->defs = nd;
		char **no = realloc(cfg->owned, ncap * sizeof(*no));
		if (!no)
			return VL_ENOMEM;
		cfg->owned = no;
		cfg->defs_cap = ncap;
	}
	cfg->defs[cfg->ndefs] = *d;
	cfg->owned[cfg->ndefs] = owned;
	if (owned)
		cfg->defs[cfg->ndefs].key = owned;
	cfg->ndefs++;
	return 0;
}

static int declare_one(struct vl_config *cfg, const struct vl_key_def *d, const char *prefix,
		       struct vl_error *err)
{
	char *key = NULL;
	if (prefix) {
		size_t n = strlen(prefix) + strlen(d->key) + 2;
		key = malloc(n);
		if (!key)
			return vl_err(err, VL_ENOMEM, "out of memory declaring keys");
		snprintf(key, n, "%s.%s", prefix, d->key);
	}
	const char *k = key ? key : d->key;
	for (size_t i = 0; i < cfg->ndefs; i++) {
		if (!strcmp(cfg->defs[i].key, k)) {
			bool same = cfg->defs[i].type == d->type && !strcmp(cfg->defs[i].def, d->def);
			free(key);
			return same ? 0 : vl_err(err, VL_EINVAL, "key %s declared twice, differently", k);
		}
	}
	if (add_def(cfg, d, key) < 0) {
		free(key);
		return vl_err(err, VL_ENOMEM, "out of memory declaring keys");
	}
	return 0;
}

int vl_config_declare(struct vl_config *cfg, const struct vl_key_def *defs, size_t n,
		      struct vl_error *err)
{
	for (size_t i = 0; i < n; i++)
		VL_TRY(declare_one(cfg, &defs[i], NULL, err));
	return 0;
}

int vl_config_new(struct vl_config **out, struct vl_error *err)
{
	struct vl_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return vl_err(err, VL_ENOMEM, "out of memory for configuration");
	int rc = vl_config_declare(cfg, builtin_keys, sizeof(builtin_keys) / sizeof(builtin_keys[0]),
				   err);
	/* Parameters of every registered replacement policy. */
	for (size_t i = 0; rc == 0 && vl_repl_at(i); i++) {
		const struct vl_repl_ops *ops = vl_repl_at(i);
		char prefix[128];
		snprintf(prefix, sizeof(prefix), "replacement.%s", ops->name);
		for (size_t j = 0; rc == 0 && j < ops->nparams; j++)
			rc = declare_one(cfg, &ops->params[j], prefix, err);
	}
	/* Parameters of every registered large-page policy. */
	for (size_t i = 0; rc == 0 && vl_lp_at(i); i++) {
		const struct vl_lp_ops *ops = vl_lp_at(i);
		char prefix[128];
		snprintf(prefix, sizeof(prefix), "largepage.%s", ops->name);
		for (size_t j = 0; rc == 0 && j < ops->nparams; j++)
			rc = declare_one(cfg, &ops->params[j], prefix, err);
	}
	if (rc < 0) {
		vl_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

void vl_config_free(struct vl_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->ndefs; i++)
		free(cfg->owned[i]);
	free(cfg->owned);
	free(cfg->defs);
	for (size_t i = 0; i < cfg->nvals; i++) {
		free(cfg->vals[i].key);
		free(cfg->vals[i].value);
		free(cfg->vals[i].origin);
	}
	free(cfg->vals);
	free(cfg->conflicts);
	free(cfg);
}

struct vl_config *vl_config_dup(const struct vl_config *src)
{
	struct vl_config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < src->ndefs; i++) {
		char *owned = src->owned[i] ? strdup(src->owned[i]) : NULL;
		if ((src->owned[i] && !owned) || add_def(cfg, &src->defs[i], owned) < 0) {
			free(owned);
			goto fail;
		}
	}
	cfg->vals = calloc(src->nvals ? src->nvals : 1, sizeof(*cfg->vals));
	if (!cfg->vals)
		goto fail;
	cfg->vals_cap = src->nvals ? src->nvals : 1;
	for (size_t i = 0; i < src->nvals; i++) {
		struct val *v = &cfg->vals[cfg->nvals++];
		v->key = strdup(src->vals[i].key);
		v->value = strdup(src->vals[i].value);
		v->origin = strdup(src->vals[i].origin);
		if (!v->key || !v->value || !v->origin)
			goto fail;
	}
	if (src->conflicts && !(cfg->conflicts = strdup(src->conflicts)))
		goto fail;
	return cfg;
fail:
	vl_config_free(cfg);
	return NULL;
}

/* ---- values ---- */

/* Whether a value's origin is a built-in preset ("configs/os/linux.ini"). */
static bool is_preset_origin(const char *origin)
{
	return !strncmp(origin, "configs/", 8);
}

static struct val *find_val(const struct vl_config *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->nvals; i++)
		if (!strcmp(cfg->vals[i].key, key))
			return &cfg->vals[i];
	return NULL;
}

/* The keys declared in key's section, comma-separated, for error messages. */
static void section_keys(const struct vl_config *cfg, const char *key, char *buf, size_t len)
{
	const char *dot = strrchr(key, '.');
	size_t slen = dot ? (size_t)(dot - key) : 0;
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < cfg->ndefs; i++) {
		const char *k = cfg->defs[i].key;
		const char *kd = strrchr(k, '.');
		if (!kd || (size_t)(kd - k) != slen || strncmp(k, key, slen))
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", kd + 1);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (!used) { /* unknown section: list sections */
		for (size_t i = 0; i < cfg->ndefs; i++) {
			const char *k = cfg->defs[i].key;
			const char *kd = strchr(k, '.');
			size_t n = kd ? (size_t)(kd - k) : strlen(k);
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = !strncmp(cfg->defs[j].key, k, n) && cfg->defs[j].key[n] == '.';
			if (seen)
				continue;
			int w = snprintf(buf + used, len - used, "%s[%.*s]", used ? ", " : "sections ",
					 (int)n, k);
			if (w < 0 || (size_t)w >= len - used)
				break;
			used += (size_t)w;
		}
	}
}

static int check_value(const struct vl_key_def *d, const char *key, const char *value,
		       const char *origin, struct vl_error *err)
{
	uint64_t u;
	bool b;
	if (!*value && d->def[0] == '\0')
		return 0; /* "" = unset, allowed where the default is unset */
	switch (d->type) {
	case VL_KT_U64:
		if (vl_parse_u64(value, &u) < 0)
			return vl_err(err, VL_EINVAL, "%s: %s: '%s' is not an unsigned integer",
				      origin, key, value);
		if ((d->min || d->max) && ((double)u < d->min || (double)u > d->max))
			return vl_err(err, VL_EINVAL, "%s: %s: %s is outside [%.0f, %.0f]", origin,
				      key, value, d->min, d->max);
		return 0;
	case VL_KT_SIZE:
		if (vl_parse_size(value, &u) < 0)
			return vl_err(err, VL_EINVAL,
				      "%s: %s: '%s' is not a size (bytes, or a number with K, M, G or T)",
				      origin, key, value);
		if ((d->min || d->max) && ((double)u < d->min || (double)u > d->max))
			return vl_err(err, VL_EINVAL, "%s: %s: %s is outside [%.0f, %.0f] bytes", origin,
				      key, value, d->min, d->max);
		return 0;
	case VL_KT_BOOL:
		if (vl_parse_bool(value, &b) < 0)
			return vl_err(err, VL_EINVAL, "%s: %s: '%s' is not one of on, off", origin, key,
				      value);
		return 0;
	case VL_KT_DOUBLE: {
		char *end;
		errno = 0;
		double x = strtod(value, &end);
		/* NaN and infinities are not numbers a model can use (NaN passes
		 * every range test: cost.fault=nan made est_cycles 2^63) */
		if (errno || *end || end == value || !isfinite(x))
			return vl_err(err, VL_EINVAL, "%s: %s: '%s' is not a finite number", origin, key,
				      value);
		if ((d->min || d->max) && (x < d->min || x > d->max))
			return vl_err(err, VL_EINVAL, "%s: %s: %s is outside [%g, %g]", origin, key, value,
				      d->min, d->max);
		return 0;
	}
	case VL_KT_ENUM: {
		const char *c = d->choices;
		size_t n = strlen(value);
		while (c && *c) {
			const char *bar = strchr(c, '|');
			size_t len = bar ? (size_t)(bar - c) : strlen(c);
			if (len == n && !strncmp(c, value, n))
				return 0;
			c = bar ? bar + 1 : NULL;
		}
		char list[256];
		snprintf(list, sizeof(list), "%s", d->choices ? d->choices : "");
		for (char *p = list; *p; p++)
			if (*p == '|')
				*p = ',';
		return vl_err(err, VL_EINVAL, "%s: %s: '%s' is not one of %s", origin, key, value,
			      list);
	}
	case VL_KT_POLICY: {
		if (vl_repl_find(value))
			return 0;
		char list[400];
		size_t used = 0;
		list[0] = '\0';
		for (size_t i = 0; vl_repl_at(i); i++) {
			int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 vl_repl_at(i)->name);
			if (w < 0 || (size_t)w >= sizeof(list) - used)
				break;
			used += (size_t)w;
		}
		return vl_err(err, VL_EINVAL, "%s: %s: unknown policy '%s' (known: %s)", origin, key,
			      value, list);
	}
	case VL_KT_STR:
		return 0;
	}
	return 0;
}

static int store(struct vl_config *cfg, const char *key, const char *value, const char *origin)
{
	struct val *v = find_val(cfg, key);
	if (!v) {
		if (cfg->nvals == cfg->vals_cap) {
			size_t ncap = cfg->vals_cap ? cfg->vals_cap * 2 : 16;
			struct val *nv = realloc(cfg->vals, ncap * sizeof(*nv));
			if (!nv)
				return VL_ENOMEM;
			cfg->vals = nv;
			cfg->vals_cap = ncap;
		}
		v = &cfg->vals[cfg->nvals];
		v->key = strdup(key);
		if (!v->key)
			return VL_ENOMEM;
		v->value = v->origin = NULL;
		cfg->nvals++;
	}
	char *nvalue = strdup(value), *norigin = strdup(origin);
	if (!nvalue || !norigin) {
		free(nvalue);
		free(norigin);
		return VL_ENOMEM;
	}
	free(v->value);
	free(v->origin);
	v->value = nvalue;
	v->origin = norigin;
	return 0;
}

/* Whether two origins are one layer: the same file ("F line 2" and "F line
 * 3"), or both -s. */
static bool same_layer(const char *a, const char *b)
{
	const char *la = strstr(a, " line "), *lb = strstr(b, " line ");
	size_t na = la ? (size_t)(la - a) : strlen(a), nb = lb ? (size_t)(lb - b) : strlen(b);
	return na == nb && !strncmp(a, b, na);
}

int vl_config_set(struct vl_config *cfg, const char *key, const char *value, const char *origin,
		  struct vl_error *err)
{
	if (!origin)
		origin = "-s";
	const struct vl_key_def *d = find_def(cfg, key);
	if (!d) {
		char keys[400];
		section_keys(cfg, key, keys, sizeof(keys));
		return vl_err(err, VL_EINVAL, "%s: unknown key '%s' (%s%s)", origin, key,
			      strchr(keys, '[') ? "" : "known keys in this section: ", keys);
	}
	VL_TRY(check_value(d, key, value, origin, err));
	/* two alternatives (memory.frames, memory.size) given in one layer
	 * (two -s, or one file): the later wins, and vl_config_warnings says
	 * so.  A later layer replacing an earlier one's (-s memory.size over a
	 * preset's or a -c file's memory.frames) is what layers are for. */
	const struct val *other = d->clears && *value ? find_val(cfg, d->clears) : NULL;
	if (other && other->value[0] && same_layer(other->origin, origin)) {
		size_t old = cfg->conflicts ? strlen(cfg->conflicts) : 0;
		size_t add = strlen(key) + strlen(value) + strlen(origin) + strlen(other->key) +
			     strlen(other->value) + strlen(other->origin) + 2 * strlen(key) + 96;
		char *nc = realloc(cfg->conflicts, old + add);
		if (!nc)
			return vl_err(err, VL_ENOMEM, "out of memory setting %s", key);
		cfg->conflicts = nc;
		snprintf(nc + old, add, "%s = %s (%s) and %s = %s (%s) conflict: %s, set later, wins\n",
			 other->key, other->value, other->origin, key, value, origin, key);
	}
	/* setting a value unsets its alternative; unsetting does not */
	if (store(cfg, key, value, origin) < 0 ||
	    (d->clears && *value && store(cfg, d->clears, "", origin) < 0))
		return vl_err(err, VL_ENOMEM, "out of memory setting %s", key);
	return 0;
}

int vl_config_set_arg(struct vl_config *cfg, const char *arg, struct vl_error *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return vl_err(err, VL_EUSAGE, "-s %s: expected KEY=VALUE (for example memory.frames=1024)",
			      arg);
	char key[256];
	size_t n = (size_t)(eq - arg);
	if (n >= sizeof(key))
		return vl_err(err, VL_EINVAL, "-s: key too long");
	memcpy(key, arg, n);
	key[n] = '\0';
	return vl_config_set(cfg, key, eq + 1, "-s", err);
}

struct ini_ctx {
	struct vl_config *cfg;
	const char *origin;
	bool tlb_replaced; /* this file defined a [tlb.NAME] key: earlier ones dropped */
	/* the keys this text set so far, with their lines: a key given twice
	 * in one file is refused (which one was meant?) */
	struct ini_seen {
		char *key;
		unsigned line;
	} *seen;
	size_t nseen, cap;
};

/* Remember key at line; VL_EINVAL naming both lines when this text set
 * it already. */
static int ini_once(struct ini_ctx *c, const char *key, unsigned line, const char *where,
		    struct vl_error *err)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (!strcmp(c->seen[i].key, key))
			return vl_err(err, VL_EINVAL, "%s: key '%s' given twice in this file (first at line %u)",
				      where, key, c->seen[i].line);
	if (c->nseen == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		struct ini_seen *n = realloc(c->seen, cap * sizeof(*n));
		if (!n)
			return vl_err(err, VL_ENOMEM, "out of memory");
		c->seen = n;
		c->cap = cap;
	}
	if (!(c->seen[c->nseen].key = strdup(key)))
		return vl_err(err, VL_ENOMEM, "out of memory");
	c->seen[c->nseen++].line = line;
	return 0;
}

static void ini_ctx_free(struct ini_ctx *c)
{
	for (size_t i = 0; i < c->nseen; i++)
		free(c->seen[i].key);
	free(c->seen);
}

/* "tlb.NAME.KEY": a key of one TLB structure (not tlb.pcid). */
static bool is_tlb_level_key(const char *key)
{
	if (strncmp(key, "tlb.", 4))
		return false;
	const char *dot = strchr(key + 4, '.');
	return dot && dot > key + 4 && !strchr(dot + 1, '.');
}

/* A file that defines any TLB structure replaces the whole hierarchy of
 * earlier layers (a machine preset's): drop their tlb.NAME.KEY values. */
static void drop_tlb_levels(struct vl_config *cfg)
{
	size_t j = 0;
	for (size_t i = 0; i < cfg->nvals; i++) {
		if (is_tlb_level_key(cfg->vals[i].key)) {
			free(cfg->vals[i].key);
			free(cfg->vals[i].value);
			free(cfg->vals[i].origin);
			continue;
		}
		cfg->vals[j++] = cfg->vals[i];
	}
	cfg->nvals = j;
}

const char *vl_config_value_key(const struct vl_config *cfg, size_t i)
{
	return i < cfg->nvals ? cfg->vals[i].key : NULL;
}

static int on_ini_line(void *user, const struct vl_ini_line *l, struct vl_error *err)
{
	struct ini_ctx *c = user;
	if (!l->key)
		return 0; /* a [section] line: the pairs after it say it */
	/* the value remembers its file and line: errors found later (a TLB
	 * geometry the engine refuses) can name them */
	char where[VL_ERRMSG_MAX / 2], key[256];
	snprintf(where, sizeof(where), "%s line %u", c->origin, l->line);
	if (!l->section[0])
		return vl_err(err, VL_EINVAL, "%s: key '%s' outside any [section]", where, l->key);
	if (strlen(l->section) + strlen(l->key) + 2 > sizeof(key))
		return vl_err(err, VL_EINVAL, "%s: key '%s.%s' is too long (at most %zu characters)",
			      where, l->section, l->key, sizeof(key) - 1);
	snprintf(key, sizeof(key), "%s.%s", l->section, l->key);
	VL_TRY(ini_once(c, key, l->line, where, err));
	if (!c->tlb_replaced && is_tlb_level_key(key) && find_def(c->cfg, key)) {
		drop_tlb_levels(c->cfg);
		c->tlb_replaced = true;
	}
	return vl_config_set(c->cfg, key, l->value, where, err);
}

int vl_config_load_string(struct vl_config *cfg, const char *text, const char *origin,
			  struct vl_error *err)
{
	struct ini_ctx c = { .cfg = cfg, .origin = origin };
	int rc = vl_ini_parse(text, strlen(text), origin, VL_INI_INLINE_COMMENTS, on_ini_line, &c, err);
	ini_ctx_free(&c);
	return rc;
}

int vl_config_load_file(struct vl_config *cfg, const char *path, struct vl_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return vl_err(err, VL_ENOENT, "%s: cannot open config file: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return vl_err(err, VL_EINVAL, "%s: is a directory, expected an INI config file", path);
	}
	size_t cap = 4096, n = 0;
	char *text = malloc(cap);
	int rc = 0;
	while (text) {
		n += fread(text + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *nt = cap < ((size_t)1 << 30) ? realloc(text, cap * 2) : NULL;
		if (!nt) {
			free(text);
			text = NULL;
			break;
		}
		text = nt;
		cap *= 2;
	}
	if (!text)
		rc = vl_err(err, VL_ENOMEM, "%s: out of memory reading it (or larger than 1 GiB)", path);
	else if (ferror(f))
		rc = vl_err(err, VL_EIO, "%s: read error: %s", path, strerror(errno));
	else {
		struct ini_ctx c = { .cfg = cfg, .origin = path };
		rc = vl_ini_parse(text, n, path, VL_INI_INLINE_COMMENTS, on_ini_line, &c, err);
		ini_ctx_free(&c);
	}
	free(text);
	fclose(f);
	return rc;
}

int vl_config_load_preset(struct vl_config *cfg, const char *kind, const char *name,
			  struct vl_error *err)
{
	for (size_t i = 0; i < vl_npresets; i++) {
		if (!strcmp(vl_presets[i].kind, kind) && !strcmp(vl_presets[i].name, name)) {
			char origin[128];
			snprintf(origin, sizeof(origin), "configs/%s/%s.ini", kind, name);
			return vl_config_load_string(cfg, vl_presets[i].text, origin, err);
		}
	}
	return vl_err(err, VL_ENOENT, "unknown %s preset '%s' (known: %s)", kind, name,
		      vl_config_presets(kind));
}

const char *vl_config_presets(const char *kind)
{
	static char buf[512];
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < vl_npresets; i++) {
		if (strcmp(vl_presets[i].kind, kind))
			continue;
		int w = snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? ", " : "",
				 vl_presets[i].name);
		if (w < 0 || (size_t)w >= sizeof(buf) - used)
			break;
		used += (size_t)w;
	}
	return buf;
}

/* ---- getters ---- */

static const char *raw(const struct vl_config *cfg, const char *key)
{
	const struct val *v = find_val(cfg, key);
	if (v)
		return v->value;
	const struct vl_key_def *d = find_def(cfg, key);
	return d ? d->def : "";
}

const char *vl_config_str(const struct vl_config *cfg, const char *key)
{
	return raw(cfg, key);
}

const char *vl_config_origin(const struct vl_config *cfg, const char *key)
{
	const struct val *v = find_val(cfg, key);
	return v && v->value[0] ? v->origin : NULL;
}

bool vl_config_isset(const struct vl_config *cfg, const char *key)
{
	return raw(cfg, key)[0] != '\0';
}

uint64_t vl_config_u64(const struct vl_config *cfg, const char *key)
{
	const struct vl_key_def *d = find_def(cfg, key);
	uint64_t v = 0;
	const char *s = raw(cfg, key);
	if (d && d->type == VL_KT_SIZE)
		vl_parse_size(s, &v);
	else
		vl_parse_u64(s, &v);
	return v;
}

bool vl_config_bool(const struct vl_config *cfg, const char *key)
{
	bool b = false;
	vl_parse_bool(raw(cfg, key), &b);
	return b;
}

double vl_config_double(const struct vl_config *cfg, const char *key)
{
	const char *s = raw(cfg, key);
	return *s ? strtod(s, NULL) : 0.0;
}

const struct vl_key_def *vl_config_key(const struct vl_config *cfg, size_t i)
{
	return i < cfg->ndefs ? &cfg->defs[i] : NULL;
}

/* ---- resolved text ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *vl_config_text(const struct vl_config *cfg)
{
	/* Concrete keys: every non-wildcard declared key, plus every value set
	 * (covers wildcard matches).  Sorted, grouped by section. */
	size_t n = 0, cap = cfg->ndefs + cfg->nvals;
	const char **keys = malloc((cap ? cap : 1) * sizeof(*keys));
	if (!keys)
		return NULL;
	for (size_t i = 0; i < cfg->ndefs; i++)
		if (!strchr(cfg->defs[i].key, '*'))
			keys[n++] = cfg->defs[i].key;
	for (size_t i = 0; i < cfg->nvals; i++) {
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = !strcmp(keys[j], cfg->vals[i].key);
		if (!dup)
			keys[n++] = cfg->vals[i].key;
	}
	qsort(keys, n, sizeof(*keys), cmp_str);
	size_t size = 1, used = 0;
	for (size_t i = 0; i < n; i++)
		size += 2 * strlen(keys[i]) + strlen(raw(cfg, keys[i])) + 16;
	char *out = malloc(size);
	if (!out) {
		free(keys);
		return NULL;
	}
	out[0] = '\0';
	const char *prev = NULL;
	size_t prevlen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *dot = strrchr(keys[i], '.');
		size_t slen = dot ? (size_t)(dot - keys[i]) : 0;
		if (!prev || slen != prevlen || strncmp(prev, keys[i], slen))
			used += (size_t)snprintf(out + used, size - used, "%s[%.*s]\n", used ? "\n" : "",
						 (int)slen, keys[i]);
		prev = keys[i];
		prevlen = slen;
		used += (size_t)snprintf(out + used, size - used, "%s = %s\n", dot ? dot + 1 : keys[i],
					 raw(cfg, keys[i]));
	}
	free(keys);
	return out;
}

/* ---- warnings ---- */

/* Keys that only one resident-set manager reads (sim/rsm_ws.c for
 * windows; sim/rsm_global.c, with the replacement policy, for textbook and
 * linux): set under another personality they change nothing.  A prefix
 * ends in '.'. */
static const struct {
	const char *key;
	const char *read_by; /* the personality that reads it */
	const char *why;
} rsm_only[] = {
	{ "ws.min_pages", "windows", "working sets exist under windows only" },
	{ "ws.max_pages", "windows", "working sets exist under windows only" },
	{ "wsm.available_pages", "windows", "the working-set manager trims under windows only" },
	{ "wsm.zero_thread", "windows", "the working-set manager's zeroing runs under windows only" },
	{ "mpw.threshold_pages", "windows", "the modified page writer runs under windows only" },
	{ "mpw.cluster_pages", "windows", "the modified page writer runs under windows only" },
};

char *vl_config_warnings(const struct vl_config *cfg)
{
	const char *os = vl_config_str(cfg, "os.personality");
	size_t cap = 256 + (cfg->conflicts ? strlen(cfg->conflicts) : 0), len = 0;
	char *out = malloc(cap);
	if (!out)
		return NULL;
	len = (size_t)snprintf(out, cap, "%s", cfg->conflicts ? cfg->conflicts : "");
	for (size_t i = 0; i < cfg->nvals; i++) {
		const struct val *v = &cfg->vals[i];
		if (!v->value[0] || is_preset_origin(v->origin))
			continue;
		for (size_t k = 0; k < sizeof(rsm_only) / sizeof(rsm_only[0]); k++) {
			const char *rk = rsm_only[k].key;
			size_t n = strlen(rk);
			bool match = rk[n - 1] == '.' ? !strncmp(v->key, rk, n) : !strcmp(v->key, rk);
			if (!match || strstr(rsm_only[k].read_by, os))
				continue;
			char line[1024];
			int w = snprintf(line, sizeof(line),
					 "%s = %s (%s) has no effect under the %s personality: %s\n",
					 v->key, v->value, v->origin, os, rsm_only[k].why);
			if (w < 0)
				continue;
			if (len + (size_t)w + 1 > cap) {
				char *no = realloc(out, (cap = (len + (size_t)w + 1) * 2));
				if (!no) {
					free(out);
					return NULL;
				}
				out = no;
			}
			memcpy(out + len, line, (size_t)w + 1);
			len += (size_t)w;
			break;
		}
	}
	return out;
}
