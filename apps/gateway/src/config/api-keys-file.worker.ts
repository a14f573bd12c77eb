// Parses a keys file off the event loop (see `parseOffThread`): a large one takes long to parse.
import { parentPort, workerData } from 'node:worker_threads';
import { parseApiKeysYaml } from './api-keys.config.js';

const { text, known } = workerData as { text: string; known: string[] };
parentPort!.postMessage(parseApiKeysYaml(text, new Set(known)));
