"""Raises an ONNX model's default-domain opset with onnx's version converter (for models exported before opset 13,
such as the CNTK ImageNet ResNet-18 trunk of fetch_realistic.sh at opset 8, which int8 copies need at 13 or later).
Initializers are listed as graph inputs first, as the converter of older onnx releases expects.

    /usr/bin/python3 tools/export/upgrade_opset.py IN.onnx OUT.onnx [OPSET=13]
"""
import sys

import onnx
from onnx import helper, version_converter


def main():
    src, dst = sys.argv[1], sys.argv[2]
    opset = int(sys.argv[3]) if len(sys.argv) > 3 else 13
    model = onnx.load(src)
    listed = {i.name for i in model.graph.input}
    for t in model.graph.initializer:
        if t.name not in listed:
            model.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    converted = version_converter.convert_version(model, opset)
    onnx.checker.check_model(converted)
    onnx.save(converted, dst)
    print(dst, "opset", opset, sorted({n.op_type for n in converted.graph.node}))


if __name__ == "__main__":
    main()
