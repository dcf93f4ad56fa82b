"""A small Quix Streams application, as a tailhouse user would write it: it consumes a tailhouse topic in Avro
(read_committed, exactly-once processing), gets each row as typed column values in one step (the registry's
AvroDeserializer), keeps the paid orders and counts them per customer. Prints one JSON line:
{"paid_per_customer": {...}, "paid_amount": "<Decimal>", "sample": <one paid row, canonical.py form>}.

    python quix_paid_orders.py --bootstrap 127.0.0.1:9092 --registry http://127.0.0.1:8080/apis/ccompat/v7 \
        --topic tailhouse.shop.orders
"""
import argparse
import collections
import decimal
import json
import shutil
import tempfile
import time

from quixstreams import Application
from quixstreams.models.serializers.avro import AvroDeserializer
from quixstreams.models.serializers.schema_registry import SchemaRegistryClientConfig

from canonical import canon


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--idle-seconds", type=float, default=8)
    args = parser.parse_args()

    state_dir = tempfile.mkdtemp(prefix="quix-state-")  # not ./state in the work tree
    try:
        run(args, state_dir)
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def run(args, state_dir):
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=f"quix-paid-orders-{time.time()}",
        auto_offset_reset="earliest",
        processing_guarantee="exactly-once",
        # Say it rather than rely on librdkafka's default: only committed transactions count.
        consumer_extra_config={"isolation.level": "read_committed"},
        state_dir=state_dir,
    )
    topic = app.topic(
        args.topic,
        key_deserializer="str",
        value_deserializer=AvroDeserializer(
            schema_registry_client_config=SchemaRegistryClientConfig(url=args.registry)
        ),
    )
    orders = app.dataframe(topic)
    orders = orders.apply(lambda envelope: envelope["row"])  # the row: typed column values
    paid = orders.filter(lambda row: row["status"] == b"paid")

    rows = app.run(timeout=args.idle_seconds)  # stops once no message arrived for that long; returns the outputs

    per_customer = collections.Counter(row["customer"].decode("utf-8") for row in rows)
    amount = sum((row["amount"] for row in rows), decimal.Decimal(0))
    print(json.dumps({
        "paid_per_customer": dict(per_customer),
        "paid_amount": format(amount, "f"),
        "sample": canon(rows[0]) if rows else None,
    }), flush=True)


if __name__ == "__main__":
    main()
