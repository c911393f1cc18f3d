/**
 * Admission control and dispatch of the daemon's requests (each received line is made a
 * request by rpc.ts, or answered there if it is not one): an unknown method is refused
 * (method not found); once the daemon is draining, every request is refused (UNAVAILABLE,
 * "shutting down"); at most `maxConcurrent` requests run at once over all connections
 * (beyond: UNAVAILABLE "busy", retryable), except the methods marked exempt in the table
 * (no engine work: ping, version). An admitted request runs its method (methods.ts) and
 * its answer is handed back before it stops counting as in flight.
 */
import type { Logger } from 'pino';
import { ErrorCode, NetplumbError } from '../errors.js';
import {
  type CallContext,
  METHODS,
  METHOD_TABLE,
  type Method,
  type MethodContext,
  type MethodHandler,
  isMethod,
} from './methods.js';
import { RPC_METHOD_NOT_FOUND } from './protocol.js';
import { type RpcRequest, asNetplumbError, errorLine, receiveLine, successLine } from './rpc.js';

export interface DispatcherOptions {
  maxConcurrent: number;
  context: MethodContext;
  /** A request is admitted. */
  onBusy?: () => void;
  /** The last request in flight has finished. */
  onIdle?: () => void;
}

/** How a request ended. */
type Outcome = { result: unknown } | { error: NetplumbError };

export class Dispatcher {
  /** Requests admitted and not finished, and relayed calls (track) not finished. */
  #inFlight = 0;
  /** Of #inFlight, the relayed calls: not requests, not counted against maxConcurrent. */
  #relayed = 0;
  #draining = false;
  #idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: DispatcherOptions) {}

  /** Requests admitted and not finished. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Refuse every request from now on. */
  drain(): void {
    this.#draining = true;
  }

  /** Resolves once no request is in flight. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Serve one received line: a request is dispatched; a line that is not one gets its
   * error answer; a notification is ignored. Returns what `dispatch` returns.
   */
  serve(line: string, reply: (line: string) => void, call: CallContext, log?: Logger): Promise<void> | undefined {
    const received = receiveLine(line);
    if ('request' in received) return this.dispatch(received.request, reply, call, log);
    if ('answer' in received) reply(received.answer);
    else log?.debug('notification ignored');
    return undefined;
  }

  /**
   * Answer `req` through `reply`: at once when it is refused (undefined is returned), or
   * once its method has run (the promise settles after the answer was handed to `reply`).
   * `call`: who sent it, and its connection; `log` is the connection's (bound to its peer).
   */
  dispatch(req: RpcRequest, reply: (line: string) => void, call: CallContext, log?: Logger): Promise<void> | undefined {
    const { id, method, params } = req;
    if (!isMethod(method)) {
      reply(unknownMethod(id, method));
      return undefined;
    }
    const running = this.#admit(method, params, call, log, (outcome) =>
      reply('error' in outcome ? errorLine(id, outcome.error) : successLine(id, outcome.result)),
    );
    if (running instanceof NetplumbError) {
      reply(errorLine(id, running));
      return undefined;
    }
    return running;
  }

  /**
   * Run `method` as one request, admitted or refused exactly as a JSON-RPC request is: a
   * refusal is returned at once (as the error), an admitted request settles with its
   * method's result or error. The calls relayed by the front door (front-door.ts)
   * come through here.
   */
  call(method: Method, params: unknown, call: CallContext, log?: Logger): Promise<unknown> | NetplumbError {
    let outcome: Outcome | undefined;
    const running = this.#admit(method, params, call, log, (o) => {
      outcome = o;
    });
    if (running instanceof NetplumbError) return running;
    return running.then(() => {
      if (outcome === undefined || 'error' in outcome) throw outcome?.error;
      return outcome.result;
    });
  }

  /**
   * Admit a request for `method` (or return the refusal), run it, and hand its outcome to
   * `settle` before it stops counting as in flight: an answer is written before a graceful
   * shutdown, waiting for idle(), hangs its connection up.
   */
  #admit(
    method: Method,
    params: unknown,
    call: CallContext,
    log: Logger | undefined,
    settle: (outcome: Outcome) => void,
  ): Promise<void> | NetplumbError {
    const handler = METHOD_TABLE[method];
    const refusal = this.#refusal(handler);
    if (refusal !== undefined) return refusal;
    this.#inFlight++;
    this.opts.onBusy?.();
    return handler
      .serve(this.opts.context, params, (fields) => log?.info({ method, ...fields }, 'request'), call)
      .then(
        (result) => settle({ result }),
        (e: unknown) => {
          const error = asNetplumbError(e);
          if (error.code === ErrorCode.INTERNAL) log?.error({ method, err: e }, 'request failed');
          else log?.info({ method, code: error.code, msg: error.message }, 'request failed');
          settle({ error });
        },
      )
      .finally(() => this.#finished());
  }

  /**
   * Run `method` for the daemon itself (its gc runs, gc-timer.ts): through its table entry,
   * so recorded in the history like any request, but neither admitted nor counted as a
   * request in flight (the daemon waits for its own runs when it stops).
   */
  runOwn(method: Method, params: unknown, call: CallContext): Promise<unknown> {
    return METHOD_TABLE[method].serve(this.opts.context, params, () => undefined, call);
  }

  /**
   * Count `call` (a call relayed by the front door) as in flight until it settles: idle()
   * waits for it, so a graceful shutdown lets it finish. Not admission: the requests it
   * makes are admitted one by one through call().
   */
  track(call: Promise<void>): void {
    this.#inFlight++;
    this.#relayed++;
    this.opts.onBusy?.();
    void call.finally(() => {
      this.#relayed--;
      this.#finished();
    });
  }

  /** Why a request for `handler`'s method is not admitted now, if it is not. */
  #refusal(handler: MethodHandler): NetplumbError | undefined {
    if (this.#draining)
      return new NetplumbError(
        ErrorCode.UNAVAILABLE,
        'the netplumb daemon is shutting down; retry (the command acts directly once it is gone)',
      );
    const max = this.opts.maxConcurrent;
    if (this.#inFlight - this.#relayed >= max && !handler.exempt)
      return new NetplumbError(ErrorCode.UNAVAILABLE, `busy: ${max} requests in flight; retry`, { limit: max });
    return undefined;
  }

  #finished(): void {
    this.#inFlight--;
    if (this.#inFlight > 0) return;
    this.opts.onIdle?.();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

function unknownMethod(id: RpcRequest['id'], method: string): string {
  const err = new NetplumbError(
    ErrorCode.UNSUPPORTED,
    `unknown method ${JSON.stringify(method.slice(0, 64))}; methods: ${METHODS.join(', ')}`,
    { field: 'method' },
  );
  return errorLine(id, err, RPC_METHOD_NOT_FOUND);
}
