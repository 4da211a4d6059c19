import type { Command } from 'commander';

/** What the command needs of the CLI: a signed token and stdout. */
export interface TokenContext {
  token(): Promise<string>;
  out(text: string): void;
}

/** `acm-cert-export token`: an Authorization header value, for curl. */
export function addTokenCommand(program: Command, cli: TokenContext): void {
  program
    .command('token')
    .description(
      'Print an Authorization header value (valid for the service’s AUTH_MAX_TOKEN_AGE_SECONDS), for curl',
    )
    .action(async () => {
      cli.out(await cli.token());
    });
}
