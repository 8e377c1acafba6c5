/**
 * A run's AbortSignal and many commands at once: no MaxListenersExceededWarning (Node prints
 * one when an AbortSignal holds more than 10 abort listeners), and aborting still stops them all.
 */
import { expect } from 'chai';
import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../src/connection/local.js';
import { EventBus } from '../../src/engine/events.js';
import { runPlaybook } from '../../src/engine/runner.js';
import { loadInventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';

/** Runs `fn`, returning the process warnings emitted meanwhile (and up to the next turns). */
async function warningsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (w: Error) => seen.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    process.off('warning', onWarning);
  }
  return seen;
}

describe('connection: abort listeners on a shared signal', () => {
  it('12 commands at once on one connection with one signal: no warning, and abort stops them all', async () => {
    const conn = new LocalConnection('localhost');
    const abort = new AbortController();
    const errors: unknown[] = [];
    const warnings = await warningsDuring(async () => {
      const runs = Array.from({ length: 12 }, () => conn.run('sleep 5', { signal: abort.signal }).catch((e) => errors.push(e)));
      await new Promise((r) => setTimeout(r, 100));
      abort.abort(new Error('stop'));
      await Promise.all(runs);
    });
    expect(warnings).to.deep.equal([]);
    expect(errors).to.have.length(12);
  });

  it('the signal holds one listener while commands run and none once they are done', async () => {
    const conn = new LocalConnection('localhost');
    const abort = new AbortController();
    const runs = Array.from({ length: 12 }, () => conn.run('sleep 0.3', { signal: abort.signal }));
    await new Promise((r) => setTimeout(r, 100));
    expect(getEventListeners(abort.signal, 'abort')).to.have.length(1);
    await Promise.all(runs);
    expect(getEventListeners(abort.signal, 'abort')).to.have.length(0);
    expect((await conn.run('echo again', { signal: abort.signal })).stdout).to.equal('again\n');
    expect(getEventListeners(abort.signal, 'abort')).to.have.length(0);
  });

  it('a run of 12 local hosts with a real signal prints no MaxListenersExceededWarning', async function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'tsplay-abort-'));
    try {
      const hosts = Array.from({ length: 12 }, (_, i) => `    h${i + 1}:\n      ansible_connection: local\n`).join('');
      writeFileSync(join(dir, 'inventory.yml'), `all:\n  hosts:\n${hosts}`);
      writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "sleep 0.2"\n    - stat: { path: /etc/hostname }\n    - command: "true"\n');
      const inventory = loadInventory([join(dir, 'inventory.yml')]);
      const { playbook, registry } = await loadPlaybook(join(dir, 'site.yml'), { inventory });
      const abort = new AbortController();
      let failed: unknown;
      const warnings = await warningsDuring(async () => {
        const s = await runPlaybook(playbook, { inventory, registry, bus: new EventBus(), forks: 12, signal: abort.signal });
        failed = s.failed || s.unreachable;
      });
      expect(failed).to.equal(false);
      expect(warnings).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
