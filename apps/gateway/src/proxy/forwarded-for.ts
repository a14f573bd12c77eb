import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TrustedProxy } from '../config/gateway-config.js';

/**
 * `TRUSTED_PROXIES` at work, as Express's `trust proxy` does it: a caller's `x-forwarded-for` is
 * believed (kept, appended to) only when the peer it came from is a trusted proxy; from anyone
 * else it is replaced by the peer's address, so nobody can forge the chain a provider sees.
 */
export class ForwardedFor {
  private readonly trusted: BlockList | undefined;

  constructor(proxies: readonly TrustedProxy[]) {
    if (proxies.length === 0) return;
    this.trusted = new BlockList();
    for (const { address, prefix, family } of proxies) this.trusted.addSubnet(address, prefix, family);
  }

  /** The `x-forwarded-for` to send upstream; `keep`: false when the caller's may not be kept whatever its peer. */
  header(req: IncomingMessage, keep = true): string {
    const peer = req.socket.remoteAddress ?? 'unknown';
    const prior = chain(req);
    return keep && prior !== undefined && this.trusts(peer) ? `${prior}, ${peer}` : peer;
  }

  /**
   * The caller's address: the peer's, or, when the peer is a trusted proxy, the nearest address of
   * `x-forwarded-for` (from the right) that is not a trusted proxy; a malformed hop stops the walk.
   */
  clientAddress(req: IncomingMessage): string {
    let address = req.socket.remoteAddress ?? 'unknown';
    const prior = chain(req);
    if (prior === undefined || !this.trusts(address)) return address;
    const hops = prior.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i].trim();
      if (isIP(hop) === 0) return address;
      address = hop;
      if (!this.trusts(hop)) return hop;
    }
    return address;
  }

  private trusts(address: string): boolean {
    if (this.trusted === undefined) return false;
    const version = isIP(address);
    return version !== 0 && this.trusted.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/** The caller's `x-forwarded-for`, its repeated fields joined (RFC 9110 §5.3). */
function chain(req: IncomingMessage): string | undefined {
  const value = req.headers['x-forwarded-for'];
  return Array.isArray(value) ? value.join(', ') : value;
}
