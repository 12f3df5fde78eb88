#!/bin/sh
# Regenerates the Python message modules in posrtpb/ from posrt's protos
# (plugins/base/proto, plugins/scanner/proto) and the few foreign ones in
# proto/, with the installed protoc (3.21 or later). Run from anywhere.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
out="$here/posrtpb"
protoc --python_out="$out" \
  -I "$root/plugins/base/proto" -I "$root/plugins/scanner/proto" -I "$here/proto" \
  base.proto scanner.proto grpc_health.proto goplugin_controller.proto google_rpc.proto
