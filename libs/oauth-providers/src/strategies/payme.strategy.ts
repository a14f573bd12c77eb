import type { AccessToken, TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import { OAuthProviderError } from '../errors/oauth-provider.error.js';
import type { JsonObject, ProviderErrorFields } from './token-wire.js';
import { grantFrom, invalidResponse, JSON_CONTENT_TYPE, requestTokenAnswer, strategyIdentity, stringField } from './token-wire.js';
import { checkedClient, credentialsFingerprint, readCredential, requireUser, requireText, type Credential } from './strategy-options.js';

/** What `payme()` takes. */
export interface PaymeOptions {
  /** Default `payme`. */
  name?: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: Credential;
  audience: string;
  /** Both set: the password grant; neither: client_credentials (Pay-me's token API takes either). */
  username?: string;
  password?: Credential;
  /** Default `create:token post:charges offline_access` (offline_access brings a refresh token). */
  scope?: string;
  /** `ALG-API-VERSION`, default `1618440906` (the token API's documented value; newer pages use `1709847567`). */
  apiVersion?: string;
  /** Private CA, client certificate and egress proxy for the token endpoint (default: direct, Node's roots). */
  transport?: TokenTransport;
}

const DEFAULT_SCOPE = 'create:token post:charges offline_access';
const DEFAULT_API_VERSION = '1618440906';

/**
 * Pay-me / Alignet: no Basic, the credentials go in a JSON body with `action: "authorize"`, and
 * every call carries `ALG-API-VERSION`. Success needs `success: true` and
 * `authorization.meta.status.code` "00"; anything else is a failure, even with HTTP 200
 * (https://docs.pay-me.com/en/flex/v1/api-token-de-acceso-mediante-usuario-y-contrasena).
 */
export class PaymeStrategy implements TokenStrategy {
  readonly name: string;
  /** The primary grant's `grant_type`, as traces name it. */
  get grantType(): string {
    return this.#grant;
  }
  readonly identity: string;
  readonly transport?: TokenTransport;
  readonly #options: PaymeOptions;
  readonly #scope: string;
  readonly #apiVersion: string;
  readonly #grant: 'password' | 'client_credentials';

  constructor(options: PaymeOptions) {
    this.#options = options;
    this.name = checkedClient('payme', options);
    this.transport = options.transport;
    requireText(this.name, 'audience', options.audience);
    if (options.username !== undefined || options.password !== undefined) {
      requireUser(this.name, options);
    }
    this.#scope = options.scope ?? DEFAULT_SCOPE;
    this.#apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
    this.#grant = options.username !== undefined ? 'password' : 'client_credentials';
    this.identity = strategyIdentity(
      options.tokenUrl,
      options.clientId,
      this.#grant,
      this.#scope,
      this.#grant === 'password' ? options.username : undefined,
      options.audience,
    );
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { username, password } = this.#options;
    if (this.#grant === 'client_credentials') return this.#authorize(ctx, { grant_type: this.#grant });
    return this.#authorize(ctx, { grant_type: this.#grant, username, password: await readCredential(this.name, 'password', password!) });
  }

  /** Same endpoint and fields, `grant_type: refresh_token`; the service keeps the old refresh token when none comes back. */
  refreshToken(refreshToken: string, ctx: TokenRequestContext): Promise<TokenGrant> {
    return this.#authorize(ctx, { grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  requestHeaders(token: AccessToken): Record<string, string> {
    return { authorization: `${token.tokenType} ${token.accessToken}`, 'alg-api-version': this.#apiVersion };
  }

  async #authorize(ctx: TokenRequestContext, grant: Record<string, string | undefined>): Promise<TokenGrant> {
    const { tokenUrl, clientId, clientSecret, audience } = this.#options;
    const request = {
      url: tokenUrl,
      headers: { 'content-type': JSON_CONTENT_TYPE, 'alg-api-version': this.#apiVersion },
      body: JSON.stringify({
        action: 'authorize',
        ...grant,
        client_id: clientId,
        client_secret: await readCredential(this.name, 'clientSecret', clientSecret),
        audience,
        scope: this.#scope,
      }),
    };
    const answer = await requestTokenAnswer(ctx, this.name, request, paymeErrorFields);
    const { code, description } = paymeErrorFields(answer.body);
    if (answer.body.success === true && code === '00') return grantFrom(this.name, answer);
    // HTTP 200 with `success: false` or a status code other than "00": Pay-me refused.
    if (answer.body.success === false || code !== undefined) {
      throw new OAuthProviderError({ provider: this.name, kind: 'rejected', status: answer.status, code, description });
    }
    throw invalidResponse(this.name, answer.status, 'the answer has neither success:true nor status code "00"');
  }
  credentialsFingerprint(): Promise<string> {
    return credentialsFingerprint([this.#options.clientSecret, this.#options.password]);
  }
}

/** The Pay-me strategy, for `OAuthModule`'s `providers`. */
export function payme(options: PaymeOptions): PaymeStrategy {
  return new PaymeStrategy(options);
}

/** `authorization.meta.status`: `code` ("00" ok, "01" error) and the messages in `message_ilgn[].value`. */
function paymeErrorFields(body: JsonObject): ProviderErrorFields {
  const status = objectAt(objectAt(objectAt(body, 'authorization'), 'meta'), 'status');
  const messages = Array.isArray(status?.message_ilgn) ? status.message_ilgn : [];
  const values = messages.map((m: unknown) => (m !== null && typeof m === 'object' ? stringField((m as JsonObject).value) : undefined));
  const found = values.filter((v) => v !== undefined);
  return { code: stringField(status?.code), description: found.length ? found.join('; ') : undefined };
}

function objectAt(parent: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = parent?.[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}
