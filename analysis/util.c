/* analysis/util.c - small helpers the analysis modules share (util.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/util.h"

char *au_trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* ---- lists of strings ---- */

int au_strv_push(struct au_strv *sv, const char *s)
{
	if (sv->n == sv->cap) {
		size_t nc = sv->cap ? 2 * sv->cap : 8;
		char **nv = realloc(sv->v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		sv->v = nv;
		sv->cap = nc;
	}
	if (!(sv->v[sv->n] = strdup(s)))
		return -1;
	sv->n++;
	return 0;
}

void au_strs_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void au_strv_free(struct au_strv *sv)
{
	au_strs_free(sv->v, sv->n);
	memset(sv, 0, sizeof(*sv));
}

/* ---- a growing text ---- */

void au_bprintf(struct au_buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *np = realloc(b->p, nc);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
}

char *au_buf_take(struct au_buf *b)
{
	char *p = b->p;
	if (b->oom) {
		free(p);
		p = NULL;
	}
	memset(b, 0, sizeof(*b));
	return p;
}

/* ---- files ---- */

char *au_read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n < cap - 1) {
			if (ferror(f)) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

size_t au_swaps(struct au_swap *out, size_t max, int *first)
{
	*first = -1;
	FILE *f = fopen("/proc/swaps", "r");
	if (!f)
		return 0;
	char line[1024];
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		struct au_swap *s = &out[n];
		unsigned long long used;
		if (sscanf(line, "%399s %31s %llu %llu %ld", s->name, s->type, &s->kib, &used,
			   &s->prio) != 5)
			continue; /* the header */
		if (*first < 0 || s->prio > out[*first].prio)
			*first = (int)n;
		n++;
	}
	fclose(f);
	return n;
}

int au_check_replace(const char *path, struct vl_error *err)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0; /* created new (or an error when it is written) */
	if (!S_ISREG(st.st_mode))
		return vl_err(err, VL_EINVAL,
			      "%s: not a regular file (a %s); vmlab writes a new file and renames it "
			      "over its output, which would replace it: give a file's path",
			      path,
			      S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device"
			      : S_ISFIFO(st.st_mode)			  ? "FIFO"
			      : S_ISDIR(st.st_mode)			  ? "directory"
									  : "special file");
	/* renaming over it needs only the directory: refuse what the user
	 * could not write in place */
	if (access(path, W_OK) != 0)
		return vl_err(err, VL_EINVAL, "%s: not writable (%s); refusing to replace it", path,
			      strerror(errno));
	return 0;
}

char *au_tmp_template(const char *path)
{
	char *d = strdup(path), *b = strdup(path);
	size_t tl = strlen(path) + 32;
	char *tmp = d && b ? malloc(tl) : NULL;
	if (tmp)
		snprintf(tmp, tl, "%s/.%s.tmp-XXXXXX", dirname(d), basename(b));
	free(d);
	free(b);
	return tmp;
}

int au_mkstemp(char *tmpl, struct vl_error *err)
{
	int fd = mkstemp(tmpl);
	if (fd < 0)
		return vl_err(err, VL_EIO, "%s: cannot create: %s", tmpl, strerror(errno));
	mode_t um = umask(0);
	umask(um);
	fchmod(fd, 0666 & ~um);
	return fd;
}

int au_sync_rename(const char *tmp, const char *path, struct vl_error *err)
{
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	int rc = 0;
	if (fd < 0 || fsync(fd) < 0)
		rc = vl_err(err, VL_EIO, "%s: cannot sync: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = vl_err(err, VL_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	return rc;
}

int au_write_atomic(const char *path, const char *text, struct vl_error *err)
{
	VL_TRY(au_check_replace(path, err));
	char *tmp = au_tmp_template(path);
	if (!tmp)
		return vl_err(err, VL_ENOMEM, "out of memory");
	int fd = au_mkstemp(tmp, err);
	if (fd < 0) {
		free(tmp);
		return fd;
	}
	size_t n = strlen(text), off = 0;
	int rc = 0;
	while (off < n) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0) {
			rc = vl_err(err, VL_EIO, "%s: cannot write: %s", tmp, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	close(fd);
	if (rc == 0)
		rc = au_sync_rename(tmp, path, err);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int au_mkdir_p(const char *dir, struct vl_error *err)
{
	char *p = strdup(dir);
	if (!p)
		return vl_err(err, VL_ENOMEM, "out of memory");
	for (char *s = p + (*p != '\0');; s++) { /* "" fails in mkdir, not past its end */
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				int rc = vl_err(err, VL_EIO, "%s: cannot create directory: %s", p,
						strerror(errno));
				free(p);
				return rc;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return vl_err(err, VL_EIO, "%s: not a directory", dir);
	return 0;
}

char *au_path_join(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return strdup(rel);
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, rel);
	return p;
}
