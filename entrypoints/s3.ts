export { S3Format, s3Object, type S3ObjectOptions } from '../src/sources/s3-object.js'
