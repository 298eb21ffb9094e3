import { ecsFormat } from '@elastic/ecs-pino-format'
import pino, { type DestinationStream, type Logger } from 'pino'
import pkg from '../../package.json'

export type { Logger }

export interface LoggerOptions {
  level?: string
  environment?: string
  /**
   * Where lines go; stdout when absent, written synchronously: an exit right after a line (a fatal
   * configuration error, the end of a shutdown) must not lose it.
   */
  destination?: DestinationStream
}

/** ECS JSON lines, written from the main thread (no pino transports: their worker threads are unreliable on Bun). */
export function createLogger(options: LoggerOptions = {}): Logger {
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
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  )
}
