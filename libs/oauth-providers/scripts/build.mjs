#!/usr/bin/env node
// The package's build: an ES module build (dist/esm, what `import` loads), a CommonJS build
// (dist/cjs), and for each entry point a CommonJS file (dist/<entry>.cjs, what `require` loads) that
// gives the ES module build wherever `require` can load ES modules (Node >= 20.19), so that `import`
// and `require` in one process share one module instance, hence one TokenService; only where it
// cannot (Jest's CommonJS mode before Node 24.9) does it give the CommonJS build.
//
// tsc takes a file's module format from the nearest package.json, and this package is ESM; so the
// CommonJS build compiles a copy of the sources in a CommonJS scope with `module: nodenext`, which keeps
// the dynamic `import()` of ESM-only dependencies (`module: commonjs` would turn it into `require()`).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(PACKAGE, 'dist');
// Inside dist/, which linters, formatters and git already leave alone.
const COPY = join(DIST, '.cjs-build');
const CJS = join(DIST, 'cjs');
/** The entry points, as `exports` names them (`.` is index). */
export const ENTRIES = ['index', 'redis', 'testing'];

const commonjs = JSON.stringify({ type: 'commonjs' }) + '\n';

rmSync(DIST, { recursive: true, force: true });
rmSync(COPY, { recursive: true, force: true });
try {
  cpSync(join(PACKAGE, 'src'), join(COPY, 'src'), { recursive: true, filter: (file) => !file.endsWith('.spec.ts') });
  writeFileSync(join(COPY, 'package.json'), commonjs);
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(PACKAGE, 'tsconfig.lib.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', join(PACKAGE, 'tsconfig.esm.json')], { stdio: 'inherit' });
} finally {
  rmSync(COPY, { recursive: true, force: true });
}
writeFileSync(join(CJS, 'package.json'), commonjs);
pointMapsAtSources(CJS);

for (const entry of ENTRIES) {
  const cjs = [
    `'use strict';`,
    `// CommonJS entry point: the ES module build, as import gives it, so that both share one instance;`,
    `// the CommonJS build only where require() cannot load ES modules (Jest's CommonJS mode before Node 24.9).`,
    `try {`,
    `  module.exports = require('./esm/${entry}.js');`,
    `} catch {`,
    `  module.exports = require('./cjs/${entry}.js');`,
    `}`,
  ];
  writeFileSync(join(DIST, `${entry}.cjs`), `${cjs.join('\n')}\n`);
  // The ES module build's types are the CommonJS build's: one set of declarations for both.
  writeFileSync(join(DIST, `${entry}.d.ts`), `export * from './cjs/${entry}.js';\n`);
}

/** The maps name the copy the build compiled; the package ships `src`, so they name that instead. */
function pointMapsAtSources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.map')) continue;
    const file = join(entry.parentPath, entry.name);
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('.cjs-build/src/', '../src/'));
  }
}
