/**
 * A replica's data directory, `DIR/<id>/`, apart from the records of its file (disk-storage.ts):
 * whose it is (the rule its identity record is held to), why a directory is refused and what a
 * person can do about it, and how the directories are made durable (each synced, up to the root).
 *
 * Whose it is. The identity record names the replica and the configuration it started from (its
 * bootstrap, storage-records.ts). Who opens the directory claims an ID, and the cluster by one of
 * two rules:
 * - Members fixed by the command line (the course's `3700kvstore`): the directory must have been
 *   made with the same peers, since the replica's log and votes were made among them.
 * - Members in the log (`raftkv serve`; thesis ch. 4, "a server always uses the latest
 *   configuration in its log"): the configuration given is only a bootstrap, recorded when the
 *   directory is made. Once the directory holds the replica, its own record is used, and its log
 *   says what the cluster is now, whatever the command line says of it (as etcd ignores
 *   --initial-cluster once its data directory exists, and hashicorp's raft refuses to bootstrap a
 *   server that has state).
 * A directory that holds another replica ID is refused under either rule.
 */
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { allVoters, sameConfiguration, type Configuration } from '../domain/membership'
import type { NodeId } from '../domain/wire'
import { describeFsError, nodeFs, type StorageFs } from './storage-fs'
import type { Identity } from './storage-records'

/** The replica's file in its directory, `DIR/<id>/raft.log` (disk-storage.ts). */
export const LOG_FILE = 'raft.log'

/**
 * Whether `dataDir` holds replica `id` (its file exists), for a command line that needs to know
 * before it opens the directory (`raftkv serve` joins a cluster only when it does not).
 */
export const holdsReplica = (dataDir: string, id: NodeId, fs: Pick<StorageFs, 'statSync'> = nodeFs): boolean => {
  try {
    fs.statSync(path.join(dataDir, id, LOG_FILE))
    return true
  } catch (error) {
    // Anything but ENOENT is left to the opening to say what is wrong.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/** Why a data directory was refused. */
export type DataDirProblem = 'unusable' | 'corrupt' | 'otherReplica' | 'otherCluster' | 'inUse' | 'noReplica'

/**
 * What a person can do about each refusal. A replica must never be started again under its ID
 * with an empty directory: it would have forgotten its term and its vote, and could vote twice in
 * a term (§5.2); so a directory that cannot be trusted means replacing the member.
 */
export const WHAT_TO_DO: Readonly<Record<DataDirProblem, string | undefined>> = {
  corrupt:
    'do not empty the directory and start this replica again under the same ID (with its votes forgotten it could vote twice in a term); remove the member and add a new one (raftkv member remove/add), and keep the directory for inspection',
  otherReplica:
    "start each replica on its own directory (DIR/<its ID>); if this one was copied or renamed from another replica's, put the right one back, or remove the member and add a new one (raftkv member remove/add)",
  otherCluster:
    "check that --data is this replica's data directory; a replica keeps what it was first started with (3700kvstore: its peers; raftkv serve: its own addresses). If it belongs to another cluster now, remove the member and add a new one (raftkv member remove/add) rather than reuse this directory",
  noReplica:
    'to start a new replica there, give the members of the new cluster (raftkv serve --peers or --cluster) or a running cluster to join (--join); to restart a replica, give --data the directory it ran on',
  unusable: 'fix what the error names (permissions, a full or failing disk, a file where the directory should be) and start the replica again',
  // The message itself names the lock file to remove once no replica runs on the directory.
  inUse: undefined,
}

export class DataDirError extends Error {
  /** `message` is what is wrong, then, on a line of its own, what to do about it (WHAT_TO_DO). */
  constructor(
    readonly problem: DataDirProblem,
    message: string,
  ) {
    const advice = WHAT_TO_DO[problem]
    super(advice === undefined ? message : `${message}\n  what to do: ${advice}`)
  }
}

/** Who opens a data directory, its members fixed by the command line (the course's `3700kvstore`). */
export interface FixedMembers {
  readonly id: NodeId
  /** Every other replica of the cluster, in any order. */
  readonly peers: readonly NodeId[]
}

/** Who opens a data directory, its members in its log (`raftkv serve`). */
export interface MembersFromLog {
  readonly id: NodeId
  /** What a new directory starts from; undefined: the directory must hold the replica already. */
  readonly bootstrap: Configuration | undefined
}

export type Claim = FixedMembers | MembersFromLog

const fixedMembers = (claim: Claim): claim is FixedMembers => 'peers' in claim

const bootstrapOf = (claim: Claim): Configuration | undefined =>
  fixedMembers(claim) ? allVoters([claim.id, ...claim.peers]) : claim.bootstrap

/** The identity record a new directory gets, or Left when the claim cannot make one. */
export const newIdentity = (directory: string, claim: Claim): E.Either<DataDirError, Identity> => {
  const bootstrap = bootstrapOf(claim)
  if (bootstrap !== undefined) return E.right({ id: claim.id, bootstrap })
  return E.left(new DataDirError('noReplica', `${directory} holds no replica yet (it has no ${LOG_FILE})`))
}

/** The identity `file` records, held to the claim: Left says whose the directory is instead. */
export const checkIdentity = (file: string, recorded: Identity, claim: Claim): E.Either<DataDirError, Identity> => {
  const { id, bootstrap } = recorded
  if (id !== claim.id) return E.left(new DataDirError('otherReplica', `${file} belongs to replica ${id}, not to ${claim.id}`))
  if (fixedMembers(claim) && !sameConfiguration(bootstrap, bootstrapOf(claim)!)) {
    const peers = (c: Configuration): string => [...c.voters, ...c.learners].filter((m) => m !== id).join(' ')
    const given = allVoters([claim.id, ...claim.peers])
    return E.left(
      new DataDirError(
        'otherCluster',
        `${file} belongs to replica ${id} of a cluster with peers ${peers(bootstrap) || 'none'}, not ${peers(given) || 'none'}`,
      ),
    )
  }
  return E.right(recorded)
}

/**
 * The directories `mkdir -p` would create for `directory`, nearest first (empty when it exists). It
 * stops at the first one that exists or that cannot be looked at (mkdir then says why).
 */
export const missingDirectories = (fs: StorageFs, directory: string): string[] => {
  const missing: string[] = []
  for (let at = path.resolve(directory); ; at = path.dirname(at)) {
    try {
      fs.statSync(at)
      return missing
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return missing
    }
    missing.push(at)
    if (path.dirname(at) === at) return missing
  }
}

/**
 * Syncs `directory` and every directory above it up to the root, so that each one's entry in its
 * parent is durable. Those up to `mustSync` (what this start created, and the data directory) must
 * sync; one above it that this process cannot open is skipped.
 */
export const syncDirectories = (fs: StorageFs, directory: string, mustSync: string): void => {
  const top = path.resolve(mustSync)
  let required = true
  for (let at = path.resolve(directory); ; at = path.dirname(at)) {
    try {
      syncDirectory(fs, at)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (required || (code !== 'EACCES' && code !== 'EPERM')) throw new Error(`cannot sync the directory ${at} (${describeFsError(error)})`)
    }
    if (at === top) required = false
    if (path.dirname(at) === at) return
  }
}

/** A rename or a new file is durable only once its directory is synced. */
export const syncDirectory = (fs: StorageFs, directory: string): void => {
  const fd = fs.openSync(directory, 'r')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
