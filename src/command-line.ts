import { type ParseArgsConfig, parseArgs } from 'node:util'

/**
 * The command line of every command (`bun run start`, `collect`, `seed`, `bench`): `--help` prints
 * the usage and exits 0; an unknown option, a missing or malformed value, or an argument the command
 * does not take is one line on stderr and exit 2 (a usage error, as sysexits and most CLIs have it),
 * never a stack trace. Options are declared once, with their help text and their parser.
 */

export interface OptionSpec<T> {
  /** The value's name in the usage (`N`, `FILE`); none for a flag. */
  value?: string
  description: string
  /** The default, as a person would type it. */
  default?: string
  /** Reads the typed text; throws an Error whose message says what is accepted. */
  parse: (text: string) => T
}

export interface CommandSpec<O extends Record<string, OptionSpec<unknown>>> {
  /** How the command is run: `bun run seed`. */
  name: string
  summary: string
  options: O
  /** Lines after the options: environment, examples. */
  notes?: string[]
}

export type CommandValues<O extends Record<string, OptionSpec<unknown>>> = {
  [K in keyof O]: O[K]['default'] extends string ? ReturnType<O[K]['parse']> : ReturnType<O[K]['parse']> | undefined
}

export type CommandLine<V> = { kind: 'run'; values: V } | { kind: 'help'; text: string } | { kind: 'usage-error'; text: string }

/** What the service's commands say of their configuration, which is the environment's, not the command line's. */
export const CONFIGURATION_NOTES = [
  'Configured by environment variables (MYSQL_URL, HASHTAGS, TWITTER_BEARER_TOKEN, ...): see .env.example and docs/configuration.md.',
]

/** A flag: present or not. */
export const flag = (description: string): OptionSpec<boolean> => ({ description, parse: () => true })

/** A whole number from `min` to `max`. */
export const wholeNumber =
  (min: number, max: number) =>
  (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new Error(`a whole number from ${min} to ${max}`)
    return Number(text)
  }

/** One of the words given. */
export const oneOfWords =
  <W extends string>(...words: W[]) =>
  (text: string): W => {
    if (!(words as string[]).includes(text)) throw new Error(`one of ${words.join(', ')}`)
    return text as W
  }

/** Any text but an empty one. */
export const someText = (text: string): string => {
  if (text.length === 0) throw new Error('a value')
  return text
}

export function usageOf<O extends Record<string, OptionSpec<unknown>>>(spec: CommandSpec<O>): string {
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const left = `  --${name}${option.value === undefined ? '' : ` ${option.value}`}`
    const fallback = option.default === undefined ? '' : ` (default: ${option.default})`
    return [left, `${option.description}${fallback}`] as const
  })
  rows.push(['  --help', 'print this and exit'])
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  const options = Object.keys(spec.options).map(
    (name) => `[--${name}${spec.options[name]!.value ? ` ${spec.options[name]!.value}` : ''}]`,
  )
  return [
    `Usage: ${spec.name} ${options.join(' ')}`.trimEnd(),
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([left, right]) => `${left.padEnd(width)}${right}`),
    ...(spec.notes === undefined ? [] : ['', ...spec.notes]),
  ].join('\n')
}

/** Reads `args` against `spec`: the values, the help, or the one-line usage error. Never throws. */
export function readCommandLine<O extends Record<string, OptionSpec<unknown>>>(
  spec: CommandSpec<O>,
  args: string[],
): CommandLine<CommandValues<O>> {
  const error = (what: string) => ({ kind: 'usage-error' as const, text: `${spec.name}: ${what} (see --help)` })
  // Bounded: the text is echoed in one line.
  const shown = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text).replace(/\p{Cc}/gu, '\ufffd')
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(
          Object.entries(spec.options).map(([name, option]) => [
            name,
            { type: option.value === undefined ? 'boolean' : 'string' },
          ]),
        ),
      } as NonNullable<ParseArgsConfig['options']>,
    })
  } catch (e) {
    // node:util's messages name the option as typed: the first sentence, without control characters
    // (a terminal would run escape sequences), bounded.
    const message = (e as Error).message
      .split('\n')[0]!
      .replace(/\. To specify a positional argument.*$/, '')
      .replace(/\p{Cc}/gu, '\ufffd')
    return error(message.length > 200 ? `${message.slice(0, 200)}…` : message)
  }
  if (parsed.values.help === true) return { kind: 'help', text: usageOf(spec) }
  const values: Record<string, unknown> = {}
  for (const [name, option] of Object.entries(spec.options)) {
    const given = Object.hasOwn(parsed.values, name) ? parsed.values[name] : undefined
    if (option.value === undefined) {
      values[name] = given === true
      continue
    }
    const text = typeof given === 'string' ? given : option.default
    if (text === undefined) continue
    try {
      values[name] = option.parse(text)
    } catch (e) {
      return error(`--${name} must be ${(e as Error).message}, not ${shown(text)}`)
    }
  }
  return { kind: 'run', values: values as CommandValues<O> }
}

/** The command line of this process: prints the help and exits 0, or the usage error and exits 2. */
export function commandLine<O extends Record<string, OptionSpec<unknown>>>(
  spec: CommandSpec<O>,
  args = process.argv.slice(2),
): CommandValues<O> {
  const read = readCommandLine(spec, args)
  if (read.kind === 'help') {
    console.log(read.text)
    process.exit(0)
  }
  if (read.kind === 'usage-error') {
    console.error(read.text)
    process.exit(2)
  }
  return read.values
}
