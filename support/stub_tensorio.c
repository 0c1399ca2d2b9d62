/* placeholder until npy/safetensors land */
#include "support/tensorio.h"
int gos_safetensors_read(const char *path, const char *key, int rank,
                         const int64_t *shape, float *out, gos_diags *d)
{
	(void)key; (void)rank; (void)shape; (void)out;
	gos_error(d, (gos_loc){path, 0, 0}, "safetensors not built yet");
	return -1;
}
