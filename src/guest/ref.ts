/**
 * How a caller names a guest (the thing whose network namespace gets plumbed), and the
 * validation of those names. Pure: no I/O, nothing is opened or asked here.
 *
 * A guest reference is a word, as pipework takes it on its command line, or a structured
 * object for library callers. Precedence for words, first match wins:
 *
 *   `netns:NAME`          → the named namespace /run/netns/NAME   (ip netns add NAME)
 *   `pid:N`               → the namespace of process N             (/proc/N/ns/net)
 *   `/absolute/path`      → a namespace file; `/proc/N/ns/net` and `/proc/self/ns/net`
 *                           are routed through the race-free pid opener
 *   anything else         → a container name, full ID or unique ID prefix, looked up
 *                           through the Docker Engine API (pipework's `<guest>`)
 *
 * A bare word is never tried as /run/netns/<word> first: that would let whoever can
 * create a file under /run/netns redirect an attach meant for a container. Container
 * names cannot contain `:` or `/`, so the prefixes above never shadow a container.
 */
import { invalidArgument } from '../errors.js';
import { parseNetnsSelector, type NetnsSelector } from '../netns/index.js';

/**
 * A guest as a word (`con1`, `netns:blue`, `pid:42`, `/run/netns/blue`) or as an object:
 * a container, a named namespace (`{ netns }`, or `{ name }` as a NetnsSelector spells it),
 * a process (with `startTime`, a reused PID is refused: IDENTITY_MISMATCH) or a namespace
 * file. The one type of every API that names a guest: attach, detach, list, the daemon.
 */
export type GuestRef = string | { container: string } | { netns: string } | NetnsSelector;

/** What kind of reference resolved the guest. */
export type GuestKind = 'container' | 'netns' | 'pid' | 'path';

export type ParsedGuestRef =
  | { kind: 'container'; container: string; label: string }
  | { kind: 'netns' | 'pid' | 'path'; selector: NetnsSelector; label: string };

/** Longest container reference accepted (a 64-hex ID fits twice; Docker names are far shorter in practice). */
export const CONTAINER_REF_MAX = 128;

/**
 * Docker's name charset (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`), which also covers IDs and ID
 * prefixes. `..` is refused as well, although Docker would accept it inside a name:
 * the reference ends up in a URL path and must never look like path syntax.
 */
const CONTAINER_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A container name, full ID or ID prefix fit to put into an API URL; throws INVALID_ARGUMENT. */
export function validateContainerRef(ref: string): string {
  if (typeof ref !== 'string' || ref.length === 0)
    throw invalidArgument('container', 'a container name or ID must not be empty');
  if (ref.length > CONTAINER_REF_MAX)
    throw invalidArgument('container', `"${printable(ref)}" is longer than ${CONTAINER_REF_MAX} characters`);
  if (!CONTAINER_REF.test(ref) || ref.includes('..')) {
    throw invalidArgument(
      'container',
      `"${printable(ref)}" is not a container name or ID (letters, digits, "_", "-", "." only, starting with a letter or digit, no ".."); for a namespace use netns:NAME, pid:N or an absolute path`,
    );
  }
  return ref;
}

const PID_WORD = /^pid:[1-9][0-9]{0,6}$/;
/** `/proc/self/…` is a symlink the path opener refuses; it means this very process. */
const PROC_SELF = /^\/proc\/(?:self|thread-self)\/ns\/net$/;

/** Parse and validate a guest reference; throws INVALID_ARGUMENT before anything is opened or asked. */
export function parseGuestRef(ref: GuestRef): ParsedGuestRef {
  if (typeof ref === 'string') return parseGuestWord(ref);
  if (typeof ref !== 'object' || ref === null)
    throw invalidArgument('guest', `expected a container name, netns:NAME, pid:N or a path, got ${typeof ref}`);
  if ('container' in ref) return containerRef(ref.container);
  if ('netns' in ref) return parseGuestWord(`netns:${String(ref.netns)}`);
  if ('name' in ref) return parseGuestWord(`netns:${String(ref.name)}`);
  if ('path' in ref) {
    if (typeof ref.path !== 'string' || !ref.path.startsWith('/'))
      throw invalidArgument('netnsPath', `"${printable(String(ref.path))}" is not an absolute path`);
    return parseGuestWord(ref.path);
  }
  if ('pid' in ref) {
    const parsed = parseGuestWord(`pid:${String(ref.pid)}`);
    // The optional start time pins the process: a reused PID is refused by the opener.
    return ref.startTime === undefined
      ? parsed
      : { ...parsed, kind: 'pid', selector: { pid: ref.pid, startTime: ref.startTime } };
  }
  throw invalidArgument('guest', 'a guest object needs one of: container, netns, name, path, pid');
}

/** A parsed reference in object form (`{ container }`, `{ netns }`, `{ pid }`, `{ path }`): parsing it gives it back. */
export function guestRefOf(p: ParsedGuestRef): GuestRef {
  if (p.kind === 'container') return { container: p.container };
  const s = p.selector;
  return 'name' in s ? { netns: s.name } : { ...s };
}

function parseGuestWord(word: string): ParsedGuestRef {
  if (word.startsWith('pid:') && !PID_WORD.test(word))
    throw invalidArgument('pid', `"${printable(word)}" is not pid:N with N a decimal process id`);
  const selector = parseNetnsSelector(PROC_SELF.test(word) ? `/proc/${process.pid}/ns/net` : word);
  if (selector === null) return containerRef(word);
  return { kind: kindOf(selector), selector, label: word };
}

function containerRef(ref: string): ParsedGuestRef {
  return { kind: 'container', container: validateContainerRef(ref), label: `container "${ref}"` };
}

function kindOf(sel: NetnsSelector): 'netns' | 'pid' | 'path' {
  if ('name' in sel) return 'netns';
  if ('pid' in sel) return 'pid';
  return 'path';
}

function printable(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s).slice(1, -1);
}
