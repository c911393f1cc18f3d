/**
 * Declared attachments: what `attach --persist` asked for, kept in one JSON file of the
 * daemon's state directory (default /var/lib/netplumb/declared.json, or $NETPLUMB_STATE_DIR).
 *
 * A file, not OVSDB rows: an OVS port's external_ids go with the port (a detach, gc, an
 * `ovs-vsctl del-br`, a fresh conf.db), while a declaration must outlive its port, the
 * daemon, ovsdb-server and a reboot. The file is never half-written: each change is written
 * to a temporary file in the same directory, fsynced, renamed over the old one, and the
 * directory fsynced (equivalent to: write tmp; sync tmp; mv tmp declared.json; sync dir).
 * Changes made through one store are serialized; the daemon is the one writer while it runs
 * (a command acting alone uses a state directory the daemon does not serve).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, NetplumbError, describeErrno } from '../errors.js';
import type { AttachSpec } from '../plumb/spec.js';

export const DEFAULT_STATE_DIR = '/var/lib/netplumb';
export const STATE_FILE = 'declared.json';
const FORMAT_VERSION = 1;

/** One declared attachment: the attach to make again in each new run of the container. */
export interface Declaration {
  /** The container's full id (declarations follow a container, not a name). */
  containerId: string;
  /** Its name when declared, for people reading the list. */
  containerName?: string;
  /** The interface in the container: with containerId, the declaration's key. */
  ifname: string;
  /** The attach as it is made again: the container by id, the MAC fixed to the one first given. */
  spec: AttachSpec;
  /** ISO 8601 time of the declaration. */
  declaredAt: string;
}

/** The state directory: the option, else $NETPLUMB_STATE_DIR, else /var/lib/netplumb. */
export function resolveStateDir(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = given ?? env.NETPLUMB_STATE_DIR;
  if (dir === undefined || dir === '') return DEFAULT_STATE_DIR;
  if (!dir.startsWith('/'))
    throw new NetplumbError(ErrorCode.INVALID_ARGUMENT, `state directory ${JSON.stringify(dir)} is not absolute`, {
      field: 'stateDir',
    });
  return dir;
}

export function sameDeclaration(a: { containerId: string; ifname: string }, b: Declaration): boolean {
  return a.containerId === b.containerId && a.ifname === b.ifname;
}

export class DeclarationStore {
  readonly path: string;
  /** The last change under way: the next one starts after it. */
  #writing: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {
    this.path = join(dir, STATE_FILE);
  }

  /** Every declaration; none when the file does not exist yet. */
  async read(): Promise<Declaration[]> {
    await this.#writing.catch(() => undefined);
    return this.#load();
  }

  /** Change the declarations (`change` returns the new list) and write them atomically; resolves with the new list. */
  update(change: (current: Declaration[]) => Declaration[]): Promise<Declaration[]> {
    const next = this.#writing
      .catch(() => undefined)
      .then(() => {
        const before = this.#load();
        const after = change(before);
        if (after !== before) this.#write(after);
        return after;
      });
    this.#writing = next;
    return next;
  }

  #load(): Declaration[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.#fsError(e, 'read');
    }
    return parseStateFile(text, this.path);
  }

  #write(declarations: Declaration[]): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify({ version: FORMAT_VERSION, declarations }, null, 1)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (e) {
      throw this.#fsError(e, 'write');
    }
  }

  #fsError(e: unknown, what: 'read' | 'write'): NetplumbError {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return new NetplumbError(
      code === 'EACCES' || code === 'EPERM' ? ErrorCode.PRIVILEGE : ErrorCode.UNAVAILABLE,
      `cannot ${what} the declared attachments in ${this.path}: ${code} (${describeErrno(code)}); check the state directory (--state-dir, $NETPLUMB_STATE_DIR)`,
      { path: this.path, errnoCode: code },
    );
  }
}

/** The state file's text into declarations; anything else is a PROTOCOL error naming the file. */
export function parseStateFile(text: string, path: string): Declaration[] {
  const bad = (why: string) =>
    new NetplumbError(
      ErrorCode.PROTOCOL,
      `${path} is not a netplumb state file (${why}); move it away to start with no declarations`,
      { path },
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  if (!isObject(doc) || doc.version !== FORMAT_VERSION || !Array.isArray(doc.declarations))
    throw bad(`expected {"version":${FORMAT_VERSION},"declarations":[…]}`);
  return doc.declarations.map((d, i) => {
    if (
      !isObject(d) ||
      typeof d.containerId !== 'string' ||
      typeof d.ifname !== 'string' ||
      typeof d.declaredAt !== 'string' ||
      !isObject(d.spec) ||
      (d.containerName !== undefined && typeof d.containerName !== 'string')
    )
      throw bad(`declaration ${i} lacks containerId, ifname, declaredAt or spec`);
    return d as unknown as Declaration;
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
