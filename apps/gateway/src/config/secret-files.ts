import type { Env } from './env.js';
import { readSecretFile } from './secret-file.read.js';

/**
 * Variables whose value may come from a file named by `<NAME>_FILE` instead, as Docker and
 * Kubernetes mount secrets: every provider's client secret and password (generic providers'
 * included), the encryption keys and the Redis URL (it may carry a password).
 */
const SECRET_NAME = /(_CLIENT_SECRET|_PASSWORD|_PRIVATE_KEY)$|^(TOKEN_ENCRYPTION_KEY|TOKEN_ENCRYPTION_PREVIOUS_KEYS|REDIS_URL)$/;

/**
 * The environment with each `<SECRET>_FILE` replaced by the file's content under `<SECRET>`
 * (trailing line break removed: mounted secrets usually end with one). Problems name the
 * variable and the path, never what the file holds. The variables whose file failed go to
 * `failed`: their file's line is the only one about them.
 */
export function withSecretFiles(env: Env, problems: string[], failed = new Set<string>()): Env {
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
    if (read.problem !== undefined) {
      problems.push(`${fileVariable}: ${read.problem}`);
      failed.add(name);
    } else out[name] = read.value;
  }
  return out;
}
