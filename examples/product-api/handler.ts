// GET /products/{id} behind an API Gateway HTTP API: the product from DynamoDB, cached in the
// execution environment and, with a shared tier, across environments; the storefront settings from
// SSM and the pricing key from Secrets Manager, both cached; warm-up pings answered; cache metrics
// in CloudWatch; and Cache-Control and ETag so that CloudFront and browsers can keep the answer.
import { createHmac } from 'node:crypto'
import middy from '@middy/core'
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda'
import { cacheMetrics, configCache, dataCache, httpCache, json, secretsCache, warmup } from 'middy-cache'
import { dynamoItem, dynamoStore } from 'middy-cache/dynamodb'
import { redisStore } from 'middy-cache/redis'
import { metricsNamespace, productsCacheName, requiredEnv, serviceNames, warmupInterval } from '../shared/settings.js'

export interface Product {
  id: string
  name: string
  price: number
  stock: number
}

export interface Storefront {
  currency: string
  showStock: boolean
}

// At module scope: built once per execution environment, during INIT, and reused by every invocation.
// The shared tier is Redis when serverless.yml's redisUrl param is set (rediss://user:password@host:6379
// for TLS and AUTH), else the DynamoDB cache table; nothing connects before the first use.
const redisUrl = process.env.REDIS_URL
const cacheTable = process.env.CACHE_TABLE
const l2 = redisUrl ? redisStore({ url: redisUrl }) : cacheTable ? dynamoStore({ table: cacheTable }) : undefined

// Every load is bounded by `timeout`: a source that hangs (a lost network path answers nothing, and
// the SDK waits as long as the function may run) then lets the stale value stand in (staleIfError),
// or fails the request after it when there is none, rather than at the function's timeout (10 s).
const loadTimeout = '1s'

const products = dataCache({
  name: productsCacheName,
  key: (event: APIGatewayProxyEventV2) => event.pathParameters?.id,
  load: dynamoItem<Product>({ table: requiredEnv('PRODUCTS_TABLE'), key: 'id' }),
  ttl: '5m',
  staleWhileRevalidate: '1m',
  staleIfError: '1h',
  negativeTtl: '30s',
  timeout: loadTimeout,
  ...(l2 === undefined ? {} : { l2 }),
})

/** A signature over the price shown, which checkout verifies, so that a client cannot change it. */
const quoteToken = (key: string, product: Product, currency: string): string =>
  createHmac('sha256', key).update(`${product.id}:${product.price}:${currency}`).digest('base64url')

const jsonResponse = (statusCode: number, body: object): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(httpCache({ maxAge: '1m', sMaxAge: '5m', staleWhileRevalidate: '1m', staleIfError: '1d', public: true }))
  .use(cacheMetrics({ namespace: metricsNamespace, service: serviceNames.productApi }))
  .use(warmup({ interval: warmupInterval }))
  .use(configCache({ parameters: { storefront: json<Storefront>(requiredEnv('STOREFRONT_PARAMETER')) }, ttl: '5m', staleWhileRevalidate: '1m', staleIfError: '1h', timeout: loadTimeout }))
  .use(secretsCache({ secrets: { pricingKey: requiredEnv('PRICING_SECRET') }, ttl: '15m', staleIfError: '1h', timeout: loadTimeout }))
  .use(products)
  .handler((_event, context) => {
    const product = context.products
    if (product === undefined) return Promise.resolve(jsonResponse(404, { message: 'no such product' }))
    const { currency, showStock } = context.config.storefront
    return Promise.resolve(
      jsonResponse(200, {
        id: product.id,
        name: product.name,
        price: product.price,
        currency,
        ...(showStock ? { stock: product.stock } : {}),
        quoteToken: quoteToken(context.secrets.pricingKey, product, currency),
      }),
    )
  })
