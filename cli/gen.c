/* cli/gen.c - `vmlab gen KIND [KEY=VALUE]... -o OUT`: synthetic traces. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void gen_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab gen KIND [KEY=VALUE]... -o OUT [--addr]\n"
		"\n"
		"Write a synthetic trace: .vmt, or addr text (`OP ADDR PID` lines) with --addr\n"
		"or when OUT does not end in .vmt (OUT - writes stdout).  Reproducible: the\n"
		"same parameters and seed give the same trace.\n"
		"\n"
		"kinds: %s\n"
		"  seq      base + i*step, wrapping after pages pages\n"
		"  strided  base + i*stride, wrapping after pages pages\n"
		"  loop     pages 0..pages-1 in order, one access each, repeated\n"
		"  uniform  a random byte of a random page among pages\n"
		"  zipf     page of rank r with probability proportional to r^-alpha\n"
		"  phased   phases working sets of pages pages, len records each, uniform\n"
		"           inside; consecutive sets share the fraction overlap\n"
		"  mix      procs processes (pids pid, pid+1, ...), each zipf over its own\n"
		"           pages, taking turns of quantum records\n"
		"\n"
		"keys (default): n (1000000) records, seed (1), writes (0.25) fraction of\n"
		"writes, base (0x10000000), pid (1), pages (1024), step (64), stride (8192),\n"
		"alpha (1.0), phases (4), len (250000), overlap (0.5), procs (4),\n"
		"quantum (1000)\n",
		vl_gen_kinds());
}

int cmd_gen(int argc, char **argv)
{
	const char *out = NULL;
	bool addr = false;
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "addr", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'A': addr = true; break;
		case 'h': gen_usage(stdout); return 0;
		default:
			cli_error("gen: unknown option or missing argument '%s' (see vmlab gen --help)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cli_error("gen: missing KIND (%s)", vl_gen_kinds());
		return EXIT_USAGE;
	}
	const char *kind = argv[optind++];
	/* KEY=VALUE words, and -o/--addr after them too */
	char *params[64];
	int np = 0;
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(argv[i], "--addr")) {
			addr = true;
		} else if (np < 64 && strchr(argv[i], '=') && argv[i][0] != '-') {
			params[np++] = argv[i];
		} else {
			cli_error("gen: unexpected argument '%s' (see vmlab gen --help)", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!out) {
		cli_error("gen: missing -o OUT");
		return EXIT_USAGE;
	}
	size_t olen = strlen(out);
	if (olen < 4 || strcmp(out + olen - 4, ".vmt"))
		addr = true;
	struct vl_error err = { 0 };
	struct vl_gen *g;
	if (vl_gen_open(&g, kind, np, params, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_USAGE;
	}
	struct vl_batch b;
	if (vl_batch_init(&b, 8192, &err) < 0) {
		cli_error("%s", err.msg);
		vl_gen_close(g);
		return EXIT_INPUT;
	}
	/* written to a temporary file renamed over OUT only when complete: a
	 * failed write (a full disk) leaves OUT as it was, never a partial
	 * trace that would replay as fewer records */
	char *dest = cli_out_begin(out);
	if (!dest) {
		vl_batch_free(&b);
		vl_gen_close(g);
		return EXIT_INPUT;
	}
	bool ok = true;
	ssize_t got = 0;
	if (addr) {
		FILE *f = strcmp(dest, "-") ? fopen(dest, "w") : stdout;
		if (!f) {
			cli_error("gen: cannot create %s", out);
			ok = false;
		} else {
			fprintf(f, "# vmlab gen %s", kind);
			for (int i = 0; i < np; i++)
				fprintf(f, " %s", params[i]);
			fputc('\n', f);
			while ((got = vl_gen_read(g, &b, &err)) > 0 && !ferror(f))
				for (size_t i = 0; i < b.n; i++)
					fprintf(f, "%c 0x%llx %u\n", b.recs[i].op == VL_OP_WRITE ? 'W' : 'R',
						(unsigned long long)b.recs[i].addr, b.recs[i].pid);
			if (got < 0) {
				cli_error("%s", err.msg);
				ok = false;
			}
			bool bad = ferror(f) != 0;
			if ((f != stdout && fclose(f) != 0) || (f == stdout && fflush(f) != 0) || bad) {
				if (ok)
					cli_error("gen: %s: write failed: %s", out,
						  errno ? strerror(errno) : "I/O error");
				ok = false;
			}
		}
	} else {
		char cmdline[2048];
		size_t used = (size_t)snprintf(cmdline, sizeof(cmdline), "vmlab gen %s", kind);
		for (int i = 0; i < np && used < sizeof(cmdline); i++)
			used += (size_t)snprintf(cmdline + used, sizeof(cmdline) - used, " %s", params[i]);
		struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = "vmlab gen", .cmdline = cmdline };
		struct vl_vmt_writer *w;
		if (vl_vmt_writer_open(&w, dest, &meta, 0, &err) < 0 ||
		    (vl_vmt_writer_async(w, &err) < 0 && (vl_vmt_writer_close(w, NULL), 1))) {
			cli_error("%s: not written: %s", out, err.msg);
			ok = false;
		} else {
			uint32_t pid0;
			uint64_t np_ = vl_gen_procs(g, &pid0);
			int wr = 0;
			for (uint64_t p = 0; p < np_ && wr == 0; p++) {
				char name[64];
				snprintf(name, sizeof(name), "gen-%s-%llu", kind, (unsigned long long)p);
				wr = vl_vmt_write_proc(w, pid0 + (uint32_t)p, name, &err);
			}
			while (wr == 0 && (got = vl_gen_read(g, &b, &err)) > 0)
				wr = vl_vmt_write(w, &b, &err);
			if (wr == 0 && got < 0)
				wr = (int)got;
			if (vl_vmt_writer_close(w, wr < 0 ? NULL : &err) < 0 || wr < 0) {
				cli_error("%s: not written, nothing changed: %s", out, err.msg);
				ok = false;
			}
		}
	}
	int rc = cli_out_end(out, dest, ok);
	vl_batch_free(&b);
	vl_gen_close(g);
	return rc;
}
