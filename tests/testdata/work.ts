// Compute functions for the tests: each behaves in one way the pool must handle.

export function add(a: number, b: number): number {
  return a + b;
}

export default function hello(name: string): string {
  return `hello ${name}`;
}

export function throws(): never {
  throw new RangeError("this job always fails");
}

export function context(_arg: unknown, context: { output: string; job: string }) {
  return context;
}

/** Says it started on the "taskpool-test" channel, then never finishes. */
export function hangs(key: string): Promise<never> {
  const channel = new BroadcastChannel("taskpool-test");
  channel.postMessage(key);
  channel.close();
  return new Promise(() => {});
}

/** An error thrown outside the call: the Worker itself dies while the job is pending. */
export function dies(): Promise<never> {
  setTimeout(() => {
    throw new Error("uncaught in a timer");
  }, 0);
  return new Promise(() => {});
}

export function notJson(): unknown {
  return () => 1;
}

export const notAFunction = 42;
