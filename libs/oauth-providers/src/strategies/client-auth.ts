// How a client proves who it is to a token endpoint, as values (openid-client's `ClientSecretBasic()`,
// `PrivateKeyJwt(key)`...): a strategy picks one when it is built and calls it at each token request.
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { OAuthConfigurationError } from '../errors/oauth-configuration.error.js';
import {
  credentialUnavailable,
  readCredential,
  requireCredential,
  requireOneOf,
  requireText,
  type Credential,
} from './strategy-options.js';
import { rfc6749BasicAuthorization } from './token-wire.js';

/** How a client proves who it is to a token endpoint (RFC 6749 §2.3, RFC 7523 §2.2, RFC 8705 §2). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'tls_client_auth';
/** The JWS algorithms a `private_key_jwt` assertion may be signed with (RSA, RSA-PSS, ECDSA). */
export type SigningAlg = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** Every `authMethod` the `oauth2` strategy takes, e.g. to check a configuration value. */
export const CLIENT_AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'tls_client_auth',
];
/** Every `signingAlg` the `oauth2` strategy takes for `private_key_jwt`. */
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

/** RFC 7523 §2.2: the value of `client_assertion_type` for a JWT assertion. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Lifetime of an assertion: the authorization server sees it once, within seconds. */
const ASSERTION_TTL_SECONDS = 60;

/** What a client authentication adds to one token request: headers, and form fields for its body. */
export interface ClientCredentials {
  headers: Record<string, string>;
  fields: Record<string, string>;
}

/** Authenticates one token request; rejects with an `OAuthProviderError` when a credential cannot be read. */
export type ClientAuthentication = () => Promise<ClientCredentials>;

export interface ClientAuthOptions {
  clientId: string;
  clientSecret?: Credential;
  privateKey?: Credential;
  signingAlg?: SigningAlg;
  keyId?: string;
  /** The assertion's `aud`: the token URL unless the server wants its issuer. */
  audience: string;
}

/** The chosen method, its options checked now so that a mistake stops start-up (the key's type and curve included). */
export function clientAuthentication(provider: string, method: ClientAuthMethod, options: ClientAuthOptions): ClientAuthentication {
  requireOneOf(provider, 'authMethod', method, CLIENT_AUTH_METHODS);
  if (options.signingAlg !== undefined && method !== 'private_key_jwt')
    throw new OAuthConfigurationError(provider, 'signingAlg', "applies to authMethod 'private_key_jwt' only");
  const { clientId, clientSecret, privateKey } = options;
  if (method.startsWith('client_secret_')) requireCredential(provider, 'clientSecret', clientSecret);
  const withSecret = (credentials: (secret: string) => ClientCredentials | Promise<ClientCredentials>) => async () =>
    credentials(await readCredential(provider, 'clientSecret', clientSecret!));
  switch (method) {
    case 'client_secret_basic':
      return withSecret((secret) => ({ headers: { authorization: rfc6749BasicAuthorization(clientId, secret) }, fields: {} }));
    case 'client_secret_post':
      return withSecret((secret) => ({ headers: {}, fields: { client_id: clientId, client_secret: secret } }));
    case 'client_secret_jwt':
      return withSecret(async (secret) =>
        assertionFields(clientId, await signedAssertion(options, 'HS256', new TextEncoder().encode(secret))),
      );
    case 'private_key_jwt': {
      requireCredential(provider, 'privateKey', privateKey);
      requireOneOf(provider, 'signingAlg', options.signingAlg, SIGNING_ALGS);
      if (options.keyId !== undefined) requireText(provider, 'keyId', options.keyId);
      if (typeof privateKey === 'string') requireSigningKey(provider, privateKey, options.signingAlg);
      return privateKeyJwt(provider, options, privateKey!);
    }
    case 'tls_client_auth':
      // RFC 8705 §2: the certificate presented on the connection authenticates; the body only names the client.
      return () => Promise.resolve({ headers: {}, fields: { client_id: clientId } });
  }
}

function privateKeyJwt(provider: string, options: ClientAuthOptions, privateKey: Credential): ClientAuthentication {
  // A key given as a function is parsed again only when its PEM changes.
  let last: { pem: string; parsed: ParsedKey } | undefined;
  return async () => {
    const pem = await readCredential(provider, 'privateKey', privateKey);
    if (last?.pem !== pem) last = { pem, parsed: parseSigningKey(pem, options.signingAlg) };
    const { parsed } = last;
    if ('problem' in parsed) throw credentialUnavailable(provider, `the privateKey function's key: ${parsed.option} ${parsed.problem}`);
    return assertionFields(options.clientId, await signedAssertion(options, parsed.alg, parsed.key));
  };
}

function assertionFields(clientId: string, assertion: string): ClientCredentials {
  return { headers: {}, fields: { client_id: clientId, client_assertion_type: JWT_BEARER_ASSERTION, client_assertion: assertion } };
}

/** RFC 7523 §3 claims: `iss` = `sub` = the client id, `aud`, a unique `jti`, `iat` and an `exp` a minute later. */
async function signedAssertion(options: ClientAuthOptions, alg: string, key: KeyObject | Uint8Array): Promise<string> {
  const { SignJWT } = await loadJose();
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, ...(options.keyId !== undefined && { kid: options.keyId }) })
    .setIssuer(options.clientId)
    .setSubject(options.clientId)
    .setAudience(options.audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_TTL_SECONDS)
    .sign(key);
}

let jose: Promise<typeof import('jose')> | undefined;

/** `jose` is ESM-only: loaded on the first assertion, so that an app (CommonJS too) using no JWT method never loads it. */
function loadJose(): Promise<typeof import('jose')> {
  return (jose ??= import('jose'));
}

type ParsedKey = { key: KeyObject; alg: SigningAlg } | { option: 'privateKey' | 'signingAlg'; problem: string };

/** `parseSigningKey`'s problem as the configuration error it is when the key is given as a string. */
export function requireSigningKey(provider: string, pem: string, alg: SigningAlg | undefined): void {
  const parsed = parseSigningKey(pem, alg);
  if ('problem' in parsed) throw new OAuthConfigurationError(provider, parsed.option, parsed.problem);
}

/**
 * A PEM private key (PKCS#8, PKCS#1 or SEC1) and the algorithm it signs with: `signingAlg`, which
 * must suit the key, else RS256 for RSA, PS256 for RSA-PSS, ES256/ES384/ES512 for P-256/P-384/P-521;
 * or what is wrong with them, in words that never repeat the key.
 */
function parseSigningKey(pem: string, alg: SigningAlg | undefined): ParsedKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return { option: 'privateKey', problem: 'is not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)' };
  }
  const allowed = algorithmsFor(key);
  if (allowed.length === 0)
    return { option: 'privateKey', problem: 'must be an RSA key of 2048 bits or more, or an EC key on P-256, P-384 or P-521' };
  if (alg !== undefined && !allowed.includes(alg))
    return { option: 'signingAlg', problem: `does not suit the private key (it signs with ${allowed.join(', ')})` };
  return { key, alg: alg ?? allowed[0] };
}

const EC_ALGORITHMS: Record<string, SigningAlg | undefined> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** What the key can sign with, the default first (RFC 7518 §3.1, §3.3, §3.4, §3.5). */
function algorithmsFor(key: KeyObject): SigningAlg[] {
  const details = key.asymmetricKeyDetails ?? {};
  const bits = details.modulusLength ?? 0;
  if (key.asymmetricKeyType === 'rsa' && bits >= 2048) return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  if (key.asymmetricKeyType === 'rsa-pss' && bits >= 2048) return ['PS256', 'PS384', 'PS512'];
  const ec = key.asymmetricKeyType === 'ec' ? EC_ALGORITHMS[details.namedCurve ?? ''] : undefined;
  return ec ? [ec] : [];
}
