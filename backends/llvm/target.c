/* target.c -- target descriptions for the LLVM backend (llvm.h).
 *
 * A target is a text file of `key = value` lines (`#` starts a comment,
 * values may be quoted). Keys read here: name, triple, cpu, features,
 * float_abi, cc, cflags, ldflags, qemu, vector_bits. Other keys (clock_ghz,
 * l1_kb, ... of passes/cost/cost.h) are ignored. `native` as triple, cpu or
 * features means this machine (LLVM's host detection). */
#include "backends/llvm/llvm.h"
#include "support/alloc.h"
#include "support/datadir.h"
#include "support/kvfile.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

static void set_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* Pointer width implied by a triple's architecture. */
static int triple_ptr_bits(const char *triple)
{
	static const char *const a32[] = {"arm", "thumb", "i386", "i486", "i586", "i686",
	                                  "x86-", "mips-", "mipsel", "riscv32", "wasm32"};
	if (!strncmp(triple, "aarch64_32", 10) || strstr(triple, "-gnux32"))
		return 32;
	for (size_t i = 0; i < sizeof a32 / sizeof a32[0]; i++)
		if (!strncmp(triple, a32[i], strlen(a32[i])))
			return 32;
	return 64;
}

/* Replaces `native` in triple/cpu/features by what LLVM reports here. */
static void resolve_native(gos_target *t)
{
	if (!strcmp(t->triple, "native")) {
		char *s = LLVMGetDefaultTargetTriple();
		set_str(t->triple, sizeof t->triple, s);
		LLVMDisposeMessage(s);
	}
	if (!strcmp(t->cpu, "native")) {
		char *s = LLVMGetHostCPUName();
		set_str(t->cpu, sizeof t->cpu, s && *s ? s : "generic");
		LLVMDisposeMessage(s);
	}
	if (!strcmp(t->features, "native")) {
		char *s = LLVMGetHostCPUFeatures();
		set_str(t->features, sizeof t->features, s ? s : "");
		LLVMDisposeMessage(s);
	}
}

/* LLVM-C cannot set the ARM float ABI of a target machine; LLVM takes it
 * from the triple's environment (gnueabihf / eabihf = hard). So for
 * 32-bit ARM the environment is made to agree with float_abi: hard adds
 * "hf", soft and softfp remove it (soft also disables the FPU). The
 * objects then carry the matching Tag_ABI_VFP_args attribute. */
static void apply_float_abi(gos_target *t)
{
	if (!t->float_abi[0] || (strncmp(t->triple, "arm", 3) && strncmp(t->triple, "thumb", 5)))
		return;
	size_t n = strlen(t->triple);
	int hf = n > 2 && !strcmp(t->triple + n - 2, "hf");
	int eabi = n > 4 && !strcmp(t->triple + n - 4, "eabi");
	if (!strcmp(t->float_abi, "hard") && !hf && eabi && n + 2 < sizeof t->triple)
		strcat(t->triple, "hf");
	else if (strcmp(t->float_abi, "hard") && hf)
		t->triple[n - 2] = 0;
	if (!strcmp(t->float_abi, "soft")) {
		size_t u = strlen(t->features);
		snprintf(t->features + u, sizeof t->features - u, "%s+soft-float", u ? "," : "");
	}
}

int gos_target_parse(gos_target *t, const char *file, const char *text, size_t len,
                     gos_diags *d)
{
	memset(t, 0, sizeof *t);
	set_str(t->cpu, sizeof t->cpu, "generic");
	set_str(t->cc, sizeof t->cc, "cc");
	t->vector_bits = 128;
	int errors = 0, have_name = 0;
	size_t pos = 0;
	gos_kv kv = {.line = 0};
	while (gos_kv_next(text, len, &pos, &kv, file, d, &errors)) {
		const char *s = kv.key, *val = kv.val;
		gos_loc vl = {file, kv.line, kv.val_col};
		struct { const char *key; char *dst; size_t n; } sk[] = {
			{"name", t->name, sizeof t->name},
			{"triple", t->triple, sizeof t->triple},
			{"cpu", t->cpu, sizeof t->cpu},
			{"features", t->features, sizeof t->features},
			{"float_abi", t->float_abi, sizeof t->float_abi},
			{"cc", t->cc, sizeof t->cc},
			{"cflags", t->cflags, sizeof t->cflags},
			{"ldflags", t->ldflags, sizeof t->ldflags},
			{"qemu", t->qemu, sizeof t->qemu},
		};
		int known = 0;
		for (size_t i = 0; i < sizeof sk / sizeof sk[0]; i++) {
			if (strcmp(s, sk[i].key))
				continue;
			known = 1;
			if (strlen(val) >= sk[i].n) {
				gos_error(d, vl, "`%s` is too long (at most %zu characters)", s, sk[i].n - 1);
				errors++;
			} else {
				set_str(sk[i].dst, sk[i].n, val);
			}
			have_name |= i == 0;
		}
		if (known)
			continue;
		if (!strcmp(s, "vector_bits") || !strcmp(s, "vector_width")) {
			char *end;
			long v = strtol(val, &end, 10);
			while (isalpha((unsigned char)*end) || isspace((unsigned char)*end))
				end++; /* a unit such as "bits" */
			if (end == val || *end || v < 32 || v > 2048 || v % 32) {
				gos_error(d, vl, "`%s` needs a multiple of 32 in [32, 2048], got `%s`", s, val);
				errors++;
			} else {
				t->vector_bits = (int)v;
			}
		}
		/* other keys belong to the cost model */
	}
	if (t->float_abi[0] && strcmp(t->float_abi, "hard") && strcmp(t->float_abi, "soft") &&
	    strcmp(t->float_abi, "softfp")) {
		gos_error(d, (gos_loc){file, 0, 0}, "`float_abi` must be hard, soft or softfp, not `%s`",
		          t->float_abi);
		errors++;
	}
	if (!t->triple[0]) {
		gos_error(d, (gos_loc){file, 0, 0}, "the target has no `triple`");
		errors++;
	}
	if (!have_name) {
		const char *b = strrchr(file, '/');
		b = b ? b + 1 : file;
		size_t n = strlen(b);
		if (n > 7 && !strcmp(b + n - 7, ".target"))
			n -= 7;
		if (n >= sizeof t->name)
			n = sizeof t->name - 1;
		memcpy(t->name, b, n);
		t->name[n] = 0;
	}
	resolve_native(t);
	apply_float_abi(t);
	t->ptr_bits = triple_ptr_bits(t->triple);
	return errors ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void gos_target_list(char *buf, size_t n)
{
	char dirs[GOS_DATADIR_MAX][GOS_DATADIR_PATH];
	int nd = gos_datadir_list("GOS_TARGET_DIR", "targets", dirs);
	char *names[256];
	int k = 0;
	for (int i = 0; i < nd; i++) {
		DIR *dir = opendir(dirs[i]);
		if (!dir)
			continue;
		struct dirent *e;
		while ((e = readdir(dir)) && k < 256) {
			size_t l = strlen(e->d_name);
			if (l <= 7 || strcmp(e->d_name + l - 7, ".target") || e->d_name[0] == '.')
				continue;
			char *s = gos_strndup(e->d_name, l - 7);
			if (s)
				names[k++] = s;
		}
		closedir(dir);
	}
	qsort(names, (size_t)k, sizeof names[0], cmp_str);
	size_t u = 0;
	buf[0] = 0;
	for (int i = 0; i < k; i++)
		if ((i == 0 || strcmp(names[i], names[i - 1])) && u < n)
			u += (size_t)snprintf(buf + u, n - u, "%s%s", u ? ", " : "", names[i]);
	for (int i = 0; i < k; i++)
		free(names[i]);
}

int gos_target_load(gos_target *t, const char *spec, gos_diags *d)
{
	char path[4096];
	size_t sl = strlen(spec);
	int is_path = strchr(spec, '/') || (sl > 7 && !strcmp(spec + sl - 7, ".target"));
	memset(t, 0, sizeof *t);
	if (is_path) {
		snprintf(path, sizeof path, "%s", spec);
	} else {
		char file[300];
		snprintf(file, sizeof file, "%s.target", spec);
		if (!gos_datadir_find("GOS_TARGET_DIR", "targets", file, path, sizeof path)) {
			char known[2048];
			gos_target_list(known, sizeof known);
			gos_error(d, (gos_loc){spec, 0, 0},
			          "unknown target '%s' (known targets: %s; or give a path to a "
			          ".target file, or add %s.target to $GOS_TARGET_DIR)",
			          spec, known[0] ? known : "none found", spec);
			return -1;
		}
	}
	size_t len;
	char *text = gos_read_file(d, path, &len);
	if (!text)
		return -1;
	const char *file = gos_diags_source(d, path, text, len);
	int rc = gos_target_parse(t, file, text, len, d);
	set_str(t->path, sizeof t->path, path);
	free(text);
	return rc;
}

void gos_target_override(gos_target *t, const char *cpu, const char *attr)
{
	if (cpu && *cpu) {
		set_str(t->cpu, sizeof t->cpu, cpu);
		resolve_native(t);
	}
	if (attr && *attr) {
		size_t u = strlen(t->features);
		snprintf(t->features + u, sizeof t->features - u, "%s%s", u ? "," : "", attr);
	}
}
