#!/usr/bin/python3
"""A tiny random-init image-to-next-word model with an LSTM decoder (the paper's captioner is a CNN encoder with an
LSTM decoder, section 5.5.3), and its PyTorch reference, for the LSTM unrolling's end-to-end test:

    tests/ScoreCam.Onnx.Tests/Gradients/Fixtures/lstm-captioner.onnx, lstm-captioner.reference.json

torch.manual_seed(7). Encoder: Conv 3->8 (stride 2), ReLU, Conv 8->16, ReLU (the target layer, 16x16x16), 8x8 average
pooling to 2x2, Linear -> tanh gives the LSTM's initial h and c (hidden 16). The LSTM (batch first, exported as an ONNX
LSTM node) reads the fed previous words, float one-hot rows `tokens` [batch,5,10]; logits [batch,10] = Linear of its last
state and the pooled features. Opset 13, dynamic batch. Input x[i] = 2 sin(0.001 i) + 0.5 cos(0.0173 i) (1x3x32x32),
tokens: words 1, 4, 2, 6, 3. Reference: the logits, for the top word and the runner-up dY/dA by autograd with a hook
on the target layer, Grad-CAM = ReLU(sum_k mean(g_k) A_k) and its weights, and dY/dx (the whole input).

    /usr/bin/python3 tools/export/export_lstm_captioner.py
"""
import json
import os

import numpy as np
import onnx
import torch
import torch.nn as nn

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "ScoreCam.Onnx.Tests", "Gradients", "Fixtures")
WORDS, HIDDEN, STEPS = 10, 16, 5


class LstmCaptioner(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU())
        self.pool = nn.AvgPool2d(8)
        self.init_h = nn.Linear(64, HIDDEN)
        self.init_c = nn.Linear(64, HIDDEN)
        self.lstm = nn.LSTM(WORDS, HIDDEN, batch_first=True)
        self.out = nn.Linear(HIDDEN + 64, WORDS)

    def forward(self, image, tokens):
        pooled = self.pool(self.encoder(image)).flatten(1)
        h0 = torch.tanh(self.init_h(pooled)).unsqueeze(0)
        c0 = torch.tanh(self.init_c(pooled)).unsqueeze(0)
        states, _ = self.lstm(tokens, (h0, c0))
        return self.out(torch.cat([states[:, -1], pooled], dim=1))


def main():
    torch.manual_seed(7)
    model = LstmCaptioner().eval()
    i = np.arange(3 * 32 * 32, dtype=np.float64)
    x = torch.from_numpy((2 * np.sin(0.001 * i) + 0.5 * np.cos(0.0173 * i)).astype(np.float32).reshape(1, 3, 32, 32))
    tokens = torch.zeros(1, STEPS, WORDS)
    for t, word in enumerate([1, 4, 2, 6, 3]):
        tokens[0, t, word] = 1
    path = os.path.join(OUT, "lstm-captioner.onnx")
    torch.onnx.export(model, (x, tokens), path, input_names=["image", "tokens"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "tokens": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    graph = onnx.load(path).graph
    onnx.checker.check_model(onnx.load(path))
    layer = [n for n in graph.node if n.op_type == "Relu"][-1].output[0]
    assert any(n.op_type == "LSTM" for n in graph.node), "the decoder must export as an ONNX LSTM"
    np.save(os.path.join(OUT, "lstm-captioner.tokens.npy"), tokens.numpy())

    saved = {}
    def hook(_module, _inputs, output):
        output.retain_grad()
        saved["A"] = output
    model.encoder[3].register_forward_hook(hook)
    x.requires_grad_(True)
    logits = model(x, tokens)
    order = logits[0].argsort(descending=True)
    result = {"torch": torch.__version__, "layer": layer, "logits": logits[0].tolist(), "classes": {}}
    for c in (int(order[0]), int(order[1])):
        saved["A"].grad, x.grad = None, None
        logits[0, c].backward(retain_graph=True)
        A, g = saved["A"].detach().double()[0], saved["A"].grad.double()[0]
        w = g.mean(dim=(1, 2))
        result["classes"][str(c)] = {"gradcam_weights": w.tolist(), "gradcam": torch.relu((w[:, None, None] * A).sum(0)).flatten().tolist(),
                                     "input_gradient": x.grad.double()[0].flatten().tolist()}
    with open(os.path.join(OUT, "lstm-captioner.reference.json"), "w") as f:
        json.dump(result, f)
    print("layer", layer, "top", int(order[0]), "bytes", os.path.getsize(path))


if __name__ == "__main__":
    main()
