/**
 * `getAuthorizationHeader('latam')`: the provider's API takes the token in other headers, so an
 * `Authorization` value would be refused there; `getRequestHeaders` gives the headers it wants.
 */
export class NoAuthorizationHeaderError extends Error {
  constructor(readonly provider: string) {
    super(`The API of "${provider}" takes no Authorization header: use getRequestHeaders('${provider}') for the headers it wants`);
    this.name = 'NoAuthorizationHeaderError';
  }
}
