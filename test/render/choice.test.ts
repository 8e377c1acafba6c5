/** The one rule that picks a renderer (render/index.ts), used by `tsplay run`, `tsplay test` and the library. */
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { chooseRenderer, createRenderer, defaultRenderer } from '../../src/render/index.js';
import { EventBus } from '../../src/engine/events.js';

describe('renderer choice', () => {
  const cases: Array<[Parameters<typeof chooseRenderer>[0], string]> = [
    [{ tty: true }, 'listr'],
    [{ tty: false }, 'plain'],
    [{}, 'plain'],
    [{ tty: true, ci: true }, 'plain'],
    [{ tty: true, verbose: true }, 'plain'],
    [{ tty: false, verbose: true }, 'plain'],
    [{ tty: true, json: true }, 'json'],
    [{ tty: false, json: true }, 'json'],
    [{ tty: true, json: true, verbose: true }, 'json'],
    [{ ci: true, json: true }, 'json'],
  ];
  for (const [c, kind] of cases) {
    it(`${JSON.stringify(c)} -> ${kind}`, () => expect(chooseRenderer(c)).to.equal(kind));
  }

  it('reads the terminal from the stream and CI from the environment', () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true }) as unknown as NodeJS.WriteStream;
    const pipe = new PassThrough() as unknown as NodeJS.WriteStream;
    expect(defaultRenderer({}, tty, {})).to.equal('listr');
    expect(defaultRenderer({}, tty, { CI: 'true' })).to.equal('plain');
    expect(defaultRenderer({}, tty, { CI: '' })).to.equal('listr');
    expect(defaultRenderer({}, pipe, {})).to.equal('plain');
    expect(defaultRenderer({ json: true }, pipe, {})).to.equal('json');
  });

  it('createRenderer subscribes the chosen renderer to the bus', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += String(d)));
    const bus = new EventBus();
    const r = createRenderer('json', bus, { out: out as unknown as NodeJS.WriteStream });
    bus.emit({ type: 'play:start', play: 'p', hosts: ['h'] });
    await r.idle();
    expect(r.kind).to.equal('json');
    expect(JSON.parse(text)).to.include({ type: 'play:start', play: 'p' });
  });
});
