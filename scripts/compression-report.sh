#!/usr/bin/env bash
# Rebuilds the table of docs/compression.md: every method next to llama.cpp's own quantizer on the same model,
# measured with the same `eval` command (perplexity on WikiText-2 test, KL and top-1 vs the float model).
# Usage: scripts/compression-report.sh MODEL.gguf CALIBRATION.txt TEST.txt [OUTDIR]
# MODEL: an F32 model trained by our trainer (dims multiples of 256). llama.cpp's Q4_K_M needs llama-quantize
# (or the test helper LlamaCppLogits.Quantize); set LLAMA_QUANTIZE to its path to include it.
set -euo pipefail
model=$1; calib=$2; test=$3; out=${4:-compression-report}
mkdir -p "$out"
ea() { dotnet run --project src/EdgeAgent.Cli -c Release -- "$@"; }
run() { # name, then quantize/prune arguments
  local name=$1; shift
  ea "$@" -o "$out/$name.gguf" --json > "$out/$name.make.json"
  ea eval -m "$out/$name.gguf" -f "$test" --reference "$model" --json > "$out/$name.eval.json"
}
ea eval -m "$model" -f "$test" --json > "$out/f32.eval.json"
for t in Q8_0 Q6_K Q5_K Q4_K Q4_0 IQ4_NL; do run "ggml-$t" quantize -m "$model" --method ggml --type $t; done
run ggml-Q4_K-imatrix quantize -m "$model" --method ggml --type Q4_K --calibration "$calib"
for b in 8 4 3; do run "affine-$b-g128" quantize -m "$model" --method affine --bits $b --group 128 --clip; done
run symmetric-4-g32 quantize -m "$model" --method symmetric --bits 4
run log2-4-g32 quantize -m "$model" --method log2 --bits 4
run nf4-g64 quantize -m "$model" --method nf4 --group 64
run kmeans-4-g256 quantize -m "$model" --method kmeans --bits 4 --group 256 --calibration "$calib"
for b in 4 3; do
  run "gptq-$b-g128" quantize -m "$model" --method gptq --bits $b --group 128 --calibration "$calib"
  run "awq-$b-g128" quantize -m "$model" --method awq --bits $b --group 128 --calibration "$calib"
done
# Pruning (float), then 2:4 + 4-bit (stored in EA_SPARSE24_Q4) against the dense 4-bit model.
for m in magnitude wanda taylor; do run "prune-$m-50" prune -m "$model" --method $m --sparsity 0.5 --calibration "$calib"; done
ea prune -m "$model" -o "$out/wanda-24.gguf" --method wanda --pattern 2:4 --calibration "$calib" --json > "$out/wanda-24.make.json"
run wanda-24-sym4 quantize -m "$out/wanda-24.gguf" --method symmetric --bits 4
run dense-sym4 quantize -m "$model" --method symmetric --bits 4
for s in neuron heads layers; do run "prune-$s-25" prune -m "$model" --method $s --sparsity 0.25 --calibration "$calib"; done
if [[ -n "${LLAMA_QUANTIZE:-}" ]]; then
  # e.g. LLAMA_QUANTIZE="dotnet run --project bench/LlamaQuantize -c Release --" (llama.cpp via LLamaSharp, bench-only)
  $LLAMA_QUANTIZE "$model" "$out/llamacpp-Q4_K_M.gguf" Q4_K_M
  ea eval -m "$out/llamacpp-Q4_K_M.gguf" -f "$test" --reference "$model" --json > "$out/llamacpp-Q4_K_M.eval.json"
fi
# One Markdown row per model: name | bits/weight | perplexity | Δ perplexity | KL | top-1 | bytes | decode tok/s
base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["perplexity"])' "$out/f32.eval.json")
python3 - "$out" "$base" <<'PY'
import json, glob, os, sys
out, base = sys.argv[1], float(sys.argv[2])
rows = []
for f in sorted(glob.glob(os.path.join(out, "*.eval.json"))):
    e = json.load(open(f)); name = os.path.basename(f)[:-len(".eval.json")]
    rows.append((e["bits_per_weight"], name, e))
print("| model | bits/weight | perplexity | Δ ppl | KL (nats/token) | top-1 | bytes | decode tok/s |")
print("|---|---|---|---|---|---|---|---|")
for bpw, name, e in sorted(rows, key=lambda r: r[0]):
    kl = "" if e["kl_divergence"] is None else f'{e["kl_divergence"]:.4f}'
    t1 = "" if e["top1_agreement"] is None else f'{e["top1_agreement"]:.3f}'
    print(f'| {name} | {bpw:.2f} | {e["perplexity"]:.3f} | {e["perplexity"]/base-1:+.2%} | {kl} | {t1} | {e["bytes"]} | {e["decode_tokens_per_s"]:.1f} |')
PY
