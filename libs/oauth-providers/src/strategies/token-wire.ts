// What token requests and answers have in common across providers: Basic headers, bodies,
// reading answers, and turning failures into `OAuthProviderError`. Written once; each strategy,
// built-in or an app's own, adds only what its provider's docs say differs.
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { OAuthProviderErrorKind } from '../errors/oauth-provider.error.js';
import type { TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenHttpRequest, TokenHttpResponse, TokenRequestContext } from '../interfaces/token-strategy.interface.js';
import { parseRetryAfter } from '../token/backoff.js';

/** A JSON object as parsed from a provider's answer, its fields not yet checked. */
export type JsonObject = Record<string, unknown>;

/** The provider's own error code and message, read from its error body. */
export interface ProviderErrorFields {
  code?: string;
  description?: string;
}

/** A 2xx token answer whose body is a JSON object. */
export interface TokenAnswer {
  status: number;
  body: JsonObject;
}

/** Reads a provider's error body; given any JSON object, must not throw. */
export type ErrorFieldsReader = (body: JsonObject) => ProviderErrorFields;

/** `application/x-www-form-urlencoded`, the token request body of RFC 6749 §4.4.2. */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
/** `application/json`, for providers whose token endpoint takes a JSON body. */
export const JSON_CONTENT_TYPE = 'application/json';

/** Provider messages are shown to callers: keep them to a readable size. */
const MAX_DESCRIPTION = 300;

/**
 * `Basic base64(id:secret)` of the raw values, UTF-8, as most providers expect it: LATAM, Transatel,
 * Prio and Sabre decode nothing, so an RFC 6749 §2.3.1 client (which form-encodes both parts first)
 * is refused as soon as the secret holds `%`, `+`, `/` or `=`. See `rfc6749BasicAuthorization`.
 */
export function rawBasicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64')}`;
}

/**
 * RFC 6749 §2.3.1 `client_secret_basic` to the letter: id and secret are encoded with
 * application/x-www-form-urlencoded (Appendix B) before being joined and base64-encoded. What a
 * standard authorization server decodes; see `rawBasicAuthorization` for the providers that do not.
 */
export function rfc6749BasicAuthorization(clientId: string, clientSecret: string): string {
  return rawBasicAuthorization(formEncode(clientId), formEncode(clientSecret));
}

/** One value encoded as application/x-www-form-urlencoded (space as `+`, `*-._` kept). */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** An `application/x-www-form-urlencoded` body (send it with `FORM_CONTENT_TYPE`); undefined fields are left out. */
export function formBody(fields: Record<string, string | undefined>): string {
  return new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)).toString();
}

/**
 * A `TokenStrategy.identity` from its parts: who the token belongs to (token URL, client id, grant,
 * scope, and the user of a password grant), never a secret.
 */
export function strategyIdentity(...parts: Array<string | undefined>): string {
  return parts.map((part) => part ?? '').join('|');
}

/** Reads an RFC 6749 §5.2 error body, `{"error","error_description"}` (the default reader). */
export function rfc6749ErrorFields(body: JsonObject): ProviderErrorFields {
  return { code: stringField(body.error), description: stringField(body.error_description) };
}

/** `value` when it is a non-empty string, else undefined. */
export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * 429 and 5xx are the provider's trouble (retried with backoff); other 4xx refuse our credentials
 * or request (never retried); anything else (1xx, 3xx) cannot be a token answer.
 */
export function failureKind(status: number): OAuthProviderErrorKind {
  if (status === 429 || status >= 500) return 'unavailable';
  if (status >= 400) return 'rejected';
  return 'invalid_response';
}

/**
 * Posts a token request through the module's HTTP client and reads the answer with `readTokenAnswer`:
 * a JSON object on 2xx, else the `OAuthProviderError` it means, with the provider's code and message
 * read by `errorFields` (default: RFC 6749 §5.2).
 */
export async function requestTokenAnswer(
  ctx: TokenRequestContext,
  provider: string,
  request: TokenHttpRequest,
  errorFields: ErrorFieldsReader = rfc6749ErrorFields,
): Promise<TokenAnswer> {
  return readTokenAnswer(provider, await ctx.http.post(provider, request, ctx.transport), errorFields);
}

/**
 * A token endpoint answer as a JSON object, or the `OAuthProviderError` it means: 429/5xx, network
 * refusals and WAF pages `unavailable` (with `Retry-After`), other 4xx `rejected`, HTML or unreadable
 * bodies `invalid_response`. Never throws anything else, whatever the body.
 */
export function readTokenAnswer(
  provider: string,
  res: TokenHttpResponse,
  errorFields: ErrorFieldsReader = rfc6749ErrorFields,
): TokenAnswer {
  const ok = res.status >= 200 && res.status < 300;
  const html = isHtml(res);
  if (ok) {
    if (html) throw invalidResponse(provider, res.status, `HTTP ${res.status} with an HTML page instead of a token`);
    const body = parseJsonObject(res.body);
    if (!body)
      throw invalidResponse(provider, res.status, `HTTP ${res.status} with a body that is not a JSON object (truncated or malformed)`);
    return { status: res.status, body };
  }
  // A token endpoint that sends us elsewhere is not followed: credentials go only where they were configured.
  if (res.status >= 300 && res.status < 400) throw invalidResponse(provider, res.status, 'redirect to another location (not followed)');
  const kind = failureKind(res.status);
  const retryAfterMs = kind === 'unavailable' ? parseRetryAfter(res.headers['retry-after'], Date.now()) : undefined;
  if (html) {
    // A CDN/WAF page is the network refusing us, not the provider judging our credentials: retry
    // later, and keep its reference for support (https://portal.api.latampass.com/en/docs/bhuxke6asybn80icgmqelnir).
    const reference = /Reference\s+(#[\w.-]{1,80})/i.exec(res.body)?.[1];
    if (res.status === 403 && (reference || /access denied/i.test(res.body))) {
      throw new OAuthProviderError({
        provider,
        kind: 'unavailable',
        status: res.status,
        code: 'waf_blocked',
        description: `request blocked by the provider's firewall${reference ? ` (Reference ${reference})` : ''}`,
        retryAfterMs,
      });
    }
    throw new OAuthProviderError({ provider, kind, status: res.status, description: `HTTP ${res.status} with an HTML page`, retryAfterMs });
  }
  const body = parseJsonObject(res.body);
  const fields = body ? safeErrorFields(errorFields, body) : {};
  throw new OAuthProviderError({
    provider,
    kind,
    status: res.status,
    code: fields.code,
    description: fields.description ?? (body ? undefined : `HTTP ${res.status} with an unreadable body`),
    retryAfterMs,
  });
}

/**
 * The grant in an RFC 6749 §5.1 success body (`access_token`, `token_type`, `expires_in`, `scope`,
 * `refresh_token`); `expires_in` is passed through raw, the service judges it. Throws
 * `invalid_response` when there is no `access_token`.
 */
export function grantFrom(provider: string, { status, body }: TokenAnswer): TokenGrant {
  const accessToken = stringField(body.access_token);
  if (!accessToken) throw invalidResponse(provider, status, 'the answer holds no access_token');
  return {
    accessToken,
    tokenType: stringField(body.token_type),
    expiresIn: body.expires_in,
    scope: stringField(body.scope),
    refreshToken: stringField(body.refresh_token),
  };
}

export function invalidResponse(provider: string, status: number | undefined, description: string): OAuthProviderError {
  return new OAuthProviderError({ provider, kind: 'invalid_response', status, description });
}

function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

function isHtml(res: TokenHttpResponse): boolean {
  return /html/i.test(res.headers['content-type'] ?? '') || /^\s*</.test(res.body);
}

/** A strategy's reader that fails on a strange body loses the fields, never the error. */
function safeErrorFields(read: ErrorFieldsReader, body: JsonObject): ProviderErrorFields {
  try {
    const { code, description } = read(body);
    return { code: stringField(code)?.slice(0, MAX_DESCRIPTION), description: stringField(description)?.slice(0, MAX_DESCRIPTION) };
  } catch {
    return {};
  }
}
