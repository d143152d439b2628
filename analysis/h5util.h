/* analysis/h5util.h - helpers shared by analysis/h5.c (writer) and
 * analysis/h5read.c (reader).  Not part of any public API.
 */
#ifndef VMLAB_ANALYSIS_H5UTIL_H
#define VMLAB_ANALYSIS_H5UTIL_H

#include <hdf5.h>

#include "vmlab/results.h"

/* Turn HDF5's automatic error printing off (once); opens the library. */
void h5u_quiet(void);
/* Map the HDF5 error stack to err: "PATH: cannot WHAT: DETAIL"; returns code. */
int h5u_fail(struct vl_error *err, int code, const char *path, const char *what);
/* Current UTC time, ISO 8601. */
void h5u_now_iso(char *buf, size_t len);
/* A fixed-length NUL-terminated string type of len bytes (caller closes). */
hid_t h5u_str_type(size_t len);
/* Scalar attributes, replaced when present.  Return 0 or -1. */
int h5u_attr_write(hid_t obj, const char *name, hid_t type, const void *val);
int h5u_attr_str(hid_t obj, const char *name, const char *val);
int h5u_attr_u64(hid_t obj, const char *name, uint64_t v);
int h5u_attr_f64(hid_t obj, const char *name, double v);
/* An attribute as malloc'd text (strings as they are, scalars formatted);
 * NULL when absent or of another shape. */
char *h5u_attr_text(hid_t a);
char *h5u_attr_get(hid_t obj, const char *name);
/* The memory type of struct vl_summary_row (caller closes). */
hid_t h5u_summary_type(void);
/* 0 when f (opened from path) is a complete vmlab results file, else
 * VL_EFORMAT saying why. */
int h5u_check_complete(const char *path, hid_t f, struct vl_error *err);

/* Files we write live in memory (HDF5's core driver without a backing
 * store) and reach the disk only through h5u_mem_save's own write(2)s.  A
 * full disk is then an error of ours, reported and cleaned up; a write
 * failing inside libhdf5 1.10 instead leaves a half-closed file that its
 * exit handler crashes on (H5F__close_cb), whatever the caller closes.
 * h5u_mem_create: a new empty file named name (nothing is created on
 * disk).  h5u_mem_open: a writable copy of the file image of len bytes
 * (copied; the caller keeps its buffer).  Both return a file id or -1
 * (HDF5's error stack says why). */
hid_t h5u_mem_create(const char *name);
hid_t h5u_mem_open(const char *name, const void *image, size_t len);
/* Write the in-memory file f, flushed, to path (created or truncated) and
 * fsync it.  0, or VL_EIO/VL_ENOMEM naming path and the system's reason;
 * path is then left for the caller to remove. */
int h5u_mem_save(hid_t f, const char *path, struct vl_error *err);

#endif
