/* traces/pin.c - Intel Pin pinatrace output.
 *
 *   0x40058b: W 0x7ffd4a8c     IP: OP ADDR, as pinatrace.cpp writes it
 *   R 3212859348               OP ADDR, the variant of some public traces
 *                              (ADDR decimal, or hex with 0x)
 *   #eof                       comments and blank lines are skipped
 *
 * OP is R or W.  Each line is one access of unknown size; pid 1.  The
 * instruction pointer is not a fetch record: pinatrace records data only.
 */
#include <string.h>

#include "traces/internal.h"

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && vl_is_space(*s))
		s++;
	return s;
}

static int parse(const char *s, const char *end, int *op, uint64_t *addr, struct vl_error *err)
{
	s = skip_space(s, end);
	if (s == end || *s == '#')
		return 0;
	const char *colon = memchr(s, ':', (size_t)(end - s));
	if (colon) {
		uint64_t ip;
		const char *q = s;
		if (vl_scan_num(&q, colon, &ip) < 0 || skip_space(q, colon) != colon)
			return vl_err(err, VL_EFORMAT, "expected 'IP: R|W ADDR', found '%.*s'",
				      (int)(end - s > 20 ? 20 : end - s), s);
		s = skip_space(colon + 1, end);
	}
	if (s == end || ((*s | 0x20) != 'r' && (*s | 0x20) != 'w') || s + 1 == end ||
	    !vl_is_space(s[1]))
		return vl_err(err, VL_EFORMAT, "expected R or W then an address, found '%.*s'",
			      (int)(end - s > 20 ? 20 : end - s), s);
	*op = (*s | 0x20) == 'r' ? VL_OP_READ : VL_OP_WRITE;
	s = skip_space(s + 1, end);
	if (vl_scan_num(&s, end, addr) < 0 || skip_space(s, end) != end)
		return vl_err(err, VL_EFORMAT,
			      "expected an address (0x-hex or decimal) and nothing after it");
	return 1;
}

static int pin_parse_line(char *line, size_t len, struct vl_batch *b, struct vl_error *err)
{
	int op;
	uint64_t addr;
	int rc = parse(line, line + len, &op, &addr, err);
	if (rc <= 0)
		return rc;
	return vl_emit_access(b, addr, 0, (uint8_t)op, 1, err);
}

static bool pin_ok(const char *line, size_t len)
{
	int op;
	uint64_t addr;
	return parse(line, line + len, &op, &addr, NULL) == 1;
}

static bool pin_ignore(const char *line, size_t len)
{
	const char *s = skip_space(line, line + len);
	return s == line + len || *s == '#';
}

static int pin_probe(const char *buf, size_t len)
{
	/* "R 123" lines are also addr lines with the same meaning; addr is
	 * listed first and wins ties. */
	return vl_probe_lines(buf, len, pin_ok, pin_ignore);
}

const struct vl_trace_format vl_fmt_pin = {
	.name = "pin",
	.help = "Intel Pin pinatrace: 'IP: R|W ADDR' (or 'R|W ADDR') per line",
	.probe = pin_probe,
	.parse_line = pin_parse_line,
};
