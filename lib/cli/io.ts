/**
 * What a subcommand may touch of the outside world: its output streams and whether they are
 * terminals. `main.ts` builds the real one; tests may build their own.
 *
 * @module
 */

/** The streams and facts a subcommand needs. */
export interface CliIo {
  /** Results: summaries, JSON, schema. */
  stdout(text: string): void;
  /** Logs, progress, errors. */
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress bars, colours). */
  stderrIsTty: boolean;
  /** Colours allowed (a TTY, and NO_COLOR unset). */
  color: boolean;
  /** The terminal's width in columns (80 when it cannot be told). */
  columns?: () => number;
}

/** All of stdin as text. */
export function readStdin(): Promise<string> {
  return new Response(Deno.stdin.readable).text();
}

/** The process's own streams. */
export function processIo(): CliIo {
  const encoder = new TextEncoder();
  const stderrIsTty = Deno.stderr.isTerminal();
  return {
    stdout: (text) => writeAllSync(Deno.stdout, encoder.encode(text)),
    stderr: (text) => writeAllSync(Deno.stderr, encoder.encode(text)),
    stderrIsTty,
    color: stderrIsTty && !Deno.env.get("NO_COLOR"),
    columns: () => {
      try {
        return Deno.consoleSize().columns || 80;
      } catch {
        return 80; // no terminal on any standard stream
      }
    },
  };
}

function writeAllSync(stream: { writeSync(p: Uint8Array): number }, bytes: Uint8Array) {
  let offset = 0;
  while (offset < bytes.byteLength) offset += stream.writeSync(bytes.subarray(offset));
}
