import { fork } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ClientMetadata } from 'oidc-provider';
import { Agent, request } from 'undici';
import type { TestPki } from './transport-rig.js';

/** The resource indicator (RFC 8707) the server knows; its tokens are JWTs with it as `aud`. */
export const OIDC_RESOURCE = 'https://api.example/';

/** PEM files for an HTTPS listener that asks for a client certificate issued by `ca` (RFC 8705 mutual TLS). */
export interface OidcServerTls {
  ca: string;
  cert: string;
  key: string;
}

export interface OidcAuthorizationServer {
  readonly issuer: string;
  readonly tokenUrl: string;
  /** RFC 7662 introspection of `token`, asked by a `client_secret_basic` client: what the server says it issued. */
  introspect(token: string, client: { id: string; secret: string }): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A client registered for the client_credentials grant with the given authentication method. */
export function clientCredentialsClient(
  clientId: string,
  method: NonNullable<ClientMetadata['token_endpoint_auth_method']>,
  extra: Partial<ClientMetadata> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: method,
    scope: 'read',
    ...extra,
  };
}

/** A client secret long enough for HS256 (RFC 7518 §3.2: at least the hash's size). */
export function clientSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** RFC 8705 §3.1: the `x5t#S256` a token bound to this PEM certificate carries in `cnf`. */
export function certificateThumbprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/**
 * node-oidc-provider (https://github.com/panva/node-oidc-provider, a certified OpenID provider) on a
 * loopback port, in its own process (oidc-provider-process.ts): the client_credentials grant, the
 * client authentication methods the library sends (client_secret_basic/post, client_secret_jwt,
 * private_key_jwt with RS256, PS256, ES256, ES384), resource indicators for `OIDC_RESOURCE` and
 * introspection; given `tls`, over HTTPS with `tls_client_auth` and certificate-bound tokens too.
 */
export async function startOidcAuthorizationServer(clients: ClientMetadata[], tls?: OidcServerTls): Promise<OidcAuthorizationServer> {
  const args = [JSON.stringify(clients), ...(tls ? [JSON.stringify(tls)] : [])];
  const child = fork(fileURLToPath(new URL('./oidc-provider-process.ts', import.meta.url)), args, {
    execArgv: ['--import', fileURLToPath(new URL('./ts-register.mjs', import.meta.url))],
    // Its start-up notices (development adapter, runtime) are not the test's business; errors still show.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { issuer } = await new Promise<{ issuer: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { issuer: string }));
    child.once('exit', (code) => reject(new Error(`the authorization server exited (${code}) before listening`)));
  });
  const dispatcher = new Agent(tls ? { connect: { ca: readFileSync(tls.ca) } } : {});
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    introspect: async (token, client) => {
      const answer = await request(`${issuer}/token/introspection`, {
        method: 'POST',
        dispatcher,
        headers: {
          authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }).toString(),
      });
      if (answer.statusCode !== 200) throw new Error(`introspection answered ${answer.statusCode}: ${await answer.body.text()}`);
      return (await answer.body.json()) as Record<string, unknown>;
    },
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      await dispatcher.close();
    },
  };
}

/**
 * The authorization server of the `tls_client_auth` tests, over mutual TLS with `pki`'s server
 * certificate: `bound` is the client whose subject is `pki`'s client certificate's (its tokens bound
 * to that certificate), `other` one registered for another subject, and `introspector` may introspect.
 */
export function startTlsClientAuthServer(
  pki: TestPki,
  clients: { bound: string; other: string },
  introspector: { id: string; secret: string },
): Promise<OidcAuthorizationServer> {
  return startOidcAuthorizationServer(
    [
      clientCredentialsClient(clients.bound, 'tls_client_auth', {
        tls_client_auth_subject_dn: 'CN=gateway-client',
        tls_client_certificate_bound_access_tokens: true,
      }),
      clientCredentialsClient(clients.other, 'tls_client_auth', { tls_client_auth_subject_dn: 'CN=another-client' }),
      clientCredentialsClient(introspector.id, 'client_secret_basic', { client_secret: introspector.secret }),
    ],
    { ca: pki.paths.ca, cert: pki.paths.serverCert, key: pki.paths.serverKey },
  );
}
