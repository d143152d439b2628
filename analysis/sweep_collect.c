/* analysis/sweep_collect.c - merge the finished cells of a sweep into one
 * results file (DIR/all.h5, or DIR/partial.h5 while cells are missing).
 *
 * Each cell's /runs/cell is copied with H5Ocopy to /runs/cell-NNNN; the
 * cells' one-row /summary tables become one table whose row type is the
 * cells' type widened by the columns cell, cell_key and one per [vary] key
 * (numeric when every value of that key is a number), so plots can group by
 * any varied parameter.  /sweep records the experiment and the plan.  The
 * merge is built in memory (h5u_mem_*, analysis/h5util.c), marked
 * complete, written to a temporary file by our own writes, synced and
 * renamed, like every results file: a full disk is one error, with the
 * old all.h5/partial.h5 untouched and no temporary file left.
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/h5util.h"
#include "analysis/sweep_internal.h"
#include "vmlab/results.h"

static int h5err(struct vl_error *err, const char *path, const char *what)
{
	return h5u_fail(err, VL_EIO, path, what);
}

/* Is every value of vary key k a number (so the column can be numeric)? */
static bool vary_numeric(const struct vl_sweep *s, size_t k)
{
	for (size_t i = 0; i < s->ncells; i++) {
		const char *v = s->cells[i].vary[k].value;
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		if (!*v || *end || errno || !isfinite(d))
			return false;
	}
	return true;
}

struct merge {
	const struct vl_sweep *s;
	hid_t out, runs, summary;
	hid_t rowtype;     /* extended summary type (memory) */
	size_t base_size;  /* size of the cell files' summary row */
	size_t row_size;
	size_t *col_off;   /* per vary key */
	bool *col_num;
	size_t off_cell, off_key;
	size_t runid_off, runid_len;
	hsize_t rows;
};

static int merge_setup(struct merge *m, hid_t srcsum, const char *tmp, struct vl_error *err)
{
	const struct vl_sweep *s = m->s;
	hid_t ft = H5Dget_type(srcsum);
	hid_t bt = ft >= 0 ? H5Tget_native_type(ft, H5T_DIR_ASCEND) : -1;
	if (ft >= 0)
		H5Tclose(ft);
	if (bt < 0)
		return h5err(err, tmp, "read the type of /summary of a cell");
	int ri = H5Tget_member_index(bt, "run_id");
	if (ri < 0) {
		H5Tclose(bt);
		return h5err(err, tmp, "find run_id in /summary of a cell");
	}
	m->runid_off = H5Tget_member_offset(bt, (unsigned)ri);
	hid_t rt = H5Tget_member_type(bt, (unsigned)ri);
	m->runid_len = H5Tget_size(rt);
	H5Tclose(rt);
	m->base_size = H5Tget_size(bt);
	size_t off = (m->base_size + 7) & ~(size_t)7;
	m->off_cell = off;
	off += 8;
	m->off_key = off;
	off += VL_SWEEP_KEY_LEN;
	m->col_off = calloc(s->nvary ? s->nvary : 1, sizeof(size_t));
	m->col_num = calloc(s->nvary ? s->nvary : 1, sizeof(bool));
	if (!m->col_off || !m->col_num) {
		H5Tclose(bt);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	size_t vlen = 64;
	for (size_t k = 0; k < s->nvary; k++) {
		m->col_num[k] = vary_numeric(s, k);
		off = (off + 7) & ~(size_t)7;
		m->col_off[k] = off;
		off += m->col_num[k] ? sizeof(double) : vlen;
	}
	m->row_size = (off + 7) & ~(size_t)7;
	m->rowtype = H5Tcopy(bt);
	H5Tclose(bt);
	H5Tset_size(m->rowtype, m->row_size);
	H5Tinsert(m->rowtype, "cell", m->off_cell, H5T_NATIVE_UINT64);
	hid_t kt = H5Tcopy(H5T_C_S1);
	H5Tset_size(kt, VL_SWEEP_KEY_LEN);
	H5Tinsert(m->rowtype, "cell_key", m->off_key, kt);
	hid_t st = H5Tcopy(H5T_C_S1);
	H5Tset_size(st, vlen);
	int rc = 0;
	for (size_t k = 0; k < s->nvary && rc == 0; k++) {
		char cname[128];
		snprintf(cname, sizeof(cname), "%s%s", sweep_preset_key(s->vary_keys[k]) ? "preset." : "",
			 s->vary_keys[k]);
		if (H5Tinsert(m->rowtype, cname, m->col_off[k],
			      m->col_num[k] ? H5T_NATIVE_DOUBLE : st) < 0)
			rc = vl_err(err, VL_EINVAL,
				    "cannot add a /summary column '%s' (the name is taken)", cname);
	}
	H5Tclose(kt);
	H5Tclose(st);
	if (rc)
		return rc;
	hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = 64;
	hid_t sp = H5Screate_simple(1, &dims, &maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, 1, &chunk);
	m->summary = H5Dcreate2(m->out, "summary", m->rowtype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (m->summary < 0)
		return h5err(err, tmp, "create /summary");
	return 0;
}

static int merge_cell(struct merge *m, size_t i, const char *cellpath, const char *tmp,
		      struct vl_error *err)
{
	const struct vl_sweep_cell *c = &m->s->cells[i];
	hid_t src = H5Fopen(cellpath, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (src < 0)
		return h5err(err, cellpath, "open a cell's results");
	int rc = 0;
	hid_t ss = H5Dopen2(src, "summary", H5P_DEFAULT);
	if (ss < 0)
		rc = h5err(err, cellpath, "open /summary");
	if (rc == 0 && m->summary < 0)
		rc = merge_setup(m, ss, tmp, err);
	char id[32];
	snprintf(id, sizeof(id), "cell-%04zu", i);
	unsigned char *row = rc == 0 ? calloc(1, m->row_size) : NULL;
	if (rc == 0 && !row)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc == 0) {
		hid_t ft = H5Dget_type(ss);
		hid_t bt = H5Tget_native_type(ft, H5T_DIR_ASCEND);
		hid_t sp = H5Dget_space(ss);
		hssize_t n = H5Sget_simple_extent_npoints(sp);
		if (n != 1 || H5Tget_size(bt) != m->base_size)
			rc = vl_err(err, VL_EFORMAT, "%s: expected one /summary row of the usual type",
				    cellpath);
		else if (H5Dread(ss, bt, H5S_ALL, H5S_ALL, H5P_DEFAULT, row) < 0)
			rc = h5err(err, cellpath, "read /summary");
		H5Sclose(sp);
		H5Tclose(bt);
		H5Tclose(ft);
	}
	if (rc == 0) {
		memset(row + m->runid_off, 0, m->runid_len);
		memcpy(row + m->runid_off, id, strlen(id) < m->runid_len ? strlen(id) : m->runid_len - 1);
		uint64_t ci = i;
		memcpy(row + m->off_cell, &ci, 8);
		memcpy(row + m->off_key, c->key, VL_SWEEP_KEY_LEN);
		for (size_t k = 0; k < m->s->nvary; k++) {
			if (m->col_num[k]) {
				double d = strtod(c->vary[k].value, NULL);
				memcpy(row + m->col_off[k], &d, sizeof(d));
			} else {
				strncpy((char *)row + m->col_off[k], c->vary[k].value, 63);
			}
		}
		hsize_t ndims = m->rows + 1, start = m->rows, count = 1;
		hid_t fs = -1, ms = -1;
		if (H5Dset_extent(m->summary, &ndims) < 0 || (fs = H5Dget_space(m->summary)) < 0 ||
		    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) < 0 ||
		    (ms = H5Screate_simple(1, &count, NULL)) < 0 ||
		    H5Dwrite(m->summary, m->rowtype, ms, fs, H5P_DEFAULT, row) < 0)
			rc = h5err(err, tmp, "append a /summary row");
		if (fs >= 0)
			H5Sclose(fs);
		if (ms >= 0)
			H5Sclose(ms);
		m->rows++;
	}
	if (rc == 0) {
		hid_t ocp = H5Pcreate(H5P_OBJECT_COPY);
		if (H5Ocopy(src, "runs/cell", m->runs, id, ocp, H5P_DEFAULT) < 0)
			rc = h5err(err, cellpath, "copy /runs/cell into the merge");
		H5Pclose(ocp);
	}
	if (rc == 0) {
		hid_t g = H5Gopen2(m->runs, id, H5P_DEFAULT);
		if (g < 0 || h5u_attr_u64(g, "sweep_cell", i) < 0 ||
		    h5u_attr_str(g, "sweep_cell_key", c->key) < 0)
			rc = h5err(err, tmp, "annotate a run");
		if (g >= 0)
			H5Gclose(g);
	}
	free(row);
	if (ss >= 0)
		H5Dclose(ss);
	H5Fclose(src);
	return rc;
}

int vl_sweep_collect(const struct vl_sweep *s, const char *dir, struct vl_sweep_status *st,
		     struct vl_error *err)
{
	h5u_quiet();
	memset(st, 0, sizeof(*st));
	bool *ok = calloc(s->ncells ? s->ncells : 1, sizeof(bool));
	if (!ok)
		return vl_err(err, VL_ENOMEM, "out of memory");
	struct au_buf missing = { 0 };
	for (size_t i = 0; i < s->ncells; i++) {
		ok[i] = vl_sweep_cell_done(s, dir, i);
		if (ok[i]) {
			st->done++;
			continue;
		}
		char *e = vl_sweep_cell_error(s, dir, i);
		if (e)
			st->failed++;
		else
			st->missing++;
		free(e);
		au_bprintf(&missing, "%s%zu", missing.n ? "," : "", i);
	}
	bool all = st->done == s->ncells;
	st->written = all ? "all.h5" : "partial.h5";
	size_t pl = strlen(dir) + 32;
	char *final = malloc(pl), *other = malloc(pl), *tmp = malloc(pl);
	char *ptext = sweep_plan_text(s);
	int rc = 0;
	if (!final || !other || !tmp || !ptext || missing.oom)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	hid_t out = -1;
	struct merge m = { .s = s, .out = -1, .runs = -1, .summary = -1, .rowtype = -1 };
	if (rc == 0) {
		snprintf(final, pl, "%s/%s", dir, st->written);
		snprintf(other, pl, "%s/%s", dir, all ? "partial.h5" : "all.h5");
		snprintf(tmp, pl, "%s/.%s.tmp-XXXXXX", dir, st->written);
		int fd = au_mkstemp(tmp, err);
		if (fd < 0)
			rc = fd;
		else
			close(fd);
	}
	if (rc == 0) {
		out = h5u_mem_create(tmp);
		char ts[32], host[256] = "";
		h5u_now_iso(ts, sizeof(ts));
		gethostname(host, sizeof(host) - 1);
		if (out < 0 || h5u_attr_str(out, "status", "writing") < 0 ||
		    h5u_attr_str(out, "format", VL_RESULTS_FORMAT) < 0 ||
		    h5u_attr_u64(out, "format_version", VL_RESULTS_VERSION) < 0 ||
		    h5u_attr_str(out, "created", ts) < 0 || h5u_attr_str(out, "modified", ts) < 0 ||
		    h5u_attr_str(out, "vmlab_version", vl_version()) < 0 ||
		    h5u_attr_str(out, "host", host) < 0)
			rc = h5err(err, final, "create the merged results file");
	}
	m.out = out;
	if (rc == 0 && (m.runs = H5Gcreate2(out, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
		rc = h5err(err, final, "create /runs");
	for (size_t i = 0; i < s->ncells && rc == 0; i++) {
		if (!ok[i])
			continue;
		char *cp = vl_sweep_cell_path(dir, &s->cells[i], ".h5");
		rc = cp ? merge_cell(&m, i, cp, final, err) : vl_err(err, VL_ENOMEM, "out of memory");
		free(cp);
	}
	if (rc == 0) {
		hid_t g = H5Gcreate2(out, "sweep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		char *etext = s->exp_path && *s->exp_path ? au_read_all(s->exp_path, NULL) : NULL;
		if (g < 0 || h5u_attr_str(g, "name", s->name) < 0 ||
		    h5u_attr_str(g, "experiment_path", s->exp_path) < 0 ||
		    h5u_attr_str(g, "experiment", etext ? etext : "") < 0 ||
		    h5u_attr_str(g, "plan", ptext) < 0 || h5u_attr_u64(g, "cells", s->ncells) < 0 ||
		    h5u_attr_u64(g, "cells_done", st->done) < 0 ||
		    h5u_attr_u64(g, "cells_failed", st->failed) < 0 ||
		    h5u_attr_str(g, "missing_cells", missing.p ? missing.p : "") < 0)
			rc = h5err(err, final, "write /sweep");
		free(etext);
		if (g >= 0)
			H5Gclose(g);
	}
	if (rc == 0 && m.summary < 0) {
		/* no finished cell: an empty /summary of the plain type is not
		 * available without a cell, so the file says so in /sweep only */
	}
	if (m.summary >= 0)
		H5Dclose(m.summary);
	if (m.rowtype >= 0)
		H5Tclose(m.rowtype);
	if (m.runs >= 0)
		H5Gclose(m.runs);
	free(m.col_off);
	free(m.col_num);
	if (rc == 0 && h5u_attr_str(out, "status", "complete") < 0)
		rc = h5err(err, final, "mark the merged file complete");
	if (rc == 0 && (rc = h5u_mem_save(out, tmp, err)) < 0 && err) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		vl_err(err, rc, "%s: not written, nothing changed: %s", final, why);
	}
	if (out >= 0 && H5Fclose(out) < 0 && rc == 0) /* in memory: nothing to write */
		rc = h5err(err, final, "close the merged file");
	if (rc == 0 && rename(tmp, final) < 0)
		rc = vl_err(err, VL_EIO, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
	if (rc == 0)
		unlink(other); /* a stale all.h5 must not look like this sweep's */
	else if (tmp)
		unlink(tmp);
	free(final);
	free(other);
	free(tmp);
	free(ptext);
	free(missing.p);
	free(ok);
	return rc;
}
