/* bench/workloads/lz.c - a small LZ77 compressor (hash chains, greedy
 * matching, gzip-like window of 32 KiB), the program `make bench` captures
 * with every back end: a real compressor whose source we have, so the
 * sancov back end can rebuild it.  Prints the input size and the number of
 * literals and matches; the output itself is not written.
 *   usage: lz FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vmlab/roi.h>

#define WIN (1 << 15)
#define HBITS 15
#define MINM 3
#define MAXM 258
#define CHAIN 64

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: lz FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	unsigned char *in = malloc((size_t)n + MAXM);
	int *head = malloc(sizeof(int) << HBITS), *prev = malloc(sizeof(int) * WIN);
	if (!in || !head || !prev || fread(in, 1, (size_t)n, f) != (size_t)n)
		return 1;
	fclose(f);
	memset(in + n, 0, MAXM);
	for (int i = 0; i < (1 << HBITS); i++)
		head[i] = -1;
	vmlab_roi_begin();
	long lits = 0, matches = 0;
	for (long i = 0; i < n;) {
		unsigned h = ((in[i] << 10) ^ (in[i + 1] << 5) ^ in[i + 2]) & ((1 << HBITS) - 1);
		int best = 0;
		int cand = head[h];
		for (int c = 0; c < CHAIN && cand >= 0 && i - cand < WIN; c++) {
			int l = 0;
			while (l < MAXM && i + l < n && in[cand + l] == in[i + l])
				l++;
			if (l > best)
				best = l;
			cand = prev[cand & (WIN - 1)];
		}
		prev[i & (WIN - 1)] = head[h];
		head[h] = (int)i;
		if (best >= MINM) {
			matches++;
			i += best;
		} else {
			lits++;
			i++;
		}
	}
	vmlab_roi_end();
	printf("%ld bytes: %ld literals, %ld matches\n", n, lits, matches);
	free(in);
	free(head);
	free(prev);
	return 0;
}
