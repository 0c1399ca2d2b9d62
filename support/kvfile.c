/* kvfile.c -- the `key = value` lines of target files. */
#include "kvfile.h"

#include <ctype.h>
#include <string.h>

int gos_kv_next(const char *text, size_t len, size_t *pos, gos_kv *kv,
                const char *file, gos_diags *d, int *errors)
{
	while (*pos < len) {
		size_t e = *pos;
		while (e < len && text[e] != '\n')
			e++;
		kv->line++;
		char *buf = kv->buf;
		size_t n = e - *pos < sizeof kv->buf - 1 ? e - *pos : sizeof kv->buf - 1;
		memcpy(buf, text + *pos, n);
		buf[n] = 0;
		*pos = e + 1;
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = 0;
		char *s = buf;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		kv->key = s;
		kv->key_col = (int)(s - buf) + 1;
		char *eq = strchr(s, '=');
		if (!eq) {
			gos_error(d, (gos_loc){file, kv->line, kv->key_col}, "expected `key = value`");
			(*errors)++;
			continue;
		}
		char *ke = eq;
		while (ke > s && isspace((unsigned char)ke[-1]))
			ke--;
		*ke = 0;
		char *val = eq + 1;
		while (isspace((unsigned char)*val))
			val++;
		char *ve = val + strlen(val);
		while (ve > val && isspace((unsigned char)ve[-1]))
			*--ve = 0;
		if (ve > val + 1 && (*val == '"' || *val == '\'') && ve[-1] == *val) {
			ve[-1] = 0;
			val++;
		}
		kv->val = val;
		kv->val_col = (int)(val - buf) + 1;
		return 1;
	}
	return 0;
}
