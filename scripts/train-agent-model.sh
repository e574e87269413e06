#!/usr/bin/env bash
# Rebuilds the embedded default agent model, models/agent-4x128.gguf, from the synthetic TRAINING split only
# (train templates and name lists; the held-out eval set is never read). Deterministic for the seeds below
# (the trainer is bit-identical for any thread count). See docs/agents.md → "The default model".
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-models/agent-4x128.gguf}
WORK=${WORK:-$(mktemp -d)}
THREADS=${THREADS:-2}
EA=(dotnet run --project src/EdgeAgent.Cli -c Release --)
# 1. Corpus: 5000 chats, each a random home with 12 requests about it (ChatML, blank line between chats).
"${EA[@]}" agent dataset --split train --count 5000 --turns 12 --seed 1 --format text -o "$WORK/train.txt"
# 2. Byte-level BPE of 1024 tokens on the first 4 MB of the corpus.
head -c 4000000 "$WORK/train.txt" > "$WORK/tok-corpus.txt"
"${EA[@]}" tokenizer-train --corpus "$WORK/tok-corpus.txt" --vocab-size 1024 -o "$WORK/tokenizer.json"
# 3. The model: 4 layers, dim 128, 4 heads, ffn 384, trained on sequences of 1024 tokens, each starting at a chat
#    (BOS + chat), loss on the answers only; the chat template (ChatML after BOS) is stored in the GGUF so inference
#    renders prompts exactly as in training; the declared context is 4096 so 100-device homes still fit.
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --assistant-only --tokenizer "$WORK/tokenizer.json" \
    --chat-template models/agent-chat-template.jinja --context-length 4096 \
    --dim 128 --layers 4 --heads 4 --ffn 384 --ctx 1024 --batch 4 --steps ${STEPS:-280} --lr 3e-3 --seed 1 \
    --threads "$THREADS" -o "$OUT" --json
