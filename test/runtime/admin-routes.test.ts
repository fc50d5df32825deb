/** The membership and leadership routes of the HTTP API (docs/http-api.md), parsed without a server. */
import * as E from 'fp-ts/Either'
import { describe, expect, it } from 'vitest'
import { parseRoute } from '../../src/runtime/http/routes'

const route = (method: string, target: string) => parseRoute(method, target)

describe('membership and leadership routes', () => {
  it('list, add with addresses, promote, remove, transfer', () => {
    expect(route('GET', '/v1/members')).toEqual(E.right({ kind: 'admin', action: 'list' }))
    expect(route('PUT', '/v1/members/4?peer=10.0.0.4:7500&client=%5B%3A%3A1%5D:7400')).toEqual(
      E.right({ kind: 'admin', action: 'add', member: '0004', addresses: { peer: '10.0.0.4:7500', client: '[::1]:7400' } }),
    )
    expect(route('PUT', '/v1/members/4')).toEqual(E.right({ kind: 'admin', action: 'add', member: '0004' }))
    expect(route('POST', '/v1/members/0004/promote')).toEqual(E.right({ kind: 'admin', action: 'promote', member: '0004' }))
    expect(route('DELETE', '/v1/members/a')).toEqual(E.right({ kind: 'admin', action: 'remove', member: '000A' }))
    expect(route('POST', '/v1/leader/2')).toEqual(E.right({ kind: 'admin', action: 'transfer', member: '0002' }))
  })

  it('bad input: a clear 4xx, nothing handed to the replica', () => {
    const status = (method: string, target: string): number | undefined => {
      const r = route(method, target)
      return E.isLeft(r) ? r.left.status : undefined
    }
    expect(status('PUT', '/v1/members/xyz')).toBe(400)
    expect(status('PUT', '/v1/members/FF00')).toBe(400)
    expect(status('PUT', '/v1/members/4?peer=10.0.0.4:7500')).toBe(400)
    expect(status('PUT', '/v1/members/4?peer=nope&client=10.0.0.4:7400')).toBe(400)
    expect(status('PUT', '/v1/members/4?role=voter')).toBe(400)
    expect(status('POST', '/v1/members')).toBe(405)
    expect(status('GET', '/v1/members/4/promote')).toBe(405)
    expect(status('GET', '/v1/leader/2')).toBe(405)
  })
})
