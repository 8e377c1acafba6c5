import { expect } from 'chai';
import { UserError } from '../../src/core/errors.js';
import { loadLabSpec, parseLabSpec, specFromCount, validateLabSpec } from '../../src/lab/spec.js';

/** The UserError lines thrown by parsing `text` as lab.yml. */
function errorsOf(text: string): string[] {
  try {
    parseLabSpec(text, 'lab.yml');
  } catch (e) {
    if (e instanceof UserError) return e.diagnostics.map((d) => `${d.pos ? `${d.pos.line}:${d.pos.col} ` : ''}${d.message}`);
    throw e;
  }
  throw new Error('expected a UserError');
}

describe('lab spec', () => {
  it('parses a spec with defaults', () => {
    const spec = parseLabSpec('hosts:\n  - name: web1\n    groups: [web]\n  - name: dock1\n    docker: true\n', 'lab.yml');
    expect(spec).to.deep.equal({
      name: 'default',
      hosts: [
        { name: 'web1', groups: ['web'], docker: false, images: [] },
        { name: 'dock1', groups: [], docker: true, images: [] },
      ],
    });
  });

  it('reports unknown keys with a suggestion and position', () => {
    expect(errorsOf('name: x\nhosts:\n  - name: web1\n    dokcer: true\n')).to.deep.equal([
      '4:5 lab spec: hosts.0: unknown key "dokcer"; did you mean "docker"?',
    ]);
  });

  it('reports every error at once, at the value', () => {
    const errs = errorsOf('name: Bad Name\nhosts:\n  - name: Web_1\n  - name: ok\n    docker: yes please\n');
    expect(errs).to.have.length(3);
    expect(errs[0]).to.match(/^1:7 lab spec: name: a lab name is/);
    expect(errs[1]).to.match(/^3:11 lab spec: hosts\.0\.name: a host name is/);
    expect(errs[2]).to.match(/^5:13 lab spec: hosts\.1\.docker: /);
  });

  it('requires hosts', () => {
    expect(errorsOf('name: x\n')).to.deep.equal(['1:1 lab spec: missing required key "hosts"']);
    expect(errorsOf('hosts: []\n')[0]).to.match(/^1:8 lab spec: hosts: a lab needs at least one host/);
  });

  it('rejects duplicate hosts, reserved groups and groups named like hosts', () => {
    const errs = errorsOf('hosts:\n  - name: a\n    groups: [all, b]\n  - name: b\n  - name: a\n');
    expect(errs).to.deep.equal([
      '5:11 lab spec: duplicate host name "a"',
      '3:14 lab spec: "all" is a reserved group name',
      '3:19 lab spec: group "b" has the name of a host',
    ]);
  });

  it('lists images for a docker host, named as the engine names them', () => {
    const spec = parseLabSpec(
      'hosts:\n  - name: app1\n    docker: true\n    images: [tsplay/busybox, "localhost:5000/app:1.2", "debian@sha256:' + 'a'.repeat(64) + '"]\n',
      'lab.yml',
    );
    expect(spec.hosts[0]!.images).to.deep.equal(['tsplay/busybox:latest', 'localhost:5000/app:1.2', `debian@sha256:${'a'.repeat(64)}`]);
  });

  it('refuses images on a host without its own engine, bad references and duplicates, with positions', () => {
    expect(errorsOf('hosts:\n  - name: web1\n    images: [tsplay/busybox]\n')).to.deep.equal([
      '3:5 lab spec: host "web1" lists images but has no Docker engine of its own; set "docker: true" on it or remove images',
    ]);
    const bad = errorsOf('hosts:\n  - name: app1\n    docker: true\n    images: [Tsplay/Busybox, "a b"]\n');
    expect(bad).to.have.length(2);
    expect(bad[0]).to.match(/^4:14 lab spec: hosts\.0\.images\.0: an image is a Docker reference/);
    expect(bad[1]).to.match(/^4:30 lab spec: hosts\.0\.images\.1: an image is a Docker reference/);
    expect(errorsOf('hosts:\n  - name: app1\n    docker: true\n    images: [tsplay/busybox, "tsplay/busybox:latest"]\n')).to.deep.equal([
      '4:30 lab spec: image "tsplay/busybox:latest" is listed twice for "app1"',
    ]);
  });

  it("the README demo's lab.yml gives app1 and the swarm's nodes their own engine and the stand-in image", () => {
    const spec = loadLabSpec(new URL('../../lab.yml', import.meta.url).pathname);
    expect(spec.hosts.map((h) => [h.name, h.groups.join(','), h.docker, h.images.join(',')])).to.deep.equal([
      ['web1', 'web', false, ''],
      ['web2', 'web', false, ''],
      ['db1', 'db', false, ''],
      ['app1', 'app', true, 'tsplay/busybox:latest'],
      ['swarm1', 'managers,swarm', true, 'tsplay/busybox:latest'],
      ['swarm2', 'workers,swarm', true, 'tsplay/busybox:latest'],
    ]);
  });

  it('makes lab1..labN from a count', () => {
    const spec = specFromCount(3, 'demo');
    expect(spec.name).to.equal('demo');
    expect(spec.hosts.map((h) => h.name)).to.deep.equal(['lab1', 'lab2', 'lab3']);
    expect(spec.hosts.every((h) => h.groups.length === 0 && !h.docker && h.images.length === 0)).to.equal(true);
    expect(() => specFromCount(0)).to.throw(UserError, /--hosts/);
    expect(() => specFromCount(2.5)).to.throw(UserError, /--hosts/);
  });

  it('validates data without a file (no positions)', () => {
    expect(() => validateLabSpec({ name: 'x', hosts: [{ name: 'a', extra: 1 }] })).to.throw(UserError, /unknown key "extra"/);
  });
});
