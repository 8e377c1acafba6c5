/**
 * Lab names to Docker names: two different (lab, host) pairs never give one container name,
 * whatever dashes they hold, and a name given with --name is checked like a spec's.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/core/errors.js';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { containerName, networkName, parseContainerName, runArgs } from '../../src/lab/container.js';
import { tryRun } from '../../src/lab/exec.js';
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import { checkLabName, validateLabSpec } from '../../src/lab/spec.js';

describe('lab names to container and network names', () => {
  it('lab "a" host "b-c" and lab "a-b" host "c" get different containers (both were tsplay-a-b-c)', () => {
    expect(containerName('a', 'b-c')).to.equal('tsplay-a.b-c');
    expect(containerName('a-b', 'c')).to.equal('tsplay-a-b.c');
  });

  it('is injective over valid names: every container name parses back to its own lab and host', () => {
    const labs = ['a', 'a-b', 'a-b-c', 'ab', 'a_b', 'a--b', 'web', 'web-1', '0', 'x-'];
    const hosts = ['c', 'b-c', 'web1', 'web-1', '1', 'b-c-d', 'a-b', 'x0'];
    const seen = new Map<string, string>();
    for (const lab of labs) {
      validateLabSpec({ name: lab, hosts: [{ name: 'h' }] }); // every pair below is a valid one
      for (const host of hosts) {
        validateLabSpec({ name: lab, hosts: [{ name: host }] });
        const name = containerName(lab, host);
        const pair = `${lab} / ${host}`;
        expect(seen.get(name), `${pair} collides`).to.equal(undefined);
        seen.set(name, pair);
        expect(parseContainerName(name)).to.deep.equal({ lab, host });
      }
    }
    expect(seen.size).to.equal(labs.length * hosts.length);
    // Networks: one per lab, the lab's name.
    expect(new Set(labs.map(networkName)).size).to.equal(labs.length);
  });

  it('names made the old way (tsplay-<lab>-<host>) and other containers do not parse as lab containers', () => {
    expect(parseContainerName('tsplay-a-b-c')).to.equal(undefined);
    expect(parseContainerName('tsplay-lab-build-base-123')).to.equal(undefined);
    expect(parseContainerName('web.1')).to.equal(undefined);
  });

  it('docker run gets the new name; the lab and host stay in labels (how containers are found)', () => {
    const args = runArgs('a-b', 'c', 'base', 'tsplay-lab:base-x');
    expect(args.slice(args.indexOf('--name'), args.indexOf('--name') + 2)).to.deep.equal(['--name', 'tsplay-a-b.c']);
    expect(args).to.include('tsplay.lab=a-b').and.to.include('tsplay.host=c').and.to.include('tsplay-a-b');
  });

  it('neither a lab name nor a host name can hold the separator', () => {
    expect(() => validateLabSpec({ name: 'a.b', hosts: [{ name: 'c' }] })).to.throw(UserError, /lab name/);
    expect(() => validateLabSpec({ name: 'a', hosts: [{ name: 'b.c' }] })).to.throw(UserError, /host name/);
  });

  it('--name with a spec is checked as a lab name, with a one-line reason', () => {
    expect(checkLabName('demo-2')).to.equal('demo-2');
    expect(() => checkLabName('a.b')).to.throw(UserError, /--name: "a.b" is not a lab name: a lab name is up to 40 lowercase letters/);
    expect(() => checkLabName('Demo')).to.throw(UserError, /not a lab name/);
  });
});

describe('lab names on the Docker engine (containers created, never started)', function () {
  this.timeout(120_000);
  const lab = `names-${process.pid}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'tsplay-names-'));
  const docker = (...args: string[]) => tryRun('docker', args);
  before(async function () {
    if ((await docker('image', 'inspect', BUSYBOX_IMAGE).catch(() => ({ code: 1 }))).code !== 0) this.skip();
  });
  after(async () => {
    await docker('rm', '-f', `tsplay-${lab}-web-1`, `tsplay-${lab}-other`);
    await docker('network', 'rm', `tsplay-${lab}`, `tsplay-${lab}-foreign`);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('lab down takes down a lab brought up with the old names (tsplay-<lab>-<host>): containers are found by label', async () => {
    expect((await docker('network', 'create', '--label', `tsplay.lab=${lab}`, `tsplay-${lab}`)).code).to.equal(0);
    const old = `tsplay-${lab}-web-1`;
    const created = await docker('create', '--name', old, '--label', `tsplay.lab=${lab}`, '--label', 'tsplay.host=web-1', '--network', `tsplay-${lab}`, BUSYBOX_IMAGE);
    expect(created.code, created.stderr).to.equal(0);
    expect((await labStatus()).find((l) => l.name === lab)?.hosts.map((h) => [h.name, h.container])).to.deep.equal([['web-1', old]]);
    const down = await labDown(lab, { stateDir });
    expect(down.removed).to.deep.equal([`container ${old}`, `network tsplay-${lab}`]);
    expect((await docker('container', 'inspect', old)).code).to.not.equal(0);
  });

  it('a network tsplay-<lab> that is not the lab\'s: lab up refuses with a clear message, lab down leaves it', async () => {
    const foreign = `${lab}-foreign`;
    expect((await docker('network', 'create', `tsplay-${foreign}`)).code).to.equal(0);
    const spec = validateLabSpec({ name: foreign, hosts: [{ name: 'h1' }] });
    const err = await labUp(spec, { stateDir }).then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(UserError);
    expect(err!.message).to.equal(`error: a Docker network named tsplay-${foreign} exists and is not lab "${foreign}"'s: remove it or choose another lab name`);
    expect((await docker('ps', '-aq', '--filter', `label=tsplay.lab=${foreign}`)).stdout.trim()).to.equal('');
    await labDown(foreign, { stateDir });
    expect((await docker('network', 'inspect', `tsplay-${foreign}`)).code, 'left in place').to.equal(0);
  });
});
