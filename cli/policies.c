/* cli/policies.c - `vmlab policies [-v]` and `vmlab formats`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cmd_policies(int argc, char **argv)
{
	bool verbose = false;
	struct cli_cfg cc = { 0 };
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'v': verbose = true; break;
		case OPT_PLUGIN:
			if (cli_cfg_option(&cc, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'h':
			printf("usage: vmlab policies [--plugin LIB.so]... [-v]\nList replacement policies "
			       "(built-in and from plug-ins); -v adds their parameters "
			       "(replacement.NAME.KEY) and flags.\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("policies: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	int prc = cli_load_plugins(&cc);
	if (prc)
		return prc;
	printf("replacement policies (replacement.policy = NAME):\n");
	for (size_t i = 0; vl_repl_at(i); i++) {
		const struct vl_repl_ops *o = vl_repl_at(i);
		printf("  %-12s %s\n", o->name, o->help ? o->help : "");
		if (!verbose)
			continue;
		if (o->flags & VL_REPL_WANTS_ACCESS)
			printf("  %-12s   hears every access\n", "");
		if (o->flags & VL_REPL_NEEDS_FUTURE)
			printf("  %-12s   needs the future: reads the trace twice (not from a pipe)\n", "");
		for (size_t j = 0; j < o->nparams; j++)
			printf("  %-12s   replacement.%s.%s = %s  (%s)\n", "", o->name, o->params[j].key,
			       o->params[j].def, o->params[j].help);
	}
	printf("\nTLB in-set replacement (tlb.NAME.replacement = NAME):\n");
	for (size_t i = 0; vl_tlb_repl_at(i); i++)
		printf("  %-12s %s\n", vl_tlb_repl_at(i)->name, vl_tlb_repl_at(i)->help);
	printf("\nlarge-page policies (largepage.policy = NAME):\n");
	for (size_t i = 0; vl_lp_at(i); i++) {
		const struct vl_lp_ops *o = vl_lp_at(i);
		printf("  %-12s %s\n", o->name, o->help);
		for (size_t j = 0; verbose && j < o->nparams; j++)
			printf("  %-12s   largepage.%s.%s = %s  (%s)\n", "", o->name, o->params[j].key,
			       o->params[j].def, o->params[j].help);
	}
	return 0;
}

int cmd_formats(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: vmlab formats\n"
		       "List the trace formats vmlab reads, for --format NAME (vmlab run, mrc, info,\n"
		       "convert; [experiment] format in sweeps).  The default, auto, detects the\n"
		       "format from the content.\n");
		return 0;
	}
	if (argc > 1) {
		cli_error("formats: takes no arguments");
		return EXIT_USAGE;
	}
	const char *names[32], *help[32];
	size_t n = vl_trace_formats(names, help, 32);
	printf("trace formats (--format NAME; default auto detects by content):\n");
	for (size_t i = 0; i < n && i < 32; i++)
		printf("  %-10s %s\n", names[i], help[i]);
	return 0;
}

int cmd_config(int argc, char **argv)
{
	struct cli_cfg cc = { 0 };
	bool verbose = false;
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "os", required_argument, NULL, OPT_OS },
		{ "machine", required_argument, NULL, OPT_MACHINE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "plugin", required_argument, NULL, OPT_PLUGIN },
		{ "presets", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:vh", opts, NULL)) != -1) {
		if (c == 'P') {
			/* the built-in presets, one kind a line: "machines NAME..." */
			static const char *const kinds[] = { "machines", "os" };
			for (size_t k = 0; k < 2; k++) {
				printf("%s ", kinds[k]);
				for (const char *p = vl_config_presets(kinds[k]); *p; p++)
					if (*p != ' ')
						putchar(*p == ',' ? ' ' : *p);
				printf("\n");
			}
			return 0;
		}
		int r = cli_cfg_option(&cc, c, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		if (c == 'v') {
			verbose = true;
			continue;
		}
		if (c == 'h') {
			printf("usage: vmlab config [--plugin LIB.so]... [--machine NAME] [--os NAME] [-c FILE]... "
			       "[-s KEY=VALUE]... [-v]\n"
			       "       vmlab config --presets\n"
			       "Print the resolved configuration as INI; -v lists every key with "
			       "its type, default and help instead.\n"
			       "--presets lists the built-in presets: a line 'machines NAME...' (for\n"
			       "--machine) and a line 'os NAME...' (for --os).\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (optind < argc) {
		cli_error("config: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	struct vl_config *cfg;
	int rc = cli_cfg_build(&cc, &cfg);
	if (rc)
		return rc;
	if (verbose) {
		static const char *const tname[] = { "integer", "size", "bool", "choice", "text",
						     "number", "policy" };
		const struct vl_key_def *d;
		for (size_t i = 0; (d = vl_config_key(cfg, i)); i++) {
			printf("%-28s %-8s default %-10s %s", d->key, tname[d->type],
			       d->def[0] ? d->def : "(unset)", d->help);
			if (d->choices)
				printf(" [%s]", d->choices);
			printf("\n");
		}
	} else {
		char *text = vl_config_text(cfg);
		if (!text) {
			cli_error("out of memory");
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
		fputs(text, stdout);
		free(text);
	}
	vl_config_free(cfg);
	return 0;
}
