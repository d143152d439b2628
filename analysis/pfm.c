/* analysis/pfm.c - event counting through libpfm4 and perf_event_open.
 *
 * libpfm4's <perfmon/pfmlib_perf_event.h> brings its own perf_event_attr
 * and a perf_event_open() wrapper, so <linux/perf_event.h> is not included
 * here (the two definitions clash).  Debian ships no <perfmon/err.h>; the
 * library's own API is all we use.
 *
 * Every event gets its own descriptor, opened disabled, with
 * read_format = TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING so a multiplexed
 * count can be scaled.  Fault events are counted at user and kernel level
 * (PFM_PLM3 | PFM_PLM0) unless the name carries :u / :k: a fault taken
 * while the kernel copies into an untouched user buffer is a kernel-mode
 * fault, and `perf stat` counts both (reference notes B.5).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <perfmon/pfmlib_perf_event.h>

#include "analysis/pfm.h"

static int pfm_ready; /* 0 not tried, 1 ok, -1 failed (pfm_err_t kept below) */
static int pfm_init_ret;

int vl_pfm_init(struct vl_error *err)
{
	if (pfm_ready == 0) {
		pfm_init_ret = pfm_initialize();
		pfm_ready = pfm_init_ret == PFM_SUCCESS ? 1 : -1;
	}
	if (pfm_ready < 0)
		return vl_err(err, VL_EINVAL, "libpfm4 initialisation failed: %s",
			      pfm_strerror(pfm_init_ret));
	return 0;
}

const char *vl_pfm_state_name(int state)
{
	switch (state) {
	case VL_PFM_NEW: return "not opened";
	case VL_PFM_OPEN: return "open";
	case VL_PFM_UNKNOWN: return "unknown event";
	case VL_PFM_UNSUPPORTED: return "not supported";
	case VL_PFM_DENIED: return "permission denied";
	default: return "failed";
	}
}

int vl_pfm_parse(struct vl_pfm_set *s, const char *list, struct vl_error *err)
{
	s->ev = NULL;
	s->n = 0;
	if (!list || !*list)
		return vl_err(err, VL_EINVAL, "empty event list");
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	s->ev = calloc(cap, sizeof(*s->ev));
	if (!s->ev)
		return vl_err(err, VL_ENOMEM, "out of memory for %zu events", cap);
	const char *p = list;
	for (size_t i = 0; i < cap; i++) {
		const char *q = strchr(p, ',');
		size_t len = q ? (size_t)(q - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(s->ev[i].name)) {
			vl_err(err, VL_EINVAL, "event list '%s': event %zu is %s", list, i + 1,
			       len ? "too long" : "empty");
			vl_pfm_free(s);
			return VL_EINVAL;
		}
		struct vl_pfm_event *e = &s->ev[s->n++];
		memcpy(e->name, p, len);
		e->name[len] = 0;
		e->fd = -1;
		p = q ? q + 1 : p + len;
	}
	return 0;
}

void vl_pfm_close(struct vl_pfm_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ev[i].fd >= 0) {
			close(s->ev[i].fd);
			s->ev[i].fd = -1;
		}
}

void vl_pfm_free(struct vl_pfm_set *s)
{
	if (!s->ev)
		return;
	vl_pfm_close(s);
	free(s->ev);
	s->ev = NULL;
	s->n = 0;
}

bool vl_pfm_have_core_pmu(void)
{
	static const char *const dirs[] = { "/sys/bus/event_source/devices/cpu",
					    "/sys/bus/event_source/devices/cpu_core",
					    "/sys/bus/event_source/devices/cpu_atom" };
	struct stat st;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (stat(dirs[i], &st) == 0)
			return true;
	return false;
}

static int paranoid_level(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = -99;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -99;
		fclose(f);
	}
	return v;
}

/* Fill e->state and e->why for a perf_event_open failure with errno en. */
static void open_failed(struct vl_pfm_event *e, int en)
{
	bool hw = e->type != PERF_TYPE_SOFTWARE && e->type != PERF_TYPE_TRACEPOINT;
	if (en == EACCES || en == EPERM) {
		e->state = VL_PFM_DENIED;
		snprintf(e->why, sizeof(e->why),
			 "permission denied (%s; kernel.perf_event_paranoid = %d)", strerror(en),
			 paranoid_level());
	} else if (hw && (en == ENOENT || en == EOPNOTSUPP || en == ENODEV || en == EINVAL) &&
		   !vl_pfm_have_core_pmu()) {
		e->state = VL_PFM_UNSUPPORTED;
		snprintf(e->why, sizeof(e->why),
			 "not supported: " VL_PFM_NO_PMU "; perf_event_open: %s",
			 strerror(en));
	} else if (en == ENOENT || en == EOPNOTSUPP || en == ENODEV) {
		e->state = VL_PFM_UNSUPPORTED;
		snprintf(e->why, sizeof(e->why), "not supported by this kernel or CPU (%s)",
			 strerror(en));
	} else {
		e->state = VL_PFM_FAILED;
		snprintf(e->why, sizeof(e->why), "perf_event_open failed: %s", strerror(en));
	}
}

/* Does name carry a "PMU::" prefix that libpfm4 knows but does not detect
 * on this machine? */
static bool pmu_absent(const char *name)
{
	const char *sep = strstr(name, "::");
	if (!sep)
		return false;
	pfm_pmu_info_t info;
	for (int p = PFM_PMU_NONE + 1; p < PFM_PMU_MAX; p++) {
		memset(&info, 0, sizeof(info));
		info.size = sizeof(info);
		if (pfm_get_pmu_info((pfm_pmu_t)p, &info) != PFM_SUCCESS || !info.name)
			continue;
		if (strlen(info.name) == (size_t)(sep - name) && !strncmp(info.name, name, (size_t)(sep - name)))
			return !info.is_present;
	}
	return false;
}

/* Encode e into attr; false (state and why set) when libpfm4 refuses. */
static bool encode(struct vl_pfm_event *e, struct perf_event_attr *attr)
{
	pfm_perf_encode_arg_t arg;
	char *fstr = NULL;
	memset(attr, 0, sizeof(*attr));
	memset(&arg, 0, sizeof(arg));
	arg.attr = attr;
	arg.fstr = &fstr;
	arg.size = sizeof(arg);
	int ret = pfm_get_os_event_encoding(e->name, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT,
					    &arg);
	if (ret != PFM_SUCCESS) {
		e->state = VL_PFM_UNKNOWN;
		snprintf(e->why, sizeof(e->why), "libpfm4 cannot encode it: %s%s", pfm_strerror(ret),
			 pmu_absent(e->name) ? " (its PMU is not this machine's: libpfm4 encodes "
					       "only the PMUs it detects)"
					     : "");
		free(fstr);
		return false;
	}
	snprintf(e->fstr, sizeof(e->fstr), "%s", fstr ? fstr : e->name);
	free(fstr);
	e->type = attr->type;
	e->config = attr->config;
	e->config1 = attr->config1;
	e->config2 = attr->config2;
	e->exclude_user = attr->exclude_user;
	e->exclude_kernel = attr->exclude_kernel;
	e->exclude_hv = attr->exclude_hv;
	return true;
}

int vl_pfm_encode(struct vl_pfm_set *s, struct vl_error *err)
{
	VL_TRY(vl_pfm_init(err));
	int n = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct perf_event_attr attr;
		n += encode(&s->ev[i], &attr);
	}
	return n;
}

int vl_pfm_open(struct vl_pfm_set *s, pid_t pid, bool on_exec, struct vl_error *err)
{
	VL_TRY(vl_pfm_init(err));
	int opened = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct vl_pfm_event *e = &s->ev[i];
		struct perf_event_attr attr;
		e->counted = false;
		e->fd = -1;
		if (!encode(e, &attr))
			continue;
		attr.size = sizeof(attr);
		attr.disabled = 1;
		attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
		if (on_exec) {
			attr.enable_on_exec = 1;
			attr.inherit = 1;
		}
		int fd = perf_event_open(&attr, pid, -1, -1, 0);
		if (fd < 0) {
			open_failed(e, errno);
			continue;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		e->fd = fd;
		e->state = VL_PFM_OPEN;
		e->why[0] = 0;
		opened++;
	}
	return opened;
}

void vl_pfm_start(struct vl_pfm_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ev[i].fd >= 0) {
			ioctl(s->ev[i].fd, PERF_EVENT_IOC_RESET, 0);
			ioctl(s->ev[i].fd, PERF_EVENT_IOC_ENABLE, 0);
		}
}

void vl_pfm_stop(struct vl_pfm_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->ev[i].fd >= 0)
			ioctl(s->ev[i].fd, PERF_EVENT_IOC_DISABLE, 0);
}

int vl_pfm_read(struct vl_pfm_set *s, struct vl_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct vl_pfm_event *e = &s->ev[i];
		if (e->fd < 0)
			continue;
		uint64_t v[3];
		ssize_t got = read(e->fd, v, sizeof(v));
		if (got != (ssize_t)sizeof(v)) {
			e->state = VL_PFM_FAILED;
			e->counted = false;
			snprintf(e->why, sizeof(e->why), "reading the counter failed: %s",
				 got < 0 ? strerror(errno) : "short read");
			rc = vl_err(err, VL_EIO, "event %s: %s", e->name, e->why);
			continue;
		}
		e->enabled_ns = v[1];
		e->running_ns = v[2];
		if (v[2] && v[2] != v[1])
			e->value = (uint64_t)((double)v[0] * (double)v[1] / (double)v[2] + 0.5);
		else
			e->value = v[0];
		e->counted = true;
	}
	return rc;
}

int vl_pfm_run_child(struct vl_pfm_set *s, char *const argv[], int *status,
		     struct vl_error *err)
{
	return vl_pfm_run_child_hooked(s, argv, NULL, NULL, NULL, status, err);
}

int vl_pfm_run_child_hooked(struct vl_pfm_set *s, char *const argv[], int (*pre_exec)(void *arg),
			    void (*started)(pid_t pid, void *arg), void *arg, int *status,
			    struct vl_error *err)
{
	int go[2], fail[2];
	if (pipe(go) < 0 || pipe2(fail, O_CLOEXEC) < 0)
		return vl_err(err, VL_EIO, "pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(go[0]), close(go[1]), close(fail[0]), close(fail[1]);
		return vl_err(err, VL_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char c;
		close(go[1]);
		close(fail[0]);
		/* wait until the parent has opened the counters on us */
		if (read(go[0], &c, 1) != 1)
			_exit(127);
		close(go[0]);
		/* a hook's failure is sent negated, an exec's as is */
		int en = pre_exec ? pre_exec(arg) : 0;
		if (en)
			en = -en;
		else {
			execvp(argv[0], argv);
			en = errno;
		}
		if (write(fail[1], &en, sizeof(en)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(fail[1]);
	if (started)
		started(pid, arg);
	int rc = vl_pfm_open(s, pid, true, err);
	if (rc < 0) {
		close(go[1]);
		close(fail[0]);
		waitpid(pid, status, 0);
		if (started)
			started(0, arg);
		return rc;
	}
	if (write(go[1], "g", 1) != 1) {
		/* the child is gone already; collect it below */
	}
	close(go[1]);
	int en = 0;
	ssize_t got = read(fail[0], &en, sizeof(en));
	close(fail[0]);
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	if (started)
		started(0, arg);
	if (got == (ssize_t)sizeof(en)) {
		vl_pfm_close(s);
		if (en < 0)
			return vl_err(err, VL_EIO, "cannot prepare the child for '%s': %s", argv[0],
				      strerror(-en));
		return vl_err(err, VL_ENOENT, "cannot execute '%s': %s", argv[0], strerror(en));
	}
	rc = vl_pfm_read(s, err);
	vl_pfm_close(s);
	return rc;
}
