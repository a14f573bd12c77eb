import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * Loads the gateway's env file into `process.env` (real variables win over it): the file named by
 * `ENV_FILE`, which must then exist, else `.env` in the working directory when there is one.
 * Returns the problem line when `ENV_FILE` cannot be read.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env.ENV_FILE?.trim();
  const path = named || (existsSync('.env') ? '.env' : undefined);
  if (path === undefined) return undefined;
  try {
    process.loadEnvFile(path);
  } catch (error) {
    const where = isAbsolute(path) ? path : `${path} (${resolve(path)})`;
    return `ENV_FILE: cannot read ${where} (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return undefined;
}
