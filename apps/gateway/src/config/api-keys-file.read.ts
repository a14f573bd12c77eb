import { isAbsolute, resolve } from 'node:path';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

export type KeysFileBytes = { bytes: Buffer; settled: boolean } | { problem: string };

/** The path as given and, when relative, as resolved from the working directory (a path is not a secret). */
const named = (path: string) => (isAbsolute(path) ? path : `${path} (${resolve(path)})`);
const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error';
const same = (a: Stats, b: Stats) => a.size === b.size && a.mtimeMs === b.mtimeMs;

/**
 * The bytes of a keys file, symlinks followed. Only a regular file is read: a FIFO, a device or a
 * directory could block the reader or never end, so its type is checked before opening, and the
 * open does not wait (`O_NONBLOCK`) in case another file is swapped in between. `settled` is false
 * when the size or modification time changed during the read (a writer still at work).
 */
export function readKeysFile(path: string, maxBytes: number): KeysFileBytes {
  let fd: number;
  try {
    if (!statSync(path).isFile()) return { problem: `is not a regular file: ${named(path)}` };
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return { problem: `cannot be read: ${named(path)}: ${errorCode(error)}` };
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) return { problem: `is not a regular file: ${named(path)}` };
    const tooLarge = { problem: `is larger than KEYS_FILE_MAX_BYTES (${maxBytes} bytes)` };
    if (before.size > maxBytes) return tooLarge;
    // One byte more than expected, to see a file that grew meanwhile.
    const bytes = Buffer.allocUnsafe(Math.min(before.size, maxBytes) + 1);
    let length = 0;
    for (let got = -1; got !== 0 && length < bytes.length; length += got) got = readSync(fd, bytes, length, bytes.length - length, null);
    if (length > maxBytes) return tooLarge;
    return { bytes: bytes.subarray(0, length), settled: length === before.size && same(before, fstatSync(fd)) };
  } catch (error) {
    return { problem: `cannot be read: ${named(path)}: ${errorCode(error)}` };
  } finally {
    closeSync(fd);
  }
}
