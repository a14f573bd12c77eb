import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

/**
 * A GATEWAY_API_KEYS_FILE of `count` callers, as operators write it (block style, keys by
 * SHA-256): the bench's own key first, then `count - 1` others whose keys nobody knows, so every
 * request looks its key up among all of them.
 */
export function writeKeysFile(path: string, count: number, benchKey: string): void {
  const entry = (name: string, digest: string) => `  - name: ${name}\n    key: sha256:${digest}\n    providers: "*"\n`;
  const parts = ['keys:\n', entry('bench', createHash('sha256').update(benchKey).digest('hex'))];
  for (let i = 1; i < count; i++) parts.push(entry(`caller-${i}`, randomBytes(32).toString('hex')));
  writeFileSync(path, parts.join(''));
}
