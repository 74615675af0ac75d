"""Architecture coverage: slim torchvision classifiers (random weights, fixed seed, BatchNorm
statistics calibrated on random inputs, 10 classes,
64x64 input), each exported with and without the target-layer activations output, into
onnx-models/coverage/. Their facts go to coverage/coverage.json, merged into
onnx-models/manifest.json by make_manifest.py.

    /usr/bin/python3 tools/export/export_coverage.py

The target layer of each family follows the Score-CAM paper's "last convolutional layer":
VGG: the last conv's ReLU; ResNet / RegNet: the last block's output (residual Add, then ReLU);
DenseNet: the ReLU after norm5; SqueezeNet: the last Fire module's Concat; the others: the last
conv block before global pooling, after its activation. The exported tensor names are read back
from the graphs (onnx_export.target_tensor_name), never guessed.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm
from torchvision.models import convnext, efficientnet, mobilenetv3, regnet, resnet, vgg

import onnx_export as ox

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "onnx-models", "coverage")
SEED = 1234
SIZE = 64
MAX_BYTES = 6 * 1024 * 1024


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with stage widths scaled down (the class hard-codes 64..512).

    Only __init__ is replaced, mirroring torchvision's; _make_layer, blocks and forward are
    torchvision's own, so the graph is conv-bn-relu, maxpool, blocks (Add then Relu), avgpool,
    flatten, fc."""

    def __init__(self, block, layers, widths, num_classes=10):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


VGG_CFG = [8, "M", 16, "M", 32, 32, "M", 64, 64, "M", 64, 64, "M"]


def slim_vgg(batch_norm):
    """torchvision VGG on make_layers(small cfg); the 7x7 pool and 4096-wide head are scaled to
    the 2x2 map a 64x64 input leaves, keeping VGG's pool -> flatten -> 3 Linear layers."""
    model = vgg.VGG(vgg.make_layers(VGG_CFG, batch_norm=batch_norm), num_classes=10)
    model.avgpool = nn.AdaptiveAvgPool2d((2, 2))
    model.classifier = nn.Sequential(
        nn.Linear(64 * 2 * 2, 128), nn.ReLU(True), nn.Dropout(),
        nn.Linear(128, 128), nn.ReLU(True), nn.Dropout(), nn.Linear(128, 10))
    return model


def densenet_capture(model, x):
    """DenseNet's forward with its functional final ReLU (after norm5) made visible."""
    activations = F.relu(model.features(x))
    pooled = torch.flatten(F.adaptive_avg_pool2d(activations, (1, 1)), 1)
    return model.classifier(pooled), activations


def last_relu(model):
    return [m for m in model.features if isinstance(m, nn.ReLU)][-1]


def convnext_settings():
    cfg = convnext.CNBlockConfig
    return [cfg(16, 32, 1), cfg(32, 64, 1), cfg(64, 128, 2), cfg(128, None, 1)]


# name -> (builder, source description, capture)
MODELS = {
    "vgg": (lambda: slim_vgg(False),
            {"class": "torchvision.models.VGG", "args": f"features=make_layers({VGG_CFG}, "
             "batch_norm=False), avgpool=AdaptiveAvgPool2d(2), classifier=Linear(256,128)-ReLU-"
             "Dropout-Linear(128,128)-ReLU-Dropout-Linear(128,10)"},
            ox.hook_capture(last_relu)),
    "vgg-bn": (lambda: slim_vgg(True),
               {"class": "torchvision.models.VGG", "args": f"features=make_layers({VGG_CFG}, "
                "batch_norm=True), avgpool=AdaptiveAvgPool2d(2), classifier=Linear(256,128)-ReLU-"
                "Dropout-Linear(128,128)-ReLU-Dropout-Linear(128,10)"},
               ox.hook_capture(last_relu)),
    "resnet-basic": (lambda: NarrowResNet(resnet.BasicBlock, [2, 2, 2, 2], [8, 16, 32, 64]),
                     {"class": "torchvision.models.resnet.ResNet (narrow widths subclass)",
                      "args": "block=BasicBlock, layers=[2,2,2,2], widths=[8,16,32,64], num_classes=10"},
                     ox.hook_capture(lambda m: m.layer4)),
    "resnet-bottleneck": (lambda: NarrowResNet(resnet.Bottleneck, [1, 2, 2, 1], [8, 16, 32, 64]),
                          {"class": "torchvision.models.resnet.ResNet (narrow widths subclass)",
                           "args": "block=Bottleneck, layers=[1,2,2,1], widths=[8,16,32,64], num_classes=10"},
                          ox.hook_capture(lambda m: m.layer4)),
    "densenet": (lambda: tvm.DenseNet(growth_rate=12, block_config=(2, 3, 4, 3),
                                      num_init_features=24, num_classes=10),
                 {"class": "torchvision.models.DenseNet",
                  "args": "growth_rate=12, block_config=(2,3,4,3), num_init_features=24, num_classes=10"},
                 densenet_capture),
    "mobilenetv2": (lambda: tvm.MobileNetV2(num_classes=10, width_mult=0.35),
                    {"class": "torchvision.models.MobileNetV2", "args": "width_mult=0.35, num_classes=10"},
                    ox.hook_capture(lambda m: m.features)),
    "mobilenetv3": (lambda: tvm.MobileNetV3(*mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small",
                                                                          width_mult=0.5, reduced_tail=True), num_classes=10),
                    {"class": "torchvision.models.MobileNetV3",
                     "args": "*_mobilenet_v3_conf('mobilenet_v3_small', width_mult=0.5, reduced_tail=True), num_classes=10"},
                    ox.hook_capture(lambda m: m.features)),
    "efficientnet": (lambda: tvm.EfficientNet(efficientnet._efficientnet_conf(
                         "efficientnet_b0", width_mult=0.25, depth_mult=0.5)[0], dropout=0.2,
                         num_classes=10),
                     {"class": "torchvision.models.EfficientNet",
                      "args": "_efficientnet_conf('efficientnet_b0', width_mult=0.25, depth_mult=0.5)[0], "
                              "dropout=0.2, num_classes=10"},
                     ox.hook_capture(lambda m: m.features)),
    "squeezenet": (lambda: tvm.SqueezeNet("1_1", num_classes=10),
                   {"class": "torchvision.models.SqueezeNet", "args": "version='1_1', num_classes=10"},
                   ox.hook_capture(lambda m: m.features)),
    "shufflenetv2": (lambda: tvm.ShuffleNetV2([2, 3, 2], [16, 32, 64, 128, 256], num_classes=10),
                     {"class": "torchvision.models.ShuffleNetV2",
                      "args": "stages_repeats=[2,3,2], stages_out_channels=[16,32,64,128,256], num_classes=10"},
                     ox.hook_capture(lambda m: m.conv5)),
    "regnet": (lambda: tvm.RegNet(regnet.BlockParams.from_init_params(
                   depth=7, w_0=16, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25), num_classes=10),
               {"class": "torchvision.models.RegNet",
                "args": "BlockParams.from_init_params(depth=7, w_0=16, w_a=8.0, w_m=2.0, "
                        "group_width=8, se_ratio=0.25), num_classes=10"},
               ox.hook_capture(lambda m: m.trunk_output)),
    "convnext": (lambda: tvm.ConvNeXt(convnext_settings(), stochastic_depth_prob=0.0, num_classes=10),
                 {"class": "torchvision.models.ConvNeXt",
                  "args": "block_setting=[CNBlockConfig(16,32,1), CNBlockConfig(32,64,1), "
                          "CNBlockConfig(64,128,2), CNBlockConfig(128,None,1)], num_classes=10"},
                 ox.hook_capture(lambda m: m.features)),
}


def calibrate_batchnorm(model, batches=4):
    """Sets BatchNorm running statistics from random-normal inputs. With torchvision's initial
    statistics (mean 0, var 1) the deep, thin random nets shrink their signal to ~1e-10 (MobileNet,
    EfficientNet, ShuffleNet), which leaves Score-CAM nothing to measure; calibrated, every
    family's activations and logits are O(1), as in a trained model."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    for m in norms:
        m.reset_running_stats()
        m.momentum, m.saved_momentum = None, m.momentum   # None: a plain average over batches
        m.train()
    gen = torch.Generator().manual_seed(SEED + 2)
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(16, 3, SIZE, SIZE, generator=gen))
    for m in norms:
        m.momentum = m.saved_momentum
        del m.saved_momentum
    return model.eval()


def export_one(name):
    builder, source, capture = MODELS[name]
    torch.manual_seed(SEED)
    model = calibrate_batchnorm(builder())
    x = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(SEED + 1))
    facts = ox.export_pair(model, capture, x, OUT, name)
    for f in (facts["file"], facts["act_file"]):
        size = os.path.getsize(os.path.join(OUT, f))
        assert size <= MAX_BYTES, f"{f} is {size} bytes, over the 6 MB budget"
    facts.update(name=name, source=source, num_classes=10,
                 parameters=sum(p.numel() for p in model.parameters()))
    return facts


def main():
    torch.set_num_threads(2)
    entries = []
    for name in MODELS:
        facts = export_one(name)
        print(f"{name:18s} {facts['expected_target_layer']:60s} {facts['target_layer_shape']}"
              f" {facts['parameters']} params {facts['target_layer_context']}", flush=True)
        entries.append(facts)
    with open(os.path.join(OUT, "coverage.json"), "w") as f:
        json.dump(entries, f, indent=2)


if __name__ == "__main__":
    main()
