import { STATUS_CODES } from 'node:http';
import type { Answer, ProviderEmulator } from '../emulator.types.js';
import { basicCredentials, bearerToken, json, mediaType, NO_STORE } from '../emulator-wire.js';

const SCOPES = ['CATALOG_PRODUCTS_READ', 'CATALOG_PRODUCTS_READ_TECHNICAL', 'INVENTORY_SUBSCRIPTIONS_READ', 'USER_READ'];

function oauthError(status: number, error: string, description: string): Answer {
  return json(status, { error, error_description: description }, NO_STORE);
}

/** Transatel's APIs (and its gateway's own failures) answer RFC 7807 problem documents. */
function problem(status: number, detail: string, headers: Record<string, string> = {}): Answer {
  const title = STATUS_CODES[status] ?? 'Error';
  return {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
    body: { type: 'about:blank', title, status, detail },
  };
}

export const transatelEmulator: ProviderEmulator<'transatel'> = {
  tokenPath: '/transatel/authentication/api/token',
  defaultExpiresIn: 3600,

  token(req, credentials, issuer) {
    if (req.method !== 'POST') return oauthError(405, 'method_not_allowed', `Request method '${req.method}' not supported`);
    const basic = basicCredentials(req.headers);
    if (!basic) return oauthError(400, 'invalid_request', 'Missing credentials');
    if (basic.id !== credentials.clientId || basic.secret !== credentials.clientSecret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed');
    }
    const form = mediaType(req.headers) === 'application/x-www-form-urlencoded' ? new URLSearchParams(req.body) : new URLSearchParams();
    const grant = form.get('grant_type');
    if (!grant) return oauthError(400, 'invalid_request', 'Missing grant type');
    if (grant !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${grant}`);
    const requested = form.get('scope')?.split(' ').filter(Boolean);
    const unknown = requested?.find((s) => !SCOPES.includes(s));
    if (unknown) return oauthError(400, 'invalid_scope', `Invalid scope: ${unknown}`);
    return json(200, { ...issuer.issue(), token_type: 'bearer', scope: (requested?.length ? requested : SCOPES).join(' ') }, NO_STORE);
  },

  failure(status) {
    return problem(status, 'The service is temporarily unable to handle the request');
  },

  authorizeApi(headers, _credentials, isValidToken) {
    return isValidToken(bearerToken(headers))
      ? undefined
      : problem(401, 'Invalid or expired access token', { 'www-authenticate': 'Bearer' });
  },
};
