#!/usr/bin/env bash
# The rows of docs/compression.md "Final table": each compressed model of MODEL scored by the same `eval` command
# (perplexity on TEST with the `perplexity` windows, bits/weight, bytes, greedy decode tok/s).
# Usage: scripts/compression-criteria.sh MODEL.gguf CALIBRATION.txt TEST.txt OUTDIR [ROW ...]
# EA: the edgeagent command (default: dotnet run --project src/EdgeAgent.Cli -c Release --).
# llama.cpp's own Q4_K_M comes from bench/LlamaQuantize (LLamaSharp's llama_model_quantize, bench-only).
set -euo pipefail
model=$1; calib=$2; test=$3; out=$4; shift 4
mkdir -p "$out"
EA=${EA:-"dotnet run --project src/EdgeAgent.Cli -c Release --"}
ea() { $EA "$@"; }
ev() { ea eval -m "$out/$1.gguf" -f "$test" --threads 2 --json > "$out/$1.eval.json"; echo "$1 $(cat "$out/$1.eval.json")"; }
q() { local name=$1; shift; ea quantize -m "$model" -o "$out/$name.gguf" --threads 2 --json "$@" > "$out/$name.make.json"; ev "$name"; }
p() { local name=$1; shift; ea prune -m "$model" -o "$out/$name.gguf" --threads 2 --json "$@" > "$out/$name.make.json"; ev "$name"; }
row() {
  case $1 in
    f32) cp "$model" "$out/f32.gguf"; ev f32 ;;
    llamacpp-Q4_K_M) dotnet run --project bench/LlamaQuantize -c Release -- "$model" "$out/llamacpp-Q4_K_M.gguf" Q4_K_M > /dev/null 2>&1; ev llamacpp-Q4_K_M ;;
    ggml-Q4_K-uniform) q "$1" --method ggml --type Q4_K --uniform ;;
    ggml-Q4_K-imatrix-uniform) q "$1" --method ggml --type Q4_K --uniform --calibration "$calib" ;;
    ggml-Q4_K-imatrix) q "$1" --method ggml --type Q4_K --calibration "$calib" ;;
    ggml-Q8_0) q "$1" --method ggml --type Q8_0 ;;
    gptq-4-g128-uniform) q "$1" --method gptq --bits 4 --group 128 --uniform --calibration "$calib" ;;
    awq-4-g128-uniform) q "$1" --method awq --bits 4 --group 128 --uniform --calibration "$calib" ;;
    affine-4-g128-uniform) q "$1" --method affine --bits 4 --group 128 --uniform --clip ;;
    nf4-g64-uniform) q "$1" --method nf4 --group 64 --uniform ;;
    kmeans-4-g256-uniform) q "$1" --method kmeans --bits 4 --group 256 --uniform --calibration "$calib" ;;
    gptq-3-g128-uniform) q "$1" --method gptq --bits 3 --group 128 --uniform --calibration "$calib" ;;
    prune-magnitude-50) p "$1" --method magnitude --sparsity 0.5 ;;
    prune-wanda-50) p "$1" --method wanda --sparsity 0.5 --calibration "$calib" ;;
    prune-taylor-50) p "$1" --method taylor --sparsity 0.5 --calibration "$calib" ;;
    dense-sym4) q "$1" --method symmetric --bits 4 --uniform ;;
    wanda-24-sym4)
      ea prune -m "$model" -o "$out/wanda-24.gguf" --method wanda --pattern 2:4 --sparsity 0.5 --calibration "$calib" --threads 2 --json > "$out/wanda-24.make.json"
      ea quantize -m "$out/wanda-24.gguf" -o "$out/$1.gguf" --method symmetric --bits 4 --uniform --json > "$out/$1.make.json"; ev "$1" ;;
    *) echo "unknown row $1" >&2; exit 2 ;;
  esac
}
for r in "$@"; do row "$r"; done
# Criterion 3 (2:4 + 4-bit vs dense 4-bit decode): after the rows dense-sym4 and wanda-24-sym4, alternate the two
# `bench` runs (single thread: on a shared, oversubscribed machine the worker pool's spin barriers make 2-thread
# decode timings meaningless) and keep every run.
if [[ -f "$out/dense-sym4.gguf" && -f "$out/wanda-24-sym4.gguf" && -n "${BENCH_ROUNDS:-}" ]]; then
  for i in $(seq "$BENCH_ROUNDS"); do
    for m in dense-sym4 wanda-24-sym4; do
      echo "bench $m $(ea bench -m "$out/$m.gguf" --threads 1 --prompt-tokens 16 --gen-tokens 128 --json)"
    done
  done
fi
