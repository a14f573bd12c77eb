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
import { checkedClient, credentialsFingerprint, readCredential, requireUser, type Credential } from './strategy-options.js';

/** What `sabre()` takes. */
export interface SabreOptions {
  /** Default `sabre`. */
  name?: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: Credential;
  /** EPR as `user-group-domain`. */
  username: string;
  password: Credential;
  /** Private CA, client certificate and egress proxy for the token endpoint (default: direct, Node's roots). */
  transport?: TokenTransport;
}

/**
 * Sabre v3 (https://developer.sabre.com/docs/rest_apis/session_management/token_create_api/v3): the
 * password grant with the EPR in the form body and the application's raw Basic. Every token error
 * is HTTP 401: `invalid_request` (a bug in our request) or `invalid_client` (credentials); its
 * gateway throttles with `ERR.2SG.GATEWAY.REQUEST_THROTTLED`. `expires_in` is seconds (604800, as
 * https://developer.sabre.com/docs/read/rest_basics/authentication says), not minutes.
 */
export class SabreStrategy implements TokenStrategy {
  readonly name: string;
  /** The primary grant's `grant_type`, as traces name it. */
  readonly grantType = 'password';
  readonly identity: string;
  readonly transport?: TokenTransport;
  readonly #options: SabreOptions;

  constructor(options: SabreOptions) {
    this.#options = options;
    this.name = checkedClient('sabre', options);
    this.transport = options.transport;
    requireUser(this.name, options);
    this.identity = strategyIdentity(options.tokenUrl, options.clientId, 'password', undefined, options.username);
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { tokenUrl, clientId, clientSecret, username, password } = this.#options;
    const request = {
      url: tokenUrl,
      headers: {
        authorization: rawBasicAuthorization(clientId, await readCredential(this.name, 'clientSecret', clientSecret)),
        'content-type': FORM_CONTENT_TYPE,
      },
      body: formBody({ grant_type: 'password', username, password: await readCredential(this.name, 'password', password) }),
    };
    return grantFrom(this.name, await requestTokenAnswer(ctx, this.name, request, sabreErrorFields));
  }
  credentialsFingerprint(): Promise<string> {
    return credentialsFingerprint([this.#options.clientSecret, this.#options.password]);
  }
}

/** The Sabre strategy, for `OAuthModule`'s `providers`. */
export function sabre(options: SabreOptions): SabreStrategy {
  return new SabreStrategy(options);
}

/** RFC 6749 fields from the token service, `errorCode`/`message` from Sabre's API gateway (2SG). */
function sabreErrorFields(body: JsonObject): ProviderErrorFields {
  if (body.error !== undefined) return rfc6749ErrorFields(body);
  return { code: stringField(body.errorCode), description: stringField(body.message) };
}
