import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.debezium.serde.DebeziumSerdes;
import io.debezium.transforms.ExtractNewRecordState;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * Reads a tailhouse debezium-json topic read_committed the way Debezium tooling does, and prints one JSON line per
 * message (integers beyond 2^53 as {"int": text}, like test/consumers/canonical.py):
 *
 * - mode schema: Kafka Connect's JsonConverter (schemas.enable=true) turns each value into a Connect record, and
 *   Debezium's ExtractNewRecordState transform unwraps the change event (deletes rewritten with __deleted, the op,
 *   database, table and query id added as __ fields), then JsonConverter prints the new record state;
 * - mode payload: Debezium's DebeziumSerdes.payloadJson reads the payload-only events, once for `after`, once for
 *   `before` and once for `op`.
 *
 * Usage: java -cp "libs/*" DebeziumEventReader.java <bootstrap> <topic> <count> <schema|payload>
 */
public class DebeziumEventReader {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final BigInteger SAFE = BigInteger.valueOf(1L << 53);

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    int count = Integer.parseInt(args[2]);
    boolean withSchema = args[3].equals("schema");

    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", "tailhouse-debezium-" + System.nanoTime());
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");
    props.put("isolation.level", "read_committed");

    JsonConverter in = new JsonConverter();
    in.configure(Map.of("schemas.enable", "true"), false);
    JsonConverter out = new JsonConverter();
    out.configure(Map.of("schemas.enable", "false"), false);
    ExtractNewRecordState<SinkRecord> unwrap = new ExtractNewRecordState<>();
    unwrap.configure(Map.of(
        "delete.tombstone.handling.mode", "rewrite",
        "add.fields", "op,db,table,query_id"));
    Deserializer<JsonNode> after = payload("after");
    Deserializer<JsonNode> before = payload("before");
    Deserializer<JsonNode> op = payload("op");

    int got = 0;
    long deadline = System.currentTimeMillis() + 60_000;
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (got < count && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          ObjectNode line = JsonNodeFactory.instance.objectNode();
          line.put("key", record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8));
          if (withSchema) {
            SchemaAndValue value = in.toConnectData(topic, record.value());
            SinkRecord sink = new SinkRecord(topic, record.partition(), null, null, value.schema(), value.value(), record.offset());
            SinkRecord state = unwrap.apply(sink);
            byte[] json = out.fromConnectData(topic, state.valueSchema(), state.value());
            line.set("value", canonical(MAPPER.readTree(json)));
          } else {
            line.set("op", op.deserialize(topic, record.value()));
            line.set("before", canonical(before.deserialize(topic, record.value())));
            line.set("after", canonical(after.deserialize(topic, record.value())));
          }
          System.out.println(MAPPER.writeValueAsString(line));
          got++;
        }
      }
    }
    if (got < count) {
      System.err.println("read " + got + " of " + count + " messages");
      System.exit(1);
    }
  }

  private static Deserializer<JsonNode> payload(String field) {
    // The serde holds the configuration; its deserializer reads it from there.
    Serde<JsonNode> serde = DebeziumSerdes.payloadJson(JsonNode.class);
    serde.configure(Map.of("from.field", field, "unknown.properties.ignored", "true"), false);
    return serde.deserializer();
  }

  private static JsonNode canonical(JsonNode node) {
    if (node == null || node.isNull()) return JsonNodeFactory.instance.nullNode();
    if (node.isIntegralNumber() && node.bigIntegerValue().abs().compareTo(SAFE) >= 0) {
      return JsonNodeFactory.instance.objectNode().put("int", node.bigIntegerValue().toString());
    }
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        copy.set(field.getKey(), canonical(field.getValue()));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      for (JsonNode element : node) copy.add(canonical(element));
      return copy;
    }
    return node;
  }
}
