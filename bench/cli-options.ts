import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One command-line option of a bench script: a positive number, a word among `choices`, a path, or a flag. */
export type OptionSpec =
  { type: 'number'; default?: number } | { type: 'string'; default?: string; choices?: readonly string[] } | { type: 'boolean' };

type Value<S extends OptionSpec> = S extends { type: 'number' } ? number : S extends { type: 'string' } ? string : boolean;
export type Options<T extends Record<string, OptionSpec>> = {
  [K in keyof T]: T[K] extends { default: unknown } | { type: 'boolean' } ? Value<T[K]> : Value<T[K]> | undefined;
};

/**
 * Reads a bench script's options strictly: an unknown option (`--durration 5`), a missing or
 * malformed value (`--duration abc`) or a stray argument prints the problem and the usage on stderr
 * and exits 2, instead of running with a default nobody asked for.
 */
export function readOptions<T extends Record<string, OptionSpec>>(usage: string, specs: T, argv = process.argv.slice(2)): Options<T> {
  const refuse = (problem: string): never => {
    process.stderr.write(`${problem}\n\n${usage}\n`);
    process.exit(2);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.entries(specs).map(([name, spec]) => [name, { type: spec.type === 'boolean' ? 'boolean' : 'string' }]),
    );
    ({ values } = parseArgs({ args: argv, options: options as ParseArgsConfig['options'], strict: true }));
  } catch (error) {
    return refuse((error as Error).message);
  }
  const read: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = values[name];
    if (spec.type === 'boolean') read[name] = given === true;
    else if (given === undefined) read[name] = spec.default;
    else if (spec.type === 'number') {
      const n = Number(given);
      read[name] =
        Number.isFinite(n) && n > 0 && String(given).trim() !== '' ? n : refuse(`--${name}: "${String(given)}" is not a positive number`);
    } else if (spec.choices && !spec.choices.includes(given as string)) {
      refuse(`--${name}: "${String(given)}" is not one of ${spec.choices.join(', ')}`);
    } else read[name] = given;
  }
  return read as Options<T>;
}
