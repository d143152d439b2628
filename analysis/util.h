/* analysis/util.h - small helpers the analysis modules share: whole files
 * read and written atomically, directories, paths, lists of strings and a
 * growing text buffer.  Not part of any public API.
 *
 * Files are written the crash-safe way the results files are: to a hidden
 * temporary name in the target's own directory (".NAME.tmp-XXXXXX", the
 * pattern a sweep removes when a killed run left one behind), synced, then
 * renamed over the target, so a file that exists is complete.
 */
#ifndef VMLAB_ANALYSIS_UTIL_H
#define VMLAB_ANALYSIS_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "vmlab/error.h"

/* Strip spaces and tabs at both ends and CR/LF at the end, in place;
 * returns the first kept character. */
char *au_trim(char *s);

/* A growing list of malloc'd strings; { 0 } is an empty list. */
struct au_strv {
	char **v;
	size_t n, cap;
};
/* Append a copy of s.  Returns 0, or -1 when out of memory (sv unchanged). */
int au_strv_push(struct au_strv *sv, const char *s);
/* Free every string and the array; sv becomes empty. */
void au_strv_free(struct au_strv *sv);
/* Free v[0..n) and v (NULL allowed). */
void au_strs_free(char **v, size_t n);

/* A growing NUL-terminated text; { 0 } is empty.  After a failed
 * allocation oom is set, later appends do nothing and au_buf_take
 * returns NULL. */
struct au_buf {
	char *p;
	size_t n, cap;
	bool oom;
};
/* Append printf-formatted text. */
void au_bprintf(struct au_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (caller frees; NULL after out of memory, then freed here). */
char *au_buf_take(struct au_buf *b);

/* The whole file as a NUL-terminated string (caller frees), its length in
 * *len when len is not NULL; NULL with errno set when it cannot be read. */
char *au_read_all(const char *path, size_t *len);

/* An active swap area, a line of /proc/swaps. */
struct au_swap {
	char name[400];
	char type[32];          /* "partition" or "file" */
	unsigned long long kib; /* its size */
	long prio;
};
#define AU_MAX_SWAPS 32 /* MAX_SWAPFILES is 32 at most */
/* The active swap areas (at most max, in /proc/swaps' order) into out;
 * *first: the index of the one the kernel fills first (the highest
 * priority, the first listed of equal ones), or -1 when there is none.
 * Returns how many (0 when /proc/swaps is unreadable). */
size_t au_swaps(struct au_swap *out, size_t max, int *first);

/* Whether path may be replaced by a file written beside it and renamed
 * over it (how every output of vmlab is written): 0 when it does not
 * exist or is a regular file this process may write; else VL_EINVAL
 * naming it.  A device, FIFO or directory is refused: the rename would
 * put a regular file in place of /dev/null. */
int au_check_replace(const char *path, struct vl_error *err);

/* "DIR/.BASE.tmp-XXXXXX" for path "DIR/BASE", a mkstemp template for a
 * temporary file beside it (caller frees); NULL when out of memory. */
char *au_tmp_template(const char *path);

/* mkstemp(tmpl) with the mode a plain creat would give (0666 less the
 * umask).  Returns the descriptor, or a negative code naming tmpl. */
int au_mkstemp(char *tmpl, struct vl_error *err);

/* fsync the finished temporary file tmp and rename it to path.  Returns 0
 * or VL_EIO; on failure tmp is left for the caller to remove. */
int au_sync_rename(const char *tmp, const char *path, struct vl_error *err);

/* Write text to path atomically (temporary file, fsync, rename).  Returns
 * 0 or a negative code; on failure path is as it was and no temporary
 * file remains. */
int au_write_atomic(const char *path, const char *text, struct vl_error *err);

/* Create dir and its missing parents (mode 0777 less the umask).  Returns
 * 0 when dir is a directory afterwards, else VL_EIO or VL_ENOMEM. */
int au_mkdir_p(const char *dir, struct vl_error *err);

/* rel when it is absolute, else "dir/rel" (malloc'd; NULL when out of
 * memory). */
char *au_path_join(const char *dir, const char *rel);

#endif
