/* bench/bench_ids2raw.c - turn the decimal page ids written by the Zipf
 * trace generator (../shared/bench/gen_zipf_mix.c) into a raw trace: one
 * little-endian u64 address per id, 0x7f0000000000 + id * 4096 (the
 * convention of ../shared/bench/README.md).
 *   usage: bench_ids2raw IDS.txt OUT.bin */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s IDS.txt OUT.bin\n", argv[0]);
		return 2;
	}
	FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "wb");
	if (!in || !out) {
		fprintf(stderr, "%s: cannot open %s\n", argv[0], in ? argv[2] : argv[1]);
		return 1;
	}
	static char buf[1 << 16];
	setvbuf(in, buf, _IOFBF, sizeof(buf));
	uint64_t id = 0, line = 1;
	int c, digits = 0;
	while ((c = getc(in)) != EOF) {
		if (c >= '0' && c <= '9') {
			id = id * 10 + (uint64_t)(c - '0');
			digits++;
		} else if (c == '\n') {
			if (!digits) {
				fprintf(stderr, "%s line %llu: expected a page id\n", argv[1],
					(unsigned long long)line);
				return 1;
			}
			uint64_t a = 0x7f0000000000ull + id * 4096;
			fwrite(&a, sizeof(a), 1, out); /* x86-64: little-endian */
			id = 0;
			digits = 0;
			line++;
		} else {
			fprintf(stderr, "%s line %llu: expected a page id\n", argv[1],
				(unsigned long long)line);
			return 1;
		}
	}
	return fclose(out) ? 1 : 0;
}
