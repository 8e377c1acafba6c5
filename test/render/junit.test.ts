/**
 * --junit: the JUnit XML report built from the engine's events: one test case per task × host,
 * failed / unreachable / skipped / changed visible, well-formed XML whatever the task names and
 * output hold, secrets masked like every other output.
 */
import { expect } from 'chai';
import { EventBus, type TaskHostResult } from '../../src/engine/events.js';
import { Masker } from '../../src/core/secret.js';
import { junitReporter } from '../../src/render/junit.js';

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => {
  expect(s, 'raw < in text').not.to.match(/</);
  return s.replace(/&(#\d+|[a-z]+);|&/g, (m, e: string | undefined) => {
    if (!e) throw new Error(`bare & in ${JSON.stringify(s)}`);
    if (e.startsWith('#')) return String.fromCharCode(Number(e.slice(1)));
    if (!(e in ENTITIES)) throw new Error(`unknown entity &${e};`);
    return ENTITIES[e]!;
  });
};

/** A strict little XML reader (elements, attributes, text, the declaration): throws on what is not well-formed. */
function parseXml(xml: string): El {
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).to.equal(true);
  // eslint-disable-next-line no-control-regex
  expect(xml, 'no character XML 1.0 forbids').not.to.match(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  const body = xml.slice(xml.indexOf('\n') + 1);
  const root: El = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const re = /<(\/?)([A-Za-z][\w-]*)((?:\s+[\w-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(body))) {
    at = re.lastIndex;
    const top = stack.at(-1)!;
    if (m[5] !== undefined) {
      top.text += decode(m[5]);
      continue;
    }
    if (m[1]) {
      expect(top.name, `closing </${m[2]}>`).to.equal(m[2]);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[3]!.matchAll(/([\w-]+)="([^"]*)"/g)) {
      expect(attrs, `duplicate attribute ${a[1]}`).not.to.have.property(a[1]!);
      attrs[a[1]!] = decode(a[2]!);
    }
    const el: El = { name: m[2]!, attrs, children: [], text: '' };
    top.children.push(el);
    if (!m[4]) stack.push(el);
  }
  expect(at, `unparsed XML at ${JSON.stringify(body.slice(at, at + 40))}`).to.equal(body.length);
  expect(stack.length, 'every element closed').to.equal(1);
  expect(root.children.length).to.equal(1);
  return root.children[0]!;
}

const find = (el: El, name: string): El[] => el.children.filter((c) => c.name === name);
const prop = (tc: El, name: string) => find(find(tc, 'properties')[0]!, 'property').find((p) => p.attrs.name === name)?.attrs.value;

function run(secret?: string) {
  const bus = new EventBus(new Masker(new Set(secret ? [secret] : [])));
  let t = 1000;
  const report = junitReporter(bus, { now: () => (t += 250) });
  const pos = { file: '/p/site.yml', line: 4, col: 7 };
  const r = (host: string, status: TaskHostResult['status'], more: Partial<TaskHostResult> = {}): TaskHostResult => ({ host, status, durationMs: 1200, ...more });
  bus.emit({ type: 'run:start', playbook: '/p/site.yml', check: false, diff: false });
  bus.emit({ type: 'play:start', play: 'web & db <servers>', hosts: ['web1', 'web2'] });
  bus.emit({ type: 'task:start', id: 1, name: 'install "nginx" & <co>', module: 'apt', hosts: ['web1', 'web2'], handler: false, section: 'tasks', pos });
  bus.emit({ type: 'task:host', id: 1, result: r('web1', 'changed', { changes: ['install nginx'] }), pos });
  bus.emit({ type: 'task:host', id: 1, result: r('web2', 'failed', { msg: 'apt failed: token hunter2 rejected', failure: { command: 'apt-get install nginx --pw hunter2', exitCode: 100, stderrTail: ['E: \u0007bell <bad> & worse', "it's \"quoted\""] } }), pos });
  bus.emit({ type: 'task:end', id: 1, counts: { ok: 0, changed: 1, failed: 1, skipped: 0, unreachable: 0 }, total: 2 });
  bus.emit({ type: 'task:start', id: 2, name: 'loop', module: 'command', hosts: ['web1'], handler: false, section: 'tasks' });
  bus.emit({ type: 'task:host', id: 2, result: r('web1', 'ok', { item: 'a' }) });
  bus.emit({ type: 'task:host', id: 2, result: r('web1', 'skipped', { item: 'b', msg: 'condition was false' }) });
  bus.emit({ type: 'task:host', id: 2, result: r('web1', 'failed', { item: 'c', msg: 'boom', ignored: true }) });
  bus.emit({ type: 'warning', msg: 'port 8080 is open', host: 'web1', id: 2, item: 'a' });
  bus.emit({ type: 'task:start', id: 3, name: 'skipped', module: 'command', hosts: ['web1'], handler: false, section: 'tasks' });
  bus.emit({ type: 'task:host', id: 3, result: r('web1', 'skipped', { msg: 'condition was false' }) });
  bus.emit({ type: 'play:end', play: 'web & db <servers>' });
  bus.emit({ type: 'play:start', play: 'far', hosts: ['far1'] });
  bus.emit({ type: 'task:start', id: 4, name: 'restart', module: 'service', hosts: ['far1'], handler: true, section: 'handlers' });
  bus.emit({ type: 'task:host', id: 4, result: r('far1', 'unreachable', { msg: 'connect timed out' }) });
  bus.emit({ type: 'play:end', play: 'far' });
  bus.emit({ type: 'recap', hosts: {}, durationMs: 5, interrupted: false });
  return report.xml();
}

describe('--junit report', () => {
  it('one test case per task × host, with failed, unreachable, skipped and changed visible', () => {
    const doc = parseXml(run());
    expect(doc.name).to.equal('testsuites');
    expect(doc.attrs).to.include({ tests: '5', failures: '1', errors: '1', skipped: '1' });
    const [web, far] = find(doc, 'testsuite');
    expect(web!.attrs).to.include({ name: 'web & db <servers>', tests: '4', failures: '1', skipped: '1' });
    const cases = find(web!, 'testcase');
    expect(cases.map((c) => c.attrs.name)).to.deep.equal(['[web1] install "nginx" & <co>', '[web2] install "nginx" & <co>', '[web1] loop', '[web1] skipped']);
    const [changed, failed, loop, skipped] = cases;
    expect(prop(changed!, 'status')).to.equal('changed');
    expect(find(changed!, 'failure')).to.have.length(0);
    expect(find(changed!, 'system-out')[0]!.text).to.include('change: install nginx');
    expect(changed!.attrs).to.include({ file: '/p/site.yml', line: '4', time: '1.200' });
    const f = find(failed!, 'failure')[0]!;
    expect(f.attrs.message).to.equal('apt failed: token hunter2 rejected');
    expect(f.text).to.include('command: apt-get install nginx --pw hunter2');
    expect(f.text).to.include('exit code: 100');
    expect(f.text).to.include('| E: \ufffdbell <bad> & worse');
    expect(f.text).to.include(`| it's "quoted"`);
    // the items of a loop are one case; an ignored failure passes, and says so
    expect(prop(loop!, 'status')).to.equal('failed (ignored)');
    expect(find(loop!, 'failure')).to.have.length(0);
    expect(find(loop!, 'system-out')[0]!.text).to.match(/ok \(item=a\)\nskipped \(item=b\): condition was false\nfailed \(ignored\) \(item=c\): boom/);
    expect(find(loop!, 'system-err')[0]!.text).to.equal('[WARNING] (item=a) port 8080 is open');
    expect(find(skipped!, 'skipped')[0]!.attrs.message).to.equal('condition was false');
    const handler = find(far!, 'testcase')[0]!;
    expect(handler.attrs.name).to.equal('[far1] HANDLER: restart');
    expect(find(handler, 'error')[0]!.attrs).to.include({ message: 'connect timed out', type: 'unreachable' });
  });

  it('masks the run\'s secrets like every other output (the bus masks the events)', () => {
    const xml = run('hunter2');
    expect(xml).not.to.include('hunter2');
    expect(xml).to.include('token ******** rejected');
    parseXml(xml);
  });

  it('an empty run is a valid report', () => {
    const bus = new EventBus();
    const report = junitReporter(bus);
    bus.emit({ type: 'recap', hosts: {}, durationMs: 0, interrupted: false });
    expect(parseXml(report.xml()).attrs).to.include({ tests: '0', failures: '0' });
  });
});
