import type { IncomingHttpHeaders } from 'node:http';

/** The five built-in providers the emulators speak for. */
export type EmulatedProvider = 'latam' | 'transatel' | 'payme' | 'prio' | 'sabre';

/** Every emulated authorization server: the five providers plus a strict RFC 6749 one. */
export type EmulatedEndpoint = EmulatedProvider | 'oauth2';

export interface EmulatorCredentials {
  latam: { clientId: string; clientSecret: string };
  transatel: { clientId: string; clientSecret: string };
  payme: { clientId: string; clientSecret: string; audience: string; username: string; password: string };
  prio: { clientId: string; clientSecret: string };
  sabre: { clientId: string; clientSecret: string; username: string; password: string };
  /** The generic RFC 6749 server (`/oauth2/token`); `username`/`password` serve the password grant. */
  oauth2: { clientId: string; clientSecret: string; username: string; password: string };
}

/** One account's credentials per endpoint, as `EmulatorCredentials` holds them. */
export type EmulatorAccount<P extends EmulatedEndpoint = EmulatedEndpoint> = EmulatorCredentials[P];

/**
 * Credentials to accept, per endpoint: one set (merged over the defaults), or a list of sets, one
 * per account of the partner (each merged over the defaults; the first is `credentials`).
 */
export type EmulatorCredentialsOption = {
  [P in EmulatedEndpoint]?: Partial<EmulatorCredentials[P]> | Array<Partial<EmulatorCredentials[P]>>;
};

/** What the token endpoint does instead of its normal answer. `times` omitted: until `clearFailures`. */
export type FailureMode =
  | { kind: 'status'; status: number; times?: number }
  | { kind: 'rate_limit'; retryAfterSeconds?: number; times?: number }
  | { kind: 'hang'; times?: number }
  | { kind: 'garbage'; status?: number; contentType?: string; body?: string; times?: number }
  | { kind: 'waf'; times?: number };

export interface TokenRequestRecord {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

/** One `GET …/api/bytes/{n}` answer, as the emulator streams it. */
export interface DownloadRecord {
  total: number;
  /** Bytes written into the response so far (what the client's side let through, back-pressure included). */
  written: number;
  /** `streaming`; `ended`: all of it was written; `closed`: the connection closed before the end. */
  state: 'streaming' | 'ended' | 'closed';
}

export interface ProviderEmulators {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The credentials each token endpoint accepts (defaults merged with the overrides); its first account's with several. */
  readonly credentials: EmulatorCredentials;
  /** Every account an endpoint accepts, `credentials[p]` first. */
  accounts<P extends EmulatedEndpoint>(p: P): ReadonlyArray<EmulatorAccount<P>>;
  /** The account an access token was issued to (undefined: not issued by `p`). */
  tokenOwner<P extends EmulatedEndpoint>(p: P, accessToken: string): EmulatorAccount<P> | undefined;
  tokenUrl(p: EmulatedEndpoint): string;
  /** `${url}/${p}/api` */
  apiUrl(p: EmulatedEndpoint): string;
  /** Every token request received, rejected ones included, oldest first. */
  tokenRequests(p: EmulatedEndpoint): TokenRequestRecord[];
  /** API requests received (authorised or not). */
  apiRequests(p: EmulatedEndpoint): number;
  /** API requests refused because of their token (missing, unknown, expired or revoked). */
  apiRejections(p: EmulatedEndpoint): number;
  failTokenEndpoint(p: EmulatedEndpoint, mode: FailureMode): void;
  clearFailures(p?: EmulatedEndpoint): void;
  /**
   * The `expires_in` the next answers carry: a number, a string, -5, or `undefined` to omit the
   * field. Only a positive number also makes the emulator expire the token; anything else lives forever.
   */
  setTokenLifetime(p: EmulatedEndpoint, expiresIn: unknown): void;
  /** The downloads served so far, oldest first (live: `written` and `state` change as they stream). */
  downloads(p: EmulatedEndpoint): readonly Readonly<DownloadRecord>[];
  /** Token requests held open right now by a `hang` failure. */
  hangingRequests(p: EmulatedEndpoint): number;
  /**
   * Answers the token requests a `hang` failure holds, as the endpoint would answer now: the
   * failure mode still set (unless it is `hang`), else a normal token. Counts of `times` apply.
   */
  releaseHanging(p: EmulatedEndpoint): void;
  /** Every access token issued so far becomes invalid for the API (401). */
  revokeTokens(p: EmulatedEndpoint): void;
  /** Every refresh token issued so far (Pay-me) is refused from now on. */
  revokeRefreshTokens(p: EmulatedEndpoint): void;
  /** Forgets records, failures, lifetimes and tokens. */
  reset(): void;
  /** Stops listening and ends every open request, hanging ones included. */
  close(): Promise<void>;
}

export interface StartProviderEmulatorsOptions {
  /** 0 (default): a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  credentials?: EmulatorCredentialsOption;
  /** Clock for token expiry and request records (default `Date.now`). */
  now?: () => number;
  /**
   * Default true. False: every answer carries `connection: close`, so a client holds no idle
   * connection to the emulators afterwards (suites that count a gateway's descriptors).
   */
  keepAlive?: boolean;
}

/** A request as a token endpoint handler sees it (body read whole: token requests are small). */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An answer the server writes; an object body is sent as JSON. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string | object;
}

/** What a token endpoint handler may ask of the server. */
export interface TokenIssuer {
  /** A new access token and its `expires_in` field (absent when the lifetime is set to undefined). */
  issue(): { access_token: string; expires_in?: unknown };
  issueRefreshToken(): string;
  knowsRefreshToken(refreshToken: string): boolean;
}

/** One emulated authorization server: its token endpoint, its error dialect, and how its API checks tokens. */
export interface ProviderEmulator<P extends EmulatedEndpoint = EmulatedEndpoint> {
  readonly tokenPath: string;
  /** `expires_in` per the provider's docs, used until `setTokenLifetime`. */
  readonly defaultExpiresIn: number;
  /** Prefix/suffix that make issued tokens look like the provider's (Sabre: `T1RLAQ…**`). */
  readonly tokenShape?: { prefix?: string; suffix?: string };
  token(req: ReceivedRequest, credentials: EmulatorCredentials[P], issuer: TokenIssuer): Answer;
  /** The provider's own body for an injected failure status (500, 503, 429...). */
  failure(status: number): Answer;
  /** The provider's own API answer for an authorised request, or undefined for the shared routes (echo, bytes, upload…). */
  api?(method: string, subPath: string): Answer | undefined;
  /** Undefined when the API request carries a valid token; else the provider's refusal. */
  authorizeApi(
    headers: IncomingHttpHeaders,
    credentials: EmulatorCredentials[P],
    isValidToken: (token: string | undefined) => boolean,
  ): Answer | undefined;
}
