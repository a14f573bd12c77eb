// Parses a keys file off the event loop (see `parseOffThread`): YAML of 100,000 keys takes seconds.
import { parentPort, workerData } from 'node:worker_threads';
import { parseApiKeysYaml } from './api-keys.config.js';

const { text, known } = workerData as { text: string; known: string[] };
parentPort!.postMessage(parseApiKeysYaml(text, new Set(known)));
