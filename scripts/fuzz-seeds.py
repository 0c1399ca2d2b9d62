#!/usr/bin/env python3
"""fuzz-seeds.py OUT -- small binary seeds for the fuzz targets that the
repository has no small files for (standard library only): .npy, .npz,
IDX (plain and gzipped), safetensors holding "w" [2, 3], a cost-model
file and a profile CSV of fuzz/fuzz_profile.c's model. Writes
OUT/<target>/<name>."""
import gzip, io, json, os, struct, sys, zipfile

out = sys.argv[1]

def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)

def npy(descr, shape, payload):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d," % s for s in shape) if len(shape) == 1 else ", ".join(map(str, shape)))
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + payload

imgs_u8 = npy("|u1", (2, 3, 3), bytes(range(18)))
imgs_f4 = npy("<f4", (2, 1, 2, 2), struct.pack("<8f", *[0.5 * i for i in range(8)]))
labels = npy("<i8", (2,), struct.pack("<2q", 0, 1))
put("npy", "images_u8.npy", imgs_u8)
put("npy", "images_f4.npy", imgs_f4)
put("npy", "labels_i8.npy", labels)
put("npy", "f8_2x3.npy", npy("<f8", (2, 3), struct.pack("<6d", *range(6))))

for comp, name in ((zipfile.ZIP_STORED, "stored.npz"), (zipfile.ZIP_DEFLATED, "deflated.npz")):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", comp) as z:
        z.writestr("x.npy", imgs_u8)
        z.writestr("y.npy", labels)
    put("npz", name, b.getvalue())

def idx(code, shape, payload):
    return struct.pack(">BBBB", 0, 0, code, len(shape)) + b"".join(
        struct.pack(">I", s) for s in shape) + payload

put("idx", "images_u8.idx", idx(0x08, (2, 3, 3), bytes(range(18))))
put("idx", "labels_u8.idx", idx(0x08, (2,), bytes([0, 1])))
put("idx", "images_f4.idx", idx(0x0D, (2, 2, 2), struct.pack(">8f", *range(8))))
put("idx", "images_u8.idx.gz", gzip.compress(idx(0x08, (2, 3, 3), bytes(range(18))), mtime=0))

def safetensors(entries, meta=True):
    hdr, data = {}, b""
    for key, dtype, shape, payload in entries:
        hdr[key] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    if meta:
        hdr["__metadata__"] = {"format": "pt"}
    h = json.dumps(hdr).encode()
    return struct.pack("<Q", len(h)) + h + data

put("safetensors", "f32.safetensors", safetensors([("w", "F32", [2, 3], struct.pack("<6f", *range(6)))]))
put("safetensors", "f16.safetensors", safetensors([("w", "F16", [2, 3], struct.pack("<6e", *range(6))),
                                                   ("b", "F32", [3], struct.pack("<3f", 1, 2, 3))]))
put("safetensors", "bf16.safetensors", safetensors([("w", "BF16", [2, 3], b"\x80\x3f" * 6)], meta=False))
put("safetensors", "f64.safetensors", safetensors([("w", "F64", [2, 3], struct.pack("<6d", *range(6))),
                                                   ("i", "I64", [1], struct.pack("<q", 7))]))

put("costmodel", "full.model", b"""gos-cost-model 1
target pi3
family full
fold 0
prior analytic
tau 0.5
lambda 0.001
n_samples 12
loo_spearman 0.950000
loo_mape 5.000
intercept 0.25
# column mean sd weight (y = intercept + sum weight*(x-mean)/sd)
col contraction_ms 1.5 0.5 2
col pooling_nodes 3 1 0.01
col prior 2 1 0.5
""")
put("costmodel", "profile.model", b"""gos-cost-model 1
target pi3
family profile
fold 2
prior proxy
tau 0
lambda 0
n_samples 3
loo_spearman 1
loo_mape 1
intercept 0
col elementwise_ms 0 1 1.5
col total_gflop 0 1 3
""")

put("profile", "net_a.csv", b"""model,node,op,kind,runs,median_ms,min_ms,flops,gflops,share
net_a,c1,conv2d+relu,contraction,20,0.021,0.019,37376,1.7,50
net_a,c2,conv2d,contraction,20,0.011,0.010,8192,0.7,26
# a comment
net_a,p,avgpool2d,pooling,20,0.013,0.012,640,0.05,24

net_a,(total),-,-,20,0.046,0.044,0,0,100
""")
put("profile", "reordered.csv", b"""node,model,median_ms,min_ms,op,kind,runs,flops,gflops,share,extra\r
c2,net_a,1,1,conv2d,contraction,5,1,1,1,x\r
(total),net_a,2,2,-,-,5,0,0,100,y\r
""")
