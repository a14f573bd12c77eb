import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** A secret is a line; anything bigger is the wrong file (a device, a log...), and is not read whole. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** Non-blocking open: a FIFO renamed over a secret is refused at once instead of waiting for a writer (open(2)). */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

export type SecretRead = { value: string; problem?: undefined } | { problem: string };

/** A read, with the version of the file it saw (`versionOf`), so that a watcher can tell when to read again. */
export type VersionedSecretRead = SecretRead & { version: string };

/**
 * Reads a secret file: a regular file once symlinks are followed, at most `maxBytes`, not blank;
 * one trailing line break removed (mounted secrets usually end with one). A problem names the
 * path, never what the file holds.
 */
export function readSecretFile(path: string, maxBytes = MAX_SECRET_BYTES): SecretRead {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    return unreadable(path, error);
  }
  try {
    return refusal(path, fstatSync(fd), maxBytes) ?? valueOf(path, readFileSync(fd, 'utf8'));
  } catch (error) {
    return unreadable(path, error);
  } finally {
    closeSync(fd);
  }
}

/** The same rules off the event loop, for reads while the gateway serves (a slow file system holds up no request). */
export async function readSecretFileAsync(path: string, maxBytes = MAX_SECRET_BYTES): Promise<VersionedSecretRead> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    return { ...unreadable(path, error), version: errorVersion(error) };
  }
  try {
    const stat = await handle.stat();
    const read = refusal(path, stat, maxBytes) ?? valueOf(path, await handle.readFile('utf8'));
    return { ...read, version: versionOf(stat) };
  } catch (error) {
    return { ...unreadable(path, error), version: errorVersion(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** What identifies one state of a file: a rename over it or a symlink swap changes the inode, a write the size or times. */
export function versionOf(stat: Stats): string {
  return `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

export function errorVersion(error: unknown): string {
  return `error:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
}

function refusal(path: string, stat: Stats, maxBytes: number): SecretRead | undefined {
  if (!stat.isFile()) return { problem: `${path} is not a regular file` };
  if (stat.size > maxBytes) return { problem: `${path} is larger than ${sizeOf(maxBytes)} (not a secret file?)` };
  return undefined;
}

function valueOf(path: string, text: string): SecretRead {
  const value = text.replace(/\r?\n$/, '');
  return value.trim() === '' ? { problem: `${path} is empty` } : { value };
}

function unreadable(path: string, error: unknown): SecretRead {
  return { problem: `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
}

function sizeOf(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}
