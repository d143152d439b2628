/* analysis/cgroup.c - memory-limited cgroup and swap (analysis/cgroup.h).
 *
 * What this module made is recorded in static buffers (the cgroup's
 * directory, the swap file, the child running in the cgroup) so that
 * vl_limit_teardown can undo it from a signal handler with syscalls
 * alone.  Order of teardown: the child first (its pages leave the cgroup
 * and swap), then the cgroup, then the swap file (swapoff before unlink:
 * a swap file unlinked while active could no longer be switched off by
 * name).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analysis/cgroup.h"
#include "analysis/util.h"

#define MIB (1ull << 20)
#define SWAP_MIN_BYTES (512 * MIB)

static char g_cgroup[512];   /* "" when none */
static char g_swapfile[512]; /* "" when none */
static volatile pid_t g_child;

/* Does the space- or comma-separated list s hold word? */
static bool has_word(const char *s, const char *word, const char *seps)
{
	size_t n = strlen(word);
	for (const char *p = s; *p;) {
		size_t l = strcspn(p, seps);
		if (l == n && !strncmp(p, word, n))
			return true;
		p += l;
		p += strspn(p, seps);
	}
	return false;
}

static int read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, (int)n, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, s, strlen(s));
	int e = w < 0 ? errno : 0;
	close(fd);
	return w < 0 ? -e : 0;
}

int vl_cgroup_probe(char *mount, size_t mount_n, char *why, size_t why_n)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char v2[512] = "", v1[512] = "", line[4096];
	if (!f) {
		snprintf(why, why_n, "cannot read /proc/self/mounts: %s", strerror(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		char dev[256], dir[512], type[64], opts[2048];
		if (sscanf(line, "%255s %511s %63s %2047s", dev, dir, type, opts) != 4)
			continue;
		if (!strcmp(type, "cgroup2") && !v2[0])
			snprintf(v2, sizeof(v2), "%s", dir);
		else if (!strcmp(type, "cgroup") && !v1[0] && has_word(opts, "memory", ","))
			snprintf(v1, sizeof(v1), "%s", dir);
	}
	fclose(f);
	if (v2[0]) {
		char p[600], ctl[512];
		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", v2);
		if (read_line(p, ctl, sizeof(ctl)) == 0 && has_word(ctl, "memory", " ")) {
			snprintf(mount, mount_n, "%s", v2);
			return 2;
		}
	}
	if (v1[0]) {
		snprintf(mount, mount_n, "%s", v1);
		return 1;
	}
	snprintf(why, why_n,
		 "no memory cgroup: %s%s%s, and no cgroup v1 mount with the memory controller",
		 v2[0] ? "cgroup v2 at " : "no cgroup v2 mount", v2,
		 v2[0] ? " does not enable the memory controller (cgroup.subtree_control)" : "");
	return 0;
}

int vl_cgroup_create(struct vl_cgroup *cg, uint64_t limit_bytes, struct vl_error *err)
{
	static unsigned seq;
	char mnt[512], why[700];
	memset(cg, 0, sizeof(*cg));
	int v = vl_cgroup_probe(mnt, sizeof(mnt), why, sizeof(why));
	if (!v)
		return vl_err(err, VL_ENOENT, "%s", why);
	snprintf(cg->path, sizeof(cg->path), "%s/vmlab-limit-%ld-%u", mnt, (long)getpid(), seq++);
	if (mkdir(cg->path, 0755) < 0) {
		int e = errno;
		int rc = vl_err(err, VL_EIO, "cannot make the cgroup %s: %s%s", cg->path, strerror(e),
				e == EACCES || e == EPERM || e == EROFS ? " (needs root)" : "");
		memset(cg, 0, sizeof(*cg));
		return rc;
	}
	snprintf(g_cgroup, sizeof(g_cgroup), "%s", cg->path);
	cg->version = v;
	cg->limit_bytes = limit_bytes;
	snprintf(cg->procs, sizeof(cg->procs), "%s/cgroup.procs", cg->path);
	char file[600], val[32];
	snprintf(file, sizeof(file), "%s/%s", cg->path,
		 v == 2 ? "memory.max" : "memory.limit_in_bytes");
	snprintf(val, sizeof(val), "%llu", (unsigned long long)limit_bytes);
	int w = write_str(file, val);
	if (w < 0) {
		int rc = vl_err(err, VL_EIO, "%s: cannot write %s: %s", file, val, strerror(-w));
		vl_cgroup_remove(cg, NULL);
		return rc;
	}
	return 0;
}

int vl_cgroup_enter(const struct vl_cgroup *cg)
{
	char pid[24];
	/* by hand: snprintf is not async-signal-safe */
	long p = (long)getpid();
	int n = 0;
	char rev[24];
	do
		rev[n++] = (char)('0' + p % 10);
	while ((p /= 10) && n < 23);
	for (int i = 0; i < n; i++)
		pid[i] = rev[n - 1 - i];
	pid[n] = 0;
	return write_str(cg->procs, pid);
}

uint64_t vl_cgroup_peak(const struct vl_cgroup *cg)
{
	char file[600], val[64];
	snprintf(file, sizeof(file), "%s/%s", cg->path,
		 cg->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes");
	if (read_line(file, val, sizeof(val)) < 0)
		return 0;
	return strtoull(val, NULL, 10);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int vl_cgroup_remove(struct vl_cgroup *cg, struct vl_error *err)
{
	int rc = 0;
	if (cg->path[0]) {
		/* an exiting process keeps the cgroup busy for a moment */
		int tries = 0;
		while (rmdir(cg->path) < 0) {
			if ((errno != EBUSY && errno != EAGAIN) || ++tries > 300) {
				if (errno != ENOENT)
					rc = vl_err(err, VL_EIO, "cannot remove the cgroup %s: %s",
						    cg->path, strerror(errno));
				break;
			}
			nap_ms(10);
		}
		if (!strcmp(g_cgroup, cg->path))
			g_cgroup[0] = 0;
	}
	memset(cg, 0, sizeof(*cg));
	return rc;
}

/* ---- swap ---- */

/* Active swap in bytes (/proc/swaps), and the name of the area used
 * first (au_swaps). */
static uint64_t host_swap(char *first, size_t n)
{
	struct au_swap sw[AU_MAX_SWAPS];
	int at;
	size_t k = au_swaps(sw, AU_MAX_SWAPS, &at);
	uint64_t total = 0;
	for (size_t i = 0; i < k; i++)
		total += sw[i].kib << 10;
	snprintf(first, n, "%s", at >= 0 ? sw[at].name : "");
	return total;
}

static bool find_prog(const char *name, char *out, size_t n)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	const char *path = getenv("PATH");
	for (const char *p = path ? path : ""; *p;) {
		size_t l = strcspn(p, ":");
		snprintf(out, n, "%.*s/%s", (int)l, p, name);
		if (l && access(out, X_OK) == 0)
			return true;
		p += l + (p[l] == ':');
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(out, n, "%s/%s", dirs[i], name);
		if (access(out, X_OK) == 0)
			return true;
	}
	return false;
}

/* Fill fd with bytes of zeros (a swap file may have no holes). */
static int write_zeros(int fd, uint64_t bytes)
{
	static const char zero[1 << 16];
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	for (uint64_t o = 0; o < bytes; o += sizeof(zero)) {
		size_t w = bytes - o < sizeof(zero) ? (size_t)(bytes - o) : sizeof(zero);
		if (write(fd, zero, w) != (ssize_t)w)
			return -(errno ? errno : ENOSPC);
	}
	return fsync(fd) < 0 ? -errno : 0;
}

static int run_mkswap(const char *path, char *why, size_t why_n)
{
	char prog[512];
	if (!find_prog("mkswap", prog, sizeof(prog))) {
		snprintf(why, why_n, "mkswap (util-linux) is not installed");
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, why_n, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);
		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execl(prog, "mkswap", path, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, why_n, "%s %s failed (status %d)", prog, path,
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		return -1;
	}
	return 0;
}

int vl_swap_ensure(struct vl_swap *sw, uint64_t limit_bytes, const char *dir,
		   struct vl_error *err)
{
	char first[512];
	memset(sw, 0, sizeof(*sw));
	uint64_t have = host_swap(first, sizeof(first));
	if (have) {
		sw->bytes = have;
		snprintf(sw->desc, sizeof(sw->desc), "the host's swap (%s, %llu MiB)", first,
			 (unsigned long long)(have / MIB));
		return 0;
	}
	if (geteuid() != 0)
		return vl_err(err, VL_ENOENT,
			      "no swap is active and only root can add a temporary swap file");
	if (!dir) {
		dir = getenv("VMLAB_SWAP_DIR");
		if (!dir || !*dir)
			dir = "/var/tmp";
	}
	uint64_t bytes = 2 * limit_bytes;
	bytes = (bytes + MIB - 1) & ~(MIB - 1);
	if (bytes < SWAP_MIN_BYTES)
		bytes = SWAP_MIN_BYTES;
	snprintf(sw->path, sizeof(sw->path), "%s/vmlab-swap-XXXXXX", dir);
	int fd = mkstemp(sw->path);
	if (fd < 0) {
		int rc = vl_err(err, VL_EIO, "cannot make a swap file in %s: %s", dir, strerror(errno));
		memset(sw, 0, sizeof(*sw));
		return rc;
	}
	snprintf(g_swapfile, sizeof(g_swapfile), "%s", sw->path);
	char why[600] = "";
	int rc = 0;
	if (fchmod(fd, 0600) < 0 || fallocate(fd, 0, 0, (off_t)bytes) < 0) {
		int w = write_zeros(fd, bytes);
		if (w < 0)
			snprintf(why, sizeof(why), "cannot write %llu MiB to %s: %s",
				 (unsigned long long)(bytes / MIB), sw->path, strerror(-w));
	}
	close(fd);
	if (!why[0] && run_mkswap(sw->path, why, sizeof(why)) == 0 && swapon(sw->path, 0) < 0) {
		/* a file system that refuses preallocated extents: write it */
		int e = errno;
		bool ok = false;
		fd = e == EINVAL ? open(sw->path, O_WRONLY | O_CLOEXEC) : -1;
		if (fd >= 0) {
			ok = write_zeros(fd, bytes) == 0;
			ok = close(fd) == 0 && ok;
			ok = ok && run_mkswap(sw->path, why, sizeof(why)) == 0 && swapon(sw->path, 0) == 0;
		}
		if (!ok && !why[0])
			snprintf(why, sizeof(why), "swapon %s: %s", sw->path, strerror(e));
	}
	if (!why[0])
		goto on;
	rc = vl_err(err, VL_EIO, "%s", why);
	unlink(sw->path);
	g_swapfile[0] = 0;
	memset(sw, 0, sizeof(*sw));
	return rc;
on:
	sw->temporary = true;
	sw->bytes = bytes;
	snprintf(sw->desc, sizeof(sw->desc), "a temporary swap file (%s, %llu MiB)", sw->path,
		 (unsigned long long)(bytes / MIB));
	return 0;
}

int vl_swap_release(struct vl_swap *sw, struct vl_error *err)
{
	int rc = 0;
	if (sw->temporary) {
		if (swapoff(sw->path) < 0 && errno != EINVAL) {
			rc = vl_err(err, VL_EIO,
				    "swapoff %s: %s (the swap file is left; switch it off and "
				    "remove it by hand)",
				    sw->path, strerror(errno));
		} else if (unlink(sw->path) < 0 && errno != ENOENT) {
			rc = vl_err(err, VL_EIO, "cannot remove %s: %s", sw->path, strerror(errno));
		}
		if (!strcmp(g_swapfile, sw->path))
			g_swapfile[0] = 0;
	}
	memset(sw, 0, sizeof(*sw));
	return rc;
}

void vl_limit_child(pid_t pid)
{
	g_child = pid;
}

void vl_limit_teardown(void)
{
	pid_t c = g_child;
	if (c > 0) {
		/* SIGTERM first, to its process group when it leads one (a
		 * program it started too: a workload's child), and a moment to
		 * go: vmlab capture passes it on to the processes it traces,
		 * which lead their own group; then SIGKILL */
		if (kill(-c, SIGTERM) < 0)
			kill(c, SIGTERM);
		pid_t w = 0;
		for (int i = 0; i < 50 && (w = waitpid(c, NULL, WNOHANG)) == 0; i++) {
			struct timespec ts = { 0, 10000000L };
			nanosleep(&ts, NULL);
		}
		/* what is left of its group; the child itself unless reaped */
		if (kill(-c, SIGKILL) < 0 && w == 0)
			kill(c, SIGKILL);
		while (w == 0 && waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
		g_child = 0;
	}
	if (g_cgroup[0]) {
		for (int i = 0; i < 300 && rmdir(g_cgroup) < 0 && errno == EBUSY; i++) {
			struct timespec ts = { 0, 10000000L };
			nanosleep(&ts, NULL);
		}
		g_cgroup[0] = 0;
	}
	if (g_swapfile[0]) {
		if (swapoff(g_swapfile) == 0 || errno == EINVAL)
			unlink(g_swapfile);
		g_swapfile[0] = 0;
	}
}
