/** Access tokens (with their expiry) and refresh tokens one emulated provider has issued. */
export class IssuedTokens {
  private readonly access = new Map<string, number>();
  private readonly refresh = new Set<string>();

  constructor(private readonly now: () => number) {}

  /** Only a positive numeric `expires_in` makes the token expire; any other value lives until revoked. */
  addAccess(token: string, expiresIn: unknown): void {
    const expiresAt = typeof expiresIn === 'number' && expiresIn > 0 ? this.now() + expiresIn * 1000 : Infinity;
    this.access.set(token, expiresAt);
  }

  isValid(token: string | undefined): boolean {
    if (token === undefined) return false;
    const expiresAt = this.access.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt > this.now()) return true;
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
