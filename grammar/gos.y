/* placeholder grammar; replaced by the frontend */
%define api.pure full
%define api.prefix {gosyy}
%code { int gosyylex(void *lval); void gosyyerror(const char *s); }
%token END
%%
file: %empty ;
%%
