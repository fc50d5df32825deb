/** What every client command of `raftkv` shares: where the cluster is, how long to try, how it ends. */
import { ClientError, DEFAULT_TIMEOUT_MS, RaftkvClient } from '../../client/client'
import { defaultEndpoints, endpointList } from './local'

export const clientOptions = {
  endpoints: {
    kind: 'string',
    help: 'client URLs of the replicas, comma-separated (default: RAFTKV_ENDPOINTS, else the local cluster of `raftkv cluster up`)',
    value: 'URLS',
  },
  timeout: { kind: 'number', help: 'give up after this many seconds, retries included', default: DEFAULT_TIMEOUT_MS / 1000, min: 0.1 },
} as const

/** A write's request ID: a write retried with the same ID is applied once (docs/http-api.md). */
export const requestIdOption = {
  'request-id': {
    kind: 'string',
    help: 'the request ID (X-Request-Id): a write retried with the same ID is applied once (default: a new UUID)',
    value: 'ID',
  },
} as const

export const CLIENT_EXIT_CODES =
  'Exit codes: 0 done; 1 the key has no value (get) or the comparison failed (cas); 2 bad arguments; 3 no answer from the cluster, or an error.'

export const EXIT_NO_VALUE = 1
export const EXIT_NO_ANSWER = 3

/** Runs `work` with a client of the cluster; a ClientError is printed and exits 3. */
export const withClient = async (
  name: string,
  options: { readonly endpoints: string | undefined; readonly timeout: number },
  work: (client: RaftkvClient) => Promise<number>,
): Promise<number> => {
  const client = new RaftkvClient({ endpoints: endpointList(options.endpoints ?? defaultEndpoints()), timeoutMs: options.timeout * 1000 })
  try {
    return await work(client)
  } catch (error) {
    if (!(error instanceof ClientError) && !(error instanceof Error && 'code' in error)) throw error
    process.stderr.write(`${name}: ${error.message}\n`)
    return EXIT_NO_ANSWER
  } finally {
    client.close()
  }
}
