/** Host patterns against test/fixtures/inventory/patterns/hosts.ini. */
import { expect } from 'chai';
import { formatDiagnosticLine, UserError } from '../../src/core/errors.js';
import { loadInventory } from '../../src/inventory/model.js';
import { globMatcher, splitPattern } from '../../src/inventory/patterns.js';

const inv = loadInventory(['test/fixtures/inventory/patterns/hosts.ini']);
const sel = (p: string) => inv.select(p);
const W1 = 'web1.example.com';
const W2 = 'web2.example.com';
const W3 = 'web3.example.org';
const D1 = 'db1.example.com';
const D2 = 'db2.example.com';

function errorOf(pattern: string): string {
  try {
    inv.select(pattern, { file: 'site.yml', line: 3, col: 10 });
  } catch (e) {
    expect(e).to.be.instanceOf(UserError);
    return (e as UserError).diagnostics.map(formatDiagnosticLine).join('\n');
  }
  throw new Error(`pattern ${pattern} did not fail`);
}

describe('inventory: host patterns', () => {
  it('all and * select every host in inventory order', () => {
    expect(sel('all')).to.deep.equal([W1, W2, W3, D1, D2]);
    expect(sel('*')).to.deep.equal([W1, W2, W3, D1, D2]);
  });

  it('a group selects its hosts and its descendants\' hosts; a host selects itself', () => {
    expect(sel('web')).to.deep.equal([W1, W2, W3]);
    expect(sel('prod')).to.deep.equal([W1, W2, W3, D1, D2]);
    expect(sel(D2)).to.deep.equal([D2]);
    expect(sel('empty')).to.deep.equal([]);
  });

  it('a:b and a,b are unions, returned in inventory order', () => {
    expect(sel('db:web')).to.deep.equal([W1, W2, W3, D1, D2]);
    expect(sel(`db,${W1}`)).to.deep.equal([W1, D1, D2]);
    expect(sel(` db , ${W1} `)).to.deep.equal([W1, D1, D2]);
  });

  it('a:&b is an intersection and a:!b an exclusion', () => {
    expect(sel('prod:&staging')).to.deep.equal([W3, D2]);
    expect(sel('prod:!staging')).to.deep.equal([W1, W2, D1]);
    expect(sel('web:&staging:!db')).to.deep.equal([W3]);
  });

  it('applies unions first, then intersections, then exclusions, whatever the written order', () => {
    expect(sel('!staging:web')).to.deep.equal([W1, W2]);
    expect(sel('&staging:web:db')).to.deep.equal([W3, D2]);
    expect(sel('!db:&prod:web')).to.deep.equal([W1, W2, W3]);
  });

  it('a pattern with only & or ! parts starts from all', () => {
    expect(sel('!staging')).to.deep.equal([W1, W2, D1]);
    expect(sel('&db')).to.deep.equal([D1, D2]);
  });

  it('matches * and ? wildcards and [] classes against host and group names', () => {
    expect(sel('*.example.com')).to.deep.equal([W1, W2, D1, D2]);
    expect(sel('web?.example.*')).to.deep.equal([W1, W2, W3]);
    expect(sel('db[12].example.com')).to.deep.equal([D1, D2]);
    expect(sel('stag*')).to.deep.equal([W3, D2]);
  });

  it('matches ~regex (anchored at the start)', () => {
    expect(sel('~db\\d')).to.deep.equal([D1, D2]);
    expect(sel('~(web|db)1')).to.deep.equal([W1, D1]);
    expect(sel('~.*\\.org$')).to.deep.equal([W3]);
    expect(() => sel('~example')).to.throw(UserError, 'matches no host or group');
  });

  it('takes hosts by index with [i], [-i], [a:b] (inclusive) and [a:]', () => {
    expect(sel('web[0]')).to.deep.equal([W1]);
    expect(sel('web[-1]')).to.deep.equal([W3]);
    expect(sel('prod[1:2]')).to.deep.equal([W2, W3]);
    expect(sel('prod[3:]')).to.deep.equal([D1, D2]);
  });

  it('selects localhost by name even when the inventory does not list it', () => {
    expect(sel('localhost')).to.deep.equal(['localhost']);
  });

  it('rejects an unknown name with a did-you-mean, at the given position', () => {
    expect(errorOf('wbe')).to.equal("site.yml:3:10: error: host pattern 'wbe': no host or group named 'wbe' (did you mean 'web'?)");
    expect(errorOf('web:!stagign')).to.equal(
      "site.yml:3:10: error: host pattern 'web:!stagign': no host or group named 'stagign' (did you mean 'staging'?)",
    );
    expect(errorOf('zzzzzz')).to.equal("site.yml:3:10: error: host pattern 'zzzzzz': no host or group named 'zzzzzz'");
  });

  it('rejects a wildcard or regex that matches nothing, an empty pattern and a bad subscript', () => {
    expect(errorOf('app*')).to.contain("host pattern 'app*': wildcard 'app*' matches no host or group");
    expect(errorOf('~app')).to.contain("regular expression '~app' matches no host or group");
    expect(errorOf('~(')).to.contain("invalid regular expression '~('");
    expect(errorOf('')).to.contain('empty pattern');
    expect(errorOf(' , ')).to.contain('empty pattern');
    expect(errorOf('web:!')).to.contain('empty name after & or !');
    expect(errorOf('web[5]')).to.contain("subscript in 'web[5]' is out of range (3 hosts matched)");
  });

  it('splits on : and , but not inside brackets or IPv6 addresses', () => {
    expect(splitPattern('a:b,c:&d:!e')).to.deep.equal(['a', 'b', 'c', '&d', '!e']);
    expect(splitPattern('web[1:2]:db')).to.deep.equal(['web[1:2]', 'db']);
    expect(splitPattern('fe80::1,db')).to.deep.equal(['fe80::1', 'db']);
  });

  it('globMatcher is fnmatch: case-sensitive, [!x] negation, other characters literal', () => {
    expect(globMatcher('web[!1]')('web2')).to.equal(true);
    expect(globMatcher('web[!1]')('web1')).to.equal(false);
    expect(globMatcher('Web*')('web1')).to.equal(false);
    expect(globMatcher('a.c')('abc')).to.equal(false);
    expect(globMatcher('a+(b)')('a+(b)')).to.equal(true);
  });
});
