//! What a run gives back: each [`Step`] (one model call, the calls it made and their
//! results) and the [`RunReply`], with usage and cost summed over the steps.

use serde::Serialize;

use crate::chunk::{FinishReason, ToolCall};
use crate::pricing::Pricing;
use crate::reply::{ChatReply, Usage};

use super::output::ToolResult;

/// One step of a run: a model call, the tools it called, and their results.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Step {
    /// The model's text in this step.
    pub text: String,
    /// The calls it made, complete, in order (ids kept).
    pub tool_calls: Vec<ToolCall>,
    /// Their results, in the order of the calls (empty when the calls were not run:
    /// the last step, or the cost ceiling reached).
    pub tool_results: Vec<ToolResult>,
    /// Why the model call ended (`tool_calls` when it called tools).
    pub finish_reason: FinishReason,
    /// The model call's tokens, time and cost.
    pub usage: Usage,
    /// The model's reasoning in this step, if it sent any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
}

impl Step {
    pub(crate) fn of(reply: &ChatReply) -> Step {
        Step {
            text: reply.text.clone(),
            tool_calls: reply.tool_calls.clone(),
            tool_results: Vec::new(),
            finish_reason: reply.finish_reason.clone(),
            usage: reply.usage,
            reasoning: reply.reasoning.clone(),
        }
    }
}

/// A whole run: the last model reply, standing for the run, and every step.
///
/// `reply` is the last model call's reply (its text is the run's answer) with the
/// run's `finish_reason` (`stop` when the model answered, else
/// [`MaxSteps`](FinishReason::MaxSteps) or [`MaxCost`](FinishReason::MaxCost), or the
/// model's own, `length` say) and its `usage` summed over the steps: tokens and cost
/// added, latency the whole run's, time to first text the first step's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RunReply {
    /// The last reply, with the run's finish reason and summed usage.
    #[serde(flatten)]
    pub reply: ChatReply,
    /// Every step, in order.
    pub steps: Vec<Step>,
}

/// The usage of `steps` together; `latency_ms` is the whole run's.
pub(crate) fn summed_usage(steps: &[Step], latency_ms: f64) -> Usage {
    let add_opt = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    };
    let mut usage = Usage {
        tokens_in: 0,
        tokens_out: 0,
        cached_tokens_in: None,
        cache_write_tokens_in: None,
        reasoning_tokens_out: None,
        latency_ms,
        waited_ms: 0.0,
        usd_micros: 0,
        ttft_ms: None,
        tokens_estimated: false,
        cost_basis: Pricing::Free,
    };
    let mut offset_ms = 0.0;
    for step in steps {
        let u = &step.usage;
        usage.tokens_in = usage.tokens_in.saturating_add(u.tokens_in);
        usage.tokens_out = usage.tokens_out.saturating_add(u.tokens_out);
        usage.cached_tokens_in = add_opt(usage.cached_tokens_in, u.cached_tokens_in);
        usage.cache_write_tokens_in = add_opt(usage.cache_write_tokens_in, u.cache_write_tokens_in);
        usage.reasoning_tokens_out = add_opt(usage.reasoning_tokens_out, u.reasoning_tokens_out);
        usage.usd_micros = usage.usd_micros.saturating_add(u.usd_micros);
        usage.waited_ms += u.waited_ms;
        usage.tokens_estimated |= u.tokens_estimated;
        // The first text of the run, timed from the run's start (the steps before it
        // had none, so their latencies come first).
        if usage.ttft_ms.is_none() {
            usage.ttft_ms = u.ttft_ms.map(|t| t + offset_ms);
        }
        offset_ms += u.latency_ms;
        // An unknown price anywhere makes the total's basis unknown; else the last
        // metered basis (a fallback chain may change it between steps).
        usage.cost_basis = match (usage.cost_basis, u.cost_basis) {
            (Pricing::Unknown, _) | (_, Pricing::Unknown) => Pricing::Unknown,
            (basis, Pricing::Free) => basis,
            (_, basis) => basis,
        };
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Price;

    fn step(tokens: (u64, u64), usd: u64, ttft: Option<f64>, latency: f64, basis: Pricing) -> Step {
        Step {
            text: String::new(),
            tool_calls: Vec::new(),
            tool_results: Vec::new(),
            finish_reason: FinishReason::Stop,
            usage: Usage {
                tokens_in: tokens.0,
                tokens_out: tokens.1,
                cached_tokens_in: Some(1),
                cache_write_tokens_in: None,
                reasoning_tokens_out: None,
                latency_ms: latency,
                // A budget's wait: a tenth of the step, summed over the run.
                waited_ms: latency / 10.0,
                usd_micros: usd,
                ttft_ms: ttft,
                tokens_estimated: false,
                cost_basis: basis,
            },
            reasoning: String::new(),
        }
    }

    #[test]
    fn usage_is_summed_and_saturates() {
        let metered = Pricing::Metered(Price::from_nanos_per_token(1000, 1000));
        let steps = [
            step((10, 2), 5, None, 40.0, metered),
            step((u64::MAX, 3), u64::MAX, Some(7.0), 60.0, metered),
        ];
        let u = summed_usage(&steps, 123.0);
        assert_eq!((u.tokens_in, u.tokens_out), (u64::MAX, 5));
        assert_eq!(u.usd_micros, u64::MAX);
        assert_eq!(u.cached_tokens_in, Some(2));
        assert_eq!(u.cache_write_tokens_in, None);
        assert_eq!(u.ttft_ms, Some(47.0));
        assert_eq!(u.latency_ms, 123.0);
        assert_eq!(u.waited_ms, 10.0);
        assert_eq!(u.cost_basis, metered);
        let mixed = [
            steps[0].clone(),
            step((1, 1), 0, None, 1.0, Pricing::Unknown),
        ];
        assert_eq!(summed_usage(&mixed, 1.0).cost_basis, Pricing::Unknown);
    }
}
