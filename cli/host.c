/* cli/host.c - `vmlab host`: write a machine configuration for this host. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/host.h"
#include "cli/cli.h"

static struct vl_config *schema;

static const char *const event_keys[] = {
	"page_faults", "minor_faults", "major_faults", "instructions", "dtlb_l2_hits",
	"dtlb_walks",  "itlb_l2_hits", "itlb_walks",   "walk_cycles",
};

/* The [events] section: from the machine preset whose events.pmu is the
 * detected PMU, else the generic perf:: names. */
static void write_events(FILE *f, const struct vl_host *h)
{
	char pbuf[64];
	const char *from = vl_host_machine_preset(h->pmu, pbuf, sizeof(pbuf));
	struct vl_config *use = NULL;
	struct vl_error err = { 0 };
	if (from && (vl_config_new(&use, &err) < 0 ||
		     vl_config_load_preset(use, "machines", from, &err) < 0)) {
		vl_config_free(use);
		use = NULL;
	}
	fprintf(f, "\n[events]\n");
	if (use) {
		fprintf(f, "; from the machine preset %s (configs/machines/%s.ini)\n", from, from);
	} else {
		fprintf(f, "; no machine preset names events for the PMU '%s': generic perf:: names\n",
			h->pmu[0] ? h->pmu : "(none detected)");
		use = schema;
	}
	fprintf(f, "pmu = %s\n", h->pmu);
	for (size_t i = 0; i < sizeof(event_keys) / sizeof(event_keys[0]); i++) {
		char key[64];
		snprintf(key, sizeof(key), "events.%s", event_keys[i]);
		fprintf(f, "%s = %s\n", event_keys[i], vl_config_str(use, key));
	}
	if (!h->core_pmu)
		fprintf(f, "; hardware events above cannot be opened here: no hardware PMU\n");
	if (use != schema)
		vl_config_free(use);
}

int cmd_host(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': path = optarg; break;
		case 'h':
			printf("usage: vmlab host [-o FILE]\n\n"
			       "Write a machine configuration (INI) for this host: page size, memory\n"
			       "size, THP mode and defrag setting, fault-around size where readable,\n"
			       "TLB geometry from CPUID, and the [events] names of its PMU.  What\n"
			       "could not be detected is said in comments.  Load it with\n"
			       "`vmlab run -c FILE`.\n");
			return 0;
		default:
			cli_error("host: unknown option '%s' (try `vmlab host --help`)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("host: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	struct vl_error err = { 0 };
	if (vl_config_new(&schema, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	struct vl_host h;
	vl_host_detect(&h);
	char *ini = vl_host_ini(&h, schema);
	if (!ini) {
		cli_error("out of memory");
		vl_config_free(schema);
		return EXIT_INPUT;
	}
	/* The model may refuse what CPUID reports (ways that do not divide the
	 * entries, say; set counts that are not powers of two are modelled):
	 * then the TLB geometry stays in comments, with
	 * the reason, so that the file always loads. */
	char refused[VL_ERRMSG_MAX] = "";
	if (vl_config_declares(schema, "tlb.l1d.entries") && h.ntlb) {
		struct vl_config *probe;
		struct vl_engine *e = NULL;
		if (vl_config_new(&probe, &err) == 0) {
			if (vl_config_load_preset(probe, "os", "linux", &err) < 0 ||
			    vl_config_load_string(probe, ini, "vmlab host", &err) < 0 ||
			    vl_config_set(probe, "memory.frames", "1024", "probe", &err) < 0 ||
			    vl_engine_new(&e, probe, &err) < 0)
				snprintf(refused, sizeof(refused), "%s", err.msg);
			vl_engine_free(e);
			vl_config_free(probe);
		}
		if (refused[0]) {
			free(ini);
			if (!(ini = vl_host_ini(&h, NULL))) {
				cli_error("out of memory");
				vl_config_free(schema);
				return EXIT_INPUT;
			}
		}
	}
	FILE *f = path ? fopen(path, "w") : stdout;
	if (!f) {
		cli_error("cannot write %s: %m", path);
		free(ini);
		vl_config_free(schema);
		return EXIT_INPUT;
	}
	fputs(ini, f);
	if (refused[0])
		fprintf(f, "; TLB geometry above not written as keys: the model refuses it (%s)\n",
			refused);
	else if (h.ntlb && !vl_config_declares(schema, "tlb.l1d.entries"))
		fprintf(f, "; TLB geometry above as comments: this build has no tlb.* keys\n");
	write_events(f, &h);
	int bad = ferror(f);
	if (path && fclose(f) != 0)
		bad = 1;
	free(ini);
	vl_config_free(schema);
	if (bad) {
		cli_error("writing %s failed", path ? path : "stdout");
		return EXIT_INPUT;
	}
	return 0;
}
