/**
 * How `tsplay lab up` (and `lab run`, `tsplay test`) shows the lab's phases (lab/progress.ts), on
 * stderr: on a terminal (CI unset), one live listr2 row per phase with its elapsed time and what
 * it is doing (`debootstrap  41 s · retrieved 87 packages`), left on screen with its duration;
 * otherwise plain lines, one when a phase starts and one when it ends (updates are not printed).
 * listr2 is loaded only for a terminal.
 */
import chalk from 'chalk';
import type { LabProgress, OnProgress } from '../lab/progress.js';

export interface LabProgressView {
  onProgress: OnProgress;
  /** Ends the rows still running (as failed when `failed`) and waits until all are on screen. */
  close(failed?: boolean): Promise<void>;
}

/** How often a live row's elapsed time and detail are redrawn. */
export const LAB_ROW_TICK_MS = 500;

/** Live rows when `out` is a terminal and CI is unset, plain lines otherwise. */
export function labProgressView(out: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): LabProgressView {
  return out.isTTY && !env.CI ? listrView(out) : plainView(out);
}

/** One line when a phase starts, one when it ends (or failed), one for a phase not needed. */
export function plainView(out: NodeJS.WritableStream = process.stderr): LabProgressView {
  const w = (s: string) => out.write(chalk.dim(s) + '\n');
  const running = new Map<string, number>();
  return {
    onProgress: (p: LabProgress) => {
      if (p.status === 'start') {
        running.set(p.phase, Date.now());
        w(`lab: ${p.phase}...`);
      } else if (p.status === 'done') {
        running.delete(p.phase);
        w(`lab: ${p.phase} done in ${p.seconds.toFixed(1)} s`);
      } else if (p.status === 'skip') w(`lab: ${p.phase}: already done${p.detail ? ` (${p.detail})` : ''}`);
    },
    close: async (failed = false) => {
      for (const [phase, t0] of running) w(`lab: ${phase} ${failed ? 'failed' : 'stopped'} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      running.clear();
    },
  };
}

interface Row {
  phase: string;
  started: number;
  detail?: string;
  end?: { title: string; how: 'done' | 'skip' | 'failed' };
  settle?: () => void;
}

function listrView(out: NodeJS.WriteStream): LabProgressView {
  const listr2 = import('listr2');
  let chain: Promise<unknown> = listr2;
  const rows = new Map<string, Row>();
  const live = (r: Row) => `${r.phase}  ${Math.floor((Date.now() - r.started) / 1000)} s${r.detail ? chalk.dim(` · ${r.detail}`) : ''}`;

  /** Rows are shown one after the other (two listr2 renderers cannot share a screen). */
  const show = (r: Row) => {
    chain = chain.then(async () => {
      const { Listr, DefaultRenderer, ListrLogger, ProcessOutput } = await listr2;
      // Rows go to `out` (stderr: stdout may be a pipe, e.g. `lab run --json`), so the renderer
      // must not fall back because stdout is not a terminal.
      class Renderer extends DefaultRenderer {
        static override nonTTY = true;
      }
      const list = new Listr(
        [
          {
            title: r.end?.how === 'skip' ? r.end.title : live(r),
            task: (_ctx, task) =>
              new Promise<void>((resolve, reject) => {
                const tick = setInterval(() => (task.title = live(r)), LAB_ROW_TICK_MS);
                r.settle = () => {
                  clearInterval(tick);
                  const end = r.end!;
                  if (end.how === 'skip') task.skip(end.title);
                  else task.title = end.title;
                  if (end.how === 'failed') reject(new Error(end.title));
                  else resolve();
                };
                if (r.end) r.settle();
              }),
          },
        ],
        {
          renderer: Renderer,
          registerSignalListeners: false,
          exitOnError: false,
          rendererOptions: { logger: new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(out, out) }), collapseErrors: false, showErrorMessage: false },
        },
      );
      await list.run().catch(() => undefined);
    });
  };

  const end = (r: Row, title: string, how: 'done' | 'skip' | 'failed') => {
    r.end = { title, how };
    r.settle?.();
    rows.delete(r.phase);
  };

  return {
    onProgress: (p: LabProgress) => {
      const now = Date.now();
      if (p.status === 'skip') {
        const r: Row = { phase: p.phase, started: now };
        r.end = { title: `${p.phase}: already done${p.detail ? ` (${p.detail})` : ''}`, how: 'skip' };
        show(r);
        return;
      }
      if (p.status === 'start') {
        const r: Row = { phase: p.phase, started: now };
        rows.set(p.phase, r);
        show(r);
        return;
      }
      const r = rows.get(p.phase);
      if (!r) return;
      if (p.status === 'update') r.detail = p.detail;
      else end(r, `${p.phase}  ${p.seconds.toFixed(1)} s`, 'done');
    },
    close: async (failed = false) => {
      for (const r of [...rows.values()]) end(r, `${r.phase}  ${failed ? 'failed' : 'stopped'} after ${((Date.now() - r.started) / 1000).toFixed(1)} s`, 'failed');
      await chain;
    },
  };
}
