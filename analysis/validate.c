/* analysis/validate.c - lackey capture to addr trace, and ROI simulation.
 *
 * Lackey line shapes (valgrind 3.19 --trace-mem=yes):
 *   "I  0401ab70,3"  instruction fetch: dropped (code is resident before
 *                    the region; the model replays data)
 *   " L 04028e48,8"  load, " S ..." store, " M ..." modify
 *   "==PID== ..."    valgrind's messages: dropped
 *   "**PID** vmlab V KIND ARGS"  the workload's VALGRIND_PRINTF markers
 * A data access is kept when it falls in a mapping announced by a V COMMIT
 * or V MAP seen before it (and not yet unmapped); an access that straddles
 * a page boundary becomes one record per page.  Everything else the
 * program touches (stack, heap, libc) was resident before the region and
 * is not part of what is validated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/validate.h"

#define MAX_REGIONS 64

struct region {
	uint64_t start, end;
};

static int region_find(const struct region *r, unsigned n, uint64_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (a >= r[i].start && a < r[i].end)
			return (int)i;
	return -1;
}

int vl_validate_convert(const char *in_path, const char *out_path, struct vl_convert_stats *st,
			struct vl_error *err)
{
	struct vl_convert_stats s = { 0 };
	FILE *in = fopen(in_path, "r");
	if (!in)
		return vl_err(err, VL_ENOENT, "%s: %s", in_path, strerror(errno));
	FILE *out = fopen(out_path, "w");
	if (!out) {
		fclose(in);
		return vl_err(err, VL_EIO, "%s: %s", out_path, strerror(errno));
	}
	struct region reg[MAX_REGIONS];
	unsigned nreg = 0;
	uint64_t ends = 0;
	int rc = 0;
	char line[1024];
	fprintf(out, "# addr trace converted by vmlab validate from %s\n", in_path);
	while (fgets(line, sizeof(line), in)) {
		s.lines++;
		if (line[0] == ' ' && (line[1] == 'L' || line[1] == 'S' || line[1] == 'M') &&
		    line[2] == ' ') {
			unsigned long long a;
			unsigned sz;
			if (sscanf(line + 3, "%llx,%u", &a, &sz) != 2) {
				rc = vl_err(err, VL_EFORMAT, "%s line %llu: expected ADDR,SIZE after %c",
					    in_path, (unsigned long long)s.lines, line[1]);
				break;
			}
			s.accesses++;
			char op = line[1] == 'L' ? 'R' : 'W';
			uint64_t first = a >> 12, last = (a + (sz ? sz : 1) - 1) >> 12;
			for (uint64_t p = first; p <= last; p++) {
				uint64_t va = p == first ? a : p << 12;
				if (region_find(reg, nreg, va) < 0)
					continue;
				fprintf(out, "%c 0x%llx\n", op, (unsigned long long)va);
				s.kept++;
			}
			continue;
		}
		if (line[0] != '*' || line[1] != '*')
			continue;
		char *v = strstr(line, " vmlab V ");
		if (!v)
			continue;
		v += 7; /* "V ..." */
		v[strcspn(v, "\n")] = 0;
		char kind[16];
		unsigned long long a = 0, len = 0;
		if (sscanf(v, "V %15s", kind) != 1) {
			rc = vl_err(err, VL_EFORMAT, "%s line %llu: expected V KIND in a vmlab marker",
				    in_path, (unsigned long long)s.lines);
			break;
		}
		if (!strcmp(kind, "COMMIT") || !strcmp(kind, "MAP")) {
			if (sscanf(v, "V %*s %llx %llx", &a, &len) != 2 || len == 0) {
				rc = vl_err(err, VL_EFORMAT, "%s line %llu: expected V %s ADDR LEN ...",
					    in_path, (unsigned long long)s.lines, kind);
				break;
			}
			if (nreg == MAX_REGIONS) {
				rc = vl_err(err, VL_ELIMIT, "%s line %llu: more than %d mappings",
					    in_path, (unsigned long long)s.lines, MAX_REGIONS);
				break;
			}
			reg[nreg++] = (struct region){ a, a + len };
		} else if (!strcmp(kind, "UNMAP")) {
			int i = sscanf(v, "V UNMAP %llx", &a) == 1 ? region_find(reg, nreg, a) : -1;
			if (i < 0 || reg[i].start != a) {
				rc = vl_err(err, VL_EFORMAT,
					    "%s line %llu: V UNMAP of an address that starts no mapping",
					    in_path, (unsigned long long)s.lines);
				break;
			}
			reg[i] = reg[--nreg];
		} else if (!strcmp(kind, "ROI_BEGIN")) {
			s.rois++;
		} else if (!strcmp(kind, "ROI_END")) {
			ends++;
		}
		fprintf(out, "%s\n", v);
		s.events++;
	}
	if (!rc && ferror(in))
		rc = vl_err(err, VL_EIO, "%s: read error", in_path);
	if (!rc && (s.rois == 0 || s.rois != ends))
		rc = vl_err(err, VL_EFORMAT,
			    "%s: %llu ROI_BEGIN and %llu ROI_END markers (the workload must mark its "
			    "region with roi_begin/roi_end, and run under valgrind lackey)",
			    in_path, (unsigned long long)s.rois, (unsigned long long)ends);
	fclose(in);
	if (fclose(out) != 0 && !rc)
		rc = vl_err(err, VL_EIO, "%s: write error", out_path);
	if (st)
		*st = s;
	return rc;
}

struct snap {
	uint64_t pf, minor, major, acc;
	size_t n;
	uint64_t v[VL_ROI_MAX_COUNTERS];
};

static void take(struct vl_engine *e, struct snap *s, const char **names)
{
	/* names: the engine's, valid while it lives (copied at ROI_END) */
	const struct vl_counters *c = vl_engine_counters(e);
	s->pf = c->faults + c->access_violations + c->faults_guard;
	s->minor = c->faults_demand_zero + c->faults_soft + c->faults_cow;
	s->major = c->faults_hard;
	s->acc = c->accesses;
	s->n = vl_engine_counter_list(e, names, s->v, VL_ROI_MAX_COUNTERS);
	if (s->n > VL_ROI_MAX_COUNTERS)
		s->n = VL_ROI_MAX_COUNTERS;
}

bool vl_roi_sim_sum(const struct vl_roi_sim *s, const char *pattern, uint64_t *out)
{
	const char *star = strchr(pattern, '*');
	size_t pre = star ? (size_t)(star - pattern) : strlen(pattern);
	const char *post = star ? star + 1 : "";
	bool any = false;
	*out = 0;
	for (size_t i = 0; i < s->ncounters; i++) {
		const char *n = s->names[i];
		size_t len = strlen(n);
		bool m = star ? len >= pre + strlen(post) && !strncmp(n, pattern, pre) &&
				       !strcmp(n + len - strlen(post), post)
			      : !strcmp(n, pattern);
		if (m) {
			*out += s->delta[i];
			any = true;
		}
	}
	return any;
}

int vl_validate_simulate(const struct vl_config *cfg, const char *trace_path,
			 struct vl_roi_sim *out, struct vl_error *err)
{
	struct vl_engine *e = NULL;
	struct vl_trace *t = NULL;
	struct vl_batch b = { 0 };
	struct snap *snaps = NULL, *begin, *now;
	const char *names[VL_ROI_MAX_COUNTERS];
	int rc;
	memset(out, 0, sizeof(*out));
	if ((rc = vl_engine_new(&e, cfg, err)) < 0)
		return rc;
	if ((rc = vl_trace_open(&t, trace_path, NULL, err)) < 0)
		goto done;
	if ((rc = vl_batch_init(&b, 8192, err)) < 0)
		goto done;
	bool in_roi = false;
	snaps = calloc(2, sizeof(*snaps));
	begin = snaps;
	now = snaps + 1;
	if (!snaps) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto done;
	}
	ssize_t n;
	while ((n = vl_trace_read(t, &b, err)) > 0) {
		/* feed up to each ROI marker, snapshot there */
		size_t from = 0;
		for (size_t i = 0; i < b.n; i++) {
			if (b.recs[i].op != VL_OP_EVENT)
				continue;
			uint32_t kind = b.events[b.recs[i].addr].kind;
			if (kind != VL_EV_ROI_BEGIN && kind != VL_EV_ROI_END)
				continue;
			struct vl_batch part = b;
			part.recs = b.recs + from;
			part.n = i - from;
			if ((rc = vl_engine_feed(e, &part, err)) < 0)
				goto done;
			from = i + 1;
			take(e, now, names);
			if (kind == VL_EV_ROI_BEGIN) {
				if (in_roi) {
					rc = vl_err(err, VL_EFORMAT, "%s: ROI_BEGIN inside a region",
						    trace_path);
					goto done;
				}
				*begin = *now;
				in_roi = true;
			} else {
				if (!in_roi) {
					rc = vl_err(err, VL_EFORMAT, "%s: ROI_END without ROI_BEGIN",
						    trace_path);
					goto done;
				}
				out->page_faults += now->pf - begin->pf;
				out->minor_faults += now->minor - begin->minor;
				out->major_faults += now->major - begin->major;
				out->accesses += now->acc - begin->acc;
				out->ncounters = now->n;
				for (size_t k = 0; k < now->n; k++)
					snprintf(out->names[k], sizeof(out->names[k]), "%s", names[k]);
				for (size_t k = 0; k < now->n && k < begin->n; k++)
					out->delta[k] += now->v[k] - begin->v[k];
				out->rois++;
				in_roi = false;
			}
		}
		struct vl_batch part = b;
		part.recs = b.recs + from;
		part.n = b.n - from;
		if ((rc = vl_engine_feed(e, &part, err)) < 0)
			goto done;
	}
	if (n < 0) {
		rc = (int)n;
		goto done;
	}
	if (in_roi || out->rois == 0)
		rc = vl_err(err, VL_EFORMAT, "%s: %s", trace_path,
			    in_roi ? "ROI_BEGIN without ROI_END" : "no region of interest marked");
done:
	free(snaps);
	vl_batch_free(&b);
	vl_trace_close(t);
	vl_engine_free(e);
	return rc;
}

double vl_validate_rel_error(uint64_t measured, uint64_t simulated)
{
	double d = (double)simulated - (double)measured;
	return d / (double)(measured ? measured : 1);
}
