/**
 * Ansible's `key=value` free form for modules whose parameters are few (`debug: msg=hi`,
 * `fail: msg="disk full"`): when the text starts with one of `keys` followed by `=`, every word
 * (shell-quoted, no expansion) is `key=value`; any other text is the value of `fallback`.
 */
import { shellSplit } from '../commands/lib/shlex.js';

export function keyValueFreeForm(keys: readonly string[], fallback: string): (text: string) => Record<string, unknown> {
  const starts = new RegExp(`^\\s*(${keys.join('|')})=`);
  return (text) => {
    if (!starts.test(text)) return { [fallback]: text };
    let words: string[];
    try {
      words = shellSplit(text);
    } catch {
      return { [fallback]: text };
    }
    const out: Record<string, unknown> = {};
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq <= 0) return { [fallback]: text };
      out[w.slice(0, eq)] = w.slice(eq + 1);
    }
    return out;
  };
}
