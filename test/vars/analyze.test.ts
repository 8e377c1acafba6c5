/** analyze.ts analyzeTemplateCode: which template code may run without the watchdog. */
import { expect } from 'chai';
import { analyzeTemplateCode } from '../../src/vars/analyze.js';

const EJS = ['__append', 'escapeFn'];
const quick = (code: string) => analyzeTemplateCode(code, EJS).quick;

describe('vars/analyze analyzeTemplateCode', () => {
  it('output, conditions and local variables are quick', () => {
    expect(quick('__line = 1; __append("a=");\n__append(escapeFn(a.b ?? c));\nif (x > 1) { __append("y") } else { var z = quote(x); __line = 3 }')).to.equal(true);
  });

  it('anything that can run long or call back into template code is not', () => {
    for (const code of [
      'for (;;) {}',
      'while (x) {}',
      'do {} while (x)',
      'for (const u of users) __append(u)',
      '__append(include("part.ejs"))',
      '__append(users.map((u) => u.name))',
      'function f() {} f()',
      '__append(/(a+)+$/.test(s))',
      'try { x } catch { }',
      'l: { break l }',
      '__append(new Array(10))',
      '__append(s.replace("a", "b"))',
    ]) {
      expect(quick(code), code).to.equal(false);
    }
  });

  it('lists every identifier the code mentions', () => {
    expect(analyzeTemplateCode('__append(escapeFn(port + vars.x.y))', EJS).names).to.include.members(['port', 'vars', 'x', 'y', '__append', 'escapeFn']);
  });
});
