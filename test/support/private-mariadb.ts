import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { freePort } from '../../scripts/lib/service-process'
import { loadConfig, type MysqlConfig } from '../../src/config'

/**
 * A MariaDB server of the test's own: its data directory in a temporary folder, a spare port on
 * 127.0.0.1, root without a password. Tests that stop the database (an outage) need one, because the
 * server on 127.0.0.1:3306 is shared by every test and must never be stopped. `stop()` and `start()`
 * can alternate: the data directory and the port stay the same, as when a real server restarts.
 */

/** Where Debian and most distributions put them; PATH is searched first. */
const SEARCH_PATH = [process.env.PATH ?? '', '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin'].join(':')

const INSTALL_HINT = 'install MariaDB (Debian/Ubuntu: apt-get install mariadb-server)'

/** Small enough to start in a second or two next to the shared server and the tests. */
const SERVER_OPTIONS = ['--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M', '--skip-name-resolve']

const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 30_000

function binary(...names: string[]): string {
  for (const name of names) {
    const path = Bun.which(name, { PATH: SEARCH_PATH })
    if (path !== null) return path
  }
  throw new Error(`${names[0]} was not found (looked for ${names.join(', ')} in PATH and the sbin folders): ${INSTALL_HINT}`)
}

/** mariadbd refuses to run as root unless told to; as anyone else the option is not allowed. */
const userOption = () => (process.getuid?.() === 0 ? ['--user=root'] : [])

const tail = (text: string, lines = 20) => text.trim().split('\n').slice(-lines).join('\n')

export class PrivateMariaDb {
  readonly host = '127.0.0.1'
  readonly user = 'root'
  /** Chosen at the first start and kept, so a restarted server answers where the service expects it. */
  port = 0
  private readonly dir = mkdtempSync(join(tmpdir(), 'private-mariadb-'))
  private readonly datadir = join(this.dir, 'data')
  private readonly errorLog = join(this.dir, 'error.log')
  private server: ReturnType<typeof Bun.spawn> | undefined
  /** Kills the server if the test process exits without stopping it, so that none is left behind. */
  private readonly killOnExit = () => this.server?.kill('SIGKILL')

  /** @param settings server options of the test's own, e.g. an unusual `--sql-mode` or `--wait-timeout`. */
  constructor(private readonly settings: string[] = []) {}

  get running(): boolean {
    return this.server !== undefined
  }

  /** mysql://root@127.0.0.1:<port>/<database>, for MYSQL_URL. */
  url(database: string): string {
    return `mysql://${this.user}@${this.host}:${this.port}/${database}`
  }

  /** The service's MySQL settings (defaults included) for a database on this server. */
  config(database: string): MysqlConfig {
    return loadConfig({ MYSQL_URL: this.url(database) }).mysql
  }

  /** Creates the data directory on the first call, then starts the server and waits until it answers. */
  async start(): Promise<this> {
    if (this.server !== undefined) return this
    const mariadbd = binary('mariadbd', 'mysqld')
    if (!existsSync(this.datadir) || readdirSync(this.datadir).length === 0) await this.install()
    this.port ||= await freePort()
    this.server = Bun.spawn(
      [
        mariadbd,
        // Must come first: no my.cnf of the machine (its port, socket or data directory) may apply.
        '--no-defaults',
        `--datadir=${this.datadir}`,
        `--port=${this.port}`,
        `--bind-address=${this.host}`,
        `--socket=${join(this.dir, 'mariadb.sock')}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        `--log-error=${this.errorLog}`,
        ...SERVER_OPTIONS,
        ...this.settings,
        ...userOption(),
      ],
      { stdout: 'ignore', stderr: 'ignore' },
    )
    process.on('exit', this.killOnExit)
    try {
      await this.waitUntilAnswering()
    } catch (error) {
      await this.stop()
      throw error
    }
    return this
  }

  /** Shuts the server down as an operator would (SIGTERM: clean shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    server.kill('SIGTERM')
    const exited = await Promise.race([server.exited.then(() => true), Bun.sleep(STOP_TIMEOUT_MS).then(() => false)])
    if (!exited) {
      server.kill('SIGKILL')
      await server.exited
    }
    this.server = undefined
    process.off('exit', this.killOnExit)
    if (!exited) throw new Error(`MariaDB did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM; killed it`)
  }

  /** Stops the server if it runs and deletes its data directory. */
  async remove(): Promise<void> {
    try {
      await this.stop()
    } finally {
      rmSync(this.dir, { recursive: true, force: true })
    }
  }

  private async install(): Promise<void> {
    const installDb = binary('mariadb-install-db', 'mysql_install_db')
    mkdirSync(this.datadir, { recursive: true })
    const run = Bun.spawn(
      [
        installDb,
        '--no-defaults',
        `--datadir=${this.datadir}`,
        // root@localhost and root@127.0.0.1 without a password, as on the shared test server.
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...SERVER_OPTIONS,
        ...this.settings,
        ...userOption(),
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    const [code, stdout, stderr] = await Promise.all([
      run.exited,
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
    ])
    if (code !== 0) throw new Error(`mariadb-install-db exited with ${code}:\n${tail(stdout + stderr)}`)
  }

  private async waitUntilAnswering(): Promise<void> {
    const server = this.server!
    const until = Date.now() + START_TIMEOUT_MS
    while (Date.now() < until) {
      if (server.exitCode !== null) {
        throw new Error(`mariadbd exited with ${server.exitCode} while starting:\n${this.errorLogTail()}`)
      }
      try {
        const connection = await mysql.createConnection({
          host: this.host,
          port: this.port,
          user: this.user,
          connectTimeout: 1_000,
        })
        await connection.end()
        return
      } catch {
        await Bun.sleep(50)
      }
    }
    throw new Error(`mariadbd did not answer on ${this.host}:${this.port} within ${START_TIMEOUT_MS} ms:\n${this.errorLogTail()}`)
  }

  private errorLogTail(): string {
    return existsSync(this.errorLog) ? tail(readFileSync(this.errorLog, 'utf8')) : '(no error log)'
  }
}
