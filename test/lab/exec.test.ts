import { expect } from 'chai';
import { UserError } from '../../src/core/errors.js';
import { CommandError, pipe, run, stderrTail } from '../../src/lab/exec.js';

async function failure(p: Promise<unknown>): Promise<CommandError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).to.be.instanceOf(CommandError);
  return e as CommandError;
}

describe('lab exec', () => {
  it('returns output of a successful command', async () => {
    expect((await run('sh', ['-c', 'cat; echo done'], { input: 'in\n' })).stdout).to.equal('in\ndone\n');
  });

  it('turns a failure into a UserError with a one-line summary and the stderr tail', async () => {
    const e = await failure(run('sh', ['-c', 'echo progress >&2; echo "E: broken thing" >&2; exit 3']));
    expect(e).to.be.instanceOf(UserError);
    expect(e.shortMessage).to.equal(`Command failed with exit code 3: sh -c 'echo progress >&2; echo "E: broken thing" >&2; exit 3'`);
    expect(e.diagnostics[0]!.message.split('\n').slice(1)).to.deep.equal(['  E: broken thing']); // lines mentioning an error win
  });

  it('onLine: each line of stdout and stderr as it comes (CR and LF), the last unfinished one at the end', async () => {
    const lines: string[] = [];
    const r = await run('sh', ['-c', 'printf "I: Retrieving a 1\\nI: Ret"; sleep 0.1; printf "rieving b 2\\r\\n"; printf "E: x\\n" >&2; printf "tail"'], { onLine: (l) => lines.push(l) });
    expect(lines.sort()).to.deep.equal(['E: x', 'I: Retrieving a 1', 'I: Retrieving b 2', 'tail'].sort());
    expect(r.stdout, 'output is still collected').to.equal('I: Retrieving a 1\nI: Retrieving b 2\r\ntail');
  });

  it('pipe onBytes: the running total of bytes sent from one program to the other', async () => {
    const totals: number[] = [];
    const r = await pipe({ cmd: 'head', args: ['-c', '300000', '/dev/zero'] }, { cmd: 'wc', args: ['-c'] }, { onBytes: (n) => totals.push(n) });
    expect(r.stdout.trim()).to.equal('300000');
    expect(totals.at(-1)).to.equal(300000);
    expect(totals).to.deep.equal([...totals].sort((x, y) => x - y));
  });

  it('says when a program is missing or times out', async () => {
    expect((await failure(run('tsplay-no-such-program', []))).shortMessage).to.equal('command not found: tsplay-no-such-program');
    expect((await failure(run('sleep', ['5'], { timeoutMs: 100 }))).shortMessage).to.equal('Command timed out: sleep 5');
  });

  it('pipes one program into another and names the side that failed', async () => {
    expect((await pipe({ cmd: 'printf', args: ['a\\nb\\n'] }, { cmd: 'wc', args: ['-l'] })).stdout.trim()).to.equal('2');
    const left = await failure(pipe({ cmd: 'sh', args: ['-c', 'echo x; exit 2'] }, { cmd: 'cat', args: [] }));
    expect(left.shortMessage).to.equal(`Command failed with exit code 2: sh -c 'echo x; exit 2'`);
    const right = await failure(pipe({ cmd: 'echo', args: ['x'] }, { cmd: 'sh', args: ['-c', 'cat >/dev/null; exit 4'] }));
    expect(right.shortMessage).to.equal(`Command failed with exit code 4: sh -c 'cat >/dev/null; exit 4'`);
  });

  it('keeps the last 20 lines when none mentions an error', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const tail = stderrTail(lines).split('\n');
    expect(tail).to.have.length(20);
    expect(tail[0]).to.equal('  line 10');
  });
});
