/** Node IDs as the protocol writes them: four upper-case hex digits. */
export const BROADCAST = 'FFFF'
export const CLIENT_COUNT = 8

export function formatId(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0')
}

export function replicaIds(replicas: number): string[] {
  return Array.from({ length: replicas }, (_, i) => formatId(i))
}

/** The 8 clients are numbered on from `replicas + 16`. */
export function clientIds(replicas: number): string[] {
  return Array.from({ length: CLIENT_COUNT }, (_, i) => formatId(replicas + 16 + i))
}

const FOUR_HEX = /^[0-9A-Fa-f]{4}$/

export function isFourHex(value: unknown): value is string {
  return typeof value === 'string' && FOUR_HEX.test(value)
}
