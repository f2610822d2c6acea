import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { parseEmf } from '../support/emf.js'

/** The checks every EMF test relies on must be able to fail: each broken blob names the rule it breaks. */
describe('the EMF validator of the tests', () => {
  const valid = {
    _aws: { Timestamp: 1_764_000_000_000, CloudWatchMetrics: [{ Namespace: 'Shop', Dimensions: [['service', 'cache']], Metrics: [{ Name: 'Gets', Unit: 'Count' }] }] },
    service: 'orders',
    cache: 'products',
    Gets: [1, 2],
  }
  const broken = (change: (blob: Record<string, unknown> & typeof valid) => void): string => {
    const blob = structuredClone(valid) as Record<string, unknown> & typeof valid
    change(blob)
    return JSON.stringify(blob)
  }

  test('accepts a valid blob and what Powertools writes', () => {
    expect(parseEmf(JSON.stringify(valid)).cache).toBe('products')
    const metrics = new Metrics({ namespace: 'Shop', serviceName: 'orders' })
    metrics.addMetric('Orders', MetricUnit.Count, 1)
    expect(parseEmf(JSON.stringify(metrics.serializeMetrics())).Orders).toBe(1)
  })

  test.each([
    ['not JSON', () => '{"_aws":'],
    ['no _aws object', () => broken((blob) => { delete (blob as Partial<typeof valid>)._aws })],
    ['Timestamp', () => broken((blob) => { (blob._aws as { Timestamp: unknown }).Timestamp = '2026-11-23' })],
    ['CloudWatchMetrics', () => broken((blob) => { (blob._aws as { CloudWatchMetrics: unknown }).CloudWatchMetrics = [] })],
    ['Namespace', () => broken((blob) => { (blob._aws.CloudWatchMetrics[0] as { Namespace: unknown }).Namespace = '' })],
    ['dimension "cache"', () => broken((blob) => { delete (blob as Partial<typeof valid>).cache })],
    ['at most 30', () => broken((blob) => { blob._aws.CloudWatchMetrics[0]!.Dimensions = [Array.from({ length: 31 }, (_, index) => `d${index}`)] })],
    ['unit', () => broken((blob) => { blob._aws.CloudWatchMetrics[0]!.Metrics[0]!.Unit = 'Hits' })],
    ['StorageResolution', () => broken((blob) => { (blob._aws.CloudWatchMetrics[0]!.Metrics[0] as { StorageResolution?: number }).StorageResolution = 5 })],
    ['no number', () => broken((blob) => { (blob as { Gets: unknown }).Gets = '3' })],
    ['no number', () => broken((blob) => { delete (blob as Partial<typeof valid>).Gets })],
    ['at most 100', () => broken((blob) => { blob._aws.CloudWatchMetrics[0]!.Metrics = Array.from({ length: 101 }, () => ({ Name: 'Gets', Unit: 'Count' })) })],
  ])('rejects a blob whose %s is wrong', (rule, line) => {
    expect(() => parseEmf(line())).toThrow(rule)
  })
})
