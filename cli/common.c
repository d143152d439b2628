/* cli/common.c - configuration options shared by subcommands. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/util.h"
#include "cli/cli.h"

void cli_error(const char *fmt, ...)
{
	/* one write(2) per message: parallel sweep workers share stderr, and
	 * a line written in pieces (stderr is unbuffered) can interleave with
	 * another worker's */
	char buf[4096];
	const size_t cap = sizeof(buf) - 1; /* room for the newline */
	int n = snprintf(buf, cap, "vmlab: ");
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m > 0 ? (size_t)m : 0);
	if (len > cap - 1)
		len = cap - 1; /* truncated by vsnprintf */
	buf[len++] = '\n';
	fflush(stderr);
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

int cli_cfg_option(struct cli_cfg *cc, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		if (cc->nfiles == (int)(sizeof(cc->files) / sizeof(cc->files[0]))) {
			cli_error("too many -c files");
			return -1;
		}
		cc->files[cc->nfiles++] = arg;
		return 1;
	case 's':
		if (cc->nsets == (int)(sizeof(cc->sets) / sizeof(cc->sets[0]))) {
			cli_error("too many -s settings");
			return -1;
		}
		cc->sets[cc->nsets++] = arg;
		return 1;
	case OPT_OS:
		cc->os = arg;
		return 1;
	case OPT_PLUGIN:
		if (cc->nplugins == (int)(sizeof(cc->plugins) / sizeof(cc->plugins[0]))) {
			cli_error("too many --plugin objects");
			return -1;
		}
		cc->plugins[cc->nplugins++] = arg;
		return 1;
	case OPT_MACHINE:
		cc->machine = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_load_plugins(const struct cli_cfg *cc)
{
	static int loaded; /* plug-ins of this process already registered */
	for (; loaded < cc->nplugins; loaded++) {
		struct vl_error err = { 0 };
		if (vl_plugin_load(cc->plugins[loaded], &err) < 0) {
			cli_error("--plugin: %s", err.msg);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int cli_cfg_build(const struct cli_cfg *cc, struct vl_config **out)
{
	struct vl_error err = { 0 };
	struct vl_config *cfg;
	int prc = cli_load_plugins(cc);
	if (prc)
		return prc;
	if (vl_config_new(&cfg, &err) < 0) {
		cli_error("%s", err.msg);
		return EXIT_INPUT;
	}
	/* a machine preset first: --machine NAME, or the generic default */
	if (vl_config_load_preset(cfg, "machines", cc->machine ? cc->machine : "generic", &err) < 0) {
		cli_error("--machine: %s", err.msg);
		vl_config_free(cfg);
		return EXIT_USAGE;
	}
	if (cc->os && vl_config_load_preset(cfg, "os", cc->os, &err) < 0) {
		cli_error("--os: %s", err.msg);
		vl_config_free(cfg);
		return EXIT_USAGE;
	}
	for (int i = 0; i < cc->nfiles; i++) {
		if (vl_config_load_file(cfg, cc->files[i], &err) < 0) {
			cli_error("%s", err.msg);
			vl_config_free(cfg);
			return EXIT_INPUT;
		}
	}
	for (int i = 0; i < cc->nsets; i++) {
		if (vl_config_set_arg(cfg, cc->sets[i], &err) < 0) {
			cli_error("%s", err.msg);
			vl_config_free(cfg);
			return EXIT_USAGE;
		}
	}
	cli_config_warnings(cfg);
	*out = cfg;
	return 0;
}

void cli_config_warnings(const struct vl_config *cfg)
{
	char *w = vl_config_warnings(cfg);
	for (char *line = w, *nl; line && *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		cli_error("warning: %s", line);
	}
	free(w);
	/* a memory larger than this machine: a typo (64T for 64G) more often
	 * than a plan (the model allocates 24 bytes a frame, not the memory).
	 * With the default budget the engine refuses it with its own error;
	 * a run.max_memory set by hand allows it, and this says so. */
	uint64_t bytes = vl_config_isset(cfg, "memory.size")
				 ? vl_config_u64(cfg, "memory.size")
				 : vl_config_u64(cfg, "memory.frames") * VL_PAGE_SIZE;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	if (vl_config_u64(cfg, "run.max_memory") && pages > 0 && psize > 0 &&
	    bytes > (uint64_t)pages * (uint64_t)psize)
		cli_error("warning: the modelled memory (%.1f GiB) is larger than this host's RAM "
			  "(%.1f GiB); the run models it all the same: check memory.size/memory.frames",
			  (double)bytes / (1u << 30), (double)pages * (double)psize / (1u << 30));
}

/* ---- removing a temporary results file on SIGINT/SIGTERM/SIGHUP ---- */

static const char *volatile tmp_to_remove;

static void on_signal(int sig)
{
	if (tmp_to_remove)
		unlink(tmp_to_remove);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_guard_tmp(const char *path)
{
	tmp_to_remove = path;
	if (path) {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		signal(SIGHUP, on_signal);
	}
}

/* ---- output files written whole or not at all ---- */

char *cli_out_begin(const char *path)
{
	if (!strcmp(path, "-"))
		return strdup("-");
	struct vl_error err = { 0 };
	if (au_check_replace(path, &err) < 0) {
		cli_error("%s", err.msg);
		return NULL;
	}
	char *tmp = au_tmp_template(path);
	int fd = tmp ? au_mkstemp(tmp, &err) : vl_err(&err, VL_ENOMEM, "out of memory");
	if (fd < 0) {
		cli_error("%s: cannot write it: %s", path, err.msg);
		free(tmp);
		return NULL;
	}
	close(fd);
	cli_guard_tmp(tmp);
	return tmp;
}

int cli_out_end(const char *path, char *tmp, bool ok)
{
	if (!tmp)
		return EXIT_INPUT;
	if (!strcmp(tmp, "-")) {
		free(tmp);
		return ok ? 0 : EXIT_INPUT;
	}
	struct vl_error err = { 0 };
	if (ok && au_sync_rename(tmp, path, &err) < 0) {
		cli_error("%s: not written, nothing changed: %s", path, err.msg);
		ok = false;
	}
	if (!ok)
		unlink(tmp);
	cli_guard_tmp(NULL);
	free(tmp);
	return ok ? 0 : EXIT_INPUT;
}

int cli_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

void cli_sibling(const char *name, char *out, size_t n)
{
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0) {
		snprintf(out, n, "%s", name);
		return;
	}
	self[len] = 0;
	snprintf(out, n, "%s/%s", dirname(self), name);
}
