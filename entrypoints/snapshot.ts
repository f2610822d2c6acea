export { coldStartSnapshot, type ColdStartSnapshotOptions } from '../middlewares/cold-start-snapshot.js'
