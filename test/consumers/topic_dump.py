"""Reads a topic from the beginning read_committed with confluent-kafka (librdkafka), a client the project did not
write, and prints each message as one JSON line: partition, offset, key and value (base64), headers. The caller
decodes the values (with the .proto files, as any consumer would).

Stops once --expect messages arrived and nothing more came for --idle seconds (so a message too many is seen), or
after --timeout seconds; fails when fewer than --expect arrived.

    python topic_dump.py --bootstrap 127.0.0.1:9092 --topic t --expect 1000
"""
import argparse
import base64
import json
import sys
import time

from confluent_kafka import Consumer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--idle", type=float, default=2)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"tailhouse-test-dump-{args.topic}-{time.time()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    consumer.subscribe([args.topic])
    got = 0
    deadline = time.time() + args.timeout
    last = time.time()
    out = sys.stdout
    try:
        while time.time() < deadline:
            if got >= args.expect and time.time() - last > args.idle:
                break
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error():
                raise RuntimeError(str(message.error()))
            last = time.time()
            got += 1
            key = message.key()
            out.write(json.dumps({
                "partition": message.partition(),
                "offset": message.offset(),
                "key": None if key is None else base64.b64encode(key).decode(),
                "value": base64.b64encode(message.value() or b"").decode(),
                "headers": {k: v.decode("utf-8", "replace") for k, v in (message.headers() or [])},
            }) + "\n")
    finally:
        consumer.close()
    out.flush()
    if got < args.expect:
        sys.exit(f"read {got} of {args.expect} messages from {args.topic} in {args.timeout} s")


if __name__ == "__main__":
    main()
