/**
 * Progress of slow lab work (image builds, lab up): named phases that start and finish, each
 * with its elapsed seconds, for the CLI to render however it likes.
 */

export interface LabProgress {
  /** e.g. `debootstrap`, `import base image`, `start web1`. */
  phase: string;
  /** `skip`: the phase was not needed (e.g. the image already exists). */
  status: 'start' | 'done' | 'skip';
  /** Seconds since the phase started (0 on start and skip). */
  seconds: number;
  /** One line of extra information, e.g. the image tag reused. */
  detail?: string;
}

export type OnProgress = (event: LabProgress) => void;

/** Runs `fn` as a named phase, reporting its start and its duration. */
export async function phase<T>(onProgress: OnProgress | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  onProgress?.({ phase: name, status: 'start', seconds: 0 });
  const result = await fn();
  onProgress?.({ phase: name, status: 'done', seconds: (Date.now() - started) / 1000 });
  return result;
}

export function skipped(onProgress: OnProgress | undefined, name: string, detail?: string): void {
  onProgress?.({ phase: name, status: 'skip', seconds: 0, detail });
}
