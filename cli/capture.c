/* cli/capture.c - `vmlab capture`: record a real program's memory accesses
 * into .vmt through one of three back ends.
 *
 *   qemu    qemu-x86_64 -plugin vmlab-qemu.so,out=OUT PROGRAM ARGS
 *   lackey  valgrind --tool=lackey --trace-mem=yes --log-fd=N, read from a
 *           pipe and converted on the fly
 *   sancov  run a program built with `vmlab capture --flags`, with
 *           VMLAB_TRACE_OUT=OUT in its environment
 *
 * The finished file is read back once to check it and count its records.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/util.h"
#include "cli/cli.h"

/* zstd level of the trace written (--level) */
static int capture_level = 1;

#define SANCOV_CFLAGS "-fsanitize-coverage=edge,trace-loads,trace-stores"

static void capture_usage(FILE *f)
{
	fprintf(f,
		"usage: vmlab capture -o OUT.vmt [--backend qemu|lackey|sancov] [--ifetch]\n"
		"                     [--no-heap] [--level N] -- PROGRAM [ARGS...]\n"
		"       vmlab capture --flags | --cflags | --libs\n"
		"\n"
		"Run PROGRAM and record its memory accesses (loads and stores; with --ifetch\n"
		"instruction fetches too) into OUT.vmt.  Back ends:\n"
		"  qemu    qemu-x86_64 with the vmlab TCG plugin (default when qemu-x86_64 is\n"
		"          installed): any x86-64 Linux binary, 13-30x slower than native\n"
		"  lackey  valgrind's lackey tool: any binary, about 100x slower than qemu\n"
		"  sancov  PROGRAM built with clang and the flags of `vmlab capture --flags`;\n"
		"          records instrumented code only (not libc), data accesses only\n"
		"Region-of-interest markers (#include <vmlab/roi.h>: vmlab_roi_begin(),\n"
		"vmlab_roi_end()) are recorded by every back end; `vmlab run --roi` replays\n"
		"only inside them.\n"
		"\n"
		"  --no-heap (qemu) do not record heap calls: by default every traced process\n"
		"            loads vmlab-heap.so, which records malloc, free, realloc ... as\n"
		"            H events (docs/heap.md); lackey and sancov record none\n"
		"  --level N zstd level of OUT.vmt, 1 to 19 (1: the fastest capture;\n"
		"            `vmlab convert --level 15` makes it about 20 %% smaller later)\n"
		"  --flags   print the clang compile and link flags for sancov (one line)\n"
		"  --cflags  the compile flags only;  --libs  the link flags only\n"
		"\n"
		"Exit status: PROGRAM's own when it fails, else 0; 1 when no valid trace was\n"
		"written, 2 on usage errors.\n");
}

/* Directory of the running vmlab binary. */
static void exe_dir(char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0) {
		snprintf(buf, len, ".");
		return;
	}
	path[n] = '\0';
	snprintf(buf, len, "%s", dirname(path));
}

/* First existing file among DIR/a and DIR/b; 0 if found. */
static int find_beside(char *out, size_t len, const char *a, const char *b)
{
	char dir[PATH_MAX];
	exe_dir(dir, sizeof(dir));
	const char *cand[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		snprintf(out, len, "%s/%s", dir, cand[i]);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* Find prog along PATH (as execvp would) into buf; true if found. */
static bool which(const char *prog, char *buf, size_t len)
{
	if (strchr(prog, '/')) {
		snprintf(buf, len, "%s", prog);
		return access(buf, X_OK) == 0;
	}
	const char *p = getenv("PATH");
	if (!p)
		return false;
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(buf, len, "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

static bool in_path(const char *prog)
{
	char buf[PATH_MAX];
	return which(prog, buf, sizeof(buf));
}

static int print_flags(bool cflags, bool libs)
{
	char lib[PATH_MAX], inc[PATH_MAX], dir[PATH_MAX];
	if (libs && find_beside(lib, sizeof(lib), "libvmlab-sancov.a", "../lib/libvmlab-sancov.a") < 0) {
		cli_error("capture: libvmlab-sancov.a not found beside vmlab or in ../lib (run make)");
		return EXIT_INPUT;
	}
	exe_dir(dir, sizeof(dir));
	/* installed: PREFIX/bin/../include; in the tree: build/ or build/VARIANT/ */
	static const char *const up[] = { "/../include", "/../../include" };
	char *rinc = NULL;
	for (size_t i = 0; i < 2 && !rinc; i++) {
		char probe[PATH_MAX + 32];
		snprintf(inc, sizeof(inc), "%s%s", dir, up[i]);
		snprintf(probe, sizeof(probe), "%s/vmlab/roi.h", inc);
		if (access(probe, R_OK) == 0)
			rinc = realpath(inc, NULL);
	}
	if (!rinc)
		snprintf(inc, sizeof(inc), "%s/../include", dir);
	if (cflags)
		printf("%s -I%s", SANCOV_CFLAGS, rinc ? rinc : inc);
	if (cflags && libs)
		putchar(' ');
	if (libs)
		printf("-Wl,--whole-archive %s -Wl,--no-whole-archive -lzstd -lpthread", lib);
	putchar('\n');
	free(rinc);
	return 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wait for pid; returns its exit status (128 + signal when killed). */
static int wait_child(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 127;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 127;
}

static pid_t spawn(char *const *argv, int keep_fd)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		(void)keep_fd;
		execvp(argv[0], argv);
		fprintf(stderr, "vmlab: capture: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* lackey: valgrind writes its log into a pipe; convert it as it comes. */
static int capture_lackey(const char *out, bool ifetch, char **prog, int *status)
{
	int fds[2];
	if (pipe(fds) < 0) {
		cli_error("capture: pipe: %s", strerror(errno));
		return EXIT_INPUT;
	}
	int nargs = 0;
	while (prog[nargs])
		nargs++;
	char logfd[32];
	snprintf(logfd, sizeof(logfd), "--log-fd=%d", fds[1]);
	char **argv = calloc((size_t)nargs + 5, sizeof(*argv));
	if (!argv)
		return EXIT_INPUT;
	argv[0] = "valgrind";
	argv[1] = "--tool=lackey";
	argv[2] = "--trace-mem=yes";
	argv[3] = logfd;
	for (int i = 0; i < nargs; i++)
		argv[4 + i] = prog[i];
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "vmlab: capture: cannot run valgrind: %s\n", strerror(errno));
		_exit(127);
	}
	free(argv);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		cli_error("capture: fork: %s", strerror(errno));
		return EXIT_INPUT;
	}
	char path[64];
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	struct vl_error err = { 0 };
	struct vl_trace *t = NULL;
	struct vl_vmt_writer *w = NULL;
	struct vl_batch b = { 0 };
	char cmd[4096] = "";
	size_t used = 0;
	for (int i = 0; prog[i] && used < sizeof(cmd); i++)
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "", prog[i]);
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = "vmlab capture --backend lackey (valgrind)",
				    .cmdline = cmd };
	int rc = vl_vmt_writer_open(&w, out, &meta, 0, &err);
	if (rc == 0)
		rc = vl_vmt_writer_level(w, capture_level, &err);
	if (rc == 0)
		rc = vl_vmt_writer_async(w, &err);
	if (rc == 0)
		rc = vl_vmt_write_proc(w, 1, prog[0], &err);
	if (rc == 0)
		rc = vl_batch_init(&b, 8192, &err);
	if (rc == 0)
		rc = vl_trace_open(&t, path, "lackey", &err);
	ssize_t got = 0;
	while (rc == 0 && (got = vl_trace_read(t, &b, &err)) > 0) {
		if (!ifetch) {
			size_t k = 0;
			for (size_t i = 0; i < b.n; i++)
				if (b.recs[i].op != VL_OP_IFETCH)
					b.recs[k++] = b.recs[i];
			b.n = k;
		}
		rc = vl_vmt_write(w, &b, &err);
	}
	if (rc == 0 && got < 0)
		rc = (int)got;
	if (rc < 0)
		kill(pid, SIGTERM);
	*status = wait_child(pid);
	if (rc == 0) { /* the program's end, as the other back ends record it */
		vl_batch_reset(&b);
		b.events[0] = (struct vl_event){ .kind = VL_EV_EXIT };
		b.recs[0] = (struct vl_rec){ .addr = 0, .pid = 1, .op = VL_OP_EVENT };
		b.n = b.n_events = 1;
		rc = vl_vmt_write(w, &b, &err);
	}
	if (rc < 0) {
		cli_error("capture: %s", err.msg);
		vl_vmt_writer_close(w, NULL);
	} else if (vl_vmt_writer_close(w, &err) < 0) {
		cli_error("capture: %s", err.msg);
		rc = -1;
	}
	vl_trace_close(t);
	if (t == NULL)
		close(fds[0]);
	vl_batch_free(&b);
	return rc < 0 ? EXIT_INPUT : 0;
}

/* ---- the qemu back end's files, one per process and exec, merged ----
 *
 * Beside each file, its ticks (PID.SEQ.ticks): after each flush of the
 * plugin, the records written so far and the CLOCK_MONOTONIC time.  A
 * segment is the records up to a tick; segments of all files go out in
 * the order of their ticks, so processes interleave as they ran (to within
 * one buffer, 4096 records), a forked child's V FORK after everything its
 * parent did before the fork (the plugin flushes at fork) and before what
 * it did after (the child dates its V FORK at the fork), and an exec'd
 * image after its predecessor's file.  A single file (one process, no
 * exec) needs no merge: it is renamed, and the file table goes into the
 * metadata space the plugin reserved (vl_vmt_fill_reserved). */

struct part {
	struct vl_trace *t;
	struct vl_batch in; /* the batch being consumed */
	size_t pos;
	bool eof, have, started;
	struct vl_rec *r;   /* the current segment */
	size_t n, cap;
	struct vl_event *ev;
	size_t nev, evcap;
	uint64_t key;       /* its tick; UINT64_MAX for what follows the last */
	FILE *ticks;
	uint64_t consumed;  /* records taken from the file so far */
	uint32_t pid;
	char name[256];
};

static int seg_push(struct part *p, const struct vl_rec *r, const struct vl_event *ev,
		    struct vl_error *err)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 8192;
		struct vl_rec *nr = realloc(p->r, nc * sizeof(*nr));
		if (!nr)
			return vl_err(err, VL_ENOMEM, "out of memory merging the capture");
		p->r = nr;
		p->cap = nc;
	}
	p->r[p->n] = *r;
	if (ev) {
		if (p->nev == p->evcap) {
			size_t nc = p->evcap ? 2 * p->evcap : 256;
			struct vl_event *ne = realloc(p->ev, nc * sizeof(*ne));
			if (!ne)
				return vl_err(err, VL_ENOMEM, "out of memory merging the capture");
			p->ev = ne;
			p->evcap = nc;
		}
		p->ev[p->nev] = *ev;
		p->r[p->n].addr = p->nev++;
	}
	p->n++;
	return 0;
}

/* Load p's next segment (p->have false at the end of its file). */
static int part_next(struct part *p, struct vl_error *err)
{
	p->n = p->nev = 0;
	p->have = false;
	unsigned long long upto = ~0ull, t = ~0ull;
	if (!p->ticks || fscanf(p->ticks, "%llu %llu", &upto, &t) != 2)
		upto = t = ~0ull;
	while (p->consumed < upto) {
		if (p->pos == p->in.n) {
			if (p->eof)
				break;
			vl_batch_reset(&p->in);
			p->pos = 0;
			ssize_t got = vl_trace_read(p->t, &p->in, err);
			if (got < 0)
				return (int)got;
			if (got == 0)
				p->eof = true;
			continue;
		}
		const struct vl_rec *r = &p->in.recs[p->pos++];
		p->consumed++;
		VL_TRY(seg_push(p, r, r->op == VL_OP_EVENT ? &p->in.events[r->addr] : NULL, err));
	}
	p->key = t;
	p->have = p->n > 0 || upto != ~0ull;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append the file table of DIR/NAME (`ID DEV:INODE SIZE PATH` lines) to
 * *tab as `file.ID=DEV:INODE SIZE PATH` lines, each id once. */
static void add_files(const char *path, char **tab, size_t *len)
{
	FILE *f = fopen(path, "r");
	char line[4500];
	while (f && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');
		if (!sp || line[strlen(line) - 1] != '\n')
			continue;
		char key[64];
		snprintf(key, sizeof(key), "file.%.*s=", (int)(sp - line), line);
		if (*tab) { /* once: the first process that named it */
			bool seen = !strncmp(*tab, key, strlen(key));
			for (const char *q = *tab; !seen && (q = strstr(q, "\nfile.")); q++)
				seen = !strncmp(q + 1, key, strlen(key));
			if (seen)
				continue;
		}
		size_t add = strlen(key) + strlen(sp + 1);
		char *n = realloc(*tab, *len + add + 1);
		if (!n)
			break;
		*tab = n;
		snprintf(*tab + *len, add + 1, "%s%s", key, sp + 1);
		*len += add;
	}
	if (f)
		fclose(f);
}

/* Merge the .vmt files of DIR into out; fills procs (a text listing the processes).
 * 0 or a negative code with err. */
static int merge_parts(const char *dir, const char *out, const char *cmdline, const char *status,
		       char *procs, size_t procs_len, struct vl_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return vl_err(err, VL_EIO, "%s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t nn = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".vmt"))
			continue;
		if (nn == cap) {
			cap = cap ? 2 * cap : 16;
			char **nv = realloc(names, cap * sizeof(*nv));
			if (!nv)
				break;
			names = nv;
		}
		names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), name_cmp);
	char *tab = NULL;
	size_t tlen = 0;
	for (size_t i = 0; i < nn; i++) {
		char fpath[PATH_MAX];
		snprintf(fpath, sizeof(fpath), "%s/%.*s.files", dir, (int)strlen(names[i]) - 4, names[i]);
		add_files(fpath, &tab, &tlen);
	}
	size_t xl = tlen + strlen(status) + 1;
	char *extra = malloc(xl);
	if (extra)
		snprintf(extra, xl, "%s%s", tab ? tab : "", status);
	free(tab);
	if (nn == 1 && extra) {
		/* one process, no exec: the file is the trace */
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, names[0]);
		struct vl_error ferr = { 0 };
		if (vl_vmt_fill_reserved(path, extra, &ferr) == 0 && rename(path, out) == 0) {
			struct vl_trace *t;
			if (vl_trace_open(&t, out, "vmt", err) == 0) {
				struct vl_batch b;
				if (vl_batch_init(&b, 64, err) == 0) {
					vl_trace_read(t, &b, err); /* its process start names it */
					vl_batch_free(&b);
				}
				char key[32];
				unsigned long pid = strtoul(names[0], NULL, 10);
				snprintf(key, sizeof(key), "process.%lu", pid);
				const char *name = vl_trace_meta(t, key);
				if (name)
					snprintf(procs, procs_len, "%lu %s", pid, name);
				vl_trace_close(t);
			}
			free(names[0]);
			free(names);
			free(extra);
			return 0;
		}
		/* no room (a very long file table): merge as for several */
	}
	struct part *pt = calloc(nn ? nn : 1, sizeof(*pt));
	struct vl_vmt_writer *w = NULL;
	struct vl_vmt_meta meta = { .size = sizeof(meta), .tool = "vmlab capture --backend qemu",
				    .cmdline = cmdline, .extra = extra };
	int rc = !pt || !extra ? vl_err(err, VL_ENOMEM, "out of memory merging the capture") : 0;
	if (rc == 0)
		rc = vl_vmt_writer_open(&w, out, &meta, 0, err);
	if (rc == 0)
		rc = vl_vmt_writer_level(w, capture_level, err);
	if (rc == 0)
		rc = vl_vmt_writer_async(w, err);
	procs[0] = '\0';
	size_t pused = 0;
	for (size_t i = 0; rc == 0 && i < nn; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		pt[i].pid = (uint32_t)strtoul(names[i], NULL, 10);
		char tpath[PATH_MAX];
		snprintf(tpath, sizeof(tpath), "%s/%.*s.ticks", dir, (int)strlen(names[i]) - 4, names[i]);
		pt[i].ticks = fopen(tpath, "r");
		rc = vl_trace_open(&pt[i].t, path, "vmt", err);
		if (rc == 0)
			rc = vl_batch_init(&pt[i].in, 8192, err);
		if (rc < 0)
			break;
		rc = part_next(&pt[i], err);
		/* its process start (read with the first records) names it */
		char key[32];
		snprintf(key, sizeof(key), "process.%u", pt[i].pid);
		const char *name = vl_trace_meta(pt[i].t, key);
		if (name)
			snprintf(pt[i].name, sizeof(pt[i].name), "%s", name);
		if (vl_trace_warning(pt[i].t))
			fprintf(stderr, "vmlab: warning: process %u: %s\n", pt[i].pid,
				vl_trace_warning(pt[i].t));
		if (pused + 1 < procs_len && pt[i].name[0] &&
		    !(i > 0 && pt[i - 1].pid == pt[i].pid && !strcmp(pt[i - 1].name, pt[i].name)))
			pused += (size_t)snprintf(procs + pused, procs_len - pused, "%s%u %s",
						  pused ? ", " : "", pt[i].pid, pt[i].name);
	}
	while (rc == 0) {
		struct part *best = NULL;
		for (size_t i = 0; i < nn; i++)
			if (pt[i].have && (!best || pt[i].key < best->key))
				best = &pt[i];
		if (!best)
			break;
		if (!best->started) {
			best->started = true;
			rc = vl_vmt_write_proc(w, best->pid, best->name, err);
		}
		if (rc == 0 && best->n) {
			struct vl_batch b = { .recs = best->r, .n = best->n, .cap = best->n,
					      .events = best->ev, .n_events = best->nev,
					      .ev_cap = best->nev };
			rc = vl_vmt_write(w, &b, err);
		}
		if (rc == 0)
			rc = part_next(best, err);
	}
	if (w) {
		if (rc == 0)
			rc = vl_vmt_writer_close(w, err);
		else
			vl_vmt_writer_close(w, NULL);
	}
	for (size_t i = 0; i < nn; i++) {
		vl_trace_close(pt[i].t);
		if (pt[i].ticks)
			fclose(pt[i].ticks);
		vl_batch_free(&pt[i].in);
		free(pt[i].r);
		free(pt[i].ev);
		free(names[i]);
	}
	free(pt);
	free(names);
	free(extra);
	return rc;
}

/* Remove the parts directory and its files. */
static void remove_parts(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static volatile sig_atomic_t got_sigint;
static volatile pid_t traced_pid;

static void on_sigint(int sig)
{
	got_sigint = 1;
	if (traced_pid != 0) /* minus the traced process group */
		kill(traced_pid, sig);
}

int cmd_capture(int argc, char **argv)
{
	const char *out = NULL, *backend = NULL;
	bool ifetch = false, no_heap = false;
	int flags = 0;
	long level = 1;
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "backend", required_argument, NULL, 'b' },
		{ "ifetch", no_argument, NULL, 'I' },
		{ "no-heap", no_argument, NULL, 'H' },
		{ "level", required_argument, NULL, 'l' },
		{ "flags", no_argument, NULL, 'F' },
		{ "cflags", no_argument, NULL, 'C' },
		{ "libs", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'b': backend = optarg; break;
		case 'I': ifetch = true; break;
		case 'H': no_heap = true; break;
		case 'l': {
			char *end;
			errno = 0;
			level = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || level < 1 || level > 19) {
				cli_error("capture: --level '%s': expected a zstd level, 1 to 19", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case 'F': flags = 3; break;
		case 'C': flags |= 1; break;
		case 'L': flags |= 2; break;
		case 'h': capture_usage(stdout); return 0;
		default:
			cli_error("capture: unknown option or missing argument '%s' (see vmlab capture --help)",
				  argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (flags)
		return print_flags(flags & 1, flags & 2);
	if (!out || optind >= argc) {
		cli_error("capture: expected -o OUT.vmt -- PROGRAM [ARGS...] (see vmlab capture --help)");
		return EXIT_USAGE;
	}
	struct vl_error oerr = { 0 };
	if (au_check_replace(out, &oerr) < 0) { /* before the program runs */
		cli_error("capture: %s", oerr.msg);
		return EXIT_INPUT;
	}
	char lvs[8];
	snprintf(lvs, sizeof(lvs), "%ld", level);
	setenv("VMLAB_CAPTURE_LEVEL", lvs, 1); /* the qemu and sancov runtimes */
	capture_level = (int)level;            /* lackey's and the merge's writers */
	char plugin[PATH_MAX];
	bool have_plugin = find_beside(plugin, sizeof(plugin), "vmlab-qemu.so", "../lib/vmlab-qemu.so") == 0;
	if (!backend) {
		bool have_qemu = in_path("qemu-x86_64");
		backend = have_plugin && have_qemu ? "qemu" : "lackey";
		/* lackey is ~100x slower: say why the default back end was not
		 * taken (a vmlab copied away from its build leaves the plug-in
		 * behind) */
		if (!have_plugin || !have_qemu)
			cli_error("warning: capture: using the lackey back end (much slower) because %s; "
				  "--backend lackey silences this",
				  !have_plugin ? "vmlab-qemu.so is not beside this vmlab or in ../lib "
						 "(run it from its build directory or install it)"
					       : "qemu-x86_64 is not installed (Debian package qemu-user)");
	}
	char **prog = argv + optind;
	int status = 0, rc = 0;
	char procs[4096] = "";
	double t0 = now();
	if (!strcmp(backend, "lackey")) {
		if (!in_path("valgrind")) {
			cli_error("capture: valgrind is not installed (make deps installs it)");
			return EXIT_INPUT;
		}
		rc = capture_lackey(out, ifetch, prog, &status);
	} else if (!strcmp(backend, "qemu")) {
		if (!have_plugin) {
			cli_error("capture: vmlab-qemu.so not found beside vmlab or in ../lib (run make)");
			return EXIT_INPUT;
		}
		if (!in_path("qemu-x86_64")) {
			cli_error("capture: qemu-x86_64 is not installed (Debian package qemu-user; "
				  "make deps installs it)");
			return EXIT_INPUT;
		}
		int nargs = 0;
		while (prog[nargs])
			nargs++;
		char cmd[2048] = "";
		size_t used = 0;
		for (int i = 0; prog[i] && used < sizeof(cmd); i++)
			used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "",
						 prog[i]);
		for (char *p = cmd; *p; p++)
			if (*p == ',') /* qemu splits plugin arguments at commas */
				*p = ';';
		size_t alen = strlen(plugin) + strlen(out) + strlen(cmd) + 64;
		char *parg = malloc(alen);
		char **qargv = calloc((size_t)nargs + 4, sizeof(*qargv));
		if (!parg || !qargv)
			return EXIT_INPUT;
		if (strchr(out, ',')) {
			cli_error("capture: the qemu back end cannot write to a path with a comma");
			free(parg);
			free(qargv);
			return EXIT_USAGE;
		}
		char progpath[PATH_MAX], qemu[PATH_MAX], reexec[PATH_MAX], heaplib[PATH_MAX];
		char parts[PATH_MAX];
		if (!which(prog[0], progpath, sizeof(progpath))) {
			cli_error("capture: %s: no such program (or not executable)", prog[0]);
			free(parg);
			free(qargv);
			return EXIT_USAGE;
		}
		which("qemu-x86_64", qemu, sizeof(qemu));
		/* one file per process and exec in a directory beside OUT,
		 * merged below; exec'd programs re-enter qemu through the
		 * preload shim (traces/capture/reexec.c) */
		snprintf(parts, sizeof(parts), "%s.parts.XXXXXX", out);
		if (!mkdtemp(parts)) {
			cli_error("capture: cannot create %s: %s", parts, strerror(errno));
			free(parg);
			free(qargv);
			return EXIT_INPUT;
		}
		/* code=on: code pages and the kernel's copies to and from the
		 * program's buffers are recorded (docs/trace-format.md) */
		snprintf(parg, alen, "%s,dir=%s,ifetch=%s,code=on,cmd=%s", plugin, parts,
			 ifetch ? "on" : "off", cmd);
		char penv[PATH_MAX * 2 + 32], preload[PATH_MAX * 3 + 3];
		snprintf(penv, sizeof(penv), "%s,dir=%s,ifetch=%s,code=on", plugin, parts,
			 ifetch ? "on" : "off");
		bool follow = find_beside(reexec, sizeof(reexec), "vmlab-reexec.so",
					  "../lib/vmlab-reexec.so") == 0;
		/* the heap calls (traces/capture/heap.c): preloaded in every
		 * traced process; in qemu's own process it only passes calls on */
		bool heap = !no_heap && find_beside(heaplib, sizeof(heaplib), "vmlab-heap.so",
						     "../lib/vmlab-heap.so") == 0;
		if (!no_heap && !heap)
			fprintf(stderr, "vmlab: warning: capture: vmlab-heap.so not found: no heap "
					"events are recorded\n");
		const char *old_preload = getenv("LD_PRELOAD");
		if (follow) {
			snprintf(preload, sizeof(preload), "%s%s%s%s%s", reexec, heap ? ":" : "",
				 heap ? heaplib : "", old_preload ? ":" : "",
				 old_preload ? old_preload : "");
			setenv("LD_PRELOAD", preload, 1);
			setenv("VMLAB_QEMU", qemu, 1);
			setenv("VMLAB_QEMU_PLUGIN", penv, 1);
		} else {
			fprintf(stderr, "vmlab: warning: capture: vmlab-reexec.so not found: programs "
					"exec'd by %s are not traced\n", prog[0]);
		}
		qargv[0] = "qemu-x86_64";
		qargv[1] = "-plugin";
		qargv[2] = parg;
		qargv[3] = progpath; /* qemu does not search PATH */
		for (int i = 1; i < nargs; i++)
			qargv[3 + i] = prog[i];
		remove(out);
		/* SIGINT (a terminal's ^C) and SIGTERM (validate --limit's
		 * teardown) go to the traced processes, and the trace is kept */
		struct sigaction sa = { .sa_handler = on_sigint }, old_sa, old_term;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_sa);
		sigaction(SIGTERM, &sa, &old_term);
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			setpgid(0, 0); /* its own group: SIGINT is forwarded to all of it */
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			execvp(qargv[0], qargv);
			fprintf(stderr, "vmlab: capture: cannot run %s: %s\n", qargv[0], strerror(errno));
			_exit(127);
		}
		if (pid > 0)
			setpgid(pid, pid);
		traced_pid = pid > 0 ? -pid : 0;
		status = pid > 0 ? wait_child(pid) : 127;
		/* processes the traced program left behind finish their files */
		for (int i = 0; pid > 0 && i < 500 && kill(-pid, 0) == 0; i++)
			usleep(10000);
		traced_pid = 0;
		sigaction(SIGINT, &old_sa, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		if (follow) {
			unsetenv("VMLAB_QEMU");
			unsetenv("VMLAB_QEMU_PLUGIN");
			if (old_preload)
				setenv("LD_PRELOAD", old_preload, 1);
			else
				unsetenv("LD_PRELOAD");
		}
		free(parg);
		free(qargv);
		char st_line[128];
		snprintf(st_line, sizeof(st_line), "exit_status=%d\n%s", status,
			 got_sigint ? "interrupted=yes\n" : "");
		struct vl_error merr = { 0 };
		if (merge_parts(parts, out, cmd, st_line, procs, sizeof(procs), &merr) < 0) {
			cli_error("capture: %s (the per-process files are kept in %s)", merr.msg, parts);
			return status ? status : EXIT_INPUT;
		}
		remove_parts(parts);
		if (got_sigint)
			fprintf(stderr, "vmlab: capture: interrupted; %s holds the trace up to the "
					"interruption\n", out);
	} else if (!strcmp(backend, "sancov")) {
		if (ifetch) {
			cli_error("capture: the sancov back end records loads and stores only "
				  "(no --ifetch)");
			return EXIT_USAGE;
		}
		remove(out);
		setenv("VMLAB_TRACE_OUT", out, 1);
		pid_t pid = spawn(prog, -1);
		status = pid > 0 ? wait_child(pid) : 127;
		unsetenv("VMLAB_TRACE_OUT");
		if (access(out, F_OK) != 0) {
			cli_error("capture: %s wrote no trace: was it built with `vmlab capture --flags`?",
				  prog[0]);
			return status ? status : EXIT_INPUT;
		}
	} else {
		cli_error("capture: unknown --backend '%s' (qemu, lackey, sancov)", backend);
		return EXIT_USAGE;
	}
	double secs = now() - t0;
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) /* the traced program and its tracer */
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
		      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	if (getrusage(RUSAGE_SELF, &ru) == 0) /* lackey: this process converts */
		cpu += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
		       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
	if (rc)
		return rc;
	/* read the result back: a valid, complete trace? */
	struct vl_error err = { 0 };
	struct vl_trace *t;
	if (vl_trace_open(&t, out, "vmt", &err) < 0) {
		cli_error("capture: %s", err.msg);
		return status ? status : EXIT_INPUT;
	}
	struct { uint64_t accesses, records, events, by_op[VL_OP_NACCESS]; } st = { 0 };
	struct vl_batch b;
	ssize_t got = vl_batch_init(&b, 8192, &err);
	while (got == 0 && (got = vl_trace_read(t, &b, &err)) > 0) {
		for (size_t i = 0; i < b.n; i++) {
			if (b.recs[i].op < VL_OP_NACCESS)
				st.by_op[b.recs[i].op]++;
			else
				st.events++;
		}
		st.records += b.n;
		got = 0;
	}
	vl_batch_free(&b);
	st.accesses = st.records - st.events;
	if (got < 0) {
		cli_error("capture: %s", err.msg);
		vl_trace_close(t);
		return status ? status : EXIT_INPUT;
	}
	if (vl_trace_warning(t))
		fprintf(stderr, "vmlab: warning: %s\n", vl_trace_warning(t));
	vl_trace_close(t);
	struct stat sb;
	long long size = stat(out, &sb) == 0 ? (long long)sb.st_size : -1;
	fprintf(stderr,
		"vmlab: captured %s with %s: %llu accesses (%llu reads, %llu writes, %llu ifetches), "
		"%llu events; %s %lld bytes (%.3f bytes/access); %.2f s wall, %.2f s CPU; "
		"%.1f M records/s wall, %.1f M records/CPU-s\n",
		prog[0], backend, (unsigned long long)st.accesses, (unsigned long long)st.by_op[0],
		(unsigned long long)st.by_op[1], (unsigned long long)st.by_op[2],
		(unsigned long long)st.events, out, size,
		st.accesses ? (double)size / (double)st.accesses : 0.0, secs, cpu,
		secs > 0 ? (double)st.records / secs / 1e6 : 0.0,
		cpu > 0 ? (double)st.records / cpu / 1e6 : 0.0);
	if (procs[0])
		fprintf(stderr, "vmlab: processes: %s\n", procs);
	else /* lackey, sancov */
		fprintf(stderr, "vmlab: note: the %s back end records no address-space events and "
				"no child processes (the qemu back end does)\n", backend);
	if (status)
		fprintf(stderr, "vmlab: capture: %s exited with status %d\n", prog[0], status);
	return status;
}
