import type { AccessToken, TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import type { JsonObject, ProviderErrorFields } from './token-wire.js';
import {
  FORM_CONTENT_TYPE,
  formBody,
  grantFrom,
  rawBasicAuthorization,
  requestTokenAnswer,
  strategyIdentity,
  stringField,
} from './token-wire.js';
import { checkedClient, credentialsFingerprint, readCredential, type Credential } from './strategy-options.js';

/** What `latamPass()` takes. */
export interface LatamPassOptions {
  /** Default `latam`. */
  name?: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: Credential;
  /** LATAM's test environment (`LATAM_TEST_ENV`): adds `x-latam-test: LatamPass` to every request. */
  testEnvironment?: boolean;
  /** Private CA, client certificate and egress proxy for the token endpoint (default: direct, Node's roots). */
  transport?: TokenTransport;
}

/**
 * LATAM Pass (https://portal.api.latampass.com/en/docs/bhuxke6asybn80icgmqelnir): client
 * credentials with raw Basic plus a mandatory `client_id` header.
 * Its errors are `{"result":"failure","errors":[{type,message}],"status":400}` for bad id, secret
 * and grant alike.
 */
export class LatamPassStrategy implements TokenStrategy {
  readonly name: string;
  readonly identity: string;
  readonly transport?: TokenTransport;
  readonly #options: LatamPassOptions;
  readonly #extraHeaders: Record<string, string>;

  constructor(options: LatamPassOptions) {
    this.#options = options;
    this.name = checkedClient('latam', options);
    this.transport = options.transport;
    this.identity = strategyIdentity(options.tokenUrl, options.clientId, 'client_credentials');
    // `client_id` is "mandatory in all requests", the token call included.
    this.#extraHeaders = { client_id: options.clientId, ...(options.testEnvironment && { 'x-latam-test': 'LatamPass' }) };
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { tokenUrl, clientId, clientSecret } = this.#options;
    const request = {
      url: tokenUrl,
      headers: {
        authorization: rawBasicAuthorization(clientId, await readCredential(this.name, 'clientSecret', clientSecret)),
        ...this.#extraHeaders,
        'content-type': FORM_CONTENT_TYPE,
      },
      body: formBody({ grant_type: 'client_credentials' }),
    };
    return grantFrom(this.name, await requestTokenAnswer(ctx, this.name, request, latamErrorFields));
  }

  /** LATAM APIs take the token in an `access_token` header next to `client_id`, never in Authorization (https://portal.api.latampass.com/en/docs/yj99oeb452y4axe4v17xio2h). */
  requestHeaders(token: AccessToken): Record<string, string> {
    return { ...this.#extraHeaders, access_token: token.accessToken };
  }
  credentialsFingerprint(): Promise<string> {
    return credentialsFingerprint([this.#options.clientSecret]);
  }
}

/** The LATAM Pass strategy, for `OAuthModule`'s `providers`. */
export function latamPass(options: LatamPassOptions): LatamPassStrategy {
  return new LatamPassStrategy(options);
}

function latamErrorFields(body: JsonObject): ProviderErrorFields {
  const errors = Array.isArray(body.errors) ? body.errors.filter((e): e is JsonObject => e !== null && typeof e === 'object') : [];
  const messages = errors.map((e) => stringField(e.message)).filter((m) => m !== undefined);
  return { code: stringField(errors[0]?.type), description: messages.length ? messages.join('; ') : undefined };
}
