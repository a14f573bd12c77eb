import type { ProviderTokenStatus } from '@oauth-gateway/oauth-providers';
import { isoTime as iso } from '../logging/iso-time.js';

/** A provider's token status for `/tokens` and `/health/ready`: times as ISO strings, never a token value. */
export function tokenStatusView(s: ProviderTokenStatus) {
  return {
    provider: s.provider,
    state: s.state,
    valid: s.valid,
    renewing: s.renewing,
    expiresAt: iso(s.expiresAt),
    validUntil: iso(s.validUntil),
    obtainedAt: iso(s.obtainedAt),
    lastRefreshAt: iso(s.lastRefreshAt),
    failingSince: iso(s.failingSince),
    cooldownUntil: iso(s.cooldownUntil),
    circuitOpenUntil: iso(s.circuitOpenUntil),
    hasRefreshToken: s.hasRefreshToken,
    lastError: s.lastError && { ...s.lastError, at: iso(s.lastError.at) },
    store: s.store,
  };
}
