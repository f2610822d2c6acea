import { randomBytes } from 'node:crypto'
import type { ReportSettings } from '../../examples/nightly-report/handler.js'
import type { Product, Storefront } from '../../examples/product-api/handler.js'
import { createBucket, createSecret, createTable, destroySeedClients, putItems, putParameters } from '../../test/harness/index.js'

/** The demo's AWS resources, named as serverless.yml names them for a stage called `demo`. */
export const resources = {
  productsTable: 'middy-cache-examples-demo-products',
  storefrontParameter: '/middy-cache-examples/demo/storefront',
  reportParameter: '/middy-cache-examples/demo/report',
  pricingSecret: 'middy-cache-examples/demo/pricing-key',
  reportsBucket: 'middy-cache-examples-demo-reports',
  snapshotPrefix: 'snapshots',
} as const

/** How many products the catalog holds: ids p-001 to p-080. */
export const catalogSize = 80

export const productId = (index: number): string => `p-${String(index).padStart(3, '0')}`

const product = (index: number): Product => ({
  id: productId(index),
  name: `Product ${index}`,
  price: ((index * 37) % 90) + 9.99,
  stock: (index * 7) % 23,
})

const storefront: Storefront = { currency: 'EUR', showStock: true }
const reportSettings: ReportSettings = { prefix: 'reports/', lowStockBelow: 3 }

/** Puts the catalog, the settings, the pricing key and the reports bucket into moto_server. */
export const seedResources = async (endpoint: string): Promise<void> => {
  const options = { endpoint }
  try {
    await createTable(resources.productsTable, 'id', options)
    await Promise.all([
      putItems(resources.productsTable, Array.from({ length: catalogSize }, (_, index) => ({ ...product(index + 1) })), options),
      putParameters({ [resources.storefrontParameter]: JSON.stringify(storefront), [resources.reportParameter]: JSON.stringify(reportSettings) }, options),
      createSecret(resources.pricingSecret, randomBytes(32).toString('hex'), options),
      createBucket(resources.reportsBucket, options),
    ])
  } finally {
    destroySeedClients()
  }
}
