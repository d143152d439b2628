/* cli/counters.c - `vmlab counters`: count events of a program, a minimal
 * `perf stat` through libpfm4 names. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "analysis/host.h"
#include "analysis/json.h"
#include "analysis/pfm.h"
#include "cli/cli.h"

#define DEFAULT_EVENTS "perf::PAGE-FAULTS,perf::MINOR-FAULTS,perf::MAJOR-FAULTS"

static void counters_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab counters [-e EVENTS] [-r N] [--json] -- PROGRAM [ARGS...]\n"
		"\n"
		"Run PROGRAM and count events from its exec to its exit (children included),\n"
		"like a minimal `perf stat`.  Events are libpfm4 names, comma-separated:\n"
		"perf::PAGE-FAULTS, perf::MINOR-FAULTS:u, perf::DTLB-LOAD-MISSES,\n"
		"amd64_fam19h_zen3::L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS, ... (the [events]\n"
		"section of configs/machines/*.ini lists the names per CPU).\n"
		"\n"
		"  -e, --events LIST   events to count (default %s)\n"
		"  -m, --machine NAME  count every [events] name of machine preset NAME\n"
		"                      (%s), or of this host's CPU with 'host'\n"
		"  -r, --repeat N      run N times and print the median of each event\n"
		"      --json          print one JSON object on stdout\n"
		"\n"
		"An event that cannot be counted here (unknown name, no hardware PMU,\n"
		"permission) is reported with the reason and skipped, never shown as 0.\n"
		"Exit status: the program's exit status; 1 when it could not be run or no\n"
		"event could be counted; 2 usage error.\n",
		DEFAULT_EVENTS, vl_config_presets("machines"));
}

/* "1234567" -> "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	size_t o = 0;
	for (int i = 0; i < len && o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

int cmd_counters(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'e' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "machine", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *events = DEFAULT_EVENTS, *machine = NULL;
	uint64_t repeat = 1;
	bool json = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+e:r:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e': events = optarg; break;
		case 'm': machine = optarg; break;
		case 'r':
			if (vl_parse_u64(optarg, &repeat) < 0 || repeat == 0 || repeat > 1000) {
				cli_error("-r: expected a count from 1 to 1000, found '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'J': json = true; break;
		case 'h': counters_usage(stdout); return 0;
		default:
			cli_error("counters: unknown option '%s' (try `vmlab counters --help`)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("counters: no program given (usage: vmlab counters -e EVENTS -- PROGRAM)");
		return EXIT_USAGE;
	}
	char **prog = argv + optind;
	struct vl_error err = { 0 };
	static char mlist[4096];
	if (machine) {
		char pbuf[64];
		if (!strcmp(machine, "host")) {
			struct vl_host h;
			vl_host_detect(&h);
			machine = vl_host_machine_preset(h.pmu, pbuf, sizeof(pbuf));
			if (!machine) {
				cli_error("-m host: no machine preset names events for this CPU's PMU "
					  "'%s'", h.pmu[0] ? h.pmu : "(none detected)");
				return EXIT_INPUT;
			}
		}
		struct vl_config *mc;
		if (vl_config_new(&mc, &err) < 0 ||
		    vl_config_load_preset(mc, "machines", machine, &err) < 0) {
			cli_error("-m: %s", err.msg);
			vl_config_free(mc);
			return EXIT_USAGE;
		}
		static const char *const keys[] = {
			"events.page_faults", "events.minor_faults", "events.major_faults",
			"events.instructions", "events.dtlb_l2_hits", "events.dtlb_walks",
			"events.itlb_l2_hits", "events.itlb_walks",   "events.walk_cycles",
		};
		size_t o = 0;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *v = vl_config_str(mc, keys[i]);
			if (*v)
				o += (size_t)snprintf(mlist + o, sizeof(mlist) - o, "%s%s", o ? "," : "", v);
		}
		vl_config_free(mc);
		events = mlist;
	}
	struct vl_pfm_set set;
	if (vl_pfm_parse(&set, events, &err) < 0) {
		cli_error("-e: %s", err.msg);
		return EXIT_USAGE;
	}
	uint64_t *vals = calloc(set.n * repeat, sizeof(*vals));
	bool *ok = calloc(set.n, sizeof(*ok));
	if (!vals || !ok) {
		cli_error("out of memory");
		return EXIT_INPUT;
	}
	for (size_t i = 0; i < set.n; i++)
		ok[i] = true;
	int status = 0, rc = 0;
	for (uint64_t r = 0; r < repeat; r++) {
		if (vl_pfm_run_child(&set, prog, &status, &err) < 0) {
			cli_error("%s", err.msg);
			rc = EXIT_INPUT;
			goto out;
		}
		for (size_t i = 0; i < set.n; i++) {
			if (set.ev[i].counted)
				vals[i * repeat + r] = set.ev[i].value;
			else
				ok[i] = false;
		}
	}
	size_t counted = 0;
	for (size_t i = 0; i < set.n; i++) {
		if (!ok[i]) {
			cli_error("event %s: %s", set.ev[i].name,
				  set.ev[i].why[0] ? set.ev[i].why : "not counted in every run");
			continue;
		}
		qsort(vals + i * repeat, repeat, sizeof(*vals), cli_cmp_u64);
		counted++;
	}
	char cmd[512];
	size_t o = 0;
	cmd[0] = 0;
	for (char **a = prog; *a && o < sizeof(cmd) - 1; a++)
		o += (size_t)snprintf(cmd + o, sizeof(cmd) - o, "%s%s", a == prog ? "" : " ", *a);
	if (json) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_obj(&j);
		vl_json_key(&j, "command");
		vl_json_str(&j, cmd);
		vl_json_key(&j, "runs");
		vl_json_u64(&j, repeat);
		vl_json_key(&j, "events");
		vl_json_arr(&j);
		for (size_t i = 0; i < set.n; i++) {
			vl_json_obj(&j);
			vl_json_key(&j, "event");
			vl_json_str(&j, set.ev[i].name);
			vl_json_key(&j, "value");
			if (ok[i])
				vl_json_u64(&j, vals[i * repeat + repeat / 2]);
			else
				vl_json_null(&j);
			vl_json_key(&j, "why");
			if (ok[i])
				vl_json_null(&j);
			else
				vl_json_str(&j, set.ev[i].why);
			vl_json_end(&j);
		}
		vl_json_end(&j);
		vl_json_end(&j);
		fputc('\n', stdout);
	} else {
		printf("\n Performance counter stats for '%s'", cmd);
		if (repeat > 1)
			printf(" (median of %llu runs)", (unsigned long long)repeat);
		printf(":\n\n");
		for (size_t i = 0; i < set.n; i++) {
			char b[40];
			if (ok[i])
				printf("%18s      %s\n", grouped(vals[i * repeat + repeat / 2], b, sizeof(b)),
				       set.ev[i].name);
			else
				printf("%18s      %s  (%s)\n", "<not counted>", set.ev[i].name,
				       vl_pfm_state_name(set.ev[i].state));
		}
		printf("\n");
	}
	if (counted == 0) {
		cli_error("no event could be counted");
		rc = EXIT_INPUT;
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else {
		rc = EXIT_INPUT;
	}
out:
	vl_pfm_free(&set);
	free(vals);
	free(ok);
	return rc;
}
