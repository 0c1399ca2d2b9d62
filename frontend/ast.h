/* ast.h -- syntax tree of .gos files (grammar/gos.y builds it, the
 * elaborator in frontend/elab.c walks it). Everything lives in the arena
 * of the parse; lists are arrays with a count. */
#ifndef GOS_AST_H
#define GOS_AST_H

#include <setjmp.h>

#include "support/arena.h"
#include "support/diag.h"

typedef struct gos_ast gos_ast;
typedef struct gos_sast gos_sast;

typedef struct gos_alist {
	gos_ast **v;
	int n, cap;
} gos_alist;

typedef struct gos_slist {
	gos_sast **v;
	int n, cap;
} gos_slist;

/* Expression kinds. */
typedef enum gos_akind {
	GOS_A_NUM,    /* num, is_int */
	GOS_A_STR,    /* name = the text */
	GOS_A_NAME,   /* name */
	GOS_A_INDEX,  /* a[items] (a load, list element or pattern); c = else value */
	GOS_A_CALL,   /* name(items; named) */
	GOS_A_UN,     /* op a: '-' or '!' */
	GOS_A_BIN,    /* a op b: + - * / % < <= > >= == != && || (tokens below) */
	GOS_A_RED,    /* op = 's' sum / 'M' max / 'm' min, items = ranges, a = body */
	GOS_A_RANGE,  /* name : a (a NULL when omitted), inside a reduction */
	GOS_A_LIST,   /* [items] */
	GOS_A_SPREAD, /* ..a */
	GOS_A_PARAM,  /* param[items] init c (c NULL: default) */
	GOS_A_ATTR,   /* name = a, in a call after ';' */
} gos_akind;

/* Two-character operators in GOS_A_BIN.op. */
enum { GOS_TOK_LE = 256, GOS_TOK_GE, GOS_TOK_EQ, GOS_TOK_NE, GOS_TOK_AND, GOS_TOK_OR };

struct gos_ast {
	gos_akind kind;
	gos_loc loc;
	int op;
	double num;
	int is_int;
	const char *name;
	gos_ast *a, *b, *c;
	gos_alist items;
	gos_alist named;
};

/* Statement kinds (op bodies, blocks and models share one syntax; the
 * elaborator says which are allowed where). */
typedef enum gos_skind {
	GOS_S_BIND,     /* names = e (names.n >= 1) */
	GOS_S_STORE,    /* lhs = e, lhs a GOS_A_INDEX (op bodies) */
	GOS_S_LOCAL,    /* local lhs; */
	GOS_S_REQUIRE,  /* require e, str; */
	GOS_S_IF,       /* if e { body } else { els } */
	GOS_S_FOR,      /* for names[0] in e .. e2 { body } */
	GOS_S_PARAM,    /* param lhs init e2; (lhs: NAME[items]) */
	GOS_S_INPUT,    /* input lhs: f32[...]: lhs = NAME[items], str = dtype */
	GOS_S_SEED,     /* weights seed e; */
	GOS_S_WFILE,    /* weights str; */
	GOS_S_OUTPUT,   /* output names[0] [= e]; */
	GOS_S_RETURN,   /* return items; */
} gos_skind;

struct gos_sast {
	gos_skind kind;
	gos_loc loc;
	const char **names;
	int n_names;
	gos_ast *lhs, *e, *e2;
	const char *str;
	gos_alist items;
	gos_slist body, els;
};

/* A parameter of an op or block: NAME[pattern]? or NAME = default. */
typedef struct gos_param {
	const char *name;
	gos_loc loc;
	int has_shape;     /* tensor parameter with a pattern */
	gos_alist shape;   /* pattern items: NAME, NUM, NAME "_", SPREAD(NAME); results: exprs */
	int optional;      /* B[K]? */
	gos_ast *dflt;     /* attribute default, or NULL */
} gos_param;

typedef struct gos_plist {
	gos_param *v;
	int n, cap;
} gos_plist;

typedef enum gos_dkind { GOS_D_OP, GOS_D_BLOCK, GOS_D_MODEL, GOS_D_IMPORT } gos_dkind;

/* A top-level item. */
typedef struct gos_def {
	gos_dkind kind;
	const char *name; /* IMPORT: the path as written */
	gos_loc loc;
	gos_plist tparams, aparams, results;
	gos_slist body;
	struct gos_def *next;
} gos_def;

/* Parser state shared with the lexer (yyextra). */
typedef struct gos_pctx {
	gos_arena *arena;
	gos_diags *diags;
	const char *file;
	int line, col;         /* lexer position of the next character */
	gos_def *first, *last; /* items in order */
	int errors;
	gos_loc cloc;          /* where the open block comment started */
	int stop;              /* the lexer gave up: no further syntax errors */
	int pline, pcol, tline, tcol; /* end of the previous / last token */
	jmp_buf fatal;         /* the way out of the scanner and the parser
	                          when they cannot go on (out of memory) */
	struct gos_lexblock *lexmem; /* the scanner's blocks (grammar/gos.l) */
} gos_pctx;

/* Returns p; when p is NULL (the parse arena is out of memory) reports it
 * and leaves the parse through ctx->fatal. Only while gos_parse_text
 * runs. */
void *gos_pctx_mem(gos_pctx *c, void *p);

/* Parses text (len bytes) of file into ctx->first...; returns the number
 * of errors (reported to ctx->diags). grammar/gos.y. */
int gos_parse_text(gos_pctx *ctx, const char *text, size_t len);

/* Construction helpers used by the grammar (frontend/ast.c). */
gos_ast *gos_ast_new(gos_pctx *c, gos_akind k, gos_loc loc);
void gos_alist_push(gos_pctx *c, gos_alist *l, gos_ast *a);
gos_sast *gos_sast_new(gos_pctx *c, gos_skind k, gos_loc loc);
void gos_slist_push(gos_pctx *c, gos_slist *l, gos_sast *s);
void gos_plist_push(gos_pctx *c, gos_plist *l, gos_param p);
void gos_names_push(gos_pctx *c, gos_sast *s, const char *name);

#endif
