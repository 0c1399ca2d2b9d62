# Writes OUT: a C file defining `const char SYM[]` with the bytes of IN
# followed by a NUL, and `const unsigned long SYM_len`.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
file(WRITE ${OUT} "/* generated from ${IN} */\nconst char ${SYM}[] = {\n${body}0x00};\nconst unsigned long ${SYM}_len = ${n};\n")
