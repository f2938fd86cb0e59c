//! [`Reasoning`]: how much a model that reasons should reason, and how each provider
//! is told.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, ErrorKind};

/// How much a model that can reason should reason before it answers.
///
/// Providers take different controls, so each takes some of these, in its own terms. A
/// request with one that its provider cannot express fails with `invalid_request`
/// before anything is sent, saying what that provider takes: a setting is never
/// dropped in silence.
///
/// | provider | `Off` | `On` | `Effort(level)` | `Budget(tokens)` |
/// | --- | --- | --- | --- | --- |
/// | `openai` | – | – | `reasoning_effort` | – |
/// | `openai-responses` | – | – | `reasoning.effort`, and `reasoning.summary: "auto"` so that the summary streams | – |
/// | `anthropic` | `thinking: {"type": "disabled"}` | – | – | `thinking: {"type": "enabled", "budget_tokens": …}` |
/// | `ollama` | `think: false` | `think: true` | `think: "low"`, `"medium"` or `"high"` | – |
/// | `gemini` | `thinkingConfig.thinkingBudget: 0` | `thinkingBudget: -1` (the model decides) | `thinkingLevel: "LOW"`, `"MEDIUM"` or `"HIGH"` (Gemini 3) | `thinkingBudget: …` |
/// | `mock` | ignored | ignored | ignored | ignored |
///
/// Gemini's `On`, `Effort` and `Budget` also set `includeThoughts: true`, so that its
/// thought summaries stream.
///
/// Whether a model reasons at all is the model's: a model that cannot is either
/// refused by the server (its words are kept in the error) or answers as it would
/// have. What the model reasons streams as [`Chunk::Reasoning`](crate::Chunk::Reasoning),
/// and the tokens it cost are in [`Usage::reasoning_tokens_out`](crate::Usage) where the
/// provider reports them.
///
/// ```
/// use theory_llm::{ChatRequest, Reasoning};
/// use theory_llm::request::ReasoningEffort;
///
/// // OpenAI's o-series and GPT-5, the Responses API, Ollama's gpt-oss:
/// let effort = ChatRequest::new("Is 1,000,003 prime?").reasoning(Reasoning::Effort(ReasoningEffort::High));
/// // Anthropic's extended thinking (at least 1,024 tokens, fewer than max_tokens):
/// let budget = ChatRequest::new("Is 1,000,003 prime?")
///     .max_tokens(8_000)
///     .reasoning(Reasoning::Budget(4_000));
/// // Ollama's thinking models (qwen3, deepseek-r1), which also turn it off:
/// let quick = ChatRequest::new("Say hi").reasoning(Reasoning::Off);
/// assert_eq!(quick.reasoning, Some(Reasoning::Off));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reasoning {
    /// No reasoning, for models that reason unless told not to.
    Off,
    /// Reasoning, as much as the model decides.
    On,
    /// Reasoning at an effort level.
    Effort(ReasoningEffort),
    /// Reasoning within a budget of this many tokens.
    Budget(u32),
}

/// An effort level for [`Reasoning::Effort`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReasoningEffort {
    /// Quicker answers, fewer reasoning tokens.
    Low,
    /// The usual default of the models that take a level.
    Medium,
    /// More reasoning tokens, for harder questions.
    High,
}

impl ReasoningEffort {
    /// The level as the APIs spell it: `"low"`, `"medium"` or `"high"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningEffort::Low => "low",
            ReasoningEffort::Medium => "medium",
            ReasoningEffort::High => "high",
        }
    }
}

impl fmt::Display for Reasoning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reasoning::Off => f.write_str("Reasoning::Off"),
            Reasoning::On => f.write_str("Reasoning::On"),
            Reasoning::Effort(level) => write!(f, "Reasoning::Effort({level:?})"),
            Reasoning::Budget(tokens) => write!(f, "Reasoning::Budget({tokens})"),
        }
    }
}

impl Reasoning {
    /// The effort level of `reasoning`, for a provider that takes nothing else (sent as
    /// `field`); `None` when none is set.
    pub(crate) fn effort_only(
        reasoning: Option<Reasoning>,
        provider: &str,
        field: &str,
    ) -> crate::error::Result<Option<ReasoningEffort>> {
        match reasoning {
            None => Ok(None),
            Some(Reasoning::Effort(level)) => Ok(Some(level)),
            Some(other) => Err(other.unsupported(
                provider,
                &format!("Reasoning::Effort(level), sent as {field}"),
            )),
        }
    }

    /// The error for a provider that cannot express this setting: `takes` says what it
    /// can.
    pub(crate) fn unsupported(self, provider: &str, takes: &str) -> Error {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("cannot send {self} to {provider}: it takes {takes}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_errors_name_the_setting_and_what_the_provider_takes() {
        let err = Reasoning::Budget(2048).unsupported("openai", "Reasoning::Effort(level)");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert_eq!(
            err.to_string(),
            "cannot send Reasoning::Budget(2048) to openai: it takes Reasoning::Effort(level)"
        );
        let err = Reasoning::Effort(ReasoningEffort::Low).unsupported("anthropic", "a budget");
        assert!(err.to_string().contains("Reasoning::Effort(Low)"), "{err}");
    }

    #[test]
    fn levels_are_spelled_as_the_apis_spell_them() {
        let levels = [
            ReasoningEffort::Low,
            ReasoningEffort::Medium,
            ReasoningEffort::High,
        ];
        let spelled: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
        assert_eq!(spelled, ["low", "medium", "high"]);
        for level in levels {
            assert_eq!(
                serde_json::to_value(level).unwrap(),
                serde_json::Value::from(level.as_str())
            );
        }
    }
}
