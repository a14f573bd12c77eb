// Reads and parses a keys file off the event loop (see `loadKeysFile`): a large one takes long, and much memory, to parse.
import { hash } from 'node:crypto';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { parseKeysFile } from './api-keys-file.parse.js';
import { readKeysFile } from './api-keys-file.read.js';
import type { KeysFileAnswer, KeysFileRequest } from './api-keys-file.loader.js';
import { KEYS_FILE } from './api-keys.config.js';
import { transferable } from './api-keys.table.js';

function answer({ path, known, maxBytes, unless }: KeysFileRequest): KeysFileAnswer {
  const read = readKeysFile(path, maxBytes);
  if ('problem' in read) return { status: 'failed', content: read.problem, problems: [`${KEYS_FILE}: ${read.problem}`] };
  if (!read.settled) return { status: 'unsettled' };
  const content = hash('sha256', read.bytes, 'hex');
  if (content === unless) return { status: 'unchanged' };
  const parsed = parseKeysFile(read.bytes.toString('utf8'), new Set(known));
  return parsed.ok ? { status: 'loaded', content, table: parsed.table } : { status: 'failed', content, problems: parsed.problems };
}

// The lowest CPU priority for this thread only, which Linux allows (elsewhere it would be the whole process): on a busy machine, requests come before a reload.
if (process.platform === 'linux') {
  try {
    setPriority(0, 19);
  } catch {
    // Not allowed here: the parse runs at the gateway's priority.
  }
}
const reply = answer(workerData as KeysFileRequest);
parentPort!.postMessage(reply, reply.status === 'loaded' ? transferable(reply.table) : []);
