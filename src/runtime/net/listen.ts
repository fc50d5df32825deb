/** Listening on an address, and finding a free port, said once for every server of the real cluster. */
import * as net from 'node:net'
import type { Address } from './cluster'

/** Listens at `address`; resolves to the address bound (port 0: the one the kernel chose). */
export const listenOn = (server: net.Server, address: Address): Promise<Address> =>
  new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    server.once('error', onError)
    server.listen(address.port, address.host, () => {
      server.off('error', onError)
      const bound = server.address() as net.AddressInfo
      resolve({ host: bound.address, port: bound.port })
    })
  })

/** A loopback port the kernel handed out just now (free unless someone takes it in between). */
export const freePort = async (): Promise<number> => {
  const server = net.createServer()
  const { port } = await listenOn(server, { host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
