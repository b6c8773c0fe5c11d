/**
 * A terminal screen for tests: applies text with the few controls taskpool's progress display
 * writes (`\r`, `\n`, cursor up `ESC[nA`, erase down `ESC[J`, erase line `ESC[2K`, colours
 * `ESC[..m`) and tells what a person would see.
 */
export class Screen {
  #lines: string[] = [""];
  #row = 0;
  #column = 0;

  write(text: string): void {
    // deno-lint-ignore no-control-regex -- ANSI escapes are what it reads
    const pattern = /\x1b\[(\d*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/g;
    for (const [token, count, command] of text.matchAll(pattern)) {
      if (token === "\r") this.#column = 0;
      else if (token === "\n") {
        this.#row++;
        this.#column = 0;
        while (this.#lines.length <= this.#row) this.#lines.push("");
      } else if (command === "A") this.#row = Math.max(0, this.#row - Number(count || 1));
      else if (command === "J") {
        this.#lines[this.#row] = this.#lines[this.#row]!.slice(0, this.#column);
        this.#lines.length = this.#row + 1;
      } else if (command === "K") this.#lines[this.#row] = "";
      else if (command === "m") continue;
      else if (command) throw new Error(`unexpected control ESC[${count}${command}`);
      else {
        const line = this.#lines[this.#row]!.padEnd(this.#column);
        this.#lines[this.#row] = line.slice(0, this.#column) + token +
          line.slice(this.#column + token.length);
        this.#column += token.length;
      }
    }
  }

  /** The screen's lines, trailing empty ones dropped. */
  get lines(): string[] {
    const lines = [...this.#lines];
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines;
  }
}
