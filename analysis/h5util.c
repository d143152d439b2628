/* analysis/h5util.c - what the HDF5 writers and reader share: error
 * mapping, attribute helpers, the /summary type, the completeness check,
 * files written in memory and saved by our own writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis/h5util.h"

/* ---- errors ---- */

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	char *buf = data;
	if (n == 0 && e->desc)
		snprintf(buf, 256, "%s", e->desc);
	return 0;
}

/* Map the HDF5 error stack to a vmlab error: "FILE: cannot WHAT: DETAIL". */
int h5u_fail(struct vl_error *err, int code, const char *path, const char *what)
{
	char d[256] = "";
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, d);
	H5Eclear2(H5E_DEFAULT);
	for (char *c = d; *c; c++) /* one line: HDF5's details hold newlines */
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	return vl_err(err, code, "%s: cannot %s%s%s", path, what, *d ? ": " : "", d);
}

void h5u_quiet(void)
{
	static int done;
	if (!done) {
		H5open();
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
		done = 1;
	}
}

void h5u_now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- attribute helpers ---- */

hid_t h5u_str_type(size_t len)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t >= 0) {
		H5Tset_size(t, len ? len : 1);
		H5Tset_strpad(t, H5T_STR_NULLTERM);
	}
	return t;
}

int h5u_attr_write(hid_t obj, const char *name, hid_t type, const void *val)
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

int h5u_attr_str(hid_t obj, const char *name, const char *val)
{
	hid_t t = h5u_str_type(strlen(val) + 1);
	int rc = t >= 0 ? h5u_attr_write(obj, name, t, val) : -1;
	if (t >= 0)
		H5Tclose(t);
	return rc;
}

int h5u_attr_u64(hid_t obj, const char *name, uint64_t v)
{
	return h5u_attr_write(obj, name, H5T_NATIVE_UINT64, &v);
}

int h5u_attr_f64(hid_t obj, const char *name, double v)
{
	return h5u_attr_write(obj, name, H5T_NATIVE_DOUBLE, &v);
}

/* Read attribute a as text (strings as they are, numbers formatted). */
char *h5u_attr_text(hid_t a)
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
			hid_t mt = h5u_str_type(n + 1);
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

char *h5u_attr_get(hid_t obj, const char *name)
{
	if (H5Aexists(obj, name) <= 0)
		return NULL;
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	if (a < 0)
		return NULL;
	char *s = h5u_attr_text(a);
	H5Aclose(a);
	return s;
}

/* ---- summary and mrc types ---- */

hid_t h5u_summary_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct vl_summary_row));
	struct { const char *name; size_t off, len; } s[] = {
#define S(f) { #f, offsetof(struct vl_summary_row, f), sizeof(((struct vl_summary_row *)0)->f) }
		S(run_id), S(kind), S(trace), S(os), S(policy),
#undef S
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		hid_t st = h5u_str_type(s[i].len);
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


int h5u_check_complete(const char *path, hid_t f, struct vl_error *err)
{
	char *fmt = h5u_attr_get(f, "format");
	char *status = h5u_attr_get(f, "status");
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

/* ---- files written in memory ---- */

/* The core driver grows its image in steps of 64 KiB (a cell's results
 * file is about 50 KiB): with 1 MiB steps, creating a file zeroed and
 * faulted in 256 pages it never used (a sixth of a 16-cell sweep's
 * set-up time, docs/benchmarks.md "A sweep's results files"). */
static hid_t mem_fapl(void)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl >= 0 && (H5Pset_fapl_core(fapl, (size_t)1 << 16, 0) < 0 ||
			  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0)) {
		H5Pclose(fapl);
		return -1;
	}
	return fapl;
}

hid_t h5u_mem_create(const char *name)
{
	hid_t fapl = mem_fapl();
	hid_t f = fapl >= 0 ? H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : -1;
	if (fapl >= 0)
		H5Pclose(fapl);
	return f;
}

hid_t h5u_mem_open(const char *name, const void *image, size_t len)
{
	/* The core driver refuses an image whose name exists on disk (it
	 * would read that file instead): the name gets a suffix no file of
	 * ours has (the callers' names are fresh mkstemp names). */
	size_t nl = strlen(name) + 8;
	char *mname = malloc(nl);
	hid_t fapl = mname ? mem_fapl() : -1;
	hid_t f = -1;
	if (fapl >= 0) {
		snprintf(mname, nl, "%s.image", name);
		if (H5Pset_file_image(fapl, (void *)image, len) >= 0)
			f = H5Fopen(mname, H5F_ACC_RDWR, fapl);
		H5Pclose(fapl);
	}
	free(mname);
	return f;
}

int h5u_mem_save(hid_t f, const char *path, struct vl_error *err)
{
	if (H5Fflush(f, H5F_SCOPE_GLOBAL) < 0)
		return h5u_fail(err, VL_EIO, path, "flush the results");
	ssize_t n = H5Fget_file_image(f, NULL, 0);
	if (n < 0)
		return h5u_fail(err, VL_EIO, path, "take the file image");
	char *buf = malloc(n ? (size_t)n : 1);
	if (!buf)
		return vl_err(err, VL_ENOMEM, "%s: out of memory for the file image (%zd bytes)", path,
			      n);
	if (H5Fget_file_image(f, buf, (size_t)n) != n) {
		free(buf);
		return h5u_fail(err, VL_EIO, path, "take the file image");
	}
	int rc = 0;
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		rc = vl_err(err, VL_EIO, "%s: cannot open to write: %s", path, strerror(errno));
	for (ssize_t off = 0; rc == 0 && off < n;) {
		ssize_t w = write(fd, buf + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = vl_err(err, VL_EIO, "%s: cannot write: %s", path,
				    w < 0 ? strerror(errno) : "no progress");
		else
			off += w;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = vl_err(err, VL_EIO, "%s: cannot sync: %s", path, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = vl_err(err, VL_EIO, "%s: cannot close: %s", path, strerror(errno));
	free(buf);
	return rc;
}
