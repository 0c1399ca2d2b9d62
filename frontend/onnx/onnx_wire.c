/* onnx_wire.c -- a bound on how deeply the messages of an ONNX file nest,
 * checked on the protobuf wire format before protobuf-c decodes it
 * (protobuf-c recurses once per level, so a small file of nested graph
 * attributes would otherwise exhaust the stack). Only compiled with
 * GOS_HAVE_ONNX. */
#if GOS_HAVE_ONNX
#include "frontend/onnx/onnx_internal.h"

#include <stdlib.h>

#include "support/alloc.h"

static void *pb_alloc(void *data, size_t n)
{
	return gos_malloc(n);
}

static void pb_free(void *data, void *p)
{
	free(p);
}

ProtobufCAllocator gos_onnx_pb_allocator = {pb_alloc, pb_free, NULL};

/* Reads a varint at *p (< end) into *v; 0 when cut or longer than 10 bytes. */
static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int s = 0; s < 70 && *p < end; s += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << (s < 64 ? s : 63);
		if (!(b & 0x80))
			return 1;
	}
	return 0;
}

/* Depth of the deepest message in p[0, len) decoded as desc, at most
 * limit + 1 (the walk stops there); malformed data ends the walk (the
 * decoder reports it). */
static int depth_of(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *desc,
                    int limit)
{
	if (limit < 0)
		return 1;
	const uint8_t *end = p + len;
	int deepest = 1;
	while (p < end) {
		uint64_t key, n;
		if (!varint(&p, end, &key))
			break;
		switch (key & 7) {
		case 0:
			if (!varint(&p, end, &n))
				return deepest;
			break;
		case 1:
			if (end - p < 8)
				return deepest;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return deepest;
			p += 4;
			break;
		case 2: {
			if (!varint(&p, end, &n) || n > (uint64_t)(end - p))
				return deepest;
			const ProtobufCFieldDescriptor *f =
				key >> 3 <= UINT32_MAX
					? protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3))
					: NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				int dd = 1 + depth_of(p, (size_t)n, f->descriptor, limit - 1);
				if (dd > deepest)
					deepest = dd;
				if (deepest > limit)
					return deepest;
			}
			p += n;
			break;
		}
		default:
			return deepest; /* groups: not in onnx.proto */
		}
	}
	return deepest;
}

int gos_onnx_check_nesting(const void *bytes, size_t len, const ProtobufCMessageDescriptor *desc,
                           gos_loc loc, gos_diags *d)
{
	if (depth_of(bytes, len, desc, ONNX_MAX_NESTING) > ONNX_MAX_NESTING) {
		gos_error(d, loc, "messages nested more than %d levels deep (corrupt or hostile "
		          "file?)", ONNX_MAX_NESTING);
		return -1;
	}
	return 0;
}
#endif
