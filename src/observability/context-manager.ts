/**
 * OpenTelemetry's active context carried across awaits by AsyncLocalStorage (what the contrib context-async-hooks
 * package does), so the client's span is the parent of the workflow it starts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

export class AsyncLocalStorageContextManager implements ContextManager {
  private storage = new AsyncLocalStorage<Context>();

  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(context, () => fn.apply(thisArg, args));
  }

  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (fn: (...a: unknown[]) => unknown, self: unknown, a: unknown[]): unknown =>
      this.storage.run(context, () => fn.apply(self, a));
    const fn = target as unknown as (...a: unknown[]) => unknown;
    return function (this: unknown, ...a: unknown[]) {
      return run(fn, this, a);
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.storage.disable();
    this.storage = new AsyncLocalStorage<Context>();
    return this;
  }
}
