/** `raftkv get <key>`: the key's value, linearizable unless --stale. */
import { runCommand, type CommandSpec, type OptionSpecs } from '../args'
import { clientOptions, CLIENT_EXIT_CODES, EXIT_NO_VALUE, withClient } from './client-options'

export const getCommand = {
  name: 'raftkv get',
  summary: "Prints a key's value (linearizable: the leader confirms it still leads before answering).",
  synopsis: '[options] <key>',
  options: {
    ...clientOptions,
    stale: { kind: 'flag', help: "answer from the first replica reached, without asking the leader (may be out of date)" },
  },
  positionals: { min: 1, max: 1 },
  footer: CLIENT_EXIT_CODES,
} as const satisfies CommandSpec<OptionSpecs>

export const runGet = (argv: readonly string[]): Promise<number> =>
  runCommand(getCommand, argv, ({ options, positionals: [key] }) =>
    withClient(getCommand.name, options, async (client) => {
      const value = await client.get(key!, { stale: options.stale })
      if (value === undefined) {
        process.stderr.write(`${getCommand.name}: ${JSON.stringify(key)} has no value\n`)
        return EXIT_NO_VALUE
      }
      process.stdout.write(`${value}\n`)
      return 0
    }),
  )
