/**
 * A real terminal for tests: a tmux server of the test's own with one pane, read with
 * `capture-pane`.
 */

const SCREEN_DEADLINE_MS = 30_000;

/** A tmux server of the test's own, with one 100×30 pane. */
export function tmux(socket: string) {
  const run = async (...args: string[]) => {
    const { code, stdout, stderr } = await new Deno.Command("tmux", {
      args: ["-L", socket, "-f", "/dev/null", ...args],
      stdin: "null",
    }).output();
    const decoder = new TextDecoder();
    if (code !== 0) throw new Error(`tmux ${args[0]}: ${decoder.decode(stderr)}`);
    return decoder.decode(stdout);
  };
  const screen = async () => (await run("capture-pane", "-p", "-t", "main")).trimEnd();
  return {
    run,
    screen,
    /** The screen once `seen` holds for it; checked each 50 ms until the deadline. */
    async screenWhen(seen: (text: string) => boolean): Promise<string> {
      const deadline = Date.now() + SCREEN_DEADLINE_MS;
      for (;;) {
        const text = await screen();
        if (seen(text)) return text;
        if (Date.now() > deadline) throw new Error(`the screen never showed it:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    [Symbol.asyncDispose]: () => run("kill-server").then(() => {}, () => {}),
  };
}
