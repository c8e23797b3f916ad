/**
 * POSIX shell quoting for the `yolo` commands Spotter shows and writes: a run's command.sh and the
 * wizard's preview are built by the same functions, so what the user copies from the preview is
 * exactly what command.sh will hold (less project/name). Pure and dependency-free: both sides import it.
 */

/** Characters that never need quoting in a POSIX shell word (ASCII only: anything else is quoted). */
const SAFE_WORD = /^[\w./:+@%,=-]+$/;

/**
 * One shell word: left as it is when it holds only safe characters, else single-quoted with every `'`
 * written as `'\''`. Inside single quotes nothing is special ($, `, \, spaces, newlines, non-ASCII), so
 * `sh -c "printf %s <quoted>"` prints the original string. The empty string is `''`.
 */
export function shellQuote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A value as the `yolo` CLI spells it: True / False / None, everything else as text. */
export function yoloValue(v: unknown): string {
  return v === true ? 'True' : v === false ? 'False' : v === null || v === undefined ? 'None' : String(v);
}

/**
 * `yolo <task> <mode> k=v …` with every `k=v` quoted as one word (the key too: keys come from requests
 * and spec files, and quoting keeps the command safe whatever they hold).
 */
export function yoloCommandLine(task: string, mode: string, args: ReadonlyArray<readonly [string, unknown]>): string {
  return ['yolo', shellQuote(task), shellQuote(mode), ...args.map(([k, v]) => shellQuote(`${k}=${yoloValue(v)}`))].join(' ');
}
