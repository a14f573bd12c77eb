import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { ClientMetadata } from 'oidc-provider';

/** The resource indicator (RFC 8707) the server knows; its tokens are JWTs with it as `aud`. */
export const OIDC_RESOURCE = 'https://api.example/';

export interface OidcAuthorizationServer {
  readonly issuer: string;
  readonly tokenUrl: string;
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

/**
 * node-oidc-provider (https://github.com/panva/node-oidc-provider, a certified OpenID provider) on a
 * loopback port, in its own process (oidc-provider-process.ts): the client_credentials grant, the
 * client authentication methods the library sends (client_secret_basic/post, client_secret_jwt,
 * private_key_jwt with RS256, PS256, ES256, ES384), and resource indicators for `OIDC_RESOURCE`.
 */
export async function startOidcAuthorizationServer(clients: ClientMetadata[]): Promise<OidcAuthorizationServer> {
  const child = fork(fileURLToPath(new URL('./oidc-provider-process.ts', import.meta.url)), [JSON.stringify(clients)], {
    execArgv: ['--import', fileURLToPath(new URL('./ts-register.mjs', import.meta.url))],
    // Its start-up notices (development adapter, runtime) are not the test's business; errors still show.
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const { issuer } = await new Promise<{ issuer: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { issuer: string }));
    child.once('exit', (code) => reject(new Error(`the authorization server exited (${code}) before listening`)));
  });
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    close: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
