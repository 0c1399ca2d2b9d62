/* peak.c -- measures this CPU's single-thread fp32 FMA throughput (the
 * "peak" of the benchmark report): 16 independent chains of vector FMAs
 * of the widest width the compiler targets (-march=native), timed over
 * enough iterations to take a few hundred milliseconds. Prints GFLOP/s
 * (2 flops per lane per FMA). */
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#define W 16
#elif defined(__AVX__)
#define W 8
#else
#define W 4
#endif
typedef float v __attribute__((vector_size(W * 4)));

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

#define FMA12(b, c)                                                    \
	do {                                                           \
		a0 = a0 * b + c; a1 = a1 * b + c; a2 = a2 * b + c;       \
		a3 = a3 * b + c; a4 = a4 * b + c; a5 = a5 * b + c;       \
		a6 = a6 * b + c; a7 = a7 * b + c; a8 = a8 * b + c;       \
		a9 = a9 * b + c; a10 = a10 * b + c; a11 = a11 * b + c;   \
	} while (0)

int main(void)
{
	v b, c;
	for (int i = 0; i < W; i++) {
		b[i] = 0.999999f;
		c[i] = 1e-7f;
	}
	v a0 = c, a1 = c * 2, a2 = c * 3, a3 = c * 4, a4 = c * 5, a5 = c * 6;
	v a6 = c * 7, a7 = c * 8, a8 = c * 9, a9 = c * 10, a10 = c * 11, a11 = c * 12;
	double best = 0;
	for (int rep = 0; rep < 40; rep++) {
		long n = 1000000; /* ~25 ms bursts: the best one saw an idle core */
		double t0 = now();
		for (long i = 0; i < n; i++) {
			FMA12(b, c);
			__asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
			__asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
		}
		double dt = now() - t0;
		double g = 2.0 * W * 12 * n / dt / 1e9;
		if (g > best)
			best = g;
	}
	v t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
	float s = 0;
	for (int i = 0; i < W; i++)
		s += t[i];
	printf("peak_gflops=%.1f lanes=%d checksum=%g\n", best, W, s);
	return 0;
}
