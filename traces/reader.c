/* traces/reader.c - opening traces, format detection, the text driver.
 *
 * Bytes come through a byte source (traces/source.c: plain, gzip, zstd or
 * xz by magic bytes; stdin for the path "-") into a buffer of at least
 * 1 MiB.  The text driver splits the buffer into lines with memchr and
 * hands each line to the format's parse_line, stopping when the batch
 * cannot take another line's worth of records.  Binary formats pull bytes
 * from the same buffer (vl_trace_peek), which grows when one asks for more
 * than it holds.  Detection reads the first block into the buffer and asks
 * every format's probe; the block stays in the buffer, so stdin can be
 * detected too.  A raw or .vmt trace in a plain regular file is then read
 * from a mapping of the whole file instead (map_file), which the format
 * sees as one buffer holding everything.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "traces/internal.h"

#define BUF_SIZE (1u << 20)
#define BUF_MAX (256u << 20) /* largest contiguous block a binary format may ask for */
#define PROBE_MIN 60 /* a format must accept this percentage of sample lines */

/* Binary formats first: their probes look at magic numbers and structure,
 * the text probes at lines. */
static const struct vl_trace_format *const formats[] = {
	&vl_fmt_vmt,
	&vl_fmt_addr,
	&vl_fmt_lackey,
	&vl_fmt_vmsim,
	&vl_fmt_din,
	&vl_fmt_pin,
	&vl_fmt_champsim,
	&vl_fmt_raw,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

size_t vl_trace_formats(const char **names, const char **help, size_t max)
{
	for (size_t i = 0; i < NFORMATS && i < max; i++) {
		if (names)
			names[i] = formats[i]->name;
		if (help)
			help[i] = formats[i]->help;
	}
	return NFORMATS;
}

int vl_batch_init(struct vl_batch *b, size_t cap, struct vl_error *err)
{
	memset(b, 0, sizeof(*b));
	if (cap < 2 * LINE_MAX_RECS)
		cap = 2 * LINE_MAX_RECS;
	b->recs = malloc(cap * sizeof(*b->recs));
	b->ev_cap = cap / 16 + 16;
	b->events = malloc(b->ev_cap * sizeof(*b->events));
	if (!b->recs || !b->events) {
		vl_batch_free(b);
		return vl_err(err, VL_ENOMEM, "out of memory for a batch of %zu records", cap);
	}
	b->cap = cap;
	return 0;
}

void vl_batch_free(struct vl_batch *b)
{
	free(b->recs);
	free(b->events);
	memset(b, 0, sizeof(*b));
}

/* Read more bytes after buf[end] (moving unconsumed bytes to the front);
 * returns bytes read, 0 at EOF, <0 error. */
static int fill(struct vl_trace *t, struct vl_error *err)
{
	if (t->start > 0) {
		memmove(t->buf, t->buf + t->start, t->end - t->start);
		t->end -= t->start;
		t->base += t->start;
		t->start = 0;
	}
	if (t->end == t->cap)
		return vl_err(err, VL_EFORMAT, "%s line %llu: line longer than %zu bytes", t->path,
			      (unsigned long long)t->line + 1, t->cap);
	ssize_t got = vl_src_read(t->src, t->buf + t->end, t->cap - t->end, err);
	if (got < 0) {
		char msg[VL_ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		if (t->fmt && t->fmt->parse_line)
			return vl_err(err, (int)got, "%s: %s (after line %llu)", t->path, msg,
				      (unsigned long long)t->line);
		if (t->base + t->end == 0) /* the source's offset says where */
			return vl_err(err, (int)got, "%s: %s", t->path, msg);
		return vl_err(err, (int)got, "%s: %s (after %llu bytes of decompressed data)", t->path,
			      msg, (unsigned long long)(t->base + t->end));
	}
	if (got == 0)
		t->eof = true;
	t->end += (size_t)got;
	return (int)got;
}

ssize_t vl_trace_peek(struct vl_trace *t, size_t want, const uint8_t **p, struct vl_error *err)
{
	while (t->end - t->start < want && !t->eof) {
		if (want > t->cap) {
			if (want > BUF_MAX)
				return vl_err(err, VL_ELIMIT, "%s at byte %llu: block of %zu bytes is larger "
					      "than the %u MiB limit", t->path,
					      (unsigned long long)vl_trace_pos(t), want, BUF_MAX >> 20);
			char *nb = realloc(t->buf, want + 1);
			if (!nb)
				return vl_err(err, VL_ENOMEM, "%s: out of memory for a %zu-byte block",
					      t->path, want);
			t->buf = nb;
			t->cap = want;
		}
		int rc = fill(t, err);
		if (rc < 0)
			return rc;
	}
	*p = (const uint8_t *)t->buf + t->start;
	size_t n = t->end - t->start;
	return (ssize_t)(n < want ? n : want);
}

void vl_trace_set_warning(struct vl_trace *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->warning, sizeof(t->warning), fmt, ap);
	va_end(ap);
}

const char *vl_trace_warning(const struct vl_trace *t)
{
	return t->warning[0] ? t->warning : NULL;
}

int vl_trace_add_meta(struct vl_trace *t, const char *key, const char *val, struct vl_error *err)
{
	for (size_t i = 0; i < t->nmeta; i++) {
		if (!strcmp(t->meta_keys[i], key)) {
			char *v = strdup(val);
			if (!v)
				return vl_err(err, VL_ENOMEM, "out of memory");
			free(t->meta_vals[i]);
			t->meta_vals[i] = v;
			return 0;
		}
	}
	char **k = realloc(t->meta_keys, (t->nmeta + 1) * sizeof(*k));
	if (k)
		t->meta_keys = k;
	char **v = realloc(t->meta_vals, (t->nmeta + 1) * sizeof(*v));
	if (v)
		t->meta_vals = v;
	if (!k || !v)
		return vl_err(err, VL_ENOMEM, "out of memory");
	t->meta_keys[t->nmeta] = strdup(key);
	t->meta_vals[t->nmeta] = strdup(val);
	if (!t->meta_keys[t->nmeta] || !t->meta_vals[t->nmeta]) {
		free(t->meta_keys[t->nmeta]);
		free(t->meta_vals[t->nmeta]);
		return vl_err(err, VL_ENOMEM, "out of memory");
	}
	t->nmeta++;
	return 0;
}

const char *vl_trace_meta(const struct vl_trace *t, const char *key)
{
	for (size_t i = 0; i < t->nmeta; i++)
		if (!strcmp(t->meta_keys[i], key))
			return t->meta_vals[i];
	return NULL;
}

size_t vl_trace_meta_list(const struct vl_trace *t, const char **keys, const char **vals,
			  size_t max)
{
	for (size_t i = 0; i < t->nmeta && i < max; i++) {
		if (keys)
			keys[i] = t->meta_keys[i];
		if (vals)
			vals[i] = t->meta_vals[i];
	}
	return t->nmeta;
}

const char *vl_trace_compression(const struct vl_trace *t)
{
	return vl_src_kind_name(t->src);
}

static void meta_free(struct vl_trace *t)
{
	for (size_t i = 0; i < t->nmeta; i++) {
		free(t->meta_keys[i]);
		free(t->meta_vals[i]);
	}
	free(t->meta_keys);
	free(t->meta_vals);
	t->meta_keys = t->meta_vals = NULL;
	t->nmeta = 0;
}

static void trace_free(struct vl_trace *t)
{
	if (!t)
		return;
	if (t->fmt && t->fmt->close && t->state)
		t->fmt->close(t);
	vl_src_close(t->src);
	meta_free(t);
	if (t->mapped)
		munmap(t->buf, t->cap);
	else
		free(t->buf);
	free(t->path);
	free(t);
}

void vl_trace_close(struct vl_trace *t)
{
	trace_free(t);
}

const char *vl_trace_format(const struct vl_trace *t)
{
	return t->fmt->name;
}

const char *vl_trace_path(const struct vl_trace *t)
{
	return t->path;
}

static const struct vl_trace_format *find_format(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i]->name, name))
			return formats[i];
	return NULL;
}

static void format_list(char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NFORMATS; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", formats[i]->name);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

/* A raw or .vmt trace in a plain regular file larger than the first block
 * is read from a read-only mapping of the whole file instead of through
 * the buffer: no read() copying the page cache, no copy from the source's
 * buffer, one pointer handed to the format (the yardstick loop reads its
 * input the same way; for a .vmt the copy was 7% of the decoding time).
 * Nothing is consumed yet (called before the format's open).  Any failure
 * keeps the buffered way. */
static void map_file(struct vl_trace *t)
{
	if ((t->fmt != &vl_fmt_raw && t->fmt != &vl_fmt_vmt) || t->eof || t->start || t->base ||
	    vl_src_kind(t->src) != VL_SRC_PLAIN || !strcmp(t->path, "<stdin>"))
		return;
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	void *m = MAP_FAILED;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > t->end &&
	    (uint64_t)st.st_size <= SIZE_MAX / 2)
		m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL); /* a hint */
	free(t->buf);
	t->buf = m;
	t->mapped = true;
	t->cap = t->end = (size_t)st.st_size;
	t->eof = true;
}

void vl_trace_release(struct vl_trace *t)
{
	const size_t chunk = 1u << 20; /* as much as the buffer it replaces */
	if (!t->mapped || t->start - t->released < chunk)
		return;
	size_t to = t->start & ~(chunk - 1); /* whole pages */
	if (to > t->released) {
		/* read-only private file pages: dropped now, read again if ever
		 * touched again (a rewind) */
		madvise(t->buf + t->released, to - t->released, MADV_DONTNEED);
		t->released = to;
	}
}

int vl_trace_open(struct vl_trace **out, const char *path, const char *format,
		  struct vl_error *err)
{
	char list[256];
	const struct vl_trace_format *fmt = NULL;
	format_list(list, sizeof(list));
	if (format && *format && strcmp(format, "auto")) {
		fmt = find_format(format);
		if (!fmt)
			return vl_err(err, VL_ENOENT, "unknown trace format '%s' (known: auto, %s)",
				      format, list);
	}
	bool is_stdin = !strcmp(path, "-");
	if (!is_stdin) {
		struct stat st;
		if (stat(path, &st) < 0)
			return vl_err(err, VL_ENOENT, "%s: cannot open trace: %s", path, strerror(errno));
		if (S_ISDIR(st.st_mode))
			return vl_err(err, VL_EINVAL, "%s: is a directory, expected a trace file", path);
	}
	struct vl_trace *t = calloc(1, sizeof(*t));
	if (!t)
		return vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
	t->path = strdup(is_stdin ? "<stdin>" : path);
	t->buf = malloc(BUF_SIZE + 1);
	if (!t->path || !t->buf) {
		trace_free(t);
		return vl_err(err, VL_ENOMEM, "out of memory opening %s", path);
	}
	t->cap = BUF_SIZE;
	int rc = vl_src_open(&t->src, path, err);
	if (rc < 0) {
		trace_free(t);
		return rc;
	}
	rc = fill(t, err);
	if (rc < 0) {
		trace_free(t);
		return rc;
	}
	if (!fmt) {
		int best = 0;
		for (size_t i = 0; i < NFORMATS; i++) {
			int s = formats[i]->probe(t->buf, t->end);
			if (s > best) {
				best = s;
				fmt = formats[i];
			}
		}
		if (t->end == 0) {
			fmt = &vl_fmt_addr; /* an empty trace is empty in every format */
		} else if (best < PROBE_MIN) {
			trace_free(t);
			return vl_err(err, VL_EFORMAT,
				      "%s: cannot tell the trace format from its first lines "
				      "(tried %s); give --format", path, list);
		}
	}
	t->fmt = fmt;
	map_file(t);
	if (fmt->open && (rc = fmt->open(t, err)) < 0) {
		trace_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int vl_trace_rewind(struct vl_trace *t, struct vl_error *err)
{
	if (!strcmp(t->path, "<stdin>") || vl_src_rewind(t->src, err) < 0)
		return vl_err(err, VL_EIO, "%s: cannot re-read this input (needed by a policy "
			      "that reads the trace twice, such as opt); use a file", t->path);
	if (t->fmt->close && t->state)
		t->fmt->close(t);
	t->state = NULL;
	t->start = t->released = 0;
	t->end = t->mapped ? t->cap : 0; /* a mapping holds the whole file */
	t->base = 0;
	t->line = 0;
	t->eof = t->mapped;
	t->warning[0] = '\0';
	t->in_roi = t->roi_seen = false;
	if (t->fmt->open)
		return t->fmt->open(t, err);
	return 0;
}

void vl_trace_set_roi(struct vl_trace *t, bool on)
{
	t->roi = on;
}

/* Keep events, and accesses inside a region of interest. */
static void roi_filter(struct vl_trace *t, struct vl_batch *b)
{
	size_t k = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct vl_rec *r = &b->recs[i];
		if (r->op == VL_OP_EVENT) {
			uint32_t kind = b->events[r->addr].kind;
			if (kind == VL_EV_ROI_BEGIN || kind == VL_EV_ROI_END) {
				t->in_roi = kind == VL_EV_ROI_BEGIN;
				t->roi_seen = true;
			}
		} else if (!t->in_roi) {
			continue;
		}
		b->recs[k++] = *r;
	}
	b->n = k;
}

static ssize_t read_batch(struct vl_trace *t, struct vl_batch *b, struct vl_error *err);

ssize_t vl_trace_read(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	if (!t->roi)
		return read_batch(t, b, err);
	for (;;) {
		ssize_t got = read_batch(t, b, err);
		if (got <= 0) {
			if (got == 0 && !t->roi_seen && !t->warning[0])
				vl_trace_set_warning(t, "%s: --roi: the trace has no region-of-interest "
						     "markers; no access was replayed", t->path);
			return got;
		}
		roi_filter(t, b);
		if (b->n)
			return (ssize_t)b->n;
	}
}

static ssize_t read_batch(struct vl_trace *t, struct vl_batch *b, struct vl_error *err)
{
	vl_batch_reset(b);
	if (!t->fmt->parse_line)
		return t->fmt->read(t, b, err);
	while (b->n + LINE_MAX_RECS <= b->cap && b->n_events < b->ev_cap) {
		char *s = t->buf + t->start;
		char *nl = memchr(s, '\n', t->end - t->start);
		size_t len;
		if (!nl) {
			if (!t->eof) {
				int rc = fill(t, err);
				if (rc < 0)
					return rc;
				continue;
			}
			if (t->start == t->end)
				break; /* clean end */
			len = t->end - t->start; /* last line without newline */
			s[len] = '\0';
			t->start = t->end;
		} else {
			len = (size_t)(nl - s);
			*nl = '\0';
			t->start += len + 1;
		}
		t->line++;
		int rc = t->fmt->parse_line(s, len, b, err);
		if (rc < 0) {
			char msg[VL_ERRMSG_MAX];
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
			return vl_err(err, rc, "%s line %llu: %s", t->path,
				      (unsigned long long)t->line, msg);
		}
	}
	return (ssize_t)b->n;
}

/* ---- helpers shared by the text formats ---- */

int vl_emit_access(struct vl_batch *b, uint64_t addr, uint64_t size, uint8_t op, uint32_t pid,
		   struct vl_error *err)
{
	uint64_t last = size ? addr + size - 1 : addr;
	if (last < addr)
		last = UINT64_MAX; /* wraps: clamp */
	uint64_t pages = (last >> VL_PAGE_SHIFT) - (addr >> VL_PAGE_SHIFT) + 1;
	if (pages > LINE_MAX_RECS)
		return vl_err(err, VL_EFORMAT, "access of %llu bytes spans more than %d pages",
			      (unsigned long long)size, LINE_MAX_RECS);
	for (uint64_t i = 0; i < pages; i++) {
		struct vl_rec *r = &b->recs[b->n++];
		r->addr = i ? ((addr >> VL_PAGE_SHIFT) + i) << VL_PAGE_SHIFT : addr;
		r->pid = pid;
		r->op = op;
		r->size = size > 255 ? 255 : (uint8_t)size;
		r->pad = 0;
	}
	return 0;
}

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vl_scan_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;
	if (s >= end || hexval(*s) < 0)
		return VL_EFORMAT;
	for (; s < end && (d = hexval(*s)) >= 0; s++) {
		if (v >> 60)
			return VL_EFORMAT;
		v = (v << 4) | (uint64_t)d;
	}
	*p = s;
	*out = v;
	return 0;
}

int vl_scan_dec(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	if (s >= end || *s < '0' || *s > '9')
		return VL_EFORMAT;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return VL_EFORMAT;
		v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return 0;
}

int vl_scan_num(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		int rc = vl_scan_hex(&s, end, out);
		if (rc == 0)
			*p = s;
		return rc;
	}
	return vl_scan_dec(p, end, out);
}

int vl_probe_lines(const char *buf, size_t len, bool (*ok)(const char *line, size_t len),
		   bool (*ignore)(const char *line, size_t len))
{
	unsigned judged = 0, good = 0;
	const char *s = buf, *end = buf + len;
	while (s < end && judged < 64) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			break;
		size_t n = (size_t)(nl - s);
		if (n && s[n - 1] == '\r')
			n--;
		if (!ignore(s, n)) {
			judged++;
			good += ok(s, n);
		}
		s = nl + 1;
	}
	if (judged == 0 && s < end && !memchr(s, '\n', (size_t)(end - s))) {
		/* a single line without newline: judge it */
		size_t n = (size_t)(end - s);
		if (!ignore(s, n)) {
			judged++;
			good += ok(s, n);
		}
	}
	return judged ? (int)(good * 100 / judged) : 0;
}

int vl_trace_bytes(const struct vl_trace *t, uint64_t *done, uint64_t *total)
{
	struct stat st;
	*done = t->mapped ? t->start : t->src ? vl_src_offset(t->src) : 0;
	*total = 0;
	if (strcmp(t->path, "<stdin>") && stat(t->path, &st) == 0 && S_ISREG(st.st_mode))
		*total = (uint64_t)st.st_size;
	return 0;
}
