"""Reads a tailhouse topic read_committed with confluent-kafka and its schema-registry deserializers, and prints
each decoded value as one canonical JSON line (canonical.py). Run by test/consumers/*.integration.test.ts.

    python confluent_consumer.py --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8080/apis/ccompat/v7 \
        --topic t --format avro|json-schema|protobuf --count 3
"""
import argparse
import json
import struct
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from canonical import canon
from registry_protobuf import registered_message_class


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--format", required=True, choices=["avro", "json-schema", "protobuf"])
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()

    registry = SchemaRegistryClient({"url": args.registry})
    deserializer = None
    if args.format == "avro":
        deserializer = AvroDeserializer(registry)
    elif args.format == "json-schema":
        deserializer = JSONDeserializer(None, schema_registry_client=registry)

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"tailhouse-test-{args.topic}-{time.time()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    consumer.subscribe([args.topic])
    got = 0
    deadline = time.time() + args.timeout
    try:
        while got < args.count and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise RuntimeError(str(message.error()))
            ctx = SerializationContext(args.topic, MessageField.VALUE)
            if args.format == "protobuf":
                if deserializer is None:
                    # The framing names the schema: build the Envelope class from it once.
                    schema_id = struct.unpack(">I", message.value()[1:5])[0]
                    envelope = registered_message_class(args.registry, schema_id)
                    deserializer = ProtobufDeserializer(envelope, {"use.deprecated.format": False})
            value = deserializer(message.value(), ctx)
            key = message.key().decode("utf-8") if message.key() is not None else None
            print(json.dumps({"key": key, "value": canon(value)}), flush=True)
            got += 1
    finally:
        consumer.close()
    if got < args.count:
        sys.exit(f"read {got} of {args.count} messages in {args.timeout} s")


if __name__ == "__main__":
    main()
