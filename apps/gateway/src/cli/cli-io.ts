/** Where a command-line tool writes, so that tests read what it printed. */
export interface CliIo {
  /** The command's result (a token, headers, the status table): the only thing on stdout. */
  out(line: string): void;
  /** Messages for the person at the terminal. */
  err(line: string): void;
}
