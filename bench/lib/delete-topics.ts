import { Admin } from '@platformatic/kafka'

/**
 * Deletes a run's topics, best effort: on a broker of the user's own (KAFKA_BOOTSTRAP) a run must not leave
 * hundreds of MB behind, and a topic left over costs disk space only, so a failure here never hides a result.
 */
export async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  if (topics.length === 0) return
  const admin = new Admin({ clientId: 'tailhouse-bench', bootstrapBrokers: brokers })
  try {
    await admin.deleteTopics({ topics })
  } catch {
    // ignored, see above
  } finally {
    await admin.close().catch(() => {})
  }
}
