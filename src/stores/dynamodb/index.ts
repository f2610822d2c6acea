export { dynamoStore, type DynamoStoreOptions } from './dynamo-store.js'
