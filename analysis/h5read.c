/* analysis/h5read.c - reading results files back (vmlab report, plot).
 *
 * Tables are read field by field by name into doubles (or strings), so
 * files written by other tools (h5py) with other integer widths, fixed- or
 * variable-length strings read the same.  Only files whose root status is
 * "complete" are opened.
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/h5util.h"
#include "core/sized.h"

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
	h5u_quiet();
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
		int rc = h5u_fail(err, VL_EFORMAT, path, "open the results file");
		free(r->path);
		free(r);
		return rc;
	}
	int rc = h5u_check_complete(path, r->file, err);
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
	hid_t t = h5u_summary_type();
	hsize_t dims = 0;
	int rc = 0;
	if (sp < 0 || H5Sget_simple_extent_dims(sp, &dims, NULL) != 1) {
		rc = h5u_fail(err, VL_EFORMAT, r->path, "read /summary (expected a 1-D table)");
	} else {
		*rows = calloc(dims ? dims : 1, sizeof(**rows));
		if (!*rows)
			rc = vl_err(err, VL_ENOMEM, "out of memory");
		else if (dims && H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0)
			rc = h5u_fail(err, VL_EFORMAT, r->path, "read /summary");
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
	sized_clear(t, sizeof(*t));
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
	char *v = a >= 0 ? h5u_attr_text(a) : NULL;
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

/* The whole table in one read: a memory compound with every numeric member
 * as a double and every string member as a string (variable-length where
 * the file's is, else fixed with room for the terminator), at its own
 * offset in a row.  One H5Dread converts the rows at once; reading a
 * column at a time built a compound type and a conversion path per column
 * and took seconds on a sweep's few-hundred-row tables (HDF5's path table
 * search compares compound types member by member).  Members of other
 * classes are not in the memory type and stay NaN. */
static int read_columns(hid_t ds, hid_t ftype, size_t nrows, struct vl_table *t)
{
	size_t nc = t->ncols;
	size_t *off = calloc(nc + 1, sizeof(size_t));
	signed char *kind = calloc(nc + 1, 1); /* 0 other, 1 number, 2 vlen, 3 fixed */
	hid_t *st = calloc(nc + 1, sizeof(hid_t));
	if (!off || !kind || !st) {
		free(off);
		free(kind);
		free(st);
		return -1;
	}
	size_t row = 0;
	for (size_t i = 0; i < nc; i++) {
		hid_t mt = H5Tget_member_type(ftype, (unsigned)i);
		H5T_class_t cls = H5Tget_class(mt);
		size_t w = 0;
		if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
			kind[i] = 1;
			w = sizeof(double);
		} else if (cls == H5T_STRING) {
			bool var = H5Tis_variable_str(mt) > 0;
			kind[i] = var ? 2 : 3;
			w = var ? sizeof(char *) : H5Tget_size(mt) + 1;
			st[i] = H5Tcopy(H5T_C_S1);
			H5Tset_size(st[i], var ? H5T_VARIABLE : w);
			H5Tset_strpad(st[i], H5T_STR_NULLTERM);
		}
		H5Tclose(mt);
		off[i] = row;
		row += (w + 7) & ~(size_t)7;
	}
	int rc = -1;
	hid_t c = H5Tcreate(H5T_COMPOUND, row ? row : 8);
	char *buf = calloc(nrows ? nrows : 1, row ? row : 8);
	bool ok = c >= 0 && buf;
	for (size_t i = 0; ok && i < nc; i++) {
		if (!kind[i])
			continue;
		char *name = H5Tget_member_name(ftype, (unsigned)i);
		ok = name && H5Tinsert(c, name, off[i], kind[i] == 1 ? H5T_NATIVE_DOUBLE : st[i]) >= 0;
		if (name)
			H5free_memory(name);
	}
	if (ok && (!nrows || !row || H5Dread(ds, c, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)) {
		rc = 0;
		for (size_t r = 0; r < nrows; r++) {
			char *b = buf + r * row;
			for (size_t i = 0; i < nc; i++) {
				double *v = &t->v[r * nc + i];
				if (kind[i] == 1) {
					memcpy(v, b + off[i], sizeof(double));
				} else if (kind[i]) {
					char *s = kind[i] == 2 ? *(char **)(b + off[i]) : b + off[i];
					t->strs[r * nc + i] = strdup(s ? s : "");
					*v = NAN;
					if (kind[i] == 2 && s)
						H5free_memory(s);
				} else {
					*v = NAN;
				}
			}
		}
	}
	free(buf);
	if (c >= 0)
		H5Tclose(c);
	for (size_t i = 0; i < nc; i++)
		if (kind[i] >= 2)
			H5Tclose(st[i]);
	free(st);
	free(kind);
	free(off);
	return rc;
}

/* struct vl_table of the first release (core/sized.h) */
#define TABLE_V1 (offsetof(struct vl_table, nattrs) + sizeof(size_t))

int vl_results_table(struct vl_results *r, const char *dset, struct vl_table *out,
		     struct vl_error *err)
{
	VL_TRY(sized_check(out, TABLE_V1, "struct vl_table", err));
	sized_clear(out, sizeof(*out));
	if (H5Lexists(r->file, dset, H5P_DEFAULT) <= 0) {
		H5Eclear2(H5E_DEFAULT);
		return vl_err(err, VL_ENOENT, "%s: no dataset %s", r->path, dset);
	}
	hid_t ds = H5Dopen2(r->file, dset, H5P_DEFAULT);
	if (ds < 0)
		return h5u_fail(err, VL_EFORMAT, r->path, "open a dataset");
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
	}
	if (read_columns(ds, ft, out->nrows, out) < 0) {
		rc = h5u_fail(err, VL_EFORMAT, r->path, "read a table");
		goto out;
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
		return h5u_fail(err, VL_EFORMAT, r->path, "open an object");
	*out = h5u_attr_get(o, name);
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
		return h5u_fail(err, VL_EFORMAT, r->path, "open a group");
	struct names nm = { 0 };
	hsize_t idx = 0;
	herr_t e = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, name_cb, &nm);
	H5Gclose(g);
	if (e < 0) {
		vl_results_names_free(nm.v, nm.n);
		return h5u_fail(err, VL_EFORMAT, r->path, "list a group");
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
