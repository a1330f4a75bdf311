#!/usr/bin/env node
// Run one ONNX model with onnxruntime-node (CPU): the reference for cleave's importer
// and the opponent in the speed race.
//
//   node ort_run.js MODEL.onnx [--input IN.bin] [--save-output OUT.bin] [--threads N]
//                   [--repeat R] [--warmup W] [--profile PREFIX]
//
// IN.bin / OUT.bin are raw little-endian float32 (NCHW), like `cleave infer`. Without
// --input the input is uniform in [-1, 1) from a fixed seed. Prints one JSON line:
// {"model", "threads", "runs_ms": [...], "median_ms", "output_shape", "checksum"}.
// --profile PREFIX turns on onnxruntime's profiler (one JSON trace, PREFIX_<date>.json,
// named in the output as "profile"; ort_profile.py summarises it per node).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function usage(msg) {
  if (msg) console.error(`ort_run: error: ${msg}`);
  console.error('usage: node ort_run.js MODEL.onnx [--input IN.bin] [--save-output OUT.bin] ' +
                '[--threads N] [--repeat R] [--warmup W] [--profile PREFIX]');
  process.exit(2);
}

function parseArgs(argv) {
  const a = {model: null, input: null, output: null, threads: 1, repeat: 1, warmup: 0, profile: null};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${k} needs a value`));
    if (k === '--input') a.input = next();
    else if (k === '--save-output') a.output = next();
    else if (k === '--threads') a.threads = parseInt(next(), 10);
    else if (k === '--repeat') a.repeat = parseInt(next(), 10);
    else if (k === '--warmup') a.warmup = parseInt(next(), 10);
    else if (k === '--profile') a.profile = next();
    else if (k.startsWith('--')) usage(`unknown option ${k}`);
    else if (!a.model) a.model = k;
    else usage(`unexpected argument ${k}`);
  }
  if (!a.model) usage('no model given');
  if (!(a.threads >= 1) || !(a.repeat >= 1) || !(a.warmup >= 0)) usage('bad number');
  return a;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(a.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    ...(a.profile ? {enableProfiling: true, profileFilePrefix: a.profile} : {}),
  });
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  // Input shape from the model metadata when available, else from the input file size.
  let dims = null;
  if (session.inputMetadata && session.inputMetadata[0] && session.inputMetadata[0].shape)
    dims = session.inputMetadata[0].shape.map((d) => (typeof d === 'number' ? d : 1));
  let data;
  if (a.input) {
    const buf = fs.readFileSync(a.input);
    data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  } else {
    if (!dims) usage('cannot tell the input shape; pass --input');
    const n = dims.reduce((x, y) => x * y, 1);
    data = new Float32Array(n);
    let s = 0x2545f491n;
    for (let i = 0; i < n; i++) {  // xorshift64, deterministic
      s ^= (s << 13n) & 0xffffffffffffffffn; s ^= s >> 7n; s ^= (s << 17n) & 0xffffffffffffffffn;
      data[i] = Number(s & 0xffffffn) / 0x1000000 * 2 - 1;
    }
  }
  if (!dims) usage('model input shape unknown');
  const need = dims.reduce((x, y) => x * y, 1);
  if (data.length !== need) {
    console.error(`ort_run: error: input has ${data.length} floats, the model wants ${need} ` +
                  `(${dims.join('x')})`);
    process.exit(2);
  }
  const feeds = {[inName]: new ort.Tensor('float32', data, dims)};
  let out = null;
  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  const runs = [];
  for (let i = 0; i < a.repeat; i++) {
    const t0 = process.hrtime.bigint();
    const r = await session.run(feeds);
    runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    out = r[outName];
  }
  const profile = a.profile ? session.endProfiling() : undefined;
  if (a.output) fs.writeFileSync(a.output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  let sum = 0;
  for (const v of out.data) sum += v;
  const sorted = [...runs].sort((x, y) => x - y);
  const med = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]
                                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  console.log(JSON.stringify({model: a.model, threads: a.threads, runs_ms: runs, median_ms: med,
                              output_shape: out.dims, checksum: sum, profile}));
}

main().catch((e) => {
  console.error(`ort_run: error: ${e.message || e}`);
  process.exit(1);
});
