/** What a check reports when a run breaks a property: the property's name and what broke it. */
import { describeConfiguration, fromData } from '../domain/membership'
import type { Entry } from '../domain/wire'

export interface Violation {
  readonly invariant: string
  readonly detail: string
}

/** Two entries are the same entry: one term, one command. */
export const sameEntry = (a: Entry, b: Entry): boolean =>
  a === b || (a.term === b.term && JSON.stringify(a.command) === JSON.stringify(b.command))

/** An entry as a violation's detail names it. */
export const describeEntry = (e: Entry | undefined): string =>
  e === undefined
    ? 'nothing'
    : `${e.term}:${e.command.op === 'put' ? `put ${e.command.MID}=${e.command.value}` : e.command.op === 'config' ? `config(${describeConfiguration(fromData(e.command))})` : 'noop'}`
