import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  OAuthModule,
  OAuthProviderError,
  TokenService,
  UnknownProviderError,
  type AccessToken,
  type TokenObtainedEvent,
} from '@oauth-gateway/oauth-providers';
import type { GatewayConfig } from '../config/gateway-config.js';
import { oauthOptions } from '../config/oauth-options.js';
import { ConfigValidationError, parseGatewayConfig, type Env } from '../config/parse-config.js';
import { sandboxWanted } from '../config/sandbox.js';
import type { CliIo } from './cli-io.js';
import { printGatewayStatus } from './gateway-status.command.js';
import { isoTime } from '../logging/iso-time.js';

export const USAGE = `Usage: npm run -s token -- <command> [provider] [--force]

  status [--gateway URL]  each provider's token state and expiry as the running gateway sees them
                          (GET /tokens with a key allowed *; never a token value, never a token request)
  token <provider>        print a valid access token (like gcloud auth print-access-token)
  header <provider>       print the headers the provider's API wants, as "name: value" lines
  --force                 renew the token instead of reusing a valid one (the shared one too)

Reads the gateway's configuration (environment, ENV_FILE or .env); with Redis configured it
reuses the token the gateway instances share.`;

@Module({})
class TokenCliModule {
  static for(config: GatewayConfig): DynamicModule {
    return {
      module: TokenCliModule,
      // No refresher: a one-shot command renews nothing in the background; and `--force` renews at
      // once, which the gateway's pacing of renewals would otherwise hold back.
      imports: [OAuthModule.forRoot({ ...oauthOptions(config), refresher: { enabled: false }, minRequestIntervalMs: 0 })],
    };
  }
}

interface Command {
  name: 'status' | 'token' | 'header';
  provider?: string;
  force: boolean;
  gateway?: string;
}

/** The command line, or undefined when it is not one this CLI runs. */
function parseCommand(argv: string[]): Command | undefined {
  const force = argv.includes('--force');
  const rest = argv.filter((a) => a !== '--force');
  const at = rest.indexOf('--gateway');
  const gateway = at === -1 ? undefined : rest.splice(at, 2)[1];
  if (at !== -1 && gateway === undefined) return undefined;
  const [name, provider, ...extra] = rest;
  if (extra.length > 0 || rest.some((a) => a.startsWith('--'))) return undefined;
  if (name === 'status' && provider === undefined && !force) return { name, force, gateway };
  if ((name === 'token' || name === 'header') && provider !== undefined && gateway === undefined) return { name, provider, force };
  return undefined;
}

/** Runs one CLI command; resolves with the process exit code (0 ok, 1 failure, 2 usage). */
export async function runTokenCli(argv: string[], env: Env, io: CliIo): Promise<number> {
  if (argv.length === 1 && (argv[0] === 'help' || argv[0] === '--help')) {
    io.out(USAGE);
    return 0;
  }
  const command = parseCommand(argv);
  if (!command) {
    io.err(USAGE);
    return 2;
  }

  let config: GatewayConfig;
  try {
    config = parseGatewayConfig(env, 'cli');
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    io.err('Invalid configuration:');
    error.problems.forEach((p) => io.err(`  ${p}`));
    return 1;
  }
  if (command.name === 'status') return printGatewayStatus(config, env, command.gateway, io);
  if (sandboxWanted(config)) {
    io.err(
      'No provider has credentials: the CLI needs the same provider variables as the gateway (sandbox tokens live only inside a running gateway).',
    );
    return 1;
  }

  const app = await NestFactory.createApplicationContext(TokenCliModule.for(config), { logger: false });
  try {
    const tokens = app.get(TokenService);
    const provider = command.provider!;
    const token = command.force ? await renewed(tokens, provider) : await tokens.getToken(provider);
    if (command.name === 'token') io.out(token.accessToken);
    else for (const [name, value] of Object.entries(tokens.getRequestHeaders(token))) io.out(`${name}: ${value}`);
    io.err(`${provider}: valid until ${isoTime(token.expiresAt)}`);
    return 0;
  } catch (error) {
    io.err(describeFailure(error));
    return 1;
  } finally {
    await app.close();
  }
}

/**
 * A token fresh from the token endpoint. `forceRefresh` alone is not enough with a shared store:
 * the renewal adopts the token the gateways share. So: take the current token, and unless this
 * process just fetched it, invalidate it (in the store too) and ask again.
 */
async function renewed(tokens: TokenService, provider: string): Promise<AccessToken> {
  let source: TokenObtainedEvent['source'] | undefined;
  const onObtained = (event: TokenObtainedEvent) => {
    if (event.provider === provider) source = event.source;
  };
  tokens.events.on('obtained', onObtained);
  try {
    const current = await tokens.getToken(provider);
    if (source === 'provider') return current;
    await tokens.invalidate(provider, current.accessToken);
    return await tokens.getToken(provider);
  } finally {
    tokens.events.off('obtained', onObtained);
  }
}

/** The provider's own message, never a secret (OAuthProviderError descriptions are safe by design). */
export function describeFailure(error: unknown): string {
  if (error instanceof UnknownProviderError) return error.message;
  if (error instanceof OAuthProviderError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.name : 'unknown'}`;
}
