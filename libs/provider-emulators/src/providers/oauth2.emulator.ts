import type { Answer, ProviderEmulator } from '../emulator.types.js';
import { basicCredentials, bearerToken, formDecode, json, mediaType, NO_STORE } from '../emulator-wire.js';

/** RFC 6749 §5.2 error answer. */
function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): Answer {
  return json(status, { error, error_description: description }, { ...NO_STORE, ...headers });
}

const CHALLENGE = { 'www-authenticate': 'Basic realm="oauth2"' };

/**
 * A strict RFC 6749 authorization server: `client_secret_basic` per §2.3.1 (id and secret
 * form-urlencoded, then base64, so raw Basic with a `%`/`+` secret fails) or `client_secret_post`,
 * never both (§2.3).
 */
export const oauth2Emulator: ProviderEmulator<'oauth2'> = {
  tokenPath: '/oauth2/token',
  defaultExpiresIn: 3600,

  token(req, credentials, issuer) {
    if (req.method !== 'POST') return oauthError(405, 'invalid_request', 'The token endpoint only accepts POST', { allow: 'POST' });
    if (mediaType(req.headers) !== 'application/x-www-form-urlencoded') {
      return oauthError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(req.body);
    const basic = basicCredentials(req.headers);
    if (basic && form.has('client_secret'))
      return oauthError(400, 'invalid_request', 'More than one client authentication method was used');
    const client = basic
      ? { id: formDecode(basic.id), secret: formDecode(basic.secret) }
      : { id: form.get('client_id') ?? undefined, secret: form.get('client_secret') ?? undefined };
    if (client.id === undefined || client.secret === undefined)
      return oauthError(401, 'invalid_client', 'Client authentication missing', CHALLENGE);
    if (client.id !== credentials.clientId || client.secret !== credentials.clientSecret) {
      return oauthError(401, 'invalid_client', 'Client authentication failed', basic ? CHALLENGE : {});
    }
    const grant = form.get('grant_type');
    if (!grant) return oauthError(400, 'invalid_request', 'Missing grant_type');
    if (grant === 'password') {
      if (form.get('username') !== credentials.username || form.get('password') !== credentials.password) {
        return oauthError(400, 'invalid_grant', 'Invalid resource owner credentials');
      }
    } else if (grant !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', `Unsupported grant_type: ${grant}`);
    }
    const scope = form.get('scope');
    return json(200, { ...issuer.issue(), token_type: 'Bearer', ...(scope !== null && { scope }) }, NO_STORE);
  },

  failure(status) {
    if (status === 429 || status === 503) return oauthError(status, 'temporarily_unavailable', 'The server is temporarily unavailable');
    if (status >= 500) return oauthError(status, 'server_error', 'The server encountered an unexpected condition');
    return oauthError(status, status === 401 ? 'invalid_client' : 'invalid_request', 'The request was refused');
  },

  authorizeApi(headers, _credentials, isValidToken) {
    if (isValidToken(bearerToken(headers))) return undefined;
    return json(
      401,
      { error: 'invalid_token', error_description: 'The access token is invalid or expired' },
      {
        'www-authenticate': 'Bearer error="invalid_token"',
      },
    );
  },
};
