import type { Answer, ProviderEmulator } from '../emulator.types.js';
import { basicCredentials, bearerToken, json, mediaType } from '../emulator-wire.js';

/** Every Sabre v3 token error is HTTP 401, `invalid_request` or `invalid_client` (https://developer.sabre.com/docs/rest_apis/session_management/token_create_api/v3). */
function tokenError(error: 'invalid_request' | 'invalid_client', description: string): Answer {
  return json(401, { error, error_description: description });
}

/** Sabre's API gateway (2SG) error format, e.g. `ERR.2SG.GATEWAY.REQUEST_THROTTLED`. */
function gatewayError(status: number, errorCode: string, message: string): Answer {
  const type = status >= 500 ? 'Application' : 'Validation';
  return json(status, { status: 'NotProcessed', type, errorCode, timeStamp: new Date().toISOString(), message });
}

export const sabreEmulator: ProviderEmulator<'sabre'> = {
  tokenPath: '/sabre/v3/auth/token',
  // Seven days, in seconds (https://developer.sabre.com/blog/implementing-rest-oauth-token-v3).
  defaultExpiresIn: 604800,
  tokenShape: { prefix: 'T1RLAQ', suffix: '**' },

  token(req, credentials, issuer) {
    if (req.method !== 'POST') return tokenError('invalid_request', 'HTTP method not allowed');
    if (mediaType(req.headers) !== 'application/x-www-form-urlencoded') {
      return tokenError('invalid_request', 'Incorrect Content-Type. Only application/x-www-form-urlencoded is allowed');
    }
    const basic = basicCredentials(req.headers);
    if (!basic) return tokenError('invalid_client', 'Credentials are missing or the syntax is not correct');
    const form = new URLSearchParams(req.body);
    const grant = form.get('grant_type');
    if (!grant) return tokenError('invalid_request', 'Invalid payload: grant_type must be specified');
    if (grant !== 'password') return tokenError('invalid_request', "Invalid grant type. The only supported type is 'password'");
    const clientOk = basic.id === credentials.clientId && basic.secret === credentials.clientSecret;
    const userOk = form.get('username') === credentials.username && form.get('password') === credentials.password;
    if (!clientOk || !userOk) return tokenError('invalid_client', 'Wrong clientID or clientSecret');
    return json(200, { ...issuer.issue(), token_type: 'bearer' });
  },

  failure(status) {
    if (status === 401) return tokenError('invalid_client', 'Wrong clientID or clientSecret');
    if (status === 429) return gatewayError(429, 'ERR.2SG.GATEWAY.REQUEST_THROTTLED', 'Request throttled');
    return gatewayError(status, 'ERR.2SG.PROVIDER.ERROR', 'Provider error');
  },

  authorizeApi(headers, _credentials, isValidToken) {
    return isValidToken(bearerToken(headers))
      ? undefined
      : gatewayError(401, 'ERR.2SG.SEC.INVALID_CREDENTIALS', 'Authentication data is invalid');
  },
};
