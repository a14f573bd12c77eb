/**
 * The fault matrix: every request shape × every phase a request goes through × every fault, with
 * the outcome the caller must see, generated from the rules below. Cells that cannot happen are
 * listed explicitly, each with the reason.
 */

export const SHAPES = ['none', 'small', 'length', 'chunked', 'over', 'expect'] as const;
export const PHASES = ['token', 'slot', 'sending', 'waiting', 'streaming'] as const;
export const FAULTS = ['refuses', 'connect-timeout', 'resets', 'hangs', 'caller-aborts', 'caller-stalls'] as const;

/**
 * - `none`: GET, no body. `small`: POST of 5 bytes with their content-length, sent with the head.
 * - `length` / `chunked`: 6,000 bytes with a content-length / chunked, 1,000 sent with the head, the rest later.
 * - `over`: chunked, 1,000 bytes with the head, then 10,000 more: over `MAX_BODY_BYTES` (8 KiB).
 * - `expect`: as `length`, with `Expect: 100-continue`: nothing is sent before the 100.
 */
export type Shape = (typeof SHAPES)[number];
/**
 * - `token`: waiting for the provider's token (its token endpoint holds the request).
 * - `slot`: waiting for a connection of a full pool (two requests of the same pool held upstream).
 * - `sending`: the gateway is sending the request: connecting, or the upstream has part of the body.
 * - `waiting`: the upstream has the whole request and has not answered.
 * - `streaming`: the caller has the answer's head and part of its body.
 */
export type Phase = (typeof PHASES)[number];
/**
 * Upstream faults: it `refuses` the connection, the connection attempt times out
 * (`connect-timeout`: a listener whose backlog is full), it `resets` the connection, it `hangs`
 * (stops reading and answering). Caller faults: it goes away (`caller-aborts`), or stops sending
 * its body / reading the answer (`caller-stalls`).
 */
export type Fault = (typeof FAULTS)[number];

/**
 * What the caller sees: an answer with this status; `cut`, the head of a 200 and then the end of
 * the connection before the announced length; `gone`, nothing (the caller left), the access line
 * then saying `logged` (499: it left before its answer was complete).
 */
export type Outcome = { status: number } | { cut: true } | { gone: true; logged: number[] };

export interface Cell {
  shape: Shape;
  phase: Phase;
  fault: Fault;
}

interface Rule {
  shapes?: readonly Shape[];
  phases?: readonly Phase[];
  faults?: readonly Fault[];
  why: string;
}

const UPSTREAM: readonly Fault[] = ['refuses', 'connect-timeout', 'resets', 'hangs'];
const CONNECT: readonly Fault[] = ['refuses', 'connect-timeout'];
const SENT_IN_ONE_WRITE: readonly Shape[] = ['none', 'small'];

/** The cells that cannot happen, and why. */
export const IMPOSSIBLE: readonly Rule[] = [
  { phases: ['token'], faults: UPSTREAM, why: 'no upstream exchange exists while the token is awaited' },
  { phases: ['slot'], faults: CONNECT, why: 'a full pool is made of connections the upstream accepted' },
  { phases: ['waiting', 'streaming'], faults: CONNECT, why: 'the connection exists by then' },
  {
    shapes: SENT_IN_ONE_WRITE,
    phases: ['sending'],
    faults: ['resets', 'hangs', 'caller-aborts', 'caller-stalls'],
    why: 'the head and a small body leave in one write: there is no moment when the upstream has part of them',
  },
  { shapes: ['over'], phases: ['waiting', 'streaming'], why: 'a body over the limit is never sent whole, so never answered' },
  {
    shapes: SENT_IN_ONE_WRITE,
    phases: ['token', 'slot'],
    faults: ['caller-stalls'],
    why: 'the request is whole: waiting for the answer is not stalling',
  },
  {
    shapes: ['expect'],
    phases: ['token'],
    faults: ['caller-stalls'],
    why: 'the caller waits for its 100 Continue, which is sent once the token is there',
  },
  { phases: ['waiting'], faults: ['caller-stalls'], why: 'a caller that sent everything and waits for the answer is not stalling' },
];

const matches = (rule: Rule, { shape, phase, fault }: Cell) =>
  (rule.shapes?.includes(shape) ?? true) && (rule.phases?.includes(phase) ?? true) && (rule.faults?.includes(fault) ?? true);

/** Why the cell cannot happen, or undefined when it can. */
export function impossible(cell: Cell): string | undefined {
  return IMPOSSIBLE.find((rule) => matches(rule, cell))?.why;
}

/** The outcome of a cell that can happen. */
export function expected({ shape, phase, fault }: Cell): Outcome {
  if (fault === 'caller-aborts') {
    if (phase === 'streaming') return { gone: true, logged: [499] };
    // Its body crossed the limit just before it left: whichever the gateway saw first.
    return { gone: true, logged: shape === 'over' ? [413, 499] : [499] };
  }
  if (shape === 'over') {
    // The rest of its body comes once the upstream's refusal or reset was answered; otherwise the limit is crossed first.
    return { status: phase === 'sending' && (fault === 'refuses' || fault === 'resets') ? 502 : 413 };
  }
  if (phase === 'streaming') return { cut: true };
  switch (fault) {
    case 'refuses':
    case 'resets':
      return { status: 502 };
    case 'connect-timeout':
    case 'hangs':
      return { status: 504 };
    default:
      return { status: 408 }; // caller-stalls: no byte of its body for CLIENT_TIMEOUT_MS
  }
}

export function allCells(): Cell[] {
  return SHAPES.flatMap((shape) => PHASES.flatMap((phase) => FAULTS.map((fault) => ({ shape, phase, fault }))));
}

export function describeOutcome(outcome: Outcome): string {
  if ('status' in outcome) return String(outcome.status);
  if ('cut' in outcome) return 'cut';
  return `gone (logged ${outcome.logged.join(' or ')})`;
}
