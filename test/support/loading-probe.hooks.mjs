// Module hooks of loading-probe.mjs (they run on the loader's thread, so the line is written to fd 2 directly).
import { writeSync } from 'node:fs';

let told = false;

export async function resolve(specifier, context, nextResolve) {
  if (!told && specifier.endsWith('/gateway.runner.js')) {
    told = true;
    writeSync(2, 'loading gateway.runner\n');
  }
  return nextResolve(specifier, context);
}
