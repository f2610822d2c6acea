// Runs on an EventBridge schedule: reads the report settings from SSM (cached, prefetched during
// INIT), scans the products table and writes a stock report to S3. Once a night is a new execution
// environment almost every time, with no last good value in memory: the cold-start snapshot (in S3,
// written by the previous night's run) gives it the settings as they were, so that an SSM outage at
// 2 a.m. does not stop the report (staleIfError), while a working SSM refreshes them as usual.
import middy from '@middy/core'
import { DynamoDBClient, paginateScan, type AttributeValue } from '@aws-sdk/client-dynamodb'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { ScheduledEvent } from 'aws-lambda'
import { cacheMetrics, configCache, json } from 'middy-cache'
import { coldStartSnapshot } from 'middy-cache/snapshot'
import { metricsNamespace, requiredEnv, serviceNames } from '../shared/settings.js'

export interface ReportSettings {
  /** Where reports go in the bucket, such as 'reports/'. */
  prefix: string
  /** Products with fewer units than this are listed as low on stock. */
  lowStockBelow: number
}

export interface StockReport {
  date: string
  products: number
  unitsInStock: number
  stockValue: number
  lowStock: { id: string; stock: number }[]
}

interface StockLine {
  id: string
  price: number
  stock: number
}

const productsTable = requiredEnv('PRODUCTS_TABLE')
const reportsBucket = requiredEnv('REPORTS_BUCKET')
// One client each per environment, reused by every run that lands in it.
const dynamodb = new DynamoDBClient({})
const s3 = new S3Client({})

const numberOf = (attribute: AttributeValue | undefined): number => Number(attribute?.N ?? 0)

const stockLines = async (): Promise<StockLine[]> => {
  const lines: StockLine[] = []
  const pages = paginateScan({ client: dynamodb }, { TableName: productsTable, ProjectionExpression: 'id, price, stock' })
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const id = item.id?.S
      if (id !== undefined) lines.push({ id, price: numberOf(item.price), stock: numberOf(item.stock) })
    }
  }
  return lines
}

const reportOf = (date: string, lines: readonly StockLine[], settings: ReportSettings): StockReport => ({
  date,
  products: lines.length,
  unitsInStock: lines.reduce((units, line) => units + line.stock, 0),
  stockValue: Math.round(lines.reduce((value, line) => value + line.price * line.stock, 0) * 100) / 100,
  lowStock: lines.filter((line) => line.stock < settings.lowStockBelow).map(({ id, stock }) => ({ id, stock })),
})

export const handler = middy<ScheduledEvent, StockReport>()
  .use(cacheMetrics({ namespace: metricsNamespace, service: serviceNames.nightlyReport }))
  .use(coldStartSnapshot({
    bucket: requiredEnv('SNAPSHOT_BUCKET'),
    prefix: requiredEnv('SNAPSHOT_PREFIX'),
    caches: ['config'],
    // Last night's snapshot is a day old: usable, and past half maxAge and its spread (0.6 maxAge at most), so each run writes a newer one.
    maxAge: '36h',
  }))
  // A day-old value is past its ttl, but within staleIfError: served only when SSM fails, or does
  // not answer within `timeout` (an SSM that hangs would otherwise hold the run to its 60 s timeout).
  .use(configCache({ parameters: { report: json<ReportSettings>(requiredEnv('REPORT_PARAMETER')) }, ttl: '1h', staleIfError: '2d', timeout: '5s' }))
  .handler(async (event, context) => {
    const settings = context.config.report
    // The schedule's own time names the report, so that a retried run overwrites its report instead of adding one.
    const date = event.time.slice(0, 10)
    const report = reportOf(date, await stockLines(), settings)
    await s3.send(new PutObjectCommand({
      Bucket: reportsBucket,
      Key: `${settings.prefix}${date}.json`,
      Body: JSON.stringify(report),
      ContentType: 'application/json',
    }))
    return report
  })
