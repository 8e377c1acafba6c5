/** Minimal modules speaking the fake connection's command language, for engine unit tests. */
import { z } from 'zod';
import { change, defineModule, fact, noop, type AnyModule } from '../../src/core/module.js';

/** Ensures a "file" on the fake host has some content. */
export const fakeFile = defineModule({
  name: 'fake_file',
  summary: 'Ensure a fake file has content',
  examples: [{ title: 'x', task: { fake_file: { path: '/a', content: 'x' } } }],
  params: z.object({ path: z.string().describe('path'), content: z.string().describe('content') }),
  probe: (p) => ({ current: fact(`file:${p.path}`, `read ${p.path}`, (o) => (o.code === 0 ? o.stdout : null)) }),
  plan: (p, f: { current: string | null }) =>
    f.current === p.content
      ? noop(`${p.path} is up to date`)
      : change(`write ${p.path}`, [{ kind: 'exec', cmd: `write ${p.path} ${p.content}`, touches: [`file:${p.path}`] }], {
          diffs: [{ path: p.path, before: f.current, after: p.content }],
          assume: { [`file:${p.path}`]: p.content },
        }),
});

/** Runs a fake command; fails on non-zero exit. */
export const fakeRun = defineModule({
  name: 'fake_run',
  summary: 'Run a fake command',
  examples: [{ title: 'x', task: { fake_run: { cmd: 'echo hi' } } }],
  params: z.object({ cmd: z.string().describe('command'), touches: z.array(z.string()).optional().describe('what the command changes (ExecStep.touches)') }),
  freeForm: (cmd) => ({ cmd }),
  plan: (p) => change(`run ${p.cmd}`, [{ kind: 'exec', cmd: p.cmd, touches: p.touches }]),
  result: (_p, _f, r) => ({ stdout: r[0]?.stdout.trimEnd() ?? '', rc: r[0]?.code ?? 0 }),
});

/** Needs a file to exist (for check-mode assumptions). */
export const fakeNeeds = defineModule({
  name: 'fake_needs',
  summary: 'Fail unless a fake file exists',
  examples: [{ title: 'x', task: { fake_needs: { path: '/a' } } }],
  params: z.object({ path: z.string().describe('path') }),
  probe: (p) => ({ current: fact(`file:${p.path}`, `read ${p.path}`, (o) => (o.code === 0 ? o.stdout : null)) }),
  plan: (p, f: { current: string | null }) => (f.current === null ? { failed: true, msg: `${p.path} is missing` } : noop(`${p.path} exists`)),
});

export const FAKE_MODULES: AnyModule[] = [fakeFile, fakeRun, fakeNeeds];
