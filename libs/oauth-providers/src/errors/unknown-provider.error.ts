/** `getToken('nope')`: no strategy of that name is registered. */
export class UnknownProviderError extends Error {
  constructor(readonly provider: string) {
    super(`No OAuth provider named "${provider}" is registered`);
    this.name = 'UnknownProviderError';
  }
}
