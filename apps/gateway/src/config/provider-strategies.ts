import { latamPass, oauth2, payme, prio, sabre, transatel, type TokenStrategy } from '@oauth-gateway/oauth-providers';
import type { ProviderConfig } from './gateway-config.js';
import { tokenTransport } from './provider-transport.js';

/** The library strategy for one configured provider. */
export function strategyFor(p: ProviderConfig): TokenStrategy {
  const { tokenUrl, clientId, clientSecret } = p;
  const transport = tokenTransport(p.transport);
  switch (p.kind) {
    case 'latam':
      return latamPass({ tokenUrl, clientId, clientSecret, transport, testEnvironment: p.testEnvironment });
    case 'transatel':
      return transatel({ tokenUrl, clientId, clientSecret, transport, scope: p.scope });
    case 'payme':
      return payme({
        tokenUrl,
        clientId,
        clientSecret,
        transport,
        audience: p.audience,
        username: p.username,
        password: p.password,
        scope: p.scope,
        apiVersion: p.apiVersion,
      });
    case 'prio':
      return prio({ tokenUrl, clientId, clientSecret, transport, scope: p.scope });
    case 'sabre':
      return sabre({ tokenUrl, clientId, clientSecret, transport, username: p.username, password: p.password });
    case 'oauth2':
      return oauth2({
        name: p.name,
        tokenUrl,
        clientId,
        clientSecret,
        transport,
        grantType: p.grantType,
        authMethod: p.authMethod,
        username: p.username,
        password: p.password,
        scope: p.scope,
        audience: p.audience,
      });
  }
}
