// `node --import ./otel-probe.mjs main.js`: says `loaded <package>` on stderr the first time any
// @opentelemetry package is resolved, so that a test can tell which parts of OpenTelemetry a process loads.
import { register } from 'node:module';

register('./otel-probe.hooks.mjs', import.meta.url);
