/** Node IDs as the protocol writes them (one definition: src/domain/ids.ts), and kvsim's own check of a datagram's ID fields. */
import { BROADCAST as WIRE_BROADCAST } from '../domain/wire'

/** `FFFF`, as a plain string: kvsim handles datagrams before knowing their fields are IDs. */
export const BROADCAST: string = WIRE_BROADCAST
export { CLIENT_COUNT, clientIds, replicaIds } from '../domain/ids'

const FOUR_HEX = /^[0-9A-Fa-f]{4}$/

/** The course's simulator accepts any four hex digits in `src`, `dst` and `leader`, either case. */
export function isFourHex(value: unknown): value is string {
  return typeof value === 'string' && FOUR_HEX.test(value)
}
