/* test_llvm.c -- the LLVM backend: target files (parsing, errors, lookup,
 * float ABI, overrides), C names and the generated header, the memory
 * plan, and generated code run in-process (MCJIT on this machine)
 * against the reference interpreter on hand-written modules at several
 * vector widths and optimisation levels, and against libm for the
 * vectorised math functions (sweeps plus special values). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <llvm-c/ExecutionEngine.h>
#include <llvm-c/IRReader.h>
#include <llvm-c/Target.h>

#include "backends/llvm/llvm.h"
#include "backends/llvm/lower.h"

/* ---- helpers ---------------------------------------------------------------- */

static gos_module *parse(const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_ir_parse("test.gir", text, strlen(text), &d);
	if (!m || gos_verify(m, &d)) {
		gos_diags_render(&d, stderr);
		fail_msg("test module does not parse/verify");
	}
	gos_diags_free(&d);
	return m;
}

typedef int (*run_fn)(const float *const *, float *const *, void *);

/* A module compiled for the host and loaded with MCJIT. */
typedef struct jit {
	LLVMContextRef C;
	LLVMExecutionEngineRef ee;
	run_fn run;
	gos_llvm_output out;
} jit;

static void jit_free(jit *j)
{
	if (j->ee)
		LLVMDisposeExecutionEngine(j->ee);
	if (j->C)
		LLVMContextDispose(j->C);
	gos_llvm_output_free(&j->out);
	memset(j, 0, sizeof *j);
}

/* Compiles m for the host at opt level opt with main vector width vw
 * (0: the target's), loads it and finds <prefix>_run. */
static void jit_compile(gos_module *m, int opt, int vw, jit *j)
{
	memset(j, 0, sizeof *j);
	static int init;
	if (!init) {
		LLVMLinkInMCJIT();
		LLVMInitializeNativeTarget();
		LLVMInitializeNativeAsmPrinter();
		init = 1;
	}
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	assert_int_equal(gos_target_load(&t, "host", &d), 0);
	gos_llvm_opts o = {opt, 0, "m", vw, 1};
	int rc = gos_llvm_compile(m, &t, &o, GOS_EMIT_LL, &j->out, &d);
	if (rc)
		gos_diags_render(&d, stderr);
	assert_int_equal(rc, 0);
	gos_diags_free(&d);
	j->C = LLVMContextCreate();
	LLVMMemoryBufferRef mb =
		LLVMCreateMemoryBufferWithMemoryRangeCopy(j->out.code, j->out.code_len, "m.ll");
	LLVMModuleRef mod;
	char *msg = NULL;
	if (LLVMParseIRInContext(j->C, mb, &mod, &msg))
		fail_msg("generated LLVM IR does not parse: %s", msg);
	struct LLVMMCJITCompilerOptions mo;
	LLVMInitializeMCJITCompilerOptions(&mo, sizeof mo);
	if (LLVMCreateMCJITCompilerForModule(&j->ee, mod, &mo, sizeof mo, &msg))
		fail_msg("MCJIT: %s", msg);
	j->run = (run_fn)(uintptr_t)LLVMGetFunctionAddress(j->ee, "m_run");
	assert_non_null(j->run);
}

static uint64_t rng_state = 0x12345;

static float frand(float lo, float hi)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return lo + (hi - lo) * (float)((rng_state >> 40) * (1.0 / 16777216.0));
}

/* Runs m on random inputs through the interpreter and the JIT (at opt
 * level opt, width vw) and compares every output: max |a - b| <= 1e-5 *
 * max(1, max |a|), infinities and NaN in the same places. */
static void check_vs_interp(gos_module *m, int opt, int vw)
{
	gos_diags d;
	gos_diags_init(&d);
	assert_int_equal(gos_module_materialize(m, &d), 0);
	int n_in = 0;
	for (int v = 0; v < m->n_val; v++)
		n_in += m->vals[v].kind == GOS_VAL_INPUT;
	gos_tensor *ins = calloc((size_t)n_in + 1, sizeof *ins);
	gos_tensor *ref = calloc((size_t)m->n_output + 1, sizeof *ref);
	const float **ip = calloc((size_t)n_in + 1, sizeof *ip);
	float **op = calloc((size_t)m->n_output + 1, sizeof *op);
	for (int v = 0, k = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (val->kind != GOS_VAL_INPUT)
			continue;
		int64_t n = gos_numel(val->rank, val->shape);
		ins[k].rank = val->rank;
		memcpy(ins[k].shape, val->shape, sizeof ins[k].shape);
		ins[k].data = malloc(sizeof(float) * (size_t)n);
		for (int64_t i = 0; i < n; i++)
			ins[k].data[i] = frand(-1, 1);
		ip[k] = ins[k].data;
		k++;
	}
	int rc = gos_interp_run(m, ins, ref, &d);
	if (rc)
		gos_diags_render(&d, stderr);
	assert_int_equal(rc, 0);
	jit j;
	jit_compile(m, opt, vw, &j);
	for (int o = 0; o < m->n_output; o++) {
		int64_t n = gos_numel(ref[o].rank, ref[o].shape);
		op[o] = malloc(sizeof(float) * (size_t)n);
		for (int64_t i = 0; i < n; i++)
			op[o][i] = 12345.f; /* must be overwritten */
	}
	void *scratch = malloc((size_t)j.out.scratch_bytes + 64);
	memset(scratch, 0xff, (size_t)j.out.scratch_bytes + 64); /* NaN garbage */
	assert_int_equal(j.run(ip, op, scratch), 0);
	for (int o = 0; o < m->n_output; o++) {
		int64_t n = gos_numel(ref[o].rank, ref[o].shape);
		double scale = 1, err = 0;
		for (int64_t i = 0; i < n; i++)
			if (isfinite(ref[o].data[i]) && fabs(ref[o].data[i]) > scale)
				scale = fabs(ref[o].data[i]);
		for (int64_t i = 0; i < n; i++) {
			float a = ref[o].data[i], b = op[o][i];
			if (!isfinite(a)) {
				if (!(isnan(a) ? isnan(b) : a == b))
					fail_msg("output %d [%lld]: want %g, got %g (opt %d, width %d)", o,
					         (long long)i, a, b, opt, vw);
				continue;
			}
			double e = fabs((double)a - b);
			if (!(e <= err))
				err = isnan(e) ? INFINITY : e;
			if (!(e <= 1e-5 * scale))
				fail_msg("output %d [%lld]: want %.9g, got %.9g (opt %d, width %d)", o,
				         (long long)i, a, b, opt, vw);
		}
	}
	free(scratch);
	jit_free(&j);
	for (int k = 0; k < n_in; k++)
		free(ins[k].data);
	for (int o = 0; o < m->n_output; o++) {
		free(ref[o].data);
		free(op[o]);
	}
	free(ins);
	free(ref);
	free(ip);
	free(op);
	gos_diags_free(&d);
}

/* ---- targets ---------------------------------------------------------------- */

static void test_target_parse(void **state)
{
	(void)state;
	const char *text = "# a board\n"
	                   "name = myboard\n"
	                   "triple = aarch64-unknown-linux-gnu  # comment\n"
	                   "cpu = \"cortex-a72\"\n"
	                   "features = +neon,+crc\n"
	                   "cc = aarch64-linux-gnu-gcc\n"
	                   "cflags = -O3 -mcpu=cortex-a72\n"
	                   "ldflags = -static\n"
	                   "qemu = qemu-aarch64\n"
	                   "vector_bits = 128 bits\n"
	                   "clock_ghz = 1.8\n"
	                   "l1_kb = 32\n";
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	assert_int_equal(gos_target_parse(&t, "b.target", text, strlen(text), &d), 0);
	assert_string_equal(t.name, "myboard");
	assert_string_equal(t.triple, "aarch64-unknown-linux-gnu");
	assert_string_equal(t.cpu, "cortex-a72");
	assert_string_equal(t.features, "+neon,+crc");
	assert_string_equal(t.cc, "aarch64-linux-gnu-gcc");
	assert_string_equal(t.cflags, "-O3 -mcpu=cortex-a72");
	assert_string_equal(t.ldflags, "-static");
	assert_string_equal(t.qemu, "qemu-aarch64");
	assert_int_equal(t.vector_bits, 128);
	assert_int_equal(t.ptr_bits, 64);
	assert_int_equal(d.n_errors, 0);
	/* defaults and the name from the file */
	const char *min = "triple = armv7-unknown-linux-gnueabihf\n";
	assert_int_equal(gos_target_parse(&t, "dir/small.target", min, strlen(min), &d), 0);
	assert_string_equal(t.name, "small");
	assert_string_equal(t.cpu, "generic");
	assert_string_equal(t.cc, "cc");
	assert_int_equal(t.ptr_bits, 32);
	assert_int_equal(t.vector_bits, 128);
	/* native */
	const char *nat = "triple = native\ncpu = native\nfeatures = native\n";
	assert_int_equal(gos_target_parse(&t, "h.target", nat, strlen(nat), &d), 0);
	assert_true(strlen(t.triple) > 3 && strcmp(t.triple, "native"));
	assert_true(strcmp(t.cpu, "native") != 0);
	assert_true(strcmp(t.features, "native") != 0);
	gos_diags_free(&d);
}

static void test_target_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"triple = x86_64-pc-linux-gnu\nno equals sign here\n",
		"triple = armv7-unknown-linux-gnueabihf\nfloat_abi = medium\n",
		"triple = x86_64-pc-linux-gnu\nvector_bits = 100\n",
		"cpu = generic\n", /* no triple */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		gos_diags d;
		gos_diags_init(&d);
		gos_target t;
		assert_int_equal(gos_target_parse(&t, "bad.target", bad[i], strlen(bad[i]), &d), -1);
		assert_true(d.n_errors >= 1);
		gos_diags_free(&d);
	}
	/* the position of a bad line is reported */
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	gos_target_parse(&t, "bad.target", bad[0], strlen(bad[0]), &d);
	assert_int_equal(d.v[0].loc.line, 2);
	gos_diags_free(&d);
}

static void test_target_float_abi(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	const char *a = "triple = armv7-unknown-linux-gnueabi\nfloat_abi = hard\n";
	assert_int_equal(gos_target_parse(&t, "a.target", a, strlen(a), &d), 0);
	assert_string_equal(t.triple, "armv7-unknown-linux-gnueabihf");
	const char *b = "triple = armv7-unknown-linux-gnueabihf\nfloat_abi = softfp\n";
	assert_int_equal(gos_target_parse(&t, "b.target", b, strlen(b), &d), 0);
	assert_string_equal(t.triple, "armv7-unknown-linux-gnueabi");
	const char *c = "triple = armv7-unknown-linux-gnueabihf\nfloat_abi = soft\nfeatures = +neon\n";
	assert_int_equal(gos_target_parse(&t, "c.target", c, strlen(c), &d), 0);
	assert_string_equal(t.triple, "armv7-unknown-linux-gnueabi");
	assert_non_null(strstr(t.features, "+soft-float"));
	/* not ARM: untouched */
	const char *e = "triple = aarch64-unknown-linux-gnu\nfloat_abi = hard\n";
	assert_int_equal(gos_target_parse(&t, "e.target", e, strlen(e), &d), 0);
	assert_string_equal(t.triple, "aarch64-unknown-linux-gnu");
	gos_diags_free(&d);
}

static void test_target_lookup(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	static const char *const builtin[] = {"armv8", "pi3", "pi3-armv7", "redmi-note7s", "host"};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(gos_target_load(&t, builtin[i], &d), 0);
		assert_string_equal(t.name, builtin[i]);
	}
	assert_string_equal(t.triple, strcmp(t.triple, "native") ? t.triple : "?");
	char list[1024];
	gos_target_list(list, sizeof list);
	for (size_t i = 0; i < 5; i++)
		assert_non_null(strstr(list, builtin[i]));
	/* unknown: the error lists the known ones */
	assert_int_equal(gos_target_load(&t, "nosuchboard", &d), -1);
	assert_true(d.n_errors == 1);
	assert_non_null(strstr(d.v[0].msg, "nosuchboard"));
	assert_non_null(strstr(d.v[0].msg, "pi3-armv7"));
	assert_non_null(strstr(d.v[0].msg, "redmi-note7s"));
	gos_diags_free(&d);
	/* a user's target in $GOS_TARGET_DIR, without rebuilding; and by path */
	char dir[] = "/tmp/gos-test-llvm-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/myboard.target", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("triple = aarch64-unknown-linux-gnu\ncpu = cortex-a55\n", f);
	fclose(f);
	const char *old = getenv("GOS_TARGET_DIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("GOS_TARGET_DIR", dir, 1);
	gos_diags_init(&d);
	assert_int_equal(gos_target_load(&t, "myboard", &d), 0);
	assert_string_equal(t.cpu, "cortex-a55");
	gos_target_list(list, sizeof list);
	assert_non_null(strstr(list, "myboard"));
	unsetenv("GOS_TARGET_DIR");
	assert_int_equal(gos_target_load(&t, "myboard", &d), -1);
	gos_diags_free(&d);
	gos_diags_init(&d);
	assert_int_equal(gos_target_load(&t, path, &d), 0);
	assert_string_equal(t.name, "myboard");
	gos_diags_free(&d);
	if (saved)
		setenv("GOS_TARGET_DIR", saved, 1);
	free(saved);
	unlink(path);
	rmdir(dir);
}

static void test_target_override(void **state)
{
	(void)state;
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	assert_int_equal(gos_target_load(&t, "armv8", &d), 0);
	gos_target_override(&t, "cortex-a72", "+crc,-fp16");
	assert_string_equal(t.cpu, "cortex-a72");
	assert_non_null(strstr(t.features, "+neon"));
	assert_non_null(strstr(t.features, "+crc,-fp16"));
	gos_target_override(&t, NULL, NULL);
	assert_string_equal(t.cpu, "cortex-a72");
	gos_diags_free(&d);
}

/* ---- names, header, plan ------------------------------------------------- */

static void test_c_name(void **state)
{
	(void)state;
	char b[64];
	gos_llvm_c_name("tiny", b, sizeof b);
	assert_string_equal(b, "tiny");
	gos_llvm_c_name("every op", b, sizeof b);
	assert_string_equal(b, "every_op");
	gos_llvm_c_name("7net-v2.1", b, sizeof b);
	assert_string_equal(b, "m7net_v2_1");
	gos_llvm_c_name("", b, sizeof b);
	assert_string_equal(b, "model");
	gos_llvm_c_name("abcdefgh", b, 4);
	assert_string_equal(b, "abc");
}

static const char *const two_in =
	"gir 1\nmodel \"two in\"\n"
	"input %\"a b\" : f32[2,3]\n"
	"input %a_b : f32[3]\n"
	"node s = add(X=%\"a b\", B=%a_b) -> (Y=%\"sum!\" : f32[2,3]) {\n"
	"  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n    %1 = load B[j]\n    %2 = add %0, %1\n  } -> %2\n}\n"
	"node r = sum(X=%\"sum!\") -> (Y=%tot : f32[]) {\n"
	"  Y[] = sum(i:2, j:3) {\n    %0 = load X[i, j]\n  } -> %0\n}\n"
	"output %\"sum!\"\noutput %tot\n";

static void test_header(void **state)
{
	(void)state;
	gos_module *m = parse(two_in);
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	assert_int_equal(gos_target_load(&t, "armv8", &d), 0);
	gos_llvm_output out;
	gos_llvm_opts o = {2, 0, NULL, 0, 1};
	assert_int_equal(gos_llvm_compile(m, &t, &o, GOS_EMIT_OBJ, &out, &d), 0);
	assert_string_equal(out.prefix, "two_in");
	const char *h = out.header;
	assert_non_null(strstr(h, "int two_in_run(const float *const *inputs, float *const *outputs, "
	                          "void *scratch);"));
	assert_non_null(strstr(h, "#define TWO_IN_NUM_INPUTS 2\n"));
	assert_non_null(strstr(h, "#define TWO_IN_NUM_OUTPUTS 2\n"));
	assert_non_null(strstr(h, "#define TWO_IN_INPUT_A_B 0\n"));
	assert_non_null(strstr(h, "#define TWO_IN_INPUT_A_B_SHAPE {2, 3}\n"));
	assert_non_null(strstr(h, "#define TWO_IN_INPUT_A_B_1 1\n")); /* deduplicated */
	assert_non_null(strstr(h, "#define TWO_IN_INPUT_A_B_1_BYTES 12\n"));
	assert_non_null(strstr(h, "#define TWO_IN_OUTPUT_SUM_ 0\n"));
	assert_non_null(strstr(h, "#define TWO_IN_OUTPUT_SUM__NUMEL 6\n"));
	assert_non_null(strstr(h, "#define TWO_IN_OUTPUT_TOT_RANK 0\n"));
	assert_non_null(strstr(h, "#define TWO_IN_OUTPUT_TOT_SHAPE {1}\n"));
	assert_non_null(strstr(h, "#define TWO_IN_INPUT_NAMES {\"a b\", \"a_b\"}\n"));
	assert_non_null(strstr(h, "#define TWO_IN_SCRATCH_BYTES "));
	assert_non_null(strstr(h, "#define TWO_IN_WEIGHTS_EXTERNAL 0\n"));
	/* an ELF object */
	assert_true(out.code_len > 64 && !memcmp(out.code, "\177ELF", 4));
	gos_llvm_output_free(&out);
	/* external weights: the prototype takes them */
	gos_llvm_opts ox = {2, 1, "net", 0, 1};
	assert_int_equal(gos_llvm_compile(m, &t, &ox, GOS_EMIT_ASM, &out, &d), 0);
	assert_non_null(strstr(out.header, "int net_run(const void *weights, const float *const"));
	assert_non_null(strstr(out.header, "#define NET_WEIGHTS_BYTES 0\n"));
	assert_non_null(strstr(out.code, "net_run"));
	gos_llvm_output_free(&out);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* A chain x -> a -> b -> c -> d (each 1000 floats) and a node with a
 * local: temps whose lifetimes do not overlap share scratch. */
static const char *const chain =
	"gir 1\nmodel chain\ninput %x : f32[1000]\n"
	"node n1 = f(X=%x) -> (Y=%a : f32[1000]) {\n  Y[i:1000] = {\n    %0 = load X[i]\n    %1 = exp %0\n  } -> %1\n}\n"
	"node n2 = f(X=%a) -> (Y=%b : f32[1000]) {\n  Y[i:1000] = {\n    %0 = load X[i]\n    %1 = tanh %0\n  } -> %1\n}\n"
	"node n3 = f(X=%b) -> (Y=%c : f32[1000]) {\n  local T[1000]\n  T[i:1000] = {\n    %0 = load X[i]\n    %1 = neg %0\n  } -> %1\n"
	"  Y[i:1000] = {\n    %0 = load T[i]\n    %1 = load X[i]\n    %2 = mul %0, %1\n  } -> %2\n}\n"
	"node n4 = f(X=%c, A=%a) -> (Y=%d : f32[1000]) {\n  Y[i:1000] = {\n    %0 = load X[i]\n    %1 = load A[i]\n    %2 = add %0, %1\n  } -> %2\n}\n"
	"output %d\n";

static void test_plan(void **state)
{
	(void)state;
	gos_module *m = parse(chain);
	gos_arena *a = gos_arena_new();
	gos_mplan p;
	assert_int_equal(gos_lw_plan(m, &p, a), 0);
	int va = gos_module_find_value(m, "a"), vb = gos_module_find_value(m, "b");
	int vc = gos_module_find_value(m, "c"), vd = gos_module_find_value(m, "d");
	assert_int_equal(p.where[gos_module_find_value(m, "x")], GOS_W_INPUT);
	assert_int_equal(p.where[vd], GOS_W_OUTPUT);
	assert_int_equal(p.where[va], GOS_W_SCRATCH);
	/* a lives to n4; b (n2..n3), the local T (n3) and c (n3..n4) overlap
	 * a; b, T, c overlap each other at n3: 4 buffers of 4032 bytes */
	int64_t sz = 4032; /* 4000 rounded up to 64 */
	assert_int_equal(p.scratch_bytes, 4 * sz);
	int64_t offs[4] = {p.off[va], p.off[vb], p.off[vc], p.local_off[2][0]};
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 4; j++)
			assert_true(offs[i] + sz <= offs[j] || offs[j] + sz <= offs[i]);
	gos_arena_free(a);
	check_vs_interp(m, 2, 0);
	gos_module_free(m);
	/* a longer chain reuses: x -> t1 -> ... -> t8, each read only by the next */
	char text[8192];
	size_t u = (size_t)snprintf(text, sizeof text, "gir 1\nmodel longchain\ninput %%t0 : f32[256]\n");
	for (int i = 1; i <= 8; i++)
		u += (size_t)snprintf(text + u, sizeof text - u,
		                      "node n%d = f(X=%%t%d) -> (Y=%%t%d : f32[256]) {\n  Y[i:256] = {\n"
		                      "    %%0 = load X[i]\n    %%1 = const 0.5\n    %%2 = mul %%0, %%1\n"
		                      "  } -> %%2\n}\n",
		                      i, i - 1, i);
	snprintf(text + u, sizeof text - u, "output %%t8\n");
	m = parse(text);
	a = gos_arena_new();
	assert_int_equal(gos_lw_plan(m, &p, a), 0);
	assert_int_equal(p.scratch_bytes, 2 * 1024); /* ping-pong */
	gos_arena_free(a);
	gos_module_free(m);
}

/* ---- generated code against the interpreter ------------------------------ */

static const char *const conv_text =
	"gir 1\nmodel conv\n"
	"input %x : f32[2,3,9,19]\n"
	"weight %w : f32[5,3,3,3] = uniform(-0.5, 0.5, seed=0x77)\n"
	"node c = conv2d(X=%x, Wt=%w) -> (Y=%y : f32[2,5,5,10], Z=%z : f32[2,5,9,19]) {\n"
	"  Y[n:2, k:5, p:5, q:10] = sum(c:3, r:3, s:3) {\n"
	"    %0 = load X[n, c, 2*p + r - 1, 2*q + s - 1] else 0\n"
	"    %1 = load Wt[k, c, r, s]\n    %2 = mul %0, %1\n  } -> %2\n"
	"  Z[n:2, k:5, p:9, q:19] = sum(c:3, r:3, s:3) {\n"
	"    %0 = load X[n, c, p + 2*r - 2, q + s - 1] else 0.5\n"
	"    %1 = load Wt[k, c, r, s]\n    %2 = mul %0, %1\n    %3 = const 1\n    %4 = add %2, %3\n  } -> %4\n"
	"}\n"
	"node p = pool(X=%x) -> (Y=%mp : f32[2,3,9,19], M=%mn : f32[2,3,19]) {\n"
	"  Y[n:2, c:3, p:9, q:19] = max(r:3, s:3) {\n"
	"    %0 = load X[n, c, p + r - 1, q + s - 1] else -inf\n  } -> %0\n"
	"  M[n:2, c:3, q:19] = min(p:9) {\n"
	"    %0 = load X[n, c, p, 18 - q]\n  } -> %0\n"
	"}\n"
	"output %y\noutput %z\noutput %mp\noutput %mn\n";

static const char *const misc_text =
	"gir 1\nmodel misc\n"
	"input %x : f32[4,33]\n"
	"weight %w : f32[7,33] = normal(0, 0.3, seed=0x5)\n"
	"node d = dense(X=%x, Wt=%w) -> (Y=%y : f32[4,7]) {\n"
	"  Y[n:4, k:7] = sum(c:33) {\n    %0 = load X[n, c]\n    %1 = load Wt[k, c]\n    %2 = mul %0, %1\n  } -> %2\n"
	"  Y[n:4, k:7] = {\n    %0 = load Y[n, k]\n    %1 = tanh %0\n  } -> %1\n"
	"}\n"
	"node s = softmax(X=%x) -> (Y=%sm : f32[4,33], T=%t : f32[33,4], R=%r : f32[132]) {\n"
	"  local M[4]\n  local S[4]\n"
	"  M[n:4] = max(c:33) {\n    %0 = load X[n, c]\n  } -> %0\n"
	"  S[n:4] = sum(c:33) {\n    %0 = load X[n, c]\n    %1 = load M[n]\n    %2 = sub %0, %1\n    %3 = exp %2\n  } -> %3\n"
	"  Y[n:4, c:33] = {\n    %0 = load X[n, c]\n    %1 = load M[n]\n    %2 = sub %0, %1\n    %3 = exp %2\n"
	"    %4 = load S[n]\n    %5 = div %3, %4\n  } -> %5\n"
	"  T[c:33, n:4] = {\n    %0 = load X[n, c]\n    %1 = index c - 2*n\n    %2 = mul %0, %1\n  } -> %2\n"
	"  R[j:132] = {\n    %0 = load X[j / 33, j % 33]\n    %1 = load X[(j + 5) / 33 % 4, 32 - j % 33] else 9\n"
	"    %2 = erf %1\n    %3 = add %0, %2\n  } -> %3\n"
	"}\n"
	"output %y\noutput %sm\noutput %t\noutput %r\noutput %x\noutput %y\n";

/* The profiling entry (in process through gos_jit): tick(ctx, k) for
 * k = 0..n_node in order, the same outputs as the plain entry; the header
 * lists the nodes; gos_jit_profile times every node. */
typedef struct ticks {
	int n, k[16];
} ticks;

static void record_tick(void *ctx, int k)
{
	ticks *t = ctx;
	if (t->n < 16)
		t->k[t->n] = k;
	t->n++;
}

static void test_profile_entry(void **state)
{
	(void)state;
	gos_module *m = parse(chain);
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	assert_int_equal(gos_target_load(&t, "host", &d), 0);
	gos_llvm_output out;
	gos_llvm_opts o = {2, 0, "chain", 0, 1};
	assert_int_equal(gos_llvm_compile(m, &t, &o, GOS_EMIT_ASM, &out, &d), 0);
	assert_non_null(strstr(out.header, "#define CHAIN_NUM_NODES 4\n"));
	assert_non_null(strstr(out.header, "#define CHAIN_NODE_NAMES {\"n1\", \"n2\", \"n3\", \"n4\"}\n"));
	assert_non_null(strstr(out.header, "#define CHAIN_NODE_KINDS {\"elementwise\""));
	assert_non_null(strstr(out.header, "#define CHAIN_MODEL_NAME \"chain\"\n"));
	assert_non_null(strstr(out.header, "int chain_run_profile(const float *const *inputs"));
	assert_non_null(strstr(out.code, "chain_run_profile"));
	gos_llvm_output_free(&out);
	gos_jit *j = gos_jit_new(m, &t, &o, &d);
	if (!j)
		gos_diags_render(&d, stderr);
	assert_non_null(j);
	float x[1000], y1[1000], y2[1000];
	for (int i = 0; i < 1000; i++)
		x[i] = frand(-1, 1);
	const float *in[1] = {x};
	float *o1[1] = {y1}, *o2[1] = {y2};
	void *scratch = aligned_alloc(64, (size_t)(gos_jit_scratch_bytes(j) + 63) / 64 * 64 + 64);
	assert_int_equal(gos_jit_run(j)(in, o1, scratch), 0);
	ticks tk = {0};
	assert_int_equal(gos_jit_run_profile(j)(in, o2, scratch, record_tick, &tk), 0);
	assert_int_equal(tk.n, 5);
	for (int k = 0; k < 5; k++)
		assert_int_equal(tk.k[k], k);
	assert_memory_equal(y1, y2, sizeof y1);
	gos_profile p;
	assert_int_equal(gos_jit_profile(j, m->n_node, in, o2, 5, &p, &d), 0);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.runs, 5);
	for (int i = 0; i < p.n; i++)
		assert_true(p.min_ms[i] >= 0 && p.min_ms[i] <= p.median_ms[i]);
	assert_true(p.whole_min_ms > 0 && p.whole_min_ms <= p.whole_median_ms);
	gos_profile_free(&p);
	assert_int_equal(gos_jit_profile(j, m->n_node, in, o2, 0, &p, &d), -1); /* no runs */
	assert_true(d.n_errors > 0);
	free(scratch);
	gos_jit_free(j);
	gos_diags_free(&d);
	gos_module_free(m);
}

/* Row-major copies share their input's storage and are not run, unless
 * they write a model output; a transposing copy is a real node. */
static const char *copies =
    "gir 1\nmodel copies\ninput %x : f32[2,3,4]\n"
    "node r1 = reshape(X=%x) -> (Y=%a : f32[6,4]) {\n  Y[i:6, j:4] = {\n"
    "    %0 = load X[i / 3, i % 3, j]\n  } -> %0\n}\n"
    "node h = f(X=%a) -> (Y=%b : f32[6,4]) {\n  Y[i:6, j:4] = {\n"
    "    %0 = load X[i, j]\n    %1 = const 0.5\n    %2 = mul %0, %1\n  } -> %2\n}\n"
    "node r2 = reshape(X=%b) -> (Y=%c : f32[24]) {\n  Y[k:24] = {\n"
    "    %0 = load X[k / 4, k % 4]\n  } -> %0\n}\n"
    "node t = transpose(X=%b) -> (Y=%d : f32[4,6]) {\n  Y[j:4, i:6] = {\n"
    "    %0 = load X[i, j]\n  } -> %0\n}\n"
    "node r3 = reshape(X=%d) -> (Y=%e : f32[24]) {\n  Y[k:24] = {\n"
    "    %0 = load X[k / 6, k % 6]\n  } -> %0\n}\n"
    "node g = f(X=%e) -> (Y=%o : f32[24]) {\n  Y[k:24] = {\n"
    "    %0 = load X[k]\n    %1 = const 2\n    %2 = add %0, %1\n  } -> %2\n}\n"
    "output %c\noutput %o\n";

static void test_copy_alias(void **state)
{
	(void)state;
	gos_module *m = parse(copies);
	gos_arena *a = gos_arena_new();
	gos_mplan p;
	assert_int_equal(gos_lw_plan(m, &p, a), 0);
	int x = gos_module_find_value(m, "x"), va = gos_module_find_value(m, "a");
	int vd = gos_module_find_value(m, "d"), ve = gos_module_find_value(m, "e");
	assert_int_equal(p.alias[va], x); /* a view of the input */
	assert_int_equal(p.where[va], GOS_W_INPUT);
	assert_int_equal(p.skip[0], 1);
	assert_int_equal(p.skip[2], 0); /* writes a model output */
	assert_int_equal(p.skip[3], 0); /* transposes */
	assert_int_equal(p.alias[ve], vd);
	assert_int_equal(p.skip[4], 1);
	assert_int_equal(p.off[ve], p.off[vd]);
	gos_arena_free(a);
	check_vs_interp(m, 0, 0);
	gos_module_free(m);
	m = parse(copies);
	check_vs_interp(m, 2, 0);
	gos_module_free(m);
}

static void test_conv_vs_interp(void **state)
{
	(void)state;
	static const int widths[] = {0, 4, 8, 16, 1};
	for (int o = 0; o <= 2; o += 2)
		for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
			gos_module *m = parse(conv_text);
			check_vs_interp(m, o, widths[k]);
			gos_module_free(m);
		}
}

static void test_misc_vs_interp(void **state)
{
	(void)state;
	static const int widths[] = {0, 4, 8, 1};
	for (int o = 0; o <= 3; o += 3)
		for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
			gos_module *m = parse(misc_text);
			check_vs_interp(m, o, widths[k]);
			gos_module_free(m);
		}
}

/* The e2e models in the source tree, when the test knows where it is. */
static void test_e2e_models_vs_interp(void **state)
{
	(void)state;
	const char *src = getenv("GOS_SOURCE_DIR");
	if (!src)
		skip();
	static const char *const names[] = {"ops", "reduce", "pad", "dense"};
	for (size_t i = 0; i < 4; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/tests/e2e/%s.gir", src, names[i]);
		gos_diags d;
		gos_diags_init(&d);
		size_t len;
		char *text = gos_read_file(&d, path, &len);
		assert_non_null(text);
		gos_module *m = gos_ir_parse(path, text, len, &d);
		assert_non_null(m);
		free(text);
		gos_diags_free(&d);
		check_vs_interp(m, 2, 0);
		gos_module_free(m);
	}
}

/* sum() and max() over no variables: one point, combined with the
 * initial value (the interpreter is not used: computed here). */
static void test_empty_reduction(void **state)
{
	(void)state;
	gos_module *m = parse("gir 1\nmodel e\ninput %x : f32[37]\n"
	                      "node n = f(X=%x) -> (S=%s : f32[37], M=%m : f32[37]) {\n"
	                      "  S[i:37] = sum() {\n    %0 = load X[i]\n    %1 = const 2\n    %2 = mul %0, %1\n  } -> %2\n"
	                      "  M[i:37] = max() {\n    %0 = load X[i]\n  } -> %0\n"
	                      "}\noutput %s\noutput %m\n");
	jit j;
	jit_compile(m, 2, 0, &j);
	float x[37], s[37], mx[37];
	for (int i = 0; i < 37; i++)
		x[i] = frand(-3, 3);
	x[5] = NAN; /* fmaxf(-inf, NaN) = -inf */
	const float *ip[1] = {x};
	float *op[2] = {s, mx};
	assert_int_equal(j.run(ip, op, NULL), 0);
	for (int i = 0; i < 37; i++) {
		if (i == 5) {
			assert_true(isnan(s[i]));
			assert_true(isinf(mx[i]) && mx[i] < 0);
			continue;
		}
		assert_true(s[i] == x[i] * 2);
		assert_true(mx[i] == x[i]);
	}
	jit_free(&j);
	gos_module_free(m);
}

/* Adjacent whole dimensions are collapsed into one lane variable: the
 * report names the merged variables, and results still match. */
static void test_collapse(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel col\ninput %x : f32[2,3,5,7]\ninput %b : f32[3]\n"
		"node n = f(X=%x, B=%b) -> (Y=%y : f32[2,3,5,7], S=%s : f32[2,3], Z=%z : f32[2,3,5,7]) {\n"
		"  Y[n:2, c:3, h:5, w:7] = {\n    %0 = load X[n, c, h, w]\n    %1 = load B[c]\n"
		"    %2 = mul %0, %1\n    %3 = load X[1, 2, 4, 6]\n    %4 = add %2, %3\n  } -> %4\n"
		"  Y[n:2, c:3, h:5, w:7] = {\n    %0 = load Y[n, c, h, w]\n    %1 = tanh %0\n"
		"    %2 = load X[n, c, w / 2, h]\n  } -> %1\n"
		"  S[n:2, c:3] = sum(h:5, w:7) {\n    %0 = load X[n, c, h, w]\n  } -> %0\n"
		"  Z[n:2, c:3, h:5, w:7] = {\n    %0 = load X[n, c, h, w]\n    %1 = index w\n"
		"    %2 = add %0, %1\n  } -> %2\n"
		"}\noutput %y\noutput %s\noutput %z\n";
	gos_module *m = parse(text);
	gos_diags d;
	gos_diags_init(&d);
	gos_target t;
	assert_int_equal(gos_target_load(&t, "armv8", &d), 0);
	gos_llvm_output out;
	assert_int_equal(gos_llvm_compile(m, &t, NULL, GOS_EMIT_LL, &out, &d), 0);
	/* stmt 0: n,c cannot merge (B[c]); h,w can; stmt 1 (a dead load
	 * reads w, h transposed: still merged); stmt 2: the reduction h,w;
	 * stmt 3: `index w` keeps w apart */
	assert_non_null(strstr(out.stats, "stmt 0 -> Y: out-lane h.w,"));
	assert_non_null(strstr(out.stats, "stmt 1 -> Y: out-lane n.c.h.w,"));
	assert_non_null(strstr(out.stats, "stmt 2 -> S: red-lane h.w,"));
	assert_null(strstr(out.stats, "stmt 3 -> Z: out-lane h.w"));
	gos_llvm_output_free(&out);
	gos_diags_free(&d);
	check_vs_interp(m, 2, 0);
	check_vs_interp(m, 0, 4);
	gos_module_free(m);
}

/* ---- math functions against libm --------------------------------------------- */

enum { NM = 4099 };

static const char *const math_text =
	"gir 1\nmodel math\ninput %x : f32[4099]\ninput %y : f32[4099]\n"
	"node n = f(X=%x, Y=%y) -> (E=%e : f32[4099], L=%l : f32[4099], T=%t : f32[4099], "
	"F=%f : f32[4099], P=%p : f32[4099], FL=%fl : f32[4099], MX=%mx : f32[4099], "
	"MN=%mn : f32[4099], SQ=%sq : f32[4099]) {\n"
	"  E[i:4099] = {\n    %0 = load X[i]\n    %1 = exp %0\n  } -> %1\n"
	"  L[i:4099] = {\n    %0 = load X[i]\n    %1 = log %0\n  } -> %1\n"
	"  T[i:4099] = {\n    %0 = load X[i]\n    %1 = tanh %0\n  } -> %1\n"
	"  F[i:4099] = {\n    %0 = load X[i]\n    %1 = erf %0\n  } -> %1\n"
	"  P[i:4099] = {\n    %0 = load X[i]\n    %1 = load Y[i]\n    %2 = pow %0, %1\n  } -> %2\n"
	"  FL[i:4099] = {\n    %0 = load X[i]\n    %1 = floor %0\n  } -> %1\n"
	"  MX[i:4099] = {\n    %0 = load X[i]\n    %1 = load Y[i]\n    %2 = max %0, %1\n  } -> %2\n"
	"  MN[i:4099] = {\n    %0 = load X[i]\n    %1 = load Y[i]\n    %2 = min %0, %1\n  } -> %2\n"
	"  SQ[i:4099] = {\n    %0 = load X[i]\n    %1 = rsqrt %0\n  } -> %1\n"
	"}\noutput %e\noutput %l\noutput %t\noutput %f\noutput %p\noutput %fl\noutput %mx\noutput %mn\noutput %sq\n";

/* |got - want| <= rel |want| + abs, or both the same non-finite value;
 * want is rounded to float first (exp(88.76) overflows). */
static int close_to(float got, double want, double rel, double abs)
{
	want = (float)want;
	if (isnan(want))
		return isnan(got);
	if (isinf(want))
		return got == want;
	return fabs(got - want) <= rel * fabs(want) + abs;
}

static void check_math(jit *j, const float *x, const float *y, const char *what)
{
	static float out[9][NM];
	const float *ip[2] = {x, y};
	float *op[9];
	for (int k = 0; k < 9; k++)
		op[k] = out[k];
	assert_int_equal(j->run(ip, op, NULL), 0);
	for (int i = 0; i < NM; i++) {
		double xe = x[i], ye = y[i];
		double ylx = fabs(ye * log(fabs(xe) + 1e-30)); /* pow's error grows with it */
		if (!(ylx < 1e30))
			ylx = 0;
		struct { const char *fn; float got; double want, rel, abs; } c[] = {
			{"exp", out[0][i], exp(xe), 4e-7, 1e-37},
			{"log", out[1][i], log(xe), 4e-7, 1e-7},
			{"tanh", out[2][i], tanh(xe), 6e-7, 1e-9},
			{"erf", out[3][i], erf(xe), 0, 1e-6},
			{"pow", out[4][i], powf(x[i], y[i]),
			 2e-6 * (1 + ylx), 1e-37},
			{"floor", out[5][i], floorf(x[i]), 0, 0},
			{"max", out[6][i], fmaxf(x[i], y[i]), 0, 0},
			{"min", out[7][i], fminf(x[i], y[i]), 0, 0},
			{"rsqrt", out[8][i], 1.0 / sqrt(xe), 2.5e-7, 0},
		};
		for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
			if (!close_to(c[k].got, c[k].want, c[k].rel, c[k].abs))
				fail_msg("%s %s(%.9g%s%.9g): got %.9g, want %.9g", what, c[k].fn, x[i],
				         k == 4 || k >= 6 ? ", " : "", k == 4 || k >= 6 ? y[i] : 0.0f,
				         c[k].got, c[k].want);
		/* signs of zeros where C defines them */
		if (out[5][i] == 0 && signbit(out[5][i]) != signbit(floorf(x[i])))
			fail_msg("floor(%g): sign of zero", x[i]);
	}
}

static void test_math(void **state)
{
	(void)state;
	gos_module *m = parse(math_text);
	static float x[NM], y[NM];
	for (int opt = 0; opt <= 2; opt += 2) {
		jit j;
		jit_compile(m, opt, 0, &j);
		/* sweeps over the interesting ranges */
		for (int i = 0; i < NM; i++) {
			x[i] = -105.0f + 210.0f * (float)i / NM;
			y[i] = frand(-4, 4);
		}
		check_math(&j, x, y, "sweep[-105,105]");
		for (int i = 0; i < NM; i++) {
			x[i] = -6.0f + 12.0f * (float)i / NM;
			y[i] = floorf(frand(-6, 6));
		}
		check_math(&j, x, y, "sweep[-6,6]");
		for (int i = 0; i < NM; i++) { /* positive, 1e-44 .. 1e38, denormals included */
			x[i] = powf(10.0f, -44.0f + 82.0f * (float)i / NM);
			y[i] = frand(-3, 3);
		}
		check_math(&j, x, y, "log-sweep");
		/* special values everywhere, in scalar and vector positions */
		static const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1.0f, -1.0f, 0.5f,
		                           -0.5f, 2.0f, -2.0f, 3.0f, -3.0f, 1e-40f, -1e-40f, 88.7f,
		                           -87.5f, 89.0f, 1e30f, -1e30f, 0.625f, -0.625f, 4.0f, 16777216.0f,
		                           -16777217.0f, 8388607.5f, -8388607.5f, 0.99999994f};
		int ns = (int)(sizeof sp / sizeof sp[0]);
		for (int i = 0; i < NM; i++) {
			x[i] = sp[i % ns];
			y[i] = sp[(i / ns) % ns];
		}
		check_math(&j, x, y, "specials");
		jit_free(&j);
	}
	gos_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_parse),
		cmocka_unit_test(test_target_errors),
		cmocka_unit_test(test_target_float_abi),
		cmocka_unit_test(test_target_lookup),
		cmocka_unit_test(test_target_override),
		cmocka_unit_test(test_c_name),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_profile_entry),
		cmocka_unit_test(test_copy_alias),
		cmocka_unit_test(test_conv_vs_interp),
		cmocka_unit_test(test_misc_vs_interp),
		cmocka_unit_test(test_e2e_models_vs_interp),
		cmocka_unit_test(test_empty_reduction),
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_math),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
