/**
 * A new trace under a trace-id ratio sampler, decided before its id exists: the draw is the value
 * OpenTelemetry JS's `TraceIdRatioBasedSampler` computes from a trace id (the XOR of its four 32-bit
 * words, sampled below `ratio × 0xffffffff`), and only a picked draw gets an id, built to XOR to it.
 * Requests not picked (99 % of them at 1 %) then cost one `Math.random()` instead of a random id, its
 * hex string and the sampler's parse of it; the ids are as random as the SDK's, and the sampler, asked
 * again when the span starts, agrees (the spec proves it against the SDK's own sampler).
 */

/** The draws below which a trace is picked, as the SDK's sampler bounds them. */
export function ratioBound(ratio: number): number {
  const r = Number.isNaN(ratio) ? 0 : Math.min(1, Math.max(0, ratio));
  return r === 1 ? 0x1_0000_0000 : Math.floor(r * 0xffffffff);
}

/** A uniform draw in [0, 2³²). */
export function drawWord(random: () => number = Math.random): number {
  return (random() * 0x1_0000_0000) >>> 0;
}

/** A random 32-hex-digit trace id whose four words XOR to `drawn`; never the invalid all-zero id. */
export function traceIdDrawn(drawn: number, random: () => number = Math.random): string {
  const words = [drawWord(random), drawWord(random), drawWord(random) || 1];
  words.push((drawn ^ words[0] ^ words[1] ^ words[2]) >>> 0);
  return words.map((word) => word.toString(16).padStart(8, '0')).join('');
}
