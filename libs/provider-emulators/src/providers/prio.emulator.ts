import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Answer, ProviderEmulator } from '../emulator.types.js';
import { accepts, basicCredentials, bearerToken, header, json, mediaType, parseJsonObject } from '../emulator-wire.js';

/** The catalogue `GET /prio/api/products` answers. */
const PRODUCTS = {
  api_version: 'v3.8',
  data: {
    kind: 'collection',
    items: [
      { product_id: '31822', product_title: 'Louvre Museum: Timed Entry', product_currency_code: 'EUR', product_from_price: '22.00' },
      {
        product_id: '42017',
        product_title: 'Sagrada Família: Fast-Track Ticket',
        product_currency_code: 'EUR',
        product_from_price: '33.80',
      },
    ],
  },
};

const ERROR_URI = 'https://developer.prioticket.com/distributor-api/authentication';

/** Prio's token errors 400/401 are OAuth errors (https://docs.prioticket.com/endpoints/authentication). */
function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): Answer {
  return json(status, { error, error_description: description, error_uri: ERROR_URI }, headers);
}

/** Prio's other errors (405/406/422/429/5xx, and its API's): a code, a reference and a message. */
function referencedError(status: number, message: string, errors: unknown[] = []): Answer {
  const code = (STATUS_CODES[status] ?? 'ERROR').toUpperCase().replace(/[^A-Z]+/g, '_');
  return json(status, { error: code, error_reference: randomUUID(), error_message: message, errors });
}

export const prioEmulator: ProviderEmulator<'prio'> = {
  tokenPath: '/prio/v3.8/distributor/oauth2/token',
  defaultExpiresIn: 3600,

  token(req, credentials, issuer) {
    if (req.method !== 'POST') return referencedError(405, 'The requested method is not allowed for this resource.');
    if (!accepts(req.headers, 'application/json')) return referencedError(406, 'Only application/json responses can be produced.');
    const basic = basicCredentials(req.headers);
    if (!basic || basic.id !== credentials.clientId || basic.secret !== credentials.clientSecret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed', {
        'www-authenticate': 'Basic realm="Prio Distributor API"',
      });
    }
    if (mediaType(req.headers) !== 'application/json')
      return oauthError(400, 'invalid_request', 'The request body must be application/json.');
    const body = parseJsonObject(req.body);
    if (!body) return oauthError(400, 'invalid_request', 'The request body is malformed.');
    if (body.grant_type === undefined) return oauthError(400, 'invalid_request', 'The grant_type parameter is missing.');
    if (body.grant_type !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
    if (body.scope !== undefined && typeof body.scope !== 'string') {
      return referencedError(422, 'The request could not be processed.', [{ field: 'scope', message: 'must be a string' }]);
    }
    return json(200, {
      ...issuer.issue(),
      token_type: 'Bearer',
      scope: body.scope ?? 'https://www.prioticketapis.com/auth/distributor.booking',
    });
  },

  failure(status) {
    if (status === 400) return oauthError(400, 'invalid_request', 'The request is malformed.');
    if (status === 401) return oauthError(401, 'invalid_client', 'Client authentication failed');
    return referencedError(status, status === 429 ? 'Too many requests, please slow down.' : 'An unexpected error occurred.');
  },

  api(method, subPath) {
    return method === 'GET' && subPath === '/products'
      ? { status: 200, headers: { 'content-type': 'application/json' }, body: PRODUCTS }
      : undefined;
  },

  authorizeApi(headers, _credentials, isValidToken) {
    // Prio answers 400 to a call without the header (https://docs.prioticket.com/key-concepts/technical-concepts/authentication).
    if (header(headers, 'authorization') === undefined) return referencedError(400, 'The Authorization header is required.');
    return isValidToken(bearerToken(headers)) ? undefined : referencedError(401, 'The access token is invalid or expired.');
  },
};
