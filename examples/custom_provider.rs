//! Register your own provider next to the built-in ones.
//!
//! `cargo run --example custom_provider`
//!
//! A provider only has to turn a request into a `ChatStream` of chunks; `chat()`, the
//! collector, usage and the factory come with the trait. This one answers from a
//! small FAQ, word by word, and reports its own token counts.

use std::io::Write;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use theory_llm::{
    ChatRequest, ChatStream, Chunk, Finish, FinishReason, LlmStreamProvider, Pricing, Registry,
    Role, StreamInfo,
};

/// Answers questions from a fixed list; free, deterministic, no network.
#[derive(Debug)]
struct FaqProvider {
    answers: Vec<(&'static str, &'static str)>,
}

impl LlmStreamProvider for FaqProvider {
    fn name(&self) -> &str {
        "faq"
    }

    fn default_model(&self) -> &str {
        "faq-v1"
    }

    fn stream_chat(&self, request: ChatRequest) -> ChatStream {
        let model = request
            .model
            .clone()
            .unwrap_or_else(|| self.default_model().to_owned());
        let info = StreamInfo::new("faq", model).with_pricing(Pricing::Free);
        if let Err(e) = request.validate() {
            return ChatStream::from_error(info, e);
        }
        let question = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.to_lowercase())
            .unwrap_or_default();
        let answer = self
            .answers
            .iter()
            .find(|(topic, _)| question.contains(topic))
            .map_or(
                "I only know about streams, costs and providers.",
                |(_, a)| a,
            );
        let words: Vec<String> = answer.split_inclusive(' ').map(str::to_owned).collect();
        let tokens_out = words.len() as u64;
        let items = words
            .into_iter()
            .map(|w| Ok(Chunk::Text(w)))
            .chain([Ok(Chunk::from(
                Finish::new(FinishReason::Stop)
                    .with_tokens(Some(question.len() as u64 / 4), Some(tokens_out)),
            ))]);
        // A little delay per word, so the live output is visible.
        let stream = stream::iter(items).then(|item| async {
            tokio::time::sleep(Duration::from_millis(15)).await;
            item
        });
        ChatStream::new(info, stream)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> theory_llm::Result<()> {
    let registry = Registry::builtin().with("faq", || {
        Ok(Box::new(FaqProvider {
            answers: vec![
                (
                    "stream",
                    "Every provider returns a ChatStream: chunks arrive as the server sends them.",
                ),
                (
                    "cost",
                    "Costs are integer micro-USD from a price table; local models cost nothing.",
                ),
                (
                    "provider",
                    "Providers are how to connect; models are what to invoke.",
                ),
            ],
        }))
    });
    println!("providers: {}", registry.names().join(", "));

    let llm = registry.create("faq")?;
    let mut stream = llm.stream_chat("How do streams work?".into());
    while let Some(chunk) = stream.next().await {
        if let Chunk::Text(text) = chunk? {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
    }
    println!();

    let reply = llm.chat("What does it cost?".into()).await?;
    println!(
        "{}\n[{} tokens out, {:.0} ms]",
        reply.text, reply.usage.tokens_out, reply.usage.latency_ms
    );
    Ok(())
}
