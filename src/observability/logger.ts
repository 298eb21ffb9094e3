import { ecsFormat } from '@elastic/ecs-pino-format'
import pino, { type Logger } from 'pino'
import { prettyFactory } from 'pino-pretty'
import pkg from '../../package.json'
import { bufferedStdout } from './stdout-buffer'

export type { Logger }

/** Where log lines go: anything with a `write(line)`. */
export interface LogTarget {
  write(line: string): void
}

export interface LoggerOptions {
  level?: string
  environment?: string
  /** JSON lines (for machines), or pretty ones (for people). */
  format?: 'json' | 'pretty'
  /** Values that must never appear in a log line: replaced wherever they occur. */
  secrets?: string[]
  /** Where lines go; stdout when absent (in synchronous batches: see stdout-buffer.ts). */
  destination?: LogTarget
  /** More targets for the same JSON lines (the Logstash shipper). */
  extraTargets?: LogTarget[]
}

const MASK = '[REDACTED]'
const MIN_SECRET_LENGTH = 3

/** Replaces every occurrence of each secret, raw or JSON-escaped, in a line. */
export function redactor(secrets: string[]): (line: string) => string {
  const forms = [
    ...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])),
  ]
    // Longest first, so that a secret containing another is masked whole.
    .sort((a, b) => b.length - a.length)
  if (forms.length === 0) return (line) => line
  return (line) => forms.reduce((text, secret) => (text.includes(secret) ? text.replaceAll(secret, MASK) : text), line)
}

/** Fields every line carries and a person reading them does not need. */
const CONSTANT_FIELDS = [
  'process.pid',
  'host.hostname',
  'ecs.version',
  'service.name',
  'service.version',
  'service.environment',
  'event.dataset',
]

/** pino-pretty told where ECS keeps level, time and message; it reads a dot in a key as nesting unless escaped. */
const escapeDots = (key: string) => key.replaceAll('.', '\\.')
const prettyEcs = () =>
  prettyFactory({
    colorize: process.stdout.isTTY === true,
    levelKey: escapeDots('log.level'),
    timestampKey: '@timestamp',
    messageKey: 'message',
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: CONSTANT_FIELDS.map(escapeDots).join(','),
    singleLine: true,
  })

/**
 * ECS JSON lines, written from the main thread (no pino transports: their worker threads are
 * unreliable on Bun). Every line is redacted once, then handed to stdout (JSON or pretty) and to the
 * extra targets.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const redact = redactor(options.secrets ?? [])
  const stdout = options.destination ?? bufferedStdout()
  const prettify = options.format === 'pretty' ? prettyEcs() : null
  const targets = options.extraTargets ?? []
  const fanout: LogTarget = {
    write(line) {
      const clean = redact(line)
      stdout.write(prettify === null ? clean : prettify(clean))
      for (const target of targets) target.write(clean)
    },
  }
  return pino(
    {
      ...ecsFormat({
        apmIntegration: false,
        serviceName: pkg.name,
        serviceVersion: pkg.version,
        serviceEnvironment: options.environment ?? 'development',
      }),
      level: options.level ?? 'info',
    },
    fanout,
  )
}

/** Errors as pino's ECS formatter expects them: only Error objects become error.* fields. */
export const asError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)))
