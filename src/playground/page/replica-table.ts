/** The replicas' table: role, term, vote, commit and applied marks, timer, the log, and Kill or Restart. */
import { entryAt, lastIndex } from '../../domain/log'
import { $, el } from './dom'
import { entryText, roleOf, ROLE_TEXT, termOf, voteOf } from './labels'
import { checkedForSplit, page } from './state'

const LOG_CELLS = 24

export const drawReplicas = (): void => {
  const body = $<HTMLTableSectionElement>('#replicas tbody')
  const rows: HTMLTableRowElement[] = [
    el('tr', {}, el('th', {}, ''), el('th', {}, 'replica'), el('th', {}, 'role'), el('th', {}, 'term'), el('th', {}, 'voted for'),
      el('th', {}, 'commit / applied'), el('th', {}, 'timer'), el('th', { class: 'log-head' }, 'log'), el('th', {}, '')),
  ]
  for (const r of page.cluster.replicas) {
    const s = r.state
    const persistent = s?.persistent ?? r.stored
    const role = roleOf(r)
    const commit = s?.commitIndex ?? 0
    const applied = s?.lastApplied ?? 0
    const log = el('div', { class: 'log' })
    const last = lastIndex(persistent.log)
    const first = Math.max(persistent.log.snapshotIndex + 1, last - LOG_CELLS + 1)
    if (first > 1) log.append(el('span', { class: 'log-more', title: `${first - 1} earlier entries (snapshot up to ${persistent.log.snapshotIndex})` }, `…${first - 1}`))
    for (let index = first; index <= last; index++) {
      const entry = entryAt(persistent.log, index)!
      const committed = s !== undefined && index <= commit
      const isApplied = s !== undefined && index <= applied
      const command = entry.command
      log.append(
        el('span', {
          class: `entry term-${entry.term % 6}${committed ? ' committed' : ''}${isApplied ? ' applied' : ''}`,
          'data-index': index, 'data-term': entry.term, 'data-committed': String(committed), 'data-applied': String(isApplied),
          'data-key': command.op === 'put' ? command.key : undefined, 'data-value': command.op === 'put' ? command.value : undefined,
          title: `index ${index}, term ${entry.term}: ${entryText(entry)}${committed ? ', committed' : ', not committed'}${isApplied ? ', applied' : ''}`,
        }, el('b', {}, `${index}·t${entry.term}`), el('i', {}, command.op === 'put' ? `${command.key}=${command.value}` : 'no-op')),
      )
    }
    if (last === 0) log.append(el('span', { class: 'empty' }, 'empty'))
    const election = r.timers.election
    const timer = s === undefined ? 'down' : role === 'leader' ? `heartbeat in ${(((r.timers.heartbeat ?? page.cluster.now) - page.cluster.now) / 1000).toFixed(2)} s`
      : election === undefined ? '—' : `election in ${((election - page.cluster.now) / 1000).toFixed(2)} s`
    const check = el('input', { type: 'checkbox', class: 'live-only', 'data-split': r.id, title: 'tick to cut off with the other ticked replicas' })
    check.checked = checkedForSplit.has(r.id)
    const action = page.cluster.mode === 'recorded' ? '' : s === undefined
      ? el('button', { type: 'button', 'data-act': 'restart', 'data-replica': r.id, title: 'start it again from what it persisted' }, 'Restart')
      : el('button', { type: 'button', 'data-act': 'kill', 'data-replica': r.id }, 'Kill')
    const selected = page.selection?.kind === 'replica' && page.selection.id === r.id
    rows.push(el('tr', { class: `replica-row role-${role}${selected ? ' selected' : ''}`, 'data-replica': r.id, 'data-role': role, 'data-term': termOf(r), 'data-up': String(s !== undefined), 'data-commit': commit, 'data-applied': applied },
      el('td', {}, check),
      el('td', { class: 'id' }, el('a', { href: '#', 'data-select': r.id }, r.id)),
      el('td', { class: 'role' }, el('span', { class: `badge role-${role}` }, s === undefined ? 'down' : ROLE_TEXT[role]!)),
      el('td', { class: 'term' }, String(termOf(r))),
      el('td', { class: 'vote' }, voteOf(r)),
      el('td', { class: 'marks' }, s === undefined ? `(stored ${last})` : `${commit} / ${applied}`),
      el('td', { class: 'timer' }, timer),
      el('td', {}, log),
      el('td', {}, action)))
  }
  body.replaceChildren(...rows)
}
