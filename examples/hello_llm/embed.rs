//! `--embed`: the prompt's embeddings, printed as one JSON object, or as the
//! dimensions and a preview of each vector with the usage line.

use std::io::{self, Write};

use serde::Serialize;
use theory_llm::embed::{EmbedRequest, EmbedUsage, Embeddings};
use theory_llm::pricing::Pricing;
use theory_llm::LlmStreamProvider;

use crate::output::{terminal_safe, write_json};
use crate::Outcome;

/// How many numbers of each vector the preview shows.
const PREVIEW: usize = 4;

/// What `--embed --json` prints: exactly these fields.
#[derive(Serialize)]
struct JsonEmbeddings<'a> {
    provider: &'a str,
    model: &'a str,
    dimensions: usize,
    embeddings: &'a [Vec<f32>],
    usage: &'a EmbedUsage,
}

/// Embeds `request` with `llm` and prints the vectors to `out` (the usage line to `err`).
pub(crate) async fn embed(
    llm: &dyn LlmStreamProvider,
    request: EmbedRequest,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Outcome {
    let reply = match llm.embedder() {
        Ok(embedder) => embedder.embed(request).await,
        Err(e) => Err(e),
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => return Outcome::Failed(e),
    };
    let printed = if json {
        write_json(
            out,
            &JsonEmbeddings {
                provider: &reply.provider,
                model: &reply.model,
                dimensions: reply.dimensions(),
                embeddings: &reply.vectors,
                usage: &reply.usage,
            },
        )
    } else {
        print_preview(&reply, out)
    };
    if let Err(io) = printed {
        return Outcome::Output(io);
    }
    if !json {
        let _ = writeln!(err, "{}", usage_line(&reply));
    }
    Outcome::Done
}

/// `dimensions: 576`, then `0: [-0.0204, -0.0102, 0.0040, 0.0204, …]` per vector.
fn print_preview(reply: &Embeddings, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "dimensions: {}", reply.dimensions())?;
    for (i, vector) in reply.vectors.iter().enumerate() {
        writeln!(out, "{i}: {}", preview(vector))?;
    }
    out.flush()
}

/// The first numbers of `vector`, and `…` when there are more.
fn preview(vector: &[f32]) -> String {
    let shown: Vec<String> = vector
        .iter()
        .take(PREVIEW)
        .map(|v| format!("{v:.4}"))
        .collect();
    let more = if vector.len() > PREVIEW { ", …" } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

/// `[mock · mock-embed · 2 vectors · 6 tokens in · latency 0.1 ms · free]`
fn usage_line(reply: &Embeddings) -> String {
    let u = &reply.usage;
    let cost = match u.cost_basis {
        Pricing::Free => "free".to_owned(),
        Pricing::Unknown => "price unknown".to_owned(),
        _ => format!("${:.6}", u.usd_micros as f64 / 1e6),
    };
    let estimated = if u.tokens_estimated {
        " (estimated)"
    } else {
        ""
    };
    format!(
        "[{} · {} · {} vector{} · {} tokens in{estimated} · latency {:.1} ms · {cost}]",
        terminal_safe(&reply.provider),
        terminal_safe(&reply.model),
        reply.vectors.len(),
        if reply.vectors.len() == 1 { "" } else { "s" },
        u.tokens_in,
        u.latency_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_show_the_first_numbers() {
        assert_eq!(preview(&[0.5, -0.25]), "[0.5000, -0.2500]");
        assert_eq!(
            preview(&[1.0, 2.0, 3.0, 4.0, 5.0]),
            "[1.0000, 2.0000, 3.0000, 4.0000, …]"
        );
    }
}
