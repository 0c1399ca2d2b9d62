#!/usr/bin/python3
"""make_models.py OUT_DIR -- two ONNX models shaped like what users bring
from other frameworks' converters, with seeded random weights (onnx helper
API, opset 14), both with symbolic input dimensions:

  detector.onnx   a paddle2onnx-style text detector (DB head): hard-swish
                  MobileNetV3 blocks with squeeze-excite, an FPN whose
                  upsampling is Resize (nearest by scales, linear to sizes
                  computed by Shape/Slice/Concat), and a head of two
                  stride-2 ConvTranspose layers; input x [batch, 3, height,
                  width]
  recogniser.onnx an SVTR-style text recogniser: a conv stem, tokens by
                  Shape arithmetic, two pre-norm attention blocks whose QKV
                  tensor [batch, T, 3, heads, d] is sliced along axis 2
                  (rank 5), layer norm written out (ReduceMean, Sub, Pow,
                  Sqrt, Div), GELU by Erf, Softmax over classes; input x
                  [batch, 3, 48, width]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261204)
nodes, inits = [], []
count = [0]


def name(p):
    count[0] += 1
    return "%s_%d" % (p, count[0])


def const(arr, p="c"):
    n = name(p)
    inits.append(numpy_helper.from_array(np.asarray(arr), n))
    return n


def op(kind, ins, n_out=1, **attrs):
    outs = [name(kind.lower()) for _ in range(n_out)]
    nodes.append(helper.make_node(kind, ins, outs, name=outs[0], **attrs))
    return outs[0] if n_out == 1 else outs


def conv(x, cin, cout, k=1, s=1, g=1):
    fan = cin // g * k * k
    w = const(rng.normal(0, np.sqrt(2.0 / fan), (cout, cin // g, k, k)).astype(np.float32), "w")
    b = const(rng.normal(0, 0.05, cout).astype(np.float32), "b")
    return op("Conv", [x, w, b], kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4, group=g)


def se(x, c):
    p = op("GlobalAveragePool", [x])
    r = op("Relu", [conv(p, c, max(8, c // 4))])
    return op("Mul", [x, op("HardSigmoid", [conv(r, max(8, c // 4), c)], alpha=1 / 6, beta=0.5)])


def block(x, cin, mid, cout, s, use_se):
    h = op("HardSwish", [conv(x, cin, mid)])
    h = op("HardSwish", [conv(h, mid, mid, 3, s, mid)])
    if use_se:
        h = se(h, mid)
    h = conv(h, mid, cout)
    return op("Add", [x, h]) if s == 1 and cin == cout else h


def convt(x, cin, cout):
    w = const(rng.normal(0, np.sqrt(2.0 / (cin * 4)), (cin, cout, 2, 2)).astype(np.float32), "wt")
    b = const(rng.normal(0, 0.05, cout).astype(np.float32), "bt")
    return op("ConvTranspose", [x, w, b], kernel_shape=[2, 2], strides=[2, 2])


def detector():
    x = "x"
    h = op("HardSwish", [conv(x, 3, 16, 3, 2)])
    h = block(h, 16, 16, 16, 1, False)
    c2 = block(block(h, 16, 64, 24, 2, False), 24, 72, 24, 1, False)      # stride 4
    c3 = block(block(c2, 24, 72, 40, 2, True), 40, 120, 40, 1, True)      # stride 8
    c4 = block(block(c3, 40, 240, 64, 2, True), 64, 192, 64, 1, True)     # stride 16
    l2, l3, l4 = conv(c2, 24, 32), conv(c3, 40, 32), conv(c4, 64, 32)
    empty = const(np.zeros(0, np.float32), "roi")
    up2 = const(np.array([1, 1, 2, 2], np.float32), "scales")
    nearest = dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    p3 = op("Add", [l3, op("Resize", [l4, empty, up2], **nearest)])
    p2 = op("Add", [l2, op("Resize", [p3, empty, up2], **nearest)])
    # the FPN outputs to p2's size: sizes from Shape arithmetic, linear
    sp2 = op("Shape", [p2])
    hw = op("Slice", [sp2, const(np.array([2], np.int64)), const(np.array([4], np.int64)),
                      const(np.array([0], np.int64))])
    linear = dict(mode="linear", coordinate_transformation_mode="half_pixel")

    def to_p2(t):
        nc = op("Slice", [op("Shape", [t]), const(np.array([0], np.int64)),
                          const(np.array([2], np.int64)), const(np.array([0], np.int64))])
        return op("Resize", [t, empty, "", op("Concat", [nc, hw], axis=0)], **linear)

    f3 = to_p2(conv(p3, 32, 16, 3))
    f4 = to_p2(conv(l4, 32, 16, 3))
    fuse = op("Concat", [conv(p2, 32, 16, 3), f3, f4], axis=1)
    h = op("Relu", [conv(fuse, 48, 24, 3)])
    h = op("Relu", [convt(h, 24, 24)])
    y = op("Sigmoid", [convt(h, 24, 1)], )
    return x, ["batch", 3, "height", "width"], y, ["batch", 1, "height", "width"]


def layer_norm(x, c):
    mu = op("ReduceMean", [x], axes=[-1])
    d = op("Sub", [x, mu])
    var = op("ReduceMean", [op("Pow", [d, const(np.array(2.0, np.float32))])], axes=[-1])
    n = op("Div", [d, op("Sqrt", [op("Add", [var, const(np.array(1e-6, np.float32))])])])
    g = const((1 + rng.normal(0, 0.1, c)).astype(np.float32), "ln_g")
    return op("Add", [op("Mul", [n, g]), const(rng.normal(0, 0.1, c).astype(np.float32), "ln_b")])


def linear(x, cin, cout):
    w = const(rng.normal(0, np.sqrt(1.0 / cin), (cin, cout)).astype(np.float32), "fc")
    return op("Add", [op("MatMul", [x, w]), const(rng.normal(0, 0.05, cout).astype(np.float32), "fb")])


def attention(x, c, heads):
    d = c // heads
    qkv = op("Reshape", [linear(layer_norm(x, c), c, 3 * c),
                         const(np.array([0, -1, 3, heads, d], np.int64))])      # [B, T, 3, h, d]
    parts = []
    for k in range(3):
        s = op("Slice", [qkv, const(np.array([k], np.int64)), const(np.array([k + 1], np.int64)),
                         const(np.array([2], np.int64))])                       # rank 5, axis 2
        s = op("Squeeze", [s, const(np.array([2], np.int64))])
        parts.append(op("Transpose", [s], perm=[0, 2, 1, 3]))                   # [B, h, T, d]
    q, k, v = parts
    q = op("Mul", [q, const(np.array(d ** -0.5, np.float32))])
    a = op("Softmax", [op("MatMul", [q, op("Transpose", [k], perm=[0, 1, 3, 2])])], axis=-1)
    o = op("Transpose", [op("MatMul", [a, v])], perm=[0, 2, 1, 3])
    o = op("Reshape", [o, const(np.array([0, 0, c], np.int64))])
    x = op("Add", [x, linear(o, c, c)])
    h = linear(layer_norm(x, c), c, 2 * c)
    g = op("Mul", [op("Mul", [h, const(np.array(0.5, np.float32))]),
                   op("Add", [const(np.array(1.0, np.float32)),
                              op("Erf", [op("Div", [h, const(np.array(np.sqrt(2), np.float32))])])])])
    return op("Add", [x, linear(g, 2 * c, c)])


def recogniser():
    x = "x"
    h = op("HardSwish", [conv(x, 3, 32, 3, 2)])
    h = op("HardSwish", [conv(h, 32, 64, 3, 2)])              # [B, 64, 12, W/4]
    h = op("MaxPool", [h], kernel_shape=[2, 1], strides=[2, 1])  # [B, 64, 6, W/4]
    b = op("Gather", [op("Shape", [h]), const(np.array([0], np.int64))], axis=0)
    shape = op("Concat", [b, const(np.array([64, -1], np.int64))], axis=0)
    t = op("Transpose", [op("Reshape", [h, shape])], perm=[0, 2, 1])  # [B, T, 64]
    for _ in range(2):
        t = attention(t, 64, 2)
    y = op("Softmax", [linear(layer_norm(t, 64), 64, 37)], axis=2)
    return x, ["batch", 3, 48, "width"], y, ["batch", "tokens", 37]


def save(path, build):
    nodes.clear(); inits.clear()
    x, xs, y, ys = build()
    g = helper.make_graph(nodes, os.path.basename(path)[:-5], [helper.make_tensor_value_info(x, TensorProto.FLOAT, xs)],
                          [helper.make_tensor_value_info(y, TensorProto.FLOAT, ys)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)], producer_name="make_models.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    save(os.path.join(out, "detector.onnx"), detector)
    save(os.path.join(out, "recogniser.onnx"), recogniser)
