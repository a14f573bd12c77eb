// `node --import ./redis-ts-register.mjs child.ts`: registers the TypeScript hooks before the entry loads.
import { register } from 'node:module';

register('./redis-ts-hooks.mjs', import.meta.url);
