/* cli/info.c - `vmlab info TRACE`: what a trace holds. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analysis/json.h"
#include "cli/cli.h"

/* kinds 0..14 from by_event, 15.. from by_event_more */
#define NEVNAMES (VL_STATS_EVENT_KINDS - 1 + 16)
static const char *const event_names[NEVNAMES] = {
	"none", "reserve", "commit", "decommit", "release", "protect", "map", "unmap",
	"exit", "roi_begin", "roi_end", "advise", "mmap", "munmap", "mprotect", "brk",
	"mremap", "fork", "heap_alloc", "heap_free", "heap_realloc", "fread", "populate", "kind23",
	"kind24", "kind25", "kind26", "kind27", "kind28", "kind29", "kind30",
};

static uint64_t event_count(const struct vl_trace_stats *st, int i)
{
	return i < VL_STATS_EVENT_KINDS - 1 ? st->by_event[i]
					    : st->by_event_more[i - (VL_STATS_EVENT_KINDS - 1)];
}

static void info_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab info [--format FMT] [--json] TRACE\n"
		"\n"
		"Read TRACE once and print: its format, compression and metadata; records\n"
		"by kind and events by kind; processes; distinct pages and footprint;\n"
		"instruction and data address ranges; and the histogram of reuse distance\n"
		"(LRU stack distance in pages: an access with distance d hits in an LRU\n"
		"memory of more than d frames; 'cold' is a first touch).\n");
}

int cmd_info(int argc, char **argv)
{
	const char *format = "auto";
	bool json = false;
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'J': json = true; break;
		case 'h': info_usage(stdout); return 0;
		default:
			cli_error("info: unknown option or missing argument '%s' (see vmlab info --help)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		cli_error("info: expected one TRACE (see vmlab info --help)");
		return EXIT_USAGE;
	}
	struct vl_error err = { 0 };
	struct vl_trace *t;
	if (vl_trace_open(&t, argv[optind], format, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	struct vl_trace_stats st = { .size = sizeof(st) };
	if (vl_trace_stats(t, &st, &err) < 0) {
		cli_error("%s", err.msg);
		vl_trace_close(t);
		return EXIT_INPUT;
	}
	const char *warn = vl_trace_warning(t);
	if (warn)
		fprintf(stderr, "vmlab: warning: %s\n", warn);
	/* every pair: a capture's file table has one per file it mapped or read */
	size_t nmeta = vl_trace_meta_list(t, NULL, NULL, 0);
	const char **keys = calloc(nmeta ? nmeta : 1, sizeof(*keys));
	const char **vals = calloc(nmeta ? nmeta : 1, sizeof(*vals));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		cli_error("%s: out of memory", vl_trace_path(t));
		vl_trace_close(t);
		return EXIT_INPUT;
	}
	vl_trace_meta_list(t, keys, vals, nmeta);
	int top = 0;
	for (int k = 0; k < VL_STATS_REUSE_BUCKETS; k++)
		if (st.reuse[k])
			top = k;
	static const char *const opn[VL_OP_NACCESS] = { "reads", "writes", "ifetches", "modifies" };
	if (json) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_obj(&j);
		vl_json_key(&j, "path");
		vl_json_str(&j, vl_trace_path(t));
		vl_json_key(&j, "format");
		vl_json_str(&j, vl_trace_format(t));
		vl_json_key(&j, "compression");
		vl_json_str(&j, vl_trace_compression(t));
		vl_json_key(&j, "meta");
		vl_json_obj(&j);
		for (size_t i = 0; i < nmeta; i++) {
			vl_json_key(&j, keys[i]);
			vl_json_str(&j, vals[i]);
		}
		vl_json_end(&j);
		vl_json_key(&j, "records");
		vl_json_u64(&j, st.records);
		vl_json_key(&j, "accesses");
		vl_json_u64(&j, st.accesses);
		for (int i = 0; i < VL_OP_NACCESS; i++) {
			vl_json_key(&j, opn[i]);
			vl_json_u64(&j, st.by_op[i]);
		}
		vl_json_key(&j, "events");
		vl_json_obj(&j);
		for (int i = 0; i < NEVNAMES; i++)
			if (event_count(&st, i)) {
				vl_json_key(&j, event_names[i]);
				vl_json_u64(&j, event_count(&st, i));
			}
		vl_json_end(&j);
		vl_json_key(&j, "processes");
		vl_json_u64(&j, st.processes);
		vl_json_key(&j, "pages");
		vl_json_u64(&j, st.pages);
		vl_json_key(&j, "footprint_bytes");
		vl_json_u64(&j, st.pages * VL_PAGE_SIZE);
		vl_json_key(&j, "reuse_cold");
		vl_json_u64(&j, st.reuse_cold);
		vl_json_key(&j, "reuse_log2_buckets");
		vl_json_arr(&j);
		for (int k = 0; k <= top; k++)
			vl_json_u64(&j, st.reuse[k]);
		vl_json_end(&j);
		vl_json_end(&j);
	} else {
		printf("%s: %s, %s\n", vl_trace_path(t), vl_trace_format(t), vl_trace_compression(t));
		for (size_t i = 0; i < nmeta; i++)
			if (strcmp(keys[i], "reserved")) /* capture's unused header space */
				printf("  %-12s %s\n", keys[i], vals[i]);
		printf("records      %llu (%llu accesses, %llu events)\n",
		       (unsigned long long)st.records, (unsigned long long)st.accesses,
		       (unsigned long long)st.events);
		for (int i = 0; i < VL_OP_NACCESS; i++)
			printf("  %-10s %llu\n", opn[i], (unsigned long long)st.by_op[i]);
		for (int i = 0; i < NEVNAMES; i++)
			if (event_count(&st, i))
				printf("  event %-8s %llu\n", event_names[i],
				       (unsigned long long)event_count(&st, i));
		printf("processes    %llu\n", (unsigned long long)st.processes);
		printf("pages        %llu distinct (pid, 4 KiB page); footprint %.2f MiB\n",
		       (unsigned long long)st.pages, (double)st.pages * VL_PAGE_SIZE / (1 << 20));
		if (st.imin <= st.imax)
			printf("instructions 0x%llx .. 0x%llx\n", (unsigned long long)st.imin,
			       (unsigned long long)st.imax);
		if (st.dmin <= st.dmax)
			printf("data         0x%llx .. 0x%llx\n", (unsigned long long)st.dmin,
			       (unsigned long long)st.dmax);
		printf("reuse distance (distinct pages since the last access to the page):\n");
		uint64_t cum = 0;
		for (int k = 0; k <= top; k++) {
			cum += st.reuse[k];
			char range[48];
			if (k == 0)
				snprintf(range, sizeof(range), "0");
			else if (k == 1)
				snprintf(range, sizeof(range), "1");
			else
				snprintf(range, sizeof(range), "%llu-%llu", 1ull << (k - 1),
					 (1ull << k) - 1);
			printf("  %-22s %12llu  %6.2f%%  cumulative %6.2f%%\n", range,
			       (unsigned long long)st.reuse[k],
			       st.accesses ? 100.0 * (double)st.reuse[k] / (double)st.accesses : 0,
			       st.accesses ? 100.0 * (double)cum / (double)st.accesses : 0);
		}
		printf("  %-22s %12llu  %6.2f%%\n", "cold (first touch)",
		       (unsigned long long)st.reuse_cold,
		       st.accesses ? 100.0 * (double)st.reuse_cold / (double)st.accesses : 0);
	}
	free(keys);
	free(vals);
	vl_trace_close(t);
	return 0;
}
