/**
 * "Did you mean" for a mistyped command. Commander's own suggestion ranks by edit distance alone, so `stat` (one
 * insertion from `start`, two from `status`) suggested the command that changes things. A typed word that begins a
 * command name is read as that command cut short; otherwise the closest names by Damerau–Levenshtein distance.
 */

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The names `word` most likely meant (sorted), or none when nothing is close. */
export function suggestCommands(word: string, names: readonly string[]): string[] {
  const typed = word.toLowerCase();
  if (typed.length >= 2) {
    const prefixed = names.filter((n) => n.startsWith(typed));
    if (prefixed.length) return [...prefixed].sort();
  }
  let best = 3;
  let found: string[] = [];
  for (const name of names) {
    const distance = editDistance(typed, name);
    // At least 40 % of the longer word must survive the edits (commander's rule too).
    if ((Math.max(typed.length, name.length) - distance) / Math.max(typed.length, name.length) <= 0.4) continue;
    if (distance < best) {
      best = distance;
      found = [name];
    } else if (distance === best) {
      found.push(name);
    }
  }
  return found.sort();
}

/** The "(Did you mean …?)" commander appends to an unknown-command error, or ''. */
export function suggestionText(word: string, names: readonly string[]): string {
  const found = suggestCommands(word, names);
  if (found.length === 0) return '';
  return found.length === 1 ? `\n(Did you mean ${found[0]}?)` : `\n(Did you mean one of ${found.join(', ')}?)`;
}
