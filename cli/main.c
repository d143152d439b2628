/* cli/main.c - the vmlab command: dispatch to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: vmlab version   (also vmlab -V, vmlab --version)\n"
		       "Print vmlab's version and the policy plug-in API version it accepts.\n");
		return 0;
	}
	if (argc > 1) {
		cli_error("version: takes no arguments");
		return EXIT_USAGE;
	}
	printf("vmlab %s (policy API %d)\n", vl_version(), VL_POLICY_API_VERSION);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "replay a trace through the model and print its counters" },
	{ "mrc", cmd_mrc, "miss-ratio curve: misses at many memory sizes in one go" },
	{ "report", cmd_report, "print the runs of an HDF5 results file as a table" },
	{ "plot", cmd_plot, "draw a figure from a results file with gnuplot" },
	{ "sweep", cmd_sweep, "run an experiment's cells in parallel or on Slurm, merge the results" },
	{ "policies", cmd_policies, "list the registered replacement policies" },
	{ "formats", cmd_formats, "list the trace formats vmlab reads" },
	{ "convert", cmd_convert, "convert a trace of any format to the native .vmt" },
	{ "info", cmd_info, "what a trace holds: records, processes, pages, reuse distances" },
	{ "gen", cmd_gen, "write a synthetic trace (seq, strided, loop, uniform, zipf, phased, mix)" },
	{ "capture", cmd_capture, "record a program's memory accesses into .vmt (qemu, lackey, sancov)" },
	{ "config", cmd_config, "print the resolved configuration (every key, with -v help)" },
	{ "counters", cmd_counters, "count OS and hardware events of a program (libpfm4 names)" },
	{ "host", cmd_host, "write a machine configuration for this host" },
	{ "validate", cmd_validate, "compare measured and simulated counters of workloads" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "this message, or a command's help (vmlab help COMMAND)" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: vmlab COMMAND [OPTIONS]\n       vmlab help COMMAND | vmlab COMMAND --help\n"
		   "       vmlab -V | --version\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`vmlab help COMMAND` (or `vmlab COMMAND --help`) describes a command's options;\n"
		   "`vmlab help --list` lists the command names alone; `man vmlab` has them all.\n");
}

/* `vmlab help [COMMAND | --list]`: a command's help is what its own
 * --help prints (one text, so help, --help and the man page agree). */
static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2) {
		cli_error("help: expected one COMMAND (see vmlab help)");
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--list")) {
		for (size_t i = 0; i < NCOMMANDS; i++)
			printf("%s\n", commands[i].name);
		return 0;
	}
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		printf("usage: vmlab help [COMMAND | --list]\n"
		       "Without COMMAND: the list of commands.  With one: its help (the same text as\n"
		       "vmlab COMMAND --help).  --list: the command names, one a line.\n");
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name))
			continue;
		char *hargv[] = { (char *)commands[i].name, "--help", NULL };
		return commands[i].fn(2, hargv);
	}
	cli_error("help: unknown command '%s' (see vmlab help)", name);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	if (!strcmp(name, "--version") || !strcmp(name, "-V"))
		name = "version";
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s' (try `vmlab help`)", argv[1]);
	return EXIT_USAGE;
}
