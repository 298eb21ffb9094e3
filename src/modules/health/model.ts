import { t } from 'elysia'

export const Liveness = t.Object(
  { status: t.Literal('ok', { description: 'The process is up and serving HTTP.' }) },
  { title: 'Liveness', description: 'The process is alive.', examples: [{ status: 'ok' }] },
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
  {
    title: 'Readiness',
    description: 'Whether the service can answer API requests.',
    examples: [{ status: 'ready', checks: { database: 'up', schema: 'present', shutting_down: false } }],
  },
)
