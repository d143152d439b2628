/* analysis/validate_programs.c - replay of a whole captured program, the
 * file table of a capture, and the programs of `vmlab validate --programs`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "analysis/validate_programs.h"

/* ASLR places a program's mappings at a random page in each run, so the
 * 16-page windows of fault-around (file.fault_around, aligned in virtual
 * addresses) split each mapped file at a random phase: Linux's count is a
 * draw over the phases.  The capture has one placement (qemu's), so the
 * replay runs once per phase (file.fault_around_phase = 0 ..
 * fault_around - 1) and reports the mean, rounded: the model's
 * expectation, to compare with Linux's median over its runs.
 *
 * The trace is decoded once.  Engine 0 replays it whole at phase 0; the
 * phase engines 1 .. np (phases 0 .. np - 1) get it without repeats: an
 * access by a process to a page with an operation it made since the last
 * event (after the first, the page is present and allows the operation,
 * or the first one was refused; without memory pressure nothing takes it
 * away but an event) is dropped when a 4096-entry table still remembers
 * it, which leaves the traces several times shorter.  That the repeats change no
 * count is checked, not assumed: engine 1 (phase 0, without repeats) must
 * count what engine 0 counts, else the replay is an error.  The phase
 * engines run in 1 GiB of memory (the host's frame database is built
 * whole; 17 of them would not fit); one that evicts is an error. */
#define VL_PROG_PHASES 16
#define VL_PROG_PHASE_FRAMES 262144 /* 1 GiB */

/* The accesses seen since the last event, by (process, page, operation):
 * a direct-mapped table (repeats_dropped). */
#define SEEN_SLOTS 4096
struct seen {
	uint64_t key[SEEN_SLOTS]; /* page << 16 | op << 13 | (pid & 0x1fff), + 1; 0 empty */
	uint32_t pid[SEEN_SLOTS];
};

/* b without its repeats (above), into r. */
static void repeats_dropped(const struct vl_batch *b, struct vl_batch *r, struct seen *sn)
{
	vl_batch_reset(r);
	for (size_t i = 0; i < b->n; i++) {
		struct vl_rec x = b->recs[i];
		if (x.op < VL_OP_NACCESS) {
			uint64_t page = x.addr >> 12;
			uint64_t key = ((page << 16) | ((uint64_t)x.op << 13) | (x.pid & 0x1fff)) + 1;
			size_t h = (size_t)((page * 0x9e3779b97f4a7c15ull + x.pid + x.op) >> 52) &
				   (SEEN_SLOTS - 1);
			if (sn->key[h] == key && sn->pid[h] == x.pid && page < (1ull << 48))
				continue; /* present and allowing the operation, or refused before */
			sn->key[h] = key;
			sn->pid[h] = x.pid;
		} else {
			memset(sn, 0, sizeof(*sn)); /* anything may change at an event */
			if (x.op == VL_OP_EVENT && x.addr < b->n_events) {
				r->events[r->n_events] = b->events[x.addr];
				x.addr = r->n_events++;
			}
		}
		r->recs[r->n++] = x;
	}
}

struct phase_counts {
	uint64_t pf, mi, ma;
};

static struct phase_counts counts_of(struct vl_engine *e)
{
	const struct vl_counters *c = vl_engine_counters(e);
	return (struct phase_counts){ c->faults + c->access_violations + c->faults_guard,
				      c->faults_demand_zero + c->faults_soft + c->faults_cow,
				      c->faults_hard };
}

/* The regions of interest of one engine: the counts at the open region's
 * ROI_BEGIN, and the sum over the closed regions. */
struct roi_acc {
	struct phase_counts begin, sum;
};

/* Feed b to the engines es[lo .. hi).  With acc (VL_REPLAY_ROI), the batch
 * is fed in parts split at the ROI markers and each engine's counts are
 * taken at them (acc[k] for es[k]); *in_roi and *rois follow the markers. */
static int feed(struct vl_engine **es, unsigned lo, unsigned hi, const struct vl_batch *b,
		struct roi_acc *acc, bool *in_roi, unsigned *rois, const char *path,
		struct vl_error *err)
{
	int rc;
	size_t from = 0;
	for (size_t i = 0; acc && i < b->n; i++) {
		if (b->recs[i].op != VL_OP_EVENT || b->recs[i].addr >= b->n_events)
			continue;
		uint32_t kind = b->events[b->recs[i].addr].kind;
		if (kind != VL_EV_ROI_BEGIN && kind != VL_EV_ROI_END)
			continue;
		if ((kind == VL_EV_ROI_BEGIN) == *in_roi)
			return vl_err(err, VL_EFORMAT, "%s: %s", path,
				      *in_roi ? "ROI_BEGIN inside a region" : "ROI_END without ROI_BEGIN");
		struct vl_batch part = *b;
		part.recs = b->recs + from;
		part.n = i - from;
		for (unsigned k = lo; k < hi; k++) {
			if ((rc = vl_engine_feed(es[k], &part, err)) < 0)
				return rc;
			struct phase_counts now = counts_of(es[k]);
			if (kind == VL_EV_ROI_BEGIN) {
				acc[k].begin = now;
			} else {
				acc[k].sum.pf += now.pf - acc[k].begin.pf;
				acc[k].sum.mi += now.mi - acc[k].begin.mi;
				acc[k].sum.ma += now.ma - acc[k].begin.ma;
			}
		}
		*in_roi = kind == VL_EV_ROI_BEGIN;
		*rois += kind == VL_EV_ROI_END;
		from = i + 1;
	}
	struct vl_batch part = *b;
	part.recs = b->recs + from;
	part.n = b->n - from;
	for (unsigned k = lo; k < hi; k++)
		if ((rc = vl_engine_feed(es[k], &part, err)) < 0)
			return rc;
	return 0;
}

int vl_validate_replay(const struct vl_config *cfg, const char *trace_path, unsigned flags,
		       struct vl_prog_sim *out, struct vl_error *err)
{
	struct vl_engine *es[VL_PROG_PHASES + 1] = { 0 };
	struct vl_config *cs[VL_PROG_PHASES + 1] = { 0 };
	struct roi_acc acc[VL_PROG_PHASES + 1], acc_r[VL_PROG_PHASES + 1];
	struct vl_trace *t = NULL;
	struct vl_batch b = { 0 }, rb = { 0 };
	struct seen *sn = NULL;
	int rc = 0;
	bool roi = flags & VL_REPLAY_ROI, in_roi = false, in_roi_r = false;
	unsigned rois = 0, rois_r = 0;
	memset(out, 0, sizeof(*out));
	memset(acc, 0, sizeof(acc));
	memset(acc_r, 0, sizeof(acc_r));
	uint64_t fa = vl_config_u64(cfg, "file.fault_around");
	unsigned np = fa > 1 && fa <= VL_PROG_PHASES && !(flags & VL_REPLAY_ONE_PHASE)
			      ? (unsigned)fa
			      : 0; /* phase engines */
	/* under a memory limit pages are evicted and fault again: the phase
	 * engines get every access, with the same limit */
	bool limited = vl_config_isset(cfg, "memory.limit");
	const char *msz = vl_config_str(cfg, "memory.size");
	bool by_size = msz && *msz;
	bool big = by_size ? vl_config_u64(cfg, "memory.size") / 4096 > VL_PROG_PHASE_FRAMES
			   : vl_config_u64(cfg, "memory.frames") > VL_PROG_PHASE_FRAMES;
	for (unsigned k = 0; k <= np; k++) {
		char ph[16];
		snprintf(ph, sizeof(ph), "%u", k ? k - 1 : 0);
		cs[k] = vl_config_dup(cfg);
		if (!cs[k]) {
			rc = vl_err(err, VL_ENOMEM, "out of memory for a configuration");
			goto done;
		}
		if ((np && (rc = vl_config_set(cs[k], "file.fault_around_phase", ph, "validate", err)) <
				   0) ||
		    (k > 0 && big &&
		     (rc = vl_config_set(cs[k], by_size ? "memory.size" : "memory.frames",
					 by_size ? "1G" : "262144", "validate", err)) < 0) ||
		    (rc = vl_engine_new(&es[k], cs[k], err)) < 0)
			goto done;
	}
	if ((rc = vl_trace_open(&t, trace_path, NULL, err)) < 0 ||
	    (rc = vl_batch_init(&b, 8192, err)) < 0 ||
	    (np && !limited && (rc = vl_batch_init(&rb, 8192, err)) < 0))
		goto done;
	if (np && !limited && !(sn = calloc(1, sizeof(*sn)))) {
		rc = vl_err(err, VL_ENOMEM, "out of memory for a replay");
		goto done;
	}
	ssize_t n;
	while ((n = vl_trace_read(t, &b, err)) > 0) {
		if (limited) { /* every engine, every access */
			if ((rc = feed(es, 0, np + 1, &b, roi ? acc : NULL, &in_roi, &rois,
				       trace_path, err)) < 0)
				goto done;
			continue;
		}
		if ((rc = feed(es, 0, 1, &b, roi ? acc : NULL, &in_roi, &rois, trace_path, err)) < 0)
			goto done;
		if (!np)
			continue;
		repeats_dropped(&b, &rb, sn);
		if ((rc = feed(es, 1, np + 1, &rb, roi ? acc_r : NULL, &in_roi_r, &rois_r, trace_path,
			       err)) < 0)
			goto done;
	}
	if (n < 0) {
		rc = (int)n;
		goto done;
	}
	if (roi && (in_roi || rois == 0)) {
		rc = vl_err(err, VL_EFORMAT, "%s: %s", trace_path,
			    in_roi ? "ROI_BEGIN without ROI_END" : "no region of interest marked");
		goto done;
	}
	for (unsigned k = 1; roi && !limited && k <= np; k++)
		acc[k] = acc_r[k];
	const struct vl_counters *c0 = vl_engine_counters(es[0]);
	out->accesses = c0->accesses;
	out->file_reads = c0->file_reads;
	out->nprocs = vl_engine_nprocs(es[0]);
	out->rois = rois;
	struct phase_counts full = roi ? acc[0].sum : counts_of(es[0]), sum = { 0 };
	uint64_t ev0 = c0->evictions;
	for (unsigned k = 1; k <= np; k++) {
		struct phase_counts p = roi ? acc[k].sum : counts_of(es[k]);
		if (!limited && vl_engine_counters(es[k])->evictions > ev0) {
			rc = vl_err(err, VL_EINVAL,
				    "%s: the replay of fault-around phase %u evicted pages in its "
				    "%d MiB (the program does not fit the phases' memory)",
				    trace_path, k - 1, VL_PROG_PHASE_FRAMES / 256);
			goto done;
		}
		if (k == 1 && (p.pf != full.pf || p.mi != full.mi || p.ma != full.ma)) {
			rc = vl_err(err, VL_EINVAL,
				    "%s: the replay without repeated accesses counts %llu faults "
				    "(%llu minor, %llu major), the whole trace %llu (%llu, %llu)",
				    trace_path, (unsigned long long)p.pf, (unsigned long long)p.mi,
				    (unsigned long long)p.ma, (unsigned long long)full.pf,
				    (unsigned long long)full.mi, (unsigned long long)full.ma);
			goto done;
		}
		sum.pf += p.pf;
		sum.mi += p.mi;
		sum.ma += p.ma;
	}
	unsigned k0 = np ? 1 : 0, nk = np ? np : 1;
	if (!np)
		sum = full;
	out->page_faults = (sum.pf + nk / 2) / nk;
	out->minor_faults = (sum.mi + nk / 2) / nk;
	out->major_faults = (sum.ma + nk / 2) / nk;
	for (size_t i = 0; i < out->nprocs && i < VL_PROG_MAX_PROCS; i++) {
		struct vl_prog_proc *p = &out->procs[i];
		struct phase_counts ps = { 0 };
		for (unsigned k = k0; k < k0 + nk; k++) {
			struct vl_proc_counters pc = { .size = sizeof(pc) };
			if (vl_engine_proc_counters(es[k], i, &pc) < 0)
				continue;
			p->pid = pc.pid;
			/* guard exceptions are not kept per process; they are rare
			 * under linux (no guard pages in captured programs) */
			ps.pf += pc.faults + pc.access_violations;
			ps.mi += pc.faults_demand_zero + pc.faults_soft + pc.faults_cow;
			ps.ma += pc.faults_hard;
		}
		p->page_faults = (ps.pf + nk / 2) / nk;
		p->minor_faults = (ps.mi + nk / 2) / nk;
		p->major_faults = (ps.ma + nk / 2) / nk;
		char key[32];
		snprintf(key, sizeof(key), "process.%u", p->pid);
		const char *name = vl_trace_meta(t, key);
		snprintf(p->name, sizeof(p->name), "%s", name ? name : "?");
	}
done:
	vl_batch_free(&b);
	vl_batch_free(&rb);
	free(sn);
	vl_trace_close(t);
	for (unsigned k = 0; k <= VL_PROG_PHASES; k++) {
		vl_engine_free(es[k]);
		vl_config_free(cs[k]);
	}
	return rc;
}

bool vl_program_has_roi(const char *path)
{
	static const char needle[] = "VMLAB_ROI_EVENTS";
	const size_t nl = sizeof(needle) - 1;
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char buf[65536 + sizeof(needle)];
	size_t keep = 0, got;
	bool found = false;
	while (!found && (got = fread(buf + keep, 1, sizeof(buf) - keep, f)) > 0) {
		size_t len = keep + got;
		found = memmem(buf, len, needle, nl) != NULL;
		keep = len < nl - 1 ? len : nl - 1; /* a match across the boundary */
		memmove(buf, buf + len - keep, keep);
	}
	fclose(f);
	return found;
}

/* Calls fn for each header line of a trace; returns the sum of what fn
 * returned, or a negative code. */
static int meta_walk(const char *trace_path, int (*fn)(const char *key, const char *val, void *arg),
		     void *arg, struct vl_error *err)
{
	struct vl_trace *t = NULL;
	int rc = vl_trace_open(&t, trace_path, NULL, err);
	if (rc < 0)
		return rc;
	const char *keys[4096], *vals[4096];
	size_t n = vl_trace_meta_list(t, keys, vals, 4096);
	int count = 0;
	for (size_t i = 0; i < n && i < 4096; i++)
		count += fn(keys[i], vals[i], arg);
	vl_trace_close(t);
	return count;
}

struct file_fn {
	void (*fn)(unsigned long long id, const char *path, void *arg);
	void *arg;
};

static int file_line(const char *key, const char *val, void *arg)
{
	const struct file_fn *ff = arg;
	if (strncmp(key, "file.", 5) != 0)
		return 0;
	/* DEV:INODE SIZE PATH */
	const char *p = strchr(val, ' ');
	p = p ? strchr(p + 1, ' ') : NULL;
	if (!p || p[1] != '/')
		return 0; /* shm:ID and unnamed files */
	ff->fn(strtoull(key + 5, NULL, 10), p + 1, ff->arg);
	return 1;
}

int vl_trace_files(const char *trace_path,
		   void (*fn)(unsigned long long id, const char *path, void *arg), void *arg,
		   struct vl_error *err)
{
	struct file_fn ff = { fn, arg };
	return meta_walk(trace_path, file_line, &ff, err);
}

static int process_line(const char *key, const char *val, void *arg)
{
	(void)val;
	(void)arg;
	return strncmp(key, "process.", 8) == 0;
}

int vl_trace_nprocs(const char *trace_path, struct vl_error *err)
{
	return meta_walk(trace_path, process_line, NULL, err);
}

int vl_pagecache_line(FILE *out, unsigned long long id, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size, np = (len + 4095) / 4096;
	fprintf(out, "%llu ", id);
	if (np == 0) {
		fputs("-\n", out);
		close(fd);
		return 0;
	}
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	unsigned char *vec = m != MAP_FAILED ? malloc(np) : NULL;
	if (!vec || mincore(m, len, vec) < 0) {
		free(vec);
		if (m != MAP_FAILED)
			munmap(m, len);
		fputs("-\n", out);
		return -1;
	}
	bool any = false;
	for (size_t i = 0; i < np;) {
		if (!(vec[i] & 1)) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < np && (vec[j + 1] & 1))
			j++;
		if (i == j)
			fprintf(out, "%s%zu", any ? "," : "", i);
		else
			fprintf(out, "%s%zu-%zu", any ? "," : "", i, j);
		any = true;
		i = j + 1;
	}
	fputs(any ? "\n" : "-\n", out);
	free(vec);
	munmap(m, len);
	return 0;
}

unsigned vl_readahead_pages(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	char p[128];
	for (int up = 0; up < 2; up++) { /* the disk, or the disk of a partition */
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/%squeue/read_ahead_kb",
			 major(st.st_dev), minor(st.st_dev), up ? "../" : "");
		FILE *f = fopen(p, "r");
		unsigned kb = 0;
		if (f) {
			int ok = fscanf(f, "%u", &kb) == 1;
			fclose(f);
			if (ok)
				return kb / 4;
		}
	}
	return 0;
}

/* Inputs are made with awk (mawk or gawk, both in Debian's base), with a
 * fixed seed so every run sorts and compresses the same bytes. */
#define LINES "awk 'BEGIN { srand(7); for (i = 0; i < 20000; i++) printf \"%d %x\\n\", " \
	      "int(rand() * 1000000), int(rand() * 65536) }' > in.txt\n"
#define DATA  "awk 'BEGIN { srand(3); for (i = 0; i < 40000; i++) printf \"line %d of the " \
	      "data %d %d\\n\", i, int(rand() * 100), i % 97 }' > data\n"

const struct vl_program vl_programs[] = {
	{ "ls", "ls -lR of a tree of 4 directories and 120 files", "ls",
	  "for d in a b c d; do mkdir -p tree/$d; for i in $(seq 1 30); do echo $d$i > "
	  "tree/$d/f$i; done; done\n",
	  { "ls", "-lR", "tree", NULL } },
	{ "sort", "sort of 20,000 lines", "sort", LINES, { "sort", "in.txt", "-o", "out.txt", NULL } },
	{ "gzip", "gzip -9 of 1.3 MB of text", "gzip", DATA,
	  { "gzip", "-9", "-f", "-k", "data", NULL } },
	{ "xz", "xz -1 of 1.3 MB of text", "xz", DATA, { "xz", "-1", "-f", "-k", "data", NULL } },
	{ "python3", "python3 running a short script (a dictionary of 20,000 words)", "python3",
	  "cat > s.py <<'EOF'\n"
	  "d = {}\n"
	  "for i in range(20000):\n"
	  "    w = 'w%d' % (i * 7919 % 10007)\n"
	  "    d[w] = d.get(w, 0) + 1\n"
	  "print(len(d), max(d.values()))\n"
	  "EOF\n",
	  { "python3", "s.py", NULL } },
	{ "sqlite3", "sqlite3: a table of 20,000 rows, grouped", "sqlite3", "",
	  { "sqlite3", ":memory:",
	    "CREATE TABLE t(a, b); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
	    "WHERE x < 20000) INSERT INTO t SELECT x, x % 97 FROM c; SELECT b, count(*), sum(a) "
	    "FROM t GROUP BY b ORDER BY 3 DESC LIMIT 3;",
	    NULL } },
	{ "gcc", "gcc -O2 -c of a small C file (gcc, cc1, as)", "gcc",
	  "cat > p.c <<'EOF'\n"
	  "#include <stdio.h>\n"
	  "#include <stdlib.h>\n"
	  "struct node { struct node *next; int key; };\n"
	  "static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }\n"
	  "int sum(const struct node *n) { int s = 0; for (; n; n = n->next) s += n->key; return s; }\n"
	  "int main(int argc, char **argv) {\n"
	  "  int v[64]; for (int i = 0; i < 64; i++) v[i] = (i * 37) % 64;\n"
	  "  qsort(v, 64, sizeof(int), cmp);\n"
	  "  printf(\"%d %d\\n\", v[0], argc > 1 ? atoi(argv[1]) : 0);\n"
	  "  return 0;\n"
	  "}\n"
	  "EOF\n",
	  { "gcc", "-O2", "-c", "p.c", "-o", "p.o", NULL } },
	{ "pipeline", "sh -c \"sort in.txt | gzip -c > out.gz\" (three processes)", "sort gzip",
	  LINES, { "sh", "-c", "sort in.txt | gzip -c > out.gz", NULL } },
};

const size_t vl_nprograms = sizeof(vl_programs) / sizeof(vl_programs[0]);
