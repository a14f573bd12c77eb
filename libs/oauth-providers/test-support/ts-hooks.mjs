// Module hooks that let a plain `node` child process run the TypeScript sources, compiled on the
// fly by @swc/core with the options Jest uses (swc.options.js): tests that spawn real OS processes
// (cluster workers, a gateway receiving SIGTERM) run the current sources, never a possibly stale dist/.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from '@swc/core';
import { SWC_OPTIONS } from '../../../swc.options.js';

/**
 * Sources import `./x.js`; on disk there is `./x.ts`. The workspace packages (`@oauth-gateway/...`)
 * resolve through their `@oauth-gateway/source` export condition, i.e. to the sources, as TypeScript and Jest see them.
 */
export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@oauth-gateway/'))
    return nextResolve(specifier, { ...context, conditions: ['@oauth-gateway/source', ...context.conditions] });
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const bare = !/^(\.|\/|file:)/.test(specifier);
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || bare || !specifier.endsWith('.js')) throw error;
    return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const filename = fileURLToPath(url);
  const { code } = await transform(await readFile(filename, 'utf8'), { ...SWC_OPTIONS, filename });
  return { format: 'module', source: code, shortCircuit: true };
}
