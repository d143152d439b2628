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
 * documented order: defaults < --os preset < -c files < -s settings. */
struct cli_cfg {
	const char *os;
	const char *files[16];
	int nfiles;
	const char *sets[256];
	int nsets;
};

/* Handle a config option (c, s, O for --os); returns 1 if it was one,
 * 0 if not, -1 after printing a usage error. */
int cli_cfg_option(struct cli_cfg *cc, int opt, const char *arg);

/* Build the configuration; on failure prints the error and returns the
 * exit status to use (EXIT_USAGE or EXIT_INPUT); 0 on success. */
int cli_cfg_build(const struct cli_cfg *cc, struct vl_config **out);

/* Print "vmlab: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_run(int argc, char **argv);
int cmd_policies(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_formats(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_capture(int argc, char **argv);

#endif
