/**
 * Options that cannot work (an empty client secret, a token URL that does not parse, no `providers`),
 * thrown while the app starts, before any token request: the message names the provider and the
 * option, never the option's value.
 */
export class OAuthConfigurationError extends Error {
  constructor(
    /** The provider whose options are wrong; undefined for the module's own options. */
    readonly provider: string | undefined,
    /** The option at fault, e.g. `clientSecret` or `providers[2]`. */
    readonly option: string,
    problem: string,
  ) {
    super(`${provider === undefined ? 'OAuthModule' : `OAuth provider "${provider}"`}: ${option} ${problem}`);
    this.name = 'OAuthConfigurationError';
  }
}
