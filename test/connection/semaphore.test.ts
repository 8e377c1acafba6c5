import { expect } from 'chai';
import { Semaphore } from '../../src/connection/semaphore.js';

describe('connection/semaphore', () => {
  it('admits at most `limit` holders and serves waiters in order', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    let peak = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        sem.use(async () => {
          peak = Math.max(peak, sem.inUse);
          order.push(i);
          await new Promise((r) => setTimeout(r, 5));
        }),
      ),
    );
    expect(peak).to.equal(2);
    expect(order).to.deep.equal([0, 1, 2, 3, 4]);
    expect(sem.inUse).to.equal(0);
  });

  it('a lowered limit applies to new holders; release is idempotent', async () => {
    const sem = new Semaphore(3);
    const a = await sem.acquire();
    const b = await sem.acquire();
    sem.lowerLimit(1);
    expect(sem.limit).to.equal(1);
    let granted = false;
    const waiting = sem.acquire().then((r) => ((granted = true), r));
    a();
    a(); // second call must not free another slot
    await new Promise((r) => setTimeout(r, 5));
    expect(granted).to.equal(false); // one holder left, limit 1
    b();
    (await waiting)();
    expect(granted).to.equal(true);
    sem.lowerLimit(0);
    expect(sem.limit).to.equal(1);
  });
});
