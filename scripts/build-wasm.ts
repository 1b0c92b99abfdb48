/**
 * `npm run build:wasm`: assembles the WebAssembly text files the runtime loads as binaries (today only
 * src/vision/ops/yuv-crop.wat) with wabt, the WebAssembly project's own toolkit. The binaries are committed so
 * that `npm install` needs no toolchain; test/vision/yuv-crop.test.ts fails when one differs from its text.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each text file and the binary built from it, relative to the repository. */
export const WASM_SOURCES = [{ text: 'src/vision/ops/yuv-crop.wat', binary: 'src/vision/ops/yuv-crop.wasm' }] as const;

/** The binary for a module in WebAssembly text (SIMD on, no debug names: the same bytes on every machine). */
export async function assembleWat(name: string, text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, text, { simd: true });
  try {
    module.validate();
    return Uint8Array.from(module.toBinary({ write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

export function repoPath(relative: string): string {
  return path.join(ROOT, relative);
}

async function main(): Promise<void> {
  for (const source of WASM_SOURCES) {
    const binary = await assembleWat(path.basename(source.text), await fs.readFile(repoPath(source.text), 'utf8'));
    await fs.writeFile(repoPath(source.binary), binary);
    console.log(`${source.binary}: ${binary.length} bytes`);
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
