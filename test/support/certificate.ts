import { join } from 'node:path'

/**
 * A self-signed certificate and its key, made by openssl in `dir` for one test server: a P-256 key,
 * valid for a day. `altNames` in openssl's syntax, e.g. 'IP:127.0.0.1,DNS:localhost'.
 */
export function selfSignedCertificate(dir: string, name: string, commonName: string, altNames: string) {
  const cert = join(dir, `${name}-cert.pem`)
  const key = join(dir, `${name}-key.pem`)
  const openssl = Bun.spawnSync([
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '1',
    '-subj',
    `/CN=${commonName}`,
    '-addext',
    `subjectAltName=${altNames}`,
  ])
  if (openssl.exitCode !== 0) throw new Error(`openssl failed: ${openssl.stderr.toString()}`)
  return { cert, key }
}
