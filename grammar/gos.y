/* gos.y -- grammar of the .gos language (docs/language.md). Pure and
 * reentrant; builds the syntax tree of frontend/ast.h in the context's
 * arena and reports syntax errors with locations to its diagnostics. */
%define api.pure full
%define api.prefix {gosyy}
%define parse.error custom
%locations
%parse-param {gos_pctx *ctx} {void *scanner}
%lex-param {gos_pctx *ctx} {void *scanner}
%expect 0

%code requires {
#include "frontend/ast.h"
}

%code top {
/* the parser stack (when it grows past 200) through the allocation gate */
#include <stdlib.h>
#include "support/alloc.h"
#define YYMALLOC gos_malloc
#define YYFREE free
}

%union {
	struct { double v; int is_int; } num;
	const char *str;
	gos_ast *ast;
	gos_sast *sast;
	gos_alist alist;
	gos_slist slist;
	gos_param param;
	gos_plist plist;
	struct { gos_plist t, a; } params;
}

%code {
#include <stdio.h>
#include <string.h>
#define YYSTYPE GOSYYSTYPE
#define YYLTYPE GOSYYLTYPE
#include "gos.lex.h"
#undef yylex
#define yylex gos_lex_wrap

#define L(x) ((gos_loc){ctx->file, (x).first_line, (x).first_column})

int gos_lex_raw(GOSYYSTYPE *lval, GOSYYLTYPE *lloc, yyscan_t scanner);
/* Frees the scanner blocks still held after a fatal error (grammar/gos.l). */
void gos_lex_free_all(gos_pctx *c);

/* Remembers where the previous token ended, so a missing ';' can be
 * reported right after the token it should follow. */
static int gos_lex_wrap(GOSYYSTYPE *lval, GOSYYLTYPE *lloc, gos_pctx *ctx, void *scanner)
{
	ctx->pline = ctx->tline;
	ctx->pcol = ctx->tcol;
	int t = gos_lex_raw(lval, lloc, scanner);
	ctx->tline = lloc->last_line;
	ctx->tcol = lloc->last_column;
	return t;
}

static void gosyyerror(GOSYYLTYPE *l, gos_pctx *ctx, void *scanner, const char *msg)
{
	(void)scanner;
	if (!strcmp(msg, "memory exhausted")) /* bison's stack of YYMAXDEPTH (10000) */
		msg = "nested too deeply (more than 10000 levels of brackets or operators)";
	gos_error(ctx->diags, L(*l), "%s", msg);
	ctx->errors++;
}

static gos_ast *bin(gos_pctx *ctx, int op, gos_ast *a, gos_ast *b, gos_loc loc)
{
	gos_ast *e = gos_ast_new(ctx, GOS_A_BIN, loc);
	e->op = op;
	e->a = a;
	e->b = b;
	return e;
}

static gos_ast *unary(gos_pctx *ctx, int op, gos_ast *a, gos_loc loc)
{
	gos_ast *e = gos_ast_new(ctx, GOS_A_UN, loc);
	e->op = op;
	e->a = a;
	return e;
}

/* sum/max/min(ranges) body: every argument must be `v` or `v: extent`. */
static gos_ast *reduction(gos_pctx *ctx, int op, gos_ast *args, gos_ast *body, gos_loc loc)
{
	gos_ast *r = gos_ast_new(ctx, GOS_A_RED, loc);
	r->op = op;
	r->a = body;
	if (args->named.n) {
		gos_error(ctx->diags, args->named.v[0]->loc,
		          "a reduction takes index variables, not attributes");
		ctx->errors++;
	}
	for (int i = 0; i < args->items.n; i++) {
		gos_ast *x = args->items.v[i];
		if (x->kind == GOS_A_NAME) {
			gos_ast *rg = gos_ast_new(ctx, GOS_A_RANGE, x->loc);
			rg->name = x->name;
			x = rg;
		}
		if (x->kind != GOS_A_RANGE) {
			gos_error(ctx->diags, x->loc,
			          "expected a reduction variable (`v` or `v: extent`)");
			ctx->errors++;
			continue;
		}
		gos_alist_push(ctx, &r->items, x);
	}
	if (r->items.n == 0 && args->items.n == 0) {
		gos_error(ctx->diags, loc, "a reduction needs at least one variable");
		ctx->errors++;
	}
	return r;
}

static gos_ast *call(gos_pctx *ctx, const char *name, gos_ast *args, gos_loc loc)
{
	args->kind = GOS_A_CALL;
	args->name = name;
	args->loc = loc;
	for (int i = 0; i < args->items.n; i++)
		if (args->items.v[i]->kind == GOS_A_RANGE) {
			gos_error(ctx->diags, args->items.v[i]->loc,
			          "`v: extent` is only allowed in sum, max and min");
			ctx->errors++;
		}
	return args;
}

static gos_def *def(gos_pctx *ctx, gos_dkind k, const char *name, gos_loc loc)
{
	gos_def *d = gos_pctx_mem(ctx, GOS_NEW(ctx->arena, gos_def));
	d->kind = k;
	d->name = name;
	d->loc = loc;
	if (ctx->last)
		ctx->last->next = d;
	else
		ctx->first = d;
	ctx->last = d;
	return d;
}
}

%token END 0 "end of file"
%token <num> NUM "number"
%token <str> NAME "identifier"
%token <str> STR "string"
%token IMPORT "import" MODEL "model" OP "op" BLOCK "block" INPUT "input"
%token OUTPUT "output" PARAM "param" WEIGHTS "weights" SEED "seed" FOR "for"
%token IN "in" IF "if" ELSE "else" RETURN "return" REQUIRE "require"
%token SUM "sum" MAX "max" MIN "min" LOCAL "local" INIT "init"
%token DOTDOT ".." ARROW "->" LE "<=" GE ">=" EQ "==" NE "!=" AND "&&" OR "||"

%precedence REDUCE
%left OR
%left AND
%nonassoc EQ NE '<' '>' LE GE
%left '+' '-'
%left '*' '/' '%'
%precedence UNARY
%precedence CALLPREC
%precedence '['


%type <ast> expr postfix primary unary_e item arg callargs args initopt
%type <alist> items ilist exprs attrs
%type <ast> attr
%type <sast> stmt ifstmt
%type <slist> stmts elsepart
%type <param> tparam aparam result
%type <plist> tparams aparams results
%type <params> params

%%

file: %empty | file topitem ;

topitem:
	  IMPORT STR ';' { def(ctx, GOS_D_IMPORT, $2, L(@2)); }
	| OP NAME '(' params ')' ARROW results '{' stmts '}' {
		gos_def *d = def(ctx, GOS_D_OP, $2, L(@2));
		d->tparams = $4.t; d->aparams = $4.a; d->results = $7; d->body = $9; }
	| BLOCK NAME '(' params ')' '{' stmts '}' {
		gos_def *d = def(ctx, GOS_D_BLOCK, $2, L(@2));
		d->tparams = $4.t; d->aparams = $4.a; d->body = $7; }
	| MODEL NAME '{' stmts '}' {
		gos_def *d = def(ctx, GOS_D_MODEL, $2, L(@2));
		d->body = $4; }
	| error '}'
	;

params:
	  %empty { memset(&$$, 0, sizeof $$); }
	| tparams { $$.t = $1; memset(&$$.a, 0, sizeof $$.a); }
	| tparams ';' aparams { $$.t = $1; $$.a = $3; }
	| ';' aparams { memset(&$$.t, 0, sizeof $$.t); $$.a = $2; }
	;
tparams: tparam { memset(&$$, 0, sizeof $$); gos_plist_push(ctx, &$$, $1); }
	| tparams ',' tparam { $$ = $1; gos_plist_push(ctx, &$$, $3); } ;
tparam:
	  NAME '[' items ']' { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); $$.has_shape = 1; $$.shape = $3; }
	| NAME '[' items ']' '?' { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); $$.has_shape = 1; $$.shape = $3; $$.optional = 1; }
	| NAME { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); }
	| NAME '?' { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); $$.optional = 1; }
	;
aparams: aparam { memset(&$$, 0, sizeof $$); gos_plist_push(ctx, &$$, $1); }
	| aparams ',' aparam { $$ = $1; gos_plist_push(ctx, &$$, $3); } ;
aparam:
	  NAME { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); }
	| NAME '=' expr { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); $$.dflt = $3; }
	;
results: result { memset(&$$, 0, sizeof $$); gos_plist_push(ctx, &$$, $1); }
	| results ',' result { $$ = $1; gos_plist_push(ctx, &$$, $3); } ;
result:
	  NAME '[' items ']' { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); $$.has_shape = 1; $$.shape = $3; }
	| NAME { memset(&$$, 0, sizeof $$); $$.name = $1; $$.loc = L(@1); }
	;

stmts: %empty { memset(&$$, 0, sizeof $$); }
	| stmts stmt { $$ = $1; if ($2) gos_slist_push(ctx, &$$, $2); } ;

stmt:
	  NAME '=' expr ';' {
		$$ = gos_sast_new(ctx, GOS_S_BIND, L(@1)); gos_names_push(ctx, $$, $1); $$->e = $3; }
	| NAME ',' NAME '=' expr ';' {
		$$ = gos_sast_new(ctx, GOS_S_BIND, L(@1));
		gos_names_push(ctx, $$, $1); gos_names_push(ctx, $$, $3); $$->e = $5; }
	| NAME ',' NAME ',' NAME '=' expr ';' {
		$$ = gos_sast_new(ctx, GOS_S_BIND, L(@1));
		gos_names_push(ctx, $$, $1); gos_names_push(ctx, $$, $3);
		gos_names_push(ctx, $$, $5); $$->e = $7; }
	| NAME '[' items ']' '=' expr ';' {
		$$ = gos_sast_new(ctx, GOS_S_STORE, L(@1));
		$$->lhs = gos_ast_new(ctx, GOS_A_INDEX, L(@1));
		$$->lhs->name = $1; $$->lhs->items = $3; $$->e = $6; }
	| LOCAL NAME '[' items ']' ';' {
		$$ = gos_sast_new(ctx, GOS_S_LOCAL, L(@2));
		$$->lhs = gos_ast_new(ctx, GOS_A_INDEX, L(@2));
		$$->lhs->name = $2; $$->lhs->items = $4; }
	| REQUIRE expr ',' STR ';' {
		$$ = gos_sast_new(ctx, GOS_S_REQUIRE, L(@1)); $$->e = $2; $$->str = $4; }
	| ifstmt { $$ = $1; }
	| FOR NAME IN expr DOTDOT expr '{' stmts '}' {
		$$ = gos_sast_new(ctx, GOS_S_FOR, L(@1)); gos_names_push(ctx, $$, $2);
		$$->e = $4; $$->e2 = $6; $$->body = $8; }
	| PARAM NAME '[' items ']' initopt ';' {
		$$ = gos_sast_new(ctx, GOS_S_PARAM, L(@2));
		$$->lhs = gos_ast_new(ctx, GOS_A_INDEX, L(@2));
		$$->lhs->name = $2; $$->lhs->items = $4; $$->e2 = $6; }
	| INPUT NAME ':' NAME '[' items ']' ';' {
		$$ = gos_sast_new(ctx, GOS_S_INPUT, L(@2));
		$$->lhs = gos_ast_new(ctx, GOS_A_INDEX, L(@2));
		$$->lhs->name = $2; $$->lhs->items = $6; $$->str = $4;
		$$->e2 = gos_ast_new(ctx, GOS_A_NAME, L(@4)); }
	| WEIGHTS SEED expr ';' { $$ = gos_sast_new(ctx, GOS_S_SEED, L(@3)); $$->e = $3; }
	| WEIGHTS STR ';' { $$ = gos_sast_new(ctx, GOS_S_WFILE, L(@2)); $$->str = $2; }
	| OUTPUT NAME ';' { $$ = gos_sast_new(ctx, GOS_S_OUTPUT, L(@2)); gos_names_push(ctx, $$, $2); }
	| OUTPUT NAME '=' expr ';' {
		$$ = gos_sast_new(ctx, GOS_S_OUTPUT, L(@2)); gos_names_push(ctx, $$, $2); $$->e = $4; }
	| RETURN exprs ';' { $$ = gos_sast_new(ctx, GOS_S_RETURN, L(@1)); $$->items = $2; }
	| error ';' { $$ = NULL; }
	;

ifstmt:
	  IF expr '{' stmts '}' elsepart {
		$$ = gos_sast_new(ctx, GOS_S_IF, L(@1)); $$->e = $2; $$->body = $4; $$->els = $6; }
	;
elsepart:
	  %empty { memset(&$$, 0, sizeof $$); }
	| ELSE '{' stmts '}' { $$ = $3; }
	| ELSE ifstmt { memset(&$$, 0, sizeof $$); gos_slist_push(ctx, &$$, $2); }
	;

initopt: %empty { $$ = NULL; } | INIT primary { $$ = $2; } ;

exprs: expr { memset(&$$, 0, sizeof $$); gos_alist_push(ctx, &$$, $1); }
	| exprs ',' expr { $$ = $1; gos_alist_push(ctx, &$$, $3); } ;

items: %empty { memset(&$$, 0, sizeof $$); } | ilist { $$ = $1; } ;
ilist: item { memset(&$$, 0, sizeof $$); gos_alist_push(ctx, &$$, $1); }
	| ilist ',' item { $$ = $1; gos_alist_push(ctx, &$$, $3); } ;
item: expr { $$ = $1; }
	| DOTDOT expr { $$ = gos_ast_new(ctx, GOS_A_SPREAD, L(@1)); $$->a = $2; } ;

expr:
	  expr OR expr { $$ = bin(ctx, GOS_TOK_OR, $1, $3, L(@2)); }
	| expr AND expr { $$ = bin(ctx, GOS_TOK_AND, $1, $3, L(@2)); }
	| expr EQ expr { $$ = bin(ctx, GOS_TOK_EQ, $1, $3, L(@2)); }
	| expr NE expr { $$ = bin(ctx, GOS_TOK_NE, $1, $3, L(@2)); }
	| expr '<' expr { $$ = bin(ctx, '<', $1, $3, L(@2)); }
	| expr '>' expr { $$ = bin(ctx, '>', $1, $3, L(@2)); }
	| expr LE expr { $$ = bin(ctx, GOS_TOK_LE, $1, $3, L(@2)); }
	| expr GE expr { $$ = bin(ctx, GOS_TOK_GE, $1, $3, L(@2)); }
	| expr '+' expr { $$ = bin(ctx, '+', $1, $3, L(@2)); }
	| expr '-' expr { $$ = bin(ctx, '-', $1, $3, L(@2)); }
	| expr '*' expr { $$ = bin(ctx, '*', $1, $3, L(@2)); }
	| expr '/' expr { $$ = bin(ctx, '/', $1, $3, L(@2)); }
	| expr '%' expr { $$ = bin(ctx, '%', $1, $3, L(@2)); }
	| '-' expr %prec UNARY { $$ = unary(ctx, '-', $2, L(@1)); }
	| '!' expr %prec UNARY { $$ = unary(ctx, '!', $2, L(@1)); }
	| SUM '(' callargs ')' expr %prec REDUCE { $$ = reduction(ctx, 's', $3, $5, L(@1)); }
	| MAX '(' callargs ')' expr %prec REDUCE { $$ = reduction(ctx, 'M', $3, $5, L(@1)); }
	| MIN '(' callargs ')' expr %prec REDUCE { $$ = reduction(ctx, 'm', $3, $5, L(@1)); }
	| postfix { $$ = $1; }
	;

unary_e: primary { $$ = $1; } | '-' unary_e { $$ = unary(ctx, '-', $2, L(@1)); } ;

postfix:
	  primary { $$ = $1; }
	| postfix '[' items ']' {
		$$ = gos_ast_new(ctx, GOS_A_INDEX, L(@2)); $$->a = $1; $$->items = $3; }
	| postfix '[' items ']' ELSE unary_e {
		$$ = gos_ast_new(ctx, GOS_A_INDEX, L(@2)); $$->a = $1; $$->items = $3; $$->c = $6; }
	;

primary:
	  NUM { $$ = gos_ast_new(ctx, GOS_A_NUM, L(@1)); $$->num = $1.v; $$->is_int = $1.is_int; }
	| NAME { $$ = gos_ast_new(ctx, GOS_A_NAME, L(@1)); $$->name = $1; }
	| STR { $$ = gos_ast_new(ctx, GOS_A_STR, L(@1)); $$->name = $1; }
	| '(' expr ')' { $$ = $2; }
	| '[' items ']' { $$ = gos_ast_new(ctx, GOS_A_LIST, L(@1)); $$->items = $2; }
	| NAME '(' callargs ')' { $$ = call(ctx, $1, $3, L(@1)); }
	| MAX '(' callargs ')' %prec CALLPREC { $$ = call(ctx, "max", $3, L(@1)); }
	| MIN '(' callargs ')' %prec CALLPREC { $$ = call(ctx, "min", $3, L(@1)); }
	| PARAM '[' items ']' initopt {
		$$ = gos_ast_new(ctx, GOS_A_PARAM, L(@1)); $$->items = $3; $$->c = $5; }
	;

callargs:
	  %empty { $$ = gos_ast_new(ctx, GOS_A_CALL, L(@$)); }
	| args { $$ = $1; }
	| args ';' attrs { $$ = $1; $$->named = $3; }
	| ';' attrs { $$ = gos_ast_new(ctx, GOS_A_CALL, L(@1)); $$->named = $2; }
	;
args:
	  arg { $$ = gos_ast_new(ctx, GOS_A_CALL, L(@1)); gos_alist_push(ctx, &$$->items, $1); }
	| args ',' arg { $$ = $1; gos_alist_push(ctx, &$$->items, $3); }
	;
arg: item { $$ = $1; }
	| NAME ':' expr { $$ = gos_ast_new(ctx, GOS_A_RANGE, L(@1)); $$->name = $1; $$->a = $3; }
	;
attrs: attr { memset(&$$, 0, sizeof $$); gos_alist_push(ctx, &$$, $1); }
	| attrs ',' attr { $$ = $1; gos_alist_push(ctx, &$$, $3); } ;
attr: NAME '=' expr { $$ = gos_ast_new(ctx, GOS_A_ATTR, L(@1)); $$->name = $1; $$->a = $3; } ;

%%

static int yyreport_syntax_error(const yypcontext_t *pc, gos_pctx *ctx, void *scanner)
{
	(void)scanner;
	if (ctx->stop) {
		ctx->errors++;
		return 0;
	}
	yysymbol_kind_t exp[YYNTOKENS];
	int n = yypcontext_expected_tokens(pc, exp, YYNTOKENS);
	yysymbol_kind_t got = yypcontext_token(pc);
	const GOSYYLTYPE *l = yypcontext_location(pc);
	gos_loc loc = L(*l);
	ctx->errors++;
	if (got == YYSYMBOL_YYEOF) {
		gos_error(ctx->diags, loc, "unexpected end of file (is a '}' or ';' missing?)");
		return 0;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(yysymbol_name(exp[i]), "';'") == 0) {
			gos_loc at = {ctx->file, ctx->pline, ctx->pcol};
			gos_error(ctx->diags, at, "expected ';' before %s", yysymbol_name(got));
			return 0;
		}
	const char *gn = yysymbol_name(got);
	if (!strcmp(gn, "model") || !strcmp(gn, "op") || !strcmp(gn, "block") || !strcmp(gn, "import")) {
		int top = 0;
		for (int i = 0; i < n; i++)
			top |= !strcmp(yysymbol_name(exp[i]), "end of file");
		if (!top) {
			gos_error(ctx->diags, loc, "unexpected %s inside a definition (is a '}' missing before it?)", gn);
			return 0;
		}
	}
	char buf[512];
	int k = snprintf(buf, sizeof buf, "unexpected %s", gn);
	for (int i = 0; i < n && n <= 5 && k < (int)sizeof buf; i++)
		k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%s",
		              i == 0 ? ", expected " : i == n - 1 ? " or " : ", ",
		              yysymbol_name(exp[i]));
	gos_error(ctx->diags, loc, "%s", buf);
	return 0;
}

int gos_parse_text(gos_pctx *ctx, const char *text, size_t len)
{
	yyscan_t scanner;
	ctx->lexmem = NULL;
	if (gosyylex_init_extra(ctx, &scanner)) {
		gos_error(ctx->diags, (gos_loc){ctx->file, 0, 0}, "out of memory");
		return ++ctx->errors;
	}
	ctx->line = 1;
	ctx->col = 1;
	ctx->tline = ctx->pline = 1;
	ctx->tcol = ctx->pcol = 1;
	if (setjmp(ctx->fatal)) {
		/* out of memory in the scanner or the parser (reported): the
		 * scanner's state may be half made, free its blocks directly */
		gos_lex_free_all(ctx);
		return ctx->errors;
	}
	YY_BUFFER_STATE b = gosyy_scan_bytes(text, (int)len, scanner);
	int rc = gosyyparse(ctx, scanner);
	gosyy_delete_buffer(b, scanner);
	gosyylex_destroy(scanner);
	if (rc && !ctx->errors)
		ctx->errors++;
	return ctx->errors;
}
