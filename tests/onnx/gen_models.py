#!/usr/bin/python3
"""gen_models.py OUT_DIR [--only NAME,...] -- ONNX test cases for gosc's importer.

Builds, with the onnx package's helper API and numpy random weights from a
fixed seed, test cases in the layout of the ONNX backend tests:

    OUT_DIR/<case>/model.onnx
    OUT_DIR/<case>/test_data_set_0/input_<k>.pb

The expected outputs (output_<k>.pb) come from ONNX Runtime
(tests/onnx/ort_run.js), so that the reference is independent of gosc;
only where ONNX Runtime is known to differ from the ONNX definition does
this script write them from a plain numpy reference (and a file REFERENCE).
Cases:

  mobilenet_v2   MobileNetV2 (torchvision layout, width 1.0, 224x224, opset 13:
                 Conv, BatchNormalization, Clip(0, 6) with initializer bounds,
                 Add, GlobalAveragePool, Flatten, Gemm)
  resnet18       ResNet-18 (opset 11: Conv, BatchNormalization, Relu, MaxPool,
                 Add, GlobalAveragePool, then PyTorch's x.view(x.size(0), -1):
                 Shape, Gather, Unsqueeze, Concat, Reshape; Gemm)
  sem_*          small graphs pinning the attribute semantics the importer
                 must get exactly right (auto_pad, ceil_mode,
                 count_include_pad, Gemm alpha/beta/transA/transB, Clip bounds
                 from inputs, Softmax before/after opset 13, ...)
  ext_data       a model whose weights live in an external data file

Deterministic: the same OUT_DIR contents on every run (seeded numpy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20240611


class Graph:
    """Collects nodes and initializers; names are made unique."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.count = {}

    def name(self, base):
        n = self.count.get(base, 0)
        self.count[base] = n + 1
        return base if n == 0 else "%s_%d" % (base, n)

    def init(self, base, array):
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base, n_out=1, **attrs):
        outs = [self.name(base if k == 0 else "%s_out%d" % (base, k)) for k in range(n_out)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.name(base + "_node"), **attrs))
        return outs[0] if n_out == 1 else outs

    # -- layers with random weights --------------------------------------
    def conv(self, x, cin, cout, k, stride=1, pad=None, groups=1, bias=False, base="conv"):
        if pad is None:
            pad = k // 2
        fan_in = cin // groups * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)).astype(np.float32)
        ins = [x, self.init(base + ".weight", w)]
        if bias:
            ins.append(self.init(base + ".bias", self.rng.normal(0, 0.1, cout).astype(np.float32)))
        return self.node("Conv", ins, base, kernel_shape=[k, k], strides=[stride, stride],
                         pads=[pad] * 4, group=groups, dilations=[1, 1])

    def bn(self, x, c, base="bn"):
        r = self.rng
        ins = [x,
               self.init(base + ".weight", r.uniform(0.5, 1.5, c).astype(np.float32)),
               self.init(base + ".bias", r.normal(0, 0.1, c).astype(np.float32)),
               self.init(base + ".running_mean", r.normal(0, 0.1, c).astype(np.float32)),
               self.init(base + ".running_var", r.uniform(0.5, 1.5, c).astype(np.float32))]
        return self.node("BatchNormalization", ins, base, epsilon=1e-5, momentum=0.9)

    def linear(self, x, cin, cout, base="fc"):
        w = self.rng.normal(0, np.sqrt(1.0 / cin), (cout, cin)).astype(np.float32)
        b = self.rng.normal(0, 0.1, cout).astype(np.float32)
        return self.node("Gemm", [x, self.init(base + ".weight", w), self.init(base + ".bias", b)],
                         base, alpha=1.0, beta=1.0, transB=1)


def save_case(out_dir, case, graph_nodes, inputs, outputs, inits, opset, feeds, rng=None,
              external=False):
    """Writes out_dir/case/model.onnx and its inputs."""
    d = os.path.join(out_dir, case)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    g = helper.make_graph(graph_nodes, case, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="gosc tests/onnx/gen_models.py")
    m.ir_version = 7 if opset <= 13 else 8
    if all(o.type.tensor_type.HasField("shape") for o in outputs):
        onnx.checker.check_model(m)
    path = os.path.join(d, "model.onnx")
    if external:
        for f in os.listdir(d):
            if f.endswith(".bin"):
                os.remove(os.path.join(d, f))
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
    else:
        onnx.save_model(m, path)
    for k, (name, arr) in enumerate(feeds):
        t = numpy_helper.from_array(np.asarray(arr, dtype=arr.dtype), name)
        with open(os.path.join(d, "test_data_set_0", "input_%d.pb" % k), "wb") as f:
            f.write(t.SerializeToString())


def vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


# ---- whole networks ------------------------------------------------------

def mobilenet_v2(out_dir):
    rng = np.random.default_rng(SEED)
    G = Graph(rng)
    lo = G.init("relu6.min", np.array(0.0, np.float32))
    hi = G.init("relu6.max", np.array(6.0, np.float32))

    def relu6(x, base):
        return G.node("Clip", [x, lo, hi], base)

    def conv_bn(x, cin, cout, k, stride, groups, base, act=True):
        y = G.conv(x, cin, cout, k, stride, groups=groups, base=base + ".conv")
        y = G.bn(y, cout, base=base + ".bn")
        return relu6(y, base + ".relu6") if act else y

    x = "input"
    h = conv_bn(x, 3, 32, 3, 2, 1, "features.0")
    cin = 32
    idx = 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            base = "features.%d" % idx
            hidden = cin * t
            y = h
            if t != 1:
                y = conv_bn(y, cin, hidden, 1, 1, 1, base + ".expand")
            y = conv_bn(y, hidden, hidden, 3, stride, hidden, base + ".dw")
            y = conv_bn(y, hidden, c, 1, 1, 1, base + ".project", act=False)
            if stride == 1 and cin == c:
                y = G.node("Add", [h, y], base + ".add")
            h = y
            cin = c
            idx += 1
    h = conv_bn(h, cin, 1280, 1, 1, 1, "features.%d" % idx)
    h = G.node("GlobalAveragePool", [h], "pool")
    h = G.node("Flatten", [h], "flatten", axis=1)
    G.nodes.append(helper.make_node("Gemm", [h, G.init("classifier.weight",
                                                       rng.normal(0, 0.03, (1000, 1280)).astype(np.float32)),
                                             G.init("classifier.bias", rng.normal(0, 0.1, 1000).astype(np.float32))],
                                    ["logits"], name="classifier", transB=1))
    feed = rng.normal(0, 1, (1, 3, 224, 224)).astype(np.float32)
    save_case(out_dir, "mobilenet_v2", G.nodes, [vi("input", [1, 3, 224, 224])],
              [vi("logits", [1, 1000])], G.inits, 13, [("input", feed)])


def resnet18(out_dir):
    rng = np.random.default_rng(SEED + 1)
    G = Graph(rng)

    def basic_block(x, cin, cout, stride, base):
        y = G.conv(x, cin, cout, 3, stride, base=base + ".conv1")
        y = G.bn(y, cout, base=base + ".bn1")
        y = G.node("Relu", [y], base + ".relu1")
        y = G.conv(y, cout, cout, 3, 1, base=base + ".conv2")
        y = G.bn(y, cout, base=base + ".bn2")
        sc = x
        if stride != 1 or cin != cout:
            sc = G.conv(x, cin, cout, 1, stride, pad=0, base=base + ".downsample.0")
            sc = G.bn(sc, cout, base=base + ".downsample.1")
        y = G.node("Add", [y, sc], base + ".add")
        return G.node("Relu", [y], base + ".relu2")

    h = G.conv("input", 3, 64, 7, 2, pad=3, base="conv1")
    h = G.bn(h, 64, base="bn1")
    h = G.node("Relu", [h], "relu")
    h = G.node("MaxPool", [h], "maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for li, (c, s) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)]):
        for b in range(2):
            h = basic_block(h, cin, c, s if b == 0 else 1, "layer%d.%d" % (li + 1, b))
            cin = c
    h = G.node("GlobalAveragePool", [h], "avgpool")
    # x.view(x.size(0), -1) as PyTorch exports it
    shape = G.node("Shape", [h], "shape")
    n = G.node("Gather", [shape, G.init("zero", np.array(0, np.int64))], "batch", axis=0)
    n1 = G.node("Unsqueeze", [n], "batch1", axes=[0])
    target = G.node("Concat", [n1, G.init("minus_one", np.array([-1], np.int64))], "view_shape",
                    axis=0)
    h = G.node("Reshape", [h, target], "view")
    w = rng.normal(0, np.sqrt(1.0 / 512), (1000, 512)).astype(np.float32)
    b = rng.normal(0, 0.1, 1000).astype(np.float32)
    G.nodes.append(helper.make_node("Gemm", [h, G.init("fc.weight", w), G.init("fc.bias", b)],
                                    ["logits"], name="fc", transB=1))
    feed = rng.normal(0, 1, (1, 3, 224, 224)).astype(np.float32)
    save_case(out_dir, "resnet18", G.nodes, [vi("input", [1, 3, 224, 224])],
              [vi("logits", [1, 1000])], G.inits, 11, [("input", feed)])


# ---- attribute semantics -------------------------------------------------

def single(out_dir, case, op, in_shapes, out_shape, opset, attrs=None, consts=None, n_out=1):
    """A graph of one node: float inputs x0, x1, ... (random), constants
    (name -> array) after them, output y (shape from ONNX Runtime)."""
    rng = np.random.default_rng([SEED] + [ord(ch) for ch in case])
    names = ["x%d" % k for k in range(len(in_shapes))]
    inits = []
    ins = list(names)
    for cname, arr in (consts or []):
        if cname == "":
            ins.append("")
            continue
        inits.append(numpy_helper.from_array(np.asarray(arr), cname))
        ins.append(cname)
    node = helper.make_node(op, ins, ["y"] + ["y%d" % k for k in range(1, n_out)], name=case,
                            **(attrs or {}))
    feeds = [(n, rng.normal(0, 1, s).astype(np.float32)) for n, s in zip(names, in_shapes)]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)]
    save_case(out_dir, case, [node], [vi(n, s) for n, s in zip(names, in_shapes)], outs, inits,
              opset, feeds)


def avgpool_ceil_reference(model, x):
    """AveragePool with ceil_mode = 1 and count_include_pad = 1 by its ONNX
    definition, with plain loops: a window's divisor is the number of its
    taps inside the explicitly padded input."""
    a = {at.name: helper.get_attribute_value(at) for at in model.graph.node[0].attribute}
    k, s, pads = a["kernel_shape"], a["strides"], a["pads"]
    sp = len(k)
    size = x.shape[2:]
    out = [-(-(size[d] + pads[d] + pads[sp + d] - k[d]) // s[d]) + 1 for d in range(sp)]
    y = np.zeros(x.shape[:2] + tuple(out), dtype=np.float64)
    for o in np.ndindex(*out):
        lo = [o[d] * s[d] - pads[d] for d in range(sp)]
        hi = [min(lo[d] + k[d], size[d] + pads[sp + d]) for d in range(sp)]
        count = np.prod([hi[d] - lo[d] for d in range(sp)])
        win = tuple(slice(max(lo[d], 0), min(hi[d], size[d])) for d in range(sp))
        y[(slice(None), slice(None)) + o] = x[(slice(None), slice(None)) + win].sum(
            axis=tuple(range(2, 2 + sp))) / count
    return y.astype(np.float32)


def write_reference(out_dir, case, fn):
    """Expected output_0.pb of a one-input case from fn(model, x); the file
    REFERENCE tells ort_run.js to leave the case alone."""
    d = os.path.join(out_dir, case)
    model = onnx.load(os.path.join(d, "model.onnx"))
    sd = os.path.join(d, "test_data_set_0")
    with open(os.path.join(sd, "input_0.pb"), "rb") as f:
        x = numpy_helper.to_array(onnx.TensorProto.FromString(f.read()))
    y = numpy_helper.from_array(fn(model, x), model.graph.output[0].name)
    with open(os.path.join(sd, "output_0.pb"), "wb") as f:
        f.write(y.SerializeToString())
    with open(os.path.join(d, "REFERENCE"), "w") as f:
        f.write("%s (tests/onnx/gen_models.py)\n" % fn.__name__)


def semantics(out_dir):
    r = np.random.default_rng(SEED + 2)
    f32 = lambda *s: r.normal(0, 1, s).astype(np.float32)
    # Conv: auto_pad with stride and dilation (asymmetric padding)
    for mode in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
        single(out_dir, "sem_conv_autopad_%s" % mode.lower(), "Conv", [[1, 3, 10, 9]], None, 11,
               {"auto_pad": mode, "strides": [2, 3], "kernel_shape": [4, 3]},
               [("w", f32(5, 3, 4, 3)), ("b", f32(5))])
    single(out_dir, "sem_conv_group_dilation_pads", "Conv", [[2, 4, 11, 12]], None, 11,
           {"group": 2, "dilations": [2, 1], "pads": [1, 0, 2, 3], "strides": [1, 2]},
           [("w", f32(6, 2, 3, 3))])
    single(out_dir, "sem_conv_depthwise", "Conv", [[1, 6, 9, 9]], None, 13,
           {"group": 6, "pads": [1, 1, 1, 1], "strides": [2, 2]}, [("w", f32(6, 1, 3, 3)), ("b", f32(6))])
    single(out_dir, "sem_conv1d_same_lower", "Conv", [[1, 2, 13]], None, 13,
           {"auto_pad": "SAME_LOWER", "strides": [2]}, [("w", f32(3, 2, 4))])
    single(out_dir, "sem_conv3d_pads", "Conv", [[1, 2, 5, 6, 7]], None, 13,
           {"pads": [1, 0, 1, 0, 2, 1], "strides": [1, 2, 1]}, [("w", f32(3, 2, 2, 3, 3))])
    # pooling: ceil_mode, count_include_pad, auto_pad, dilations
    single(out_dir, "sem_maxpool_ceil_pads", "MaxPool", [[1, 2, 10, 11]], None, 12,
           {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 1, 0], "ceil_mode": 1})
    # (ONNX Runtime disagrees with the ONNX spec on dilations with
    # auto_pad SAME, so the two are tested apart)
    single(out_dir, "sem_maxpool_same_upper", "MaxPool", [[1, 2, 9, 10]], None, 12,
           {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "SAME_UPPER"})
    single(out_dir, "sem_maxpool_dilation_pads", "MaxPool", [[1, 2, 9, 10]], None, 12,
           {"kernel_shape": [3, 2], "strides": [2, 1], "dilations": [2, 3], "pads": [2, 1, 1, 1]})
    for cip in [0, 1]:
        single(out_dir, "sem_avgpool_ceil_pads_cip%d" % cip, "AveragePool", [[1, 2, 10, 11]], None, 11,
               {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 0], "ceil_mode": 1,
                "count_include_pad": cip})
        single(out_dir, "sem_avgpool_same_lower_cip%d" % cip, "AveragePool", [[1, 3, 7, 8]], None, 11,
               {"kernel_shape": [2, 3], "strides": [2, 2], "auto_pad": "SAME_LOWER",
                "count_include_pad": cip})
    single(out_dir, "sem_avgpool1d_ceil_cip1", "AveragePool", [[1, 2, 10]], None, 11,
           {"kernel_shape": [3], "strides": [2], "pads": [1, 1], "ceil_mode": 1, "count_include_pad": 1})
    # ONNX Runtime before 1.21 divides a ceil_mode window that runs past the
    # end padding by the whole kernel (onnxruntime#16203); the ONNX reference
    # and PyTorch count only the padded input, so these two get their
    # expected outputs from avgpool_ceil_reference instead.
    for case in ["sem_avgpool_ceil_pads_cip1", "sem_avgpool1d_ceil_cip1"]:
        write_reference(out_dir, case, avgpool_ceil_reference)
    # Gemm: every combination of the attributes and bias shapes
    for ta in [0, 1]:
        for tb in [0, 1]:
            for alpha, beta, cshape in [(1.0, 1.0, [5]), (0.5, 2.0, [4, 5]), (1.5, 1.0, [1]),
                                        (1.0, 0.25, [4, 1])]:
                a_shape = [3, 4] if ta else [4, 3]
                b = f32(5, 3) if tb else f32(3, 5)
                case = "sem_gemm_ta%d_tb%d_a%g_b%g_c%s" % (ta, tb, alpha, beta, "x".join(map(str, cshape)))
                single(out_dir, case.replace(".", "p"), "Gemm", [a_shape], None, 13,
                       {"alpha": alpha, "beta": beta, "transA": ta, "transB": tb},
                       [("B", b), ("C", f32(*cshape))])
    single(out_dir, "sem_gemm_b_input", "Gemm", [[4, 3], [3, 6]], None, 13,
           {"alpha": 2.0, "beta": 0.5}, [("C", f32(6))])
    single(out_dir, "sem_gemm_no_c_opset11", "Gemm", [[2, 7], [5, 7]], None, 11,
           {"transB": 1, "alpha": 0.75})
    # MatMul with 1-D operands and broadcast batches
    single(out_dir, "sem_matmul_1d_left", "MatMul", [[4], [2, 4, 3]], None, 13)
    single(out_dir, "sem_matmul_1d_right", "MatMul", [[2, 3, 4], [4]], None, 13)
    single(out_dir, "sem_matmul_bcast", "MatMul", [[2, 1, 3, 4], [5, 4, 2]], None, 13)
    # Clip: bounds as attributes (opset 6) and as initializer inputs (11, 13)
    single(out_dir, "sem_clip_opset6", "Clip", [[3, 4]], None, 6, {"min": -0.5, "max": 0.7})
    single(out_dir, "sem_clip_opset11_min_only", "Clip", [[3, 4]], None, 11, None,
           [("lo", np.array(-0.3, np.float32))])
    single(out_dir, "sem_clip_opset13_max_only", "Clip", [[3, 4]], None, 13, None,
           [("", None), ("hi", np.array(0.2, np.float32))])
    # Softmax: axis coerces to 2-D before opset 13, one axis from 13 on
    single(out_dir, "sem_softmax_opset11_axis1", "Softmax", [[2, 3, 4]], None, 11, {"axis": 1})
    single(out_dir, "sem_softmax_opset11_axis0", "Softmax", [[2, 3, 4]], None, 11, {"axis": 0})
    single(out_dir, "sem_softmax_opset13_axis1", "Softmax", [[2, 3, 4]], None, 13, {"axis": 1})
    # Pad: modes, pads as input (11) and attribute (2)
    for mode in ["constant", "reflect", "edge"]:
        single(out_dir, "sem_pad_%s_opset11" % mode, "Pad", [[1, 2, 4, 5]], None, 11, {"mode": mode},
               [("pads", np.array([0, 1, 2, 1, 0, 0, 1, 3], np.int64))]
               + ([("value", np.array(1.5, np.float32))] if mode == "constant" else []))
    single(out_dir, "sem_pad_3d_opset2", "Pad", [[2, 3, 4]], None, 2,
           {"pads": [1, 0, 2, 0, 1, 1], "value": -2.0})
    # Squeeze/Unsqueeze: attributes before opset 13, inputs from 13
    single(out_dir, "sem_unsqueeze_opset11", "Unsqueeze", [[3, 4]], None, 11, {"axes": [0, -1]})
    single(out_dir, "sem_unsqueeze_opset13", "Unsqueeze", [[3, 4]], None, 13, None,
           [("axes", np.array([1, 3], np.int64))])
    single(out_dir, "sem_squeeze_opset11", "Squeeze", [[1, 3, 1, 4]], None, 11, {"axes": [-2]})
    single(out_dir, "sem_squeeze_opset13_all", "Squeeze", [[1, 3, 1, 4]], None, 13)
    # ReduceMean over several axes
    single(out_dir, "sem_reducemean_axes_nokeep", "ReduceMean", [[2, 3, 4, 5]], None, 13,
           {"axes": [1, -1], "keepdims": 0})
    single(out_dir, "sem_reducemean_all_keep", "ReduceMean", [[2, 3, 4]], None, 11)
    # BatchNormalization of opset 9 on a 3-D input
    single(out_dir, "sem_batchnorm_opset9_3d", "BatchNormalization", [[2, 3, 5]], None, 9,
           {"epsilon": 1e-3},
           [("s", f32(3)), ("bb", f32(3)), ("mu", f32(3)), ("var", np.abs(f32(3)) + 0.1)])
    # Flatten/Transpose/Reshape with 0 and -1
    single(out_dir, "sem_flatten_axis_neg", "Flatten", [[2, 3, 4, 5]], None, 13, {"axis": -2})
    single(out_dir, "sem_reshape_zero_minus_one", "Reshape", [[2, 3, 4]], None, 13, None,
           [("shape", np.array([0, -1, 2], np.int64))])
    single(out_dir, "sem_transpose_default", "Transpose", [[2, 3, 4]], None, 13)
    single(out_dir, "sem_leakyrelu_alpha", "LeakyRelu", [[3, 5]], None, 16, {"alpha": 0.3})
    single(out_dir, "sem_hardsigmoid_alpha_beta", "HardSigmoid", [[3, 5]], None, 6,
           {"alpha": 0.3, "beta": 0.4})
    single(out_dir, "sem_concat_three", "Concat", [[2, 3], [2, 1], [2, 4]], None, 13, {"axis": -1})
    single(out_dir, "sem_add_bcast_const", "Add", [[2, 3, 4]], None, 14, None,
           [("c", f32(3, 1))])
    single(out_dir, "sem_div_scalar_const", "Div", [[2, 3]], None, 14, None,
           [("c", np.array(4.0, np.float32))])
    single(out_dir, "sem_dropout_opset13_ratio", "Dropout", [[3, 4]], None, 13, None,
           [("ratio", np.array(0.5, np.float32))])
    # ConvTranspose: groups, dilation, output_padding, auto_pad, output_shape
    single(out_dir, "sem_convt_group_stride", "ConvTranspose", [[1, 4, 5, 6]], None, 13,
           {"group": 2, "strides": [2, 2], "pads": [1, 0, 0, 1]},
           [("w", f32(4, 3, 3, 3)), ("b", f32(6))])
    single(out_dir, "sem_convt_dilation", "ConvTranspose", [[2, 3, 4, 5]], None, 13,
           {"dilations": [2, 3], "strides": [1, 2]}, [("w", f32(3, 2, 3, 2))])
    single(out_dir, "sem_convt_output_padding", "ConvTranspose", [[1, 2, 4, 3]], None, 13,
           {"strides": [3, 2], "output_padding": [2, 1], "pads": [1, 1, 0, 0]},
           [("w", f32(2, 3, 3, 3)), ("b", f32(3))])
    for mode in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
        single(out_dir, "sem_convt_autopad_%s" % mode.lower(), "ConvTranspose", [[1, 2, 4, 5]],
               None, 13, {"auto_pad": mode, "strides": [2, 2]}, [("w", f32(2, 3, 4, 3))])
    single(out_dir, "sem_convt_output_shape", "ConvTranspose", [[1, 2, 3, 4]], None, 13,
           {"strides": [2, 2], "output_shape": [7, 8]}, [("w", f32(2, 2, 3, 3))])
    single(out_dir, "sem_convt_1d_group_dil", "ConvTranspose", [[1, 4, 7]], None, 13,
           {"group": 4, "strides": [2], "dilations": [2], "output_padding": [1]},
           [("w", f32(4, 1, 3)), ("b", f32(4))])
    # rank 5 to 8, as attention and layer-norm blocks export them
    single(out_dir, "sem_slice_rank5_axis2", "Slice", [[2, 4, 3, 5, 6]], None, 13, None,
           [("st", np.array([1], np.int64)), ("en", np.array([3], np.int64)),
            ("ax", np.array([2], np.int64))])
    single(out_dir, "sem_slice_rank8_steps", "Slice", [[2, 1, 3, 2, 4, 1, 5, 3]], None, 13, None,
           [("st", np.array([4, -1, 0], np.int64)), ("en", np.array([0, -4, 2], np.int64)),
            ("ax", np.array([6, 4, 2], np.int64)), ("sp", np.array([-2, -1, 2], np.int64))])
    single(out_dir, "sem_split_rank6", "Split", [[2, 3, 6, 2, 2, 3]], None, 13, {"axis": 2},
           [("split", np.array([1, 2, 3], np.int64))], n_out=3)
    single(out_dir, "sem_transpose_rank5_qkv", "Transpose", [[2, 7, 3, 4, 8]], None, 13,
           {"perm": [2, 0, 3, 1, 4]})
    single(out_dir, "sem_transpose_rank8", "Transpose", [[2, 1, 3, 2, 2, 1, 3, 2]], None, 13,
           {"perm": [7, 0, 5, 2, 4, 1, 6, 3]})
    single(out_dir, "sem_reshape_rank5_to_7", "Reshape", [[2, 6, 3, 4, 2]], None, 13, None,
           [("shape", np.array([2, 3, 2, 0, 2, -1, 1], np.int64))])
    single(out_dir, "sem_concat_rank6", "Concat", [[2, 1, 3, 2, 2, 2], [2, 1, 3, 2, 1, 2]], None,
           13, {"axis": 4})
    single(out_dir, "sem_softmax_rank5_axis2", "Softmax", [[2, 3, 4, 2, 5]], None, 13, {"axis": 2})
    single(out_dir, "sem_matmul_rank5_bcast", "MatMul", [[2, 1, 3, 4, 5], [4, 1, 5, 6]], None, 13)
    single(out_dir, "sem_reducemean_rank5_last", "ReduceMean", [[2, 3, 2, 4, 6]], None, 13,
           {"axes": [-1]})
    # Resize: linear and nearest with every coordinate_transformation_mode
    # (but tf_crop_and_resize), every nearest_mode, scales and sizes; opset 18's axes
    # and opset 19's half_pixel_symmetric
    empty = ("", None)
    for ctm, opset in [("half_pixel", 13), ("pytorch_half_pixel", 13), ("align_corners", 13),
                       ("asymmetric", 13)]:
        for tag, sc in [("up", [1, 1, 1.5, 2]), ("down", [1, 1, 0.6, 0.5])]:
            single(out_dir, "sem_resize_linear_%s_%s" % (ctm, tag), "Resize", [[1, 2, 5, 6]], None,
                   opset, {"mode": "linear", "coordinate_transformation_mode": ctm},
                   [empty, ("scales", np.array(sc, np.float32))])
    for ctm in ["half_pixel", "asymmetric", "align_corners", "tf_half_pixel_for_nn"]:
        for nm in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]:
            single(out_dir, "sem_resize_nearest_%s_%s" % (ctm, nm), "Resize", [[1, 2, 5, 4]], None,
                   13, {"mode": "nearest", "coordinate_transformation_mode": ctm, "nearest_mode": nm},
                   [empty, empty, ("sizes", np.array([1, 2, 7, 11], np.int64))])
    single(out_dir, "sem_resize_nearest_down_sizes", "Resize", [[1, 3, 9, 8]], None, 13,
           {"mode": "nearest"}, [empty, empty, ("sizes", np.array([1, 3, 4, 3], np.int64))])
    single(out_dir, "sem_resize_linear_3d", "Resize", [[2, 5, 3]], None, 13,
           {"mode": "linear", "coordinate_transformation_mode": "align_corners"},
           [empty, ("scales", np.array([1, 2.0, 1.5], np.float32))])
    for tag, sc in [("up", [1, 1, 1.5, 2]), ("down", [1, 1, 0.6, 0.5])]:
        single(out_dir, "sem_resize_linear_half_pixel_symmetric_%s" % tag, "Resize",
               [[1, 2, 5, 6]], None, 19,
               {"mode": "linear", "coordinate_transformation_mode": "half_pixel_symmetric"},
               [empty, ("scales", np.array(sc, np.float32))])
    single(out_dir, "sem_resize_nearest_half_pixel_symmetric", "Resize", [[1, 2, 5, 4]], None, 19,
           {"mode": "nearest", "coordinate_transformation_mode": "half_pixel_symmetric"},
           [empty, empty, ("sizes", np.array([1, 2, 8, 7], np.int64))])
    single(out_dir, "sem_resize_linear_axes_opset18", "Resize", [[1, 3, 4, 5]], None, 18,
           {"mode": "linear", "axes": [3, 2]}, [empty, ("scales", np.array([2.0, 1.5], np.float32))])
    single(out_dir, "sem_resize_nearest_axes_sizes_opset18", "Resize", [[2, 3, 4, 5]], None, 18,
           {"mode": "nearest", "axes": [3]}, [empty, empty, ("sizes", np.array([9], np.int64))])
    for pol, sz in [("not_larger", [9, 7]), ("not_smaller", [6, 11])]:
        single(out_dir, "sem_resize_policy_%s_opset18" % pol, "Resize", [[1, 2, 4, 5]], None, 18,
               {"mode": "nearest", "keep_aspect_ratio_policy": pol, "axes": [2, 3]},
               [empty, empty, ("sizes", np.array(sz, np.int64))])
    # the rest of opset 18/19: axes inputs, num_outputs, Pad wrap
    single(out_dir, "sem_reducemax_axes_input_opset18", "ReduceMax", [[2, 3, 4, 5]], None, 18,
           {"keepdims": 0}, [("axes", np.array([1, -1], np.int64))])
    single(out_dir, "sem_reducemean_noaxes_opset18", "ReduceMean", [[2, 3, 4]], None, 18)
    single(out_dir, "sem_split_num_outputs_opset18", "Split", [[2, 7, 3]], None, 18,
           {"axis": 1, "num_outputs": 3}, n_out=3)
    single(out_dir, "sem_pad_axes_opset18", "Pad", [[1, 2, 3, 4]], None, 18, {"mode": "reflect"},
           [("pads", np.array([1, 2, 0, 1], np.int64)), empty, ("axes", np.array([3, 2], np.int64))])
    single(out_dir, "sem_pad_wrap_opset19", "Pad", [[1, 2, 3, 4]], None, 19, {"mode": "wrap"},
           [("pads", np.array([0, 1, 2, 4, 0, 2, 3, 1], np.int64))])
    # Tile: rank 5 with the leading axes repeated (no 4-D view), and rank 6
    single(out_dir, "sem_tile_rank5_lead", "Tile", [[2, 1, 3, 2, 2]], None, 13, None,
           [("reps", np.array([2, 3, 1, 1, 2], np.int64))])
    single(out_dir, "sem_tile_rank6", "Tile", [[1, 2, 1, 2, 3, 1]], None, 13, None,
           [("reps", np.array([3, 1, 2, 1, 1, 4], np.int64))])
    single(out_dir, "sem_upsample_linear_opset9", "Upsample", [[1, 2, 3, 4]], None, 9,
           {"mode": "linear"}, [("scales", np.array([1, 1, 2, 3], np.float32))])


def ext_data(out_dir):
    rng = np.random.default_rng(SEED + 3)
    w = rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32)
    b = rng.normal(0, 0.3, 4).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["h"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["h"], ["y"])]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    save_case(out_dir, "ext_data", nodes, [vi("x", [1, 3, 6, 6])], [vi("y", [1, 4, 6, 6])], inits, 13,
              [("x", rng.normal(0, 1, (1, 3, 6, 6)).astype(np.float32))], external=True)


CASES = {"mobilenet_v2": mobilenet_v2, "resnet18": resnet18, "semantics": semantics,
         "ext_data": ext_data}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    only = list(CASES)
    if len(sys.argv) > 3 and sys.argv[2] == "--only":
        only = sys.argv[3].split(",")
    os.makedirs(out_dir, exist_ok=True)
    for name in only:
        CASES[name](out_dir)


if __name__ == "__main__":
    main()
