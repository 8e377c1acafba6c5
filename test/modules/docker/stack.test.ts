/**
 * compose-deploy mode: stack, the pure parts: the hash kept as a service label compares specs
 * (key order and tsplay's own label do not count), and the deployed file carries it.
 */
import { expect } from 'chai';
import { STACK_HASH_LABEL } from '../../../src/facts/stack.js';
import { labelled, serviceHash } from '../../../src/modules/docker/lib/stack.js';

describe('compose-deploy mode: stack (pure parts)', () => {
  it('a service hashes the same whatever its key order and whatever hash label it already carries', () => {
    const a = { image: 'x:1', deploy: { replicas: 3, labels: { tier: 'web' } }, command: ['a'] };
    const b = { command: ['a'], deploy: { labels: { [STACK_HASH_LABEL]: 'old', tier: 'web' }, replicas: 3 }, image: 'x:1' };
    expect(serviceHash(a)).to.equal(serviceHash(b));
    expect(serviceHash({ ...a, command: ['b'] })).to.not.equal(serviceHash(a));
  });

  it('the deployed file has a version and every service the hash label, next to its own labels (list or mapping)', () => {
    const doc = labelled({ services: { web: { image: 'x:1', deploy: { labels: ['tier=web', 'flag'] } }, db: { image: 'y:1' } } }, { web: 'h1', db: 'h2' });
    expect(doc.version).to.equal('3.8');
    expect(doc.services).to.deep.equal({
      web: { image: 'x:1', deploy: { labels: { tier: 'web', flag: '', [STACK_HASH_LABEL]: 'h1' } } },
      db: { image: 'y:1', deploy: { labels: { [STACK_HASH_LABEL]: 'h2' } } },
    });
  });
});
