/** Epoch milliseconds as ISO 8601 text, the one form every gateway output (bodies, log lines) gives a time in. */
export function isoTime(ms: number): string;
export function isoTime(ms: number | undefined): string | undefined;
export function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
