/**
 * The pacing model (src/sim/pacing.ts) on a manual scheduler and a recording burn: which datagram
 * is routed in which round, and which costs are spent where. No clocks, no speeds.
 */
import { describe, expect, it } from 'vitest'
import { Pacer, PacerScheduler, PacingCosts } from '../../src/sim/pacing'
import { parseCommand, usage } from '../../src/cli/args'
import { command } from '../../src/cli/kvsim'

const COSTS: PacingCosts = {
  roundMicros: 1000,
  roundPerSocketMicros: 100,
  datagramMicros: 10,
  copyMicros: 1,
  requestMicros: 7,
  idleMs: 100,
  socketQueueBytes: 250,
}

/** A test datagram is charged 100 bytes in its socket's queue, whatever it says. */
const CHARGE = (): number => 100

/** A scheduler driven by hand: `turn()` runs what was asked for `soon`, `elapse()` the idle waits. */
class ManualScheduler implements PacerScheduler {
  private soonQueue: (() => void)[] = []
  private timers: { id: number; ms: number; fn: () => void }[] = []
  private nextId = 0
  soon(fn: () => void): void {
    this.soonQueue.push(fn)
  }
  after(ms: number, fn: () => void): () => void {
    const id = this.nextId++
    this.timers.push({ id, ms, fn })
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id)
    }
  }
  /** One turn of the event loop's check phase. */
  turn(): number {
    const queue = this.soonQueue
    this.soonQueue = []
    for (const fn of queue) fn()
    return queue.length
  }
  /** Fires the pending idle waits. */
  elapse(): number {
    const timers = this.timers
    this.timers = []
    for (const t of timers) t.fn()
    return timers.length
  }
  get pendingTimers(): number {
    return this.timers.length
  }
  get pendingSoon(): number {
    return this.soonQueue.length
  }
}

function setUp(sockets = ['0000', '0001', '0002']) {
  const scheduler = new ManualScheduler()
  const log: string[] = []
  const burnt: number[] = []
  let pacer!: Pacer<string>
  const hooks = {
    route: (socket: string, item: string) => {
      log.push(`route ${socket} ${item}`)
      // A unicast to one replica: one copy, as the runner does it.
      if (item.startsWith('to-one')) pacer.copy()
      // A broadcast to the four others: four copies.
      if (item.startsWith('to-all')) for (let i = 0; i < 4; i++) pacer.copy()
    },
    fireDue: () => log.push('due'),
  }
  pacer = new Pacer<string>(sockets, COSTS, hooks, CHARGE, scheduler, (micros) => {
    burnt.push(micros)
    log.push(`burn ${micros}`)
  })
  return { pacer, scheduler, log, burnt, routed: () => log.filter((l) => l.startsWith('route')) }
}

describe('Pacer', () => {
  it('routes one datagram per socket per round, in ID order whatever the arrival order', () => {
    const { pacer, scheduler, routed } = setUp()
    pacer.receive('0002', 'c1')
    pacer.receive('0000', 'a1')
    pacer.receive('0000', 'a2')
    pacer.receive('0001', 'b1')
    expect(routed()).toEqual([]) // nothing before the round
    expect(scheduler.turn()).toBe(1)
    expect(routed()).toEqual(['route 0000 a1', 'route 0001 b1', 'route 0002 c1'])
    expect(pacer.waiting('0000')).toBe(1)
    // The second datagram on 0000 waits for the next round.
    expect(scheduler.turn()).toBe(1)
    expect(routed()).toEqual(['route 0000 a1', 'route 0001 b1', 'route 0002 c1', 'route 0000 a2'])
    expect(pacer.rounds).toBe(2)
  })

  it('a second datagram queued on one socket is routed after what the other sockets sent meanwhile', () => {
    const { pacer, scheduler, routed } = setUp()
    pacer.receive('0001', 'b1')
    pacer.receive('0001', 'b2')
    scheduler.turn()
    // Between rounds, 0000 and 0002 send: the next round reads 0000 first, then 0001's second.
    pacer.receive('0002', 'c1')
    pacer.receive('0000', 'a1')
    scheduler.turn()
    expect(routed()).toEqual(['route 0001 b1', 'route 0000 a1', 'route 0001 b2', 'route 0002 c1'])
  })

  it('decides which sockets are ready at the start of a round', () => {
    const scheduler = new ManualScheduler()
    const routed: string[] = []
    let pacer!: Pacer<string>
    pacer = new Pacer<string>(['0000', '0001'], COSTS, {
      // Routing 0000's datagram makes 0001 send at once (a fast replica): still the next round.
      route: (socket, item) => {
        routed.push(`${socket} ${item}`)
        if (socket === '0000') pacer.receive('0001', 'reply')
      },
      fireDue: () => undefined,
    }, CHARGE, scheduler, () => undefined)
    pacer.receive('0000', 'request')
    scheduler.turn()
    expect(routed).toEqual(['0000 request'])
    scheduler.turn()
    expect(routed).toEqual(['0000 request', '0001 reply'])
  })

  it('spends the round cost, then the datagram cost before each datagram and the copy cost per copy', () => {
    const { pacer, scheduler, log, burnt } = setUp(['0000', '0001', '0002', '0003', '0004'])
    pacer.receive('0000', 'to-all')
    pacer.receive('0003', 'to-one')
    scheduler.turn()
    expect(log).toEqual([
      'burn 1500', // 1000 per round + 100 for each of the 5 open sockets
      'burn 10', 'route 0000 to-all', 'burn 1', 'burn 1', 'burn 1', 'burn 1',
      'burn 10', 'route 0003 to-one', 'burn 1',
      'due',
    ])
    // A closed socket no longer adds to the round's cost.
    pacer.close('0004')
    pacer.receive('0001', 'to-one')
    scheduler.turn()
    expect(burnt.slice(-3)).toEqual([1400, 10, 1])
    // A created request costs its own price (the copy is counted by the delivery).
    pacer.request()
    expect(burnt[burnt.length - 1]).toBe(7)
  })

  it('fires due requests and events only when a round ends, or after an idle wait', () => {
    const { pacer, scheduler, log } = setUp()
    pacer.start()
    expect(scheduler.pendingTimers).toBe(1)
    // Nothing arrives: the wait times out and an empty round fires what is due, then waits again.
    expect(scheduler.elapse()).toBe(1)
    expect(log).toEqual(['burn 1300', 'due'])
    expect(scheduler.pendingTimers).toBe(1)
    // A datagram arrives: the idle wait gives way to a round, due events after its datagram.
    pacer.receive('0001', 'b1')
    scheduler.turn()
    expect(log.slice(2)).toEqual(['burn 1300', 'burn 10', 'route 0001 b1', 'due'])
    expect(scheduler.pendingTimers).toBe(1)
    expect(pacer.rounds).toBe(2)
  })

  it('plays rounds while datagrams wait, and no idle wait meanwhile', () => {
    const { pacer, scheduler } = setUp()
    pacer.start()
    for (const item of ['a1', 'a2', 'a3']) pacer.receive('0000', item)
    expect(scheduler.pendingSoon).toBe(1) // one round asked for, not one per datagram
    scheduler.turn()
    expect(scheduler.pendingTimers).toBe(0)
    scheduler.turn()
    scheduler.turn()
    expect(pacer.waiting('0000')).toBe(0)
    expect(scheduler.pendingSoon).toBe(0)
    expect(scheduler.pendingTimers).toBe(1)
  })

  it('loses what waits on a closed socket and ignores what arrives there later', () => {
    const { pacer, scheduler, routed } = setUp()
    pacer.receive('0001', 'b1')
    pacer.receive('0001', 'b2')
    pacer.receive('0000', 'a1')
    pacer.close('0001')
    pacer.receive('0001', 'b3')
    scheduler.turn()
    expect(routed()).toEqual(['route 0000 a1'])
    expect(pacer.waiting('0001')).toBe(0)
  })

  // Linux drops a datagram that arrives at a socket whose queue is already over its receive
  // buffer; the course's simulator drains each socket one datagram a round.
  it('drops what arrives at a socket whose queue is over its limit, until a round drains it', () => {
    const { pacer, scheduler, routed } = setUp()
    // 250 bytes; 100 each: the third still goes in (200 queued is not over), the fourth does not.
    for (const item of ['a1', 'a2', 'a3', 'a4']) pacer.receive('0000', item)
    pacer.receive('0001', 'b1')
    expect(pacer.overflowed).toBe(1)
    expect(pacer.waiting('0000')).toBe(3)
    scheduler.turn()
    // a1 left in the round: 200 queued, a5 fits; a6 finds 300 and is dropped.
    pacer.receive('0000', 'a5')
    pacer.receive('0000', 'a6')
    expect(pacer.overflowed).toBe(2)
    for (let i = 0; i < 4; i++) scheduler.turn()
    expect(routed()).toEqual(['route 0000 a1', 'route 0001 b1', 'route 0000 a2', 'route 0000 a3', 'route 0000 a5'])
  })

  it('a closed socket\'s queue is charged nothing when the replica comes back', () => {
    const { pacer, scheduler, routed } = setUp()
    for (const item of ['a1', 'a2', 'a3']) pacer.receive('0000', item)
    pacer.close('0000')
    pacer.reopen('0000')
    for (const item of ['r1', 'r2', 'r3']) pacer.receive('0000', item)
    expect(pacer.overflowed).toBe(0)
    for (let i = 0; i < 3; i++) scheduler.turn()
    expect(routed()).toEqual(['route 0000 r1', 'route 0000 r2', 'route 0000 r3'])
  })

  it('routes nothing once stopped', () => {
    const { pacer, scheduler, routed } = setUp()
    pacer.start()
    pacer.receive('0000', 'a1')
    pacer.stop()
    scheduler.turn()
    pacer.receive('0000', 'a2')
    scheduler.turn()
    expect(routed()).toEqual([])
    expect(scheduler.pendingTimers).toBe(0)
  })
})

describe('kvsim --fast', () => {
  it('is an option, documented in the usage text; paced routing is the default', () => {
    expect(parseCommand(command, ['configs/simple-1.json'])).toMatchObject({ options: { fast: false } })
    expect(parseCommand(command, ['configs/simple-1.json', '--fast'])).toMatchObject({ options: { fast: true } })
    expect(usage(command)).toContain('--fast')
  })
})
