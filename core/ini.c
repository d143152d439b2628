/* core/ini.c - the one INI reader (grammar in core/ini.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/ini.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim s[0..n) in place; returns the start, NUL-terminated. */
static char *trim(char *s, size_t n)
{
	while (n && blank(s[n - 1]))
		n--;
	s[n] = '\0';
	while (blank(*s))
		s++;
	return s;
}

int vl_ini_parse(const char *text, size_t len, const char *origin, unsigned flags, vl_ini_fn fn,
		 void *ctx, struct vl_error *err)
{
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	if (memchr(text, '\0', len))
		return vl_err(err, VL_EFORMAT, "%s: a NUL byte at byte %zu: not a text file", origin,
			      (size_t)((const char *)memchr(text, '\0', len) - text));
	char *buf = malloc(VL_INI_MAX_LINE + 1);
	char *section = malloc(VL_INI_MAX_LINE + 1);
	if (!buf || !section) {
		free(buf);
		free(section);
		return vl_err(err, VL_ENOMEM, "%s: out of memory reading it", origin);
	}
	section[0] = '\0';
	unsigned line = 0;
	int rc = 0;
	for (size_t at = 0; at < len && rc == 0;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		line++;
		if (n && text[at + n - 1] == '\r')
			n--;
		if (n > VL_INI_MAX_LINE) {
			rc = vl_err(err, VL_EFORMAT,
				    "%s line %u: line of %zu characters, longer than %d, the most an INI "
				    "line may have", origin, line, n, VL_INI_MAX_LINE);
			break;
		}
		memcpy(buf, text + at, n);
		at += (nl ? (size_t)(nl - (text + at)) + 1 : len - at);
		char *s = trim(buf, n);
		if (!*s || *s == ';' || *s == '#')
			continue;
		/* an inline comment: ';' after a blank (as libinih had it) */
		for (char *c = s + 1; (flags & VL_INI_INLINE_COMMENTS) && *c; c++)
			if (*c == ';' && blank(c[-1])) {
				*c = '\0';
				s = trim(s, strlen(s));
				break;
			}
		struct vl_ini_line l = { .line = line, .section = section };
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end || *trim(end + 1, strlen(end + 1))) {
				rc = vl_err(err, VL_EFORMAT,
					    "%s line %u: expected '[section]' (a name in brackets, nothing after)",
					    origin, line);
				break;
			}
			char *name = trim(s + 1, (size_t)(end - (s + 1)));
			memmove(section, name, strlen(name) + 1);
			l.section = section;
			rc = fn(ctx, &l, err);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: expected 'key = value'",
				    origin, line);
			break;
		}
		l.key = trim(s, (size_t)(eq - s));
		l.value = trim(eq + 1, strlen(eq + 1));
		if (!*l.key) {
			rc = vl_err(err, VL_EFORMAT, "%s line %u: expected a key before '='", origin, line);
			break;
		}
		rc = fn(ctx, &l, err);
	}
	free(buf);
	free(section);
	return rc;
}
