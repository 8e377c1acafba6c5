/**
 * Progress of slow lab work (image builds, lab up): named phases that start, say what they are
 * doing (`update`: packages fetched, bytes sent, hosts booted) and finish, each with its elapsed
 * seconds, for the CLI to render however it likes (live rows on a terminal, lines otherwise).
 * Without a listener (tests, library use) nothing is printed.
 */

export interface LabProgress {
  /** e.g. `debootstrap`, `import base image`, `start hosts`. */
  phase: string;
  /** `update`: what the running phase is doing now (`detail`); `skip`: the phase was not needed. */
  status: 'start' | 'update' | 'done' | 'skip';
  /** Seconds since the phase started (0 on start and skip). */
  seconds: number;
  /** One line of extra information: what it does now (update), why it was skipped (skip). */
  detail?: string;
}

export type OnProgress = (event: LabProgress) => void;

/** Says what the running phase is doing (one line, replaces the previous one). */
export type Update = (detail: string) => void;

/** Runs `fn` as a named phase, reporting its start, its updates and its duration. */
export async function phase<T>(onProgress: OnProgress | undefined, name: string, fn: (update: Update) => Promise<T>): Promise<T> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  let last: string | undefined;
  const update: Update = (detail) => {
    if (detail === last) return;
    last = detail;
    onProgress?.({ phase: name, status: 'update', seconds: seconds(), detail });
  };
  onProgress?.({ phase: name, status: 'start', seconds: 0 });
  const result = await fn(update);
  onProgress?.({ phase: name, status: 'done', seconds: seconds() });
  return result;
}

export function skipped(onProgress: OnProgress | undefined, name: string, detail?: string): void {
  onProgress?.({ phase: name, status: 'skip', seconds: 0, detail });
}

/** `12.3 MB` */
export function formatBytes(n: number): string {
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} kB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * Reads debootstrap's output line by line and says where it is: `retrieved 45 packages`, then
 * `extracting 12`, `unpacking 30`, `configuring 40` (packages done of each step; debootstrap
 * prints no totals), undefined for lines that change nothing.
 */
export function debootstrapProgress(): (line: string) => string | undefined {
  const counts = { extracting: 0, unpacking: 0, configuring: 0 };
  const retrieved = new Set<string>();
  return (line) => {
    const m = /^I: (Retrieving|Extracting|Unpacking|Configuring) (\S+)/.exec(line.trim());
    if (!m) return /^I: Base system installed/.test(line.trim()) ? 'base system installed' : undefined;
    const [, step, what] = m as unknown as [string, string, string];
    if (step === 'Retrieving') {
      // Index files (InRelease, Packages) are not packages.
      if (/^(InRelease|Release|Packages)$/.test(what) || retrieved.has(what)) return undefined;
      retrieved.add(what);
      return `retrieved ${retrieved.size} packages`;
    }
    // `Unpacking required packages...`, `Configuring the base system...`: a stage, not a package.
    if (/^(required|base|the)$/.test(what)) return `${step.toLowerCase()} the ${what === 'required' ? 'required packages' : 'base system'}`;
    const key = step.toLowerCase() as 'extracting' | 'unpacking' | 'configuring';
    counts[key]++;
    return `${key} ${counts[key]} of ${retrieved.size || '?'} packages`;
  };
}

/**
 * Reads apt-get's output line by line: `fetched 12 of 35 packages`, `unpacking 5 of 35`,
 * `setting up 30 of 35` once the total is known (the `N newly installed` line), `updating package
 * lists` before; undefined for lines that change nothing.
 */
export function aptProgress(): (line: string) => string | undefined {
  let total = 0;
  let fetched = 0;
  let unpacked = 0;
  let setUp = 0;
  return (line) => {
    const l = line.trim();
    const summary = /^(\d+) upgraded, (\d+) newly installed/.exec(l);
    if (summary) {
      total = Number(summary[1]) + Number(summary[2]);
      return `${total} packages to install`;
    }
    if (/^(Get|Hit|Ign):\d+ /.test(l)) {
      if (!total) return 'updating package lists';
      return l.startsWith('Get:') ? `fetched ${++fetched} of ${total} packages` : undefined;
    }
    if (/^Unpacking \S+/.test(l)) return `unpacking ${++unpacked} of ${total || '?'} packages`;
    if (/^Setting up \S+/.test(l)) return `setting up ${++setUp} of ${total || '?'} packages`;
    return undefined;
  };
}

/** An `onLine` for exec.ts that feeds a program's lines to `parse` and its findings to `update`. */
export function follow(parse: (line: string) => string | undefined, update: Update): (line: string) => void {
  return (line) => {
    const d = parse(line);
    if (d) update(d);
  };
}
