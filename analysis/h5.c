/* analysis/h5.c - results in HDF5 (schema: docs/results.md).
 *
 * Writer.  Everything is written into a temporary file in the target's
 * directory: a fresh file, or a byte copy of the target when appending.
 * The temporary file's root attribute status is set to "writing" and
 * flushed before anything else, so whatever a kill leaves behind reads as
 * incomplete; vl_h5_commit sets "complete", closes with H5F_CLOSE_STRONG,
 * fsyncs and renames over the target (then fsyncs the directory).
 *
 * Tables of counters (counters, timeline, processes) are 1-D chunked
 * datasets of a compound type whose fields are all uint64, one per column,
 * so their column set can follow the engine's counter list (TLB levels and
 * the like appear by name).  /summary and /runs/<id>/mrc have fixed
 * compound types.  Strings are fixed-length, NUL-terminated ASCII.
 *
 * Reader.  Tables are read field by field by name into doubles (or strings),
 * so files written by other tools (h5py) with other integer widths,
 * fixed- or variable-length strings read the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "analysis/h5.h"

/* ---- errors ---- */

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	char *buf = data;
	if (n == 0 && e->desc)
		snprintf(buf, 256, "%s", e->desc);
	return 0;
}

/* Map the HDF5 error stack to a vmlab error: "FILE: cannot WHAT: DETAIL". */
static int h5fail(struct vl_error *err, int code, const char *path, const char *what)
{
	char d[256] = "";
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, d);
	H5Eclear2(H5E_DEFAULT);
	return vl_err(err, code, "%s: cannot %s%s%s", path, what, *d ? ": " : "", d);
}

static void quiet(void)
{
	static int done;
	if (!done) {
		H5open();
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
		done = 1;
	}
}

static void now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- attribute helpers ---- */

static hid_t str_type(size_t len)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t >= 0) {
		H5Tset_size(t, len ? len : 1);
		H5Tset_strpad(t, H5T_STR_NULLTERM);
	}
	return t;
}

static int attr_write(hid_t obj, const char *name, hid_t type, const void *val)
{
	if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0)
		return -1;
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = sp >= 0 ? H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT) : -1;
	int rc = a >= 0 && H5Awrite(a, type, val) >= 0 ? 0 : -1;
	if (a >= 0)
		H5Aclose(a);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

static int attr_str(hid_t obj, const char *name, const char *val)
{
	hid_t t = str_type(strlen(val) + 1);
	int rc = t >= 0 ? attr_write(obj, name, t, val) : -1;
	if (t >= 0)
		H5Tclose(t);
	return rc;
}

static int attr_u64(hid_t obj, const char *name, uint64_t v)
{
	return attr_write(obj, name, H5T_NATIVE_UINT64, &v);
}

static int attr_f64(hid_t obj, const char *name, double v)
{
	return attr_write(obj, name, H5T_NATIVE_DOUBLE, &v);
}

/* Read attribute a as text (strings as they are, numbers formatted). */
static char *attr_text(hid_t a)
{
	hid_t ft = H5Aget_type(a);
	char *out = NULL;
	if (ft < 0)
		return NULL;
	H5T_class_t cls = H5Tget_class(ft);
	if (cls == H5T_STRING) {
		if (H5Tis_variable_str(ft) > 0) {
			hid_t mt = H5Tcopy(H5T_C_S1);
			H5Tset_size(mt, H5T_VARIABLE);
			char *s = NULL;
			if (H5Aread(a, mt, &s) >= 0 && s) {
				out = strdup(s);
				H5free_memory(s);
			}
			H5Tclose(mt);
		} else {
			size_t n = H5Tget_size(ft);
			hid_t mt = str_type(n + 1);
			out = calloc(1, n + 2);
			if (out && H5Aread(a, mt, out) < 0) {
				free(out);
				out = NULL;
			}
			H5Tclose(mt);
		}
	} else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
		hid_t sp = H5Aget_space(a);
		if (sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1) {
			char buf[64];
			if (cls == H5T_INTEGER && H5Tget_sign(ft) == H5T_SGN_NONE) {
				unsigned long long v;
				if (H5Aread(a, H5T_NATIVE_ULLONG, &v) >= 0) {
					snprintf(buf, sizeof(buf), "%llu", v);
					out = strdup(buf);
				}
			} else if (cls == H5T_INTEGER) {
				long long v;
				if (H5Aread(a, H5T_NATIVE_LLONG, &v) >= 0) {
					snprintf(buf, sizeof(buf), "%lld", v);
					out = strdup(buf);
				}
			} else {
				double v;
				if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0) {
					snprintf(buf, sizeof(buf), "%.17g", v);
					out = strdup(buf);
				}
			}
		}
		if (sp >= 0)
			H5Sclose(sp);
	}
	H5Tclose(ft);
	return out;
}

static char *attr_get(hid_t obj, const char *name)
{
	if (H5Aexists(obj, name) <= 0)
		return NULL;
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	if (a < 0)
		return NULL;
	char *s = attr_text(a);
	H5Aclose(a);
	return s;
}

/* ---- tables of uint64 columns ---- */

#define TAB_CHUNK 1024

struct tab {
	hid_t ds;
	hid_t mtype;
	size_t ncols;
	uint64_t nrows;   /* rows in the dataset */
	uint64_t *buf;    /* TAB_CHUNK rows waiting */
	size_t nbuf;
};

static hid_t u64_compound(const char *const *names, size_t n, hid_t member)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, n * sizeof(uint64_t));
	for (size_t i = 0; t >= 0 && i < n; i++)
		if (H5Tinsert(t, names[i], i * sizeof(uint64_t), member) < 0) {
			H5Tclose(t);
			return -1;
		}
	return t;
}

/* Create an extensible 1-D table of uint64 columns under loc. */
static int tab_create(struct tab *tb, hid_t loc, const char *name, const char *const *names,
		      size_t ncols)
{
	memset(tb, 0, sizeof(*tb));
	tb->ds = tb->mtype = -1;
	tb->ncols = ncols;
	tb->buf = malloc(TAB_CHUNK * ncols * sizeof(uint64_t));
	hid_t ftype = u64_compound(names, ncols, H5T_STD_U64LE);
	tb->mtype = u64_compound(names, ncols, H5T_NATIVE_UINT64);
	hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = 256;
	hid_t sp = H5Screate_simple(1, &dims, &maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	int rc = -1;
	if (tb->buf && ftype >= 0 && tb->mtype >= 0 && sp >= 0 && dcpl >= 0 &&
	    H5Pset_chunk(dcpl, 1, &chunk) >= 0 && H5Pset_deflate(dcpl, 4) >= 0) {
		tb->ds = H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
		rc = tb->ds >= 0 ? 0 : -1;
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (sp >= 0)
		H5Sclose(sp);
	if (ftype >= 0)
		H5Tclose(ftype);
	return rc;
}

static int tab_flush(struct tab *tb)
{
	if (!tb->nbuf)
		return 0;
	hsize_t start = tb->nrows, count = tb->nbuf, total = tb->nrows + tb->nbuf;
	if (H5Dset_extent(tb->ds, &total) < 0)
		return -1;
	hid_t fs = H5Dget_space(tb->ds);
	hid_t ms = H5Screate_simple(1, &count, NULL);
	int rc = -1;
	if (fs >= 0 && ms >= 0 &&
	    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
	    H5Dwrite(tb->ds, tb->mtype, ms, fs, H5P_DEFAULT, tb->buf) >= 0)
		rc = 0;
	if (ms >= 0)
		H5Sclose(ms);
	if (fs >= 0)
		H5Sclose(fs);
	if (rc == 0) {
		tb->nrows = total;
		tb->nbuf = 0;
	}
	return rc;
}

static int tab_append(struct tab *tb, const uint64_t *row)
{
	memcpy(tb->buf + tb->nbuf * tb->ncols, row, tb->ncols * sizeof(uint64_t));
	if (++tb->nbuf == TAB_CHUNK)
		return tab_flush(tb);
	return 0;
}

static void tab_close(struct tab *tb)
{
	if (tb->ds >= 0)
		H5Dclose(tb->ds);
	if (tb->mtype >= 0)
		H5Tclose(tb->mtype);
	free(tb->buf);
	memset(tb, 0, sizeof(*tb));
	tb->ds = tb->mtype = -1;
}

/* ---- summary and mrc types ---- */

static hid_t summary_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct vl_summary_row));
	struct { const char *name; size_t off, len; } s[] = {
#define S(f) { #f, offsetof(struct vl_summary_row, f), sizeof(((struct vl_summary_row *)0)->f) }
		S(run_id), S(kind), S(trace), S(os), S(policy),
#undef S
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		hid_t st = str_type(s[i].len);
		H5Tinsert(t, s[i].name, s[i].off, st);
		H5Tclose(st);
	}
#define U(f) H5Tinsert(t, #f, offsetof(struct vl_summary_row, f), H5T_NATIVE_UINT64)
	U(frames); U(seed); U(stats_interval); U(accesses); U(faults); U(faults_demand_zero);
	U(faults_soft); U(faults_hard); U(evictions); U(writebacks);
#undef U
	H5Tinsert(t, "fault_ratio", offsetof(struct vl_summary_row, fault_ratio), H5T_NATIVE_DOUBLE);
	H5Tinsert(t, "wall_seconds", offsetof(struct vl_summary_row, wall_seconds),
		  H5T_NATIVE_DOUBLE);
	return t;
}

struct mrc_row {
	uint64_t frames, size_bytes, misses;
	double miss_ratio;
};

static hid_t mrc_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct mrc_row));
	H5Tinsert(t, "frames", offsetof(struct mrc_row, frames), H5T_NATIVE_UINT64);
	H5Tinsert(t, "size_bytes", offsetof(struct mrc_row, size_bytes), H5T_NATIVE_UINT64);
	H5Tinsert(t, "misses", offsetof(struct mrc_row, misses), H5T_NATIVE_UINT64);
	H5Tinsert(t, "miss_ratio", offsetof(struct mrc_row, miss_ratio), H5T_NATIVE_DOUBLE);
	return t;
}

/* ---- the writer ---- */

struct vl_h5 {
	char *path, *tmp;
	hid_t file;
	hid_t runs;      /* /runs */
	hid_t summary;   /* /summary dataset */
	hid_t stype;     /* summary memory type */
};

struct vl_h5_run {
	struct vl_h5 *h;
	hid_t g;
	char id[VL_RUN_ID_MAX];
	char kind[8];
	bool has_tl;
	struct tab tl;
	size_t ncounters;
	size_t *tl_src;      /* per delta, then level column: index in the counter list */
	size_t ntl_delta, ntl_level;
	uint64_t *prev;      /* counter values at the previous row */
	uint64_t *cur;
	uint64_t *row;
	uint64_t rows;
};

const char *vl_h5_temp_path(const struct vl_h5 *h)
{
	return h->tmp;
}

static void h5_free(struct vl_h5 *h)
{
	if (!h)
		return;
	if (h->stype >= 0)
		H5Tclose(h->stype);
	if (h->summary >= 0)
		H5Dclose(h->summary);
	if (h->runs >= 0)
		H5Gclose(h->runs);
	if (h->file >= 0)
		H5Fclose(h->file);
	free(h->path);
	free(h->tmp);
	free(h);
}

void vl_h5_abort(struct vl_h5 *h)
{
	if (!h)
		return;
	char *tmp = h->tmp;
	h->tmp = NULL;
	h5_free(h);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
}

/* Is path an HDF5 file of ours, complete?  0, or VL_EFORMAT with a reason. */
static int check_complete(const char *path, hid_t f, struct vl_error *err)
{
	char *fmt = attr_get(f, "format");
	char *status = attr_get(f, "status");
	int rc = 0;
	if (!fmt || strcmp(fmt, VL_RESULTS_FORMAT))
		rc = vl_err(err, VL_EFORMAT,
			    "%s: an HDF5 file but not a vmlab results file (no root attribute format=%s)",
			    path, VL_RESULTS_FORMAT);
	else if (!status || strcmp(status, "complete"))
		rc = vl_err(err, VL_EFORMAT,
			    "%s: results file is not complete (status '%s': the run writing it did not finish)",
			    path, status ? status : "missing");
	free(fmt);
	free(status);
	return rc;
}

static int copy_file(const char *src, int dfd, struct vl_error *err)
{
	int sfd = open(src, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return vl_err(err, VL_EIO, "%s: cannot read: %s", src, strerror(errno));
	char *buf = malloc(1 << 20);
	int rc = buf ? 0 : vl_err(err, VL_ENOMEM, "out of memory copying %s", src);
	while (rc == 0) {
		ssize_t n = read(sfd, buf, 1 << 20);
		if (n < 0) {
			rc = vl_err(err, VL_EIO, "%s: cannot read: %s", src, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(dfd, buf + off, (size_t)(n - off));
			if (w < 0) {
				rc = vl_err(err, VL_EIO, "cannot copy %s: %s", src, strerror(errno));
				break;
			}
			off += w;
		}
	}
	free(buf);
	close(sfd);
	return rc;
}

int vl_h5_open(struct vl_h5 **out, const char *path, struct vl_error *err)
{
	quiet();
	struct vl_h5 *h = calloc(1, sizeof(*h));
	if (!h)
		return vl_err(err, VL_ENOMEM, "out of memory");
	h->file = h->runs = h->summary = h->stype = -1;
	int rc = 0;
	h->path = strdup(path);
	char *d1 = strdup(path), *b1 = strdup(path);
	if (!h->path || !d1 || !b1) {
		free(d1);
		free(b1);
		h5_free(h);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	size_t tl = strlen(path) + 32;
	h->tmp = malloc(tl);
	if (h->tmp)
		snprintf(h->tmp, tl, "%s/.%s.tmp-XXXXXX", dirname(d1), basename(b1));
	free(d1);
	free(b1);
	if (!h->tmp) {
		h5_free(h);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}

	struct stat st;
	bool append = stat(path, &st) == 0;
	if (append) {
		if (!S_ISREG(st.st_mode)) {
			rc = vl_err(err, VL_EINVAL, "%s: not a regular file", path);
			goto fail_notmp;
		}
		if (H5Fis_hdf5(path) <= 0) {
			H5Eclear2(H5E_DEFAULT);
			rc = vl_err(err, VL_EFORMAT,
				    "%s: exists and is not an HDF5 file; refusing to overwrite it", path);
			goto fail_notmp;
		}
		hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
		if (f < 0) {
			rc = h5fail(err, VL_EFORMAT, path, "open the results file to append to it");
			goto fail_notmp;
		}
		rc = check_complete(path, f, err);
		H5Fclose(f);
		if (rc < 0)
			goto fail_notmp;
	}
	int fd = mkstemp(h->tmp);
	if (fd < 0) {
		rc = vl_err(err, VL_EIO, "%s: cannot create a temporary file there: %s", h->tmp,
			    strerror(errno));
		goto fail_notmp;
	}
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	if (append)
		rc = copy_file(path, fd, err);
	close(fd);
	if (rc < 0)
		goto fail;

	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
	if (append)
		h->file = H5Fopen(h->tmp, H5F_ACC_RDWR, fapl);
	else
		h->file = H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	H5Pclose(fapl);
	if (h->file < 0) {
		rc = h5fail(err, VL_EIO, h->tmp, append ? "open the copy" : "create the file");
		goto fail;
	}
	/* mark the temporary file incomplete on disk before anything else */
	char ts[32], host[256] = "";
	now_iso(ts, sizeof(ts));
	gethostname(host, sizeof(host) - 1);
	if (attr_str(h->file, "status", "writing") < 0 ||
	    (!append && (attr_str(h->file, "format", VL_RESULTS_FORMAT) < 0 ||
			 attr_u64(h->file, "format_version", VL_RESULTS_VERSION) < 0 ||
			 attr_str(h->file, "created", ts) < 0)) ||
	    attr_str(h->file, "vmlab_version", vl_version()) < 0 ||
	    attr_str(h->file, "host", host) < 0 || attr_str(h->file, "modified", ts) < 0 ||
	    H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0) {
		rc = h5fail(err, VL_EIO, h->tmp, "write the root attributes");
		goto fail;
	}
	h->stype = summary_type();
	if (H5Lexists(h->file, "runs", H5P_DEFAULT) > 0)
		h->runs = H5Gopen2(h->file, "runs", H5P_DEFAULT);
	else
		h->runs = H5Gcreate2(h->file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (H5Lexists(h->file, "summary", H5P_DEFAULT) > 0) {
		h->summary = H5Dopen2(h->file, "summary", H5P_DEFAULT);
	} else if (h->stype >= 0) {
		hsize_t dims = 0, maxdims = H5S_UNLIMITED, chunk = 64;
		hid_t sp = H5Screate_simple(1, &dims, &maxdims);
		hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
		H5Pset_chunk(dcpl, 1, &chunk);
		h->summary = H5Dcreate2(h->file, "summary", h->stype, sp, H5P_DEFAULT, dcpl,
					H5P_DEFAULT);
		H5Pclose(dcpl);
		H5Sclose(sp);
	}
	if (h->runs < 0 || h->summary < 0 || h->stype < 0) {
		rc = h5fail(err, VL_EIO, h->tmp, "create /runs and /summary");
		goto fail;
	}
	*out = h;
	return 0;
fail:
	vl_h5_abort(h);
	return rc;
fail_notmp:
	free(h->tmp);
	h->tmp = NULL;
	h5_free(h);
	return rc;
}

int vl_h5_commit(struct vl_h5 *h, struct vl_error *err)
{
	char ts[32];
	now_iso(ts, sizeof(ts));
	int rc = 0;
	if (attr_str(h->file, "modified", ts) < 0 || attr_str(h->file, "status", "complete") < 0)
		rc = h5fail(err, VL_EIO, h->tmp, "mark the file complete");
	H5Tclose(h->stype);
	H5Dclose(h->summary);
	H5Gclose(h->runs);
	h->stype = h->summary = h->runs = -1;
	if (rc == 0 && H5Fclose(h->file) < 0)
		rc = h5fail(err, VL_EIO, h->tmp, "close the file");
	h->file = -1;
	if (rc == 0) {
		int fd = open(h->tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			rc = vl_err(err, VL_EIO, "%s: cannot sync: %s", h->tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0 && rename(h->tmp, h->path) < 0)
		rc = vl_err(err, VL_EIO, "cannot rename %s to %s: %s", h->tmp, h->path,
			    strerror(errno));
	if (rc < 0) {
		vl_h5_abort(h);
		return rc;
	}
	char *d = strdup(h->path);
	if (d) {
		int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(d);
	}
	h5_free(h);
	return 0;
}

static bool id_ok(const char *id)
{
	if (!*id || strlen(id) >= VL_RUN_ID_MAX || *id == '.')
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

int vl_h5_run_id(struct vl_h5 *h, const char *id, char *out, struct vl_error *err)
{
	if (id && *id) {
		if (!id_ok(id))
			return vl_err(err, VL_EINVAL,
				      "run id '%s': expected 1 to %d letters, digits, '.', '_' or '-' "
				      "(not starting with '.')", id, VL_RUN_ID_MAX - 1);
		if (H5Lexists(h->runs, id, H5P_DEFAULT) > 0)
			return vl_err(err, VL_EINVAL, "%s: run id '%s' is already in the file", h->path,
				      id);
		snprintf(out, VL_RUN_ID_MAX, "%s", id);
		return 0;
	}
	H5G_info_t gi;
	if (H5Gget_info(h->runs, &gi) < 0)
		return h5fail(err, VL_EIO, h->tmp, "list /runs");
	for (unsigned long long k = gi.nlinks + 1;; k++) {
		snprintf(out, VL_RUN_ID_MAX, "run-%04llu", k);
		if (H5Lexists(h->runs, out, H5P_DEFAULT) <= 0)
			return 0;
	}
}

void vl_h5_run_free(struct vl_h5_run *run)
{
	if (!run)
		return;
	if (run->has_tl)
		tab_close(&run->tl);
	if (run->g >= 0)
		H5Gclose(run->g);
	free(run->tl_src);
	free(run->prev);
	free(run->cur);
	free(run->row);
	free(run);
}

/* Timeline columns taken from the counter list when the engine has them:
 * per-interval differences, then levels (values at the interval's end). */
static const char *const tl_deltas[] = {
	"faults", "faults_demand_zero", "faults_soft", "faults_hard", "faults_cow",
	"faults_guard", "evictions", "writebacks", "pagefile_reads", "pagefile_writes",
	"access_violations", "pages_trimmed", "standby_repurposed", "modified_written",
	"file_reads",
};
static const char *const tl_levels[] = { "commit_charge" };

int vl_h5_run_begin(struct vl_h5 *h, const char *id, const char *kind, struct vl_engine *e,
		    struct vl_h5_run **out, struct vl_error *err)
{
	char rid[VL_RUN_ID_MAX];
	VL_TRY(vl_h5_run_id(h, id, rid, err));
	struct vl_h5_run *run = calloc(1, sizeof(*run));
	if (!run)
		return vl_err(err, VL_ENOMEM, "out of memory");
	run->h = h;
	run->g = -1;
	snprintf(run->id, sizeof(run->id), "%s", rid);
	snprintf(run->kind, sizeof(run->kind), "%s", kind);
	run->g = H5Gcreate2(h->runs, rid, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (run->g < 0) {
		vl_h5_run_free(run);
		return h5fail(err, VL_EIO, h->tmp, "create the run's group");
	}
	if (e && vl_config_u64(vl_engine_config(e), "stats.interval")) {
		size_t n = vl_engine_counter_list(e, NULL, NULL, 0);
		const char **names = calloc(n + 1, sizeof(*names));
		const char **cols = calloc(n + 8, sizeof(*cols)); /* <= 3 + n + 3 columns */
		run->tl_src = calloc(n + 1, sizeof(*run->tl_src));
		run->prev = calloc(n + 1, sizeof(uint64_t));
		run->cur = calloc(n + 1, sizeof(uint64_t));
		run->row = calloc(n + 8, sizeof(uint64_t));
		if (!names || !cols || !run->tl_src || !run->prev || !run->cur || !run->row) {
			free(names);
			free(cols);
			vl_h5_run_free(run);
			return vl_err(err, VL_ENOMEM, "out of memory");
		}
		vl_engine_counter_list(e, names, run->prev, n);
		run->ncounters = n;
		size_t nc = 0;
		cols[nc++] = "interval";
		cols[nc++] = "accesses_end";
		cols[nc++] = "accesses";
		for (size_t i = 0; i < n; i++)
			if (!strcmp(names[i], "accesses"))
				run->tl_src[run->ntl_delta++] = i;
		for (size_t k = 0; k < sizeof(tl_deltas) / sizeof(tl_deltas[0]); k++)
			for (size_t i = 0; i < n; i++)
				if (!strcmp(names[i], tl_deltas[k])) {
					run->tl_src[run->ntl_delta++] = i;
					cols[nc++] = names[i];
				}
		for (size_t i = 0; i < n; i++)
			if (!strncmp(names[i], "tlb_", 4)) {
				run->tl_src[run->ntl_delta++] = i;
				cols[nc++] = names[i];
			}
		run->ntl_level = 0;
		for (size_t k = 0; k < sizeof(tl_levels) / sizeof(tl_levels[0]); k++)
			for (size_t i = 0; i < n; i++)
				if (!strcmp(names[i], tl_levels[k])) {
					run->tl_src[run->ntl_delta + run->ntl_level++] = i;
					cols[nc++] = names[i];
				}
		cols[nc++] = "resident_pages";
		cols[nc++] = "ws_pages";
		cols[nc++] = "free_frames";
		int rc = tab_create(&run->tl, run->g, "timeline", cols, nc);
		run->has_tl = true;
		free(names);
		free(cols);
		if (rc < 0) {
			vl_h5_run_free(run);
			return h5fail(err, VL_EIO, h->tmp, "create the timeline");
		}
		attr_u64(run->tl.ds, "interval_accesses",
			 vl_config_u64(vl_engine_config(e), "stats.interval"));
	}
	*out = run;
	return 0;
}

int vl_h5_timeline_row(void *ctx, struct vl_engine *e, uint64_t accesses_done,
		       struct vl_error *err)
{
	struct vl_h5_run *run = ctx;
	if (!run->has_tl)
		return 0;
	vl_engine_counter_list(e, NULL, run->cur, run->ncounters);
	size_t c = 0;
	run->row[c++] = run->rows;
	run->row[c++] = accesses_done;
	for (size_t k = 0; k < run->ntl_delta; k++) {
		size_t i = run->tl_src[k];
		run->row[c++] = run->cur[i] - run->prev[i];
	}
	for (size_t k = 0; k < run->ntl_level; k++)
		run->row[c++] = run->cur[run->tl_src[run->ntl_delta + k]];
	struct vl_gauges g;
	vl_engine_gauges(e, &g);
	run->row[c++] = g.resident_pages;
	run->row[c++] = g.ws_pages;
	run->row[c++] = g.free_frames;
	memcpy(run->prev, run->cur, run->ncounters * sizeof(uint64_t));
	run->rows++;
	if (tab_append(&run->tl, run->row) < 0)
		return h5fail(err, VL_EIO, run->h->tmp, "append to the timeline");
	return 0;
}

static int run_attrs(struct vl_h5_run *run, const struct vl_h5_provenance *pv,
		     struct vl_error *err)
{
	hid_t g = run->g;
	char hash[32] = "", ts[32];
	const char *algo = "XXH64 (seed 0) of the trace file's bytes as stored";
	if (pv->trace_path && strcmp(pv->trace_path, "-") && strcmp(pv->trace_path, "<stdin>")) {
		uint64_t x;
		VL_TRY(vl_hash_file(pv->trace_path, &x, err));
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)x);
	} else {
		algo = "none: the trace was read from standard input";
	}
	now_iso(ts, sizeof(ts));
	if (attr_str(g, "kind", run->kind) < 0 || attr_str(g, "created", ts) < 0 ||
	    attr_str(g, "vmlab_version", vl_version()) < 0 ||
	    attr_str(g, "trace_path", pv->trace_path ? pv->trace_path : "") < 0 ||
	    attr_str(g, "trace_format", pv->trace_format ? pv->trace_format : "") < 0 ||
	    attr_str(g, "trace_hash", hash) < 0 || attr_str(g, "trace_hash_algorithm", algo) < 0 ||
	    attr_str(g, "config", pv->config_text ? pv->config_text : "") < 0 ||
	    attr_u64(g, "seed", pv->seed) < 0 || attr_f64(g, "wall_seconds", pv->wall_seconds) < 0)
		return h5fail(err, VL_EIO, run->h->tmp, "write the run's attributes");
	if (pv->stats &&
	    (attr_u64(g, "records", pv->stats->records) < 0 ||
	     attr_f64(g, "decode_seconds", pv->stats->decode_seconds) < 0 ||
	     attr_f64(g, "sim_seconds", pv->stats->sim_seconds) < 0 ||
	     attr_f64(g, "prepass_seconds", pv->stats->prepass_seconds) < 0))
		return h5fail(err, VL_EIO, run->h->tmp, "write the run's timings");
	return 0;
}

static int summary_append(struct vl_h5 *h, const struct vl_summary_row *row,
			  struct vl_error *err)
{
	hid_t fs = H5Dget_space(h->summary);
	hsize_t n = 0, one = 1;
	int rc = -1;
	if (fs >= 0 && H5Sget_simple_extent_dims(fs, &n, NULL) == 1) {
		hsize_t total = n + 1;
		H5Sclose(fs);
		fs = -1;
		if (H5Dset_extent(h->summary, &total) >= 0 && (fs = H5Dget_space(h->summary)) >= 0 &&
		    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &n, NULL, &one, NULL) >= 0) {
			hid_t ms = H5Screate_simple(1, &one, NULL);
			if (ms >= 0 && H5Dwrite(h->summary, h->stype, ms, fs, H5P_DEFAULT, row) >= 0)
				rc = 0;
			if (ms >= 0)
				H5Sclose(ms);
		}
	}
	if (fs >= 0)
		H5Sclose(fs);
	return rc < 0 ? h5fail(err, VL_EIO, h->tmp, "append to /summary") : 0;
}

static void summary_fill(struct vl_summary_row *s, const struct vl_h5_run *run,
			 const struct vl_h5_provenance *pv)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->run_id, sizeof(s->run_id), "%s", run->id);
	snprintf(s->kind, sizeof(s->kind), "%s", run->kind);
	snprintf(s->trace, sizeof(s->trace), "%s", pv->trace_path ? pv->trace_path : "");
	snprintf(s->os, sizeof(s->os), "%s", pv->os ? pv->os : "");
	snprintf(s->policy, sizeof(s->policy), "%s", pv->policy ? pv->policy : "");
	s->frames = pv->frames;
	s->seed = pv->seed;
	s->wall_seconds = pv->wall_seconds;
}

int vl_h5_run_end_engine(struct vl_h5_run *run, struct vl_engine *e,
			 const struct vl_h5_provenance *pv, struct vl_error *err)
{
	int rc = run_attrs(run, pv, err);
	const char *tmp = run->h->tmp;
	size_t n = vl_engine_counter_list(e, NULL, NULL, 0);
	const char **names = calloc(n + 1, sizeof(*names));
	uint64_t *vals = calloc(n + 1, sizeof(*vals));
	struct tab tb = { .ds = -1, .mtype = -1 };
	if (rc == 0 && (!names || !vals))
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc == 0) {
		vl_engine_counter_list(e, names, vals, n);
		if (tab_create(&tb, run->g, "counters", names, n) < 0 || tab_append(&tb, vals) < 0 ||
		    tab_flush(&tb) < 0)
			rc = h5fail(err, VL_EIO, tmp, "write the counters");
		tab_close(&tb);
	}
	if (rc == 0 && run->has_tl && tab_flush(&run->tl) < 0)
		rc = h5fail(err, VL_EIO, tmp, "write the timeline");
	if (rc == 0) {
		/* every field of struct vl_proc_counters, as vmlab run --json prints them */
#define PCOLS(X)                                                                      \
	X(pid) X(accesses) X(faults) X(faults_demand_zero) X(faults_soft) X(faults_hard) \
	X(faults_cow) X(access_violations) X(commit_pages) X(evictions) X(writebacks)    \
	X(resident_pages)
#define PNAME(f) #f,
#define PVAL(f) (uint64_t)p.f,
		static const char *const pcols[] = { PCOLS(PNAME) };
		const size_t npcols = sizeof(pcols) / sizeof(pcols[0]);
		if (tab_create(&tb, run->g, "processes", pcols, npcols) < 0)
			rc = h5fail(err, VL_EIO, tmp, "create the process table");
		for (size_t i = 0; rc == 0 && i < vl_engine_nprocs(e); i++) {
			struct vl_proc_counters p;
			vl_engine_proc_counters(e, i, &p);
			uint64_t row[] = { PCOLS(PVAL) };
			if (tab_append(&tb, row) < 0)
				rc = h5fail(err, VL_EIO, tmp, "write the process table");
		}
#undef PVAL
#undef PNAME
#undef PCOLS
		if (rc == 0 && tab_flush(&tb) < 0)
			rc = h5fail(err, VL_EIO, tmp, "write the process table");
		tab_close(&tb);
	}
	if (rc == 0) {
		struct vl_summary_row s;
		summary_fill(&s, run, pv);
		const struct vl_counters *c = vl_engine_counters(e);
		s.stats_interval = vl_config_u64(vl_engine_config(e), "stats.interval");
		s.accesses = c->accesses;
		s.faults = c->faults;
		s.faults_demand_zero = c->faults_demand_zero;
		s.faults_soft = c->faults_soft;
		s.faults_hard = c->faults_hard;
		s.evictions = c->evictions;
		s.writebacks = c->writebacks;
		s.fault_ratio = c->accesses ? (double)c->faults / (double)c->accesses : 0;
		rc = summary_append(run->h, &s, err);
	}
	free(names);
	free(vals);
	vl_h5_run_free(run);
	return rc;
}

int vl_h5_run_end_mrc(struct vl_h5_run *run, const struct vl_h5_provenance *pv,
		      const char *method, double sample_rate, uint64_t accesses,
		      const struct vl_mrc_point *pts, size_t n, struct vl_error *err)
{
	int rc = run_attrs(run, pv, err);
	const char *tmp = run->h->tmp;
	struct mrc_row *rows = calloc(n ? n : 1, sizeof(*rows));
	if (rc == 0 && !rows)
		rc = vl_err(err, VL_ENOMEM, "out of memory");
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			rows[i] = (struct mrc_row){ pts[i].frames, pts[i].frames * VL_PAGE_SIZE,
						    pts[i].misses, pts[i].miss_ratio };
		hsize_t dims = n;
		hid_t t = mrc_type();
		hid_t sp = H5Screate_simple(1, &dims, NULL);
		hid_t ds = t >= 0 && sp >= 0
				   ? H5Dcreate2(run->g, "mrc", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)
				   : -1;
		if (ds < 0 || (n && H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) ||
		    attr_str(ds, "policy", pv->policy ? pv->policy : "") < 0 ||
		    attr_str(ds, "method", method) < 0 ||
		    attr_f64(ds, "sample_rate", sample_rate) < 0 ||
		    attr_u64(ds, "accesses", accesses) < 0)
			rc = h5fail(err, VL_EIO, tmp, "write the miss-ratio curve");
		if (ds >= 0)
			H5Dclose(ds);
		if (sp >= 0)
			H5Sclose(sp);
		if (t >= 0)
			H5Tclose(t);
	}
	if (rc == 0) {
		struct vl_summary_row s;
		summary_fill(&s, run, pv);
		s.accesses = accesses;
		rc = summary_append(run->h, &s, err);
	}
	free(rows);
	vl_h5_run_free(run);
	return rc;
}

/* ---- hashing ---- */

int vl_hash_file(const char *path, uint64_t *out, struct vl_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vl_err(err, VL_ENOENT, "%s: cannot open to hash: %s", path, strerror(errno));
	XXH64_state_t *st = XXH64_createState();
	char *buf = malloc(1 << 20);
	int rc = 0;
	if (!st || !buf) {
		rc = vl_err(err, VL_ENOMEM, "out of memory hashing %s", path);
		goto out;
	}
	XXH64_reset(st, 0);
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0) {
			rc = vl_err(err, VL_EIO, "%s: read failed while hashing: %s", path,
				    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		XXH64_update(st, buf, (size_t)n);
	}
	*out = XXH64_digest(st);
out:
	if (st)
		XXH64_freeState(st);
	free(buf);
	close(fd);
	return rc;
}

/* ---- the reader ---- */

struct vl_results {
	char *path;
	hid_t file;
};

const char *vl_results_path(const struct vl_results *r)
{
	return r->path;
}

int vl_results_open(struct vl_results **out, const char *path, struct vl_error *err)
{
	quiet();
	struct stat st;
	if (stat(path, &st) < 0)
		return vl_err(err, VL_ENOENT, "%s: cannot open results: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vl_err(err, VL_EFORMAT, "%s: not a regular file, expected an HDF5 results file",
			      path);
	if (H5Fis_hdf5(path) <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return vl_err(err, VL_EFORMAT,
			      "%s: not an HDF5 file (expected results written by vmlab run -o)", path);
	}
	struct vl_results *r = calloc(1, sizeof(*r));
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	r->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (r->file < 0) {
		int rc = h5fail(err, VL_EFORMAT, path, "open the results file");
		free(r->path);
		free(r);
		return rc;
	}
	int rc = check_complete(path, r->file, err);
	if (rc < 0) {
		vl_results_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void vl_results_close(struct vl_results *r)
{
	if (!r)
		return;
	if (r->file >= 0)
		H5Fclose(r->file);
	free(r->path);
	free(r);
}

int vl_results_summary(struct vl_results *r, struct vl_summary_row **rows, size_t *n,
		       struct vl_error *err)
{
	*rows = NULL;
	*n = 0;
	if (H5Lexists(r->file, "summary", H5P_DEFAULT) <= 0)
		return vl_err(err, VL_EFORMAT, "%s: no /summary dataset", r->path);
	hid_t ds = H5Dopen2(r->file, "summary", H5P_DEFAULT);
	hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
	hid_t t = summary_type();
	hsize_t dims = 0;
	int rc = 0;
	if (sp < 0 || H5Sget_simple_extent_dims(sp, &dims, NULL) != 1) {
		rc = h5fail(err, VL_EFORMAT, r->path, "read /summary (expected a 1-D table)");
	} else {
		*rows = calloc(dims ? dims : 1, sizeof(**rows));
		if (!*rows)
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		else if (dims && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)
			rc = h5fail(err, VL_EFORMAT, r->path, "read /summary");
		else
			*n = dims;
	}
	if (rc < 0) {
		free(*rows);
		*rows = NULL;
	}
	if (t >= 0)
		H5Tclose(t);
	if (sp >= 0)
		H5Sclose(sp);
	if (ds >= 0)
		H5Dclose(ds);
	return rc;
}

void vl_table_free(struct vl_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->names ? t->names[i] : NULL);
	if (t->strs)
		for (size_t i = 0; i < t->nrows * t->ncols; i++)
			free(t->strs[i]);
	for (size_t i = 0; i < t->nattrs; i++) {
		free(t->attrs_k[i]);
		free(t->attrs_v[i]);
	}
	free(t->names);
	free(t->v);
	free(t->strs);
	free(t->attrs_k);
	free(t->attrs_v);
	memset(t, 0, sizeof(*t));
}

long vl_table_col(const struct vl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcmp(t->names[i], name))
			return (long)i;
	return -1;
}

const char *vl_table_attr(const struct vl_table *t, const char *name)
{
	for (size_t i = 0; i < t->nattrs; i++)
		if (!strcmp(t->attrs_k[i], name))
			return t->attrs_v[i];
	return NULL;
}

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
	struct vl_table *t = data;
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	char *v = a >= 0 ? attr_text(a) : NULL;
	if (a >= 0)
		H5Aclose(a);
	if (!v)
		return 0;
	char **k2 = realloc(t->attrs_k, (t->nattrs + 1) * sizeof(char *));
	if (k2)
		t->attrs_k = k2;
	char **v2 = realloc(t->attrs_v, (t->nattrs + 1) * sizeof(char *));
	if (v2)
		t->attrs_v = v2;
	char *kk = strdup(name);
	if (!k2 || !v2 || !kk) {
		free(v);
		free(kk);
		return -1;
	}
	t->attrs_k[t->nattrs] = kk;
	t->attrs_v[t->nattrs] = v;
	t->nattrs++;
	return 0;
}

/* Read one column (member name of the compound) into doubles or strings. */
static int read_column(hid_t ds, hid_t ftype, unsigned m, size_t nrows, struct vl_table *t,
		       size_t col)
{
	char *name = H5Tget_member_name(ftype, m);
	hid_t mt = H5Tget_member_type(ftype, m);
	H5T_class_t cls = H5Tget_class(mt);
	int rc = -1;
	if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
		hid_t c = H5Tcreate(H5T_COMPOUND, sizeof(double));
		double *v = malloc((nrows ? nrows : 1) * sizeof(double));
		if (c >= 0 && v && H5Tinsert(c, name, 0, H5T_NATIVE_DOUBLE) >= 0 &&
		    (!nrows || H5Dread(ds, c, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)) {
			for (size_t r = 0; r < nrows; r++)
				t->v[r * t->ncols + col] = v[r];
			rc = 0;
		}
		free(v);
		if (c >= 0)
			H5Tclose(c);
	} else if (cls == H5T_STRING) {
		bool var = H5Tis_variable_str(mt) > 0;
		size_t w = var ? sizeof(char *) : H5Tget_size(mt) + 1;
		hid_t st = H5Tcopy(H5T_C_S1);
		H5Tset_size(st, var ? H5T_VARIABLE : w);
		H5Tset_strpad(st, H5T_STR_NULLTERM);
		hid_t c = H5Tcreate(H5T_COMPOUND, w);
		char *buf = calloc(nrows ? nrows : 1, w);
		if (c >= 0 && buf && H5Tinsert(c, name, 0, st) >= 0 &&
		    (!nrows || H5Dread(ds, c, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)) {
			rc = 0;
			for (size_t r = 0; r < nrows; r++) {
				char *s = var ? *(char **)(buf + r * w) : buf + r * w;
				t->strs[r * t->ncols + col] = strdup(s ? s : "");
				t->v[r * t->ncols + col] = NAN;
				if (var && s)
					H5free_memory(s);
			}
		}
		free(buf);
		if (c >= 0)
			H5Tclose(c);
		H5Tclose(st);
	} else {
		rc = 0; /* other classes: left NaN */
		for (size_t r = 0; r < nrows; r++)
			t->v[r * t->ncols + col] = NAN;
	}
	H5Tclose(mt);
	H5free_memory(name);
	return rc;
}

int vl_results_table(struct vl_results *r, const char *dset, struct vl_table *out,
		     struct vl_error *err)
{
	memset(out, 0, sizeof(*out));
	if (H5Lexists(r->file, dset, H5P_DEFAULT) <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return vl_err(err, VL_ENOENT, "%s: no dataset %s", r->path, dset);
	}
	hid_t ds = H5Dopen2(r->file, dset, H5P_DEFAULT);
	if (ds < 0)
		return h5fail(err, VL_EFORMAT, r->path, "open a dataset");
	hid_t ft = H5Dget_type(ds);
	hid_t sp = H5Dget_space(ds);
	hsize_t dims = 0;
	int rc = 0;
	if (ft < 0 || sp < 0 || H5Tget_class(ft) != H5T_COMPOUND ||
	    H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, &dims, NULL) != 1) {
		rc = vl_err(err, VL_EFORMAT, "%s: %s is not a 1-D table of named fields", r->path,
			    dset);
		goto out;
	}
	int nm = H5Tget_nmembers(ft);
	out->nrows = dims;
	out->ncols = nm > 0 ? (size_t)nm : 0;
	out->names = calloc(out->ncols + 1, sizeof(char *));
	out->v = calloc(out->nrows * out->ncols + 1, sizeof(double));
	out->strs = calloc(out->nrows * out->ncols + 1, sizeof(char *));
	if (!out->names || !out->v || !out->strs) {
		rc = vl_err(err, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < out->ncols; i++) {
		char *n = H5Tget_member_name(ft, (unsigned)i);
		out->names[i] = strdup(n ? n : "");
		if (n)
			H5free_memory(n);
		if (read_column(ds, ft, (unsigned)i, out->nrows, out, i) < 0) {
			rc = h5fail(err, VL_EFORMAT, r->path, "read a table column");
			goto out;
		}
	}
	hsize_t idx = 0;
	H5Aiterate2(ds, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, out);
out:
	if (rc < 0)
		vl_table_free(out);
	if (sp >= 0)
		H5Sclose(sp);
	if (ft >= 0)
		H5Tclose(ft);
	H5Dclose(ds);
	return rc;
}

int vl_results_attr(struct vl_results *r, const char *obj, const char *name, char **out,
		    struct vl_error *err)
{
	*out = NULL;
	if (strcmp(obj, "/") && H5Lexists(r->file, obj, H5P_DEFAULT) <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return vl_err(err, VL_ENOENT, "%s: no object %s", r->path, obj);
	}
	hid_t o = H5Oopen(r->file, obj, H5P_DEFAULT);
	if (o < 0)
		return h5fail(err, VL_EFORMAT, r->path, "open an object");
	*out = attr_get(o, name);
	H5Oclose(o);
	H5Eclear2(H5E_DEFAULT);
	if (!*out)
		return vl_err(err, VL_ENOENT, "%s: %s has no attribute %s", r->path, obj, name);
	return 0;
}

struct names {
	char **v;
	size_t n;
};

static herr_t name_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
	struct names *nm = data;
	char **v = realloc(nm->v, (nm->n + 1) * sizeof(char *));
	if (!v)
		return -1;
	nm->v = v;
	if (!(v[nm->n] = strdup(name)))
		return -1;
	nm->n++;
	return 0;
}

int vl_results_names(struct vl_results *r, const char *group, char ***names, size_t *n,
		     struct vl_error *err)
{
	*names = NULL;
	*n = 0;
	if (H5Lexists(r->file, group, H5P_DEFAULT) <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return vl_err(err, VL_ENOENT, "%s: no group %s", r->path, group);
	}
	hid_t g = H5Gopen2(r->file, group, H5P_DEFAULT);
	if (g < 0)
		return h5fail(err, VL_EFORMAT, r->path, "open a group");
	struct names nm = { 0 };
	hsize_t idx = 0;
	herr_t e = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, name_cb, &nm);
	H5Gclose(g);
	if (e < 0) {
		vl_results_names_free(nm.v, nm.n);
		return h5fail(err, VL_EFORMAT, r->path, "list a group");
	}
	*names = nm.v;
	*n = nm.n;
	return 0;
}

void vl_results_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
