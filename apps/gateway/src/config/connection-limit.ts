import { readFileSync } from 'node:fs';

/** Where the process's descriptor limits cannot be read (not Linux). */
const UNREADABLE_DEFAULT = 10_000;
const HIGHEST_DEFAULT = 50_000;

/**
 * `MAX_CONNECTIONS` when unset: three quarters of the soft `Max open files` limit, the last quarter
 * kept for the upstream pools, the token endpoints, Redis and files; at most `HIGHEST_DEFAULT`.
 */
export function defaultMaxConnections(limits: string | undefined = procLimits()): number {
  const soft = limits && /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  if (!soft) return UNREADABLE_DEFAULT;
  if (soft === 'unlimited') return HIGHEST_DEFAULT;
  const files = Number(soft);
  return Number.isSafeInteger(files) ? Math.min(HIGHEST_DEFAULT, Math.floor((files * 3) / 4)) : UNREADABLE_DEFAULT;
}

function procLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}
