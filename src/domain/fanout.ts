/**
 * Which followers carry a new entry at once. A put needs a majority: the leader and `majority - 1`
 * followers. Sending it to exactly that many costs the fewest datagrams (4 with 5 replicas); on a
 * lossy network that would often miss the first round trip, so the leader widens the fan-out until
 * the chance of a first-round commit is high, estimating the round-trip delivery rate from the
 * replies it gets (progress.ts counts them).
 */
import type { Settings, Timing } from './config'
import type { Progress, ProgressTable } from './progress'
import type { NodeId } from './wire'

/** A follower that answered something we sent shortly before our latest send is alive and reachable. */
export const isResponsive = (p: Progress, timing: Timing): boolean =>
  p.lastSentAt === Number.NEGATIVE_INFINITY || p.ackedSentAt >= p.lastSentAt - 2 * timing.heartbeatMs

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

/**
 * `fanOut.firstRoundCommitTarget` (0.75): how sure the leader wants to be that the first round trip commits a new entry. A put that
 * misses it waits for the next put's AppendEntries (to other followers, carrying every entry they
 * lack) or for a resend: tens of milliseconds. Where elections and partitions already hold many
 * requests back, the misses decide the median: at 10% loss each way two of two round trips succeed
 * only 66% of the time, and two of three 91%. With 5 replicas the fan-out goes from two followers
 * to three at about 7% loss and to four at about 18%: far enough from 5%, 10% and 15% that the
 * leader's estimate of the delivery rate does not make it flap there, as 0.8 did (its steps fall at
 * 5.4% and 15.6%). With 0.6 (two of two at 10%) the leader sent 5 to 45% fewer datagrams where
 * datagrams are lost, but under the course's simulator advanced-1 and advanced-4 had medians over
 * 5 ms in about half their runs (BENCHMARKS.md, "Asking one more follower at 10% loss").
 *
 * `fanOut.fastRepairBelow` (0.8): below this chance of a first-round commit with every responsive follower asked, so many puts
 * miss the first round that the speed of resends decides the typical latency: lost entries are
 * then resent fast (replication.ts). Above it, resends wait for the tick and cost no datagrams.
 */

/** The round-trip delivery rate seen from the responsive followers, with a prior of clean trips. */
const deliveryRateOf = (progress: ProgressTable, responsive: readonly NodeId[]): number => {
  let answered = 0
  let lost = 0
  for (const peer of responsive) {
    answered += progress[peer]!.answered
    lost += progress[peer]!.lost
  }
  // A prior of a few clean round trips keeps a young estimate from swinging wildly.
  return (answered + 4) / (answered + lost + 4)
}

const responsivePeers = (progress: ProgressTable, timing: Timing): NodeId[] =>
  (Object.keys(progress) as NodeId[]).filter((peer) => isResponsive(progress[peer]!, timing))

/**
 * Whether even sending a new entry to every responsive follower leaves a first-round commit
 * unlikely: then many puts wait for a repair, and how fast lost datagrams are resent decides the
 * typical latency.
 */
export const firstRoundCommitUnlikely = (
  progress: ProgressTable,
  need: number,
  settings: Settings,
): boolean => {
  const responsive = responsivePeers(progress, settings.timing)
  return chanceOfAtLeast(need, responsive.length, deliveryRateOf(progress, responsive)) < settings.fanOut.fastRepairBelow
}

/**
 * The followers a new entry goes to at once: every one with `newEntries: 'all'` (config.ts);
 * otherwise the responsive ones, least recently contacted first (so that a steady stream of puts
 * doubles as everyone's heartbeat), as few as reach the target chance of a first-round commit.
 * Unresponsive followers hear of it with their next heartbeat.
 */
export const chooseFanout = (
  progress: ProgressTable,
  need: number,
  settings: Settings,
): NodeId[] => {
  const peers = Object.keys(progress) as NodeId[]
  if (settings.newEntries === 'all') return peers
  const responsive = responsivePeers(progress, settings.timing)
  if (responsive.length <= need) return peers
  const deliveryRate = deliveryRateOf(progress, responsive)
  const byOldestContact = [...responsive].sort((a, b) => progress[a]!.lastSentAt - progress[b]!.lastSentAt)
  let k = need
  while (k < byOldestContact.length && chanceOfAtLeast(need, k, deliveryRate) < settings.fanOut.firstRoundCommitTarget) k++
  return byOldestContact.slice(0, k)
}
