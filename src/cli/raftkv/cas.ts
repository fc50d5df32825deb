/** `raftkv cas <key> <expected> <value>`: compare-and-set, as etcd's transactions and Jepsen's cas. */
import { runCommand, UsageError, type CommandSpec, type OptionSpecs } from '../args'
import { clientOptions, CLIENT_EXIT_CODES, EXIT_NO_VALUE, withClient, requestIdOption } from './client-options'

export const casCommand = {
  name: 'raftkv cas',
  summary: "Sets a key's value only if its value now is <expected> (with --absent: only if it has none).",
  synopsis: '[options] <key> <expected> <value>  |  --absent <key> <value>',
  options: {
    ...clientOptions,
    absent: { kind: 'flag', help: 'write only if the key has no value (then give no <expected>)' },
    ...requestIdOption,
  },
  positionals: { min: 2, max: 3 },
  footer: CLIENT_EXIT_CODES,
} as const satisfies CommandSpec<OptionSpecs>

export const runCas = (argv: readonly string[]): Promise<number> =>
  runCommand(casCommand, argv, ({ options, positionals }) => {
    if (options.absent ? positionals.length !== 2 : positionals.length !== 3) {
      throw new UsageError(options.absent ? 'with --absent, give <key> <value>' : 'give <key> <expected> <value>')
    }
    const [key, expected, value] = options.absent ? [positionals[0]!, undefined, positionals[1]!] : [positionals[0]!, positionals[1]!, positionals[2]!]
    return withClient(casCommand.name, options, async (client) => {
      if (await client.cas(key, expected, value, options['request-id'])) {
        process.stdout.write('OK\n')
        return 0
      }
      process.stderr.write(`${casCommand.name}: ${JSON.stringify(key)} ${expected === undefined ? 'has a value' : 'does not hold the expected value'}; nothing written\n`)
      return EXIT_NO_VALUE
    })
  })
