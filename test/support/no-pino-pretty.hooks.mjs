// The error Node raises for a package that is not installed, for `pino-pretty` only.
export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'pino-pretty' || specifier.startsWith('pino-pretty/')) {
    const error = new Error(`Cannot find package 'pino-pretty' imported from ${context.parentURL}`);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return nextResolve(specifier, context);
}
