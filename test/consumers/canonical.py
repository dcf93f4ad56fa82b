"""Decoded values as canonical JSON, so the vitest side can compare them with the source table.

Plain Python values (what the Avro and JSON Schema deserializers return) keep their JSON form where JSON has one;
the rest are tagged: {"bytes": base64}, {"decimal": text}, {"datetime": isoformat}, {"date": isoformat},
{"int": text} for integers beyond 2^53, {"float": "nan" | "inf" | "-inf"}. Protobuf messages become what
protobufjs's toObject prints with defaults (64-bit integers as text, enums as numbers, unset optional fields left
out, Timestamp and Duration as {"seconds": text, "nanos": n}), except that an unset plain message field prints as
its default message, as a reader accessing it sees it.
"""
import base64
import datetime
import decimal
import math
import uuid

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

_LONG_TYPES = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}


def canon(value):
    if isinstance(value, Message):
        return canon_message(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"int": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {"decimal": format(value, "f")}
    if isinstance(value, datetime.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"date": value.isoformat()}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canon(v) for v in value]
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


def canon_message(message):
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {str(k): _scalar(value_field, v) for k, v in value.items()}
        elif field.label == FieldDescriptor.LABEL_REPEATED:
            out[field.name] = [_scalar(field, v) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            # A plain message field left unset reads as its default message (`row.dt.seconds` is 0): ClickHouse's
            # encoder leaves an all-default message out. A field in a oneof (proto3 `optional`: Nullable) is absent.
            if field.containing_oneof is None:
                out[field.name] = canon_message(value)
        else:
            out[field.name] = _scalar(field, value)
    return out


def _scalar(field, value):
    if field.message_type is not None:
        return canon_message(value)
    if field.type in _LONG_TYPES:
        return str(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return value
    return canon(value)
