import { decodeScenario, Scenario } from '../../src/sim/scenario'

/** A short scenario (override any field of the file format). */
export function shortScenario(overrides: Record<string, unknown> = {}): Scenario {
  const { tests, ...rest } = overrides
  return decodeScenario('test', {
    lifetime: 5,
    replicas: 5,
    requests: 50,
    mix: 0.5,
    start_wait: 2,
    end_wait: 1,
    tests: {
      benchmarks: {
        total_msgs: [100, 1000, 5000],
        failures: [1, 5, 20],
        duplicates: [0, 2, 5],
        median_latency: [0.0001, 0.005, 0.05],
      },
      ...(tests as object | undefined),
    },
    ...rest,
  })
}

export const bytes = (message: object | string): Buffer =>
  Buffer.from(typeof message === 'string' ? message : JSON.stringify(message))
