/**
 * The last steps of a run, kept as references in a ring buffer and only turned into text when a
 * check fails (formatting every step would cost more than the step).
 */
import type { Effect } from '../domain/effect'
import type { Event } from '../domain/events'
import type { Message } from '../domain/wire'

export type TraceItem =
  | { readonly kind: 'step'; readonly at: number; readonly replica: string; readonly event: Event; readonly effects: readonly Effect[] }
  | { readonly kind: 'note'; readonly at: number; readonly text: string }
  /** A reply reaching its client (formatted only if the trace is printed). */
  | { readonly kind: 'reply'; readonly at: number; readonly message: Message }

export class Trace {
  private readonly items: (TraceItem | undefined)[]
  private next = 0
  private count = 0

  constructor(readonly capacity: number) {
    this.items = new Array(capacity)
  }

  add(item: TraceItem): void {
    if (this.capacity === 0) return
    this.items[this.next] = item
    this.next = (this.next + 1) % this.capacity
    this.count++
  }

  /** The retained items, oldest first. */
  recent(): TraceItem[] {
    const n = Math.min(this.count, this.capacity)
    const out: TraceItem[] = []
    for (let k = n; k > 0; k--) out.push(this.items[(this.next - k + this.capacity) % this.capacity]!)
    return out
  }

  format(): string {
    return this.recent().map(formatItem).join('\n')
  }

  /** The trace, even when some of it can no longer be read (a revoked immer draft in an effect). */
  formatSafely(): string {
    try {
      return this.format()
    } catch {
      return this.recent()
        .map((item) => {
          try {
            return formatItem(item)
          } catch (e) {
            return `t=${item.at} (unreadable: ${e instanceof Error ? e.message : String(e)})`
          }
        })
        .join('\n')
    }
  }
}

export const formatItem = (item: TraceItem): string => {
  const at = `t=${item.at.toFixed(0).padStart(7)}`
  if (item.kind === 'note') return `${at} ** ${item.text}`
  if (item.kind === 'reply') return `${at} ** client ${item.message.dst} gets ${formatMessage(item.message)}`
  const lines = [`${at} ${item.replica} ${formatEvent(item.event)}`]
  for (const effect of item.effects) lines.push(`${' '.repeat(15)}-> ${formatEffect(effect)}`)
  return lines.join('\n')
}

export const formatEvent = (event: Event): string => {
  switch (event.kind) {
    case 'started':
      return 'started'
    case 'timerFired':
      return `timer ${event.timer}`
    case 'received':
      return `recv ${formatMessage(event.message)}`
  }
}

export const formatEffect = (effect: Effect): string => {
  switch (effect.kind) {
    case 'persist': {
      const hard = effect.hardState === undefined ? '' : ` term ${effect.hardState.currentTerm} vote ${effect.hardState.votedFor._tag === 'Some' ? effect.hardState.votedFor.value : 'none'}`
      const snapshot = effect.snapshot === undefined ? '' : ` snapshot up to ${effect.snapshot.index}`
      const log = effect.log === undefined ? '' : ` log from ${effect.log.from}: ${effect.log.entries.length} entries`
      return `persist${hard}${snapshot}${log}`
    }
    case 'send':
      return `send ${formatMessage(effect.message)}`
    case 'setTimer':
      return `setTimer ${effect.timer} +${effect.afterMs}`
    case 'cancelTimer':
      return `cancelTimer ${effect.timer}`
    case 'log':
      return `log ${effect.text}`
  }
}

export const formatMessage = (m: Message): string => {
  const head = `${m.type} ${m.src}->${m.dst} (leader ${m.leader})`
  switch (m.type) {
    case 'vote':
      return `${head} ${m.pre ? 'pre ' : ''}${m.transfer === true ? 'transfer ' : ''}term ${m.term} last ${m.lastLogIndex}/${m.lastLogTerm}`
    case 'voteReply':
      return `${head} ${m.pre ? 'pre ' : ''}term ${m.term} ${m.granted ? 'granted' : 'refused'}`
    case 'append':
      return `${head} term ${m.term} prev ${m.prevLogIndex}/${m.prevLogTerm} entries [${m.entries
        .map((e) => `${e.term}:${e.command.op === 'noop' ? 'noop' : e.command.op === 'config' ? `config(${e.command.voters.join(',')}${e.command.learners.length > 0 ? `+${e.command.learners.join(',')}` : ''})` : e.command.MID}`)
        .join(' ')}] commit ${m.leaderCommit} sentAt ${m.sentAt}`
    case 'appendReply':
      return `${head} term ${m.term} ${m.success ? 'ok' : 'no'} match ${m.matchIndex} conflict ${m.conflictIndex}/${m.conflictTerm}`
    case 'forward':
      return `${head} puts [${m.puts.map((p) => p.MID).join(' ')}]`
    case 'snapshot':
      return `${head} term ${m.term} up to ${m.lastIncludedIndex}/${m.lastIncludedTerm} offset ${m.offset} +${m.data.length}${m.done ? ' done' : ''}`
    case 'snapshotReply':
      return `${head} term ${m.term} up to ${m.lastIncludedIndex} ${m.installed ? 'installed' : `next ${m.nextOffset}`}`
    case 'get':
      return `${head} ${m.MID} key ${m.key}`
    case 'put':
      return `${head} ${m.MID} key ${m.key}=${m.value}`
    case 'delete':
      return `${head} ${m.MID} key ${m.key}`
    case 'cas':
      return `${head} ${m.MID} key ${m.key}=${m.value} if ${m.expected ?? 'absent'}`
    case 'ok':
      return `${head} ${m.MID}${m.value !== undefined ? ` value ${m.value}` : ''}`
    case 'redirect':
    case 'fail':
      return `${head} ${m.MID}`
    case 'hello':
      return head
    case 'timeoutNow':
      return `${head} term ${m.term}`
    case 'admin':
      return `${head} ${m.MID} ${m.action}${m.member !== undefined ? ` ${m.member}` : ''}`
    case 'adminReply':
      return `${head} ${m.MID} voters ${m.voters.join(',')} learners ${m.learners.join(',')}`
    case 'refused':
      return `${head} ${m.MID} ${m.reason}`
  }
}
