import type { ClickHouseClient } from '@clickhouse/client'
import type { Cursor } from './cursor.js'
import {
  type QueryRunner,
  type ReplicatedTarget,
  readReplicatedState,
  replicaStatusFromRows,
  replicaStatusQuery,
} from './replicated-state.js'
import { type BlockMap, blocksRead, replicatedWatermark } from './watermark.js'

/**
 * The safe watermark of a ReplicatedMergeTree changelog, read fresh before every poll: per partition, the highest
 * block below which every block is read, visible, or provably never coming (watermark.ts). Plain MergeTree needs
 * none (every snapshot is prefix-closed), so `forTable` returns undefined for it.
 */
export class ReplicatedWatermarkSource {
  readonly #run: QueryRunner
  readonly #target: ReplicatedTarget

  private constructor(run: QueryRunner, target: ReplicatedTarget) {
    this.#run = run
    this.#target = target
  }

  static async forTable(
    client: ClickHouseClient,
    database: string,
    table: string,
  ): Promise<ReplicatedWatermarkSource | undefined> {
    const run: QueryRunner = async (request) => (await client.query({ ...request, format: 'JSONEachRow' })).json()
    const [found] = (await run({
      query: 'SELECT engine FROM system.tables WHERE database = {database:String} AND name = {table:String}',
      query_params: { database, table },
    })) as Array<{ engine: string }>
    if (!found?.engine.startsWith('Replicated')) return undefined
    const status = replicaStatusFromRows(await run(replicaStatusQuery(database, table)), `${database}.${table}`)
    return new ReplicatedWatermarkSource(run, {
      database,
      table,
      zookeeperName: status.zookeeperName,
      zookeeperPath: status.zookeeperPath,
    })
  }

  async watermark(cursor: Cursor): Promise<BlockMap> {
    return replicatedWatermark(await readReplicatedState(this.#run, this.#target), blocksRead(cursor))
  }
}
