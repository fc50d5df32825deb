/**
 * What a client of the workload needs from a store: read, write and compare-and-set one key,
 * each ending in one of Jepsen's three outcomes. `fail` only where the operation certainly did not
 * take effect; `info` wherever it may have (a timeout, a connection lost after sending).
 */
export type Outcome<T> =
  | { readonly type: 'ok'; readonly value: T }
  | { readonly type: 'fail'; readonly error: string }
  | { readonly type: 'info'; readonly error: string }

export interface KvConnection {
  /** Each operation ends within the connection's own timeout. */
  read(key: string): Promise<Outcome<string | null>>
  write(key: string, value: string): Promise<Outcome<null>>
  /** Sets `value` only if the key holds `expected`; `fail` when it does not. */
  cas(key: string, expected: string, value: string): Promise<Outcome<null>>
  close(): void
}

/** Opens a client's own connection (each client has its own, and a new one after an `info`). */
export type Connect = (client: number) => KvConnection
