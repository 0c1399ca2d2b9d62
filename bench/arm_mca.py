#!/usr/bin/env python3
"""arm_mca.py GOSC MODEL... -- the hot loop of each model compiled for the
Raspberry Pi 3 (aarch64, Cortex-A53) with the direct-convolution kernel and
with the generic lowering (GOS_KCONV=off): the basic block with the most
vector multiply-adds, its static instruction count, the multiply-adds (f32
lanes) it performs, and llvm-mca's cycle estimate for -mcpu=cortex-a53.
Prints a markdown table."""
import os, re, subprocess, sys, tempfile

def blocks(asm):
    """Yields (label, [instructions]) for every basic block of asm text."""
    label, body = None, []
    for line in asm.splitlines():
        s = line.split("//")[0].rstrip()
        if not s.strip():
            continue
        m = re.match(r"^(\.?[A-Za-z_$][\w.$]*):", s)
        if m:
            if label is not None:
                yield label, body
            label, body = m.group(1), []
            continue
        t = s.strip()
        if t.startswith("."):
            continue
        body.append(t)
    if label is not None:
        yield label, body

def macs(ins):
    n = 0
    for i in ins:
        if re.match(r"^(fmla|fmls)\s+v\d+\.4s", i):
            n += 4
        elif re.match(r"^(fmla|fmls|fmadd|fmsub)\s", i):
            n += 1
    return n

def hot(asm):
    best = None
    for label, body in blocks(asm):
        m = macs(body)
        if m and (best is None or m > best[1]):
            best = (label, m, body)
    return best

def mca(body):
    with tempfile.NamedTemporaryFile("w", suffix=".s", delete=False) as f:
        f.write("\n".join(i for i in body if not re.match(r"^(b\.|b\s|cbn?z|tbn?z|ret)", i)) + "\n")
        name = f.name
    out = subprocess.run(["llvm-mca-14", "-mtriple=aarch64-linux-gnu", "-mcpu=cortex-a53",
                          "-iterations=100", name], capture_output=True, text=True).stdout
    os.unlink(name)
    m = re.search(r"Total Cycles:\s+(\d+)", out)
    return int(m.group(1)) / 100 if m else float("nan")

gosc, models = sys.argv[1], sys.argv[2:]
print("| layer | lowering | hot-loop instructions | f32 multiply-adds | instructions per multiply-add | A53 cycles per iteration (llvm-mca) | cycles per multiply-add |")
print("|---|---|---:|---:|---:|---:|---:|")
for model in models:
    for mode in ("kconv", "generic"):
        env = dict(os.environ)
        if mode == "generic":
            env["GOS_KCONV"] = "off"
        asm = subprocess.run([gosc, model, "-target=pi3", "-emit=asm", "-o", "-"], env=env,
                             capture_output=True, text=True, check=True).stdout
        h = hot(asm)
        if not h:
            print(f"| {os.path.basename(model)} | {mode} | - | 0 | - | - | - |")
            continue
        label, m, body = h
        cyc = mca(body)
        print(f"| {os.path.basename(model)[:-4]} | {mode} | {len(body)} | {m} | {len(body) / m:.2f} | {cyc:.1f} | {cyc / m:.2f} |")
