import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { Answer } from './emulator.types.js';

/** Helpers every emulated provider uses to read requests and write answers. */

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `application/json; charset=utf-8` → `application/json`; undefined when absent. */
export function mediaType(headers: IncomingHttpHeaders): string | undefined {
  return header(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
}

/** True when the `Accept` header lists `type` itself (wildcards do not count: Prio wants it named). */
export function accepts(headers: IncomingHttpHeaders, type: string): boolean {
  return (header(headers, 'accept') ?? '').split(',').some((part) => part.split(';')[0]?.trim().toLowerCase() === type);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * `Authorization: Basic <base64(id:secret)>` decoded as is: no URL-decoding, which is what the five
 * providers do. Undefined when absent or malformed (no colon, not base64).
 */
export function basicCredentials(headers: IncomingHttpHeaders): { id: string; secret: string } | undefined {
  const match = /^Basic +(\S+)$/i.exec(header(headers, 'authorization') ?? '');
  if (!match || !BASE64.test(match[1]) || match[1].length % 4 !== 0) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/** The token of `Authorization: Bearer <token>`, scheme compared case-insensitively. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  return /^Bearer +(\S+)$/i.exec(header(headers, 'authorization') ?? '')?.[1];
}

/** application/x-www-form-urlencoded decoding of one value; undefined on a malformed `%` escape. */
export function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function json(status: number, body: object, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': 'application/json;charset=UTF-8', ...headers }, body };
}

/** Token answers must not be cached (RFC 6749 §5.1); providers send these on errors too. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/**
 * An opaque token that always holds `+`, `/`, `=` and `.`, so clients that URL-encode tokens or
 * split them on `=` are caught.
 */
export function opaqueToken(shape: { prefix?: string; suffix?: string } = {}): string {
  const core = randomBytes(24).toString('base64');
  return `${shape.prefix ?? ''}${core.slice(0, 10)}+${core.slice(10, 20)}/${core.slice(20)}.x=${shape.suffix ?? ''}`;
}

/** An Akamai-style "Access Denied" page, as LATAM's firewall answers a blocked request. */
export function wafPage(url: string): Answer {
  const ref = `18.${randomBytes(4).toString('hex')}.${Math.floor(Date.now() / 1000)}.${randomBytes(3).toString('hex').slice(0, 7)}`;
  const body = [
    '<HTML><HEAD>',
    '<TITLE>Access Denied</TITLE>',
    '</HEAD><BODY>',
    '<H1>Access Denied</H1>',
    ' ',
    `You don't have permission to access "${url}" on this server.<P>`,
    `Reference #${ref}`,
    `<P>https://errors.edgesuite.net/${ref}</P>`,
    '</BODY>',
    '</HTML>',
  ].join('\n');
  return { status: 403, headers: { 'content-type': 'text/html', 'mime-version': '1.0', server: 'AkamaiGHost' }, body };
}
