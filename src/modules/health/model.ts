import { t } from 'elysia'

export const Liveness = t.Object(
  { status: t.Literal('ok', { description: 'The process is up and serving HTTP.' }) },
  { title: 'Liveness', description: 'The process is alive.', examples: [{ status: 'ok' }] },
)

const Check = t.Union(
  [t.Literal('up'), t.Literal('down'), t.Literal('denied'), t.Literal('present'), t.Literal('missing'), t.Literal('unknown')],
  { description: "denied: the database refused the service's user (a missing privilege, a wrong password)." },
)

const SchemaCheck = t.Union(
  [
    t.Literal('present'),
    t.Literal('missing'),
    t.Literal('denied'),
    t.Literal('unknown'),
    t.Literal('mismatch'),
    t.Literal('applying'),
    t.Literal('migrating'),
    t.Literal('waiting'),
    t.Literal('failed'),
  ],
  {
    description:
      "mismatch: a table lacks a column or index of the schema files, or has another type (a table re-created by hand); applying, migrating: the start is applying the schema files; waiting: another process holds the schema lock and migrates (SCHEMA_WAIT_TIMEOUT); failed: the schema cannot be applied and waiting will not change it (the detail names the file and the server's error code); denied: the service's user may not read a table.",
  },
)

export const Readiness = t.Object(
  {
    status: t.Union([t.Literal('ready'), t.Literal('not_ready')], {
      description:
        "ready when the start is done (schema applied, start-up collection over), the database answers, every table of the schema is there with its columns and indexes and readable by the service's user, and the process is not shutting down.",
    }),
    checks: t.Object({
      database: Check,
      schema: SchemaCheck,
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
