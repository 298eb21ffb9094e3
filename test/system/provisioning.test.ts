import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { EcsFlat } from '@elastic/ecs'
import { parse } from 'yaml'
import { leaves } from '../support/ecs'
import { alertRules, dashboardQueries, mappedFields } from '../support/provisioning'

/**
 * What cannot run here (Grafana, Logstash, Elasticsearch, Kibana) checked as far as their files
 * allow: structure, the identifiers they share, and that every field and metric they use exists.
 */

const ROOT = join(import.meta.dir, '..', '..')
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const ecs = EcsFlat as unknown as Record<string, { type: string }>

const dashboard = JSON.parse(read('provisioning/grafana/dashboards/twitter-hashtags-api.json'))
const datasources = parse(read('provisioning/grafana/provisioning/datasources/prometheus.yml'))
const providers = parse(read('provisioning/grafana/provisioning/dashboards/dashboards.yml'))
const pipeline = read('provisioning/logstash/pipeline/twitter-hashtags.conf')
const template = JSON.parse(read('provisioning/logstash/templates/twitter-hashtags.json'))
const savedObjects = read('provisioning/kibana/saved-objects.ndjson')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line))

const mapped = mappedFields()

describe('Grafana', () => {
  test('the dashboard "Twitter hashtags API" has a fixed uid and uses the provisioned Prometheus datasource', () => {
    expect(dashboard.uid).toBe('twitter-hashtags-api')
    expect(dashboard.title).toBe('Twitter hashtags API')
    const [source] = datasources.datasources
    expect(source).toMatchObject({ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' })
    for (const panel of dashboard.panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: source.uid })
      for (const target of panel.targets) expect(target.datasource.uid).toBe(source.uid)
    }
    expect(providers.providers[0].options.path).toBe('/var/lib/grafana/dashboards')
  })

  test('the dashboard has the panels operators need, each with at least one query', () => {
    const titles = dashboard.panels.map((p: any) => p.title)
    for (const wanted of [
      'Request rate by route',
      'Error ratio',
      'Latency p50 / p95 / p99 by route',
      'Tweets stored per hashtag',
      'Time since the last successful collection',
      'X API rate limit remaining',
      'Database pool',
      'Process memory',
      'Process CPU',
      'Event-loop lag',
    ]) {
      expect(titles).toContain(wanted)
    }
    expect(new Set(dashboard.panels.map((p: any) => p.id)).size).toBe(dashboard.panels.length)
    expect(dashboardQueries().every((q) => q.expr.includes('job="twitter-hashtags"'))).toBe(true)
  })

  test('the manual (docs/observability.md) lists every panel with its queries, and every alert rule', () => {
    const readme = read('docs/observability.md')
    for (const { panel, expr } of dashboardQueries()) {
      expect({ panel, listed: readme.includes(`| ${panel} |`) }).toEqual({ panel, listed: true })
      expect({ expr, listed: readme.includes(`\`${expr}\``) }).toEqual({ expr, listed: true })
    }
    for (const { alert } of alertRules()) expect(readme).toContain(`\`${alert}\``)
  })
})

describe('Logstash', () => {
  test('the pipeline takes json_lines over tcp 5044 and writes a daily index named for the service, ECS compatibility on', () => {
    const code = pipeline.replace(/#.*$/gm, '')
    const input = code.slice(code.indexOf('input {'), code.indexOf('output {'))
    const output = code.slice(code.indexOf('output {'))
    expect(input).toMatch(/tcp \{\s+port => 5044\s+codec => json_lines\s+ecs_compatibility => v8/)
    expect(output).toMatch(/elasticsearch \{/)
    expect(output).toContain('index => "twitter-hashtags-%{+YYYY.MM.dd}"')
    expect(output).toContain('ecs_compatibility => v8')
    expect(pipeline).toContain('template => "/usr/share/logstash/templates/twitter-hashtags.json"')
    expect(parse(read('provisioning/logstash/config/logstash.yml'))['pipeline.ecs_compatibility']).toBe('v8')
  })

  test('the index template matches the daily indices and maps each ECS field with its ECS type', () => {
    expect(template.index_patterns).toEqual(['twitter-hashtags-*'])
    for (const [field, type] of Object.entries(mapped)) {
      if (field === 'twitter' || field.startsWith('twitter.')) continue
      expect({ field, type }).toEqual({ field, type: ecs[field]?.type ?? '(not an ECS field)' })
    }
  })
})

describe('Kibana', () => {
  const byId = new Map(savedObjects.map((o) => [`${o.type}:${o.id}`, o]))

  test('the saved objects hold a data view on the Logstash indices, an errors search and a dashboard', () => {
    const view = savedObjects.find((o) => o.type === 'index-pattern')
    expect(view.attributes).toMatchObject({ title: 'twitter-hashtags-*', timeFieldName: '@timestamp' })
    expect(template.index_patterns).toContain(view.attributes.title)
    expect(savedObjects.map((o) => o.type).sort()).toEqual([
      'dashboard',
      'index-pattern',
      'search',
      'search',
      'visualization',
      'visualization',
    ])
    expect(new Set(savedObjects.map((o) => o.id)).size).toBe(savedObjects.length)
    const errors = byId.get('search:twitter-hashtags-errors')
    expect(JSON.parse(errors.attributes.kibanaSavedObjectMeta.searchSourceJSON).query.query).toContain('log.level')
  })

  test('every reference resolves to an object of the file, and the dashboard shows requests by status, slowest routes and collector events', () => {
    for (const object of savedObjects) {
      for (const reference of object.references) {
        expect({ from: object.id, to: reference.id, found: byId.has(`${reference.type}:${reference.id}`) }).toEqual({
          from: object.id,
          to: reference.id,
          found: true,
        })
      }
    }
    const panels = byId.get('dashboard:twitter-hashtags-dashboard')
    const shown = panels.references.map((r: any) => r.id)
    expect(shown).toEqual(
      expect.arrayContaining([
        'twitter-hashtags-requests-by-status',
        'twitter-hashtags-slowest-routes',
        'twitter-hashtags-collector-events',
      ]),
    )
    for (const panel of JSON.parse(panels.attributes.panelsJSON)) {
      expect(panels.references.map((r: any) => r.name)).toContain(panel.panelRefName)
    }
  })

  test('every field the searches and visualizations use is mapped by the index template', () => {
    const used = new Set<string>()
    for (const object of savedObjects) {
      for (const column of object.attributes.columns ?? []) used.add(column)
      if (object.attributes.visState) {
        for (const agg of JSON.parse(object.attributes.visState).aggs) if (agg.params.field) used.add(agg.params.field)
      }
      const source = object.attributes.kibanaSavedObjectMeta?.searchSourceJSON
      if (source) for (const m of JSON.parse(source).query.query.matchAll(/([\w.@]+)\s*:/g)) used.add(m[1])
    }
    expect(used.size).toBeGreaterThan(8)
    for (const field of used) expect({ field, mapped: field in mapped }).toEqual({ field, mapped: true })
  })
})

describe('helpers', () => {
  test('leaves flattens dotted keys and nested objects alike', () => {
    expect(leaves({ 'log.level': 'info', event: { action: 'x' } })).toEqual([
      ['log.level', 'info'],
      ['event.action', 'x'],
    ])
  })
})
