import { ecsFormat } from '@elastic/ecs-pino-format'
import pino, { type Logger } from 'pino'
import { prettyFactory } from 'pino-pretty'
import pkg from '../../package.json'
import { createLogValues, type LogValues } from './log-values'
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
  /** Masking and bounds of what is logged; when absent, bounds only (no secrets). */
  values?: LogValues
  /** Where lines go; stdout when absent (in synchronous batches: see stdout-buffer.ts). */
  destination?: LogTarget
  /** More targets for the same JSON lines (the Logstash shipper). */
  extraTargets?: LogTarget[]
}

/** Fields every line carries and a person reading them does not need. */
export const CONSTANT_FIELDS = [
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
 * unreliable on Bun), handed to stdout (JSON or pretty) and to the extra targets. What a line holds
 * is made safe before pino writes it (log-values.ts): the fields after the ECS formatter has turned
 * `err` into `error.*` (pino's `formatters.log`), and the message, through pino's serializer of the
 * message key — which sees the message once interpolated, so no secret is assembled from parts.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const values = options.values ?? createLogValues([])
  const stdout = options.destination ?? bufferedStdout()
  const prettify = options.format === 'pretty' ? prettyEcs() : null
  const targets = options.extraTargets ?? []
  const fanout: LogTarget = {
    write(line) {
      stdout.write(prettify === null ? line : prettify(line))
      for (const target of targets) target.write(line)
    },
  }
  const ecs = ecsFormat({
    apmIntegration: false,
    serviceName: pkg.name,
    serviceVersion: pkg.version,
    serviceEnvironment: options.environment ?? 'development',
  })
  const ecsLog = ecs.formatters!.log!
  return pino(
    {
      ...ecs,
      formatters: { ...ecs.formatters, log: (object) => values.value(ecsLog(object)) as Record<string, unknown> },
      serializers: { [ecs.messageKey ?? 'msg']: (message: unknown) => values.value(message) },
      level: options.level ?? 'info',
    },
    fanout,
  )
}

/** Errors as pino's ECS formatter expects them: only Error objects become error.* fields. */
export const asError = (value: unknown): Error => (value instanceof Error ? value : new Error(String(value)))
