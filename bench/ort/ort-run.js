#!/usr/bin/env node
// ort-run.js -- runs an ONNX model with ONNX Runtime (CPU, one intra-op
// thread unless --threads N) on .npy inputs and writes .npy outputs, or
// times it.
//
//   node ort-run.js MODEL.onnx --input NAME=FILE.npy ... --output-dir DIR
//   node ort-run.js MODEL.onnx --input-dir DIR --output-dir DIR2
//        (DIR/<input name>.input.npy, as `gos-run --random-inputs` writes)
//   node ort-run.js MODEL.onnx --input-dir DIR --bench N
//        prints `median_ms=<x> min_ms=<y>` over N timed runs after warm-up
// Output files are named like gos-run's: characters outside
// [A-Za-z0-9_.-] become '_'.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function die(msg) {
  process.stderr.write(`ort-run: error: ${msg}\n`);
  process.exit(1);
}

function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.length < 10 || b.toString('latin1', 1, 6) !== 'NUMPY') die(`${file}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hoff = major === 1 ? 10 : 12;
  const header = b.toString('latin1', hoff, hoff + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (/'fortran_order':\s*True/.test(header)) die(`${file}: Fortran order is not supported`);
  if (!descr || descr[1] !== '<f4') die(`${file}: expected little-endian float32 ('<f4'), got ${descr && descr[1]}`);
  const dims = shape[1].split(',').map(s => s.trim()).filter(s => s.length).map(Number);
  const n = dims.reduce((a, x) => a * x, 1);
  const off = hoff + hlen;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = b.readFloatLE(off + 4 * i);
  return new ort.Tensor('float32', data, dims);
}

function writeNpy(file, t) {
  const dims = t.dims;
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const h = Buffer.alloc(10);
  h.write('\x93NUMPY', 0, 'latin1');
  h[6] = 1; h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  const data = Buffer.alloc(4 * t.data.length);
  for (let i = 0; i < t.data.length; i++) data.writeFloatLE(t.data[i], 4 * i);
  fs.writeFileSync(file, Buffer.concat([h, Buffer.from(header, 'latin1'), data]));
}

const safe = s => s.replace(/[^A-Za-z0-9_.-]/g, '_');

async function main() {
  const a = process.argv.slice(2);
  if (!a.length || a[0] === '--help') {
    process.stdout.write('usage: ort-run.js MODEL.onnx [--input NAME=F.npy]... [--input-dir D] [--output-dir D] [--bench N] [--threads N]\n');
    process.exit(a.length ? 0 : 1);
  }
  const model = a[0];
  const inputs = {};
  let outDir = null, inDir = null, bench = 0, threads = 1;
  for (let i = 1; i < a.length; i++) {
    const k = a[i];
    const v = a[i + 1];
    if (k === '--input' && v) { const j = v.indexOf('='); if (j < 1) die(`--input wants NAME=FILE.npy`); inputs[v.slice(0, j)] = v.slice(j + 1); i++; }
    else if (k === '--input-dir' && v) { inDir = v; i++; }
    else if (k === '--output-dir' && v) { outDir = v; i++; }
    else if (k === '--bench' && v) { bench = parseInt(v, 10); i++; }
    else if (k === '--threads' && v) { threads = parseInt(v, 10); i++; }
    else die(`unknown option '${k}'`);
  }
  const sess = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const name of sess.inputNames) {
    let f = inputs[name];
    if (!f && inDir) f = path.join(inDir, safe(name) + '.input.npy');
    if (!f || !fs.existsSync(f)) die(`no value for input '${name}'`);
    feeds[name] = readNpy(f);
  }
  if (bench > 0) {
    for (let i = 0; i < Math.min(5, bench); i++) await sess.run(feeds);
    const ts = [];
    for (let i = 0; i < bench; i++) {
      const t0 = process.hrtime.bigint();
      await sess.run(feeds);
      ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    ts.sort((x, y) => x - y);
    const med = ts.length % 2 ? ts[(ts.length - 1) / 2] : (ts[ts.length / 2 - 1] + ts[ts.length / 2]) / 2;
    process.stdout.write(`median_ms=${med.toFixed(4)} min_ms=${ts[0].toFixed(4)}\n`);
    return;
  }
  const res = await sess.run(feeds);
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    for (const name of sess.outputNames) writeNpy(path.join(outDir, safe(name) + '.npy'), res[name]);
  }
}

main().catch(e => die(e.message || String(e)));
