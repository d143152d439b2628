/* cli/main.c - the vmlab command: dispatch to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
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
	{ "help", cmd_help, "this message" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: vmlab COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`vmlab COMMAND --help` describes a command's options.\n");
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return 0;
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
	if (!strcmp(name, "--version"))
		name = "version";
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s' (try `vmlab help`)", argv[1]);
	return EXIT_USAGE;
}
