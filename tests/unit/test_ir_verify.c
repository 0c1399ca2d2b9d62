/* test_ir_verify.c -- gos_verify: valid fixtures pass, and each invariant
 * of ir.h, broken on its own in an otherwise valid module, is reported
 * (one test per invariant). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "test_ir_fixtures.h"

/* Verifies m, expects errors, one of whose messages contains want; frees m. */
static void expect_error(gos_module *m, const char *want)
{
	gos_diags d;
	gos_diags_init(&d);
	int n = gos_verify(m, &d);
	int found = 0;
	for (int i = 0; i < d.n; i++)
		if (strstr(d.v[i].msg, want))
			found = 1;
	if (n < 1 || !found || n != d.n_errors) {
		print_error("want an error containing \"%s\"; got %d:\n", want, n);
		for (int i = 0; i < d.n; i++)
			print_error("  %s\n", d.v[i].msg);
		fail();
	}
	assert_int_equal(gos_verify(m, NULL), n); /* counting without diags */
	gos_diags_free(&d);
	gos_module_free(m);
}

static void expect_ok(gos_module *m)
{
	gos_diags d;
	gos_diags_init(&d);
	int n = gos_verify(m, &d);
	for (int i = 0; i < d.n; i++)
		print_error("  %s\n", d.v[i].msg);
	assert_int_equal(n, 0);
	gos_diags_free(&d);
	gos_module_free(m);
}

static gos_stmt *stmt(gos_module *m, int node, int s)
{
	return &m->nodes[node].stmts[s];
}

static void test_valid_fixtures(void **state)
{
	(void)state;
	expect_ok(fx_conv());
	expect_ok(fx_softmax());
	expect_ok(fx_maxpool());
	expect_ok(fx_select());
	expect_ok(fx_chain());
	gos_module *m = fx_conv();
	gos_module *c = gos_module_clone(m);
	expect_ok(c);
	gos_module_free(m);
}

/* ---- module and values ------------------------------------------------ */

static void test_value_names_unique(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[2].name = "x";
	expect_error(m, "value 'x' (number 2) has the same name as value number 0");
}

static void test_node_names_unique(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	m->nodes[1].name = "r1";
	expect_error(m, "node 'r1' (number 1) has the same name as node number 0");
}

static void test_value_shape_positive(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	m->vals[0].shape[1] = 0;
	m->nodes[0].bufs[0].shape[1] = 0;
	expect_error(m, "value 'x' has dimension 1 of size 0");
}

static void test_value_rank_range(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	m->vals[0].rank = GOS_MAX_RANK + 1;
	expect_error(m, "value 'x' has rank 9");
}

static void test_numel_overflow(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	int64_t big[4] = {INT64_MAX / 2, 3, 1, 1};
	int v = gos_module_add_value(m, "huge", GOS_VAL_INPUT, GOS_F32, 4, big);
	(void)v;
	expect_error(m, "value 'huge' has more than 2^63 elements");
}

static void test_weight_needs_init(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[1].init = GOS_INIT_NONE;
	expect_error(m, "weight 'c1.Wt' has no initialiser");
}

static void test_data_init_needs_data(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[2].init = GOS_INIT_DATA;
	expect_error(m, "weight 'c1.B' has inline data init but no data");
}

static void test_file_init_needs_file(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[2].init = GOS_INIT_FILE;
	expect_error(m, "weight 'c1.B' comes from the weights file but the module names none");
}

static void test_uniform_bounds(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[1].lo = 1;
	m->vals[1].hi = -1;
	expect_error(m, "uniform(1, -1) needs finite bounds lo <= hi");
}

static void test_normal_stddev(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[1].init = GOS_INIT_NORMAL;
	m->vals[1].lo = 0;
	m->vals[1].hi = -0.5;
	expect_error(m, "needs a finite mean and stddev >= 0");
}

static void test_init_only_for_weights(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[0].init = GOS_INIT_FILL;
	expect_error(m, "value 'x' is not a weight but has an initialiser");
}

static void test_value_kind_valid(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[0].kind = (gos_valkind)7;
	expect_error(m, "value 'x' has an unknown kind 7");
}

static void test_dtype_f32_in_nodes(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	m->vals[1].dtype = GOS_I64;
	expect_error(m, "defines 'h' of dtype i64 (nodes compute in f32)");
}

static void test_dtype_valid(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->vals[2].dtype = (gos_dtype)5;
	expect_error(m, "value 'c1.B' has an unknown dtype 5");
}

static void test_unused_i64_value_ok(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	int v = gos_module_add_value(m, "shape", GOS_VAL_WEIGHT, GOS_I64, 1, (int64_t[]){4});
	m->vals[v].init = GOS_INIT_FILL;
	expect_ok(m);
}

/* ---- graph ----------------------------------------------------------- */

static void test_node_input_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].in[1] = 17;
	expect_error(m, "input 1 is value 17, out of range (4 values)");
}

static void test_node_output_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].out[0] = -1;
	expect_error(m, "output 0 is value -1, out of range");
}

static void test_topological_order(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	gos_node t = m->nodes[0];
	m->nodes[0] = m->nodes[1];
	m->nodes[1] = t;
	expect_error(m, "reads 'h' before node 1 ('r1') defines it (nodes must be in topological order)");
}

static void test_single_definition(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	m->nodes[1].out[0] = 1;
	m->nodes[1].bufs[1].value = 1;
	m->nodes[1].in[0] = 0;
	m->nodes[1].bufs[0].value = 0;
	expect_error(m, "defines 'h', which node 0 ('r1') already defines");
}

static void test_defines_input(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	m->vals[1].kind = GOS_VAL_INPUT;
	expect_error(m, "defines 'h', which is a model input");
}

static void test_reads_undefined_temp(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	int v = gos_module_add_value(m, "ghost", GOS_VAL_TEMP, GOS_F32, 2, (int64_t[]){2, 3});
	m->nodes[0].in[0] = v;
	m->nodes[0].bufs[0].value = v;
	expect_error(m, "reads 'ghost', which no node defines");
}

static void test_output_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->outputs[0] = 4;
	expect_error(m, "model output 0 is value 4, out of range (4 values)");
}

static void test_output_defined(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	gos_module_add_value(m, "never", GOS_VAL_TEMP, GOS_F32, 1, (int64_t[]){3});
	m->outputs[0] = 4;
	expect_error(m, "model output 'never' is never defined");
}

/* ---- node buffers --------------------------------------------------------- */

static void test_buf_shape_matches_value(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].bufs[0].shape[3] = 6;
	expect_error(m, "buffer 'X' has shape [1,2,5,6] but value 'x' has shape [1,2,5,5]");
}

static void test_buf_rank_matches_value(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].bufs[2].rank = 2;
	m->nodes[0].bufs[2].shape[1] = 1;
	expect_error(m, "buffer 'B' has shape [3,1] but value 'c1.B' has shape [3]");
}

static void test_buf_value_link(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].bufs[1].value = 2;
	expect_error(m, "buffer 'Wt' (input 1) is linked to value 2 instead of 1");
}

static void test_local_buf_unlinked(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	m->nodes[0].bufs[2].value = 0;
	expect_error(m, "local buffer 'M' is linked to value 0 (locals have -1)");
}

static void test_buf_count(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].n_buf = 3;
	expect_error(m, "has 3 buffers but 3 inputs and 1 outputs");
}

static void test_output_written(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	m->nodes[0].n_stmt = 2; /* drop the statement writing Y */
	expect_error(m, "output 'Y' is never written");
}

/* ---- statements ------------------------------------------------------- */

static void test_stmt_dst_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->dst = 9;
	expect_error(m, "writes buffer 9 but the node has 4 buffers");
}

static void test_stmt_writes_input(void **state)
{
	(void)state;
	gos_module *m = fx_chain();
	stmt(m, 0, 0)->dst = 0;
	expect_error(m, "writes 'X', an input of the node");
}

static void test_stmt_var_count(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	gos_stmt *s = stmt(m, 0, 1);
	s->n_red = GOS_MAX_VARS;
	s->red_extent = GOS_NEWN(m->arena, int64_t, GOS_MAX_VARS);
	expect_error(m, "has 25 index and reduction variables (at most 24)");
}

static void test_stmt_none_has_no_red(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	stmt(m, 0, 1)->red = GOS_RED_NONE;
	expect_error(m, "has 1 reduction variables but no reduction (none needs 0)");
}

static void test_stmt_red_kind(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	stmt(m, 0, 1)->red = (gos_red)9;
	expect_error(m, "unknown reduction kind 9");
}

static void test_stmt_red_extent_positive(void **state)
{
	(void)state;
	gos_module *m = fx_maxpool();
	stmt(m, 0, 0)->red_extent[1] = 0;
	expect_error(m, "reduction variable 5 ('s') has extent 0 (must be >= 1)");
}

static void test_stmt_result_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->result = 3;
	expect_error(m, "result %3 is not one of its 3 instructions");
}

static void test_stmt_not_empty(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 1)->n_ins = 0;
	expect_error(m, "has no instructions");
}

static void test_reads_local_before_write(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	gos_stmt t = *stmt(m, 0, 0); /* M = max ...; S = sum ... reads M */
	*stmt(m, 0, 0) = *stmt(m, 0, 1);
	*stmt(m, 0, 1) = t;
	expect_error(m, "instruction %1 reads 'M' before any statement writes it");
}

static void test_self_read_other_element(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	gos_stmt *s = stmt(m, 0, 1); /* Y[n,k,p,q] = Y[n,k,p,q] + B[k] */
	s->ix[s->ins[0].idx[2]].k = 3; /* read Y[n, k, q, q] */
	expect_error(m, "instruction %0 reads 'Y', which this statement writes, at another element");
}

static void test_self_read_unwritten(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	m->nodes[0].stmts[0] = m->nodes[0].stmts[1];
	m->nodes[0].n_stmt = 1;
	expect_error(m, "reads 'Y', which this statement writes and no earlier one did");
}

/* ---- index expressions -------------------------------------------------- */

static void test_ix_operand_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_maxpool();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[s->ins[0].idx[2]].b = 99;
	expect_error(m, "(sub) has an operand out of range (a=");
}

static void test_ix_var_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_maxpool();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[s->ins[0].idx[0]].k = 6;
	expect_error(m, "reads variable 6 but the statement has 6 variables");
}

static void test_ix_op_valid(void **state)
{
	(void)state;
	gos_module *m = fx_maxpool();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[0].op = (gos_ixop)42;
	expect_error(m, "index node 0 has an unknown opcode 42");
}

static void test_ix_acyclic(void **state)
{
	(void)state;
	gos_module *m = fx_maxpool();
	gos_stmt *s = stmt(m, 0, 0);
	int root = s->ins[0].idx[2]; /* sub(add(mul(2, p), r), 1) */
	int add = s->ix[root].a;
	s->ix[add].b = root;
	expect_error(m, "is its own operand (a cycle");
}

static void test_ix_div_positive(void **state)
{
	(void)state;
	gos_module *m = fx_select();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[s->ins[3].idx[1]] = (gos_ix){GOS_IX_DIV, 1, 0, 0}; /* A[n, i / 0] */
	expect_error(m, "division by 0 (the divisor must be > 0)");
}

static void test_ix_mod_positive(void **state)
{
	(void)state;
	gos_module *m = fx_select();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[s->ins[3].idx[1]] = (gos_ix){GOS_IX_MOD, 1, 0, -3};
	expect_error(m, "modulo by -3 (the divisor must be > 0)");
}

static void test_ix_overflow(void **state)
{
	(void)state;
	gos_module *m = fx_select();
	gos_stmt *s = stmt(m, 0, 0);
	/* index i*(2^62) + 2^62: overflows for i >= 1 */
	int big = fx_c(s, INT64_C(1) << 62);
	int root = fx_bin(s, GOS_IX_ADD, fx_bin(s, GOS_IX_MUL, fx_v(s, 1), big), big);
	s->ins[0].idx[0] = root;
	expect_error(m, "index expression `i*4611686018427387904 + 4611686018427387904` overflows 64-bit integers");
}

/* ---- instructions --------------------------------------------------------- */

static void test_ins_op_valid(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->ins[2].op = (gos_opcode)77;
	expect_error(m, "instruction %2 has an unknown opcode 77");
}

static void test_ins_args_precede(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->ins[2].arg[1] = 2;
	expect_error(m, "instruction %2 (mul): operand 2 is %2, which is not an earlier instruction");
}

static void test_ins_arity(void **state)
{
	(void)state;
	gos_module *m = fx_select();
	gos_stmt *s = stmt(m, 0, 0);
	s->ins[5].arg[2] = -1; /* select reads 3 operands */
	expect_error(m, "instruction %5 (select): operand 3 is %-1");
}

static void test_load_rank(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->ins[1].nidx = 3;
	expect_error(m, "instruction %1 loads 'Wt' with 3 indices but its rank is 4");
}

static void test_load_buf_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->ins[1].buf = 4;
	expect_error(m, "instruction %1 (load) reads buffer 4 but the node has 4");
}

static void test_load_idx_in_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	gos_stmt *s = stmt(m, 0, 0);
	s->ins[1].idx[2] = s->n_ix;
	expect_error(m, "instruction %1 (load): index 2 names index node");
}

static void test_index_one_expr(void **state)
{
	(void)state;
	gos_module *m = fx_select();
	stmt(m, 0, 0)->ins[0].nidx = 2;
	stmt(m, 0, 0)->ins[0].idx = (int[]){0, 0};
	expect_error(m, "instruction %0 (index) has 2 index expressions (must be 1)");
}

/* ---- bounds (interval analysis) ---------------------------------------- */

static void test_bounds_unpadded_conv(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	stmt(m, 0, 0)->ins[0].has_pad = 0;
	expect_error(m, "instruction %0 loads 'X' out of bounds: dimension 2 index `p + r - 1` "
	                "ranges over [-1, 5] but the dimension has size 5");
}

static void test_bounds_stride(void **state)
{
	(void)state;
	gos_module *m = fx_maxpool();
	stmt(m, 0, 0)->ins[0].has_pad = 0;
	expect_error(m, "dimension 3 index `2*q + s - 1` ranges over [-1, 3] but the dimension has size 4");
}

static void test_bounds_clamped_ok(void **state)
{
	(void)state;
	/* select's loads are clamped with min/max: in bounds without padding */
	expect_ok(fx_select());
	gos_module *m = fx_select();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[s->ins[3].idx[1]].op = GOS_IX_MAX; /* A[n, max(i, 2)]: up to 4 */
	expect_error(m, "dimension 1 index `max(i, 2)` ranges over [2, 4] but the dimension has size 3");
}

static void test_bounds_div_mod(void **state)
{
	(void)state;
	/* Y[n, j] = X[n, j / 4, j % 4] for X [2,3,4], Y [2,12]: in bounds */
	gos_module *m = gos_module_new("reshape");
	int x = fx_val(m, "x", GOS_VAL_INPUT, 3, SHAPE(2, 3, 4));
	int y = fx_val(m, "y", GOS_VAL_TEMP, 2, SHAPE(2, 12));
	int ni = fx_node(m, "r", "reshape", "X", &x, "Y", &y);
	gos_stmt *s = fx_stmt(m, ni, 1, GOS_RED_NONE, "n j", NULL);
	int idx[3] = {fx_v(s, 0), fx_ix(s, GOS_IX_DIV, fx_v(s, 1), 0, 4),
	              fx_ix(s, GOS_IX_MOD, fx_v(s, 1), 0, 4)};
	fx_load(m, s, 0, 3, idx, 0, 0);
	gos_module_add_output(m, y);
	gos_module *c = gos_module_clone(m);
	expect_ok(m);
	/* j / 3 reaches 3 */
	c->nodes[0].stmts[0].ix[c->nodes[0].stmts[0].ins[0].idx[1]].k = 3;
	expect_error(c, "dimension 1 index `j / 3` ranges over [0, 3] but the dimension has size 3");
}

static void test_bounds_reduction_extent(void **state)
{
	(void)state;
	gos_module *m = fx_softmax();
	stmt(m, 0, 0)->red_extent[0] = 6; /* M = max over c < 6 of X[n, c] */
	expect_error(m, "instruction %0 loads 'X' out of bounds: dimension 1 index `c` ranges over [0, 5]");
}

static void test_padded_load_any_range(void **state)
{
	(void)state;
	gos_module *m = fx_conv();
	gos_stmt *s = stmt(m, 0, 0);
	s->ix[s->ins[0].idx[2]].b = fx_c(s, 100); /* p + r - 100, padded: fine */
	expect_ok(m);
}

/* ---- messages carry the node's location -------------------------------- */

static void test_error_location(void **state)
{
	(void)state;
	const char *text =
		"gir 1\nmodel t\ninput %x : f32[4]\n"
		"node r = shift(X=%x) -> (Y=%y : f32[4]) {\n"
		"  Y[i:4] = {\n    %0 = load X[i + 1]\n  } -> %0\n}\noutput %y\n";
	gos_diags d;
	gos_diags_init(&d);
	gos_module *m = gos_ir_parse("loc.gir", text, strlen(text), &d);
	assert_non_null(m);
	assert_int_equal(gos_verify(m, &d), 1);
	assert_int_equal(d.v[0].loc.line, 4);
	assert_int_equal(d.v[0].loc.col, 1);
	assert_string_equal(d.v[0].loc.file, "loc.gir");
	assert_string_equal(d.v[0].msg,
	                    "node 'r' (shift) stmt 0 (writes 'Y'): instruction %0 loads 'X' out of bounds: "
	                    "dimension 0 index `i + 1` ranges over [1, 4] but the dimension has size 4 "
	                    "(pad the load with 'else' or clamp the index)");
	gos_diags_free(&d);
	gos_module_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_fixtures),
		cmocka_unit_test(test_value_names_unique),
		cmocka_unit_test(test_node_names_unique),
		cmocka_unit_test(test_value_shape_positive),
		cmocka_unit_test(test_value_rank_range),
		cmocka_unit_test(test_numel_overflow),
		cmocka_unit_test(test_weight_needs_init),
		cmocka_unit_test(test_data_init_needs_data),
		cmocka_unit_test(test_file_init_needs_file),
		cmocka_unit_test(test_uniform_bounds),
		cmocka_unit_test(test_normal_stddev),
		cmocka_unit_test(test_init_only_for_weights),
		cmocka_unit_test(test_value_kind_valid),
		cmocka_unit_test(test_dtype_f32_in_nodes),
		cmocka_unit_test(test_dtype_valid),
		cmocka_unit_test(test_unused_i64_value_ok),
		cmocka_unit_test(test_node_input_in_range),
		cmocka_unit_test(test_node_output_in_range),
		cmocka_unit_test(test_topological_order),
		cmocka_unit_test(test_single_definition),
		cmocka_unit_test(test_defines_input),
		cmocka_unit_test(test_reads_undefined_temp),
		cmocka_unit_test(test_output_in_range),
		cmocka_unit_test(test_output_defined),
		cmocka_unit_test(test_buf_shape_matches_value),
		cmocka_unit_test(test_buf_rank_matches_value),
		cmocka_unit_test(test_buf_value_link),
		cmocka_unit_test(test_local_buf_unlinked),
		cmocka_unit_test(test_buf_count),
		cmocka_unit_test(test_output_written),
		cmocka_unit_test(test_stmt_dst_in_range),
		cmocka_unit_test(test_stmt_writes_input),
		cmocka_unit_test(test_stmt_var_count),
		cmocka_unit_test(test_stmt_none_has_no_red),
		cmocka_unit_test(test_stmt_red_kind),
		cmocka_unit_test(test_stmt_red_extent_positive),
		cmocka_unit_test(test_stmt_result_in_range),
		cmocka_unit_test(test_stmt_not_empty),
		cmocka_unit_test(test_reads_local_before_write),
		cmocka_unit_test(test_self_read_other_element),
		cmocka_unit_test(test_self_read_unwritten),
		cmocka_unit_test(test_ix_operand_in_range),
		cmocka_unit_test(test_ix_var_in_range),
		cmocka_unit_test(test_ix_op_valid),
		cmocka_unit_test(test_ix_acyclic),
		cmocka_unit_test(test_ix_div_positive),
		cmocka_unit_test(test_ix_mod_positive),
		cmocka_unit_test(test_ix_overflow),
		cmocka_unit_test(test_ins_op_valid),
		cmocka_unit_test(test_ins_args_precede),
		cmocka_unit_test(test_ins_arity),
		cmocka_unit_test(test_load_rank),
		cmocka_unit_test(test_load_buf_in_range),
		cmocka_unit_test(test_load_idx_in_range),
		cmocka_unit_test(test_index_one_expr),
		cmocka_unit_test(test_bounds_unpadded_conv),
		cmocka_unit_test(test_bounds_stride),
		cmocka_unit_test(test_bounds_clamped_ok),
		cmocka_unit_test(test_bounds_div_mod),
		cmocka_unit_test(test_bounds_reduction_extent),
		cmocka_unit_test(test_padded_load_any_range),
		cmocka_unit_test(test_error_location),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
