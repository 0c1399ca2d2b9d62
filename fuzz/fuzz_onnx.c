/* fuzz_onnx.c -- ONNX protobuf bytes through the importer (symbolic
 * dimensions set to 2 so that import goes past the inputs), the model
 * summary (gos_onnx_info_read) and the TensorProto reader. */
#include "fuzz/fuzz.h"
#include "frontend/onnx/onnx.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, "in.onnx");
	gos_diags d;
	gos_diags_init(&d);
	gos_onnx_options opt;
	memset(&opt, 0, sizeof opt);
	opt.dim_param_value = 2;
	gos_module *m = gos_onnx_load(path, &opt, &d);
	fuzz_check(m ? 0 : -1, &d, "gos_onnx_load");
	if (m && !d.n_errors)
		gos_verify(m, &d);
	gos_module_free(m);
	gos_diags_free(&d);

	gos_diags_init(&d);
	gos_onnx_info info;
	memset(&info, 0, sizeof info);
	int rc = gos_onnx_info_read(path, &info, &d);
	fuzz_check(rc, &d, "gos_onnx_info_read");
	if (rc == 0)
		gos_onnx_info_free(&info);
	gos_diags_free(&d);

	gos_diags_init(&d);
	gos_onnx_tensor t;
	memset(&t, 0, sizeof t);
	rc = gos_onnx_tensor_read(path, &t, &d);
	fuzz_check(rc, &d, "gos_onnx_tensor_read");
	if (rc == 0)
		gos_onnx_tensor_free(&t);
	gos_diags_free(&d);
	return 0;
}
