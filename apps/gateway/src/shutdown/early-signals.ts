// Imported by the entry points only, before the rest of the gateway is loaded: evaluating this
// module is what installs the handlers, so that a signal while the modules load is not Node's default (death, no line).
let first: NodeJS.Signals | undefined;
const hold = (signal: NodeJS.Signals) => void (first ??= signal);
process.on('SIGTERM', hold).on('SIGINT', hold);

/** The first SIGTERM / SIGINT that came while the gateway was loading; the runner's own handlers take over from here. */
export function earlySignal(): NodeJS.Signals | undefined {
  process.off('SIGTERM', hold).off('SIGINT', hold);
  return first;
}
