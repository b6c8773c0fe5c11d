/**
 * The download kind, whole: `download:` in a job file fetches one URL, or fans out over many,
 * into files under the output folder, on the io pool, admitted per host.
 *
 * @module
 */
import { checkDownloads, expandDownload } from "./expand.ts";
import type { DownloadJob, DownloadResult } from "./job.ts";
import { downloadDefaults, downloadSpec } from "./spec.ts";
import type { KindDefinition } from "../../lib/kind_definition.ts";
import { redactHeaders, redactUrl } from "../../lib/util/secrets.ts";
import { netrcPath } from "./netrc.ts";

/** The URL sources of a `download:`: exactly one of them. */
const SOURCES = ["url", "urls", "urls_from"] as const;

/** The download kind. */
export const download: KindDefinition<DownloadJob, DownloadResult> = {
  name: "download",
  spec: downloadSpec,
  defaults: downloadDefaults,
  pool: "io",
  defaultRetries: 2,
  transfers: true,
  entryRules: {
    fanOut: "use urls: to fan out",
    incremental: "downloads are skipped when their file is current already",
  },
  jsonSchema(schema) {
    schema.oneOf = SOURCES.map((key) => ({ required: [key] }));
  },
  check(value, path, fail) {
    const sources = SOURCES.filter((key) => value[key] !== undefined);
    if (sources.length === 0) {
      fail(path, "must have one of url, urls or urls_from: got none");
    } else if (sources.length > 1) {
      fail([...path, sources[1]!], `must be the only URL source: it also has ${sources[0]}`);
    }
    for (const key of ["sha256", "sha512", "mirrors"] as const) {
      if (value[key] !== undefined && sources.length === 1 && sources[0] !== "url") {
        fail([...path, key], `applies to a single url only: it cannot go with ${sources[0]}`);
      }
    }
    if (value.checksums !== undefined) {
      for (const digest of ["sha256", "sha512"] as const) {
        if (value[digest] !== undefined) {
          fail([...path, digest], "must not go with checksums: the checksum file gives the digest");
        }
      }
    }
  },
  expand: expandDownload,
  checkPlan: checkDownloads,
  writes: (job) => job.path,
  grant(job, grants) {
    grants.hosts.add(hostOf(job.url));
    for (const mirror of job.mirrors ?? []) grants.hosts.add(hostOf(mirror));
    if (job.checksumsUrl !== undefined) grants.hosts.add(hostOf(job.checksumsUrl));
    const netrc = netrcPath();
    if (netrc !== undefined) {
      grants.read.add(netrc.path);
      for (const name of netrc.variables) grants.env.add(name);
    }
  },
  describe(job) {
    const names = Object.entries(redactHeaders(job.headers, job.secretHeaders)).map((
      [name, value],
    ) => `${name}: ${value}`);
    const headers = names.length ? ` [${names.join("; ")}]` : "";
    const mirrors = job.mirrors?.length ? ` (+${job.mirrors.length} mirrors)` : "";
    const segments = (job.segments ?? 1) > 1 ? ` in ${job.segments} segments` : "";
    return `${redactUrl(job.url)}${mirrors} -> ${job.relativePath}${segments}${headers}`;
  },
  shown: (job) => ({
    ...job,
    url: redactUrl(job.url),
    ...(job.mirrors ? { mirrors: job.mirrors.map(redactUrl) } : {}),
    ...(job.checksumsUrl ? { checksumsUrl: redactUrl(job.checksumsUrl) } : {}),
    headers: redactHeaders(job.headers, job.secretHeaders),
  }),
  report(job, outcome) {
    const result = outcome.result as DownloadResult | undefined;
    return {
      url: redactUrl(job.url),
      path: result?.path ?? job.relativePath,
      ...(result?.bytes !== undefined ? { bytes: result.bytes } : {}),
      ...(result?.size !== undefined ? { size: result.size } : {}),
      ...(result?.sha256 !== undefined ? { sha256: result.sha256 } : {}),
      ...(result?.resumedFrom !== undefined ? { resumedFrom: result.resumedFrom } : {}),
      ...(result?.redirects?.length ? { redirects: result.redirects } : {}),
      ...(result?.servedBy !== undefined ? { servedBy: result.servedBy } : {}),
      ...(result?.failedSources?.length ? { failedSources: result.failedSources } : {}),
      ...(result?.segments !== undefined ? { segments: result.segments } : {}),
      ...(Object.keys(job.headers).length > 0
        ? { headers: redactHeaders(job.headers, job.secretHeaders) }
        : {}),
    };
  },
  async create(
    {
      output,
      httpTransport,
      perHost,
      force,
      oneAtATime,
      bandwidth,
      perHostBandwidth,
      perHostIntervalMs,
      sharedOutput,
      fileTaken,
    },
  ) {
    // Loaded only by a run: checking a job file needs none of it.
    const [{ createDownloadKind }, { DownloadState }, http] = await Promise.all([
      import("./download_kind.ts"),
      import("./state.ts"),
      httpTransport(),
    ]);
    const kind = createDownloadKind({
      output,
      http,
      state: await DownloadState.load(output),
      perHost,
      force,
      bandwidth,
      perHostBandwidth,
      perHostIntervalMs,
      netrc: netrcPath()?.path,
      sharedOutput,
      fileTaken,
    });
    return oneAtATime ? { ...kind, pool: "cpu" } : kind;
  },
};

/**
 * Where a URL's host is reached: `host` alone for the scheme's own port (so a redirect from
 * http to https on the same host is allowed), `host:port` for any other.
 */
function hostOf(url: string): string {
  const { hostname, port } = new URL(url);
  return port === "" ? hostname : `${hostname}:${port}`;
}
