/**
 * The explorer's canonical key of a world (explore.ts deduplicates worlds by it): times taken
 * relative to now, the replicas' random generators and delivery counters left out (./state-key
 * says which field is which), the invariants' remembered history included, so that a world is
 * never merged with one whose later checks would be weaker.
 */
import type { Settings } from '../domain/config'
import { TIMER_NAMES } from '../effects/perform'
import type { World } from './explore-world'
import { IGNORED_FIELDS, TIME_FIELDS, TIME_LIST_FIELDS } from './state-key'

export class WorldKeys {
  /** Canonical forms of replica states, messages, their parts and the checks' history, numbered. */
  private readonly interned = new Map<string, number>()
  /**
   * Each object's form numbers: `free` when its form holds no time, else one per clock reading
   * (one WeakMap entry per object: a WeakMap's entries cost the garbage collector).
   */
  private readonly forms = new WeakMap<object, { free: number } | { free: undefined; readonly byNow: Map<number, number> }>()
  /** Whether the text being built made a time relative to now. */
  private sawTime = false
  private replacerAt: { readonly now: number; readonly replacer: (key: string, value: unknown) => unknown } | undefined

  constructor(private readonly settings: Settings) {}

  /** The key of a world: equal exactly when the worlds are the same up to what the key leaves out. */
  of(world: World): string {
    const now = world.now
    // Each part's canonical text stands in the key as its number in `interned` (one text, one
    // number), so the key is exactly as discriminating as the texts themselves, and short. The
    // sections are separated by '|' and hold numbers, '-' and commas only, but for the last, JSON.
    let key = ''
    for (const r of world.replicas) key += `${this.textId(r, now)},`
    const network = world.network.map((m) => this.textId(m, now)).sort((a, b) => a - b)
    key += `|${network.join(',')}|${this.intern(world.invariants.digest())}|`
    for (const t of world.timers) {
      for (const timer of TIMER_NAMES) {
        const at = t[timer]
        key += `${at === undefined ? '-' : at - now},`
      }
    }
    key += `|${world.nextRequest},${world.timerFirings}|`
    for (const op of world.clients.history()) key += `${JSON.stringify([op.kind, op.value, op.completedAt === undefined])},`
    return key
  }

  private intern(text: string): number {
    let id = this.interned.get(text)
    if (id === undefined) {
      id = this.interned.size
      this.interned.set(text, id)
    }
    return id
  }

  /** The number of a replica state's or a message's canonical form at `now`. */
  private textId(value: object, now: number): number {
    return this.formId(value, now)
  }

  /**
   * The number of an immutable object's canonical form at `now`. The form stands for
   * `JSON.stringify(value, replacer)`, where the replacer leaves out IGNORED_FIELDS and makes
   * TIME_FIELDS and TIME_LIST_FIELDS relative to now (./state-key says which field is which), and two objects get the same number exactly when those texts
   * are equal: an array (or an object with toJSON) is that text; a plain object is that text
   * with each field's value written as `#` and the number of its own form. A field's value is
   * shared by many states (a step changes few fields of one replica), so its form is computed
   * once when it holds no time (the log, the store), once per clock reading when it does.
   * Leaves `sawTime` telling whether the form depends on now.
   */
  formId(value: object, now: number): number {
    const known = this.forms.get(value)
    if (known !== undefined) {
      if (known.free !== undefined) {
        this.sawTime = false
        return known.free
      }
      const cached = known.byNow.get(now)
      if (cached !== undefined) {
        this.sawTime = true
        return cached
      }
    }
    this.sawTime = false
    let form: string
    if (Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      form = JSON.stringify(value, this.replacer(now))
    } else {
      const replacer = this.replacer(now)
      let timed = false
      form = '{'
      for (const key of Object.keys(value)) {
        const field = replacer(key, (value as Record<string, unknown>)[key])
        timed ||= this.sawTime
        let fieldForm: string | undefined
        if (typeof field === 'object' && field !== null) {
          fieldForm = `#${this.formId(field, now)}`
          timed ||= this.sawTime
        } else {
          fieldForm = primitiveJson(field)
        }
        if (fieldForm === undefined) continue
        form += `${form.length === 1 ? '' : ','}${quotedKey(key)}:${fieldForm}`
      }
      form += '}'
      this.sawTime = timed
    }
    const id = this.intern(form)
    if (!this.sawTime) this.forms.set(value, { free: id })
    else if (known !== undefined && known.free === undefined) known.byNow.set(now, id)
    else this.forms.set(value, { free: undefined, byNow: new Map([[now, id]]) })
    return id
  }

  replacer(now: number): (key: string, value: unknown) => unknown {
    if (this.replacerAt?.now === now) return this.replacerAt.replacer
    const horizon = this.settings.timing.electionTimeoutMaxMs + this.settings.timing.heartbeatMs
    const replacer = (key: string, value: unknown): unknown => {
      if (IGNORED_FIELDS.has(key)) return undefined
      const relative = (time: number): number | 'old' =>
        time === Number.NEGATIVE_INFINITY || now - time > horizon ? 'old' : time - now
      if (TIME_FIELDS.has(key) && typeof value === 'number') {
        this.sawTime = true
        return relative(value)
      }
      if (TIME_LIST_FIELDS.has(key) && Array.isArray(value)) {
        this.sawTime = true
        return value.map((time: number) => relative(time))
      }
      return value
    }
    this.replacerAt = { now, replacer }
    return replacer
  }
}

/** `JSON.stringify(value)` of a value that is not an object (undefined: left out). */
const primitiveJson = (value: unknown): string | undefined => {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      return value === null ? 'null' : (JSON.stringify(value) as string | undefined)
  }
}

const quotedKeys = new Map<string, string>()

/** `JSON.stringify(key)`, remembered (objects of one type share their few keys). */
const quotedKey = (key: string): string => {
  let quoted = quotedKeys.get(key)
  if (quoted === undefined) {
    quoted = JSON.stringify(key)
    quotedKeys.set(key, quoted)
  }
  return quoted
}
