#!/usr/bin/env bash
# Writes the generated bad input NAME into DIR (inputs too large or too
# binary to keep in the repository). Usage: gen.sh NAME DIR
set -eu
name="$1"; out="$2/$name"
case "$name" in
deep_nesting.yaml) # 100,000 nested flow lists
    python3 -c "import sys; sys.stdout.write('input: [1, 8, 8]\nlayers: ' + '['*100000 + ']'*100000 + '\n')" > "$out" ;;
many_layers.yaml) # 40,000 layers: loads in linear time
    { echo "input: [1, 1, 1]"; echo "layers:"
      for i in $(seq 1 40000); do echo "  - {name: r$i, op: relu}"; done
      echo "  - {name: r1, op: relu}"; } > "$out" ;;
many_bn_relu.yaml) # 100,000 BN + ReLU pairs: names and fusion in n log n (quadratic: minutes)
    awk 'BEGIN { print "input: [1, 1, 1]"; print "layers:"
                 for (i = 1; i <= 100000; i++) { printf "  - {name: b%d, op: batchnorm}\n", i
                                                  printf "  - {name: r%d, op: relu}\n", i } }' > "$out" ;;
latin1.yaml) # a valid file with a Latin-1 byte on line 3
    printf 'input: [1, 8, 8]\nlayers:\n  - {name: caf\xe9, op: relu}\n' > "$out" ;;
cli_long_checkpoint.yaml) # a config whose checkpoint path (1,100 characters) does not fit
    printf 'model: m.yaml\ndata: {format: fashion-mnist}\ncheckpoint: %s.h5\n' "$(printf '%01097d' 0 | tr 0 c)" > "$out" ;;
*) echo "gen.sh: unknown input '$name'" >&2; exit 1 ;;
esac
