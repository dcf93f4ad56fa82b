"""Reads every partition of a tailhouse topic from the beginning with confluent-kafka (librdkafka) as a
read_committed consumer, decodes each value with the .proto files tailhouse generated (compiled here with protoc
from grpcio-tools, as a consumer in any language would), and writes one line per message:

    partition <TAB> offset <TAB> key <TAB> id <TAB> k <TAB> seq <TAB> pos

Stops when every partition reported its end (enable.partition.eof: for read_committed, the last stable offset).
Prints {"messages": n, "partitions": p} on stdout. Run by test/chaos/chaos-run.ts.

    python read_committed_rows.py --bootstrap 127.0.0.1:9092 --topic t --schemas <schemasDir> \
        --row-proto chaos/events/v1.proto --out rows.tsv
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import grpc_tools
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message_factory import GetMessageClass


def message_classes(schemas, row_proto):
    with tempfile.TemporaryDirectory() as work:
        descriptors = os.path.join(work, "set.pb")
        includes = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{schemas}", f"-I{includes}", "--include_imports",
             f"--descriptor_set_out={descriptors}", "tailhouse/v1/envelope.proto", row_proto],
            check=True,
        )
        with open(descriptors, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read()).file
    pool = descriptor_pool.DescriptorPool()
    for file in files:  # --include_imports lists dependencies first
        pool.Add(file)
    row_file = next(f for f in files if f.name == row_proto)
    envelope = GetMessageClass(pool.FindMessageTypeByName("tailhouse.v1.Envelope"))
    row = GetMessageClass(pool.FindMessageTypeByName(f"{row_file.package}.Row"))
    return envelope, row


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--schemas", required=True)
    parser.add_argument("--row-proto", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    envelope_class, row_class = message_classes(args.schemas, args.row_proto)
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"tailhouse-chaos-check-{time.time()}",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    })
    metadata = consumer.list_topics(args.topic, timeout=30)
    topic = metadata.topics[args.topic]
    if topic.error is not None:
        sys.exit(f"topic {args.topic}: {topic.error}")
    partitions = sorted(topic.partitions)
    consumer.assign([TopicPartition(args.topic, p, OFFSET_BEGINNING) for p in partitions])
    remaining = set(partitions)
    messages = 0
    deadline = time.time() + args.timeout
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            while remaining:
                if time.time() > deadline:
                    sys.exit(f"read {messages} messages; partitions {sorted(remaining)} did not reach their end")
                for message in consumer.consume(10_000, 1.0):
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            remaining.discard(message.partition())
                            continue
                        raise RuntimeError(str(error))
                    envelope = envelope_class.FromString(message.value())
                    row = row_class.FromString(envelope.row)
                    key = message.key().decode("utf-8") if message.key() is not None else ""
                    out.write(f"{message.partition()}\t{message.offset()}\t{key}\t{row.id}\t{row.k}\t{row.seq}\t{row.pos}\n")
                    messages += 1
    finally:
        consumer.close()
    print(json.dumps({"messages": messages, "partitions": len(partitions)}), flush=True)


if __name__ == "__main__":
    main()
