/**
 * "Did you mean" for a mistyped command. Commander's own suggestion ranks by edit distance alone, so `stat` (one
 * insertion from `start`, two from `status`) suggested the command that changes things. A typed word that begins a
 * command name is read as that command cut short; otherwise the closest names by Damerau–Levenshtein distance.
 */
import { editDistance } from '../contract/edit-distance';

export { editDistance };

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
