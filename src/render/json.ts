/**
 * `--json`: one engine event per line on stdout, for CI tools; each line carries the version of
 * the events' shape (`schemaVersion`) and a timestamp. docs/events.md describes every event.
 */
import { EVENTS_SCHEMA_VERSION, type EventBus } from '../engine/events.js';

export function jsonRenderer(bus: EventBus, out: NodeJS.WritableStream = process.stdout): void {
  bus.on((e) => {
    out.write(JSON.stringify({ schemaVersion: EVENTS_SCHEMA_VERSION, ts: new Date().toISOString(), ...e }) + '\n');
  });
}
