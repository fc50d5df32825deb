/**
 * What the records of the replica's file say. Each payload is UTF-8 JSON, checked with io-ts on the
 * way in; the kind byte (record-file.ts) says which of these it is:
 *
 *   1 identity  the first record of every file: its format, the replica's ID and the configuration
 *               it started from (its bootstrap: what it uses while neither its log nor its snapshot
 *               holds one). Format 1, written before membership changes, held the IDs of its peers
 *               instead: they read as a bootstrap of those and the replica, all voters (what the
 *               replica started from), and the next rewrite of the file writes format 2.
 *   2 write     one step's writes (group commit): the hard state, a §7 snapshot and a log write,
 *               each optional; the snapshot is {index, term, data, configuration?}, data the state machine as
 *               domain/kv's encodeSnapshot writes it. One step is one record, so a crash keeps all
 *               of a step's writes or none (a snapshot without the truncation that came with it
 *               would leave entries after it that the replica had discarded).
 *   3           not used: a file holding a record of this kind, or of any other unknown kind, is
 *               refused as one written by another version.
 *
 * The runtime knows the persistent state's shape (Figure 2: currentTerm, votedFor, log[]; §7: the
 * snapshot) and nothing else of Raft.
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import * as O from 'fp-ts/Option'
import * as t from 'io-ts'
import type { HardState, LogWrite, SnapshotWrite } from '../domain/effect'
import { decodeSnapshot, encodeSnapshot } from '../domain/kv'
import { describeDecodeErrors } from '../decoding/report'
import { allVoters, fromData, toData, type Configuration } from '../domain/membership'
import { ConfigurationData, Entry, NodeId } from '../domain/wire'

export const RecordKind = { identity: 1, write: 2 } as const

/** The format of the identity record this code writes; it reads this one and the one before. */
export const FORMAT = 2

const Natural = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 0, 'a whole number of at least 0')
const Positive = t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= 1, 'a whole number of at least 1')

const IdentityFormat = t.type({ format: Natural })
const IdentityPayload1 = t.type({ format: t.literal(1), id: NodeId, peers: t.array(NodeId) })
const IdentityPayload2 = t.type({ format: t.literal(2), id: NodeId, bootstrap: ConfigurationData })

const WritePayload = t.partial({
  hardState: t.type({ currentTerm: Natural, votedFor: t.union([NodeId, t.null]) }),
  log: t.type({ from: Positive, entries: t.array(Entry) }),
  snapshot: t.intersection([t.type({ index: Natural, term: Natural, data: t.string }), t.partial({ configuration: ConfigurationData })]),
})

/**
 * Whose file it is: a replica's ID, and the configuration it started from: the cluster's first
 * members, or those of the running cluster it joined. Thesis ch. 4: a replica uses the latest
 * configuration in its log (or its snapshot's); the bootstrap is the one it uses while it has none.
 */
export interface Identity {
  readonly id: NodeId
  readonly bootstrap: Configuration
}

/** One step's writes, as stored. */
export interface StoredWrite {
  readonly hardState: HardState | undefined
  readonly log: LogWrite | undefined
  readonly snapshot: SnapshotWrite | undefined
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8')

export const identityPayload = (identity: Identity): Buffer =>
  json({ format: FORMAT, id: identity.id, bootstrap: toData(identity.bootstrap) })

export const writePayload = (write: StoredWrite): Buffer =>
  json({
    ...(write.hardState === undefined
      ? {}
      : { hardState: { currentTerm: write.hardState.currentTerm, votedFor: O.toNullable(write.hardState.votedFor) } }),
    ...(write.log === undefined ? {} : { log: write.log }),
    ...(write.snapshot === undefined
      ? {}
      : {
          snapshot: {
            index: write.snapshot.index,
            term: write.snapshot.term,
            data: encodeSnapshot(write.snapshot.state),
            ...(write.snapshot.configuration === undefined ? {} : { configuration: toData(write.snapshot.configuration) }),
          },
        }),
  })

const decodeJson = <A>(codec: t.Type<A, unknown>, what: string, payload: Buffer): E.Either<string, A> =>
  pipe(
    E.tryCatch(() => JSON.parse(payload.toString('utf8')) as unknown, () => `${what} record: not JSON`),
    E.chain((value) => pipe(codec.decode(value), E.mapLeft((errors) => `${what} record: ${describeDecodeErrors(errors, 3).join('; ')}`))),
  )

export const decodeIdentity = (payload: Buffer): E.Either<string, Identity> =>
  pipe(
    decodeJson(IdentityFormat, 'identity', payload),
    E.chain(({ format }): E.Either<string, Identity> => {
      if (format === 1) return pipe(decodeJson(IdentityPayload1, 'identity', payload), E.map(({ id, peers }) => ({ id, bootstrap: allVoters([id, ...peers]) })))
      if (format === 2) return pipe(decodeJson(IdentityPayload2, 'identity', payload), E.map(({ id, bootstrap }) => ({ id, bootstrap: fromData(bootstrap) })))
      return E.left(`identity record: format ${format}, and this replica reads formats 1 and ${FORMAT} (written by another version)`)
    }),
  )

export const decodeWrite = (payload: Buffer): E.Either<string, StoredWrite> =>
  pipe(
    decodeJson(WritePayload, 'write', payload),
    E.chain(({ hardState, log, snapshot }) =>
      pipe(
        snapshot === undefined
          ? E.right<string, SnapshotWrite | undefined>(undefined)
          : pipe(
              decodeSnapshot(snapshot.data),
              E.bimap(
                (why) => `write record: ${why}`,
                (state): SnapshotWrite | undefined => ({
                  index: snapshot.index,
                  term: snapshot.term,
                  state,
                  ...(snapshot.configuration === undefined ? {} : { configuration: fromData(snapshot.configuration) }),
                }),
              ),
            ),
        E.map((snapshotWrite) => ({
          hardState: hardState === undefined ? undefined : { currentTerm: hardState.currentTerm, votedFor: O.fromNullable(hardState.votedFor) },
          log,
          snapshot: snapshotWrite,
        })),
      ),
    ),
  )
