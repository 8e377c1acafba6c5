/**
 * The benchmark's pure parts (bench/ansible-compare): medians, ratios, the results table and the
 * issue's targets, the CPU profile summary, the floor's check script, and the rotation order.
 */
import { expect } from 'chai';
import { benchTasks, FILE_KINDS, floorScript } from '../../bench/ansible-compare/playbook.js';
import { execsKey, median, profileTop, ratio, rotate, shortUrl, tableRows, targetRows, type BenchResult, type Cell } from '../../bench/ansible-compare/report.js';

const cell = (hosts: number, tool: Cell['tool'], walls: number[], mode: Cell['mode'] = 'converged'): Cell => ({
  hosts,
  mode,
  tool,
  samples: walls.map((w) => ({ wallMs: w * 1000, cpuS: 1, rssMiB: 100, hostsCpuS: 0.5 })),
});

const result = (cells: Cell[], execs: Record<string, number> = {}): BenchResult => ({
  tasks: 30,
  reps: 3,
  date: 'now',
  machine: { nproc: 2, memGiB: 1, cpu: 'x', kernel: 'k', docker: 'd' },
  versions: { node: 'v20', tsplay: 'c', ansibleCore: '2.14', python: '3.11', openssh: 'OpenSSH' },
  shape: {},
  cells,
  execs,
  endState: { identical: true, lines: 1, diff: [] },
  load: [],
  skipped: [],
});

describe('bench/report', () => {
  it('takes the median of odd and even counts, NaN of none', () => {
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(median([])).to.be.NaN;
  });

  it('formats ratios, small ones with three digits, and leaves a missing side empty', () => {
    expect(ratio(2.6, 1)).to.equal('2.60×');
    expect(ratio(0.5, 20)).to.equal('0.025×');
    expect(ratio(1, NaN)).to.equal('');
    expect(ratio(1, 0)).to.equal('');
  });

  it('puts the ratios of median walls on the tsplay row and the execs per host', () => {
    const r = result([cell(10, 'tsplay', [3, 2, 100]), cell(10, 'floor', [1, 1, 1]), cell(10, 'ansible', [40, 50, 60])], {
      [execsKey('tsplay', 10, 'converged')]: 3,
      [execsKey('floor', 10, 'converged')]: 1,
    });
    const rows = tableRows(r);
    expect(rows.map((x) => x[2])).to.deep.equal(['tsplay', 'floor', 'ansible']);
    const ts = rows[0]!;
    expect(ts[3]).to.equal('3');
    expect(ts[4]).to.equal('3.00');
    expect(ts[5]).to.equal('2.00 – 100.00');
    expect(ts[9]).to.equal('3');
    expect(ts.slice(-2)).to.deep.equal(['3.00×', '0.060×']);
    expect(rows[1]!.slice(-2)).to.deep.equal(['', '']);
  });

  it('judges the targets from what was measured, and says what was not', () => {
    const r = result([cell(10, 'tsplay', [1.2]), cell(10, 'floor', [1]), cell(100, 'tsplay', [7]), cell(100, 'floor', [2])], {
      [execsKey('tsplay', 10, 'converged')]: 1,
      [execsKey('tsplay', 100, 'converged')]: 3,
    });
    const rows = targetRows(r);
    const row = (target: string, where: string) => rows.find((x) => x[0] === target && x[1] === where)!;
    expect(row('tsplay/floor ≤ 1.3', 'N=10 converged').slice(2)).to.deep.equal(['1.200×', 'met']);
    expect(row('tsplay/floor ≤ 1.3', 'N=100 converged').slice(2)).to.deep.equal(['3.500×', '**not met**']);
    expect(row('tsplay/floor ≤ 1.3', 'N=10 check')[3]).to.equal('not measured');
    expect(row('100 hosts converged ≤ 6 s', 'N=100 converged').slice(2)).to.deep.equal(['7.00 s', '**not met**']);
    expect(row('1 exec per host converged', 'all N').slice(2)).to.deep.equal(['3 (worst N)', '**not met**']);
  });

  it('sums self time per function and per package from a .cpuprofile', () => {
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('parse', 'file:///w/node_modules/yaml/dist/parse.js', 9) },
        { id: 3, callFrame: frame('run', 'file:///w/.tsplay/bench/dist/engine/runner.js', 41) },
        { id: 4, callFrame: frame('compose', 'file:///w/node_modules/yaml/dist/compose.js', 1) },
      ],
      samples: [2, 3, 2, 4, 1],
      timeDeltas: [1000, 2000, 3000, 1500, 500],
    };
    const top = profileTop(JSON.stringify(profile), 2);
    expect([top.totalMs, top.idleMs]).to.deep.equal([7.5, 0.5]);
    expect(top.functions.map((f) => [f.name, f.where, f.selfMs])).to.deep.equal([
      ['parse', 'yaml/dist/parse.js:10', 4],
      ['run', 'src/engine/runner.js:42', 2],
    ]);
    expect(top.files.map((f) => [f.name, f.selfMs, f.pct])).to.deep.equal([
      ['yaml', 5.5, (100 * 5.5) / 7.5],
      ['src', 2, (100 * 2) / 7.5],
    ]);
    expect(shortUrl('file:///w/node_modules/@scope/pkg/a.js')).to.equal('@scope/pkg/a.js');
  });

  it('rotates the tool order so each goes first in turn', () => {
    expect([0, 1, 2, 3].map((i) => rotate(['a', 'b', 'c'], i).join(''))).to.deep.equal(['abc', 'bca', 'cab', 'abc']);
  });
});

describe('bench/playbook floorScript', () => {
  it('stats every path, hashes copied files and reads lineinfile files, in one script', () => {
    const script = floorScript(benchTasks(6, FILE_KINDS));
    expect(script.split('\n')).to.deep.equal([
      'set -e',
      "stat -c '%n %F %a %U:%G %s' /opt/bench /opt/bench/dir-1 /opt/bench/copy-2.txt /opt/bench/lines-3.conf /opt/bench/cmd-4.done /opt/bench/dir-5",
      'sha256sum /opt/bench/copy-2.txt',
      'cat /opt/bench/lines-3.conf',
      '',
    ]);
  });
});
