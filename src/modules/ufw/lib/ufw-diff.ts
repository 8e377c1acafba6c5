/**
 * From the rules ufw has to the rules declared: the ufw commands to run, in order, and the rule
 * list ufw will hold afterwards. Pure; mirrors what ufw itself does with each command:
 *
 * - a rule that differs from an existing one only in action, logging or comment is replaced in
 *   place by a plain `ufw ACTION ...` (ufw matches it and updates it);
 * - a missing rule is inserted (`ufw insert N`) just before the next declared rule that is
 *   already there, so declared order is evaluation order (ufw: first match wins); with no such
 *   rule it is appended;
 * - with `exclusive`, every other rule is deleted with `ufw delete ...`.
 *
 * Rules already present are never moved: moving means deleting and re-adding, which would open
 * a window without the rule.
 */
import type { UfwRule } from '../../../facts/ufw.js';
import { describeRule, fullKey, groupTuples, isCounterpart, matchKey, ufwCommand, type RuleGroup } from './ufw-rules.js';

export interface RuleOp {
  kind: 'add' | 'insert' | 'update' | 'delete';
  command: string;
  /** Check-mode line: `add allow 22/tcp`, `remove deny 25`, `update allow 22/tcp -> limit 22/tcp`. */
  change: string;
}

export interface RuleDiff {
  /** Adds, inserts and updates, in declaration order. */
  adds: RuleOp[];
  deletes: RuleOp[];
  /** The tuples ufw holds afterwards: IPv4 then IPv6, each in evaluation order. */
  final: UfwRule[];
}

export function diffRules(current: UfwRule[], desired: RuleGroup[], opts: { exclusive: boolean; ipv6: boolean }): RuleDiff {
  const lists: Record<4 | 6, UfwRule[]> = { 4: current.filter((t) => !t.v6), 6: current.filter((t) => t.v6) };
  const fam = (t: UfwRule): 4 | 6 => (t.v6 ? 6 : 4);
  const has = (t: UfwRule) => lists[fam(t)].some((u) => fullKey(u) === fullKey(t));
  const adds: RuleOp[] = [];

  desired.forEach((g, gi) => {
    const found = g.tuples.map((t) => ({ t, at: lists[fam(t)].findIndex((u) => matchKey(u) === matchKey(t)) }));
    const differs = found.filter(({ t, at }) => at >= 0 && fullKey(lists[fam(t)][at]!) !== fullKey(t));
    const missing = found.filter(({ at }) => at < 0);
    if (differs.length === 0 && missing.length === 0) return;
    const text = describeRule(g, opts.ipv6);
    if (differs.length > 0 || missing.length < g.tuples.length) {
      // ufw replaces a matching rule in place and appends what is missing.
      const old = differs.length ? describeRule(differs.map(({ t, at }) => lists[fam(t)][at]!), opts.ipv6 && differs.length === 2) : undefined;
      for (const { t, at } of found) {
        if (at >= 0) lists[fam(t)][at] = t;
        else lists[fam(t)].push(t);
      }
      adds.push({
        kind: differs.length ? 'update' : 'add',
        command: ufwCommand(g.tuples, { kind: 'add' }),
        change: old ? `update ${old} -> ${text}` : `add ${text}`,
      });
      return;
    }
    const position = placeNew(g, desired.slice(gi + 1), lists, has);
    adds.push({
      kind: position ? 'insert' : 'add',
      command: ufwCommand(g.tuples, position ? { kind: 'insert', position } : { kind: 'add' }),
      change: `add ${text}`,
    });
  });

  const deletes: RuleOp[] = [];
  if (opts.exclusive) {
    const wanted = new Set(desired.flatMap((g) => g.tuples.map(fullKey)));
    const extra = [...lists[4], ...lists[6]].filter((t) => !wanted.has(fullKey(t)));
    const seenApps = new Set<string>();
    for (const g of groupTuples(extra)) {
      const t = g.tuples[0]!;
      if (t.dapp || t.sapp) {
        // One application rule is stored as one tuple per port/protocol of its profile.
        const key = appKey(t);
        if (seenApps.has(key)) continue;
        seenApps.add(key);
      }
      deletes.push({ kind: 'delete', command: ufwCommand(g.tuples, { kind: 'delete' }), change: `remove ${describeRule(g, opts.ipv6)}` });
    }
    const gone = new Set(extra);
    lists[4] = lists[4].filter((t) => !gone.has(t));
    lists[6] = lists[6].filter((t) => !gone.has(t));
  }
  return { adds, deletes, final: [...lists[4], ...lists[6]] };
}

const appKey = (t: UfwRule) => [t.v6, t.action, t.route, t.direction, t.interfaceIn, t.interfaceOut, t.src, t.dst, t.dapp, t.sapp].join('|');

/**
 * Where `ufw insert` puts a new rule so that it lands before the next declared rule already
 * present, following ufw's own placement of the second family of an "any" rule; updates the
 * simulated lists. Returns the position to pass to `ufw insert`, or undefined to append.
 */
function placeNew(g: RuleGroup, later: RuleGroup[], lists: Record<4 | 6, UfwRule[]>, has: (t: UfwRule) => boolean): number | undefined {
  const anchor = (v6: boolean): number => {
    for (const l of later) {
      const t = l.tuples.find((u) => u.v6 === v6);
      if (t && has(t)) return lists[v6 ? 6 : 4].findIndex((u) => fullKey(u) === fullKey(t));
    }
    return -1;
  };
  const t4 = g.tuples.find((t) => !t.v6);
  const t6 = g.tuples.find((t) => t.v6);
  const a4 = t4 ? anchor(false) : -1;
  const a6 = t6 ? anchor(true) : -1;
  const insertAt = (list: UfwRule[], at: number, t: UfwRule) => (at >= 0 ? list.splice(at, 0, t) : list.push(t));

  if (t4 && t6) {
    // One command places both halves. With a position among the IPv4 rules, ufw puts the IPv4
    // half there and the IPv6 half before the IPv6 twin of the rule it went before (with a quirk:
    // a twin further down than the number of IPv4 rules gets that number subtracted); with a
    // position among the IPv6 rules, the reverse. Try both; keep the one that puts each half
    // where it belongs (before the next declared rule of its family), else append.
    const options: Array<{ position?: number; l4: UfwRule[]; l6: UfwRule[] }> = [];
    if (a6 >= 0) {
      const l4 = [...lists[4]];
      const l6 = [...lists[6]];
      const position = ufwCount(l4) + ufwPosition(l6, a6);
      insertAt(l4, l4.findIndex((u) => isCounterpart(lists[6][a6]!, u)), t4);
      insertAt(l6, a6, t6);
      options.push({ position, l4, l6 });
    }
    if (a4 >= 0) {
      const l4 = [...lists[4]];
      const l6 = [...lists[6]];
      insertAt(l4, a4, t4);
      let p6 = l6.findIndex((u) => isCounterpart(lists[4][a4]!, u)) + 1;
      if (p6 > ufwCount(l4)) p6 -= ufwCount(l4);
      insertAt(l6, p6 - 1, t6);
      options.push({ position: ufwPosition(l4, a4), l4, l6 });
    }
    options.push({ position: undefined, l4: [...lists[4], t4], l6: [...lists[6], t6] });
    const score = (o: (typeof options)[number]) =>
      Number(o.l4.indexOf(t4) === (a4 >= 0 ? a4 : lists[4].length)) + Number(o.l6.indexOf(t6) === (a6 >= 0 ? a6 : lists[6].length));
    const best = options.reduce((a, b) => (score(b) > score(a) ? b : a));
    lists[4] = best.l4;
    lists[6] = best.l6;
    return best.position;
  }
  const t = (t4 ?? t6)!;
  const a = t4 ? a4 : a6;
  if (a < 0) {
    lists[t.v6 ? 6 : 4].push(t);
    return undefined;
  }
  const position = (t.v6 ? ufwCount(lists[4]) : 0) + ufwPosition(lists[t.v6 ? 6 : 4], a);
  insertAt(lists[t.v6 ? 6 : 4], a, t);
  return position;
}

/** How many rules ufw counts in a list. */
const ufwCount = (list: UfwRule[]): number => (list.length ? ufwPosition(list, list.length - 1) : 0);

/** ufw's 1-based rule number of list[index]: an application rule's tuples count once. */
function ufwPosition(list: UfwRule[], index: number): number {
  const seen = new Set<string>();
  let n = 0;
  for (let i = 0; i <= index; i++) {
    const t = list[i]!;
    if (t.dapp || t.sapp) {
      if (seen.has(appKey(t))) continue;
      seen.add(appKey(t));
    }
    n++;
  }
  return n;
}
