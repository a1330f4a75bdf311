#!/usr/bin/env python3
"""Regenerate apps/default_config.h from configs/demo-3tier.yaml (the embedded default
config of `cleave run`). Usage: scripts/embed_default_config.py [--check]"""
import sys, pathlib
root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "configs/demo-3tier.yaml").read_text()
lines = src.split("\n")
out = ["/* Generated from configs/demo-3tier.yaml by scripts/embed_default_config.py; do not edit. */",
       "#ifndef CLEAVE_APPS_DEFAULT_CONFIG_H", "#define CLEAVE_APPS_DEFAULT_CONFIG_H",
       'static const char cl__default_config_name[] = "<embedded configs/demo-3tier.yaml>";',
       "static const char cl__default_config[] ="]
for i, l in enumerate(lines):
    if i == len(lines) - 1 and l == "":
        break
    out.append('    "%s\\n"' % l.replace("\\", "\\\\").replace('"', '\\"'))
out[-1] += ";"
out.append("#endif")
text = "\n".join(out) + "\n"
dst = root / "apps/default_config.h"
if "--check" in sys.argv:
    if dst.read_text() != text:
        sys.exit("apps/default_config.h is stale: run scripts/embed_default_config.py")
    print("default config embedded and up to date")
else:
    dst.write_text(text)
