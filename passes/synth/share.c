/* share.c -- the `share` rule (synth.h), hash-consing: a node that
 * computes what an earlier node computes (the same statements, index
 * expressions and constants, the same attributes, the same input values
 * or constant weights equal by content) is removed, and its readers read
 * the earlier node's results:
 *   A = f(X, W1);  B = f(X, W2)  (W1 == W2)   =>   A = f(X, W1);  B := A */
#include "passes/synth/synth.h"

#include <string.h>

#include "passes/synth/algebra.h"

/* Whether weights a and b hold the same values (data when both are
 * materialised, else the same initialiser). */
static int same_weight(const gos_module *m, int a, int b)
{
	const gos_value *x = &m->vals[a], *y = &m->vals[b];
	if (x->rank != y->rank || memcmp(x->shape, y->shape, sizeof(int64_t) * (size_t)x->rank) ||
	    x->dtype != y->dtype)
		return 0;
	if (x->data && y->data)
		return !memcmp(x->data, y->data, sizeof(float) * (size_t)gos_numel(x->rank, x->shape));
	if (x->init != y->init)
		return 0;
	switch (x->init) {
	case GOS_INIT_FILL:
		return x->lo == y->lo;
	case GOS_INIT_UNIFORM:
	case GOS_INIT_NORMAL:
		return x->lo == y->lo && x->hi == y->hi && x->seed == y->seed;
	case GOS_INIT_FILE:
		return x->key && y->key && !strcmp(x->key, y->key);
	default:
		return 0;
	}
}

static int same_value(const gos_module *m, int a, int b)
{
	if (a == b)
		return 1;
	return m->vals[a].kind == GOS_VAL_WEIGHT && m->vals[b].kind == GOS_VAL_WEIGHT &&
	       same_weight(m, a, b);
}

static int same_ix(const gos_stmt *s, const gos_stmt *t)
{
	if (s->n_ix != t->n_ix)
		return 0;
	for (int i = 0; i < s->n_ix; i++) {
		const gos_ix *a = &s->ix[i], *b = &t->ix[i];
		if (a->op != b->op)
			return 0;
		switch (a->op) {
		case GOS_IX_CONST:
		case GOS_IX_VAR:
			if (a->k != b->k)
				return 0;
			break;
		case GOS_IX_DIV:
		case GOS_IX_MOD:
			if (a->k != b->k || a->a != b->a)
				return 0;
			break;
		default:
			if (a->a != b->a || a->b != b->b)
				return 0;
		}
	}
	return 1;
}

static int same_stmt(const gos_stmt *s, const gos_stmt *t)
{
	if (s->dst != t->dst || s->red != t->red || s->n_red != t->n_red || s->n_ins != t->n_ins ||
	    s->result != t->result || !same_ix(s, t))
		return 0;
	for (int j = 0; j < s->n_red; j++)
		if (s->red_extent[j] != t->red_extent[j])
			return 0;
	for (int i = 0; i < s->n_ins; i++) {
		const gos_ins *a = &s->ins[i], *b = &t->ins[i];
		if (a->op != b->op)
			return 0;
		switch (a->op) {
		case GOS_OP_CONST:
			if (memcmp(&a->f, &b->f, sizeof a->f))
				return 0;
			break;
		case GOS_OP_LOAD:
		case GOS_OP_INDEX:
			if (a->nidx != b->nidx || (a->op == GOS_OP_LOAD && a->buf != b->buf) ||
			    (a->op == GOS_OP_LOAD && a->has_pad != b->has_pad) ||
			    (a->has_pad && memcmp(&a->f, &b->f, sizeof a->f)) ||
			    memcmp(a->idx, b->idx, sizeof(int) * (size_t)a->nidx))
				return 0;
			break;
		default:
			if (memcmp(a->arg, b->arg, sizeof(int) * (size_t)gos_opinfo_tab[a->op].arity))
				return 0;
		}
	}
	return 1;
}

/* Whether nodes i and j of m compute the same results from the same
 * values. */
static int same_node(const gos_module *m, int i, int j)
{
	const gos_node *a = &m->nodes[i], *b = &m->nodes[j];
	if (a->n_in != b->n_in || a->n_out != b->n_out || a->n_buf != b->n_buf ||
	    a->n_stmt != b->n_stmt || a->n_attr != b->n_attr)
		return 0;
	for (int k = 0; k < a->n_in; k++)
		if (!same_value(m, a->in[k], b->in[k]))
			return 0;
	for (int k = 0; k < a->n_buf; k++)
		if (a->bufs[k].rank != b->bufs[k].rank ||
		    memcmp(a->bufs[k].shape, b->bufs[k].shape, sizeof(int64_t) * (size_t)a->bufs[k].rank))
			return 0;
	for (int k = 0; k < a->n_attr; k++) {
		const gos_attr *x = &a->attr[k], *y = &b->attr[k];
		if (strcmp(x->name, y->name) || x->n != y->n ||
		    memcmp(x->v, y->v, sizeof(double) * (size_t)x->n))
			return 0;
	}
	for (int k = 0; k < a->n_stmt; k++)
		if (!same_stmt(&a->stmts[k], &b->stmts[k]))
			return 0;
	return 1;
}

/* The earliest node before ni that node ni duplicates, or -1. */
static int twin(const gos_module *m, int ni)
{
	const gos_node *n = &m->nodes[ni];
	if (n->n_out < 1 || n->n_out > GOS_MAX_VARS)
		return -1;
	for (int j = 0; j < n->n_out; j++)
		if (gos_alg_is_output(m, n->out[j]))
			return -1; /* the model's outputs keep their own values */
	for (int i = 0; i < ni; i++)
		if (same_node(m, i, ni))
			return i;
	return -1;
}

int gos_synth_share_params(const gos_module *m, int ni, int *vals, int max)
{
	if (max < 1 || twin(m, ni) < 0)
		return 0;
	vals[0] = 0;
	return 1;
}

int gos_synth_share_derive(gos_module *m, int ni, int param, const gos_synth_calib *c,
                           int *exact, double *err, gos_diags *d)
{
	(void)param;
	(void)c;
	*exact = 1;
	*err = -1;
	int t = twin(m, ni);
	if (t < 0) {
		gos_error(d, m->nodes[ni].loc, "share: no earlier node computes what '%s' does",
		          m->nodes[ni].name);
		return -1;
	}
	int old[GOS_MAX_VARS], rep[GOS_MAX_VARS], cnt = m->nodes[ni].n_out;
	for (int j = 0; j < cnt; j++) {
		old[j] = m->nodes[ni].out[j];
		rep[j] = m->nodes[t].out[j];
	}
	gos_alg_remove_node(m, ni, cnt, old, rep);
	return 0;
}
