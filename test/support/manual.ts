import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The project's manual as the tests read it: README.md, then every file of docs/ in name order.
 * Each docs file starts with its `# Title`, so a section read by heading ends where the next file
 * begins.
 */

export const ROOT = join(import.meta.dir, '..', '..')
export const DOCS = join(ROOT, 'docs')

/** The manual's files, relative to the repository: README.md first. */
export const MANUAL_FILES = [
  'README.md',
  ...readdirSync(DOCS)
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
]

export const readManualFile = (file: string): string => readFileSync(join(ROOT, file), 'utf8')

/** Every line of the manual, file after file. */
export const manualLines = (): string[] => MANUAL_FILES.flatMap((file) => readManualFile(file).split('\n'))

/** The whole manual as one text. */
export const manualText = (): string => manualLines().join('\n')
