/* cli/cli.h - what the subcommands share.
 *
 * The CLI only parses arguments, calls the library, prints, and chooses the
 * exit status: 0 success, 1 bad input (files, traces, configs), 2 usage
 * (options, keys and values given on the command line).
 */
#ifndef VMLAB_CLI_H
#define VMLAB_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "vmlab/vmlab.h"

#define EXIT_INPUT 1
#define EXIT_USAGE 2

/* Configuration sources gathered from the command line, applied in the
 * documented order: defaults < --machine preset (generic when not given)
 * < --os preset < -c files < -s settings. */
struct cli_cfg {
	const char *machine;
	const char *os;
	const char *files[16];
	int nfiles;
	const char *sets[256];
	int nsets;
	const char *plugins[16]; /* --plugin: loaded first, before the schema is built */
	int nplugins;
};

/* getopt codes of the long-only options every subcommand shares (outside
 * the character range, so a subcommand's own letters never collide). */
enum { OPT_OS = 0x100, OPT_PLUGIN, OPT_MACHINE };

/* Handle a config option (c, s, OPT_OS, OPT_PLUGIN, OPT_MACHINE); returns 1 if it was one,
 * 0 if not, -1 after printing a usage error. */
int cli_cfg_option(struct cli_cfg *cc, int opt, const char *arg);

/* Build the configuration (loading --plugin objects first); on failure
 * prints the error and returns the exit status to use (EXIT_USAGE or
 * EXIT_INPUT); 0 on success. */
int cli_cfg_build(const struct cli_cfg *cc, struct vl_config **out);

/* Print the configuration's warnings (vl_config_warnings, and a memory
 * larger than this host's RAM), one "vmlab: warning: ..." line each, on
 * stderr.  cli_cfg_build calls it. */
void cli_config_warnings(const struct vl_config *cfg);

/* Print "vmlab: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Remove path (a temporary results file) if SIGINT, SIGTERM or SIGHUP
 * arrives, then die of the signal; NULL stops guarding. */
void cli_guard_tmp(const char *path);

/* An output file written whole or not at all (gen, convert).
 * cli_out_begin: for path "-" returns "-" (stdout, written as it goes);
 * otherwise creates an empty temporary file beside path (.BASE.tmp-XXXXXX,
 * removed if SIGINT/SIGTERM/SIGHUP arrives) and returns its name, to be
 * written instead of path; NULL after printing why it could not.
 * cli_out_end(path, tmp, ok): when ok, fsyncs tmp and renames it over path
 * (printing why when that fails); otherwise, or when it fails, removes
 * tmp, so path is as it was.  Frees tmp; returns 0 when path was written,
 * EXIT_INPUT when not. */
char *cli_out_begin(const char *path);
int cli_out_end(const char *path, char *tmp, bool ok);

/* Load --plugin objects (once each); prints the error and returns
 * EXIT_USAGE on failure, 0 on success. */
int cli_load_plugins(const struct cli_cfg *cc);

int cmd_run(int argc, char **argv);
int cmd_policies(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_formats(int argc, char **argv);
int cmd_mrc(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_plot(int argc, char **argv);
/* qsort comparison of uint64_t values, ascending. */
int cli_cmp_u64(const void *a, const void *b);
/* out = the path of program name in this executable's directory (name
 * alone when /proc/self/exe cannot be read). */
void cli_sibling(const char *name, char *out, size_t n);

int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_counters(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_validate_limit(int argc, char **argv); /* validate --limit */
struct vl_host;
/* The configuration of a validation run (cli/validate.c). */
int validate_cfg(struct vl_config **out, const struct vl_host *host, bool with_tlb,
		 const char *key, const char *val, const struct cli_cfg *cc, bool warn);
/* The workload program (env if set, else prog beside vmlab; path in wbin)
 * run with --list, for pclose; NULL if it cannot run (cli/validate.c). */
FILE *validate_list(const char *env, const char *prog, char *wbin, size_t n);
struct vl_json;
/* Open the JSON object of a validation row (workload, event, measured,
 * simulated, rel_error); the caller adds its keys and closes it. */
void validate_json_row(struct vl_json *j, const char *workload, const char *event,
		       bool have_meas, uint64_t meas, bool have_sim, uint64_t sim);

#endif
