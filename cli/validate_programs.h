/* cli/validate_programs.h - whole unmodified programs for `vmlab validate`
 * (cli/validate_programs.c). */
#ifndef VMLAB_CLI_VALIDATE_PROGRAMS_H
#define VMLAB_CLI_VALIDATE_PROGRAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vmlab/vmlab.h"

/* Validate argv (one program, run in the current directory), or with argv
 * NULL the programs of `--programs` (those named in only, a comma list,
 * when it is not NULL); warm, and cold when cold_too.  Prints the table
 * (or JSON) and returns the exit status: 0 when every compared row is
 * within its bound. */
int validate_programs(const struct vl_config *cfg, char **argv, unsigned repeat, bool json,
		      const char *keep, bool cold_too, const char *only);

/* Capture argv whole with `vmlab capture --no-heap` (qemu: every process)
 * into trace, its messages into log, in the current directory; track (may
 * be NULL) is told the capture's pid, then 0.  Returns 0, or -1 with why. */
int validate_capture(const char *trace, const char *log, char *const argv[], void (*track)(pid_t),
		     char *why, size_t whyn);

/* The read-ahead of the disk holding program prog, in pages (the replay's
 * file.readaround), 0 when unknown. */
unsigned validate_readahead(const char *prog);

/* Whether name is in only, a comma list (true when only is NULL). */
bool validate_only(const char *only, const char *name);

struct vl_program;
/* Make the inputs of --programs entry p in DIR/NAME (wdir) and its
 * command line in pargv (argv[0] resolved into p0).  Returns 0, or -1
 * with why (a program it needs is missing, its setup failed). */
int validate_program_prepare(const struct vl_program *p, const char *dir, char *wdir, size_t wn,
			     char *p0, size_t p0n, char *pargv[9], char *why, size_t whyn);

/* prog as a path (PATH searched; with usr_bin_first /usr/bin/PROG first:
 * the Debian program, not a wrapper earlier in PATH).  False when not
 * found or not executable. */
bool validate_program_path(const char *prog, bool usr_bin_first, char *out, size_t n);

#endif
