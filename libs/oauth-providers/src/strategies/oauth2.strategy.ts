import type { TokenGrant } from '../interfaces/access-token.interface.js';
import type { TokenRequestContext, TokenStrategy } from '../interfaces/token-strategy.interface.js';
import { clientAuthentication, type ClientAuthentication, type ClientAuthMethod, type SigningAlg } from './client-auth.js';
import type { TokenTransport } from '../interfaces/token-transport.interface.js';
import {
  FORM_CONTENT_TYPE,
  formBody,
  grantFrom,
  JSON_CONTENT_TYPE,
  requestTokenAnswer,
  rfc6749ErrorFields,
  strategyIdentity,
} from './token-wire.js';
import {
  credentialsFingerprint,
  readCredential,
  requireUser,
  requireOneOf,
  requireResource,
  requireText,
  requireTokenUrl,
  requireTransport,
  type Credential,
} from './strategy-options.js';

/** What `oauth2()` takes: any RFC 6749 token endpoint, with the name the app calls it by. */
export interface OAuth2Options {
  name: string;
  tokenUrl: string;
  clientId: string;
  /** For the `client_secret_*` methods; a function is read at each token request (rotation). */
  clientSecret?: Credential;
  /** Default `client_credentials`; `password` needs `username` and `password`. */
  grantType?: 'client_credentials' | 'password';
  username?: string;
  password?: Credential;
  /**
   * Default `client_secret_basic` (RFC 6749 §2.3.1); `client_secret_post` sends id and secret in the
   * body; `client_secret_jwt` and `private_key_jwt` send a JWT assertion (RFC 7523 §2.2, OpenID
   * Connect Core §9) signed with the secret (HS256) or `privateKey`; `tls_client_auth` (RFC 8705 §2)
   * sends only `client_id`, the client certificate of the connection authenticating.
   */
  authMethod?: ClientAuthMethod;
  /** `private_key_jwt`: a PEM private key (PKCS#8, PKCS#1 or SEC1; RSA or EC P-256/P-384/P-521). */
  privateKey?: Credential;
  /** `private_key_jwt`: default RS256 for RSA keys, ES256 for P-256, ES384 for P-384, ES512 for P-521. */
  signingAlg?: SigningAlg;
  /** `private_key_jwt`: the assertion header's `kid`, for servers that hold several of the client's keys. */
  keyId?: string;
  /** The assertions' `aud`; default the token URL (some servers want their issuer identifier). */
  assertionAudience?: string;
  scope?: string;
  audience?: string;
  /** RFC 8707 resource indicator: the absolute URI of the API the token is for. */
  resource?: string;
  /** Private CA, client certificate and egress proxy for the token endpoint (default: direct, Node's roots). */
  transport?: TokenTransport;
}

const GRANT_TYPES: ReadonlyArray<NonNullable<OAuth2Options['grantType']>> = ['client_credentials', 'password'];

/**
 * Any RFC 6749 authorization server. Unlike the five built-in providers, it follows the RFC to the
 * letter: `client_secret_basic` form-urlencodes id and secret before base64 (§2.3.1),
 * `client_secret_post` sends them as body fields, errors are §5.2 `{"error","error_description"}`.
 */
export class OAuth2Strategy implements TokenStrategy {
  readonly name: string;
  /** The primary grant's `grant_type`, as traces name it. */
  get grantType(): string {
    return this.#grantType;
  }
  readonly identity: string;
  readonly transport?: TokenTransport;
  readonly #options: OAuth2Options;
  readonly #grantType: 'client_credentials' | 'password';
  readonly #authenticate: ClientAuthentication;

  constructor(options: OAuth2Options) {
    requireText('oauth2', 'name', options.name);
    const { name } = options;
    requireTokenUrl(name, options.tokenUrl);
    requireText(name, 'clientId', options.clientId);
    requireOneOf(name, 'grantType', options.grantType, GRANT_TYPES);
    requireTransport(name, options.transport);
    this.transport = options.transport;
    this.#grantType = options.grantType ?? 'client_credentials';
    if (this.#grantType === 'password') {
      requireUser(name, options);
    }
    if (options.assertionAudience !== undefined) requireText(name, 'assertionAudience', options.assertionAudience);
    if (options.resource !== undefined) requireResource(name, options.resource);
    const authMethod = options.authMethod ?? 'client_secret_basic';
    this.#authenticate = clientAuthentication(name, authMethod, { ...options, audience: options.assertionAudience ?? options.tokenUrl });
    this.#options = options;
    this.name = name;
    this.identity = strategyIdentity(
      options.tokenUrl,
      options.clientId,
      this.#grantType,
      options.scope,
      this.#grantType === 'password' ? options.username : undefined,
      options.audience,
      options.resource,
      authMethod,
    );
  }

  async requestToken(ctx: TokenRequestContext): Promise<TokenGrant> {
    const { tokenUrl, username, password, scope, audience, resource } = this.#options;
    const client = await this.#authenticate();
    const request = {
      url: tokenUrl,
      headers: { ...client.headers, 'content-type': FORM_CONTENT_TYPE, accept: JSON_CONTENT_TYPE },
      body: formBody({
        grant_type: this.#grantType,
        ...(this.#grantType === 'password' && { username, password: await readCredential(this.name, 'password', password!) }),
        scope,
        audience,
        resource,
        ...client.fields,
      }),
    };
    return grantFrom(this.name, await requestTokenAnswer(ctx, this.name, request, rfc6749ErrorFields));
  }

  credentialsFingerprint(): Promise<string> {
    const { clientSecret, password, privateKey } = this.#options;
    // The client certificate authenticates too (tls_client_auth, or an endpoint that checks it): a rotated one ends a cool-down.
    return credentialsFingerprint([clientSecret, password, privateKey, this.transport?.cert]);
  }
}

/** A strategy for any RFC 6749 client-credentials (or password) token endpoint, for `OAuthModule`'s `providers`. */
export function oauth2(options: OAuth2Options): OAuth2Strategy {
  return new OAuth2Strategy(options);
}
