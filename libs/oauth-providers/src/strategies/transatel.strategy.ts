import type { TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import type { JsonObject, ProviderErrorFields } from './token-wire.js';
import {
  FORM_CONTENT_TYPE,
  formBody,
  grantFrom,
  rawBasicAuthorization,
  requestTokenAnswer,
  rfc6749ErrorFields,
  strategyIdentity,
  stringField,
} from './token-wire.js';
import { checkedClient, credentialsFingerprint, readCredential, type Credential } from './strategy-options.js';

/** What `transatel()` takes. */
export interface TransatelOptions {
  /** Default `transatel`. */
  name?: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: Credential;
  /** Space-separated; sent only when set. */
  scope?: string;
  /** Private CA, client certificate and egress proxy for the token endpoint (default: direct, Node's roots). */
  transport?: TokenTransport;
}

/**
 * Transatel: standard client credentials, but with raw Basic (ids like `ocs-subscription`).
 * Errors are RFC 6749 §5.2 (400 `Missing credentials`, 401 `Client authentication failed`); its
 * gateway's own failures are RFC 7807 problem documents
 * (https://developers.transatel.com/docs/guides-authentication/).
 */
export class TransatelStrategy implements TokenStrategy {
  readonly name: string;
  readonly identity: string;
  readonly transport?: TokenTransport;
  readonly #options: TransatelOptions;

  constructor(options: TransatelOptions) {
    this.#options = options;
    this.name = checkedClient('transatel', options);
    this.transport = options.transport;
    this.identity = strategyIdentity(options.tokenUrl, options.clientId, 'client_credentials', options.scope);
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { tokenUrl, clientId, clientSecret, scope } = this.#options;
    const request = {
      url: tokenUrl,
      headers: {
        authorization: rawBasicAuthorization(clientId, await readCredential(this.name, 'clientSecret', clientSecret)),
        'content-type': FORM_CONTENT_TYPE,
      },
      body: formBody({ grant_type: 'client_credentials', scope }),
    };
    return grantFrom(this.name, await requestTokenAnswer(ctx, this.name, request, transatelErrorFields));
  }
  credentialsFingerprint(): Promise<string> {
    return credentialsFingerprint([this.#options.clientSecret]);
  }
}

/** The Transatel strategy, for `OAuthModule`'s `providers`. */
export function transatel(options: TransatelOptions): TransatelStrategy {
  return new TransatelStrategy(options);
}

function transatelErrorFields(body: JsonObject): ProviderErrorFields {
  if (body.error !== undefined) return rfc6749ErrorFields(body);
  return { description: stringField(body.detail) ?? stringField(body.title) };
}
