/* jit.c -- gos_jit (llvm.h): a model compiled by gos_llvm_compile for
 * this machine, linked into the running process by ORC's LLJIT. The
 * object is the one `gosc -emit=obj` writes, so code run in process is
 * the code users ship for the host. */
#include "backends/llvm/llvm.h"
#include "support/alloc.h"

#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

struct gos_jit {
	LLVMOrcLLJITRef jit;
	gos_jit_run_fn run;
	gos_jit_profile_fn run_profile;
	int64_t scratch_bytes;
};

/* Moves the message of err (consumed) into d at loc; returns -1. */
static int jit_error(gos_diags *d, gos_loc loc, const char *what, LLVMErrorRef err)
{
	char *msg = LLVMGetErrorMessage(err);
	gos_error(d, loc, "in-process code: %s: %s", what, msg ? msg : "?");
	LLVMDisposeErrorMessage(msg);
	return -1;
}

/* Whether t's triple is the one this process runs (after `native` was
 * resolved by gos_target_load). */
static int is_this_machine(const gos_target *t)
{
	char *host = LLVMGetDefaultTargetTriple();
	char *a = LLVMNormalizeTargetTriple(host), *b = LLVMNormalizeTargetTriple(t->triple);
	/* compare arch and OS: vendor fields differ between spellings */
	const char *pa = strchr(a, '-'), *pb = strchr(b, '-');
	int same = pa && pb && pa - a == pb - b && !strncmp(a, b, (size_t)(pa - a));
	const char *oa = pa ? strchr(pa + 1, '-') : NULL, *ob = pb ? strchr(pb + 1, '-') : NULL;
	same = same && oa && ob && !strncmp(oa, ob, 6);
	LLVMDisposeMessage(host);
	LLVMDisposeMessage(a);
	LLVMDisposeMessage(b);
	return same;
}

gos_jit *gos_jit_new(gos_module *m, const gos_target *t, const gos_llvm_opts *o, gos_diags *d)
{
	gos_loc loc = {t->path[0] ? t->path : t->name, 0, 0};
	if (!is_this_machine(t)) {
		gos_error(d, loc,
		          "target '%s' (%s) is not this machine: its code cannot run in this process",
		          t->name, t->triple);
		return NULL;
	}
	gos_llvm_opts lo = o ? *o : (gos_llvm_opts){2, 0, NULL, 0, 1};
	lo.external_weights = 0;
	if (!lo.prefix)
		lo.prefix = "gos_jit_model";
	gos_llvm_output out;
	memset(&out, 0, sizeof out);
	if (gos_llvm_compile(m, t, &lo, GOS_EMIT_OBJ, &out, d))
		return NULL;
	gos_jit *j = gos_calloc(1, sizeof *j);
	if (!j) {
		gos_error(d, loc, "out of memory");
		gos_llvm_output_free(&out);
		return NULL;
	}
	j->scratch_bytes = out.scratch_bytes;
	LLVMInitializeNativeTarget();
	LLVMInitializeNativeAsmPrinter();
	LLVMErrorRef err;
	LLVMOrcJITTargetMachineBuilderRef jtmb = NULL;
	if ((err = LLVMOrcJITTargetMachineBuilderDetectHost(&jtmb))) {
		jit_error(d, loc, "cannot describe this machine", err);
		goto fail;
	}
	LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
	LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b, jtmb); /* b owns jtmb */
	if ((err = LLVMOrcCreateLLJIT(&j->jit, b))) {             /* consumes b */
		j->jit = NULL;
		jit_error(d, loc, "cannot create the JIT", err);
		goto fail;
	}
	LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->jit);
	LLVMOrcDefinitionGeneratorRef gen = NULL;
	if ((err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(
		     &gen, LLVMOrcLLJITGetGlobalPrefix(j->jit), NULL, NULL))) {
		jit_error(d, loc, "cannot look up this process's symbols", err);
		goto fail;
	}
	LLVMOrcJITDylibAddGenerator(jd, gen); /* jd owns gen */
	LLVMMemoryBufferRef mb =
		LLVMCreateMemoryBufferWithMemoryRangeCopy(out.code, out.code_len, "model.o");
	if ((err = LLVMOrcLLJITAddObjectFile(j->jit, jd, mb))) { /* consumes mb */
		jit_error(d, loc, "cannot load the object", err);
		goto fail;
	}
	char sym[160];
	snprintf(sym, sizeof sym, "%s_run", out.prefix);
	LLVMOrcExecutorAddress addr = 0;
	if ((err = LLVMOrcLLJITLookup(j->jit, &addr, sym))) {
		jit_error(d, loc, "cannot link the run function", err);
		goto fail;
	}
	/* an executor address is the function's address in this process */
	j->run = (gos_jit_run_fn)(uintptr_t)addr;
	snprintf(sym, sizeof sym, "%s_run_profile", out.prefix);
	if ((err = LLVMOrcLLJITLookup(j->jit, &addr, sym))) {
		jit_error(d, loc, "cannot link the profiling run function", err);
		goto fail;
	}
	j->run_profile = (gos_jit_profile_fn)(uintptr_t)addr;
	gos_llvm_output_free(&out);
	return j;
fail:
	gos_llvm_output_free(&out);
	gos_jit_free(j);
	return NULL;
}

gos_jit_run_fn gos_jit_run(const gos_jit *j)
{
	return j->run;
}

gos_jit_profile_fn gos_jit_run_profile(const gos_jit *j)
{
	return j->run_profile;
}

int64_t gos_jit_scratch_bytes(const gos_jit *j)
{
	return j->scratch_bytes;
}

void gos_jit_free(gos_jit *j)
{
	if (!j)
		return;
	if (j->jit) {
		LLVMErrorRef err = LLVMOrcDisposeLLJIT(j->jit);
		if (err)
			LLVMConsumeError(err);
	}
	free(j);
}
