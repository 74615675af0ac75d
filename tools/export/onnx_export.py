"""Shared ONNX export: a classifier is written twice (logits only, and logits + target-layer
activations), checked with onnx.checker, and PyTorch's outputs for a fixed input are saved as
.npy fixtures so the C# tests can check that ONNX Runtime reproduces them.

There is no ONNX Runtime for Python on these machines, so PyTorch's outputs are the reference.
"""
import hashlib
import os

import numpy as np
import onnx
import torch
import torch.nn as nn

OPSET = 13


class WithActivations(nn.Module):
    """Returns (logits, activations): `capture(model, x)` runs the model's own forward and
    returns both, so the exported graph is the model's graph with one extra output."""

    def __init__(self, model, capture):
        super().__init__()
        self.model = model
        self.capture = capture

    def forward(self, x):
        return self.capture(self.model, x)


def hook_capture(module_of):
    """A capture function that records the output of `module_of(model)` with a forward hook."""

    def capture(model, x):
        seen = []
        handle = module_of(model).register_forward_hook(lambda m, i, o: seen.append(o))
        try:
            logits = model(x)
        finally:
            handle.remove()
        return logits, seen[-1]

    return capture


def _export(module, x, path, outputs):
    axes = {name: {0: "batch"} for name in ["input"] + outputs}
    torch.onnx.export(module, x, path, input_names=["input"], output_names=outputs,
                      dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    return model


def _producer_index(graph, tensor):
    for i, node in enumerate(graph.node):
        if tensor in node.output:
            return i
    raise ValueError(f"no node produces {tensor}")


def target_tensor_name(logits_model, act_model):
    """The name, in the logits-only graph, of the tensor exported as `activations`.

    Both exports trace the same forward, so their node lists match one to one (checked);
    the node that produces `activations` in one graph is found by position in the other."""
    a, b = act_model.graph, logits_model.graph
    ops_a, ops_b = [n.op_type for n in a.node], [n.op_type for n in b.node]
    if ops_a != ops_b:
        raise RuntimeError("logits-only and activation exports differ in structure")
    i = _producer_index(a, "activations")
    slot = list(a.node[i].output).index("activations")
    return b.node[i].output[slot]


def tensor_context(model, tensor):
    """Producer op and consumer ops of a tensor: a readable check that the target layer sits
    where the family's rule says (e.g. Relu fed by Add, consumed by GlobalAveragePool)."""
    graph = model.graph
    producer = graph.node[_producer_index(graph, tensor)]
    inputs = [graph.node[_producer_index(graph, t)].op_type for t in producer.input
              if any(t in n.output for n in graph.node)]
    consumers = [n.op_type for n in graph.node if tensor in n.input]
    return {"op": producer.op_type, "op_inputs_from": inputs, "consumed_by": consumers}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_pair(model, capture, x, out_dir, name):
    """Writes NAME.onnx, NAME.act.onnx and the NAME.{input,logits,activations}.npy fixtures.

    Returns the facts the manifest needs: file names, target tensor name and shape."""
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    plain = os.path.join(out_dir, name + ".onnx")
    act = os.path.join(out_dir, name + ".act.onnx")
    wrapper = WithActivations(model, capture).eval()
    with torch.no_grad():
        logits, activations = wrapper(x)
        assert torch.equal(model(x), logits), "capture must not change the model's output"
        logits_model = _export(model, x, plain, ["logits"])
        act_model = _export(wrapper, x, act, ["logits", "activations"])
    fixtures = {"input": x, "logits": logits, "activations": activations}
    for key, value in fixtures.items():
        np.save(os.path.join(out_dir, f"{name}.{key}.npy"), value.numpy().astype(np.float32))
    target = target_tensor_name(logits_model, act_model)
    return {
        "file": name + ".onnx",
        "act_file": name + ".act.onnx",
        "fixtures": {k: f"{name}.{k}.npy" for k in fixtures},
        "expected_target_layer": target,
        "target_layer_shape": [1] + list(activations.shape[1:]),
        "target_layer_context": tensor_context(logits_model, target),
    }


def files_with_sha(out_dir, names):
    return {n: sha256(os.path.join(out_dir, n)) for n in names}
