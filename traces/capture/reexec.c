/* traces/capture/reexec.c - vmlab-reexec.so: follow exec'd programs under
 * qemu.
 *
 * qemu-user runs a guest's execve natively: the new program would leave
 * the capture.  vmlab capture therefore starts the traced program with
 * LD_PRELOAD naming this library and VMLAB_QEMU / VMLAB_QEMU_PLUGIN naming
 * qemu-x86_64 and the plugin's arguments.  The environment passes through
 * every exec, so each dynamically linked program the capture starts loads
 * this library first, and its constructor decides:
 *
 *   - inside qemu (the traced guest itself, or qemu's own process): do
 *     nothing.  Such a process's host name (/proc/self/comm, which qemu
 *     does not emulate) is qemu's, "qemu-x86_64";
 *   - else (a program exec'd natively by a traced guest, or by a forked
 *     one): exec qemu-x86_64 -0 ARGV0 -plugin PLUGIN,cmd=COMMAND EXE ARGS
 *     with the same pid and environment, so the program runs traced from
 *     its first instruction, and the plugin continues this pid's stream.
 *
 * Not followed (said in docs/trace-format.md): statically linked and
 * set-user-ID programs (the loader ignores LD_PRELOAD), and programs
 * exec'd with an environment that drops these variables.  The library
 * itself is mapped in every traced process (a few pages of one file); the
 * qemu plugin leaves its mappings, and accesses to them, out of the trace.
 */

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* qemu-user ends a process that dies of a signal with kill(getpid(), sig)
 * after its plugins' exit callbacks (or without them, in QEMU 7.2): the
 * plugin registers a hook here that finishes its file first, so a crashed
 * or interrupted program keeps its trace.  kill() of this library
 * interposes libc's in qemu (and in traced programs, where no hook is
 * set and it is a plain kill). */
static void (*fatal_hook)(void);

__attribute__((visibility("default"))) void vmlab_set_fatal_hook(void (*hook)(void))
{
	fatal_hook = hook;
}

__attribute__((visibility("default"))) int kill(pid_t pid, int sig)
{
	if (fatal_hook && sig != 0 && pid == getpid()) {
		void (*h)(void) = fatal_hook;
		fatal_hook = NULL;
		h();
	}
	return (int)syscall(SYS_kill, pid, sig);
}

static int under_qemu(void)
{
	char comm[32] = "";
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* cannot tell: do not loop */
	ssize_t n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	return strncmp(comm, "qemu-x86_64", 11) == 0;
}

__attribute__((constructor)) static void vmlab_reexec(int argc, char **argv, char **envp)
{
	const char *qemu = getenv("VMLAB_QEMU"), *plugin = getenv("VMLAB_QEMU_PLUGIN");
	if (!qemu || !plugin || !*qemu || !*plugin || argc < 1 || under_qemu())
		return;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	/* the command line for the trace's metadata: qemu splits plugin
	 * arguments at commas */
	char cmd[1024];
	size_t used = 0;
	for (int i = 0; i < argc && used + 1 < sizeof(cmd); i++) {
		for (const char *p = i ? " " : ""; *p && used + 1 < sizeof(cmd); p++)
			cmd[used++] = *p;
		for (const char *p = argv[i]; *p && used + 1 < sizeof(cmd); p++)
			cmd[used++] = *p == ',' ? ';' : *p;
	}
	cmd[used] = '\0';
	size_t plen = strlen(plugin) + strlen(cmd) + 8;
	char *parg = malloc(plen);
	char **nargv = calloc((size_t)argc + 8, sizeof(*nargv));
	if (!parg || !nargv)
		return;
	snprintf(parg, plen, "%s,cmd=%s", plugin, cmd);
	int k = 0;
	nargv[k++] = (char *)qemu;
	nargv[k++] = "-0";
	nargv[k++] = argv[0];
	nargv[k++] = "-plugin";
	nargv[k++] = parg;
	nargv[k++] = exe;
	for (int i = 1; i < argc; i++)
		nargv[k++] = argv[i];
	nargv[k] = NULL;
	execve(qemu, nargv, envp);
	/* qemu could not start: run natively, untraced */
	free(parg);
	free(nargv);
}
