import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Env } from './env.js';

/**
 * Variables whose value may come from a file named by `<NAME>_FILE` instead, as Docker and
 * Kubernetes mount secrets: every provider's client secret and password (generic providers'
 * included), the encryption keys and the Redis URL (it may carry a password).
 */
const SECRET_NAME = /(_CLIENT_SECRET|_PASSWORD)$|^(TOKEN_ENCRYPTION_KEY|TOKEN_ENCRYPTION_PREVIOUS_KEYS|REDIS_URL)$/;

/** A secret is a line; anything bigger is the wrong file (a device, a log...), and is not read whole. */
const MAX_SECRET_BYTES = 64 * 1024;

/**
 * The environment with each `<SECRET>_FILE` replaced by the file's content under `<SECRET>`
 * (trailing line break removed: mounted secrets usually end with one). Problems name the
 * variable and the path, never what the file holds.
 */
export function withSecretFiles(env: Env, problems: string[]): Env {
  const out: Env = { ...env };
  for (const [fileVariable, rawPath] of Object.entries(env)) {
    const path = rawPath?.trim();
    if (!fileVariable.endsWith('_FILE') || !path) continue;
    const name = fileVariable.slice(0, -'_FILE'.length);
    if (!SECRET_NAME.test(name)) continue;
    delete out[fileVariable];
    if (env[name]?.trim()) {
      problems.push(`${name}: set twice, directly and through ${fileVariable} (keep one)`);
      continue;
    }
    const read = readSecretFile(path);
    if (read.problem !== undefined) problems.push(`${fileVariable}: ${read.problem}`);
    else out[name] = read.value;
  }
  return out;
}

/** A regular file of at most `maxBytes`, trailing line break removed; the problem names the path, never the content. */
export function readSecretFile(path: string, maxBytes = MAX_SECRET_BYTES): { value: string; problem?: undefined } | { problem: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return { problem: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { problem: `${path} is not a regular file` };
    if (stat.size > maxBytes) return { problem: `${path} is larger than ${maxBytes / 1024} KiB (not a secret file?)` };
    const value = readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
    if (value.trim() === '') return { problem: `${path} is empty` };
    return { value };
  } catch (error) {
    return { problem: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
  } finally {
    closeSync(fd);
  }
}
