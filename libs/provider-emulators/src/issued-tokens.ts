/** Access tokens (with their expiry and the account they were issued to) and refresh tokens one emulated provider has issued. */
export class IssuedTokens {
  private readonly access = new Map<string, { expiresAt: number; owner: number }>();
  private readonly refresh = new Set<string>();

  constructor(private readonly now: () => number) {}

  /** Only a positive numeric `expires_in` makes the token expire; any other value lives until revoked. */
  addAccess(token: string, expiresIn: unknown, owner: number): void {
    const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? this.now() + expiresIn * 1000 : Infinity;
    this.access.set(token, { expiresAt, owner });
  }

  /** The index of the account a token was issued to. */
  ownerOf(token: string): number | undefined {
    return this.access.get(token)?.owner;
  }

  /** Whether `token` is live and, when `owner` is given, issued to that account. */
  isValid(token: string | undefined, owner?: number): boolean {
    if (token === undefined) return false;
    const issued = this.access.get(token);
    if (issued === undefined || (owner !== undefined && issued.owner !== owner)) return false;
    if (issued.expiresAt > this.now()) return true;
    this.access.delete(token);
    return false;
  }

  addRefresh(token: string): void {
    this.refresh.add(token);
  }

  hasRefresh(token: string): boolean {
    return this.refresh.has(token);
  }

  revokeAccess(): void {
    this.access.clear();
  }

  revokeRefresh(): void {
    this.refresh.clear();
  }
}
