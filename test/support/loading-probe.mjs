// `node --import ./loading-probe.mjs main.ts`: says `loading gateway.runner` on stderr when the entry
// asks for the runner, so that a test can signal a process that is still loading its modules.
import { register } from 'node:module';

register('./loading-probe.hooks.mjs', import.meta.url);
