// Which WebAssembly functions V8 compiled on their first call in each main-thread task of one
// load, counted by crate (and listed with LIST=1): what a task's compiling is made of. Needs
// the module with its names (a `--wasm-debug` build, wasm-opt's `-g`; see BENCHMARKS.md).
// Usage: [LIST=1] node end2end/tools/compiled.mjs URL 'name=value' RATE path/to/module.wasm
import fs from 'node:fs';
import { inTask, traceLoad } from './trace.mjs';

const [url, cookie = '', rate = '4', wasm] = process.argv.slice(2);
if (!wasm) throw new Error('usage: compiled.mjs URL cookie rate module.wasm');
const names = functionNames(fs.readFileSync(wasm));
const { mine, t0 } = await traceLoad(url, cookie, Number(rate), [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.wasm',
]);
const lazy = mine.filter((e) => e.name === 'wasm.CompileLazy');
for (const task of mine.filter((e) => e.name === 'RunTask')) {
  const inside = inTask(lazy, task);
  if (inside.length < 20) continue;
  const crates = new Map();
  for (const e of inside) {
    const name = demangle(names.get(e.args?.func_index) ?? `#${e.args?.func_index}`);
    // A generic instance counts for the first crate its name mentions.
    // (Rust's v0 mangling, `_R…`, names its first crate after `Cs<disambiguator>_<length>`.)
    const v0 = name.startsWith('_R') && /Cs[0-9A-Za-z]*_(\d+)/.exec(name);
    const crate = v0
      ? name.substr(v0.index + v0[0].length, Number(v0[1]))
      : (name.match(/[a-z_][a-z0-9_]*(?=::)/) || ['?'])[0];
    crates.set(crate, (crates.get(crate) || 0) + 1);
    if (process.env.LIST) console.log(`    ${name.slice(0, 200)}`);
  }
  const top = [...crates].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, n]) => `${k} ${n}`);
  console.log(`${((task.ts - t0) / 1000).toFixed(0).padStart(6)} ms  task ${(task.dur / 1000).toFixed(1)} ms, ${inside.length} functions: ${top.join(', ')}`);
}

/** The function names of a module's `name` section, by function index. */
function functionNames(bytes) {
  const names = new Map();
  let at = 8;
  const leb = () => {
    let value = 0, shift = 0, byte;
    do { byte = bytes[at++]; value |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    return value >>> 0;
  };
  while (at < bytes.length) {
    const id = bytes[at++], size = leb(), end = at + size;
    if (id === 0) {
      const length = leb(), section = bytes.subarray(at, at + length).toString();
      at += length;
      while (section === 'name' && at < end) {
        const sub = bytes[at++], subSize = leb(), subEnd = at + subSize;
        if (sub === 1) {
          for (let n = leb(); n > 0; n--) {
            const index = leb(), len = leb();
            names.set(index, bytes.subarray(at, at + len).toString());
            at += len;
          }
        }
        at = subEnd;
      }
    }
    at = end;
  }
  return names;
}

/** Rust's legacy mangling (`_ZN…E`) made readable; other names as they are. */
function demangle(name) {
  if (!name.startsWith('_ZN')) return name;
  const parts = [];
  for (let i = 3; i < name.length && name[i] !== 'E';) {
    const digits = /^\d+/.exec(name.slice(i));
    if (!digits) break;
    i += digits[0].length;
    parts.push(name.slice(i, i + Number(digits[0])));
    i += Number(digits[0]);
  }
  return parts
    .filter((p) => !/^h[0-9a-f]{16}$/.test(p))
    .join('::')
    .replace(/\$LT\$/g, '<').replace(/\$GT\$/g, '>').replace(/\$u20\$/g, ' ').replace(/\$C\$/g, ',')
    .replace(/\$RF\$/g, '&').replace(/\$u7b\$/g, '{').replace(/\$u7d\$/g, '}').replace(/\.\./g, '::');
}
