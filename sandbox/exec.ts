/**
 * Running the tools a sandbox needs (`ip`, `ovs-vsctl`, `podman`, `ping` …): argv arrays,
 * never a shell. Not the hot path: the engine itself never forks.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface RunOptions {
  /** Kill the command (SIGTERM) after this long; default 30 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGTERM) when aborted; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Written to the command's stdin, which is then closed (`ip -batch -`). */
  input?: string;
}

/** Run a command; resolves with its output and exit code (never rejects on a non-zero exit). */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 30_000,
        env: opts.env ?? process.env,
        maxBuffer: 64 * 1024 * 1024,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (err, stdout, stderr) => {
        if (err && err.name === 'AbortError') {
          reject(err);
          return;
        }
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`${argv.join(' ')}: ${err.message} (is it installed? bash .ci/setup installs it)`));
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Run a command that must succeed; throws with its stderr otherwise. */
export async function must(argv: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
