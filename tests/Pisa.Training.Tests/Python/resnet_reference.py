"""Reference for ResNetParityTests: a seeded torchvision ResNet and its C2-C5 for a fixed input.

usage: resnet_reference.py DEPTH OUT_DIR
writes OUT_DIR/weights.pth (the model's state_dict, as a user would save torchvision weights) and
OUT_DIR/reference.pth ({"input": [2, 3, 96, 128] in [0, 1], "c2".."c5"}), both with torch.save.
"""
import sys

import torch
import torchvision

depth, out = int(sys.argv[1]), sys.argv[2]
# Debian's torch 1.13 has its own oneDNN, whose convolutions are wrong on some AVX-512 CPUs: use ATen's.
torch.backends.mkldnn.enabled = False
torch.manual_seed(0)
model = getattr(torchvision.models, f"resnet{depth}")()  # random initialisation (no weights downloaded)
# Non-trivial BatchNorm statistics and affine parameters, so the test sees whether every buffer is loaded.
with torch.no_grad():
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 1.5)
            module.weight.uniform_(0.5, 1.5)
            module.bias.uniform_(-0.2, 0.2)
model.eval()
torch.save(model.state_dict(), f"{out}/weights.pth")

images = torch.rand(2, 3, 96, 128, generator=torch.Generator().manual_seed(1))
mean = torch.tensor([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)
with torch.no_grad():
    x = model.maxpool(model.relu(model.bn1(model.conv1((images - mean) / std))))
    c2 = model.layer1(x)
    c3 = model.layer2(c2)
    c4 = model.layer3(c3)
    c5 = model.layer4(c4)
torch.save({"input": images, "c2": c2, "c3": c3, "c4": c4, "c5": c5}, f"{out}/reference.pth")
