import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/args'
import { parseReplicaArgs } from '../../src/cli/replica-args'

describe("the replica's command line (the course's positional protocol, and --data)", () => {
  it('reads the port, its own ID and the peers, as the simulator gives them', () => {
    expect(parseReplicaArgs(['9000', '0001', '0000'])).toEqual({ port: 9000, id: '0001', peers: ['0000'], dataDir: undefined })
    expect(parseReplicaArgs(['41234', '0002', '0000', '0001', '0003', '0004'])).toEqual({
      port: 41234, id: '0002', peers: ['0000', '0001', '0003', '0004'], dataDir: undefined,
    })
  })

  it('takes --data DIR before or after the positional arguments, and --data=DIR', () => {
    const expected = { port: 9000, id: '0001', peers: ['0000', '0002'], dataDir: '/tmp/d' }
    expect(parseReplicaArgs(['--data', '/tmp/d', '9000', '0001', '0000', '0002'])).toEqual(expected)
    expect(parseReplicaArgs(['9000', '0001', '0000', '0002', '--data', '/tmp/d'])).toEqual(expected)
    expect(parseReplicaArgs(['--data=/tmp/d', '9000', '0001', '0000', '0002'])).toEqual(expected)
  })

  it('answers --help', () => {
    expect(parseReplicaArgs(['--help'])).toBe('help')
  })

  it.each([
    [['--data'], '--data needs a value'],
    [['--dat', 'x', '9000', '0001', '0000'], 'unknown option --dat'],
    [['9000', '0001'], 'expected [--data DIR] <UDP port> <own ID> <peer ID> [<peer ID> ...]'],
    [['http', '0001', '0000'], 'not a UDP port: http'],
    [['70000', '0001', '0000'], 'not a UDP port: 70000'],
    [['9000', '1', '0000'], 'not a replica ID: 1 (four upper-case hex digits)'],
    [['9000', '0001', 'abcd'], 'not a replica ID: abcd (four upper-case hex digits)'],
    [['9000', '0001', '0001'], "the replica's own ID 0001 is among its peers"],
    [['9000', '0001', '0000', '0000'], 'peer 0000 is given twice'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseReplicaArgs(argv)).toThrow(new UsageError(message))
  })
})
