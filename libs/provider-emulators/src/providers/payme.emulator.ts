import type { Answer, ProviderEmulator } from '../emulator.types.js';
import { bearerToken, header, json, mediaType, parseJsonObject } from '../emulator-wire.js';

/** `ALG-API-VERSION` values Pay-me's pages show, older and newer (https://docs.pay-me.com/checkout-web/flex/api-nonce). */
const API_VERSIONS = ['1618440906', '1709847567'];

function status(code: '00' | '01', message: string) {
  return { authorization: { meta: { status: { code, message_ilgn: [{ locale: 'es_PE', value: message }] } } } };
}

/** Pay-me refusals: `success:false` and status code "01", message in `message_ilgn[].value` (https://docs.pay-me.com/en/flex/v1/api-token-de-acceso-mediante-usuario-y-contrasena). */
function refusal(httpStatus: number, message: string): Answer {
  return json(httpStatus, { action: 'authorize', success: false, ...status('01', message) });
}

export const paymeEmulator: ProviderEmulator<'payme'> = {
  tokenPath: '/payme/token',
  defaultExpiresIn: 86400,

  token(req, credentials, issuer) {
    if (req.method !== 'POST') return refusal(405, 'Método no permitido');
    if (mediaType(req.headers) !== 'application/json') return refusal(400, 'Content-Type must be application/json');
    if (!API_VERSIONS.includes(header(req.headers, 'alg-api-version') ?? ''))
      return refusal(400, 'Invalid or missing ALG-API-VERSION header');
    const body = parseJsonObject(req.body);
    if (!body) return refusal(400, 'Malformed JSON body');
    if (body.action !== 'authorize') return refusal(400, 'Invalid action');
    // Pay-me takes the client credentials in the JSON body, never in Basic.
    if (body.client_id !== credentials.clientId || body.client_secret !== credentials.clientSecret) {
      return refusal(401, 'Unauthorized: invalid client_id or client_secret');
    }
    if (body.audience !== credentials.audience) return refusal(400, 'Invalid audience');
    if (typeof body.scope !== 'string' || body.scope.trim() === '') return refusal(400, 'scope is required');
    const scope = body.scope;
    if (body.grant_type === 'password') {
      if (body.username !== credentials.username || body.password !== credentials.password) return refusal(401, 'Wrong email or password.');
    } else if (body.grant_type === 'refresh_token') {
      if (typeof body.refresh_token !== 'string' || !issuer.knowsRefreshToken(body.refresh_token))
        return refusal(401, 'Invalid refresh token');
    } else if (body.grant_type !== 'client_credentials') {
      return refusal(400, 'Unsupported grant_type');
    }
    const { access_token, ...expiry } = issuer.issue();
    // A refresh token only when offline_access was asked for, and none on a refresh: the old one stays valid.
    const refresh =
      body.grant_type !== 'refresh_token' && scope.split(' ').includes('offline_access')
        ? { refresh_token: issuer.issueRefreshToken() }
        : {};
    return json(200, {
      action: 'authorize',
      success: true,
      access_token,
      scope,
      ...refresh,
      ...expiry,
      token_type: 'Bearer',
      ...status('00', 'Access Token creado'),
    });
  },

  failure(httpStatus) {
    return refusal(httpStatus, 'Servicio no disponible, intente nuevamente');
  },

  authorizeApi(headers, _credentials, isValidToken) {
    if (!API_VERSIONS.includes(header(headers, 'alg-api-version') ?? '')) return refusal(400, 'Invalid or missing ALG-API-VERSION header');
    return isValidToken(bearerToken(headers)) ? undefined : refusal(401, 'Token inválido o expirado');
  },
};
