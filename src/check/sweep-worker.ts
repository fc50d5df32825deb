/** A worker thread of `check:sim --workers N`: runs the seeds it is sent, one at a time (sweep.ts). */
import { parentPort, workerData } from 'node:worker_threads'
import { localRunner, type FromWorker, type SweepParams, type ToWorker } from './sweep'

const port = parentPort
if (port === null) throw new Error('sweep-worker.js runs as a worker thread of check:sim')
const runner = localRunner(workerData as SweepParams)

port.on('message', (message: ToWorker) => {
  runner.run(message.seed).then(
    (result) => port.postMessage({ result } satisfies FromWorker),
    (error: unknown) => port.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies FromWorker),
  )
})
