/* cli/convert.c - `vmlab convert IN OUT.vmt`: any readable trace to .vmt. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static void convert_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab convert [--format FMT] [--tool TEXT] [--comment TEXT]\n"
		"                     [--chunk RECORDS] [--level N] [--addr] IN OUT.vmt\n"
		"\n"
		"Read IN (any format of `vmlab formats`, plain/gzip/zstd/xz, - for stdin)\n"
		"and write it as a native .vmt trace (OUT - writes stdout), or with --addr\n"
		"as addr text (`OP 0xADDR PID` lines, M as W; events as V and H lines).\n"
		"A .vmt source keeps its header (command line, date, comment, a capture's\n"
		"file table) and its process names; only the tool field changes.\n"
		"\n"
		"  -f, --format FMT   input format (default auto)\n"
		"      --tool TEXT    the header's tool field (default: \"vmlab convert\n"
		"                     from FMT\")\n"
		"      --comment TEXT a free-text comment in the header (default: the\n"
		"                     source's)\n"
		"      --chunk N      records per chunk (default 1048576)\n"
		"      --level N      zstd level, 1 to 19 (default 3; higher: smaller files\n"
		"                     that decode a little faster, written more slowly)\n");
}

static const char *const ev_names[] = { "NONE", "RESERVE", "COMMIT", "DECOMMIT", "RELEASE",
					 "PROTECT", "MAP", "UNMAP", "EXIT", "ROI_BEGIN", "ROI_END",
					 "ADVISE", "MMAP", "MUNMAP", "MPROTECT", "BRK", "MREMAP",
					 "FORK" };

/* PROT in the addr grammar (docs/trace-format.md). */
static void prot_name(char *buf, size_t len, uint32_t prot)
{
	static const char *const names[8] = { "?", "readonly", "execute", "execute_read",
					      "readwrite", "writecopy", "execute_readwrite",
					      "execute_writecopy" };
	if ((prot & 0x1f) == VL_PROT_NOACCESS)
		snprintf(buf, len, "noaccess");
	else
		snprintf(buf, len, "%s%s", names[prot & 7],
			 prot & VL_PROT_GUARD ? "+guard" : prot & VL_PROT_LARGE ? "+large" : "");
}

/* One event as a `V KIND ARGS PID` line of the addr format. */
static void print_event(FILE *f, const struct vl_event *e, uint32_t pid)
{
	char prot[32];
	prot_name(prot, sizeof(prot), e->prot);
	unsigned long long a = e->addr, l = e->len;
	switch (e->kind) {
	case VL_EV_RESERVE: case VL_EV_DECOMMIT: case VL_EV_MUNMAP: case VL_EV_BRK:
		fprintf(f, "V %s 0x%llx 0x%llx %u\n", ev_names[e->kind], a, l, pid);
		break;
	case VL_EV_COMMIT: case VL_EV_PROTECT: case VL_EV_MPROTECT:
		fprintf(f, "V %s 0x%llx 0x%llx %s %u\n", ev_names[e->kind], a, l, prot, pid);
		break;
	case VL_EV_RELEASE: case VL_EV_UNMAP:
		fprintf(f, "V %s 0x%llx %u\n", ev_names[e->kind], a, pid);
		break;
	case VL_EV_MAP:
		if (e->file_id == VL_FILE_PAGEFILE)
			fprintf(f, "V MAP 0x%llx 0x%llx pagefile 0x%llx %s %u\n", a, l,
				(unsigned long long)e->offset, prot, pid);
		else
			fprintf(f, "V MAP 0x%llx 0x%llx %llu 0x%llx %s %u\n", a, l,
				(unsigned long long)e->file_id, (unsigned long long)e->offset, prot,
				pid);
		break;
	case VL_EV_EXIT: case VL_EV_ROI_BEGIN: case VL_EV_ROI_END:
		fprintf(f, "V %s %u\n", ev_names[e->kind], pid);
		break;
	case VL_EV_ADVISE:
		fprintf(f, "V ADVISE 0x%llx 0x%llx %s %u\n", a, l,
			e->prot == VL_ADV_HUGEPAGE     ? "hugepage"
			: e->prot == VL_ADV_DONTNEED ? "dontneed"
						     : "nohugepage",
			pid);
		break;
	case VL_EV_MMAP:
		prot_name(prot, sizeof(prot), e->prot & ~VL_MAP_SHARED);
		fprintf(f, "V MMAP 0x%llx 0x%llx %s %s %llu 0x%llx %u\n", a, l, prot,
			e->prot & VL_MAP_SHARED ? "shared" : "private", (unsigned long long)e->file_id,
			(unsigned long long)e->offset, pid);
		break;
	case VL_EV_MREMAP:
		fprintf(f, "V MREMAP 0x%llx 0x%llx 0x%llx 0x%llx %u\n", a, l,
			(unsigned long long)e->offset, (unsigned long long)e->file_id, pid);
		break;
	case VL_EV_FORK:
		fprintf(f, "V FORK %llu %u\n", a, pid);
		break;
	case VL_EV_FREAD:
		fprintf(f, "V FREAD %llu 0x%llx 0x%llx %u\n", (unsigned long long)e->file_id,
			(unsigned long long)e->offset, l, pid);
		break;
	case VL_EV_POPULATE:
		fprintf(f, "V POPULATE 0x%llx 0x%llx %s %u\n", a, l,
			e->prot == VL_POP_WRITE ? "write" : "read", pid);
		break;
	case VL_EV_HEAP_ALLOC:
		if (e->offset)
			fprintf(f, "H MEMALIGN 0x%llx %llu %llu %u\n", a, l,
				(unsigned long long)e->offset, pid);
		else
			fprintf(f, "H ALLOC 0x%llx %llu %u\n", a, l, pid);
		break;
	case VL_EV_HEAP_FREE:
		fprintf(f, "H FREE 0x%llx %u\n", a, pid);
		break;
	case VL_EV_HEAP_REALLOC:
		fprintf(f, "H REALLOC 0x%llx 0x%llx %llu %u\n", a, (unsigned long long)e->offset, l,
			pid);
		break;
	default:
		fprintf(f, "# event of unknown kind %u pid %u\n", e->kind, pid);
	}
}

/* Text out: one addr line per access or event, into dest (a temporary
 * file, or "-"); true when all of it was written. */
static bool to_addr(struct vl_trace *t, const char *out, const char *dest)
{
	struct vl_error err = { 0 };
	FILE *f = strcmp(dest, "-") ? fopen(dest, "w") : stdout;
	if (!f) {
		cli_error("convert: cannot create %s: %s", out, strerror(errno));
		return false;
	}
	struct vl_batch b;
	int rc = vl_batch_init(&b, 8192, &err);
	ssize_t got = 0;
	while (rc == 0 && !ferror(f) && (got = vl_trace_read(t, &b, &err)) > 0) {
		for (size_t i = 0; i < b.n; i++) {
			const struct vl_rec *r = &b.recs[i];
			if (r->op == VL_OP_EVENT) {
				print_event(f, &b.events[r->addr], r->pid);
			} else {
				fprintf(f, "%c 0x%llx %u\n", "RWIM"[r->op], (unsigned long long)r->addr,
					r->pid);
			}
		}
	}
	vl_batch_free(&b);
	if (got < 0 || rc < 0)
		cli_error("%s", err.msg);
	bool bad = ferror(f) != 0;
	bad = (f == stdout ? fflush(f) : fclose(f)) != 0 || bad;
	if (bad && got >= 0 && rc == 0)
		cli_error("convert: %s: write failed: %s", out, errno ? strerror(errno) : "I/O error");
	if (vl_trace_warning(t))
		fprintf(stderr, "vmlab: warning: %s\n", vl_trace_warning(t));
	return got >= 0 && rc == 0 && !bad;
}

/* The reader's metadata pairs as they are now (it adds process names as
 * it meets them); the arrays are kept for the next call. */
struct metas {
	const char **k, **v;
	size_t n, cap;
	char **said; /* per pair: the process name written for it, or NULL */
};

static int metas_load(const struct vl_trace *t, struct metas *m)
{
	size_t n = vl_trace_meta_list(t, NULL, NULL, 0);
	if (n > m->cap) {
		const char **k = realloc(m->k, n * sizeof(*k));
		if (k)
			m->k = k;
		const char **v = realloc(m->v, n * sizeof(*v));
		if (v)
			m->v = v;
		char **sd = realloc(m->said, n * sizeof(*sd));
		if (sd) {
			memset(sd + m->cap, 0, (n - m->cap) * sizeof(*sd));
			m->said = sd;
		}
		if (!k || !v || !sd)
			return -1;
		m->cap = n;
	}
	m->n = vl_trace_meta_list(t, m->k, m->v, n);
	return 0;
}

static void metas_free(struct metas *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->said[i]);
	free(m->k);
	free(m->v);
	free(m->said);
}

/* The source's header for the converted file: cmdline, date, comment
 * (unless --comment is given) and page_size as they were; every other
 * key but tool and the process names (the file table of a capture,
 * file.ID = DEV:INODE SIZE PATH) as extra lines, in the source's order
 * (*extra, to free).  Values point into t's metadata.  Returns 0 or -1
 * (out of memory). */
static int carry_meta(const struct vl_trace *t, struct metas *m, struct vl_vmt_meta *meta,
		      const char *comment, char **extra)
{
	meta->cmdline = vl_trace_meta(t, "cmdline");
	meta->date = vl_trace_meta(t, "date");
	meta->comment = comment ? comment : vl_trace_meta(t, "comment");
	const char *ps = vl_trace_meta(t, "page_size");
	meta->page_size = ps ? (uint32_t)strtoul(ps, NULL, 10) : 0;
	if (metas_load(t, m) < 0)
		return -1;
	static const char *const own[] = { "tool", "cmdline", "date", "comment", "page_size" };
	size_t len = 0, cap = 0;
	char *x = NULL;
	for (size_t i = 0; i < m->n; i++) {
		bool skip = !strncmp(m->k[i], "process.", 8);
		for (size_t o = 0; o < sizeof(own) / sizeof(own[0]) && !skip; o++)
			skip = !strcmp(m->k[i], own[o]);
		if (skip)
			continue;
		size_t need = strlen(m->k[i]) + strlen(m->v[i]) + 2;
		if (len + need + 1 > cap) {
			size_t nc = (cap ? cap * 2 : 1024) + need;
			char *nx = realloc(x, nc);
			if (!nx) {
				free(x);
				return -1;
			}
			x = nx;
			cap = nc;
		}
		len += (size_t)sprintf(x + len, "%s=%s\n", m->k[i], m->v[i]);
	}
	*extra = x;
	meta->extra = x;
	return 0;
}

/* Write a process record for each "process.PID" name the reader has met
 * or changed (an exec renames a pid in place) since the last call: in the
 * header of an older file, or in the stream as its processes start, so
 * the converted stream names its processes too. */
static int carry_procs(const struct vl_trace *t, struct vl_vmt_writer *w, struct metas *m,
		       struct vl_error *err)
{
	if (metas_load(t, m) < 0)
		return vl_err(err, VL_ENOMEM, "out of memory for the process names");
	int rc = 0;
	for (size_t i = 0; i < m->n && !rc; i++) {
		char *end;
		if (strncmp(m->k[i], "process.", 8) || (m->said[i] && !strcmp(m->said[i], m->v[i])))
			continue;
		unsigned long pid = strtoul(m->k[i] + 8, &end, 10);
		if (*end || pid > UINT32_MAX)
			continue;
		free(m->said[i]);
		if (!(m->said[i] = strdup(m->v[i])))
			rc = vl_err(err, VL_ENOMEM, "out of memory for the process names");
		else
			rc = vl_vmt_write_proc(w, (uint32_t)pid, m->v[i], err);
	}
	return rc;
}


int cmd_convert(int argc, char **argv)
{
	const char *format = "auto", *tool = NULL, *comment = NULL;
	size_t chunk = 0;
	int level = 0;
	bool addr = false;
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "tool", required_argument, NULL, 'T' },
		{ "comment", required_argument, NULL, 'C' },
		{ "chunk", required_argument, NULL, 'k' },
		{ "level", required_argument, NULL, 'L' },
		{ "addr", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'T': tool = optarg; break;
		case 'A': addr = true; break;
		case 'C': comment = optarg; break;
		case 'k': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || v == 0 || v > (16u << 20)) {
				cli_error("convert: --chunk expects 1..16777216 records, got '%s'", optarg);
				return EXIT_USAGE;
			}
			chunk = (size_t)v;
			break;
		}
		case 'L': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 19) {
				cli_error("convert: --level expects 1..19, got '%s'", optarg);
				return EXIT_USAGE;
			}
			level = (int)v;
			break;
		}
		case 'h': convert_usage(stdout); return 0;
		default:
			cli_error("convert: unknown option or missing argument '%s' (see vmlab convert --help)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error("convert: expected IN and OUT (see vmlab convert --help)");
		return EXIT_USAGE;
	}
	const char *in = argv[optind], *out = argv[optind + 1];
	struct stat si, so;
	if (strcmp(in, "-") && stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev &&
	    si.st_ino == so.st_ino) {
		/* the converted trace would replace the one it came from */
		cli_error("convert: %s: the output is the input file; give the converted trace "
			  "another name",
			  out);
		return EXIT_USAGE;
	}
	struct vl_error err = { 0 };
	struct vl_trace *t;
	if (vl_trace_open(&t, in, format, &err) < 0) {
		cli_error("%s", err.msg);
		return err.code == VL_ENOENT && strcmp(format, "auto") ? EXIT_USAGE : EXIT_INPUT;
	}
	/* written to a temporary file renamed over OUT only when complete: a
	 * failed read or write (a full disk) leaves OUT as it was, never a
	 * partial trace that would replay as fewer records */
	char *dest = cli_out_begin(out);
	if (!dest) {
		vl_trace_close(t);
		return EXIT_INPUT;
	}
	if (addr) {
		bool ok = to_addr(t, out, dest);
		vl_trace_close(t);
		return cli_out_end(out, dest, ok);
	}
	char deftool[128];
	snprintf(deftool, sizeof(deftool), "vmlab convert from %s", vl_trace_format(t));
	/* carry the source's own metadata (a .vmt converted again): its
	 * command line, date and comment, its file table and any other
	 * header lines; its process names go into the stream below */
	char *extra = NULL;
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = tool ? tool : deftool };
	struct metas md = { 0 };
	if (carry_meta(t, &md, &meta, comment, &extra) < 0) {
		cli_error("%s: not written: out of memory", out);
		metas_free(&md);
		vl_trace_close(t);
		return cli_out_end(out, dest, false);
	}
	struct vl_vmt_writer *w;
	if (vl_vmt_writer_open(&w, dest, &meta, chunk, &err) < 0 ||
	    (level && vl_vmt_writer_level(w, level, &err) < 0 && (vl_vmt_writer_close(w, NULL), 1)) ||
	    (vl_vmt_writer_async(w, &err) < 0 && (vl_vmt_writer_close(w, NULL), 1))) {
		cli_error("%s: not written: %s", out, err.msg);
		free(extra);
		metas_free(&md);
		vl_trace_close(t);
		return cli_out_end(out, dest, false);
	}
	free(extra);
	struct vl_batch b;
	int rc = vl_batch_init(&b, 8192, &err);
	ssize_t got = 0;
	rc = rc ? rc : carry_procs(t, w, &md, &err);
	while (rc == 0 && (got = vl_trace_read(t, &b, &err)) > 0) {
		rc = carry_procs(t, w, &md, &err);
		if (rc == 0)
			rc = vl_vmt_write(w, &b, &err);
	}
	if (got < 0)
		rc = (int)got;
	uint64_t recs = vl_vmt_records(w);
	if (rc < 0) {
		cli_error("%s", err.msg);
		vl_vmt_writer_close(w, NULL);
	} else if ((rc = vl_vmt_writer_close(w, &err)) < 0) {
		cli_error("%s: not written, nothing changed: %s", out, err.msg);
	}
	vl_batch_free(&b);
	metas_free(&md);
	const char *warn = vl_trace_warning(t);
	if (rc == 0 && warn)
		fprintf(stderr, "vmlab: warning: %s\n", warn);
	if ((rc = cli_out_end(out, dest, rc == 0)) != 0) {
		vl_trace_close(t);
		return rc;
	}
	if (strcmp(out, "-")) {
		FILE *f = fopen(out, "rb");
		long size = -1;
		if (f && fseek(f, 0, SEEK_END) == 0)
			size = ftell(f);
		if (f)
			fclose(f);
		fprintf(stderr, "vmlab: %s (%s) -> %s: %llu records, %ld bytes (%.3f bytes/record)\n",
			in, vl_trace_format(t), out, (unsigned long long)recs, size,
			recs ? (double)size / (double)recs : 0.0);
	}
	vl_trace_close(t);
	return 0;
}
