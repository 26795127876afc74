/** `text` cut to `max` characters (with an ellipsis and the original length), so stored strings stay bounded. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length} characters)`;
}
