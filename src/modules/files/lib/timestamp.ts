/**
 * Ansible's `modification_time`/`access_time` values: "now", "preserve" or a timestamp read with
 * a Python strptime format (default "%Y%m%d%H%M.%S"). A timestamp becomes "YYYY-MM-DD HH:MM:SS",
 * which the host reads in its own time zone (date -d, touch -d), as Ansible's time.mktime does.
 */
const FIELDS: Record<string, { re: string; key: 'Y' | 'y' | 'm' | 'd' | 'H' | 'M' | 'S' }> = {
  Y: { re: '(\\d{4})', key: 'Y' },
  y: { re: '(\\d{2})', key: 'y' },
  m: { re: '(\\d{1,2})', key: 'm' },
  d: { re: '(\\d{1,2})', key: 'd' },
  H: { re: '(\\d{1,2})', key: 'H' },
  M: { re: '(\\d{1,2})', key: 'M' },
  S: { re: '(\\d{1,2})', key: 'S' },
};

export const DEFAULT_TIME_FORMAT = '%Y%m%d%H%M.%S';

/** Checks a format uses only the directives tsplay reads; returns an error message or undefined. */
export function badFormat(format: string): string | undefined {
  const bad = format.match(/%[^YymdHMS%]/);
  return bad ? `time format directive ${bad[0]} is not supported (use %Y %y %m %d %H %M %S)` : undefined;
}

/** "YYYY-MM-DD HH:MM:SS" for a timestamp in a format; throws a readable error when it does not match. */
export function parseTimestamp(value: string, format: string, what: string): string {
  const keys: string[] = [];
  let re = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === '%' && i + 1 < format.length) {
      const d = format[++i]!;
      if (d === '%') re += '%';
      else if (FIELDS[d]) {
        re += FIELDS[d].re;
        keys.push(FIELDS[d].key);
      } else throw new Error(badFormat(format)!);
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${re}$`).exec(value);
  const no = () => new Error(`${what} ${JSON.stringify(value)} does not match ${what}_format ${format}`);
  if (!m) throw no();
  const v: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  keys.forEach((k, i) => {
    const n = Number(m[i + 1]);
    if (k === 'y') v.Y = n < 69 ? 2000 + n : 1900 + n;
    else v[k] = n;
  });
  const days = new Date(Date.UTC(v.Y!, v.m!, 0)).getUTCDate();
  if (v.m! < 1 || v.m! > 12 || v.d! < 1 || v.d! > days || v.H! > 23 || v.M! > 59 || v.S! > 61) throw no();
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${String(v.Y).padStart(4, '0')}-${p2(v.m!)}-${p2(v.d!)} ${p2(v.H!)}:${p2(v.M!)}:${p2(v.S!)}`;
}
