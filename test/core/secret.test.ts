/** The forms of a secret the masker looks for, and masking itself. */
import { expect } from 'chai';
import { Masker, secretForms } from '../../src/core/secret.js';

describe('secretForms', () => {
  it('includes the escaped forms tsplay produces and each long line of a multi-line secret', () => {
    const forms = secretForms(`a&b"c'd\nline-two\nxy`);
    expect(forms).to.include.members([
      `a&b"c'd\nline-two\nxy`,
      `a&b\\"c'd\\nline-two\\nxy`,
      'a&amp;b&#34;c&#39;d\nline-two\nxy',
      'a&amp;b&quot;c&#39;d\nline-two\nxy',
      `a&b"c'\\''d\nline-two\nxy`,
      `a&b"c'd`,
      'line-two',
      Buffer.from(`a&b"c'd\nline-two\nxy`).toString('base64'),
      encodeURIComponent(`a&b"c'd\nline-two\nxy`),
    ]);
    expect(forms, 'lines shorter than 4 characters are not masked on their own').to.not.include('xy');
  });
});

describe('Masker', () => {
  it('masks every string of a value deeply, and secrets added later from then on', () => {
    const m = new Masker();
    const event = { name: 'deploy abc-123', list: ['x abc-123 y'], n: 1, nested: { diff: 'TOKEN=abc-1234\n' } };
    expect(m.maskDeep(event)).to.equal(event, 'nothing to mask yet');
    m.secrets.add('abc-123');
    m.secrets.add('abc-1234');
    expect(m.maskDeep(event)).to.deep.equal({ name: 'deploy ********', list: ['x ******** y'], n: 1, nested: { diff: 'TOKEN=********\n' } });
    expect(event.name, 'the original is untouched').to.equal('deploy abc-123');
  });

});
