/**
 * Temporary folders for tests, removed on dispose: `await using dir = await tempDir()`.
 */

/** A temporary folder that removes itself. */
export interface TempDir extends AsyncDisposable {
  path: string;
  /** Writes a file relative to the folder, creating parents; returns its absolute path. */
  write(relative: string, text: string): Promise<string>;
}

/** Creates a temporary folder. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.makeTempDir({ prefix: "taskpool-test-" });
  return {
    path,
    async write(relative, text) {
      const file = `${path}/${relative}`;
      await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(file, text);
      return file;
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Every file under `folder`, recursively, as text. */
export async function* textsUnder(folder: string): AsyncGenerator<[string, string]> {
  for await (const entry of Deno.readDir(folder)) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) yield* textsUnder(path);
    else if (entry.isFile) yield [path, new TextDecoder().decode(await Deno.readFile(path))];
  }
}
