/* placeholder until the .gos frontend lands */
#include "frontend/frontend.h"
gos_module *gos_gos_load(const char *path, const char *model, gos_diags *d)
{
	gos_error(d, (gos_loc){path, 0, 0}, "the .gos frontend is not built yet");
	return NULL;
}
