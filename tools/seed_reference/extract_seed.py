"""Extracts the seed notebook's model code into one Python module.

The notebook text (a Colab export) is split into cells at "In [..]:" lines;
each cell's code is the longest prefix of it that compiles (the rest is the
cell's output). Top-level classes, functions, imports and the named
assignments the model needs are kept; sample runs, charts and asserts are
not. Nothing of the seed is stored in this repository: run it at run time.

usage: extract_seed.py NOTEBOOK.txt OUT.py
"""
import ast
import re
import sys

KEEP_ASSIGNS = {
    "T", "ChannelPicker", "ChannelPickerFactory", "Aggregator", "FloatAggregator",
    "Cost", "ClientCostFn", "ServerCostFn", "kp", "kti", "ki", "ktd", "kd",
    "FastestProbeToEmptyServer", "CheatServerPidFactory", "TOTAL_TICKS", "TEST_RUNS",
    "TARGET_UTILIZATION", "request_rate", "scenarios", "iles",
}
SKIP_FUNCS = {"ooo_process_map", "chart", "qps_chart", "latency_chart", "mean_plus_std",
              "stringify"}


def cells(text):
    lines = text.split("\n")
    starts = [i for i, l in enumerate(lines) if re.match(r"^In \[[^\]]*\]:\s*$", l)]
    for n, s in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        yield lines[s + 1:end]


def code_prefix(body):
    """Longest prefix ending at a blank line (or the end) that compiles."""
    cuts = [i for i, l in enumerate(body) if l.strip() == ""] + [len(body)]
    best = None
    for c in cuts:
        src = "\n".join(body[:c])
        if src.lstrip().startswith("%"):
            return None
        try:
            ast.parse(src)
            best = src
        except SyntaxError:
            pass
    return best


def segment(src, node):
    """Source of a top-level node, decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    lines = src.split("\n")
    return "\n".join(lines[first - 1:node.end_lineno])


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    out = []
    for body in cells(text):
        src = code_prefix(body)
        if not src:
            continue
        tree = ast.parse(src)
        for node in tree.body:
            keep = False
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                keep = True
            elif isinstance(node, ast.ClassDef):
                keep = True
            elif isinstance(node, ast.FunctionDef):
                keep = node.name not in SKIP_FUNCS
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                keep = bool(names & KEEP_ASSIGNS)
            if keep:
                out.append(segment(src, node))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("# Extracted at run time from the seed notebook; do not commit.\n")
        f.write("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
