import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { OAuthModule, OAuthProviderError, TokenService, UnknownProviderError } from '@oauth-gateway/oauth-providers';
import type { GatewayConfig } from '../config/gateway-config.js';
import { oauthOptions } from '../config/oauth-options.js';
import { ConfigValidationError, parseGatewayConfig, type Env } from '../config/parse-config.js';
import { sandboxWanted } from '../config/sandbox.js';

export interface CliIo {
  /** The command's result (a token, headers, the status table): the only thing on stdout. */
  out(line: string): void;
  /** Messages for the person at the terminal. */
  err(line: string): void;
}

export const USAGE = `Usage: npm run token -- <command> [provider] [--force]

  status              each provider's token state and expiry (never a token value)
  token <provider>    print a valid access token (like gcloud auth print-access-token)
  header <provider>   print the headers the provider's API wants, as "name: value" lines
  --force             renew the token instead of reusing a valid one

Reads the gateway's configuration (environment and .env); with REDIS_URL set it reuses the
token the gateway instances share.`;

@Module({})
class TokenCliModule {
  static for(config: GatewayConfig): DynamicModule {
    return {
      module: TokenCliModule,
      // No refresher: a one-shot command renews nothing in the background.
      imports: [OAuthModule.forRoot({ ...oauthOptions(config), refresher: { enabled: false } })],
    };
  }
}

/** Runs one CLI command; resolves with the process exit code (0 ok, 1 failure, 2 usage). */
export async function runTokenCli(argv: string[], env: Env, io: CliIo): Promise<number> {
  const force = argv.includes('--force');
  const [command, provider] = argv.filter((a) => a !== '--force');
  if (command === undefined || command === 'help' || command === '--help') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (!['status', 'token', 'header'].includes(command) || (command !== 'status' && !provider)) {
    io.err(USAGE);
    return 2;
  }

  let config: GatewayConfig;
  try {
    config = parseGatewayConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    io.err('Invalid configuration:');
    error.problems.forEach((p) => io.err(`  ${p}`));
    return 1;
  }
  if (sandboxWanted(config)) {
    io.err('No provider has credentials: the CLI needs the same provider variables as the gateway (sandbox tokens live only inside a running gateway).');
    return 1;
  }

  const app = await NestFactory.createApplicationContext(TokenCliModule.for(config), { logger: false });
  try {
    const tokens = app.get(TokenService);
    if (command === 'status') return await printStatus(tokens, force, io);
    const token = await tokens.getToken(provider!, { forceRefresh: force });
    if (command === 'token') io.out(token.accessToken);
    else for (const [name, value] of Object.entries(tokens.requestHeadersFor(token))) io.out(`${name}: ${value}`);
    io.err(`${provider}: valid until ${new Date(token.expiresAt).toISOString()}`);
    return 0;
  } catch (error) {
    io.err(describeFailure(error));
    return 1;
  } finally {
    await app.close();
  }
}

async function printStatus(tokens: TokenService, force: boolean, io: CliIo): Promise<number> {
  const results = await Promise.allSettled(tokens.providers().map((p) => tokens.getToken(p, { forceRefresh: force })));
  const rows = tokens.providers().map((provider, i) => {
    const result = results[i];
    if (result.status === 'fulfilled') {
      const { expiresAt, obtainedAt } = result.value;
      return [provider, 'valid', new Date(expiresAt).toISOString(), `obtained ${new Date(obtainedAt).toISOString()}`];
    }
    return [provider, 'failing', '-', describeFailure(result.reason)];
  });
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length), ['provider', 'state', 'expires'][c].length));
  const line = (cells: string[]) => cells.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]) : cell)).join('  ');
  io.out(line(['provider', 'state', 'expires', 'details']));
  rows.forEach((row) => io.out(line(row)));
  return results.every((r) => r.status === 'fulfilled') ? 0 : 1;
}

/** The provider's own message, never a secret (OAuthProviderError descriptions are safe by design). */
function describeFailure(error: unknown): string {
  if (error instanceof UnknownProviderError) return error.message;
  if (error instanceof OAuthProviderError) return error.message;
  return `unexpected error: ${error instanceof Error ? error.name : 'unknown'}`;
}
