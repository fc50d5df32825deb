/** `raftkv delete <key>`: removes the key's value once the cluster has committed the delete. */
import { runCommand, type CommandSpec, type OptionSpecs } from '../args'
import { clientOptions, CLIENT_EXIT_CODES, withClient, requestIdOption } from './client-options'

export const deleteCommand = {
  name: 'raftkv delete',
  summary: "Removes a key's value (done once committed and applied; a key with no value is fine).",
  synopsis: '[options] <key>',
  options: {
    ...clientOptions,
    ...requestIdOption,
  },
  positionals: { min: 1, max: 1 },
  footer: CLIENT_EXIT_CODES,
} as const satisfies CommandSpec<OptionSpecs>

export const runDelete = (argv: readonly string[]): Promise<number> =>
  runCommand(deleteCommand, argv, ({ options, positionals: [key] }) =>
    withClient(deleteCommand.name, options, async (client) => {
      await client.delete(key!, options['request-id'])
      process.stdout.write('OK\n')
      return 0
    }),
  )
