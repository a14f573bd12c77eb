import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveApi } from './api-routes.js';
import { opaqueToken, wafPage } from './emulator-wire.js';
import type {
  Answer,
  DownloadRecord,
  EmulatedEndpoint,
  EmulatorCredentials,
  FailureMode,
  ProviderEmulator,
  ReceivedRequest,
  TokenIssuer,
  TokenRequestRecord,
} from './emulator.types.js';
import { readSmallBody, send, sendJson } from './http-answer.js';
import { IssuedTokens } from './issued-tokens.js';

const MAINTENANCE_PAGE =
  '<!DOCTYPE html><html><head><title>Scheduled maintenance</title></head><body><h1>We will be back soon</h1></body></html>';

/**
 * One provider mounted on the emulators' server: its token endpoint and API routes, and the state
 * behind them (issued tokens, records, injected failures, held requests), apart from every other's.
 */
export class MountedEndpoint {
  readonly tokenPath: string;
  readonly apiBase: string;
  private tokens: IssuedTokens;
  private records: TokenRequestRecord[] = [];
  private apiCount = 0;
  /** API requests refused for their token (unknown, expired or revoked). */
  private apiRejected = 0;
  private downloadList: DownloadRecord[] = [];
  private failure?: { mode: FailureMode; left: number };
  /** Set by `setTokenLifetime`; `{ value: undefined }` means "omit expires_in". */
  private lifetime?: { value: unknown };
  /** Token requests held by a `hang` failure, with what answers them when released. */
  private readonly hanging = new Map<ServerResponse, () => void>();
  /** One issuer per account, so that each token records whom it was issued to. */
  private readonly issuers: TokenIssuer[];

  constructor(
    readonly name: EmulatedEndpoint,
    private readonly emulator: ProviderEmulator,
    /** The accounts this endpoint accepts, each on its own; the first answers refusals. */
    readonly accounts: ReadonlyArray<EmulatorCredentials[EmulatedEndpoint]>,
    private readonly now: () => number,
    /** Slow API answers register here so the server's `close()` can cancel their timers. */
    private readonly timers: Set<NodeJS.Timeout>,
  ) {
    this.tokenPath = emulator.tokenPath;
    this.apiBase = `/${name}/api`;
    this.tokens = new IssuedTokens(now);
    this.issuers = accounts.map((_account, owner) => ({
      issue: () => {
        const token = opaqueToken(this.emulator.tokenShape);
        const expiresIn = this.lifetime ? this.lifetime.value : this.emulator.defaultExpiresIn;
        this.tokens.addAccess(token, expiresIn, owner);
        return expiresIn === undefined ? { access_token: token } : { access_token: token, expires_in: expiresIn };
      },
      issueRefreshToken: () => {
        const token = opaqueToken();
        this.tokens.addRefresh(token);
        return token;
      },
      knowsRefreshToken: (token) => this.tokens.hasRefresh(token),
    }));
  }

  /** The account that issued `token`, if any. */
  tokenOwner(token: string): EmulatorCredentials[EmulatedEndpoint] | undefined {
    const owner = this.tokens.ownerOf(token);
    return owner === undefined ? undefined : this.accounts[owner];
  }

  /** The first account's answer that grants a token, else the first account's refusal. */
  private answerToken(received: ReceivedRequest): Answer {
    let refusal: Answer | undefined;
    for (const [owner, account] of this.accounts.entries()) {
      const answer = this.emulator.token(received, account, this.issuers[owner]);
      if (answer.status < 300) return answer;
      refusal ??= answer;
    }
    return refusal!;
  }

  /** Whether `path` is this provider's API (`/{name}/api` or below). */
  ownsApiPath(path: string): boolean {
    return path === this.apiBase || path.startsWith(`${this.apiBase}/`);
  }

  async serveToken(path: string, url: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readSmallBody(req);
    if (body === undefined) return sendJson(res, 413, { error: 'payload_too_large' });
    const received = { method: req.method ?? 'GET', path, headers: req.headers, body };
    this.records.push({ ...received, headers: { ...req.headers }, at: this.now() });
    const failure = this.failure;
    if (!failure) return send(res, this.answerToken(received));
    if (--failure.left <= 0) this.failure = undefined;
    if (failure.mode.kind !== 'hang') return send(res, failureAnswer(this.emulator, failure.mode, url));
    // Released: answered as the endpoint would answer now (a failure still set, else a token).
    this.hanging.set(res, () => {
      const current = this.failure;
      if (current && current.mode.kind !== 'hang') {
        if (--current.left <= 0) this.failure = undefined;
        return send(res, failureAnswer(this.emulator, current.mode, url));
      }
      send(res, this.answerToken(received));
    });
    res.on('close', () => this.hanging.delete(res));
  }

  async serveApi(path: string, query: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.apiCount++;
    const refusal = this.authorizeApi(req);
    if (refusal) {
      this.apiRejected++;
      return send(res, refusal);
    }
    const subPath = path.slice(this.apiBase.length);
    const own = this.emulator.api?.(req.method ?? 'GET', subPath);
    if (own) return send(res, own);
    return serveApi(subPath, query, req, res, { timers: this.timers, downloads: this.downloadList });
  }

  /** Granted when one account accepts the request with a token issued to it; else the first account's refusal. */
  private authorizeApi(req: IncomingMessage): Answer | undefined {
    let refusal: Answer | undefined;
    for (const [owner, account] of this.accounts.entries()) {
      const answer = this.emulator.authorizeApi(req.headers, account, (token) => this.tokens.isValid(token, owner));
      if (!answer) return undefined;
      refusal ??= answer;
    }
    return refusal;
  }

  tokenRequests(): TokenRequestRecord[] {
    return [...this.records];
  }

  apiRequests(): number {
    return this.apiCount;
  }

  apiRejections(): number {
    return this.apiRejected;
  }

  downloads(): readonly Readonly<DownloadRecord>[] {
    return this.downloadList;
  }

  fail(mode: FailureMode): void {
    if (mode.times !== undefined && !(Number.isInteger(mode.times) && mode.times > 0)) {
      throw new Error(`failTokenEndpoint: times must be a positive integer, got ${mode.times}`);
    }
    this.failure = { mode, left: mode.times ?? Infinity };
  }

  clearFailure(): void {
    this.failure = undefined;
  }

  setTokenLifetime(expiresIn: unknown): void {
    this.lifetime = { value: expiresIn };
  }

  hangingRequests(): number {
    return this.hanging.size;
  }

  releaseHanging(): void {
    for (const [res, answer] of [...this.hanging]) {
      this.hanging.delete(res);
      if (!res.destroyed) answer();
    }
  }

  revokeTokens(): void {
    this.tokens.revokeAccess();
  }

  revokeRefreshTokens(): void {
    this.tokens.revokeRefresh();
  }

  reset(): void {
    this.tokens = new IssuedTokens(this.now);
    this.records = [];
    this.apiCount = 0;
    this.apiRejected = 0;
    this.downloadList = [];
    this.failure = undefined;
    this.lifetime = undefined;
  }

  /** Ends the requests a `hang` failure holds, unanswered. */
  destroyHanging(): void {
    for (const res of this.hanging.keys()) res.destroy();
  }
}

function failureAnswer(emulator: ProviderEmulator, mode: Exclude<FailureMode, { kind: 'hang' }>, url: string): Answer {
  switch (mode.kind) {
    case 'status':
      return emulator.failure(mode.status);
    case 'rate_limit': {
      const answer = emulator.failure(429);
      if (mode.retryAfterSeconds === undefined) return answer;
      return { ...answer, headers: { ...answer.headers, 'retry-after': String(mode.retryAfterSeconds) } };
    }
    case 'garbage':
      return {
        status: mode.status ?? 200,
        headers: { 'content-type': mode.contentType ?? 'text/html; charset=utf-8' },
        body: mode.body ?? MAINTENANCE_PAGE,
      };
    case 'waf':
      return wafPage(url);
  }
}
