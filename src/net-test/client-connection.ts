/**
 * A workload connection through the project's client (src/client): its leader cache, its retries
 * with one request ID, its timeouts, over one keep-alive socket per client. Its outcomes in
 * Jepsen's terms: an answer is `ok` (a failed comparison `fail`); a refusal of the request itself
 * is `fail`, since nothing was done; anything else that ends the operation without an
 * answer (its deadline, a lost connection) is `info`: the write may have been applied.
 * A refusal is a 4xx other than 408, or 501 (not implemented).
 */
import { ClientError, RaftkvClient } from '../client/client'
import type { KvConnection, Outcome } from './connection'

export interface ClientConnectionOptions {
  readonly endpoints: readonly string[]
  /** The whole operation, retries included. */
  readonly timeoutMs: number
  /** One attempt at one replica (a paused one is given up after this). */
  readonly attemptTimeoutMs: number
}

const failure = (error: unknown): Outcome<never> => {
  const message = error instanceof Error ? error.message : String(error)
  const status = error instanceof ClientError ? error.status : undefined
  const refused = status !== undefined && ((status >= 400 && status < 500 && status !== 408) || status === 501)
  return refused ? { type: 'fail', error: message } : { type: 'info', error: message }
}

export class ClientConnection implements KvConnection {
  private readonly client: RaftkvClient

  constructor(options: ClientConnectionOptions) {
    this.client = new RaftkvClient({ endpoints: options.endpoints, timeoutMs: options.timeoutMs, attemptTimeoutMs: options.attemptTimeoutMs, maxSockets: 1 })
  }

  async read(key: string): Promise<Outcome<string | null>> {
    try {
      return { type: 'ok', value: (await this.client.get(key)) ?? null }
    } catch (error) {
      return failure(error)
    }
  }

  async write(key: string, value: string): Promise<Outcome<null>> {
    try {
      await this.client.put(key, value)
      return { type: 'ok', value: null }
    } catch (error) {
      return failure(error)
    }
  }

  async cas(key: string, expected: string, value: string): Promise<Outcome<null>> {
    try {
      return (await this.client.cas(key, expected, value)) ? { type: 'ok', value: null } : { type: 'fail', error: 'the comparison failed' }
    } catch (error) {
      return failure(error)
    }
  }

  close(): void {
    this.client.close()
  }
}
