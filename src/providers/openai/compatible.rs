//! The OpenAI-compatible clouds and local servers by name: each is the `openai`
//! provider (the Chat Completions dialect) made from its own description, with its
//! base URL, its key variable, a default model and its prices where published
//! (`src/pricing/prices.json`). Every one also reads `<NAME>_BASE_URL`.

use crate::kit::{Description, KeyHeader};
use crate::pricing::PriceTable;

use super::DESCRIPTION as OPENAI;

/// A hosted cloud: the `openai` provider with another base URL, key and default model.
const fn hosted(
    name: &'static str,
    base_url: &'static str,
    base_url_vars: &'static [&'static str],
    key_vars: &'static [&'static str],
    default_model: &'static str,
    prices: Option<fn() -> PriceTable>,
) -> Description {
    Description {
        name,
        default_base_url: base_url,
        base_url_vars,
        key_vars,
        default_model,
        example_base_urls: base_url,
        prices,
        ..OPENAI
    }
}

/// A server on this machine: no key (one set is sent), free, `local` as the model name
/// unless one is given (llama.cpp's server takes any name; vLLM and LM Studio need the
/// id of the model they serve, which `GET {base}/models` lists).
const fn local(
    name: &'static str,
    base_url: &'static str,
    base_url_vars: &'static [&'static str],
) -> Description {
    Description {
        name,
        default_base_url: base_url,
        base_url_vars,
        key_vars: &[],
        key_header: KeyHeader::Bearer,
        key_required: false,
        default_model: "local",
        example_base_urls: base_url,
        prices: None,
        free: true,
        unreachable_hint: None,
        ..OPENAI
    }
}

/// Every named OpenAI-compatible provider, in the registry's order.
pub(crate) static COMPATIBLE: &[Description] = &[
    hosted(
        "groq",
        "https://api.groq.com/openai/v1",
        &["GROQ_BASE_URL"],
        &["GROQ_API_KEY"],
        "openai/gpt-oss-20b",
        Some(|| PriceTable::for_provider("groq")),
    ),
    hosted(
        "deepseek",
        "https://api.deepseek.com",
        &["DEEPSEEK_BASE_URL"],
        &["DEEPSEEK_API_KEY"],
        "deepseek-flash",
        Some(|| PriceTable::for_provider("deepseek")),
    ),
    // OpenRouter prices follow the routed model, and it reports the cost itself: not
    // priced from a table.
    hosted(
        "openrouter",
        "https://openrouter.ai/api/v1",
        &["OPENROUTER_BASE_URL"],
        &["OPENROUTER_API_KEY"],
        "openai/gpt-6-luna",
        None,
    ),
    hosted(
        "together",
        "https://api.together.ai/v1",
        &["TOGETHER_BASE_URL"],
        &["TOGETHER_API_KEY"],
        "openai/gpt-oss-120b",
        Some(|| PriceTable::for_provider("together")),
    ),
    hosted(
        "fireworks",
        "https://api.fireworks.ai/inference/v1",
        &["FIREWORKS_BASE_URL"],
        &["FIREWORKS_API_KEY"],
        "accounts/fireworks/models/gpt-oss-120b",
        Some(|| PriceTable::for_provider("fireworks")),
    ),
    hosted(
        "mistral",
        "https://api.mistral.ai/v1",
        &["MISTRAL_BASE_URL"],
        &["MISTRAL_API_KEY"],
        "mistral-small-latest",
        Some(|| PriceTable::for_provider("mistral")),
    ),
    hosted(
        "xai",
        "https://api.x.ai/v1",
        &["XAI_BASE_URL"],
        &["XAI_API_KEY"],
        "grok-4.3",
        Some(|| PriceTable::for_provider("xai")),
    ),
    hosted(
        "cerebras",
        "https://api.cerebras.ai/v1",
        &["CEREBRAS_BASE_URL"],
        &["CEREBRAS_API_KEY"],
        "gpt-oss-120b",
        Some(|| PriceTable::for_provider("cerebras")),
    ),
    local("vllm", "http://localhost:8000/v1", &["VLLM_BASE_URL"]),
    local(
        "lmstudio",
        "http://localhost:1234/v1",
        &["LMSTUDIO_BASE_URL"],
    ),
    local(
        "llamacpp",
        "http://localhost:8080/v1",
        &["LLAMACPP_BASE_URL"],
    ),
];

/// The description of the named compatible provider `name`.
pub(crate) fn named(name: &str) -> Option<&'static Description> {
    COMPATIBLE.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::ProviderBuilder;
    use crate::provider::LlmStreamProvider;
    use crate::providers::openai::ChatCompletions;

    #[test]
    fn each_reads_its_base_url_and_key_from_its_own_variables() {
        for d in COMPATIBLE {
            let upper = d.name.to_ascii_uppercase();
            let base_var = format!("{upper}_BASE_URL");
            let key_var = format!("{upper}_API_KEY");
            let llm = ProviderBuilder::<ChatCompletions>::from_lookup(d, |name| {
                (name == base_var)
                    .then(|| "http://10.1.2.3:9/v1".to_owned())
                    .or_else(|| (name == key_var).then(|| "k-0123456789".to_owned()))
            })
            .build()
            .unwrap();
            assert_eq!(llm.base_url(), "http://10.1.2.3:9/v1", "{}", d.name);
            assert_eq!(llm.name(), d.name);
            // Without its key, a hosted cloud names the variable.
            if d.key_required {
                let err = ProviderBuilder::<ChatCompletions>::from_lookup(d, |_| None)
                    .build()
                    .unwrap_err();
                assert!(err.to_string().contains(&key_var), "{err}");
            }
        }
    }
}
