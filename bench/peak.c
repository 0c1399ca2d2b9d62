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

int main(void)
{
	v a[16], b, c;
	for (int i = 0; i < W; i++) {
		b[i] = 0.999999f;
		c[i] = 1e-7f;
	}
	for (int k = 0; k < 16; k++)
		a[k] = c * (float)k;
	double best = 0;
	for (int rep = 0; rep < 5; rep++) {
		long n = 20000000;
		double t0 = now();
		for (long i = 0; i < n; i++) {
#pragma GCC unroll 16
			for (int k = 0; k < 16; k++)
				a[k] = a[k] * b + c;
			__asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]));
		}
		double dt = now() - t0;
		double g = 2.0 * W * 16 * n / dt / 1e9;
		if (g > best)
			best = g;
	}
	float s = 0;
	for (int k = 0; k < 16; k++)
		for (int i = 0; i < W; i++)
			s += a[k][i];
	printf("peak_gflops=%.1f lanes=%d checksum=%g\n", best, W, s);
	return 0;
}
