/** compose-deploy: what plan fixtures cannot express (values that must never appear anywhere in a plan). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import mod from '../../../src/modules/docker/compose-deploy.js';
import type { PlanContext } from '../../../src/core/module.js';

const FX = join(import.meta.dirname, '../../fixtures/modules/compose-deploy');
const ctx: PlanContext = { host: 'h', check: true, diff: true, hostFacts: {}, pending: [], connection: { port: 22, local: false } };

describe('compose-deploy: secrets and .env values', () => {
  it('.env values appear nowhere in the plan; the diff shows that an environment value changed without the value', () => {
    const fx = JSON.parse(readFileSync(join(FX, 'env-values-never-in-diff.json'), 'utf8')) as { params: unknown; facts: never };
    const plan = mod.plan(mod.params.parse(fx.params), fx.facts, ctx);
    const text = JSON.stringify(plan);
    expect(text).to.not.include('hunter2');
    expect(plan).to.have.property('changed', true);
    const diff = (plan as { diffs: Array<{ before: string; after: string }> }).diffs[0]!;
    const tok = (s: string) => /TOKEN: (<hidden [0-9a-f]{8}>)/.exec(s)?.[1];
    expect(tok(diff.before)).to.be.a('string');
    expect(tok(diff.after)).to.be.a('string').and.not.equal(tok(diff.before));
    expect(diff.after).to.include("PORT: <hidden"); // every environment value is hidden, not only .env ones
  });
  it('secret values appear nowhere in the plan but the put step', () => {
    const fx = JSON.parse(readFileSync(join(FX, 'secret-changed-recreates-its-service.json'), 'utf8')) as { params: unknown; facts: never };
    const plan = mod.plan(mod.params.parse(fx.params), fx.facts, ctx) as { changes: string[]; diffs: unknown[]; steps: Array<{ kind: string; cmd?: string }> };
    expect(JSON.stringify([plan.changes, plan.diffs, plan.steps.filter((s) => s.kind === 'exec')])).to.not.include('s3cr3t');
    expect(mod.secretParams).to.deep.equal(['secrets']);
  });
  it('the definition sent to compose for the exposure check carries no environment, command or secret', () => {
    const params = mod.params.parse({
      project_src: '/srv/p',
      definition: {
        services: { web: { image: 'app:1', command: 'serve --token=cmd-s3cret', environment: { TOKEN: 'env-s3cret' }, labels: { x: 'label-s3cret' }, ports: ['${WEB_PORT}:80'], secrets: ['pw'] } },
        secrets: { pw: { file: './pw' } },
      },
      secrets: { pw: 'param-s3cret' },
    });
    const command = (mod.probe!(params) as { project: { command: string } }).project.command;
    const sent = /printf '%s' '?([A-Za-z0-9+/=]+)'? \| base64 -d/.exec(command)?.[1];
    expect(sent, 'the probe renders the definition').to.be.a('string');
    expect(Buffer.from(sent!, 'base64').toString()).to.equal('services:\n  web:\n    image: app:1\n    ports:\n      - ${WEB_PORT}:80\n');
    expect(command).to.not.match(/s3cret/);
  });
});
