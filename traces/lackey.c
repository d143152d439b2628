/* traces/lackey.c - valgrind lackey --trace-mem=yes output.
 *
 *   I  0400d7d4,3     instruction fetch of 3 bytes
 *    L 04221bd0,8     load
 *    S 7ff000398,8    store
 *    M 0421ff80,4     modify: one access that reads and dirties the page
 *   ==1234== ...      valgrind's own messages: skipped
 *   **1234** vmlab-roi-begin   a region-of-interest marker written by
 *   **1234** vmlab-roi-end     <vmlab/roi.h> (VALGRIND_PRINTF): an event;
 *                              other **pid** client messages are skipped
 *
 * Addresses are hex without 0x; the size is decimal.  An access that
 * straddles a page boundary becomes one record per page it touches.
 * Lackey traces carry no process id: every record is pid 1.
 */
#include <string.h>

#include "traces/internal.h"

/* "**PID** text": a client request message; 2 = ROI begin, 3 = ROI end,
 * 0 = another message, -1 = not one. */
static int client_msg(const char *s, const char *end)
{
	if (end - s < 5 || s[0] != '*' || s[1] != '*')
		return -1;
	const char *p = s + 2;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == s + 2 || end - p < 2 || p[0] != '*' || p[1] != '*')
		return -1;
	p += 2;
	while (p < end && vl_is_space(*p))
		p++;
	size_t n = (size_t)(end - p);
	while (n && vl_is_space(p[n - 1]))
		n--;
	if (n == 15 && !memcmp(p, "vmlab-roi-begin", 15))
		return 2;
	if (n == 13 && !memcmp(p, "vmlab-roi-end", 13))
		return 3;
	return 0;
}

static int parse(const char *s, const char *end, int *op, uint64_t *addr, uint64_t *size,
		 struct vl_error *err)
{
	while (s < end && vl_is_space(*s))
		s++;
	if (s == end)
		return 0;
	int cm = client_msg(s, end);
	if (cm >= 0)
		return cm;
	if (end - s >= 2 && ((s[0] == '=' && s[1] == '=') || (s[0] == '-' && s[1] == '-')))
		return 0; /* ==pid== or --pid-- tool messages */
	switch (*s) {
	case 'I': *op = VL_OP_IFETCH; break;
	case 'L': *op = VL_OP_READ; break;
	case 'S': *op = VL_OP_WRITE; break;
	case 'M': *op = VL_OP_MODIFY; break;
	default:
		return vl_err(err, VL_EFORMAT,
			      "expected a lackey record (I, L, S or M, then ADDR,SIZE), found '%.*s'",
			      (int)(end - s > 20 ? 20 : end - s), s);
	}
	s++;
	if (s == end || !vl_is_space(*s))
		return vl_err(err, VL_EFORMAT, "expected a space after the lackey operation");
	while (s < end && vl_is_space(*s))
		s++;
	if (vl_scan_hex(&s, end, addr) < 0)
		return vl_err(err, VL_EFORMAT, "expected a hex address in the lackey record");
	if (s == end || *s != ',')
		return vl_err(err, VL_EFORMAT, "expected ',SIZE' after the lackey address");
	s++;
	if (vl_scan_dec(&s, end, size) < 0)
		return vl_err(err, VL_EFORMAT, "expected a decimal size after ',' in the lackey record");
	while (s < end && vl_is_space(*s))
		s++;
	if (s != end)
		return vl_err(err, VL_EFORMAT, "unexpected text after the lackey record");
	return 1;
}

static int lackey_parse_line(char *line, size_t len, struct vl_batch *b, struct vl_error *err)
{
	int op;
	uint64_t addr, size;
	int rc = parse(line, line + len, &op, &addr, &size, err);
	if (rc <= 0)
		return rc;
	if (rc >= 2) { /* the driver leaves room for one event per line */
		b->events[b->n_events] = (struct vl_event){
			.kind = rc == 2 ? VL_EV_ROI_BEGIN : VL_EV_ROI_END };
		b->recs[b->n++] = (struct vl_rec){ .addr = b->n_events++, .pid = 1,
						   .op = VL_OP_EVENT };
		return 0;
	}
	return vl_emit_access(b, addr, size, (uint8_t)op, 1, err);
}

static bool lackey_ok(const char *line, size_t len)
{
	int op;
	uint64_t addr, size;
	return parse(line, line + len, &op, &addr, &size, NULL) >= 1;
}

static bool lackey_ignore(const char *line, size_t len)
{
	const char *s = line, *end = line + len;
	while (s < end && vl_is_space(*s))
		s++;
	return s == end || (end - s >= 2 && ((s[0] == '=' && s[1] == '=') || (s[0] == '-' && s[1] == '-'))) ||
	       client_msg(s, end) == 0;
}

static int lackey_probe(const char *buf, size_t len)
{
	return vl_probe_lines(buf, len, lackey_ok, lackey_ignore);
}

const struct vl_trace_format vl_fmt_lackey = {
	.name = "lackey",
	.help = "valgrind lackey --trace-mem=yes output (I / L / S / M ADDR,SIZE)",
	.probe = lackey_probe,
	.parse_line = lackey_parse_line,
};
