/** `count(1, 'bridge')` → `1 bridge`, `count(2, 'bridge')` → `2 bridges`: how show and check count things. */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
