import { afterAll, describe, expect, test } from 'bun:test'
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DockerfileParser } from 'dockerfile-ast'
import { parse } from 'yaml'
import pkg from '../../package.json'
import { variables } from '../../src/config'
import { duration } from '../../src/config/parsers'

/**
 * The Docker stack cannot run on the build machines (no engine): everything that can be checked
 * without one is checked here. The compose file against the Compose specification (dclint), the
 * Dockerfile (dockerfile-utils and our rules), the files and names the stack's parts share, and the
 * start and stop scripts, run against stand-in `docker` and `curl` commands that record their calls.
 */

const ROOT = join(import.meta.dir, '..', '..')
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const compose = parse(read('docker-compose.yml'))
const services = compose.services as Record<string, any>
/** Compose's `!override` and `!reset` tags, kept as the values they carry. */
const composeTags = ['!override', '!reset'].map((tag) => ({
  tag,
  collection: 'seq' as const,
  resolve: (value: unknown) => value,
}))
/** Variables a compose file reads: ${NAME}, ${NAME:-…}, ${NAME:?…}. */
const composeVariables = (text: string) => new Set([...text.matchAll(/\$\{([A-Z_]+)[:}]/g)].map((m) => m[1]!))
/** Variables an env example mentions, set or commented out. */
const mentioned = (text: string) => [...text.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!)
const temporary: string[] = []

afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true })
})

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  temporary.push(dir)
  return dir
}

/** `127.0.0.1:host:container` → [host, container]; the host part may hold ${VAR:-default} with its own colon. */
function mapping(port: string): [string, string] {
  const rest = port.replace(/^127\.0\.0\.1:/, '')
  const split = rest.lastIndexOf(':')
  return [rest.slice(0, split), rest.slice(split + 1)]
}
const hostPorts = (service: string): string[] => (services[service].ports ?? []).map((p: string) => mapping(p)[0])
const containerPorts = (service: string): string[] => (services[service].ports ?? []).map((p: string) => mapping(p)[1])

describe('docker-compose.yml', () => {
  test('it follows the Compose specification and the lint rules (dclint, no warnings)', () => {
    const run = Bun.spawnSync([join(ROOT, 'node_modules', '.bin', 'dclint'), 'docker-compose.yml', '--max-warnings', '0'], {
      cwd: ROOT,
    })
    expect({ code: run.exitCode, output: (run.stdout.toString() + run.stderr.toString()).trim() }).toEqual({
      code: 0,
      output: '',
    })
  })

  test('it has the seven services, each with a healthcheck, started in order by healthchecks, never by sleeping', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'elasticsearch', 'grafana', 'kibana', 'logstash', 'mysql', 'prometheus'])
    for (const [name, service] of Object.entries(services)) {
      expect({ name, healthcheck: Array.isArray(service.healthcheck?.test) }).toEqual({ name, healthcheck: true })
      for (const [dependency, condition] of Object.entries(service.depends_on ?? {})) {
        expect({ name, dependency, condition }).toEqual({ name, dependency, condition: { condition: 'service_healthy' } })
      }
    }
    expect(read('docker-compose.yml')).not.toMatch(/\bsleep\b/)
    expect(services.app.depends_on).toHaveProperty('mysql')
    expect(services.logstash.depends_on).toHaveProperty('elasticsearch')
    expect(services.kibana.depends_on).toHaveProperty('elasticsearch')
    expect(services.grafana.depends_on).toHaveProperty('prometheus')
  })

  test("the app's healthcheck gives a migrating start as long as other replicas wait for it (SCHEMA_WAIT_TIMEOUT's default)", () => {
    const { healthcheck } = services.app
    expect(duration(healthcheck.start_period)).toBe(duration(variables.SCHEMA_WAIT_TIMEOUT.default!))
    // Past the start period, a start that has not become ready in three checks is unhealthy.
    expect(healthcheck.retries).toBe(3)
  })

  test('every file it mounts or builds from exists in the repository', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = String(volume).split(':')[0]!
        if (!source.startsWith('.')) continue
        expect({ name, source, exists: existsSync(join(ROOT, source)) }).toEqual({ name, source, exists: true })
      }
    }
    expect(existsSync(join(ROOT, services.app.build.context, services.app.build.dockerfile))).toBe(true)
    for (const named of Object.values(services).flatMap((s: any) =>
      (s.volumes ?? []).map(String).filter((v: string) => !v.startsWith('.')),
    )) {
      expect(Object.keys(compose.volumes)).toContain(named.split(':')[0])
    }
  })

  test('ports: API 5000, Kibana 5601, Grafana 3000, Prometheus 9090, Elasticsearch 9200, Logstash API 9600, MySQL elsewhere than 3306, all on 127.0.0.1', () => {
    // One API port, not a range: from a range Docker hands out the next free port after a re-create.
    expect(hostPorts('app')).toEqual(['${API_PORT:-5000}'])
    expect(hostPorts('kibana')).toEqual(['5601'])
    expect(hostPorts('grafana')).toEqual(['3000'])
    expect(hostPorts('prometheus')).toEqual(['9090'])
    expect(hostPorts('elasticsearch')).toEqual(['9200'])
    expect(hostPorts('logstash')).toEqual(['9600'])
    expect(hostPorts('mysql')).toEqual(['${MYSQL_HOST_PORT:-13306}'])
    for (const service of Object.values(services))
      for (const port of service.ports ?? []) expect(String(port)).toStartWith('127.0.0.1:')
  })

  test('replicas get their ports from docker-compose.scale.yml, which replaces the single port by a range', () => {
    const scale = parse(read('docker-compose.scale.yml'), { customTags: composeTags })
    expect(Object.keys(scale.services)).toEqual(['app'])
    expect(scale.name).toBe(compose.name)
    expect(read('docker-compose.scale.yml')).toContain('ports: !override')
    expect(scale.services.app.ports).toEqual(['127.0.0.1:${API_PORT:-5000}-${API_PORT_LAST:-5009}:5000'])
    expect(read('docker-compose.scale.yml')).toContain(
      'docker compose -f docker-compose.yml -f docker-compose.scale.yml up --detach --scale app=3',
    )
    const run = Bun.spawnSync([join(ROOT, 'node_modules', '.bin', 'dclint'), 'docker-compose.scale.yml', '--max-warnings', '0'], {
      cwd: ROOT,
    })
    expect({ code: run.exitCode, output: (run.stdout.toString() + run.stderr.toString()).trim() }).toEqual({
      code: 0,
      output: '',
    })
  })

  test('every setting of the service reaches the app: passed from .env, fixed by the stack, or named in the comment that says why not', () => {
    const environment = services.app.environment as Record<string, unknown>
    const text = read('docker-compose.yml')
    const comment = text.match(/^ *# Not passed: [^\n]*(\n *#[^\n]*)*/m)?.[0] ?? ''
    const excluded = Object.keys(variables).filter((name) => new RegExp(`\\b${name}\\b \\(`).test(comment))
    expect(excluded.length).toBeGreaterThan(0)
    // Stack defaults other than the service's: its account, and production in the log lines.
    const stackDefaults = ['MYSQL_DATABASE', 'MYSQL_USER', 'MYSQL_PASSWORD', 'SERVICE_ENVIRONMENT']
    for (const name of Object.keys(variables)) {
      const value = environment[name] === undefined ? undefined : String(environment[name])
      if (excluded.includes(name)) {
        expect({ name, value }).toEqual({ name, value: undefined })
        continue
      }
      const passed = value !== undefined && (!value.startsWith('${') || new RegExp(`^\\$\\{${name}:[-?]`).test(value))
      expect({ name, value, passed }).toEqual({ name, value, passed: true })
      // Empty is unset for the service (src/config/index.ts), so ${NAME:-} leaves its default in force.
      if (value?.startsWith('${') && !stackDefaults.includes(name))
        expect({ name, value }).toEqual({ name, value: `\${${name}:-}` })
    }
    for (const name of Object.keys(environment))
      expect({ name, known: Object.hasOwn(variables, name) }).toEqual({ name, known: true })
    expect(environment.SERVICE_ENVIRONMENT).toBe('${SERVICE_ENVIRONMENT:-production}')
  })

  test("the app gets neither the MySQL root password nor Grafana's, and no env_file that would hand it all of .env", () => {
    expect(services.app.env_file).toBeUndefined()
    for (const [key, value] of Object.entries(services.app.environment ?? {}))
      expect({ key, value: String(value) }).not.toEqual({ key, value: expect.stringMatching(/ROOT|GRAFANA|GF_/) })
  })

  test('every image is pinned to an exact release: no latest, no major or major.minor tag; the Elastic images share one version', () => {
    const images = Object.entries(services)
      .filter(([, service]) => service.image !== undefined)
      .map(([name, service]) => ({ name, image: String(service.image) }))
    expect(images.map((i) => i.name).sort()).toEqual(['elasticsearch', 'grafana', 'kibana', 'logstash', 'mysql', 'prometheus'])
    for (const { name, image } of images) {
      const tag = image.slice(image.lastIndexOf(':') + 1)
      expect({ name, image, exact: image.includes(':') && /^v?\d+\.\d+\.\d+$/.test(tag) }).toEqual({ name, image, exact: true })
    }
    const elastic = images.filter((i) => i.image.startsWith('docker.elastic.co/')).map((i) => i.image.split(':')[1])
    expect(elastic).toHaveLength(3)
    expect(new Set(elastic).size).toBe(1)
  })

  test('every bind mount carries :z, for SELinux hosts', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service.volumes ?? []).map(String).filter((v: string) => v.startsWith('.'))) {
        const mode = volume.split(':')[2] ?? ''
        expect({ name, volume, relabelled: mode.split(',').includes('z') }).toEqual({ name, volume, relabelled: true })
      }
    }
  })

  test('the app reaches MySQL and Logstash by their service names and ports, with the credentials MySQL is given', () => {
    const app = services.app.environment
    const mysql = services.mysql.environment
    expect(app.MYSQL_HOST).toBe('mysql')
    expect(String(app.MYSQL_PORT)).toBe('3306')
    for (const key of ['MYSQL_DATABASE', 'MYSQL_USER', 'MYSQL_PASSWORD'])
      expect({ key, app: app[key] }).toEqual({ key, app: mysql[key] })
    expect(app.LOGSTASH_HOST).toBe('logstash')
    expect(read('provisioning/logstash/pipeline/twitter-hashtags.conf')).toContain(`port => ${app.LOGSTASH_PORT}`)
    expect(String(app.PORT)).toBe(containerPorts('app')[0]!)
    expect(app.TWITTER_BEARER_TOKEN).toBe('${TWITTER_BEARER_TOKEN:-}')
  })

  test('Prometheus scrapes the app service on its port; Grafana, Logstash and Kibana point at the right services', () => {
    const scrape = parse(read('provisioning/prometheus/prometheus.yml')).scrape_configs[0]
    expect(scrape.dns_sd_configs[0]).toMatchObject({ names: ['app'], port: Number(containerPorts('app')[0]) })
    const mounted = services.prometheus.volumes.map(String)
    expect(mounted).toContain('./provisioning/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro,z')
    expect(mounted).toContain('./provisioning/prometheus/rules:/etc/prometheus/rules:ro,z')
    expect(parse(read('provisioning/prometheus/prometheus.yml')).rule_files).toEqual(['/etc/prometheus/rules/*.yml'])

    const datasource = parse(read('provisioning/grafana/provisioning/datasources/prometheus.yml')).datasources[0]
    expect(datasource.url).toBe(`http://prometheus:${containerPorts('prometheus')[0]}`)
    const grafanaMounts = services.grafana.volumes.map(String)
    const dashboardPath = parse(read('provisioning/grafana/provisioning/dashboards/dashboards.yml')).providers[0].options.path
    expect(grafanaMounts).toContain(`./provisioning/grafana/dashboards:${dashboardPath}:ro,z`)

    const elasticsearch = `http://elasticsearch:${containerPorts('elasticsearch')[0]}`
    expect(services.logstash.environment.ELASTICSEARCH_HOSTS).toBe(elasticsearch)
    expect(read('provisioning/logstash/pipeline/twitter-hashtags.conf')).toContain(`\${ELASTICSEARCH_HOSTS:${elasticsearch}}`)
    expect(JSON.parse(services.kibana.environment.ELASTICSEARCH_HOSTS)).toEqual([elasticsearch])
    const logstashMounts = services.logstash.volumes.map(String)
    expect(logstashMounts).toContain('./provisioning/logstash/templates:/usr/share/logstash/templates:ro,z')
    expect(read('provisioning/logstash/config/pipelines.yml')).toContain('/usr/share/logstash/pipeline/twitter-hashtags.conf')
  })

  test('credentials come from .env only: Grafana without sign-up or anonymous access, nothing secret in the file', () => {
    const grafana = services.grafana.environment
    expect(grafana.GF_SECURITY_ADMIN_PASSWORD).toStartWith('${GRAFANA_ADMIN_PASSWORD:?')
    expect(grafana.GF_USERS_ALLOW_SIGN_UP).toBe('false')
    expect(grafana.GF_AUTH_ANONYMOUS_ENABLED).toBe('false')
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|TOKEN|SECRET/.test(key))
          expect({ name, key, fromEnv: String(value).startsWith('${') }).toEqual({ name, key, fromEnv: true })
      }
    }
    expect(read('.gitignore').split('\n')).toContain('.env')
  })

  test('every variable the compose files read is documented in stack.env.example, which mentions nothing else but START_TIMEOUT', () => {
    const used = new Set([...composeVariables(read('docker-compose.yml')), ...composeVariables(read('docker-compose.scale.yml'))])
    const example = mentioned(read('stack.env.example'))
    for (const name of used) expect({ name, documented: example.includes(name) }).toEqual({ name, documented: true })
    for (const name of example) expect({ name, read: used.has(name) || name === 'START_TIMEOUT' }).toEqual({ name, read: true })
    expect(read('scripts/start.sh')).toContain('setting START_TIMEOUT')
  })

  test('stack.env.example is what the stack reads, .env.example what the bare service reads: neither sets what only the other means', () => {
    const stack = read('stack.env.example')
    // The mysql image refuses MYSQL_USER=root; the bare service's MYSQL_URL, PORT and HOST mean nothing in the stack.
    expect(stack).not.toMatch(/^MYSQL_USER=root$/m)
    for (const name of ['MYSQL_URL', 'PORT', 'HOST', 'MYSQL_HOST', 'MYSQL_PORT', 'LOGSTASH_HOST', 'LOGSTASH_PORT'])
      expect({ name, set: new RegExp(`^${name}=`, 'm').test(stack) }).toEqual({ name, set: false })
    for (const name of mentioned(read('.env.example')))
      expect({ name, readByTheService: Object.hasOwn(variables, name) }).toEqual({ name, readByTheService: true })
  })
})

describe('Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(read('Dockerfile'))
  const instructions = dockerfile.getInstructions().map((i) => ({
    keyword: i.getKeyword(),
    args: i.getArguments().map((a) => a.getValue()),
    flags: ((i as unknown as { getFlags?: () => { getName(): string }[] }).getFlags?.() ?? []).map((f) => f.getName()),
  }))
  const lastStage = instructions.slice(instructions.map((i) => i.keyword).lastIndexOf('FROM'))

  test('dockerfile-utils finds nothing to report', () => {
    const run = Bun.spawnSync([join(ROOT, 'node_modules', '.bin', 'dockerfile-utils'), 'lint', 'Dockerfile'], { cwd: ROOT })
    expect({ code: run.exitCode, output: run.stdout.toString() + run.stderr.toString() }).toEqual({ code: 0, output: '' })
  })

  test('multi-stage on the official Bun image at the version the project pins', () => {
    const froms = dockerfile.getFROMs()
    expect(froms.length).toBeGreaterThanOrEqual(2)
    for (const from of froms) expect(from.getImageName()).toBe('oven/bun')
    const version = instructions.find((i) => i.keyword === 'ARG' && i.args[0]!.startsWith('BUN_VERSION='))!.args[0]!.split('=')[1]
    expect(`bun@${version}`).toBe(pkg.packageManager)
  })

  test('production dependencies only, from the frozen lockfile, and a non-root user in the final stage', () => {
    const install = instructions.find((i) => i.keyword === 'RUN' && i.args.includes('install'))!
    expect(install.args).toEqual(expect.arrayContaining(['--frozen-lockfile', '--production']))
    const user = lastStage.filter((i) => i.keyword === 'USER').at(-1)
    expect(user?.args[0]).toBeDefined()
    expect(['root', '0']).not.toContain(user!.args[0]!.split(':')[0]!)
    expect(lastStage.some((i) => i.keyword === 'HEALTHCHECK')).toBe(true)
    expect(lastStage.find((i) => i.keyword === 'EXPOSE')!.args).toEqual(['5000'])
  })

  test('everything it copies exists, and tests are left out of the image', () => {
    for (const copy of instructions.filter((i) => i.keyword === 'COPY' && !i.flags.includes('from'))) {
      for (const source of copy.args.slice(0, -1)) {
        expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true })
      }
    }
    const ignore = read('.dockerignore').split('\n')
    // Everything is left out but what is named; src/ comes back without its tests, test/ never does.
    expect(ignore).toEqual(expect.arrayContaining(['*', '!src/', 'src/**/*.test.ts']))
    expect(ignore.filter((line) => line.startsWith('!test'))).toEqual([])
  })
})

describe('scripts', () => {
  test('ShellCheck finds nothing in the scripts', () => {
    if (Bun.which('shellcheck') === null) throw new Error('shellcheck is not installed: apt-get install shellcheck')
    const scripts = [...new Bun.Glob('scripts/*.sh').scanSync(ROOT)].sort()
    expect(scripts).toEqual(
      expect.arrayContaining(['scripts/start.sh', 'scripts/stop.sh', 'scripts/test.sh', 'scripts/verify-stack.sh']),
    )
    const run = Bun.spawnSync(['shellcheck', ...scripts, '.ci/run'], { cwd: ROOT })
    expect({ code: run.exitCode, output: run.stdout.toString() }).toEqual({ code: 0, output: '' })
  })

  /**
   * A copy of what the scripts use, and a bin directory with the system tools they need plus
   * stand-ins for `docker` and `curl` that append their arguments to calls.log. The stand-in docker
   * answers like the real one where the scripts read its answers: `compose version --short`,
   * `compose port` (127.0.0.1:port; the file `ports` of the sandbox, lines "service port address",
   * says otherwise), `volume ls` (the names in the file `volumes`); at `compose up` it writes the
   * modes of the mounted files to modes.log, as the containers would find them.
   */
  const DEFAULT_HOST_PORTS: Record<string, string> = {
    'app 5000': '5000',
    'kibana 5601': '5601',
    'grafana 3000': '3000',
    'prometheus 9090': '9090',
    'mysql 3306': '13306',
  }
  const standInDocker = (dir: string) => `
case "$1 $2" in
  "compose version")
    version=$(cat "${dir}/compose-version" 2>/dev/null || echo 2.29.1)
    if [ "$3" = --short ]; then echo "$version"; else echo "Docker Compose version v$version"; fi ;;
  "compose port")
    answer=$(grep -E "^$3 $4 " "${dir}/ports" 2>/dev/null | cut -d' ' -f3)
    if [ -z "$answer" ]; then
      case "$3 $4" in
        ${Object.entries(DEFAULT_HOST_PORTS)
          .map(([key, port]) => `"${key}") answer=127.0.0.1:${port} ;;`)
          .join('\n        ')}
      esac
    fi
    echo "$answer" ;;
  "volume ls") cat "${dir}/volumes" 2>/dev/null ;;
  "compose up") stat -c '%a %n' sql sql/* provisioning/prometheus provisioning/prometheus/prometheus.yml >> "${dir}/modes.log" ;;
esac
exit 0`
  const IMPORTED = '{"success":true,"successCount":6,"successResults":[]}'
  const standInCurl = (importAnswer: string) =>
    `case "$*" in *api/status*) echo '{"status":{"overall":{"level":"available"}}}' ;; *_import*) echo '${importAnswer}' ;; esac; exit 0`

  function sandbox(options: { docker?: string | null; curl?: string; umask077?: boolean } = {}) {
    const dir = tempDir('stack-scripts-')
    if (options.umask077) {
      // A checkout made under umask 077: files 600, directories 700.
      const copy = Bun.spawnSync(['bash', '-c', 'umask 077 && cp -r "$0"/scripts "$0"/provisioning "$0"/sql "$1"/', ROOT, dir])
      expect(copy.exitCode).toBe(0)
    } else {
      for (const part of ['scripts', 'provisioning', 'sql']) cpSync(join(ROOT, part), join(dir, part), { recursive: true })
    }
    const bin = join(dir, 'bin')
    mkdirSync(bin)
    for (const tool of [
      'bash',
      'env',
      'dirname',
      'grep',
      'sed',
      'seq',
      'sleep',
      'cat',
      'tr',
      'od',
      'head',
      'tail',
      'rm',
      'touch',
      'chmod',
      'id',
      'cut',
      'stat',
      'openssl',
    ]) {
      const path = Bun.which(tool)
      if (path !== null) symlinkSync(path, join(bin, tool))
    }
    const shim = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!${Bun.which('bash')}\necho "${name} $*" >> "${join(dir, 'calls.log')}"\n${body}\n`)
      chmodSync(join(bin, name), 0o755)
    }
    if (options.docker !== null) shim('docker', options.docker ?? standInDocker(dir))
    shim('curl', options.curl ?? standInCurl(IMPORTED))
    const run = (script: string, args: string[] = [], env: Record<string, string> = {}) => {
      rmSync(join(dir, 'calls.log'), { force: true })
      const result = Bun.spawnSync([join(bin, 'bash'), join(dir, 'scripts', script), ...args], {
        cwd: dir,
        env: { PATH: bin, HOME: dir, ...env },
      })
      const calls = existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : []
      return { code: result.exitCode, out: result.stdout.toString(), err: result.stderr.toString(), calls }
    }
    const file = (name: string, content?: string) => {
      if (content !== undefined) writeFileSync(join(dir, name), content)
      return existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : undefined
    }
    return { dir, run, file }
  }
  const upCalls = (calls: string[]) => calls.filter((c) => c.startsWith('docker compose up'))

  test('start.sh without Docker fails with a message saying so', () => {
    const { run } = sandbox({ docker: null })
    const result = run('start.sh')
    expect(result.code).toBe(1)
    expect(result.err).toContain('Docker is not installed')
  })

  test('start.sh without Compose v2 fails with a message saying so', () => {
    const { run } = sandbox({ docker: 'case "$1 $2" in "compose version") exit 1 ;; esac; exit 0' })
    const result = run('start.sh')
    expect(result.code).toBe(1)
    expect(result.err).toContain('Docker Compose v2 is missing')
  })

  test('start.sh refuses Compose older than 2.17 (no --wait-timeout) and runs on a newer one', () => {
    for (const [version, code] of [
      ['2.16.0', 1],
      ['v2.16.9', 1],
      ['1.29.2', 1],
      ['2.17.0', 0],
      ['2.29.1', 0],
      ['v2.40.3-desktop.1', 0],
      ['3.0.0', 0],
    ] as const) {
      const { run, file } = sandbox()
      file('compose-version', `${version}\n`)
      const result = run('start.sh')
      expect({ version, code: result.code }).toEqual({ version, code })
      if (code === 1) {
        expect(result.err).toContain('Docker Compose 2.17 or later is needed')
        expect(result.err).toContain(version.replace(/^v/, ''))
        expect(upCalls(result.calls)).toEqual([])
      }
    }
  })

  test('start.sh brings the stack up with healthchecks, imports the Kibana objects, prints the URLs, and is safe to run twice', () => {
    const { dir, run } = sandbox()
    const first = run('start.sh')
    expect({ code: first.code, err: first.err }).toEqual({ code: 0, err: '' })
    expect(first.calls).toContain('docker compose up --detach --build --wait --wait-timeout 900')
    const imports = first.calls.filter((c) => c.includes('_import'))
    expect(imports).toEqual([
      'curl -fsS -X POST http://127.0.0.1:5601/api/saved_objects/_import?overwrite=true -H kbn-xsrf: true --form file=@provisioning/kibana/saved-objects.ndjson',
    ])
    for (const url of [
      'http://127.0.0.1:5000/swagger',
      'http://127.0.0.1:5601',
      'http://127.0.0.1:3000',
      'http://127.0.0.1:9090',
    ])
      expect(first.out).toContain(url)
    expect(first.out).toContain('TWITTER_BEARER_TOKEN is not set')

    const env = readFileSync(join(dir, '.env'), 'utf8')
    const secrets = Object.fromEntries(
      env
        .trim()
        .split('\n')
        .map((line) => line.split('=') as [string, string]),
    )
    expect(Object.keys(secrets).sort()).toEqual(['GRAFANA_ADMIN_PASSWORD', 'MYSQL_PASSWORD', 'MYSQL_ROOT_PASSWORD'])
    for (const value of Object.values(secrets)) expect(value).toMatch(/^[0-9a-f]{32}$/)
    expect(new Set(Object.values(secrets)).size).toBe(3)
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600)

    const second = run('start.sh')
    expect(second.code).toBe(0)
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(env)
  })

  test('start.sh keeps the values a user put in .env and fills in only what is missing', () => {
    const { run, file } = sandbox()
    file('.env', 'MYSQL_PASSWORD=mine\nGRAFANA_ADMIN_PASSWORD=\nTWITTER_BEARER_TOKEN=tok\nAPI_PORT=5100\n')
    file('ports', 'app 5000 127.0.0.1:5100\n')
    const result = run('start.sh')
    expect(result.code).toBe(0)
    const env = file('.env')!
    expect(env).toContain('MYSQL_PASSWORD=mine\n')
    expect(env).toMatch(/^GRAFANA_ADMIN_PASSWORD=[0-9a-f]{32}$/m)
    expect(env).toMatch(/^MYSQL_ROOT_PASSWORD=[0-9a-f]{32}$/m)
    expect(result.out).not.toContain('TWITTER_BEARER_TOKEN is not set')
    expect(result.out).toContain('http://127.0.0.1:5100/swagger')
  })

  test('start.sh prints the ports Docker actually bound, asking docker compose port, not the ones it expected', () => {
    const { run, file } = sandbox()
    // After a re-create Docker may have put a service elsewhere than .env says.
    file(
      'ports',
      'app 5000 127.0.0.1:5001\ngrafana 3000 127.0.0.1:3001\nprometheus 9090 127.0.0.1:9091\nkibana 5601 127.0.0.1:5602\n',
    )
    const result = run('start.sh')
    expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' })
    for (const query of ['app 5000', 'grafana 3000', 'prometheus 9090', 'kibana 5601'])
      expect(result.calls).toContain(`docker compose port ${query}`)
    for (const url of [
      'http://127.0.0.1:5001/swagger',
      'http://127.0.0.1:3001',
      'http://127.0.0.1:9091',
      'http://127.0.0.1:5602',
    ])
      expect(result.out).toContain(url)
    expect(result.out).not.toContain(':5000/')
    expect(result.calls.filter((c) => c.includes('_import'))[0]).toContain('http://127.0.0.1:5602/api/saved_objects/_import')
  })

  test('start.sh takes START_TIMEOUT from .env, and from the shell first', () => {
    const { run, file } = sandbox()
    file('.env', 'START_TIMEOUT=1800\n')
    expect(upCalls(run('start.sh').calls)).toEqual(['docker compose up --detach --build --wait --wait-timeout 1800'])
    expect(upCalls(run('start.sh', [], { START_TIMEOUT: '60' }).calls)).toEqual([
      'docker compose up --detach --build --wait --wait-timeout 60',
    ])
    file('.env', 'START_TIMEOUT=soon\n')
    const bad = run('start.sh')
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('START_TIMEOUT')
  })

  test('start.sh appends to a .env that lacks its final newline without running lines together', () => {
    const { run, file } = sandbox()
    file('.env', 'TWITTER_BEARER_TOKEN=tok')
    expect(run('start.sh').code).toBe(0)
    const lines = file('.env')!.split('\n')
    expect(lines[0]).toBe('TWITTER_BEARER_TOKEN=tok')
    expect(lines.slice(1, 4).map((line) => line.split('=')[0])).toEqual([
      'MYSQL_PASSWORD',
      'MYSQL_ROOT_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
    ])
    for (const line of lines.slice(1, 4)) expect(line).toMatch(/^[A-Z_]+=[0-9a-f]{32}$/)
    expect(lines.at(-1)).toBe('')
  })

  test('start.sh refuses to generate passwords while the volumes of an earlier start exist, and says how to recover', () => {
    const { run, file } = sandbox()
    file('volumes', 'twitter-hashtags_elasticsearch-data\ntwitter-hashtags_grafana-data\ntwitter-hashtags_mysql-data\n')
    file('.env', 'TWITTER_BEARER_TOKEN=tok\n')
    const lost = run('start.sh')
    expect(lost.code).toBe(1)
    expect(lost.calls).toContain('docker volume ls --quiet --filter label=com.docker.compose.project=twitter-hashtags')
    expect(lost.err).toContain('twitter-hashtags_mysql-data')
    expect(lost.err).toContain('restore')
    expect(lost.err).toContain('scripts/stop.sh --purge')
    expect(upCalls(lost.calls)).toEqual([])
    expect(file('.env')).toBe('TWITTER_BEARER_TOKEN=tok\n')

    // Only the volume that keeps the password matters: a missing Grafana password with only MySQL's volume left is generated.
    file('volumes', 'twitter-hashtags_mysql-data\n')
    file('.env', 'MYSQL_PASSWORD=a\nMYSQL_ROOT_PASSWORD=b\n')
    expect(run('start.sh').code).toBe(0)
    expect(file('.env')).toMatch(/^GRAFANA_ADMIN_PASSWORD=[0-9a-f]{32}$/m)

    // With every password in .env, the volumes are the stack's own data.
    file('volumes', 'twitter-hashtags_grafana-data\ntwitter-hashtags_mysql-data\n')
    const kept = run('start.sh')
    expect(kept.code).toBe(0)
    expect(kept.calls.filter((c) => c.startsWith('docker volume'))).toEqual([])
  })

  test('start.sh fails when Kibana answers 200 but did not import every object, and prints its errors', () => {
    const refused =
      '{"success":false,"successCount":5,"errors":[{"id":"twitter-hashtags-dashboard","type":"dashboard","error":{"type":"missing_references"}}]}'
    const { run } = sandbox({ curl: standInCurl(refused) })
    const result = run('start.sh')
    expect(result.code).toBe(1)
    expect(result.err).toContain('twitter-hashtags-dashboard')
    expect(result.err).toContain('missing_references')
    expect(result.out).not.toContain('twitter-hashtags is up')
  })

  test('start.sh refuses MYSQL_USER=root, which the mysql image refuses, and says which bare-service settings the stack ignores', () => {
    const { run, file } = sandbox()
    file('.env', 'MYSQL_USER=root\n')
    const root = run('start.sh')
    expect(root.code).toBe(1)
    expect(root.err).toContain('MYSQL_USER=root')
    expect(upCalls(root.calls)).toEqual([])
    expect(file('.env')).toBe('MYSQL_USER=root\n')

    file('.env', 'PORT=5000\nMYSQL_URL=mysql://root@127.0.0.1:3306/twitter\nLOG_FORMAT=pretty\n')
    const bare = run('start.sh')
    expect(bare.code).toBe(0)
    expect(bare.out).toContain('the stack ignores PORT MYSQL_URL from .env')
  })

  test('start.sh names the accounts .env sets and the data view the saved objects create', () => {
    const dataView = readFileSync(join(ROOT, 'provisioning', 'kibana', 'saved-objects.ndjson'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line))
      .find((object) => object.type === 'index-pattern').attributes.name
    const { run, file } = sandbox()
    const plain = run('start.sh')
    expect(plain.out).toContain('user admin,')
    expect(plain.out).toContain('user twitter,')
    expect(plain.out).toContain(`data view "${dataView}"`)
    file('.env', `${file('.env')}GRAFANA_ADMIN_USER=boss\nMYSQL_USER=tweets\n`)
    const named = run('start.sh')
    expect(named.code).toBe(0)
    expect(named.out).toContain('user boss,')
    expect(named.out).toContain('user tweets,')
  })

  test("start.sh makes the mounted files readable for the containers' users before starting, whatever the umask of the checkout", () => {
    const { dir, run, file } = sandbox({ umask077: true })
    expect(statSync(join(dir, 'provisioning', 'prometheus', 'prometheus.yml')).mode & 0o777).toBe(0o600)
    expect(run('start.sh').code).toBe(0)
    const walk = (path: string): string[] =>
      statSync(path).isDirectory() ? [path, ...readdirSync(path).flatMap((entry: string) => walk(join(path, entry)))] : [path]
    for (const path of [...walk(join(dir, 'provisioning')), ...walk(join(dir, 'sql'))]) {
      const stat = statSync(path)
      const wanted = stat.isDirectory() ? 0o005 : 0o004
      expect({ path, others: stat.mode & wanted }).toEqual({ path, others: wanted })
    }
    // As the containers found them at `docker compose up`.
    for (const line of file('modes.log')!.trim().split('\n')) {
      const [mode, path] = line.split(' ')
      expect({ path, mode }).toEqual({ path, mode: path === 'sql' || path === 'provisioning/prometheus' ? '755' : '644' })
    }
  })

  test('stop.sh keeps the data unless asked to purge it', () => {
    const { run } = sandbox()
    expect(run('stop.sh').calls).toEqual(['docker compose down --remove-orphans'])
    const purge = run('stop.sh', ['--purge'])
    expect(purge.calls.at(-1)).toBe('docker compose down --volumes --remove-orphans')
    expect(run('stop.sh', ['--everything']).code).toBe(2)
  })
})

describe('scripts/test.sh', () => {
  test('when Bun is missing, then it installs the version package.json pins, not the newest', () => {
    const bin = mkdtempSync(join(tmpdir(), 'test-sh-'))
    try {
      // A PATH with npm (which records its arguments and stops the script) and dirname, but no Bun.
      writeFileSync(join(bin, 'npm'), `#!${Bun.which('bash')}\necho "$@" > "${bin}/npm-args"\nexit 7\n`, { mode: 0o755 })
      symlinkSync(Bun.which('dirname')!, join(bin, 'dirname'))
      const run = Bun.spawnSync([Bun.which('bash')!, join(ROOT, 'scripts', 'test.sh')], { env: { PATH: bin }, cwd: ROOT })
      expect(run.exitCode).toBe(7)
      const pinned = /^bun@(\d+\.\d+\.\d+)$/.exec(pkg.packageManager)![1]
      expect(readFileSync(join(bin, 'npm-args'), 'utf8').trim()).toBe(`install -g bun@${pinned}`)
    } finally {
      rmSync(bin, { recursive: true, force: true })
    }
  })
})
