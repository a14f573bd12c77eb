/**
 * Reading `/{provider}/{path...}?{query}` out of a raw request target, refusing anything that
 * could make the forwarded URL leave the provider's base path, and any character an origin-form
 * target may not hold raw (RFC 9112 §3.2.1). Pure: no I/O, so it is unit- and property-tested on its own.
 */

export interface ProxyTarget {
  provider: string;
  /** The remainder after `/{provider}`, still percent-encoded as the caller sent it: `''` or `/...`. */
  path: string;
  /** The query string with its `?`, or `''`. */
  search: string;
}

export type ProxyTargetResult = { ok: true; target: ProxyTarget } | { ok: false; reason: string };

/**
 * Decoding more rounds than this is refused outright: a segment still changing after it was
 * decoded this often is an attack, not a resource name.
 */
const MAX_DECODE_ROUNDS = 4;

export const NOT_A_PATH = 'the request target is not a path';

// What an origin-form path may hold raw (RFC 9112 §3.2.1, RFC 3986 §3.3): `pchar` and `/`. Anything
// else (a `#`, which would end the path for a URL parser upstream, a space, `\`, `"`, `<`, a control,
// a non-ASCII byte...) is refused rather than forwarded for the provider to interpret.
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
// In the query only what would end or split it (`#`), spaces and controls are refused; other raw characters go as received.
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
const QUERY_REFUSED = /[\u0000-\u0020#\u007f]/;
// Once decoded, a space is a legitimate character of a name; controls are not.
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this pattern.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Origin-form only: an absolute-form target (`http://evil/x`, which find-my-way would route as `/x`) or `*` names another resource. */
export function isOriginForm(rawTarget: string): boolean {
  return rawTarget.charCodeAt(0) === 0x2f; // '/'
}

export function parseProxyTarget(rawTarget: string): ProxyTargetResult {
  if (!isOriginForm(rawTarget)) return refuse(NOT_A_PATH);
  const queryAt = rawTarget.indexOf('?');
  const pathname = queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt);
  const search = queryAt === -1 ? '' : rawTarget.slice(queryAt);
  if (!PATH_CHARS.test(pathname)) return refuse('a character not allowed in a path');
  if (QUERY_REFUSED.test(search)) return refuse('a fragment, space or control character in the query');

  const providerEnd = pathname.indexOf('/', 1);
  const provider = providerEnd === -1 ? pathname.slice(1) : pathname.slice(1, providerEnd);
  const path = providerEnd === -1 ? '' : pathname.slice(providerEnd);

  const providerProblem = segmentProblem(provider);
  if (providerProblem) return refuse(providerProblem);
  if (path !== '') {
    const segments = path.slice(1).split('/');
    for (let i = 0; i < segments.length; i++) {
      // A trailing slash leaves one empty last segment; an empty one anywhere else is `//`.
      if (segments[i] === '' && i < segments.length - 1) return refuse('empty path segment');
      const problem = segmentProblem(segments[i]);
      if (problem) return refuse(problem);
    }
  }
  return { ok: true, target: { provider, path, search } };
}

/** Why one raw segment is refused, or undefined. Decodes repeatedly so double encoding cannot hide a dot segment. */
function segmentProblem(raw: string): string | undefined {
  let value = raw;
  for (let round = 0; ; round++) {
    if (isDotSegment(value)) return 'dot segment';
    if (value.includes('/') || value.includes('\\')) return 'slash or backslash inside a segment';
    if (CONTROL.test(value)) return 'control character in a segment';
    if (!value.includes('%')) return undefined;
    if (round === MAX_DECODE_ROUNDS) return 'too many levels of percent-encoding';
    try {
      value = decodeURIComponent(value);
    } catch {
      return 'malformed percent-encoding';
    }
  }
}

/** `.` and `..`, also with a `;` parameter (`..;x`), which some servers still read as `..`. */
function isDotSegment(value: string): boolean {
  const semicolon = value.indexOf(';');
  const name = semicolon === -1 ? value : value.slice(0, semicolon);
  return name === '.' || name === '..';
}

function refuse(reason: string): ProxyTargetResult {
  return { ok: false, reason };
}
