/* test_ir.c -- the textual IR: printed form of modules built with the C
 * API (against hand-written expected text), round trips, exact floats,
 * quoting, and parse errors with their line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_ir_fixtures.h"

/* ---- helpers -------------------------------------------------------- */

/* The printed module (malloc'd). */
static char *print_str(const gos_module *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	gos_ir_print(f, m);
	fclose(f);
	return buf;
}

/* Rendered diagnostics (malloc'd). */
static char *render(const gos_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	gos_diags_render(d, f);
	fclose(f);
	return buf;
}

/* Parses text as file; fails the test with the diagnostics on error. */
static gos_module *parse_ok(const char *file, const char *text)
{
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_ir_parse(file, text, strlen(text), &d);
	if (!m || d.n_errors) {
		char *r = render(&d);
		print_error("unexpected parse failure:\n%s\n", r);
		free(r);
		fail();
	}
	gos_diags_free(&d);
	return m;
}

static void assert_verifies(const gos_module *m)
{
	gos_diags d;
	gos_diags_init(&d);
	int n = gos_verify(m, &d);
	if (n) {
		char *r = render(&d);
		print_error("unexpected verifier errors:\n%s\n", r);
		free(r);
	}
	assert_int_equal(n, 0);
	gos_diags_free(&d);
}

/* print(m) == expected, m verifies, and print(parse(print(m))) == print(m). */
static void check_module(gos_module *m, const char *expected)
{
	assert_verifies(m);
	char *a = print_str(m);
	if (expected)
		assert_string_equal(a, expected);
	gos_module *p = parse_ok("roundtrip.gir", a);
	assert_verifies(p);
	char *b = print_str(p);
	assert_string_equal(a, b);
	free(a);
	free(b);
	gos_module_free(p);
	gos_module_free(m);
}

/* ---- printed form of the fixtures ---------------------------------- */

static void test_print_conv(void **state)
{
	(void)state;
	check_module(fx_conv(),
	             "gir 1\n"
	             "model conv\n"
	             "\n"
	             "input %x : f32[1,2,5,5]\n"
	             "weight %c1.Wt : f32[3,2,3,3] = uniform(-0.5, 0.25, seed=0x2a)\n"
	             "weight %c1.B : f32[3] = fill(0.125)\n"
	             "\n"
	             "node c1 = conv2d(X=%x, Wt=%c1.Wt, B=%c1.B) {pad=1, stride=[1, 1]} -> (Y=%c1 : f32[1,3,5,5]) {\n"
	             "  Y[n:1, k:3, p:5, q:5] = sum(c:2, r:3, s:3) {\n"
	             "    %0 = load X[n, c, p + r - 1, q + s - 1] else 0\n"
	             "    %1 = load Wt[k, c, r, s]\n"
	             "    %2 = mul %0, %1\n"
	             "  } -> %2\n"
	             "  Y[n:1, k:3, p:5, q:5] = {\n"
	             "    %0 = load Y[n, k, p, q]\n"
	             "    %1 = load B[k]\n"
	             "    %2 = add %0, %1\n"
	             "  } -> %2\n"
	             "}\n"
	             "\n"
	             "output %c1\n");
}

static void test_print_softmax(void **state)
{
	(void)state;
	check_module(fx_softmax(),
	             "gir 1\n"
	             "model softmax\n"
	             "\n"
	             "input %x : f32[2,5]\n"
	             "\n"
	             "node sm = softmax(X=%x) {axis=-1} -> (Y=%sm : f32[2,5]) {\n"
	             "  local M[2]\n"
	             "  local S[2]\n"
	             "  M[n:2] = max(c:5) {\n"
	             "    %0 = load X[n, c]\n"
	             "  } -> %0\n"
	             "  S[n:2] = sum(c:5) {\n"
	             "    %0 = load X[n, c]\n"
	             "    %1 = load M[n]\n"
	             "    %2 = sub %0, %1\n"
	             "    %3 = exp %2\n"
	             "  } -> %3\n"
	             "  Y[n:2, c:5] = {\n"
	             "    %0 = load X[n, c]\n"
	             "    %1 = load M[n]\n"
	             "    %2 = sub %0, %1\n"
	             "    %3 = exp %2\n"
	             "    %4 = load S[n]\n"
	             "    %5 = div %3, %4\n"
	             "  } -> %5\n"
	             "}\n"
	             "\n"
	             "output %sm\n");
}

static void test_print_maxpool(void **state)
{
	(void)state;
	check_module(fx_maxpool(),
	             "gir 1\n"
	             "model pool\n"
	             "\n"
	             "input %x : f32[1,1,4,4]\n"
	             "\n"
	             "node mp = maxpool2d(X=%x) {kernel=3, stride=2, pad=1} -> (Y=%mp : f32[1,1,2,2]) {\n"
	             "  Y[n:1, c:1, p:2, q:2] = max(r:3, s:3) {\n"
	             "    %0 = load X[n, c, 2*p + r - 1, 2*q + s - 1] else -inf\n"
	             "  } -> %0\n"
	             "}\n"
	             "\n"
	             "output %mp\n");
}

static void test_print_select(void **state)
{
	(void)state;
	check_module(fx_select(),
	             "gir 1\n"
	             "model cat\n"
	             "\n"
	             "input %a : f32[2,3]\n"
	             "input %b : f32[2,2]\n"
	             "\n"
	             "node cat = concat(A=%a, B=%b) {axis=1} -> (Y=%cat : f32[2,5]) {\n"
	             "  Y[n:2, i:5] = {\n"
	             "    %0 = index i\n"
	             "    %1 = const 3\n"
	             "    %2 = lt %0, %1\n"
	             "    %3 = load A[n, min(i, 2)]\n"
	             "    %4 = load B[n, max(i - 3, 0)]\n"
	             "    %5 = select %2, %3, %4\n"
	             "  } -> %5\n"
	             "}\n"
	             "\n"
	             "output %cat\n");
}

static void test_print_chain(void **state)
{
	(void)state;
	check_module(fx_chain(),
	             "gir 1\n"
	             "model chain\n"
	             "\n"
	             "input %x : f32[2,3]\n"
	             "\n"
	             "node r1 = relu(X=%x) -> (Y=%h : f32[2,3]) {\n"
	             "  Y[i:2, j:3] = {\n"
	             "    %0 = load X[i, j]\n"
	             "    %1 = const 0\n"
	             "    %2 = max %0, %1\n"
	             "  } -> %2\n"
	             "}\n"
	             "\n"
	             "node r2 = relu(X=%h) -> (Y=%y : f32[2,3]) {\n"
	             "  Y[i:2, j:3] = {\n"
	             "    %0 = load X[i, j]\n"
	             "    %1 = const 0\n"
	             "    %2 = max %0, %1\n"
	             "  } -> %2\n"
	             "}\n"
	             "\n"
	             "output %y\n");
}

/* ---- index expressions: precedence and parentheses ------------------ */

/* Prints ix[root] of a one-statement scratch module with variables a b c. */
static void check_ix(gos_module *m, gos_stmt *s, int root, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gos_ir_print_ix(f, &m->nodes[0], s, root);
	fclose(f);
	assert_string_equal(buf, want);
	free(buf);
}

static void test_ix_infix(void **state)
{
	(void)state;
	gos_module *m = gos_module_new("ix");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 3, SHAPE(4, 64, 8));
	int y = fx_val(m, "y", GOS_VAL_TEMP, 3, SHAPE(4, 64, 8));
	int ni = fx_node(m, "n", "copy", "X", &x, "Y", &y);
	gos_stmt *s = fx_stmt(m, ni, 1, GOS_RED_NONE, "a b c", NULL);
	int a = fx_v(s, 0), b = fx_v(s, 1), c = fx_v(s, 2);
	check_ix(m, s, fx_bin(s, GOS_IX_SUB, a, fx_bin(s, GOS_IX_ADD, b, c)), "a - (b + c)");
	check_ix(m, s, fx_bin(s, GOS_IX_SUB, fx_bin(s, GOS_IX_ADD, a, b), c), "a + b - c");
	check_ix(m, s, fx_bin(s, GOS_IX_ADD, a, fx_bin(s, GOS_IX_SUB, b, c)), "a + (b - c)");
	check_ix(m, s, fx_bin(s, GOS_IX_MUL, fx_bin(s, GOS_IX_ADD, a, fx_c(s, 1)), fx_c(s, 2)),
	         "(a + 1)*2");
	int d32 = fx_ix(s, GOS_IX_DIV, b, 0, 32);
	check_ix(m, s, fx_bin(s, GOS_IX_ADD, fx_bin(s, GOS_IX_MUL, d32, fx_c(s, 4)), c),
	         "(b / 32)*4 + c");
	check_ix(m, s, fx_ix(s, GOS_IX_MOD, fx_bin(s, GOS_IX_MUL, a, fx_c(s, 3)), 0, 7),
	         "(a*3) % 7");
	check_ix(m, s, fx_bin(s, GOS_IX_MUL, b, fx_c(s, -2)), "b*-2");
	check_ix(m, s, fx_bin(s, GOS_IX_SUB, b, fx_c(s, -1)), "b - -1");
	check_ix(m, s, fx_bin(s, GOS_IX_MIN, fx_bin(s, GOS_IX_MAX, fx_bin(s, GOS_IX_SUB, a, fx_c(s, 1)),
	                                            fx_c(s, 0)), fx_c(s, 3)),
	         "min(max(a - 1, 0), 3)");
	check_ix(m, s, fx_c(s, INT64_MIN), "-9223372036854775808");
	check_ix(m, s, 999, "<bad ix 999>");

	/* the same trees survive the parser: load them all in one statement */
	const char *text =
		"gir 1\nmodel ix\ninput %x : f32[4,64,8]\n"
		"node n = copy(X=%x) -> (Y=%y : f32[4,64,8]) {\n"
		"  Y[a:4, b:64, c:8] = {\n"
		"    %0 = index a - (b + c), a + b - c, a + (b - c), (a + 1)*2\n"
		"    %1 = index (b / 32)*4 + c, (a*3) % 7, b*-2, b - -1\n"
		"    %2 = index min(max(a - 1, 0), 3), -9223372036854775808, -(a + b), a*b*c\n"
		"    %3 = load X[a, b, c]\n"
		"  } -> %3\n}\noutput %y\n";
	gos_module *p = parse_ok("ix.gir", text);
	char *out = print_str(p);
	assert_non_null(strstr(out, "%0 = index a - (b + c), a + b - c, a + (b - c), (a + 1)*2\n"));
	assert_non_null(strstr(out, "%1 = index (b / 32)*4 + c, (a*3) % 7, b*-2, b - -1\n"));
	/* unary minus of a non-literal is -1*x; a*b*c associates left */
	assert_non_null(strstr(out, "%2 = index min(max(a - 1, 0), 3), -9223372036854775808, -1*(a + b), (a*b)*c\n"));
	free(out);
	gos_module_free(p);
	gos_module_free(m);
}

/* ---- exact floats, quoting, every field ------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Random bit patterns as f32 data and f64 attributes come back exactly. */
static void test_float_roundtrip(void **state)
{
	(void)state;
	enum { N = 4000 };
	gos_module *m = gos_module_new("floats");
	int w = fx_val(m, "w", GOS_VAL_WEIGHT, 1, SHAPE(N));
	float *data = GOS_NEWN(m->arena, float, N);
	double *dv = GOS_NEWN(m->arena, double, N);
	uint64_t seed = 1;
	for (int i = 0; i < N; i++) {
		uint64_t r = splitmix(&seed);
		uint32_t bits = (uint32_t)r;
		float f;
		double g;
		memcpy(&f, &bits, sizeof f);
		memcpy(&g, &r, sizeof g);
		data[i] = isnan(f) ? 1.0f / 3 : f;
		dv[i] = isnan(g) ? 0.1 : g;
	}
	data[0] = -0.0f;
	data[1] = 1e-45f; /* smallest denormal */
	data[2] = 3.40282347e38f;
	data[3] = -INFINITY;
	dv[0] = 4.9406564584124654e-324;
	dv[1] = -0.0;
	m->vals[w].init = GOS_INIT_DATA;
	m->vals[w].data = data;
	int x = fx_val(m, "x", GOS_VAL_INPUT, 1, SHAPE(1));
	int y = fx_val(m, "y", GOS_VAL_TEMP, 1, SHAPE(1));
	int ni = fx_node(m, "n", "id", "X", &x, "Y", &y);
	fx_attr(m, ni, "many", N, dv);
	gos_stmt *s = fx_stmt(m, ni, 1, GOS_RED_NONE, "i", NULL);
	fx_load_vars(m, s, 0, 1);
	gos_module_add_output(m, y);

	char *a = print_str(m);
	gos_module *p = parse_ok("floats.gir", a);
	const float *pd = p->vals[0].data;
	assert_non_null(pd);
	assert_memory_equal(pd, data, sizeof(float) * N);
	assert_int_equal(p->nodes[0].attr[0].n, N);
	assert_memory_equal(p->nodes[0].attr[0].v, dv, sizeof(double) * N);
	char *b = print_str(p);
	assert_string_equal(a, b);
	free(a);
	free(b);
	gos_module_free(p);
	gos_module_free(m);
}

/* A module using every field and every name that needs quoting. */
static gos_module *fx_odd(void)
{
	gos_module *m = gos_module_new("my model");
	m->weights_file = gos_arena_strdup(m->arena, "w dir/x\"y\\.safetensors");
	int in = fx_val(m, "in put", GOS_VAL_INPUT, 1, SHAPE(3));
	int num = fx_val(m, "123", GOS_VAL_INPUT, 1, SHAPE(3));
	int nw = fx_val(m, "w/1", GOS_VAL_WEIGHT, 2, SHAPE(2, 2));
	m->vals[nw].init = GOS_INIT_NORMAL;
	m->vals[nw].lo = 0;
	m->vals[nw].hi = 0.02;
	m->vals[nw].seed = UINT64_MAX;
	int k = fx_val(m, "k", GOS_VAL_WEIGHT, 1, SHAPE(3));
	m->vals[k].init = GOS_INIT_FILE;
	m->vals[k].key = gos_arena_strdup(m->arena, "layer.0/w\t\x01");
	int kd = fx_val(m, "kd", GOS_VAL_WEIGHT, 0, NULL);
	m->vals[kd].init = GOS_INIT_FILE;
	int dd = fx_val(m, "d", GOS_VAL_WEIGHT, 2, SHAPE(2, 2));
	m->vals[dd].init = GOS_INIT_DATA;
	m->vals[dd].data = gos_arena_memdup(m->arena, (float[]){-0.0f, 1e-45f, 3.4028235e38f, 0.1f},
	                                    4 * sizeof(float));
	int fl = fx_val(m, "f", GOS_VAL_WEIGHT, 1, SHAPE(1));
	m->vals[fl].init = GOS_INIT_FILL;
	m->vals[fl].lo = -INFINITY;
	int out2 = fx_val(m, "out 2", GOS_VAL_TEMP, 0, NULL);
	fx_val(m, "orphan", GOS_VAL_TEMP, 1, SHAPE(7)); /* defined by no node, unused */
	int out = fx_val(m, "out", GOS_VAL_TEMP, 1, SHAPE(3));
	int ni = fx_node(m, "node", "my op", "local B", (int[]){in, num}, "Y Z",
	                 (int[]){out, out2});
	fx_attr(m, ni, "empty", 0, NULL);
	fx_attr(m, ni, "v", 3, (double[]){0.1, 1e300, -2.5e-310});
	fx_attr(m, ni, "odd name", 1, (double[]){NAN});
	int t1 = fx_local(m, ni, "t", 1, SHAPE(3));
	int t2 = fx_local(m, ni, "t", 1, SHAPE(3));
	int z = fx_local(m, ni, "z", 0, NULL);
	gos_stmt *s = fx_stmt(m, ni, t1, GOS_RED_NONE, "min", NULL);
	fx_load_vars(m, s, 0, 1);
	s = fx_stmt(m, ni, t2, GOS_RED_NONE, "i", NULL);
	int a = fx_load_vars(m, s, t1, 1);
	int c = fx_const(s, NAN);
	int c2 = fx_const(s, -0.0f);
	fx_ins(s, GOS_OP_FMA, a, c, c2);
	fx_ins(s, GOS_OP_ADD, a, a, 0);
	/* a statement without variable names; duplicate names "j j" */
	s = fx_stmt(m, ni, 2, GOS_RED_NONE, "a", NULL);
	s->var_names = NULL;
	a = fx_load_vars(m, s, t2, 1);
	int b = fx_load_vars(m, s, 1, 1);
	fx_index(m, s, fx_bin(s, GOS_IX_ADD,
	                      fx_ix(s, GOS_IX_MOD, fx_bin(s, GOS_IX_MUL, fx_v(s, 0), fx_c(s, 1000000007)),
	                            0, 7),
	                      fx_c(s, -INT64_MAX)));
	fx_ins(s, GOS_OP_ADD, a, b, 0);
	s = fx_stmt(m, ni, z, GOS_RED_SUM, "j j", SHAPE(3, 2));
	int jj = fx_bin(s, GOS_IX_ADD, fx_v(s, 0), fx_v(s, 1));
	int yj = fx_ix(s, GOS_IX_MIN, jj, fx_c(s, 2), 0);
	fx_load(m, s, 2, 1, &yj, 0, 0);
	s = fx_stmt(m, ni, 3, GOS_RED_NONE, "", NULL);
	fx_load(m, s, z, 0, NULL, 0, 0);
	for (int op = GOS_OP_ADD; op < GOS_NOPS; op++) {
		int ar = gos_opinfo_tab[op].arity;
		(void)ar;
		fx_ins(s, (gos_opcode)op, 0, 0, 0);
	}
	fx_ins(s, GOS_OP_NEG, 0, 0, 0);
	s->result = 0;
	gos_module_add_output(m, out);
	gos_module_add_output(m, num);
	gos_module_add_output(m, out2);
	return m;
}

static void test_odd_names_roundtrip(void **state)
{
	(void)state;
	gos_module *m = fx_odd();
	assert_verifies(m);
	char *a = print_str(m);
	static const char *const want[] = {
		"model \"my model\"\n",
		"weights \"w dir/x\\\"y\\\\.safetensors\"\n",
		"input %\"in put\" : f32[3]\n",
		"input %123 : f32[3]\n",
		"weight %\"w/1\" : f32[2,2] = normal(0, 0.02, seed=0xffffffffffffffff)\n",
		"weight %k : f32[3] = file(\"layer.0/w\\t\\x01\")\n",
		"weight %kd : f32[] = file()\n",
		"weight %d : f32[2,2] = data(-0, 1e-45, 3.4028235e+38, 0.1)\n",
		"weight %f : f32[1] = fill(-inf)\n",
		"temp %orphan : f32[7]\n",
		"node \"node\" = \"my op\"(\"local\"=%\"in put\", B=%123) "
		"{empty=[], v=[0.1, 1e+300, -2.5e-310], \"odd name\"=nan} "
		"-> (Y=%out : f32[3], Z=%\"out 2\" : f32[]) {\n",
		"  local t[3]\n  local t[3]\n  local z[]\n",
		"  t#4[\"min\":3] = {\n    %0 = load \"local\"[\"min\"]\n  } -> %0\n",
		"  t#5[i:3] = {\n    %0 = load t#4[i]\n    %1 = const nan\n    %2 = const -0\n"
		"    %3 = fma %0, %1, %2\n    %4 = add %0, %0\n  } -> %4\n",
		"  Y[v0:3] = {\n    %0 = load t#5[v0]\n    %1 = load B[v0]\n"
		"    %2 = index (v0*1000000007) % 7 + -9223372036854775807\n    %3 = add %0, %1\n  } -> %3\n",
		"  z[] = sum(j:3, j:2) {\n    %0 = load Y[min(j#0 + j#1, 2)]\n  } -> %0\n",
		"  Z[] = {\n    %0 = load z[]\n    %1 = add %0, %0\n",
		"    %22 = select %0, %0, %0\n    %23 = neg %0\n  } -> %0\n",
		"output %out\noutput %123\noutput %\"out 2\"\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		if (!strstr(a, want[i])) {
			print_error("missing in printed module:\n%s\n---- printed:\n%s\n", want[i], a);
			fail();
		}
	gos_module *p = parse_ok("odd.gir", a);
	assert_verifies(p);
	/* fields the text must carry exactly */
	assert_string_equal(p->name, "my model");
	assert_string_equal(p->weights_file, "w dir/x\"y\\.safetensors");
	assert_true(p->vals[2].seed == UINT64_MAX);
	assert_string_equal(p->vals[3].key, "layer.0/w\t\x01");
	assert_null(p->vals[4].key);
	assert_true(signbit(p->vals[5].data[0]) && p->vals[5].data[0] == 0);
	assert_true(p->vals[6].lo == -INFINITY);
	assert_int_equal(p->n_val, m->n_val);
	const gos_node *n = &p->nodes[0];
	assert_int_equal(n->n_buf, 7);
	assert_int_equal(n->bufs[5].value, -1);
	assert_int_equal(n->stmts[3].n_red, 2);
	assert_int_equal(n->stmts[3].red, GOS_RED_SUM);
	assert_true(n->stmts[3].red_extent[1] == 2);
	assert_true(isnan(n->attr[2].v[0]));
	char *b = print_str(p);
	assert_string_equal(a, b);
	free(a);
	free(b);
	gos_module_free(p);
	gos_module_free(m);
}

/* Value order of the parsed module keeps inputs in their order and the
 * statement structure intact (checked on the conv fixture). */
static void test_parse_structure(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	char *a = print_str(m);
	gos_module *p = parse_ok("conv.gir", a);
	assert_int_equal(p->n_val, 4);
	assert_int_equal(p->vals[0].kind, GOS_VAL_INPUT);
	assert_int_equal(p->vals[1].init, GOS_INIT_UNIFORM);
	assert_true(p->vals[1].lo == -0.5 && p->vals[1].hi == 0.25 && p->vals[1].seed == 42);
	const gos_node *n = &p->nodes[0];
	assert_string_equal(n->op, "conv2d");
	assert_int_equal(n->n_in, 3);
	assert_int_equal(n->n_out, 1);
	assert_int_equal(n->out[0], 3);
	assert_int_equal(n->bufs[3].value, 3);
	assert_int_equal(n->loc.line, 8);
	assert_int_equal(n->loc.col, 1);
	assert_int_equal(p->vals[1].loc.line, 5);
	assert_int_equal(p->vals[1].loc.col, 8);
	const gos_stmt *s = &n->stmts[0];
	assert_int_equal(s->red, GOS_RED_SUM);
	assert_int_equal(s->n_red, 3);
	assert_int_equal(s->n_ins, 3);
	assert_int_equal(s->ins[0].op, GOS_OP_LOAD);
	assert_int_equal(s->ins[0].has_pad, 1);
	assert_int_equal(s->ins[0].nidx, 4);
	assert_int_equal(s->ins[2].arg[0], 0);
	assert_int_equal(s->ins[2].arg[1], 1);
	assert_string_equal(s->var_names[5], "r");
	/* index 2 of the load is (p + r) - 1 */
	const gos_ix *x = &s->ix[s->ins[0].idx[2]];
	assert_int_equal(x->op, GOS_IX_SUB);
	assert_int_equal(s->ix[x->a].op, GOS_IX_ADD);
	assert_int_equal(s->ix[s->ix[x->a].b].op, GOS_IX_VAR);
	assert_int_equal(s->ix[s->ix[x->a].b].k, 5);
	assert_int_equal(s->ix[x->b].k, 1);
	free(a);
	gos_module_free(p);
	gos_module_free(m);
}

/* Comments, other spacing and a hand-written layout parse; the printed
 * form is canonical. */
static void test_parse_free_form(void **state)
{
	(void)state;
	const char *text =
		"// leading comment\n"
		"gir 1 model pool   input %x:f32[1,1,4,4] // trailing\n"
		"node mp=maxpool2d(X=%x){kernel=3,stride=2,pad=1}->(Y=%mp:f32[1,1,2,2]){\n"
		"Y[n:1,c:1,p:2,q:2]=max(r:3,s:3){%0=load X[n,c,2*p+r-1,2*q+s-1]else-inf}->%0}\n"
		"output %mp";
	gos_module *p = parse_ok("free.gir", text);
	char *a = print_str(p);
	gos_module *m = fx_maxpool();
	char *b = print_str(m);
	assert_string_equal(a, b);
	free(a);
	free(b);
	gos_module_free(p);
	gos_module_free(m);
}

/* ---- parse errors ------------------------------------------------------- */

typedef struct bad_case {
	const char *text;
	const char *want; /* prefix of the first rendered diagnostic */
} bad_case;

#define HDR "gir 1\nmodel t\ninput %x : f32[2,3]\n"
#define NODE "node r = relu(X=%x) -> (Y=%y : f32[2,3]) {\n"

static const bad_case bad_cases[] = {
	{"", "bad.gir:1:1: error: expected 'gir', found end of file"},
	{"gir 2\nmodel t\n", "bad.gir:1:5: error: unsupported gir version 2"},
	{"gir 1\nmodle t\n", "bad.gir:2:1: error: expected 'model', found 'modle'"},
	{HDR "input %x : f32[1]\n", "bad.gir:4:7: error: value '%x' is already defined at 3:7"},
	{HDR "input %z : f64[1]\n", "bad.gir:4:12: error: expected a type (f32 or i64), found 'f64'"},
	{HDR "input %z : f32[1,x]\n", "bad.gir:4:18: error: expected a dimension, found 'x'"},
	{HDR "input %z : f32[1,2,3,4,5,6,7,8,9]\n", "bad.gir:4:32: error: more than 8 dimensions"},
	{HDR "input %z : f32[99999999999999999999]\n",
	 "bad.gir:4:16: error: integer 99999999999999999999 is too large"},
	{HDR "weight %w : f32[2] = data(1, 2, 3)\n",
	 "bad.gir:4:22: error: data() has 3 values but f32[...] of '%w' has 2"},
	{HDR "weight %w : f32[2] = fill(1e999)\n",
	 "bad.gir:4:27: error: number 1e999 is out of range for a double"},
	{HDR "weight %w : f32[2] = data(1, 1e39)\n",
	 "bad.gir:4:30: error: number 1e39 is out of range for f32"},
	{HDR "weight %w : f32[2] = uniform(0, 1, seed=0x1ffffffffffffffff)\n",
	 "bad.gir:4:41: error: seed 0x1ffffffffffffffff does not fit 64 bits"},
	{HDR "weight %w : f32[2] = random(0, 1)\n",
	 "bad.gir:4:22: error: expected an initialiser"},
	{"gir 1\nmodel \"unterminated\n", "bad.gir:2:7: error: unterminated string"},
	{"gir 1\nmodel \"a\\qb\"\n", "bad.gir:2:9: error: unknown escape in string"},
	{"gir 1\nmodel t\n@\n", "bad.gir:3:1: error: unexpected character '@'"},
	{"gir 1\nmodel t\n\x01\n", "bad.gir:3:1: error: unexpected byte 0x01"},
	{HDR "node r = relu(X=%xx) -> () {}\n",
	 "bad.gir:4:17: error: unknown value '%xx' (did you mean '%x'?)"},
	{HDR "node r = relu(X=%x) -> (Y=%y) {}\n",
	 "bad.gir:4:27: error: unknown value '%y' (a result that defines a value needs its type"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n    %1 = frob %0\n  } -> %1\n}\n",
	 "bad.gir:7:10: error: unknown instruction 'frob'"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n    %2 = neg %0\n  } -> %2\n}\n",
	 "bad.gir:7:5: error: instruction %2 is number 1: write %1"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n    %1 = add %0, %1\n  } -> %1\n}\n",
	 "bad.gir:7:18: error: %1 does not name an earlier instruction"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n    %1 = add %0\n  } -> %1\n}\n",
	 "bad.gir:8:3: error: expected ',', found '}'"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i]\n  } -> %0\n}\n",
	 "bad.gir:6:16: error: 'X' has rank 2 but the load has 1 indices"},
	{HDR NODE "  Y[i:2, j:4] = {\n    %0 = load X[i, j]\n  } -> %0\n}\n",
	 "bad.gir:5:10: error: index variable 'j' ranges over 4 but dimension 1 of 'Y' has size 3"},
	{HDR NODE "  Y[i:2] = {\n    %0 = load X[i, i]\n  } -> %0\n}\n",
	 "bad.gir:5:4: error: 'Y' has rank 2 but 1 index variables are given"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, k]\n  } -> %0\n}\n",
	 "bad.gir:6:20: error: unknown index variable 'k'"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load Q[i, j]\n  } -> %0\n}\n",
	 "bad.gir:6:15: error: node 'r' has no buffer 'Q'"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j / x]\n  } -> %0\n}\n",
	 "bad.gir:6:24: error: expected an integer divisor, found 'x'"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j * 1.5]\n  } -> %0\n}\n",
	 "bad.gir:6:24: error: index expressions are integers; found 1.5"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n  } -> %3\n}\n",
	 "bad.gir:7:8: error: %3 does not name an earlier instruction"},
	{HDR NODE "  Y[i:2, j:3] = {\n    %0 = load X[i, j]\n  } -> %0\n",
	 "bad.gir:8:1: error: expected 'local', a statement or '}', found end of file"},
	{HDR NODE "  Y[i:2, j:3] = prod(k:2) {\n    %0 = load X[i, j]\n  } -> %0\n}\n",
	 "bad.gir:5:17: error: expected a reduction (sum, max, min) or '{', found 'prod'"},
	{HDR NODE "  local T[2]\n  local T[2]\n  T[i:2] = {\n    %0 = const 1\n  } -> %0\n}\n",
	 "bad.gir:7:3: error: several buffers of node 'r' are named 'T' (write T#N)"},
	{HDR NODE "  local T[2]\n  T#1[i:2] = {\n    %0 = const 1\n  } -> %0\n}\n",
	 "bad.gir:6:5: error: buffer #1 of node 'r' is not 'T'"},
	{HDR NODE "  Y[i:2, i:3] = {\n    %0 = load X[i, i]\n  } -> %0\n}\n",
	 "bad.gir:6:17: error: several index variables are named 'i' (write i#N)"},
	{HDR "output %q\n", "bad.gir:4:8: error: unknown value '%q'"},
	{HDR "bogus\n", "bad.gir:4:1: error: expected 'input', 'weight', 'temp', 'node', 'output' or 'weights', found 'bogus'"},
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		gos_diags d;
		gos_diags_init(&d);
		const char *t = bad_cases[i].text;
		gos_module *m = gos_ir_parse("bad.gir", t, strlen(t), &d);
		char *r = render(&d);
		if (m || d.n_errors != 1 ||
		    strncmp(r, bad_cases[i].want, strlen(bad_cases[i].want)) != 0) {
			print_error("case %zu: want\n  %s\ngot\n  %s\n", i, bad_cases[i].want, r);
			fail();
		}
		free(r);
		gos_diags_free(&d);
	}
}

/* Every prefix of a valid text, and the text with each byte replaced by
 * a few troublemakers, parses or fails cleanly (no crash, no leak under
 * ASan); successful parses print something that parses again. */
static void test_parse_mutations(void **state)
{
	(void)state;
	gos_module *m = fx_odd();
	char *text = print_str(m);
	gos_module_free(m);
	size_t len = strlen(text);
	char *buf = malloc(len + 1);
	static const char repl[] = {'\0', '"', '%', '[', ')', '9', '-', '#', '\n'};
	for (size_t i = 0; i <= len; i++) {
		for (size_t r = 0; r <= sizeof repl; r++) {
			memcpy(buf, text, len);
			size_t n = len;
			if (r == sizeof repl)
				n = i; /* the prefix */
			else if (i < len)
				buf[i] = repl[r];
			else
				continue;
			gos_diags d;
			gos_diags_init(&d);
			gos_module *p = gos_ir_parse("mut.gir", buf, n, &d);
			assert_true((p == NULL) == (d.n_errors > 0));
			if (p) {
				gos_verify(p, &d);
				char *a = print_str(p);
				gos_module *q = gos_ir_parse("mut2.gir", a, strlen(a), &d);
				if (!gos_verify(p, NULL)) {
					assert_non_null(q);
					char *b = print_str(q);
					assert_string_equal(a, b);
					free(b);
				}
				gos_module_free(q);
				free(a);
			}
			gos_module_free(p);
			gos_diags_free(&d);
		}
	}
	free(buf);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_print_conv),
		cmocka_unit_test(test_print_softmax),
		cmocka_unit_test(test_print_maxpool),
		cmocka_unit_test(test_print_select),
		cmocka_unit_test(test_print_chain),
		cmocka_unit_test(test_ix_infix),
		cmocka_unit_test(test_float_roundtrip),
		cmocka_unit_test(test_odd_names_roundtrip),
		cmocka_unit_test(test_parse_structure),
		cmocka_unit_test(test_parse_free_form),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
