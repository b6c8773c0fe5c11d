/**
 * Processes as Linux's /proc shows them: a process's descendants, and whether a pid still runs
 * (a zombie waiting to be reaped counts as gone).
 */

/** The pids of every process below `pid` (children, their children, ...). */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (!stat) continue;
    const list = parents.get(stat.ppid) ?? [];
    list.push(Number(entry.name));
    parents.set(stat.ppid, list);
  }
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const child of parents.get(parent) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** The command line of `pid`, its arguments joined by spaces ("" when it is gone). */
export function cmdline(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Whether `pid` is a live process (not a zombie). */
export function isRunning(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X";
}

/**
 * The pids of `pids` still running after each has had up to `withinMs` to finish dying: a
 * process sent SIGKILL is gone only once the kernel has torn it down, some milliseconds later
 * (its command line reads empty meanwhile). Polls; returns as soon as none runs.
 */
export async function survivorsOf(pids: readonly number[], withinMs = 3000): Promise<number[]> {
  const deadline = performance.now() + withinMs;
  let running = [...new Set(pids)].filter(isRunning);
  while (running.length > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    running = running.filter(isRunning);
  }
  return running;
}

function readStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const [state = "", ppid = "0"] = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/**
 * Resolves once `ready()` holds, checking it whenever something changes under `folder` (which
 * must exist), and rejects after `timeoutMs`.
 */
export async function whenFiles(
  folder: string,
  ready: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const watcher = Deno.watchFs(folder, { recursive: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    watcher.close();
  }, timeoutMs);
  try {
    if (await ready()) return;
    for await (const _event of watcher) {
      if (await ready()) return;
    }
    throw new Error(`files under ${folder} never got ready in ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    if (!timedOut) watcher.close();
  }
}
