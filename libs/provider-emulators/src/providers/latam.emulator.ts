import { STATUS_CODES } from 'node:http';
import type { Answer, ProviderEmulator } from '../emulator.types.js';
import { basicCredentials, header, json, mediaType } from '../emulator-wire.js';

/** LATAM's error envelope, HTTP 400 for bad id, bad secret and bad grant alike (https://portal.api.latampass.com/en/docs/bhuxke6asybn80icgmqelnir). */
function failure(status: number, message: string, type = 'INVALID'): Answer {
  return json(status, { result: 'failure', errors: [{ type, message }], status });
}

export const latamEmulator: ProviderEmulator<'latam'> = {
  tokenPath: '/latam/oauth/access-token',
  defaultExpiresIn: 3600,

  token(req, credentials, issuer) {
    if (req.method !== 'POST') return failure(405, 'Method not allowed');
    const basic = basicCredentials(req.headers);
    // `client_id` is mandatory on every LATAM request, the token call included.
    if (!basic || basic.id !== credentials.clientId || header(req.headers, 'client_id') !== credentials.clientId) {
      return failure(400, 'Invalid client_id in Authorization header');
    }
    if (basic.secret !== credentials.clientSecret) return failure(400, 'Invalid secret in Authorization header');
    const form = mediaType(req.headers) === 'application/x-www-form-urlencoded' ? new URLSearchParams(req.body) : undefined;
    if (form?.get('grant_type') !== 'client_credentials') return failure(400, 'Invalid grant_type format');
    // Only access_token and expires_in, as LATAM answers: no token_type.
    return json(200, issuer.issue());
  },

  failure(status) {
    return failure(status, STATUS_CODES[status] ?? 'Error', status === 429 ? 'TOO_MANY_REQUESTS' : 'INTERNAL_ERROR');
  },

  authorizeApi(headers, credentials, isValidToken) {
    // LATAM APIs take the token in an `access_token` header; Authorization is not theirs to read.
    if (header(headers, 'authorization') !== undefined) {
      return failure(401, 'Authorization header is not accepted: send client_id and access_token', 'UNAUTHORIZED');
    }
    if (header(headers, 'client_id') !== credentials.clientId) return failure(401, 'Invalid client_id', 'UNAUTHORIZED');
    if (!isValidToken(header(headers, 'access_token'))) return failure(401, 'Invalid or expired access_token', 'UNAUTHORIZED');
    return undefined;
  },
};
