// `node --import ./no-pino-pretty.mjs`: `pino-pretty` cannot be resolved, as in a production
// install (`npm ci --omit=dev`); every other module resolves as usual.
import { register } from 'node:module';

register('./no-pino-pretty.hooks.mjs', import.meta.url);
