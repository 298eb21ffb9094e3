import { t } from 'elysia'

export const Liveness = t.Object(
  { status: t.Literal('ok', { description: 'The process is up and serving HTTP.' }) },
  { description: 'The process is alive.' },
)

const Check = t.Union(
  [t.Literal('up'), t.Literal('down'), t.Literal('denied'), t.Literal('present'), t.Literal('missing'), t.Literal('unknown')],
  { description: "denied: the database refused the service's user (a missing privilege, a wrong password)." },
)

export const Readiness = t.Object(
  {
    status: t.Union([t.Literal('ready'), t.Literal('not_ready')], {
      description:
        "ready when the database answers, every table of the schema is there and readable by the service's user, and the process is not shutting down.",
    }),
    checks: t.Object({
      database: Check,
      schema: Check,
      shutting_down: t.Boolean(),
    }),
    detail: t.Optional(t.String({ description: 'Why it is not ready.' })),
  },
  { description: 'Whether the service can answer API requests.' },
)

export const NoQuery = t.Object({})
