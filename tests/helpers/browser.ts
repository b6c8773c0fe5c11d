/**
 * Headless Chromium from Debian's packages (/usr/bin/chromium), driven by playwright-core: never
 * a browser download. `await using browser = await openBrowser()`.
 */
import { type Browser, chromium, type Page } from "playwright-core";

/** Where Debian puts chromium (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** A page with the errors its scripts threw. */
export interface OpenedPage {
  page: Page;
  errors: string[];
}

/** A browser that closes itself. */
export interface TestBrowser extends AsyncDisposable {
  /** Opens a file:// page and waits until its script says it is ready (`body[data-ready]`). */
  open(path: string, viewport?: { width: number; height: number }): Promise<OpenedPage>;
}

export async function openBrowser(): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox"], // CI runs as root
  });
  return {
    async open(path, viewport = { width: 1280, height: 800 }) {
      const page = await browser.newPage({ viewport });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      await page.goto(`file://${path}`);
      await page.waitForSelector("body[data-ready]");
      return { page, errors };
    },
    [Symbol.asyncDispose]: () => browser.close(),
  };
}
