//! Embeddings over loopback, provider by provider: request bodies and paths, batches
//! sent in order and vectors put back in input order, base64 decoded, usage reported
//! or estimated and priced, errors; the hostile replies a server can send; the mock
//! and the providers without embeddings.

mod hostile;
mod openai;
mod others;

use std::time::Duration;

use theory_llm::retry::RetryPolicy;

/// Retries fast enough for tests.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(20))
}

/// Standard base64 (with padding) of `values` as little-endian 32-bit floats, as
/// OpenAI sends them: written here apart from the crate's decoder.
pub fn b64(values: &[f32]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An OpenAI embeddings reply: `items` as (index, embedding JSON), and usage.
pub fn openai_body(items: &[(usize, serde_json::Value)], tokens: Option<u64>) -> String {
    let data: Vec<serde_json::Value> = items
        .iter()
        .map(|(index, embedding)| {
            serde_json::json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let mut body =
        serde_json::json!({"object": "list", "data": data, "model": "text-embedding-3-small"});
    if let Some(tokens) = tokens {
        body["usage"] = serde_json::json!({"prompt_tokens": tokens, "total_tokens": tokens});
    }
    body.to_string()
}

#[test]
fn the_test_encoder_is_base64() {
    // 1.0f32 is 00 00 80 3f little-endian.
    assert_eq!(b64(&[1.0]), "AACAPw==");
    assert_eq!(b64(&[0.0, 1.0]), "AAAAAAAAgD8=");
}

#[test]
fn embedding_prices_are_in_their_providers_tables_with_when_and_where() {
    use theory_llm::pricing::{Price, PriceTable};
    let table = |usd: f64| Some(Price::per_million_usd(usd, 0.0));
    assert_eq!(
        PriceTable::openai().get("text-embedding-3-small"),
        table(0.02)
    );
    assert_eq!(
        PriceTable::openai().get("text-embedding-3-large"),
        table(0.13)
    );
    assert_eq!(
        PriceTable::openai().get("text-embedding-ada-002"),
        table(0.10)
    );
    assert_eq!(
        PriceTable::gemini().get("gemini-embedding-001"),
        table(0.15)
    );
    assert_eq!(PriceTable::gemini().get("gemini-embedding-2"), table(0.20));
    assert_eq!(PriceTable::anthropic().get("text-embedding-3-small"), None);

    let file: serde_json::Value =
        serde_json::from_str(include_str!("../../../src/pricing/prices.json")).unwrap();
    let newest = file["checked"].as_str().unwrap();
    let providers = file["embeddings"]["providers"].as_object().unwrap();
    assert_eq!(providers.len(), 2);
    for (provider, section) in providers {
        for (model, row) in section["models"].as_object().unwrap() {
            let checked = row["checked"].as_str().unwrap_or("");
            assert!(
                checked.len() == 10 && checked <= newest,
                "{provider}/{model}: {checked}"
            );
            let source = row["source"].as_str().unwrap_or("");
            assert!(
                source.starts_with("https://"),
                "{provider}/{model}: {source}"
            );
            assert!(row["input"].as_f64().unwrap() > 0.0);
        }
    }
    // A whole file read by the app has its embedding models too.
    let own = PriceTable::from_json(include_str!("../../../src/pricing/prices.json")).unwrap();
    assert_eq!(own.get("gemini-embedding-001"), table(0.15));
}
