/** Did-you-mean knows Ansible's module names: an Ansible user's `ufw:` points at `install-ufw`. */
import { expect } from 'chai';
import { BUNDLED_MODULES } from '../../src/modules/index.js';
import { ModuleRegistry } from '../../src/modules/registry.js';

describe('module suggestions for Ansible names', () => {
  const registry = new ModuleRegistry(BUNDLED_MODULES);
  it('maps Ansible modules to the tsplay module that does their job', () => {
    expect(registry.suggest('ufw')).to.equal('install-ufw');
    expect(registry.suggest('community.general.ufw')).to.equal('install-ufw');
    expect(registry.suggest('community.docker.docker_compose_v2')).to.equal('compose-deploy');
    expect(registry.suggest('docker_swarm')).to.equal('docker-swarm-init');
    expect(registry.suggest('ansible.builtin.systemd_service')).to.equal('systemd');
  });
  it('does not call dnf "diff"', () => {
    expect(registry.suggest('dnf')).to.not.equal('diff');
  });
  it('still suggests by spelling', () => {
    expect(registry.suggest('copyy')).to.equal('copy');
  });
});
