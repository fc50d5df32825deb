/**
 * What a leader tracks of each follower, and the choice of which followers carry a new entry.
 *
 * A put needs a majority: the leader and `majority - 1` followers. Sending it to exactly that many
 * costs the fewest datagrams (4 with 5 replicas); on a lossy network that would often miss the
 * first round trip, so the leader widens the fan-out until the chance of a first-round commit is
 * high, estimating the round-trip delivery rate from the replies it gets.
 */
import type { Progress, Timing } from './state'
import type { NodeId } from './wire'

export const freshProgress = (nextIndex: number): Progress => ({
  nextIndex,
  matchIndex: 0,
  ackedSentAt: Number.NEGATIVE_INFINITY,
  lastSentAt: Number.NEGATIVE_INFINITY,
  sent: 0,
  answered: 0,
})

/** A follower that answered something we sent shortly before our latest send is alive and reachable. */
export const isResponsive = (p: Progress, timing: Timing): boolean =>
  p.sent === 0 || p.ackedSentAt >= p.lastSentAt - 2 * timing.heartbeatMs

/** The chance that at least `need` of `k` independent round trips succeed, each with probability `q`. */
export const chanceOfAtLeast = (need: number, k: number, q: number): number => {
  let total = 0
  for (let hits = need; hits <= k; hits++) {
    total += binomial(k, hits) * q ** hits * (1 - q) ** (k - hits)
  }
  return total
}

const binomial = (n: number, k: number): number => {
  let result = 1
  for (let i = 1; i <= k; i++) result = (result * (n - k + i)) / i
  return result
}

/** How sure the leader wants to be that the first round trip commits a new entry. */
export const FIRST_ROUND_COMMIT_TARGET = 0.8

/**
 * The followers a new entry goes to at once: the responsive ones, least recently contacted first
 * (so that a steady stream of puts doubles as everyone's heartbeat), as few as reach the target
 * chance of a first-round commit. Unresponsive followers hear of it with their next heartbeat.
 */
export const chooseFanout = (
  progress: Readonly<Record<string, Progress>>,
  need: number,
  timing: Timing,
): NodeId[] => {
  const peers = Object.keys(progress) as NodeId[]
  const responsive = peers.filter((peer) => isResponsive(progress[peer]!, timing))
  if (responsive.length <= need) return peers
  let sent = 0
  let answered = 0
  for (const peer of responsive) {
    sent += progress[peer]!.sent
    answered += progress[peer]!.answered
  }
  // A prior of a few clean round trips keeps a young estimate from swinging wildly.
  const deliveryRate = Math.min(1, (answered + 4) / (sent + 4))
  const byOldestContact = [...responsive].sort((a, b) => progress[a]!.lastSentAt - progress[b]!.lastSentAt)
  let k = need
  while (k < byOldestContact.length && chanceOfAtLeast(need, k, deliveryRate) < FIRST_ROUND_COMMIT_TARGET) k++
  return byOldestContact.slice(0, k)
}
