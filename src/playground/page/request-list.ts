/** The client's requests, each attempt and its answer, and the linearizability checker's verdict on them. */
import { checkLinearizable } from '../../check/linearizability'
import type { NodeId } from '../../domain/wire'
import { $, el, seconds } from './dom'
import { clientLabel } from './labels'
import { page } from './state'

export const drawRequests = (): void => {
  const body = $<HTMLTableSectionElement>('#requests tbody')
  const rows = page.cluster.requests.slice(-60).reverse().map((view, i) => {
    const op = view.operation
    const done = op.completedAt !== undefined
    const steps = view.attempts.map((a) => {
      const answer = a.answer === undefined ? '…' : a.answer.type === 'ok' ? `ok${op.kind === 'get' ? ` "${a.answer.value ?? ''}"` : ''}` : a.answer.type === 'redirect' ? `redirect` : a.answer.type
      return `${a.to}: ${answer}`
    })
    const status = done ? 'ok' : view.attempts.every((a) => page.cluster.replicas.find((r) => r.id === a.to)?.state === undefined && a.answer === undefined) ? 'lost' : 'waiting'
    const what = op.kind === 'put' ? `put ${op.key}=${op.value}` : `get ${op.key}`
    const result = done ? (op.kind === 'get' ? `→ ${op.value === undefined ? '(none)' : `"${op.value}"`}` : '→ ok') : status === 'lost' ? 'its replica is down' : 'waiting'
    return el('tr', { class: `request status-${status}`, 'data-status': status, 'data-kind': op.kind, 'data-key': op.key, 'data-op': op.id },
      el('td', { class: 'n' }, `#${page.cluster.requests.length - i}`),
      el('td', {}, clientLabel(op.client as NodeId).replace('client ', '')),
      el('td', { class: 'what' }, what),
      el('td', { class: 'path' }, steps.join(' → ')),
      el('td', { class: 'result' }, result),
      el('td', { class: 'took' }, done ? `${Math.round(op.completedAt! - op.invokedAt)} ms` : seconds(page.cluster.now - op.invokedAt)))
  })
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { class: 'empty' }, 'No requests yet: send a put or a get above.')))
  body.replaceChildren(...rows)

  const verdict = $<HTMLElement>('#verdict')
  const history = page.cluster.history()
  const result = checkLinearizable(history)
  const violations = page.cluster.clientViolations
  verdict.className = result.ok && violations.length === 0 ? 'ok' : 'bad'
  verdict.dataset['linearizable'] = String(result.ok)
  verdict.dataset['verdict'] = result.ok ? 'linearizable' : result.verdict
  const heading = result.ok ? 'Linearizable' : result.verdict === 'not linearizable' ? 'NOT linearizable'
    : result.verdict === 'undecided' ? 'Undecided (the checker stopped at its bound)' : 'The checker failed'
  verdict.replaceChildren(
    el('b', {}, heading),
    ` — ${history.length} operation${history.length === 1 ? '' : 's'}, checked by src/check/linearizability.ts after every reply`,
    ...(result.ok ? [] : [el('div', {}, `key ${result.key}: ${result.reason}`)]),
    ...violations.map((v) => el('div', {}, `${v.invariant}: ${v.detail}`)),
  )
}
