"""Protobuf classes of a registered schema, built at run time: fetch the schema by id from the registry, compile it
with protoc (from grpcio-tools) and load the descriptors. What a Python consumer needs because confluent-kafka's
ProtobufDeserializer takes a message class, and Apicurio's Confluent API cannot serve schemas in the `serialized`
form the deserializer would build classes from."""
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import grpc_tools
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.message_factory import GetMessageClass


def registered_message_class(registry_url, schema_id, message_index=0):
    with urllib.request.urlopen(f"{registry_url}/schemas/ids/{schema_id}") as response:
        schema = json.load(response)["schema"]
    with tempfile.TemporaryDirectory() as work:
        proto = os.path.join(work, "registered.proto")
        with open(proto, "w", encoding="utf-8") as f:
            f.write(schema)
        out = os.path.join(work, "set.pb")
        includes = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{work}", f"-I{includes}",
             "--include_imports", f"--descriptor_set_out={out}", proto],
            check=True,
        )
        with open(out, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read()).file
    pool = descriptor_pool.DescriptorPool()
    for file in files:
        pool.Add(file)
    registered = files[-1]  # --include_imports lists dependencies first
    name = registered.message_type[message_index].name
    full_name = f"{registered.package}.{name}" if registered.package else name
    return GetMessageClass(pool.FindMessageTypeByName(full_name))
