import { randomUUID } from 'node:crypto';

/** A caller's `x-request-id` we can echo safely (no header injection, bounded). */
const SANE_REQUEST_ID = /^[\w.:+/=@-]{1,128}$/;

/** The request's id: the caller's `x-request-id` when it is safe to echo, else a new UUID. */
export function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}
