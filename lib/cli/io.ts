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
    stdout: whileOpen(Deno.stdout, encoder),
    stderr: whileOpen(Deno.stderr, encoder),
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

/**
 * Writes to `stream` until a write fails: a reader that has gone (`| head`, a broken pipe) or a
 * terminal that was closed (EIO after a hang-up). Then the rest is dropped, and the run goes on to
 * its report: a lost log must not stop it halfway, or leave it waiting on a write that threw.
 */
function whileOpen(
  stream: { writeSync(p: Uint8Array): number },
  encoder: TextEncoder,
): (text: string) => void {
  let open = true;
  return (text) => {
    if (!open) return;
    const bytes = encoder.encode(text);
    try {
      let offset = 0;
      while (offset < bytes.byteLength) offset += stream.writeSync(bytes.subarray(offset));
    } catch {
      open = false;
    }
  };
}
