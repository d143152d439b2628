/* cli/report.c - `vmlab report`: the runs of a results file as a table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/json.h"
#include "cli/cli.h"
#include "vmlab/results.h"

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab report [--csv | --json] RESULTS.h5\n"
		"\n"
		"Print one line per run of an HDF5 results file (written by vmlab run -o or\n"
		"vmlab mrc -o): its id, kind, policy, memory, headline counters and time.\n"
		"\n"
		"      --csv    comma-separated values with a header line\n"
		"      --json   a list of objects, with every counter of each run (and the\n"
		"               curve of mrc runs)\n");
}

static void csv_field(const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void json_table(struct vl_json *j, struct vl_results *r, const char *path, bool rows)
{
	struct vl_table t = { .size = sizeof(t) };
	struct vl_error err = { 0 };
	if (vl_results_table(r, path, &t, &err) < 0)
		return;
	if (rows)
		vl_json_arr(j);
	for (size_t k = 0; k < t.nrows && (rows || k < 1); k++) {
		vl_json_obj(j);
		for (size_t c = 0; c < t.ncols; c++) {
			vl_json_key(j, t.names[c]);
			double v = t.v[k * t.ncols + c];
			if (t.strs[k * t.ncols + c])
				vl_json_str(j, t.strs[k * t.ncols + c]);
			else if (v >= 0 && v < 1.8e19 && v == (double)(uint64_t)v) /* exact below 2^53 */
				vl_json_u64(j, (uint64_t)v);
			else
				vl_json_f64(j, v);
		}
		vl_json_end(j);
	}
	if (rows)
		vl_json_end(j);
	vl_table_free(&t);
}

int cmd_report(int argc, char **argv)
{
	enum { TEXT, CSV, JSON } mode = TEXT;
	static const struct option opts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'C': mode = CSV; break;
		case 'J': mode = JSON; break;
		case 'h': report_usage(stdout); return 0;
		default:
			cli_error("report: unknown option '%s' (see vmlab report --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error(optind >= argc ? "report: missing RESULTS.h5 (see vmlab report --help)"
					 : "report: expected one results file, got extra arguments");
		return EXIT_USAGE;
	}
	struct vl_error err = { 0 };
	struct vl_results *r;
	if (vl_results_open(&r, argv[optind], &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	struct vl_summary_row *rows;
	size_t n;
	if (vl_results_summary(r, &rows, &n, &err) < 0) {
		cli_error("%s", err.msg);
		vl_results_close(r);
		return EXIT_INPUT;
	}
	if (mode == JSON) {
		struct vl_json j;
		vl_json_init(&j, stdout);
		vl_json_arr(&j);
		for (size_t i = 0; i < n; i++) {
			const struct vl_summary_row *s = &rows[i];
			char path[VL_RUN_ID_MAX + 16];
			vl_json_obj(&j);
			vl_json_key(&j, "run_id"); vl_json_str(&j, s->run_id);
			vl_json_key(&j, "kind"); vl_json_str(&j, s->kind);
			vl_json_key(&j, "trace"); vl_json_str(&j, s->trace);
			vl_json_key(&j, "os"); vl_json_str(&j, s->os);
			vl_json_key(&j, "policy"); vl_json_str(&j, s->policy);
			vl_json_key(&j, "frames"); vl_json_u64(&j, s->frames);
			vl_json_key(&j, "seed"); vl_json_u64(&j, s->seed);
			vl_json_key(&j, "stats_interval"); vl_json_u64(&j, s->stats_interval);
			vl_json_key(&j, "fault_ratio"); vl_json_f64(&j, s->fault_ratio);
			vl_json_key(&j, "wall_seconds"); vl_json_f64(&j, s->wall_seconds);
			if (!strcmp(s->kind, "mrc")) {
				vl_json_key(&j, "accesses"); vl_json_u64(&j, s->accesses);
				snprintf(path, sizeof(path), "/runs/%s/mrc", s->run_id);
				vl_json_key(&j, "mrc");
				json_table(&j, r, path, true);
			} else {
				snprintf(path, sizeof(path), "/runs/%s/counters", s->run_id);
				vl_json_key(&j, "counters");
				json_table(&j, r, path, false);
			}
			vl_json_end(&j);
		}
		vl_json_end(&j);
		putchar('\n');
	} else if (mode == CSV) {
		printf("run_id,kind,trace,os,policy,frames,seed,accesses,faults,faults_demand_zero,"
		       "faults_soft,faults_hard,evictions,writebacks,fault_ratio,wall_seconds\n");
		for (size_t i = 0; i < n; i++) {
			const struct vl_summary_row *s = &rows[i];
			const char *f[] = { s->run_id, s->kind, s->trace, s->os, s->policy };
			for (int k = 0; k < 5; k++) {
				csv_field(f[k]);
				putchar(',');
			}
			printf("%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.8g,%.6f\n",
			       (unsigned long long)s->frames, (unsigned long long)s->seed,
			       (unsigned long long)s->accesses, (unsigned long long)s->faults,
			       (unsigned long long)s->faults_demand_zero,
			       (unsigned long long)s->faults_soft, (unsigned long long)s->faults_hard,
			       (unsigned long long)s->evictions, (unsigned long long)s->writebacks,
			       s->fault_ratio, s->wall_seconds);
		}
	} else {
		int w = 6;
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(rows[i].run_id) > w)
				w = (int)strlen(rows[i].run_id);
		printf("%s: %zu run%s\n\n", argv[optind], n, n == 1 ? "" : "s");
		printf("%-*s %-4s %-8s %-8s %9s %10s %12s %11s %9s %10s %10s %8s  %s\n", w, "run",
		       "kind", "os", "policy", "frames", "memory", "accesses", "faults", "ratio",
		       "evictions", "writebacks", "wall s", "trace");
		for (size_t i = 0; i < n; i++) {
			const struct vl_summary_row *s = &rows[i];
			const char *tr = strrchr(s->trace, '/');
			char mem[32] = "-";
			if (s->frames) {
				double kib = (double)s->frames * VL_PAGE_SIZE / 1024;
				if (kib >= 1 << 20)
					snprintf(mem, sizeof(mem), "%.1fG", kib / (1 << 20));
				else if (kib >= 1024)
					snprintf(mem, sizeof(mem), "%.1fM", kib / 1024);
				else
					snprintf(mem, sizeof(mem), "%.0fK", kib);
			}
			bool mrc = !strcmp(s->kind, "mrc");
			printf("%-*s %-4s %-8s %-8s %9llu %10s %12llu ", w, s->run_id, s->kind, s->os,
			       s->policy, (unsigned long long)s->frames, mem,
			       (unsigned long long)s->accesses);
			if (mrc)
				printf("%11s %9s %10s %10s", "(curve)", "-", "-", "-");
			else
				printf("%11llu %9.6f %10llu %10llu", (unsigned long long)s->faults,
				       s->fault_ratio, (unsigned long long)s->evictions,
				       (unsigned long long)s->writebacks);
			printf(" %8.2f  %s\n", s->wall_seconds, tr ? tr + 1 : s->trace);
		}
	}
	free(rows);
	vl_results_close(r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to stdout");
		return EXIT_INPUT;
	}
	return 0;
}
