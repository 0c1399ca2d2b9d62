#!/usr/bin/env node
// ort_run.js CASE_DIR... -- reference outputs from ONNX Runtime.
//
// For every CASE_DIR/model.onnx and every CASE_DIR/test_data_set_*/, reads
// the inputs input_<k>.pb (TensorProto, float32 or int64), runs the model
// on onnxruntime-node (CPU, all graph optimisations off so that the
// reference is the operators' plain definition) and writes
// output_<k>.pb (float32 TensorProto with raw_data), k in the order of the
// graph outputs; cases with a file REFERENCE are left alone (their
// expected outputs come from gen_models.py). The module comes from
// bench/ort/node_modules, installed by scripts/deps.sh (npm ci
// --ignore-scripts).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'bench', 'ort', 'node_modules', 'onnxruntime-node'));

// ---- a minimal TensorProto reader/writer --------------------------------
function readVarint(buf, pos) {
  let v = 0n, shift = 0n;
  for (;;) {
    if (pos.i >= buf.length) throw new Error('truncated varint');
    const b = buf[pos.i++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
    shift += 7n;
  }
}

function decodeTensor(buf) {
  const t = { dims: [], type: 0, name: '', raw: null, floats: [], int64s: [] };
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const field = key >> 3, wire = key & 7;
    if (wire === 0) {
      const v = readVarint(buf, pos);
      if (field === 1) t.dims.push(Number(v));
      else if (field === 2) t.type = Number(v);
      else if (field === 7) t.int64s.push(BigInt.asIntN(64, v));
    } else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      const body = buf.subarray(pos.i, pos.i + len);
      pos.i += len;
      if (field === 8) t.name = body.toString('utf8');
      else if (field === 9) t.raw = body;
      else if (field === 1) { const p = { i: 0 }; while (p.i < body.length) t.dims.push(Number(readVarint(body, p))); }
      else if (field === 4) for (let k = 0; k + 4 <= body.length; k += 4) t.floats.push(body.readFloatLE(k));
      else if (field === 7) { const p = { i: 0 }; while (p.i < body.length) t.int64s.push(BigInt.asIntN(64, readVarint(body, p))); }
    } else if (wire === 5) {
      if (field === 4) t.floats.push(buf.readFloatLE(pos.i));
      pos.i += 4;
    } else if (wire === 1) {
      pos.i += 8;
    } else {
      throw new Error('unsupported wire type ' + wire);
    }
  }
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (t.type === 1) {
    const data = new Float32Array(n);
    if (t.raw) for (let k = 0; k < n; k++) data[k] = t.raw.readFloatLE(4 * k);
    else data.set(t.floats);
    return { name: t.name, tensor: new ort.Tensor('float32', data, t.dims) };
  }
  if (t.type === 7) {
    const data = new BigInt64Array(n);
    if (t.raw) for (let k = 0; k < n; k++) data[k] = t.raw.readBigInt64LE(8 * k);
    else data.set(t.int64s);
    return { name: t.name, tensor: new ort.Tensor('int64', data, t.dims) };
  }
  throw new Error('unsupported tensor type ' + t.type);
}

function varint(v) {
  const out = [];
  let x = BigInt.asUintN(64, BigInt(v));
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
}

function encodeTensor(name, tensor) {
  if (tensor.type !== 'float32') throw new Error('output ' + name + ' is ' + tensor.type);
  const parts = [];
  for (const d of tensor.dims) parts.push(varint(1 << 3), varint(d));
  parts.push(varint(2 << 3), varint(1));
  const nm = Buffer.from(name, 'utf8');
  parts.push(varint((8 << 3) | 2), varint(nm.length), nm);
  const raw = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  parts.push(varint((9 << 3) | 2), varint(raw.length), raw);
  return Buffer.concat(parts);
}

async function runCase(dir) {
  if (fs.existsSync(path.join(dir, 'REFERENCE')))
    return; /* expected outputs written by gen_models.py */
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), {
    graphOptimizationLevel: 'disabled', executionProviders: ['cpu'],
  });
  const sets = fs.readdirSync(dir).filter((f) => f.startsWith('test_data_set_')).sort();
  for (const set of sets) {
    const sd = path.join(dir, set);
    const feeds = {};
    for (let k = 0; fs.existsSync(path.join(sd, 'input_' + k + '.pb')); k++) {
      const { name, tensor } = decodeTensor(fs.readFileSync(path.join(sd, 'input_' + k + '.pb')));
      feeds[name || session.inputNames[k]] = tensor;
    }
    const res = await session.run(feeds);
    session.outputNames.forEach((name, k) => {
      fs.writeFileSync(path.join(sd, 'output_' + k + '.pb'), encodeTensor(name, res[name]));
    });
  }
}

(async () => {
  const dirs = process.argv.slice(2);
  if (!dirs.length) {
    console.error('usage: ort_run.js CASE_DIR...');
    process.exit(2);
  }
  let bad = 0;
  for (const d of dirs) {
    try {
      await runCase(d);
    } catch (e) {
      console.error(d + ': ' + e.message);
      bad++;
    }
  }
  process.exit(bad ? 1 : 0);
})();
