import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

/** The provisioning files, read the way the tests need them. */

export const PROVISIONING = join(import.meta.dir, '..', '..', 'provisioning')
export const PROMETHEUS_YML = join(PROVISIONING, 'prometheus', 'prometheus.yml')
export const RULES = join(PROVISIONING, 'prometheus', 'rules', 'twitter-hashtags.yml')
export const DASHBOARD = join(PROVISIONING, 'grafana', 'dashboards', 'twitter-hashtags-api.json')
export const INDEX_TEMPLATE = join(PROVISIONING, 'logstash', 'templates', 'twitter-hashtags.json')

export const dashboardQueries = (): { panel: string; expr: string }[] =>
  JSON.parse(readFileSync(DASHBOARD, 'utf8')).panels.flatMap((panel: any) =>
    panel.targets.map((target: any) => ({ panel: panel.title, expr: target.expr })),
  )

export const alertRules = (): { alert: string; expr: string }[] =>
  parse(readFileSync(RULES, 'utf8')).groups.flatMap((group: any) =>
    group.rules.map((rule: any) => ({ alert: rule.alert, expr: rule.expr })),
  )

/** Field paths the Logstash index template maps, with their types. */
export function mappedFields(
  properties: Record<string, any> = JSON.parse(readFileSync(INDEX_TEMPLATE, 'utf8')).template.mappings.properties,
  prefix = '',
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(properties).flatMap(([name, mapping]) => {
      const path = prefix === '' ? name : `${prefix}.${name}`
      const own: [string, string][] = mapping.type !== undefined ? [[path, mapping.type]] : []
      return [...own, ...Object.entries(mapping.properties ? mappedFields(mapping.properties, path) : {})]
    }),
  )
}
