/**
 * Mocha root hooks (registered in .mocharc.json, loaded for every test run): after all suites,
 * take down the shared end-to-end lab if a suite brought it up (see lab.ts). Unit-test runs
 * never start it, so for them this does nothing.
 */
import type { Context } from 'mocha';
import { stopSharedLab } from './lab.js';

export const mochaHooks = {
  async afterAll(this: Context) {
    this.timeout(5 * 60_000);
    await stopSharedLab();
  },
};
