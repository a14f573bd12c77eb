// Module hooks of otel-probe.mjs (they run on the loader's thread, so the line is written to fd 2 directly).
import { writeSync } from 'node:fs';

const told = new Set();

export async function resolve(specifier, context, nextResolve) {
  const name = /^@opentelemetry\/[^/]+/.exec(specifier)?.[0];
  if (name !== undefined && !told.has(name)) {
    told.add(name);
    writeSync(2, `loaded ${name}\n`);
  }
  return nextResolve(specifier, context);
}
