/** renderParams (src/engine/params.ts): templates rendered, then checked by the module's schema. */
import { expect } from 'chai';
import copy from '../../src/modules/files/copy.js';
import { renderParams } from '../../src/engine/params.js';
import type { TaskEnv } from '../../src/engine/item.js';
import type { ModuleTask } from '../../src/playbook/model.js';
import { Scope } from '../../src/vars/scope.js';

describe('engine/renderParams', () => {
  const env = { secrets: new Set<string>() } as TaskEnv;
  const scope = new Scope([{ label: 'play vars', kind: 'template', vars: { word: 'abc', num: 42, yes: true } }]);
  const task = (args: Record<string, unknown>) => ({ module: copy, args }) as unknown as ModuleTask;

  it('keeps the newline after an expression', () => {
    const r = renderParams(task({ content: '{{ word }}\n', dest: '/x' }), scope, env);
    expect(r).to.deep.include({ ok: true });
    expect((r as { params: { content: string } }).params.content).to.equal('abc\n');
  });

  it('writes a number or boolean given for text as its string form', () => {
    for (const [content, want] of [['{{ num }}\n', '42\n'], ['{{ num }}', '42'], ['{{ yes }}', 'true']]) {
      const r = renderParams(task({ content, dest: '/x' }), scope, env);
      expect(r, content).to.deep.include({ ok: true });
      expect((r as { params: { content: string } }).params.content).to.equal(want);
    }
  });
});
