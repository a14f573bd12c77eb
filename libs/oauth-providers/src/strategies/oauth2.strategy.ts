import type { TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import {
  FORM_CONTENT_TYPE,
  formBody,
  grantFrom,
  JSON_CONTENT_TYPE,
  requestTokenAnswer,
  rfc6749BasicAuthorization,
  rfc6749ErrorFields,
  strategyIdentity,
} from './token-wire.js';
import { requireClientOptions, requireOneOf, requireText } from './strategy-options.js';

/** What `oauth2()` takes: any RFC 6749 token endpoint, with the name the app calls it by. */
export interface OAuth2Options {
  name: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default `client_credentials`; `password` needs `username` and `password`. */
  grantType?: 'client_credentials' | 'password';
  username?: string;
  password?: string;
  /** Default `client_secret_basic` (RFC 6749 §2.3.1); `client_secret_post` sends them in the body. */
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  scope?: string;
  audience?: string;
}

const GRANT_TYPES: ReadonlyArray<NonNullable<OAuth2Options['grantType']>> = ['client_credentials', 'password'];
const AUTH_METHODS: ReadonlyArray<NonNullable<OAuth2Options['authMethod']>> = ['client_secret_basic', 'client_secret_post'];

/**
 * Any RFC 6749 authorization server. Unlike the five built-in providers, it follows the RFC to the
 * letter: `client_secret_basic` form-urlencodes id and secret before base64 (§2.3.1),
 * `client_secret_post` sends them as body fields, errors are §5.2 `{"error","error_description"}`.
 */
export class OAuth2Strategy implements TokenStrategy {
  readonly name: string;
  readonly identity: string;
  readonly #options: OAuth2Options;
  readonly #grantType: 'client_credentials' | 'password';

  constructor(options: OAuth2Options) {
    requireText('oauth2', 'name', options.name);
    requireClientOptions(options.name, options);
    requireOneOf(options.name, 'grantType', options.grantType, GRANT_TYPES);
    requireOneOf(options.name, 'authMethod', options.authMethod, AUTH_METHODS);
    this.#grantType = options.grantType ?? 'client_credentials';
    if (this.#grantType === 'password') {
      requireText(options.name, 'username', options.username);
      requireText(options.name, 'password', options.password);
    }
    this.#options = options;
    this.name = options.name;
    this.identity = strategyIdentity(
      options.tokenUrl,
      options.clientId,
      this.#grantType,
      options.scope,
      this.#grantType === 'password' ? options.username : undefined,
      options.audience,
    );
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { tokenUrl, clientId, clientSecret, username, password, scope, audience } = this.#options;
    const post = this.#options.authMethod === 'client_secret_post';
    const request = {
      url: tokenUrl,
      headers: {
        ...(!post && { authorization: rfc6749BasicAuthorization(clientId, clientSecret) }),
        'content-type': FORM_CONTENT_TYPE,
        accept: JSON_CONTENT_TYPE,
      },
      body: formBody({
        grant_type: this.#grantType,
        ...(this.#grantType === 'password' && { username, password }),
        scope,
        audience,
        ...(post && { client_id: clientId, client_secret: clientSecret }),
      }),
    };
    return grantFrom(this.name, await requestTokenAnswer(ctx, this.name, request, rfc6749ErrorFields));
  }
}

/** A strategy for any RFC 6749 client-credentials (or password) token endpoint, for `OAuthModule`'s `providers`. */
export function oauth2(options: OAuth2Options): OAuth2Strategy {
  return new OAuth2Strategy(options);
}
