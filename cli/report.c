/* cli/report.c - `vmlab report`: the runs of a results file as a table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/json.h"
#include "analysis/runset.h"
#include "cli/cli.h"
#include "vmlab/results.h"

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab report [--csv | --json] [--where KEY=V[,V]]... [--columns A,B,...]\n"
		"                    [--replicates] RESULTS.h5\n"
		"\n"
		"Print one line per run of an HDF5 results file (written by vmlab run -o,\n"
		"vmlab mrc -o or vmlab sweep): its id, kind, policy, memory, headline counters\n"
		"and time.\n"
		"\n"
		"      --csv         comma-separated values with a header line: every /summary\n"
		"                    column (a sweep's cell, cell_key and [vary] keys included),\n"
		"                    then every counter (TLB counters included), then every\n"
		"                    configuration key that varies among the runs or differs from\n"
		"                    its built-in default; one row per run\n"
		"      --json        a list of objects: the same columns, plus every counter of\n"
		"                    each run under \"counters\" (and the curve of mrc runs)\n"
		"      --where KEY=V[,V]  only runs with one of these values (KEY: trace, os,\n"
		"                    seed, run, cell, policy, frames, any configuration key)\n"
		"      --columns LIST  only these columns, in this order (--csv, --json)\n"
		"      --replicates  one row per group of runs that differ only in run.seed:\n"
		"                    parameters once, n, seeds, and for each number its mean,\n"
		"                    95%% confidence interval (ci95_low, ci95_high), min, median\n"
		"                    and max (--csv, --json)\n");
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

/* ---- the table: every column, or --columns ---- */

/* Columns of the table, in order: /summary's, then counters, then the
 * configuration keys that vary or differ from their default. */
static int table_columns(struct rs *s, const char *list, long **out, size_t *n,
			 struct vl_error *err)
{
	*out = calloc(s->ncols + 1, sizeof(long));
	*n = 0;
	if (!*out)
		return vl_err(err, VL_ENOMEM, "out of memory");
	if (list) {
		char *copy = strdup(list), *save = NULL;
		if (!copy)
			return vl_err(err, VL_ENOMEM, "out of memory");
		int rc = 0;
		for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
			long c = rs_find(s, t);
			if (c < 0)
				rc = vl_err(err, VL_EUSAGE,
					    "--columns: no column '%s' in %s (see the header of vmlab "
					    "report --csv)", t, vl_results_path(s->r));
			else if (*n < s->ncols)
				(*out)[(*n)++] = c;
		}
		free(copy);
		return rc;
	}
	bool *want = calloc(s->ncols + 1, sizeof(bool));
	if (!want)
		return vl_err(err, VL_ENOMEM, "out of memory");
	int rc = rs_interesting(s, want, err);
	for (size_t c = 0; c < s->ncols && rc == 0; c++)
		if (c < s->nsummary)
			(*out)[(*n)++] = (long)c;
	for (size_t c = s->nsummary; c < s->ncols && rc == 0; c++)
		if (s->cols[c].role == RS_MEASURE)
			(*out)[(*n)++] = (long)c;
	for (size_t c = s->nsummary; c < s->ncols && rc == 0; c++)
		if (s->cols[c].role == RS_PARAM && want[c])
			(*out)[(*n)++] = (long)c;
	free(want);
	return rc;
}

static void json_value(struct vl_json *j, const struct rs *s, long c, const char *v, bool has)
{
	if (!has)
		vl_json_null(j);
	else if (s->cols[c].numeric && strcmp(v, "nan")) {
		char *e;
		double d = strtod(v, &e);
		if (d >= 0 && d < 1.8e19 && d == (double)(uint64_t)d && !strchr(v, '.'))
			vl_json_u64(j, strtoull(v, NULL, 10));
		else
			vl_json_f64(j, d);
	} else
		vl_json_str(j, v);
}

/* Columns of --replicates: the names, for a column c, of what it becomes. */
static bool rep_listed(const struct rs *s, long c)
{
	const char *n = s->cols[c].name;
	return s->cols[c].role == RS_ID || !strcmp(n, "seed") || !strcmp(n, "run.seed");
}

static bool rep_stats(const struct rs *s, long c)
{
	return s->cols[c].role == RS_MEASURE && s->cols[c].numeric;
}

static const char *const stat_names[] = { "mean", "ci95_low", "ci95_high", "min", "median", "max" };

/* The rows of --replicates: group[i] = first run of i's group. */
static int replicate_groups(const struct rs *s, size_t *group, struct vl_error *err)
{
	long seed = rs_find(s, "run.seed");
	long *named = calloc(s->ncols + 1, sizeof(long));
	if (!named)
		return vl_err(err, VL_ENOMEM, "out of memory");
	size_t nn = 0;
	for (size_t c = 0; c < s->ncols; c++)
		if (s->cols[c].role == RS_PARAM && (long)c != seed)
			named[nn++] = (long)c;
	for (size_t i = 0; i < s->nruns; i++) {
		group[i] = i;
		for (size_t j = 0; j < i && s->sel[i]; j++)
			if (s->sel[j] && group[j] == j && rs_same(s, i, j, named, nn)) {
				group[i] = j;
				break;
			}
	}
	free(named);
	return 0;
}

/* One replicate row's cell for column c (and stat k when rep_stats). */
static void rep_cell(const struct rs *s, const size_t *group, size_t g, long c, int k,
		     char *buf, size_t len, bool *num)
{
	*num = false;
	buf[0] = '\0';
	if (rep_listed(s, c)) { /* "1;2;3" */
		size_t used = 0;
		for (size_t i = 0; i < s->nruns && used + 2 < len; i++)
			if (s->sel[i] && group[i] == g) {
				int w = snprintf(buf + used, len - used, "%s%s", used ? ";" : "",
						 rs_val(s, i, c));
				used += w > 0 ? (size_t)w : 0;
			}
		return;
	}
	if (!rep_stats(s, c)) {
		snprintf(buf, len, "%s", rs_val(s, g, c));
		*num = s->cols[c].numeric && *buf;
		return;
	}
	double v[4096];
	size_t n = 0;
	for (size_t i = 0; i < s->nruns && n < 4096; i++)
		if (s->sel[i] && group[i] == g && *rs_val(s, i, c))
			v[n++] = strtod(rs_val(s, i, c), NULL);
	if (!n)
		return;
	struct rs_stat st;
	rs_stats(v, n, &st);
	double x[] = { st.mean, st.lo, st.hi, st.min, st.median, st.max };
	snprintf(buf, len, "%.17g", x[k]);
	*num = true;
}

static void csv_field(const char *s);

static void json_table(struct vl_json *j, struct vl_results *r, const char *path, bool rows);

static void report_table(struct rs *s, const long *cols, size_t nc, bool json, bool reps,
			 const size_t *group, bool extra)
{
	struct vl_json j;
	if (json) {
		vl_json_init(&j, stdout);
		vl_json_arr(&j);
	} else {
		if (reps)
			fputs("n,", stdout);
		for (size_t k = 0; k < nc; k++) {
			if (k)
				putchar(',');
			if (reps && rep_stats(s, cols[k]))
				for (int t = 0; t < 6; t++) {
					char nm[300];
					snprintf(nm, sizeof(nm), "%s_%s", s->cols[cols[k]].name, stat_names[t]);
					if (t)
						putchar(',');
					csv_field(nm);
				}
			else
				csv_field(s->cols[cols[k]].name);
		}
		putchar('\n');
	}
	for (size_t i = 0; i < s->nruns; i++) {
		if (!s->sel[i] || (reps && group[i] != i))
			continue;
		size_t n = 0;
		for (size_t r = 0; reps && r < s->nruns; r++)
			n += s->sel[r] && group[r] == i;
		if (json) {
			vl_json_obj(&j);
			if (reps) {
				vl_json_key(&j, "n");
				vl_json_u64(&j, n);
			}
		} else if (reps) {
			printf("%zu,", n);
		}
		for (size_t k = 0; k < nc; k++) {
			long c = cols[k];
			int nstat = reps && rep_stats(s, c) ? 6 : 1;
			for (int t = 0; t < nstat; t++) {
				char buf[8192];
				bool num = s->cols[c].numeric;
				const char *v = rs_val(s, i, c);
				bool has = s->cols[c].v[i] != NULL;
				if (reps) {
					rep_cell(s, group, i, c, t, buf, sizeof(buf), &num);
					v = buf;
					has = *buf != '\0';
				}
				if (json) {
					char nm[300];
					snprintf(nm, sizeof(nm), "%s%s%s", s->cols[c].name, nstat > 1 ? "_" : "",
						 nstat > 1 ? stat_names[t] : "");
					vl_json_key(&j, nm);
					if (reps && !num)
						has ? vl_json_str(&j, v) : vl_json_null(&j);
					else
						json_value(&j, s, c, v, has);
				} else {
					if (k || t)
						putchar(',');
					csv_field(v);
				}
			}
		}
		if (json && extra) { /* every counter of the run, or its curve */
			char path[VL_RUN_ID_MAX + 16];
			const char *id = rs_val(s, i, rs_find(s, "run_id"));
			bool mrc = !strcmp(rs_val(s, i, rs_find(s, "kind")), "mrc");
			snprintf(path, sizeof(path), "/runs/%s/%s", id, mrc ? "mrc" : "counters");
			vl_json_key(&j, mrc ? "mrc" : "counters");
			json_table(&j, s->r, path, mrc);
		}
		if (json)
			vl_json_end(&j);
		else
			putchar('\n');
	}
	if (json) {
		vl_json_end(&j);
		putchar('\n');
	}
}

int cmd_report(int argc, char **argv)
{
	enum { TEXT, CSV, JSON } mode = TEXT;
	const char *where[32];
	int nwhere = 0;
	const char *columns = NULL;
	bool reps = false;
	static const struct option opts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'J' },
		{ "where", required_argument, NULL, 'W' },
		{ "columns", required_argument, NULL, 'K' },
		{ "replicates", no_argument, NULL, 'P' },
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
		case 'W':
			if (nwhere == 32) {
				cli_error("report: at most 32 --where options");
				return EXIT_USAGE;
			}
			where[nwhere++] = optarg;
			break;
		case 'K': columns = optarg; break;
		case 'P': reps = true; break;
		case 'h': report_usage(stdout); return 0;
		default:
			if (optopt)
				cli_error("report: option --%s needs an argument (see vmlab report --help)",
					  argv[optind - 1] + 2);
			else
				cli_error("report: unknown option '%s' (see vmlab report --help)",
					  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		cli_error(optind >= argc ? "report: missing RESULTS.h5 (see vmlab report --help)"
					 : "report: expected one results file, got extra arguments");
		return EXIT_USAGE;
	}
	if ((columns || reps) && mode == TEXT) {
		cli_error("report: --columns and --replicates go with --csv or --json");
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
	struct rs s;
	if (vl_results_summary(r, &rows, &n, &err) < 0) {
		cli_error("%s", err.msg);
		vl_results_close(r);
		return EXIT_INPUT;
	}
	if (rs_load(&s, r, &err) < 0) {
		cli_error("%s", err.msg);
		free(rows);
		vl_results_close(r);
		return EXIT_INPUT;
	}
	int rc = 0;
	for (int k = 0; k < nwhere && rc == 0; k++)
		rc = rs_where(&s, where[k], &err);
	long *cols = NULL;
	size_t nc = 0;
	size_t *group = NULL;
	if (rc == 0 && mode != TEXT)
		rc = table_columns(&s, columns, &cols, &nc, &err);
	if (rc == 0 && reps) {
		group = calloc(s.nruns + 1, sizeof(*group));
		rc = group ? replicate_groups(&s, group, &err) : vl_err(&err, VL_ENOMEM, "out of memory");
	}
	if (rc < 0) {
		cli_error("report: %s", err.msg);
		free(cols);
		free(group);
		free(rows);
		rs_free(&s);
		vl_results_close(r);
		return rc == VL_EUSAGE ? EXIT_USAGE : EXIT_INPUT;
	}
	if (mode != TEXT) {
		report_table(&s, cols, nc, mode == JSON, reps, group, mode == JSON && !columns && !reps);
	} else {
		int w = 6;
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(rows[i].run_id) > w)
				w = (int)strlen(rows[i].run_id);
		size_t shown = 0;
		for (size_t i = 0; i < n && i < s.nruns; i++)
			shown += s.sel[i];
		printf("%s: %zu run%s", argv[optind], shown, shown == 1 ? "" : "s");
		if (shown != n)
			printf(" of %zu", n);
		printf("\n\n");
		printf("%-*s %-4s %-8s %-8s %9s %10s %12s %11s %9s %10s %10s %8s  %s\n", w, "run",
		       "kind", "os", "policy", "frames", "memory", "accesses", "faults", "ratio",
		       "evictions", "writebacks", "wall s", "trace");
		for (size_t i = 0; i < n; i++) {
			if (i < s.nruns && !s.sel[i])
				continue;
			const struct vl_summary_row *row = &rows[i];
			const char *tr = strrchr(row->trace, '/');
			char mem[32] = "-";
			if (row->frames) {
				double kib = (double)row->frames * VL_PAGE_SIZE / 1024;
				if (kib >= 1 << 20)
					snprintf(mem, sizeof(mem), "%.1fG", kib / (1 << 20));
				else if (kib >= 1024)
					snprintf(mem, sizeof(mem), "%.1fM", kib / 1024);
				else
					snprintf(mem, sizeof(mem), "%.0fK", kib);
			}
			bool mrc = !strcmp(row->kind, "mrc");
			printf("%-*s %-4s %-8s %-8s %9llu %10s %12llu ", w, row->run_id, row->kind, row->os,
			       row->policy, (unsigned long long)row->frames, mem,
			       (unsigned long long)row->accesses);
			if (mrc)
				printf("%11s %9s %10s %10s", "(curve)", "-", "-", "-");
			else
				printf("%11llu %9.6f %10llu %10llu", (unsigned long long)row->faults,
				       row->fault_ratio, (unsigned long long)row->evictions,
				       (unsigned long long)row->writebacks);
			printf(" %8.2f  %s\n", row->wall_seconds, tr ? tr + 1 : row->trace);
		}
	}
	free(rows);
	free(cols);
	free(group);
	rs_free(&s);
	vl_results_close(r);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write to stdout");
		return EXIT_INPUT;
	}
	return 0;
}
