/* cli/validate_programs.h - whole unmodified programs for `vmlab validate`
 * (cli/validate_programs.c). */
#ifndef VMLAB_CLI_VALIDATE_PROGRAMS_H
#define VMLAB_CLI_VALIDATE_PROGRAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "vmlab/vmlab.h"

/* Validate argv (one program, run in the current directory), or with argv
 * NULL the programs of `--programs`; warm, and cold when cold_too.  Prints
 * the table (or JSON) and returns the exit status: 0 when every compared
 * row is within its bound. */
int validate_programs(const struct vl_config *cfg, char **argv, unsigned repeat, bool json,
		      const char *keep, bool cold_too);

/* prog as a path (PATH searched; with usr_bin_first /usr/bin/PROG first:
 * the Debian program, not a wrapper earlier in PATH).  False when not
 * found or not executable. */
bool validate_program_path(const char *prog, bool usr_bin_first, char *out, size_t n);

#endif
