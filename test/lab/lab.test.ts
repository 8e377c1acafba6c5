/**
 * End to end: one real lab (a plain host and a docker-flavor host) on the local Docker engine,
 * brought up once in `before` and shared by every test; the last tests shrink it and take it down.
 * Slow on a fresh machine (builds the images: ~1 min), seconds once the images exist.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BUSYBOX_IMAGE } from '../../src/lab/busybox.js';
import { tryRun } from '../../src/lab/exec.js';
import { containerName } from '../../src/lab/container.js';
import { ensureImage } from '../../src/lab/image.js';
import { labDown, labSshArgs, labStatus, labUp, loadImageIntoHost, type LabUpResult } from '../../src/lab/lab.js';
import { ensurePrerequisites } from '../../src/lab/prerequisites.js';
import type { LabProgress } from '../../src/lab/progress.js';
import { validateLabSpec } from '../../src/lab/spec.js';

// One lab per test process, so that two runs on one engine do not share containers.
const spec = validateLabSpec({
  name: `test-${process.pid}`,
  hosts: [
    { name: 'web1', groups: ['web'] },
    { name: 'dock1', groups: ['engines'], docker: true, images: ['tsplay/busybox'] },
  ],
});

describe('lab (end to end, local Docker engine)', function () {
  this.timeout(5 * 60_000);
  const stateDir = mkdtempSync(join(tmpdir(), 'tsplay-lab-state-'));
  let up: LabUpResult;
  const upEvents: LabProgress[] = [];
  const ipOf = (host: string) => up.hosts.find((h) => h.name === host)!.ip;

  /** Runs `command` on a lab host through OpenSSH with the lab's own key and known_hosts. */
  async function ssh(host: string, command: string, extra: string[] = []) {
    const [bin, ...args] = await labSshArgs(spec.name, host, { stateDir });
    return tryRun(bin!, ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', ...extra, ...args, command], { timeoutMs: 120_000 });
  }

  before(async function () {
    this.timeout(30 * 60_000);
    await ensurePrerequisites({ install: true });
    const started = Date.now();
    const built: string[] = [];
    up = await labUp(spec, {
      stateDir,
      onProgress: (e: LabProgress) => {
        upEvents.push(e);
        if (e.status === 'done') built.push(`${e.phase} ${e.seconds.toFixed(1)}s`);
      },
    });
    console.log(`      lab up: ${((Date.now() - started) / 1000).toFixed(1)}s (${built.join(', ')})`);
  });

  after(async function () {
    this.timeout(2 * 60_000);
    await labDown(spec.name, { stateDir });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reuses built images by recipe hash without rebuilding', async () => {
    const events: LabProgress[] = [];
    const started = Date.now();
    const image = await ensureImage({ flavor: 'docker', onProgress: (e) => events.push(e) });
    expect(Date.now() - started).to.be.lessThan(3000);
    expect(image.built).to.equal(false);
    expect(image.tag).to.match(/^tsplay-lab:docker-[0-9a-f]{12}$/);
    expect(events.map((e) => e.status)).to.deep.equal(['skip']);
    const running = (await tryRun('docker', ['inspect', '--format', '{{.Config.Image}}', containerName(spec.name, 'dock1')])).stdout.trim();
    expect(running).to.equal(image.tag);
  });

  it('loads the images of the spec into the docker host, as a progress step', async () => {
    const id = (await tryRun('docker', ['image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE])).stdout.trim();
    expect(up.images).to.deep.equal([{ host: 'dock1', image: BUSYBOX_IMAGE, id, loaded: true }]);
    expect(up.changes).to.include(`loaded ${BUSYBOX_IMAGE} into dock1`);
    const step = `load ${BUSYBOX_IMAGE} into dock1`;
    const events = upEvents.filter((e) => e.phase === step);
    expect(events.map((e) => e.status).filter((s) => s !== 'update')).to.deep.equal(['start', 'done']);
    // What it is doing meanwhile: the image's layers and the bytes sent so far.
    expect(events.filter((e) => e.status === 'update').at(-1)?.detail).to.match(/^\d+ layers?, [\d.]+ [kM]B of ~[\d.]+ [kM]B sent$/);
    const inHost = await tryRun('docker', ['exec', containerName(spec.name, 'dock1'), 'docker', 'image', 'inspect', '--format', '{{.Id}}', BUSYBOX_IMAGE]);
    expect(inHost.stdout.trim()).to.equal(id);
  });

  it('labUp a second time changes nothing (an image already there with the same id is not loaded again)', async () => {
    const events: LabProgress[] = [];
    const again = await labUp(spec, { stateDir, onProgress: (e) => events.push(e) });
    expect(again.changes).to.deep.equal([]);
    expect(again.images.map((i) => [i.image, i.loaded])).to.deep.equal([[BUSYBOX_IMAGE, false]]);
    expect(events.filter((e) => e.phase === `load ${BUSYBOX_IMAGE} into dock1`).map((e) => e.status)).to.deep.equal(['skip']);
    expect(again.hosts.map((h) => [h.name, h.id, h.ip])).to.deep.equal(up.hosts.map((h) => [h.name, h.id, h.ip]));
  });

  it('boots systemd as PID 1 to running or degraded', async () => {
    for (const h of up.hosts) {
      const comm = await tryRun('docker', ['exec', h.container, 'cat', '/proc/1/comm']);
      expect(comm.stdout.trim(), h.name).to.equal('systemd');
      const state = await tryRun('docker', ['exec', h.container, 'systemctl', 'is-system-running']);
      expect(state.stdout.trim(), h.name).to.be.oneOf(['running', 'degraded']);
    }
  });

  it('lets OpenSSH in with the lab key under strict host key checking', async () => {
    for (const h of up.hosts) {
      const r = await ssh(h.name, 'hostname');
      expect(r.stderr, h.name).to.equal('');
      expect(r.stdout.trim(), h.name).to.equal(h.name);
    }
    const args = await labSshArgs(spec.name, 'web1', { stateDir });
    expect(args).to.include('StrictHostKeyChecking=yes');
  });

  it('gives each host its own host key, so a wrong known_hosts entry is refused', async () => {
    const lines = readFileSync(up.knownHostsPath, 'utf8').trim().split('\n');
    expect(lines).to.have.length(2);
    const keys = lines.map((l) => l.split(' ').slice(1).join(' '));
    expect(keys[0]).to.not.equal(keys[1]);
    const wrong = join(stateDir, 'wrong_known_hosts');
    writeFileSync(wrong, `${ipOf('web1')} ${keys[1]}\n`);
    const r = await ssh('web1', 'true', ['-o', `UserKnownHostsFile=${wrong}`]);
    expect(r.code).to.equal(255);
    expect(r.stderr).to.match(/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i);
  });

  it('writes an inventory with the container addresses and the spec groups', () => {
    const inv = parse(readFileSync(up.inventoryPath, 'utf8'));
    expect(inv.all.hosts.web1).to.include({ ansible_host: ipOf('web1'), ansible_user: 'root', host_key_checking: 'strict' });
    expect(inv.all.hosts.dock1.ansible_ssh_private_key_file).to.equal(up.keyPath);
    expect(inv.all.hosts.dock1.known_hosts_file).to.equal(up.knownHostsPath);
    expect(Object.keys(inv.all.children.lab.hosts)).to.deep.equal(['web1', 'dock1']);
    expect(Object.keys(inv.all.children.engines.hosts)).to.deep.equal(['dock1']);
  });

  it('reaches the Debian mirror from inside (apt-get update)', async () => {
    const r = await ssh('web1', 'apt-get update -q');
    expect(r.code, r.stderr).to.equal(0);
  });

  it('runs a busybox container on the docker host, serving HTTP to the other host', async () => {
    const again = await loadImageIntoHost(spec.name, 'dock1', 'tsplay/busybox');
    expect([again.image, again.loaded]).to.deep.equal([BUSYBOX_IMAGE, false]);
    const run = await ssh('dock1', [
      'docker rm -f tsplay-http >/dev/null 2>&1;',
      `docker run -d --name tsplay-http -p 8080:8080 ${BUSYBOX_IMAGE}`,
      `sh -c 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www'`,
    ].join(' '));
    expect(run.code, run.stderr).to.equal(0);
    const cid = run.stdout.trim().slice(0, 12);
    const get = await ssh('web1', `curl -sS --retry 20 --retry-delay 1 --retry-connrefused -m 5 http://${ipOf('dock1')}:8080/`);
    expect(get.code, get.stderr).to.equal(0);
    expect(get.stdout.trim()).to.equal(`hello from ${cid}`);
    const refused = await loadImageIntoHost(spec.name, 'web1').then(() => undefined, (e: Error) => e);
    expect(refused?.message).to.match(/has no Docker engine/);
  });

  it('refuses an image that is not on this machine before it creates anything', async () => {
    const name = `test-${process.pid}-noimg`;
    const bad = validateLabSpec({ name, hosts: [{ name: 'a1', docker: true, images: ['tsplay/no-such-image:never'] }] });
    const err = await labUp(bad, { stateDir: join(stateDir, 'noimg') }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/lab spec: "tsplay\/no-such-image:never" is not on this machine's Docker engine/);
    expect((await tryRun('docker', ['ps', '-aq', '--filter', `label=tsplay.lab=${name}`])).stdout.trim()).to.equal('');
    expect((await tryRun('docker', ['network', 'inspect', `tsplay-${name}`])).code).to.not.equal(0);
    expect(existsSync(join(stateDir, 'noimg')), 'no state dir').to.equal(false);
  });

  it('labStatus lists the lab with its hosts and addresses', async () => {
    const lab = (await labStatus()).find((l) => l.name === spec.name);
    expect(lab?.hosts.map((h) => [h.name, h.state, h.ip, h.flavor])).to.deep.equal([
      ['dock1', 'running', ipOf('dock1'), 'docker'],
      ['web1', 'running', ipOf('web1'), 'base'],
    ]);
  });

  it('labUp removes hosts that left the spec and keeps the others', async () => {
    const smaller = validateLabSpec({ name: spec.name, hosts: [{ name: 'web1', groups: ['web'] }] });
    const r = await labUp(smaller, { stateDir });
    expect(r.changes).to.include(`removed container ${containerName(spec.name, 'dock1')}`);
    expect(r.hosts.map((h) => [h.name, h.id])).to.deep.equal([['web1', up.hosts[0]!.id]]);
    expect(readFileSync(r.knownHostsPath, 'utf8').trim().split('\n')).to.have.length(1);
  });

  it('labDown removes the containers, the network and the state files', async () => {
    const down = await labDown(spec.name, { stateDir });
    expect(down.removed).to.include(`network tsplay-${spec.name}`);
    const left = await tryRun('docker', ['ps', '-aq', '--filter', `label=tsplay.lab=${spec.name}`]);
    expect(left.stdout.trim()).to.equal('');
    expect((await tryRun('docker', ['network', 'inspect', `tsplay-${spec.name}`])).code).to.not.equal(0);
    for (const f of ['id_ed25519', 'known_hosts', 'inventory.yml']) expect(existsSync(join(stateDir, f)), f).to.equal(false);
  });
});
