#!/usr/bin/env node
// The package's build: a CommonJS build (dist/cjs), an ES module build (dist/esm), and for each entry
// point an ES module (dist/<entry>.js) that loads the CommonJS build whenever `require` can (its
// dependencies are CommonJS, or Node loads their ES modules), so that `import` and `require` in one
// process share one module instance, hence one TokenService; only where `require` cannot load an
// ESM-only Nest (Jest on Node < 24.9) does it load the ES module build instead.
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

const load = createRequire(join(CJS, 'index.js'));
for (const entry of ENTRIES) {
  const names = Object.keys(load(`./${entry}.js`)).sort();
  const banner = `// ES module entry point: the CommonJS build where require() can load it, so that import and require share one instance.\n`;
  const body = [
    `import { createRequire } from 'node:module';`,
    `let build;`,
    `try {`,
    `  build = createRequire(import.meta.url)('./cjs/${entry}.js');`,
    `} catch (error) {`,
    `  // require() cannot load an ESM-only dependency here (Jest before Node 24.9): the ES module build.`,
    `  build = await import('./esm/${entry}.js').catch(() => Promise.reject(error));`,
    `}`,
    `export const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = build;`,
  ].join('\n');
  writeFileSync(join(DIST, `${entry}.js`), `${banner}${body}\n`);
  writeFileSync(join(DIST, `${entry}.d.ts`), `${banner}export * from './cjs/${entry}.js';\n`);
}

/** The maps name the copy the build compiled; the package ships `src`, so they name that instead. */
function pointMapsAtSources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.map')) continue;
    const file = join(entry.parentPath, entry.name);
    writeFileSync(file, readFileSync(file, 'utf8').replaceAll('.cjs-build/src/', '../src/'));
  }
}
