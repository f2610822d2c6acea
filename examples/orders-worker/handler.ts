// An SQS batch handler that prices orders: every SKU the batch names is looked up at once through
// the lazy products cache (one BatchGetItem for the misses, memory for the rest), and only the
// records that cannot be priced go back to the queue (partial batch failure).
import middy from '@middy/core'
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { cacheMetrics, configCache, dataCache, json } from 'middy-cache'
import { dynamoItem } from 'middy-cache/dynamodb'
import type { Product, Storefront } from '../product-api/handler.js'
import { metricsNamespace, requiredEnv, serviceNames } from '../shared/settings.js'

export interface OrderLine {
  sku: string
  quantity: number
}

export interface Order {
  orderId: string
  lines: OrderLine[]
}

export interface PricedOrder {
  orderId: string
  total: number
  currency: string
}

type PricedProduct = Pick<Product, 'id' | 'name' | 'price'>

const isOrderLine = (value: unknown): value is OrderLine => {
  if (typeof value !== 'object' || value === null) return false
  const { sku, quantity } = value as Record<string, unknown>
  return typeof sku === 'string' && typeof quantity === 'number' && Number.isInteger(quantity) && quantity > 0
}

/** The order a record carries, or undefined when its body is no order: such a record can never succeed. */
const orderOf = (record: SQSRecord): Order | undefined => {
  try {
    const body: unknown = JSON.parse(record.body)
    if (typeof body !== 'object' || body === null) return undefined
    const { orderId, lines } = body as Record<string, unknown>
    if (typeof orderId !== 'string' || !Array.isArray(lines) || lines.length === 0 || !lines.every(isOrderLine)) return undefined
    return { orderId, lines }
  } catch {
    return undefined
  }
}

const priced = (order: Order, prices: ReadonlyMap<string, PricedProduct | undefined>, currency: string): PricedOrder | undefined => {
  let total = 0
  for (const line of order.lines) {
    const product = prices.get(line.sku)
    if (product === undefined) return undefined
    total += product.price * line.quantity
  }
  return { orderId: order.orderId, total: Math.round(total * 100) / 100, currency }
}

// A source that hangs holds a load no longer than this: the stale value then stands in, or the batch
// fails and goes back to the queue, well before the function's timeout (30 s).
const loadTimeout = '5s'

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(cacheMetrics({ namespace: metricsNamespace, service: serviceNames.ordersWorker }))
  .use(configCache({ parameters: { storefront: json<Storefront>(requiredEnv('STOREFRONT_PARAMETER')) }, ttl: '5m', staleWhileRevalidate: '1m', staleIfError: '1h', timeout: loadTimeout }))
  .use(dataCache({
    name: 'products',
    load: dynamoItem<PricedProduct>({ table: requiredEnv('PRODUCTS_TABLE'), key: 'id', attributes: ['name', 'price'] }),
    ttl: '5m',
    staleIfError: '1h',
    negativeTtl: '1m',
    timeout: loadTimeout,
  }))
  .handler(async (event, context) => {
    const orders = event.Records.map((record) => ({ record, order: orderOf(record) }))
    const skus = [...new Set(orders.flatMap(({ order }) => order?.lines.map((line) => line.sku) ?? []))]
    const products = await context.caches.products.getMany(skus)
    const prices = new Map(skus.map((sku, index) => [sku, products[index]]))

    const batchItemFailures: SQSBatchItemFailure[] = []
    for (const { record, order } of orders) {
      const result = order === undefined ? undefined : priced(order, prices, context.config.storefront.currency)
      if (result === undefined) batchItemFailures.push({ itemIdentifier: record.messageId })
      else console.log(JSON.stringify({ message: 'order priced', ...result }))
    }
    return { batchItemFailures }
  })
