/** `raftkv put <key> <value>`: writes once a majority has it (linearizable). */
import { runCommand, type CommandSpec, type OptionSpecs } from '../args'
import { clientOptions, CLIENT_EXIT_CODES, withClient, requestIdOption } from './client-options'

export const putCommand = {
  name: 'raftkv put',
  summary: "Sets a key's value; done once the cluster has committed and applied it.",
  synopsis: '[options] <key> <value>',
  options: {
    ...clientOptions,
    ...requestIdOption,
  },
  positionals: { min: 2, max: 2 },
  footer: CLIENT_EXIT_CODES,
} as const satisfies CommandSpec<OptionSpecs>

export const runPut = (argv: readonly string[]): Promise<number> =>
  runCommand(putCommand, argv, ({ options, positionals: [key, value] }) =>
    withClient(putCommand.name, options, async (client) => {
      await client.put(key!, value!, options['request-id'])
      process.stdout.write('OK\n')
      return 0
    }),
  )
