/**
 * The details panel: the selected replica, message or step, and for a step the event it was
 * handed, the effects it returned and the rules of the paper it applied (../rules.ts).
 */
import { formatEffect, formatEvent } from '../../check/trace'
import { valuesOf } from '../../domain/kv'
import { lastIndex } from '../../domain/log'
import type { StepRecord } from '../cluster-view'
import { rulesFor } from '../rules'
import { $, el, seconds } from './dom'
import { flightButtons } from './flight-list'
import { fateText, nodeName, ROLE_TEXT, shortLabel, voteOf } from './labels'
import { page } from './state'

const stepView = (record: StepRecord, heading: string): HTMLElement => {
  const rules = rulesFor(record)
  const effects = record.effects.filter((e) => e.kind !== 'log')
  const notes = record.effects.filter((e) => e.kind === 'log')
  return el('div', { class: 'step', 'data-step': record.id },
    el('h3', {}, heading),
    el('div', { class: 'kv' }, el('span', {}, 'at'), ` ${seconds(record.at)} on ${record.replica} (${ROLE_TEXT[record.before.role]}, term ${record.before.persistent.currentTerm} → ${ROLE_TEXT[record.after.role]}, term ${record.after.persistent.currentTerm})`),
    el('div', { class: 'event' }, el('span', { class: 'label' }, 'event'), el('code', {}, formatEvent(record.event))),
    el('div', { class: 'label' }, `effects step returned (${effects.length})`),
    el('ol', { class: 'effects' }, ...(effects.length === 0 ? [el('li', { class: 'empty' }, 'none')] : effects.map((e) => el('li', {}, el('code', {}, formatEffect(e)))))),
    ...(notes.length === 0 ? [] : [el('div', { class: 'notes' }, ...notes.map((n) => el('div', {}, `log: ${n.kind === 'log' ? n.text : ''}`)))]),
    el('div', { class: 'label' }, 'rules applied'),
    el('ul', { class: 'rules' }, ...rules.map((rule) => el('li', {}, el('b', {}, rule.cite), ` ${rule.text} `, el('span', { class: 'source' }, `src/domain/${rule.source}`)))),
  )
}

export const drawDetails = (): void => {
  const panel = $<HTMLElement>('#details')
  const content: (Node | string)[] = []
  if (page.selection === undefined) {
    content.push(el('h2', {}, 'Details'), el('p', { class: 'hint' }, 'Click a replica or a message (on the stage or in the lists) to see the event it was handed, the effects step returned, and the rule of the paper it applied. Press Step to go one event at a time.'))
  } else if (page.selection.kind === 'replica') {
    const r = page.cluster.replica(page.selection.id)
    content.push(el('h2', {}, `Replica ${r.id}`))
    if (r.state === undefined) {
      content.push(el('p', {}, `Down. It persisted term ${r.stored.currentTerm}, vote ${voteOf(r)} and ${lastIndex(r.stored.log)} log entries; Restart starts it from them.`))
    } else {
      const s = r.state
      const kv = valuesOf(s.kv)
      content.push(el('div', { class: 'facts' },
        el('span', {}, `${ROLE_TEXT[s.role]}, term ${s.persistent.currentTerm}`),
        el('span', {}, `voted for ${voteOf(r)}`),
        el('span', {}, `leader ${s.leader._tag === 'Some' ? s.leader.value : 'unknown'}`),
        el('span', {}, `commit ${s.commitIndex}, applied ${s.lastApplied}`),
        el('span', {}, `store: ${Object.keys(kv).length === 0 ? 'empty' : Object.entries(kv).map(([k, v]) => `${k}=${v}`).join(', ')}`)))
      if (s.role === 'leader') {
        content.push(el('table', { class: 'progress' },
          el('tr', {}, el('th', {}, 'follower'), el('th', {}, 'nextIndex'), el('th', {}, 'matchIndex')),
          ...s.peers.map((peer) => el('tr', {}, el('td', {}, peer), el('td', {}, String(s.progress[peer]?.nextIndex ?? '')), el('td', {}, String(s.progress[peer]?.matchIndex ?? ''))))))
      }
    }
    const record = page.cluster.stepRecord(r.lastStep)
    if (record !== undefined) content.push(stepView(record, 'Its last step'))
    const recent = page.cluster.steps.filter((s) => s.replica === r.id).slice(-8).reverse().slice(1)
    if (recent.length > 0) {
      content.push(el('div', { class: 'label' }, 'earlier steps'), el('ul', { class: 'recent' }, ...recent.map((s) => el('li', {}, el('a', { href: '#', 'data-select-step': s.id }, `${seconds(s.at)} ${formatEvent(s.event).slice(0, 70)}`)))))
    }
  } else if (page.selection.kind === 'flight') {
    const id = page.selection.id
    const flight = page.cluster.flights.find((f) => f.id === id)
    const ended = page.cluster.ended.find((e) => e.flight.id === id)
    const f = flight ?? ended?.flight
    if (f === undefined) {
      content.push(el('h2', {}, `Message #${id}`), el('p', {}, 'No longer remembered.'))
    } else {
      content.push(el('h2', {}, `Message #${f.id}: ${shortLabel(f.message)}`),
        el('p', {}, `${nodeName(f.from)} → ${nodeName(f.to)}, sent at ${seconds(f.sentAt)}; ${flight !== undefined ? `arrives at ${seconds(f.deliverAt)}` : `${ended!.fate === 'delivered' ? 'delivered' : `lost (${fateText(ended!)})`} at ${seconds(ended!.at)}`}`),
        el('pre', { class: 'message' }, JSON.stringify(f.message, null, 1)))
      if (flight !== undefined) content.push(el('div', { class: 'buttons' }, ...flightButtons(flight)))
      const sent = page.cluster.stepRecord(f.sentBy)
      if (sent !== undefined) content.push(stepView(sent, `The step that sent it (${sent.replica})`))
      else if (f.sentBy === undefined) content.push(el('p', { class: 'hint' }, 'Sent by a client.'))
      const got = page.cluster.stepRecord(ended?.receivedBy)
      if (got !== undefined) content.push(stepView(got, `The step that received it (${got.replica})`))
    }
  } else {
    const record = page.cluster.stepRecord(page.selection.id)
    content.push(el('h2', {}, 'Step'))
    content.push(record === undefined ? el('p', {}, 'No longer remembered.') : stepView(record, `Step of ${record.replica}`))
  }
  panel.replaceChildren(...content)
}
