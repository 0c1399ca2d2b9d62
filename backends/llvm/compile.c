/* compile.c -- gos_llvm_compile (llvm.h): target machine, lowering,
 * the new-pass-manager pipeline, and emission of object / assembly /
 * LLVM IR plus the C header. */
#include "backends/llvm/lower.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

static void init_llvm(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	LLVMInitializeAllTargetInfos();
	LLVMInitializeAllTargets();
	LLVMInitializeAllTargetMCs();
	LLVMInitializeAllAsmPrinters();
	LLVMInitializeAllAsmParsers();
}

void gos_llvm_output_free(gos_llvm_output *out)
{
	free(out->code);
	free(out->header);
	free(out->weights);
	free(out->stats);
	memset(out, 0, sizeof *out);
}

/* Creates the target machine of t, or NULL with an error in d. */
static LLVMTargetMachineRef make_tm(const gos_target *t, int opt, gos_diags *d)
{
	LLVMTargetRef tgt;
	char *err = NULL;
	if (LLVMGetTargetFromTriple(t->triple, &tgt, &err)) {
		gos_error(d, (gos_loc){t->path[0] ? t->path : t->name, 0, 0},
		          "target '%s': LLVM does not know triple '%s': %s", t->name, t->triple,
		          err ? err : "?");
		LLVMDisposeMessage(err);
		return NULL;
	}
	LLVMCodeGenOptLevel lv = opt <= 0 ? LLVMCodeGenLevelNone
	                         : opt == 1 ? LLVMCodeGenLevelLess
	                         : opt == 2 ? LLVMCodeGenLevelDefault
	                                    : LLVMCodeGenLevelAggressive;
	LLVMTargetMachineRef tm = LLVMCreateTargetMachine(tgt, t->triple, t->cpu, t->features, lv,
	                                                  LLVMRelocPIC, LLVMCodeModelDefault);
	if (!tm)
		gos_error(d, (gos_loc){t->name, 0, 0}, "target '%s': cannot create a target machine",
		          t->name);
	return tm;
}

static int feature_on(const char *list, const char *f);

/* Does the target have a one-instruction vector floor? */
static int has_native_floor(const gos_target *t)
{
	if (!strncmp(t->triple, "aarch64", 7) || !strncmp(t->triple, "arm64", 5))
		return 1;
	if (!strncmp(t->triple, "x86_64", 6) || !strncmp(t->triple, "i686", 4))
		return feature_on(t->features, "sse4.1");
	return 0;
}

/* Is feature f enabled in the comma-separated list (the last mention
 * wins)? */
static int feature_on(const char *list, const char *f)
{
	int on = 0;
	size_t fl = strlen(f);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == fl + 1 && (p[0] == '+' || p[0] == '-') && !strncmp(p + 1, f, fl))
			on = p[0] == '+';
		p += n + (e != NULL);
	}
	return on;
}

static int is_arm32(const gos_target *t)
{
	return !strncmp(t->triple, "arm", 3) || !strncmp(t->triple, "thumb", 5);
}

/* Is fused multiply-add an instruction (so llvm.fma is never a call)? */
static int has_fma(const gos_target *t)
{
	if (!strncmp(t->triple, "aarch64", 7) || !strncmp(t->triple, "arm64", 5))
		return 1;
	if (is_arm32(t))
		return feature_on(t->features, "vfp4");
	if (!strncmp(t->triple, "x86_64", 6) || !strncmp(t->triple, "i686", 4))
		return feature_on(t->features, "fma");
	return 0;
}

/* Checks that every buffer fits the target's address arithmetic. */
static int check_sizes(const gos_module *m, int ptr_bits, gos_diags *d)
{
	if (ptr_bits >= 64)
		return 0;
	int bad = 0;
	for (int v = 0; v < m->n_val; v++) {
		const gos_value *val = &m->vals[v];
		if (gos_numel(val->rank, val->shape) > (INT64_C(1) << 29)) {
			gos_error(d, val->loc, "value '%s' is too large for a 32-bit target", val->name);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static char *copy_mem(const char *p, size_t n)
{
	char *s = gos_malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = 0;
	}
	return s;
}

int gos_llvm_compile(gos_module *m, const gos_target *t, const gos_llvm_opts *o, gos_emit emit,
                     gos_llvm_output *out, gos_diags *d)
{
	gos_llvm_opts dflt = {2, 0, NULL, 0, 1};
	if (!o)
		o = &dflt;
	memset(out, 0, sizeof *out);
	gos_loc here = {m->name, 0, 0};
	init_llvm();
	int need = 0;
	for (int v = 0; v < m->n_val; v++)
		need |= m->vals[v].kind == GOS_VAL_WEIGHT && m->vals[v].dtype == GOS_F32 && !m->vals[v].data;
	if (need && gos_module_materialize(m, d))
		return -1;
	if (check_sizes(m, t->ptr_bits, d))
		return -1;
	if (o->prefix)
		snprintf(out->prefix, sizeof out->prefix, "%s", o->prefix);
	else
		gos_llvm_c_name(m->name, out->prefix, sizeof out->prefix);

	LLVMTargetMachineRef tm = make_tm(t, o->opt_level, d);
	if (!tm)
		return -1;
	gos_arena *arena = gos_arena_new();
	gos_lw L;
	memset(&L, 0, sizeof L);
	L.C = LLVMContextCreate();
	L.M = LLVMModuleCreateWithNameInContext(m->name, L.C);
	L.B = LLVMCreateBuilderInContext(L.C);
	L.t = t;
	L.d = d;
	L.a = arena;
	LLVMSetTarget(L.M, t->triple);
	LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
	char *dl = LLVMCopyStringRepOfTargetData(td);
	LLVMSetDataLayout(L.M, dl);
	LLVMDisposeMessage(dl);
	L.f32 = LLVMFloatTypeInContext(L.C);
	L.i1 = LLVMInt1TypeInContext(L.C);
	L.i8 = LLVMInt8TypeInContext(L.C);
	L.i32 = LLVMInt32TypeInContext(L.C);
	L.ity = LLVMIntPtrTypeInContext(L.C, td);
	L.ity_bits = (int)LLVMGetIntTypeWidth(L.ity);
	L.voidt = LLVMVoidTypeInContext(L.C);
	L.fptr = LLVMPointerType(L.f32, 0);
	L.i8ptr = LLVMPointerType(L.i8, 0);
	LLVMDisposeTargetData(td);
	L.threads = o->threads > 1 ? o->threads : 1;
	L.vl = t->vector_bits / 32 > 0 ? t->vector_bits / 32 : 1;
	L.wmax = o->vector_width > 0 ? o->vector_width : 4 * L.vl;
	if (L.wmax > 64)
		L.wmax = 64;
	if (L.wmax < L.vl)
		L.vl = L.wmax;
	L.native_floor = has_native_floor(t);
	L.has_fma = has_fma(t);
	L.native_minmax = !is_arm32(t);

	int rc = -1;
	gos_mplan plan;
	char *msg = NULL;
	if (!arena || gos_lw_plan(m, &plan, arena)) {
		gos_error(d, here, "out of memory");
		goto done;
	}
	if (gos_lw_module(&L, m, &plan, out->prefix, o->external_weights))
		goto done;
	if (LLVMVerifyModule(L.M, LLVMReturnStatusAction, &msg)) {
		gos_error(d, here, "internal error: the generated LLVM IR is invalid: %.500s",
		          msg ? msg : "?");
		goto done;
	}
	LLVMDisposeMessage(msg);
	msg = NULL;
	char pipeline[32];
	snprintf(pipeline, sizeof pipeline, "default<O%d>", o->opt_level < 0 ? 0 : o->opt_level > 3 ? 3 : o->opt_level);
	LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
	LLVMPassBuilderOptionsSetLoopVectorization(pbo, o->opt_level >= 2);
	LLVMPassBuilderOptionsSetSLPVectorization(pbo, o->opt_level >= 2);
	LLVMPassBuilderOptionsSetLoopUnrolling(pbo, o->opt_level >= 2);
	LLVMErrorRef perr = LLVMRunPasses(L.M, pipeline, tm, pbo);
	LLVMDisposePassBuilderOptions(pbo);
	if (perr) {
		char *em = LLVMGetErrorMessage(perr);
		gos_error(d, here, "internal error: LLVM passes failed: %s", em);
		LLVMDisposeErrorMessage(em);
		goto done;
	}
	if (emit == GOS_EMIT_LL) {
		char *s = LLVMPrintModuleToString(L.M);
		out->code = copy_mem(s, strlen(s));
		out->code_len = strlen(s);
		LLVMDisposeMessage(s);
	} else {
		LLVMMemoryBufferRef mb = NULL;
		char *err = NULL;
		if (LLVMTargetMachineEmitToMemoryBuffer(tm, L.M,
		                                        emit == GOS_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile,
		                                        &err, &mb)) {
			gos_error(d, here, "code generation failed: %s", err ? err : "?");
			LLVMDisposeMessage(err);
			goto done;
		}
		out->code_len = LLVMGetBufferSize(mb);
		out->code = copy_mem(LLVMGetBufferStart(mb), out->code_len);
		LLVMDisposeMemoryBuffer(mb);
	}
	out->header = gos_lw_header(m, &plan, out->prefix, t, o->external_weights, NULL);
	out->scratch_bytes = plan.scratch_bytes;
	out->weight_bytes = plan.weight_bytes;
	if (o->external_weights) {
		out->weights_len = (size_t)plan.weight_bytes;
		out->weights = gos_calloc(out->weights_len + 1, 1);
		if (out->weights)
			for (int v = 0; v < m->n_val; v++)
				if (plan.where[v] == GOS_W_WEIGHT)
					memcpy(out->weights + plan.off[v], m->vals[v].data,
					       (size_t)gos_numel(m->vals[v].rank, m->vals[v].shape) * 4);
	}
	if (!out->code || !out->header || (o->external_weights && !out->weights)) {
		gos_error(d, here, "out of memory");
		goto done;
	}
	out->stats = L.stats ? L.stats : copy_mem("", 0);
	L.stats = NULL;
	rc = 0;
done:
	if (msg)
		LLVMDisposeMessage(msg);
	free(L.stats);
	LLVMDisposeBuilder(L.B);
	LLVMDisposeModule(L.M);
	LLVMContextDispose(L.C);
	LLVMDisposeTargetMachine(tm);
	gos_arena_free(arena);
	if (rc)
		gos_llvm_output_free(out);
	return rc;
}
