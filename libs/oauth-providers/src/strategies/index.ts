// The built-in strategies, each built by its factory (`prio({...})`): the classes stay internal.
export { latamPass } from './latam-pass.strategy.js';
export type { LatamPassOptions } from './latam-pass.strategy.js';
export { transatel } from './transatel.strategy.js';
export type { TransatelOptions } from './transatel.strategy.js';
export { payme } from './payme.strategy.js';
export type { PaymeOptions } from './payme.strategy.js';
export { prio } from './prio.strategy.js';
export type { PrioOptions } from './prio.strategy.js';
export { sabre } from './sabre.strategy.js';
export type { SabreOptions } from './sabre.strategy.js';
export { oauth2 } from './oauth2.strategy.js';
export type { OAuth2Options } from './oauth2.strategy.js';
export { CLIENT_AUTH_METHODS, SIGNING_ALGS } from './client-auth.js';
export type { ClientAuthMethod, SigningAlg } from './client-auth.js';
export type { Credential } from './strategy-options.js';
// A custom strategy's credentials as functions: read each at a request, fingerprint them for the cool-down.
export { readCredential, credentialsFingerprint } from './strategy-options.js';
// What an app's own strategy needs to speak to a token endpoint (see the README's custom strategy).
export {
  requestTokenAnswer,
  readTokenAnswer,
  grantFrom,
  failureKind,
  rfc6749ErrorFields,
  stringField,
  formBody,
  rawBasicAuthorization,
  rfc6749BasicAuthorization,
  strategyIdentity,
  FORM_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
} from './token-wire.js';
export type { TokenAnswer, JsonObject, ProviderErrorFields, ErrorFieldsReader } from './token-wire.js';
