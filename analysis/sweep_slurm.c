/* analysis/sweep_slurm.c - run a sweep's cells as a Slurm job array.
 *
 * The plan is already in DIR.  DIR/slurm/tasks has one line per array
 * task (the cells it runs, --cells-per-task of them); sweep.sbatch is an
 * `sbatch --array=0-(T-1)[%K]` script whose task i runs
 * `VMLAB sweep -o DIR --cell C` for every cell C on line i+1 of tasks;
 * collect.sbatch runs `VMLAB sweep --collect DIR` and is submitted with
 * --dependency=afterany on the array, so it merges whatever finished.
 * Scripts name DIR and the vmlab binary by absolute path (the compute
 * nodes must share both), single-quoted for sh.  Only cells not yet
 * complete are written, so submitting again submits what is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/sweep_internal.h"

extern char **environ;

bool vl_sweep_slurm_word_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == ' ' || *s == '\t' || *s == '\'' || *s == '"')
			return false;
	return true;
}

/* Print s single-quoted for sh. */
static void shq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* The #SBATCH lines of a script: job name, the array (array != NULL: one
 * CPU per task), one task, the log file, and the limits. */
static void sbatch_header(FILE *f, const char *jname, const char *array, const char *sdir,
			  const char *log, const struct vl_sweep_slurm *o)
{
	fprintf(f, "#SBATCH --job-name=%s\n", jname);
	if (array)
		fprintf(f, "#SBATCH --array=%s\n", array);
	fprintf(f, "#SBATCH --ntasks=1\n%s", array ? "#SBATCH --cpus-per-task=1\n" : "");
	fprintf(f, "#SBATCH --output=%s/logs/%s\n", sdir, log);
	if (o->partition)
		fprintf(f, "#SBATCH --partition=%s\n", o->partition);
	if (o->time)
		fprintf(f, "#SBATCH --time=%s\n", o->time);
}

static bool write_tasks(const char *path, const size_t *todo, size_t ntodo, size_t per)
{
	FILE *f = fopen(path, "w");
	for (size_t t = 0; f && t * per < ntodo; t++) {
		for (size_t j = t * per; j < ntodo && j < (t + 1) * per; j++)
			fprintf(f, "%s%zu", j == t * per ? "" : " ", todo[j]);
		fputc('\n', f);
	}
	return f && fclose(f) == 0;
}

/* "'VMLAB'ARGS'DIR' --plugin 'P'...TAIL": the vmlab command line of a
 * script.  The plan names the plug-ins too (and --cell loads them from
 * it); the command line carries them so that what a task runs is what its
 * script says. */
static void vmlab_cmd(FILE *f, const struct vl_sweep *s, const char *self, const char *args,
		      const char *dir, const char *tail)
{
	shq(f, self);
	fputs(args, f);
	shq(f, dir);
	for (size_t i = 0; i < s->nplugins; i++) {
		fputs(" --plugin ", f);
		shq(f, s->plugins[i].path);
	}
	fputs(tail, f);
}

static bool write_scripts(const struct vl_sweep *s, const struct vl_sweep_slurm *o,
			  const struct vl_sweep_slurm_job *j, const char *self, const char *sdir,
			  const char *jname)
{
	char array[64], cname[80];
	int n = snprintf(array, sizeof(array), "0-%zu", j->tasks - 1);
	if (o->max_parallel > 0)
		snprintf(array + n, sizeof(array) - (size_t)n, "%%%ld", o->max_parallel);
	snprintf(cname, sizeof(cname), "%s-collect", jname);
	FILE *f = fopen(j->script, "w");
	if (f) {
		fprintf(f, "#!/bin/sh\n");
		fprintf(f, "# vmlab sweep %s: %zu cells in %zu array tasks (written by vmlab sweep --slurm)\n",
			s->name, j->todo, j->tasks);
		sbatch_header(f, jname, array, sdir, "%A_%a.out", o);
		fprintf(f, "set -u\ncells=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" ");
		shq(f, sdir);
		fprintf(f, "/tasks)\nrc=0\nfor i in $cells; do\n\t");
		vmlab_cmd(f, s, self, " sweep -o ", j->dir, " --cell \"$i\" || rc=1\ndone\nexit $rc\n");
	}
	bool ok = f && fclose(f) == 0;
	FILE *g = ok ? fopen(j->collect, "w") : NULL;
	if (g) {
		fprintf(g, "#!/bin/sh\n# merge the cells of vmlab sweep %s once its array is done\n",
			s->name);
		sbatch_header(g, cname, NULL, sdir, "collect-%j.out", o);
		vmlab_cmd(g, s, self, " sweep --collect ", j->dir, "\n");
	}
	return g && fclose(g) == 0 && ok;
}

int vl_sweep_slurm_write(const struct vl_sweep *s, const char *dir, const struct vl_sweep_slurm *o,
			 struct vl_sweep_slurm_job *j, struct vl_error *err)
{
	memset(j, 0, sizeof(*j));
	if (o->cells_per_task < 1 || o->max_parallel < 0 ||
	    (o->partition && (!*o->partition || !vl_sweep_slurm_word_ok(o->partition))) ||
	    (o->time && (!*o->time || !vl_sweep_slurm_word_ok(o->time))))
		return vl_err(err, VL_EINVAL,
			      "Slurm options: a partition and a time are one word without quotes or "
			      "blanks, at least one cell per task");
	char self[sizeof(j->dir)], sdir[sizeof(j->dir) + 16], p[sizeof(j->dir) + 64];
	ssize_t sl = -1;
	if (o->vmlab && strlen(o->vmlab) < sizeof(self))
		sl = snprintf(self, sizeof(self), "%s", o->vmlab);
	else if (!o->vmlab && (sl = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0)
		self[sl] = '\0';
	if (sl <= 0 || !realpath(dir, j->dir))
		return vl_err(err, VL_EIO, "cannot resolve the vmlab binary or %s", dir);
	snprintf(sdir, sizeof(sdir), "%s/slurm", j->dir);
	snprintf(p, sizeof(p), "%s/logs", sdir);
	mkdir(sdir, 0777);
	mkdir(p, 0777);

	size_t *todo = sweep_todo(s, j->dir, &j->todo, NULL);
	if (!todo)
		return vl_err(err, VL_ENOMEM, "out of memory");
	if (j->todo == 0) {
		free(todo);
		return 0;
	}
	/* a job name of safe characters only */
	char jname[64];
	snprintf(jname, sizeof(jname), "vmlab-%s", s->name);
	for (char *q = jname; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
		      *q == '-' || *q == '_' || *q == '.'))
			*q = '_';
	size_t per = (size_t)o->cells_per_task;
	j->tasks = (j->todo + per - 1) / per;

	snprintf(p, sizeof(p), "%s/tasks", sdir);
	bool ok = write_tasks(p, todo, j->todo, per);
	free(todo);
	if (!ok)
		return vl_err(err, VL_EIO, "%s: cannot write", p);
	snprintf(j->script, sizeof(j->script), "%s/sweep.sbatch", sdir);
	snprintf(j->collect, sizeof(j->collect), "%s/collect.sbatch", sdir);
	if (!write_scripts(s, o, j, self, sdir, jname))
		return vl_err(err, VL_EIO, "%s: cannot write the Slurm scripts", sdir);
	chmod(j->script, 0755);
	chmod(j->collect, 0755);
	return 0;
}

/* Run `sbatch --parsable [dep] script`; the job id (the first line of its
 * output, up to a ';' cluster suffix) goes to id.  Returns sbatch's exit
 * status, -1 when it died of a signal, or VL_EIO (err set) when it could
 * not be started. */
static int sbatch(const char *dep, const char *script, char *id, size_t len,
		  struct vl_error *err)
{
	char *argv[] = { "sbatch", "--parsable", (char *)(dep ? dep : script),
			 dep ? (char *)script : NULL, NULL };
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vl_err(err, VL_EIO, "cannot run sbatch: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	pid_t pid;
	int e = posix_spawnp(&pid, "sbatch", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (e) {
		close(p[0]);
		return vl_err(err, VL_EIO, "cannot run sbatch: %s", strerror(e));
	}
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(p[0], id + n, len - 1 - n)) > 0)
		n += (size_t)r;
	id[n] = '\0';
	char drain[256];
	while (read(p[0], drain, sizeof(drain)) > 0)
		;
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	id[strcspn(id, "\n;")] = '\0';
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int vl_sweep_slurm_submit(struct vl_sweep_slurm_job *j, struct vl_error *err)
{
	char out[256];
	int rc = sbatch(NULL, j->script, out, sizeof(out), err);
	if (rc == VL_EIO)
		return rc;
	if (rc != 0 || !*out || strspn(out, "0123456789") != strlen(out))
		return vl_err(err, VL_EIO, "sbatch %s failed (exit %d)%s%s", j->script, rc,
			      *out ? ": " : "", out);
	snprintf(j->array_id, sizeof(j->array_id), "%s", out);
	char dep[96];
	snprintf(dep, sizeof(dep), "--dependency=afterany:%s", j->array_id);
	rc = sbatch(dep, j->collect, out, sizeof(out), err);
	if (rc == VL_EIO) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		return vl_err(err, VL_EIO,
			      "array job %s submitted, but %s; run `vmlab sweep --collect %s` when "
			      "it is done",
			      j->array_id, why, j->dir);
	}
	if (rc != 0 || !*out)
		return vl_err(err, VL_EIO,
			      "array job %s submitted, but sbatch %s failed (exit %d); run "
			      "`vmlab sweep --collect %s` when it is done",
			      j->array_id, j->collect, rc, j->dir);
	snprintf(j->collect_id, sizeof(j->collect_id), "%s", out);
	char p[sizeof(j->dir) + 32];
	snprintf(p, sizeof(p), "%s/slurm/jobs", j->dir);
	FILE *f = fopen(p, "w");
	if (f) {
		fprintf(f, "array %s\ncollect %s\n", j->array_id, j->collect_id);
		fclose(f);
	}
	return 0;
}
