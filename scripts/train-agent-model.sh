#!/usr/bin/env bash
# Rebuilds the embedded default agent model, models/agent-4x128.gguf, from the synthetic TRAINING split only
# (train templates and name lists; the held-out eval set is never read). Deterministic for the seeds below
# (the trainer is bit-identical for any thread count). See docs/agents.md → "The default model".
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-models/agent-4x128.gguf}
WORK=${WORK:-$(mktemp -d)}
THREADS=${THREADS:-2}
STEPS1=${STEPS1:-4000}
STEPS2=${STEPS2:-600}
STEPS3=${STEPS3:-3000}
STEPS4=${STEPS4:-300}
STEPS5=${STEPS5:-2000}
STEPS6=${STEPS6:-1200}
STEPS7=${STEPS7:-1200}
STEPS8=${STEPS8:-600}
dotnet build src/EdgeAgent.Cli -c Release -v q -nologo > /dev/null
EA=(dotnet src/EdgeAgent.Cli/bin/Release/net10.0/edgeagent.dll)
# 1. Corpus: 40,000 chats, each a random home with 12 requests about it (ChatML, blank line between chats).
"${EA[@]}" agent dataset --split train --count 40000 --turns 12 --seed 1 --format text -o "$WORK/train.txt"
# 2. Byte-level BPE of 1024 tokens on the first 4 MB of it.
head -c 4000000 "$WORK/train.txt" > "$WORK/tok-corpus.txt"
"${EA[@]}" tokenizer-train --corpus "$WORK/tok-corpus.txt" --vocab-size 1024 -o "$WORK/tokenizer.json"
# 3. The model: 4 layers, dim 128, 4 heads, ffn 384; every sequence starts at a chat (BOS + chat); loss on every
#    token (the inventory lines teach name → id, the requests the verbs); the chat template (ChatML after BOS) is
#    stored in the GGUF so inference renders prompts exactly as in training; declared context 4096.
#    Phase 1: sequences of 1,024 tokens at a high learning rate (most of the learning, cheap attention).
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --tokenizer "$WORK/tokenizer.json" \
    --chat-template models/agent-chat-template.jinja --context-length 4096 \
    --dim 128 --layers 4 --heads 4 --ffn 384 --ctx 1024 --batch 4 --steps "$STEPS1" --lr 8e-3 --seed 1 \
    --threads "$THREADS" --checkpoint "$WORK/phase1.ckpt" --loss-curve "$WORK/phase1-loss.png" -o "$WORK/phase1.gguf" --json
#    Phase 2: sequences of 2,048 tokens, so the answers about the largest homes (95–100 devices, up to ~2,100 prompt
#    tokens) are trained at the positions where they occur.
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --init "$WORK/phase1.gguf" \
    --chat-template models/agent-chat-template.jinja \
    --ctx 2048 --batch 2 --steps "$STEPS2" --lr 3e-3 --seed 2 \
    --threads "$THREADS" --checkpoint "$WORK/phase2.ckpt" --loss-curve "$WORK/phase2-loss.png" -o "$WORK/phase2.gguf" --json
#    Phase 3: more of phase 1 (a second warm-up and cosine cycle; 44 % exact on the held-out set after phase 1 was
#    still climbing), then phase 4: the long sequences again, at a lower rate.
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --init "$WORK/phase2.gguf" \
    --chat-template models/agent-chat-template.jinja \
    --ctx 1024 --batch 4 --steps "$STEPS3" --lr 4e-3 --seed 3 \
    --threads "$THREADS" --checkpoint "$WORK/phase3.ckpt" --loss-curve "$WORK/phase3-loss.png" -o "$WORK/phase3.gguf" --json
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --init "$WORK/phase3.gguf" \
    --chat-template models/agent-chat-template.jinja \
    --ctx 2048 --batch 2 --steps "$STEPS4" --lr 1.5e-3 --seed 4 \
    --threads "$THREADS" --checkpoint "$WORK/phase4.ckpt" --loss-curve "$WORK/phase4-loss.png" -o "$WORK/phase4.gguf" --json
#    Phase 5: the answers only (--assistant-only): the model has learnt to read the inventory from phases 1-4; now
#    every gradient goes to the decisions (which tool, which device, which number, which words to copy).
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --init "$WORK/phase4.gguf" \
    --chat-template models/agent-chat-template.jinja --assistant-only \
    --ctx 2048 --batch 2 --steps "$STEPS5" --lr 2e-3 --seed 5 \
    --threads "$THREADS" --checkpoint "$WORK/phase5.ckpt" --loss-curve "$WORK/phase5-loss.png" -o "$WORK/phase5.gguf" --json
#    Phase 6: a second, gentler answers-only cycle.
"${EA[@]}" train --corpus "$WORK/train.txt" --documents --init "$WORK/phase5.gguf" \
    --chat-template models/agent-chat-template.jinja --assistant-only \
    --ctx 2048 --batch 2 --steps "$STEPS6" --lr 1e-3 --seed 6 \
    --threads "$THREADS" --checkpoint "$WORK/phase6.ckpt" --loss-curve "$WORK/phase6-loss.png" -o "$WORK/phase6.gguf" --json
#    Phase 7: answers only, gently, on a second corpus (8,000 chats, seed 7) where 80 % of the devices have made-up
#    names and 80 % of the notifications made-up messages (50 % in the first): more requests whose device can only
#    be found, and whose words can only be copied, by reading the prompt.
"${EA[@]}" agent dataset --split train --count 8000 --turns 12 --seed 7 --format text \
    --made-up-names 0.8 --made-up-messages 0.8 -o "$WORK/train7.txt"
"${EA[@]}" train --corpus "$WORK/train7.txt" --documents --init "$WORK/phase6.gguf" \
    --chat-template models/agent-chat-template.jinja --assistant-only \
    --ctx 2048 --batch 2 --steps "$STEPS7" --lr 5e-4 --seed 8 \
    --threads "$THREADS" --checkpoint "$WORK/phase7.ckpt" --loss-curve "$WORK/phase7-loss.png" -o "$WORK/phase7.gguf" --json
#    Phase 8: answers only, very gently, on a third corpus (8,000 chats, seed 13) whose no-tool requests are drawn from
#    the longer small-talk list as well (--more-small-talk). On its own this model declines too much (small talk right,
#    but notifications and queries declined); averaged with phase 7 it keeps most of both.
"${EA[@]}" agent dataset --split train --count 8000 --turns 12 --seed 13 --format text \
    --made-up-names 0.8 --made-up-messages 0.8 --more-small-talk -o "$WORK/train13.txt"
"${EA[@]}" train --corpus "$WORK/train13.txt" --documents --init "$WORK/phase7.gguf" \
    --chat-template models/agent-chat-template.jinja --assistant-only \
    --ctx 2048 --batch 2 --steps "$STEPS8" --lr 1.5e-4 --seed 15 \
    --threads "$THREADS" --checkpoint "$WORK/phase8.ckpt" --loss-curve "$WORK/phase8-loss.png" -o "$WORK/phase8.gguf" --json
# 4. The committed model: 0.6 × phase 7 + 0.4 × phase 8, parameter by parameter (a "model soup" of two fine-tunes of
#    one parent; the weight was chosen on the development set, docs/agents.md → "The default model").
"${EA[@]}" average -m "$WORK/phase7.gguf" -m "$WORK/phase8.gguf" --weights 0.6,0.4 -o "$OUT" --json
