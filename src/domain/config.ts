/**
 * The replica's settings, every one in one place: how long it waits for things (`Timing`, times
 * only, in milliseconds), how much it carries and keeps (`Limits`), how sure a leader wants to be
 * of a first-round commit (`FanOut`), how clients are answered (`ClientStyle`) and how gets are confirmed (`ReadStyle`). They are validated once, at start-up (`initialState`),
 * because some are safe only together: the read lease is safe only while its margin is below the
 * minimum election timeout, and a heartbeat must come well within that timeout.
 */
import * as E from 'fp-ts/Either'
import { MAX_DATAGRAM_BYTES } from './wire'

export interface Timing {
  /** How often a leader makes sure every follower has heard from it. */
  readonly heartbeatMs: number
  /** Election timeouts are drawn uniformly from [min, max] (§5.2). */
  readonly electionTimeoutMinMs: number
  readonly electionTimeoutMaxMs: number
  /**
   * While an entry waits to commit, the leader resends it to lagging followers this often: on a
   * lossy network a lost AppendEntries or reply would otherwise cost half a heartbeat interval.
   * Sends younger than this count against the flow-control budget (progress.ts, isPaused).
   */
  readonly retransmitMs: number
  /** A campaign asks again the peers that have not answered after this long, then twice as long, and so on. */
  readonly voteRetryMs: number
  /**
   * Safety margin taken off the read lease. The clock is shared, but a reply can sit behind a
   * backlog on a loaded machine; the client's check compares the order in which replies arrive.
   */
  readonly leaseMarginMs: number
  /**
   * At start-up the first election waits this long per replica of the cluster on top of the usual
   * timeout, for every replica to have started (election.ts, armFirstElectionTimer).
   */
  readonly startupGracePerReplicaMs: number
  /** How soon after our redirect a retry that went elsewhere shows clients cannot reach that leader (client-requests.ts). */
  readonly quickRetryMs: number
}

export interface Limits {
  /** How many times a campaign asks again. */
  readonly voteRetries: number
  /** The most entries one AppendEntries carries (keeps every datagram far below MAX_DATAGRAM_BYTES). */
  readonly maxEntriesPerAppend: number
  /**
   * §7: the log is compacted once this many applied entries follow the last snapshot point; it
   * keeps between one and two times this many applied entries, for followers a little behind.
   */
  readonly snapshotEvery: number
  /** The most characters of snapshot one InstallSnapshot carries (at most 6 bytes each in JSON). */
  readonly snapshotChunkChars: number
  /** How many pieces of a snapshot may be on their way to a follower at once. */
  readonly snapshotPiecesInFlight: number
  /**
   * Flow control: how many AppendEntries younger than `retransmitMs` a leader keeps on their way,
   * shared out among its followers (progress.ts, pipelinedPerFollower).
   */
  readonly pipelineBudget: number
  /** At most this many unanswered sends are remembered per follower; older ones count as lost. */
  readonly maxInFlight: number
  /** How many unanswered sends a follower may have and still get fast resends (replication.ts). */
  readonly maxFastResends: number
}

/** How widely a leader sends a new entry (progress.ts, chooseFanout); both are probabilities. */
export interface FanOut {
  /** How sure the leader wants to be that the first round trip commits a new entry. */
  readonly firstRoundCommitTarget: number
  /** Below this chance of a first-round commit with every responsive follower asked, lost entries are resent fast. */
  readonly fastRepairBelow: number
}

/**
 * How clients are answered. `course`: as the course's protocol says (a get of a key with no value
 * is answered with the empty value). `standalone` (the real cluster's HTTP API): a get of a key
 * with no value is answered without a value, so that "no value" and "the empty value" differ.
 * (In both, a write whose request ID (MID) the store has applied already is answered ok at once:
 * client-requests.ts.)
 */
export type ClientStyle = 'course' | 'standalone'

/**
 * How the leader makes sure a get is linearizable (reads.ts). `lease` (the course's: all replicas
 * share one clock there): it answers within a lease its followers' acknowledgements grant.
 * `readIndex` (the real cluster's, thesis §6.4): it answers once a majority has acknowledged a
 * heartbeat sent after the get arrived; no clock is trusted across machines.
 */
export type ReadStyle = 'lease' | 'readIndex'

/**
 * Which followers get a new entry at once (fanout.ts, chooseFanout). `fewest` (the course's, where
 * datagrams are counted and lost): as many as the odds of a first-round commit need. `all` (the
 * real cluster's, §5.3: the leader "issues AppendEntries RPCs in parallel to each of the other
 * servers"): every follower, so that a put commits with the fastest majority rather than waiting
 * on the one follower it was sent to when that one is slow (its disk, its share of the CPU).
 */
export type NewEntriesStyle = 'fewest' | 'all'

export interface Settings {
  readonly timing: Timing
  readonly limits: Limits
  readonly fanOut: FanOut
  readonly clients: ClientStyle
  readonly reads: ReadStyle
  readonly newEntries: NewEntriesStyle
}

/** A settings object with some of its groups' fields changed. */
export interface SettingsChanges {
  readonly timing?: Partial<Timing>
  readonly limits?: Partial<Limits>
  readonly fanOut?: Partial<FanOut>
  readonly clients?: ClientStyle
  readonly reads?: ReadStyle
  readonly newEntries?: NewEntriesStyle
}

/**
 * The replica's defaults. Why each value is what it is (measured under the course's simulator) is
 * in BENCHMARKS.md and in the comments where each is used.
 */
export const defaultSettings: Settings = {
  timing: {
    heartbeatMs: 500,
    electionTimeoutMinMs: 1500,
    electionTimeoutMaxMs: 2500,
    retransmitMs: 30,
    voteRetryMs: 100,
    leaseMarginMs: 300,
    startupGracePerReplicaMs: 100,
    quickRetryMs: 100,
  },
  limits: {
    voteRetries: 3,
    maxEntriesPerAppend: 64,
    snapshotEvery: 1000,
    snapshotChunkChars: 8000,
    snapshotPiecesInFlight: 4,
    pipelineBudget: 80,
    maxInFlight: 16,
    maxFastResends: 3,
  },
  fanOut: {
    firstRoundCommitTarget: 0.75,
    fastRepairBelow: 0.8,
  },
  clients: 'course',
  reads: 'lease',
  newEntries: 'fewest',
}

/**
 * The real cluster's settings (`raftkv serve`): the course's, but for how clients are answered, how
 * gets are confirmed, who gets new entries, and when an unanswered AppendEntries counts as lost:
 * after 250 ms (half a heartbeat), not 30. Its transport (TCP) loses nothing short of a dropped
 * connection, and an answer often takes longer than 30 ms behind a follower's fsync on a busy
 * machine: each such late answer made the leader send every entry since the follower's matchIndex
 * again (BENCHMARKS.md, the real cluster).
 */
export const standaloneSettings: Settings = {
  ...defaultSettings,
  timing: { ...defaultSettings.timing, retransmitMs: 250 },
  clients: 'standalone',
  reads: 'readIndex',
  newEntries: 'all',
}

export const withSettings = (base: Settings, changes: SettingsChanges): Settings => ({
  timing: { ...base.timing, ...changes.timing },
  limits: { ...base.limits, ...changes.limits },
  fanOut: { ...base.fanOut, ...changes.fanOut },
  clients: changes.clients ?? base.clients,
  reads: changes.reads ?? base.reads,
  newEntries: changes.newEntries ?? base.newEntries,
})

/** What an InstallSnapshot carries besides its data, in bytes, at most (IDs, term, indexes, offset, sentAt). */
const SNAPSHOT_ENVELOPE_BYTES = 1_000

/**
 * Every problem with `settings`, in words that name the setting, its value and what it must be;
 * the settings themselves when there is none.
 */
export const validateSettings = (settings: Settings): E.Either<readonly string[], Settings> => {
  const problems: string[] = []
  const { timing, limits, fanOut } = settings
  const check = (ok: boolean, problem: string): void => {
    if (!ok) problems.push(problem)
  }
  for (const [name, value] of Object.entries(timing)) {
    check(Number.isFinite(value) && value >= 0, `timing.${name} must be a number of milliseconds, at least 0 (got ${value})`)
  }
  for (const name of ['heartbeatMs', 'electionTimeoutMinMs', 'retransmitMs', 'voteRetryMs'] as const) {
    check(timing[name] > 0, `timing.${name} must be above 0 (got ${timing[name]})`)
  }
  // §5.2: timeouts are drawn from [min, max]; the spread is what splits votes rarely.
  check(
    timing.electionTimeoutMinMs < timing.electionTimeoutMaxMs,
    `timing.electionTimeoutMinMs (${timing.electionTimeoutMinMs}) must be below timing.electionTimeoutMaxMs (${timing.electionTimeoutMaxMs})`,
  )
  // §5.6: "broadcastTime ≪ electionTimeout": followers must hear a heartbeat before they time out.
  check(
    timing.heartbeatMs < timing.electionTimeoutMinMs,
    `timing.heartbeatMs (${timing.heartbeatMs}) must be below timing.electionTimeoutMinMs (${timing.electionTimeoutMinMs})`,
  )
  // Thesis §6.4.1: the lease lasts the minimum election timeout less the margin; none is left otherwise.
  check(
    timing.leaseMarginMs < timing.electionTimeoutMinMs,
    `timing.leaseMarginMs (${timing.leaseMarginMs}) must be below timing.electionTimeoutMinMs (${timing.electionTimeoutMinMs})`,
  )
  for (const [name, value] of Object.entries(limits)) {
    const least = name === 'voteRetries' ? 0 : 1
    check(Number.isSafeInteger(value) && value >= least, `limits.${name} must be a whole number, at least ${least} (got ${value})`)
  }
  check(
    limits.snapshotChunkChars * 6 + SNAPSHOT_ENVELOPE_BYTES <= MAX_DATAGRAM_BYTES,
    `limits.snapshotChunkChars (${limits.snapshotChunkChars}) must keep an InstallSnapshot within ${MAX_DATAGRAM_BYTES} bytes: at most ${Math.floor((MAX_DATAGRAM_BYTES - SNAPSHOT_ENVELOPE_BYTES) / 6)}`,
  )
  for (const [name, value] of Object.entries(fanOut)) {
    check(value > 0 && value < 1, `fanOut.${name} must be a probability between 0 and 1, both excluded (got ${value})`)
  }
  check(settings.clients === 'course' || settings.clients === 'standalone', `clients must be 'course' or 'standalone' (got ${String(settings.clients)})`)
  check(settings.reads === 'lease' || settings.reads === 'readIndex', `reads must be 'lease' or 'readIndex' (got ${String(settings.reads)})`)
  return problems.length === 0 ? E.right(settings) : E.left(problems)
}

/** Thrown by `initialState` for settings that `validateSettings` refuses: a programming or configuration error. */
export class InvalidSettings extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid replica settings:\n  ${problems.join('\n  ')}`)
    this.name = 'InvalidSettings'
  }
}

/** The settings if valid; throws InvalidSettings, naming every problem, if not. */
export const validSettings = (settings: Settings): Settings => {
  const result = validateSettings(settings)
  if (E.isLeft(result)) throw new InvalidSettings(result.left)
  return result.right
}
