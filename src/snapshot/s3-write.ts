import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { deadlineAfter } from '../lambda/deadline.js'
import type { ObjectLocation } from './s3-read.js'

/**
 * Puts the snapshot's body, aborted after `budgetMs`. The timer is ref'd and always cleared: it
 * never outlives the call, and keeps the invocation alive while the request is queued.
 */
export const putSnapshotObject = async (client: S3Client, location: ObjectLocation, body: Uint8Array, budgetMs: number): Promise<void> => {
  const deadline = deadlineAfter(budgetMs, 'writing the snapshot')
  try {
    // Not Content-Encoding: gzip: a client that decompresses transparently would hand the reader plain JSON.
    await client.send(new PutObjectCommand({ Bucket: location.bucket, Key: location.key, Body: body, ContentType: 'application/gzip' }), { abortSignal: deadline.signal })
  } finally {
    deadline.clear()
  }
}
