/**
 * `--json`: one engine event per line on stdout, for CI tools; each line carries the version of
 * the events' shape (`schemaVersion`) and a timestamp. docs/events.md describes every event
 * (`task:progress` is left out: hosts in progress are for the live view).
 */
import { EVENTS_SCHEMA_VERSION, type EventBus } from '../engine/events.js';

export function jsonRenderer(bus: EventBus, out: NodeJS.WritableStream = process.stdout): void {
  bus.on((e) => {
    // Hosts starting and finishing tasks are for the live view; --json stays one line per result.
    if (e.type === 'task:progress') return;
    out.write(JSON.stringify({ schemaVersion: EVENTS_SCHEMA_VERSION, ts: new Date().toISOString(), ...e }) + '\n');
  });
}
