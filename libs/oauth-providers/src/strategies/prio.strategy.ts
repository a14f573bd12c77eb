import type { AccessToken, TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import type { JsonObject, ProviderErrorFields } from './token-wire.js';
import { grantFrom, JSON_CONTENT_TYPE, rawBasicAuthorization, requestTokenAnswer, strategyIdentity, stringField } from './token-wire.js';
import { checkedClient, credentialsFingerprint, readCredential, type Credential } from './strategy-options.js';

/** What `prio()` takes. */
export interface PrioOptions {
  /** Default `prio`. */
  name?: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: Credential;
  /** e.g. `https://www.prioticketapis.com/auth/distributor.booking`; sent only when set. */
  scope?: string;
  /** Private CA, client certificate and egress proxy for the token endpoint (default: direct, Node's roots). */
  transport?: TokenTransport;
}

/**
 * Prio Distributor API (https://developer.prioticket.com/distributor-api/authentication): real
 * base64 Basic of the raw id and secret, with a JSON body, and `Accept: application/json` or it
 * answers 406. Errors are OAuth-style for 400/401 and `{error, error_reference, error_message}`
 * for 405/406/422/429/5xx.
 */
export class PrioStrategy implements TokenStrategy {
  readonly name: string;
  readonly identity: string;
  readonly transport?: TokenTransport;
  readonly #options: PrioOptions;

  constructor(options: PrioOptions) {
    this.#options = options;
    this.name = checkedClient('prio', options);
    this.transport = options.transport;
    this.identity = strategyIdentity(options.tokenUrl, options.clientId, 'client_credentials', options.scope);
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { tokenUrl, clientId, clientSecret, scope } = this.#options;
    const request = {
      url: tokenUrl,
      headers: {
        authorization: rawBasicAuthorization(clientId, await readCredential(this.name, 'clientSecret', clientSecret)),
        'content-type': JSON_CONTENT_TYPE,
        accept: JSON_CONTENT_TYPE,
      },
      body: JSON.stringify({ grant_type: 'client_credentials', ...(scope !== undefined && { scope }) }),
    };
    return grantFrom(this.name, await requestTokenAnswer(ctx, this.name, request, prioErrorFields));
  }

  /** Prio's API takes `Authorization: <token_type> <access_token>`. */
  requestHeaders(token: AccessToken): Record<string, string> {
    return { authorization: `${token.tokenType} ${token.accessToken}` };
  }
  credentialsFingerprint(): Promise<string> {
    return credentialsFingerprint([this.#options.clientSecret]);
  }
}

/** The Prio strategy, for `OAuthModule`'s `providers`. */
export function prio(options: PrioOptions): PrioStrategy {
  return new PrioStrategy(options);
}

function prioErrorFields(body: JsonObject): ProviderErrorFields {
  const message = stringField(body.error_description) ?? stringField(body.error_message);
  const reference = stringField(body.error_reference);
  // The reference is what Prio support asks for.
  return { code: stringField(body.error), description: reference ? `${message ?? 'error'} (reference ${reference})` : message };
}
