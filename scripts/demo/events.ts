import type { APIGatewayProxyEventV2, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda'
import { createHash, randomUUID } from 'node:crypto'
import { httpApiEvent } from '../../test/support/http-events.js'

const region = 'us-east-1'
const account = '123456789012'

/** `GET /products/{id}` through the HTTP API, as API Gateway hands it to product-api. */
export const productRequest = (id: string): APIGatewayProxyEventV2 => ({
  ...httpApiEvent({ path: `/products/${id}` }),
  pathParameters: { id },
})

/** What serverless.yml's warm-up schedule sends: lambda-warmer's payload, which warmup() fans out. */
export const warmupPing = (concurrency: number): { warmer: true; concurrency: number } => ({ warmer: true, concurrency })

const sqsRecord = (body: string, sentAt: number): SQSRecord => ({
  messageId: randomUUID(),
  receiptHandle: randomUUID(),
  body,
  attributes: {
    ApproximateReceiveCount: '1',
    SentTimestamp: String(sentAt),
    SenderId: 'AIDAIENQZJOLO23YVJ4VO',
    ApproximateFirstReceiveTimestamp: String(sentAt + 5),
  },
  messageAttributes: {},
  md5OfBody: createHash('md5').update(body).digest('hex'),
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:${region}:${account}:middy-cache-examples-demo-orders`,
  awsRegion: region,
})

/** A batch of SQS messages, each body as the producer sent it. */
export const sqsBatch = (bodies: readonly string[]): SQSEvent => {
  const sentAt = Date.now()
  return { Records: bodies.map((body) => sqsRecord(body, sentAt)) }
}

/** The event an EventBridge schedule delivers when its rule has no input of its own. */
export const scheduledEvent = (ruleName: string, time: Date): ScheduledEvent => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account,
  time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  region,
  resources: [`arn:aws:events:${region}:${account}:rule/${ruleName}`],
  detail: {},
})
