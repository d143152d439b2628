/* analysis/json.h - a small streaming JSON writer for machine output.
 *
 * Keeps a stack of "first element" flags so commas come out right; strings
 * are escaped per RFC 8259.  Writes to a stdio stream; errors surface
 * through ferror() on that stream.
 */
#ifndef VMLAB_ANALYSIS_JSON_H
#define VMLAB_ANALYSIS_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VL_JSON_DEPTH 32

struct vl_json {
	FILE *f;
	int depth;
	bool first[VL_JSON_DEPTH];
	char closer[VL_JSON_DEPTH]; /* '}' or ']' per open level */
	bool after_key;
};

void vl_json_init(struct vl_json *j, FILE *f);
void vl_json_obj(struct vl_json *j);   /* { */
void vl_json_arr(struct vl_json *j);   /* [ */
void vl_json_end(struct vl_json *j);   /* } or ] (closes the innermost) */
void vl_json_key(struct vl_json *j, const char *key);
void vl_json_str(struct vl_json *j, const char *s);  /* NULL writes null */
void vl_json_u64(struct vl_json *j, uint64_t v);
void vl_json_f64(struct vl_json *j, double v);       /* non-finite writes null */
void vl_json_bool(struct vl_json *j, bool v);
void vl_json_null(struct vl_json *j);

#endif
