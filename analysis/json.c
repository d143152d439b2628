/* analysis/json.c - streaming JSON writer (see json.h). */
#include <math.h>

#include "analysis/json.h"

void vl_json_init(struct vl_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = true;
	j->after_key = false;
}

static void sep(struct vl_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
}

static void open_(struct vl_json *j, char open, char close)
{
	sep(j);
	fputc(open, j->f);
	if (j->depth + 1 < VL_JSON_DEPTH) {
		j->depth++;
		j->first[j->depth] = true;
		j->closer[j->depth] = close;
	}
}

void vl_json_obj(struct vl_json *j)
{
	open_(j, '{', '}');
}

void vl_json_arr(struct vl_json *j)
{
	open_(j, '[', ']');
}

void vl_json_end(struct vl_json *j)
{
	if (j->depth > 0) {
		fputc(j->closer[j->depth], j->f);
		j->depth--;
	}
	if (j->depth == 0)
		fputc('\n', j->f);
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void vl_json_key(struct vl_json *j, const char *key)
{
	sep(j);
	put_string(j->f, key);
	fputc(':', j->f);
	j->after_key = true;
}

void vl_json_str(struct vl_json *j, const char *s)
{
	sep(j);
	if (s)
		put_string(j->f, s);
	else
		fputs("null", j->f);
}

void vl_json_u64(struct vl_json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void vl_json_f64(struct vl_json *j, double v)
{
	sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.17g", v);
	else
		fputs("null", j->f);
}

void vl_json_bool(struct vl_json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void vl_json_null(struct vl_json *j)
{
	sep(j);
	fputs("null", j->f);
}
