/** `--json`: one engine event per line on stdout, for CI tools. */
import type { EventBus } from '../engine/events.js';

export function jsonRenderer(bus: EventBus, out: NodeJS.WritableStream = process.stdout): void {
  bus.on((e) => {
    out.write(JSON.stringify({ ts: new Date().toISOString(), ...e }) + '\n');
  });
}
