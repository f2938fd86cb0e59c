//! [`Run`]: a request, a provider and a tool box, and the bounds of the loop: steps,
//! cost, and the request's deadline; an optional [`Approval`] of each call.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;

use crate::chunk::ToolCall;
use crate::provider::LlmStreamProvider;
use crate::request::ChatRequest;

use super::toolbox::ToolBox;

/// Whether a tool call may run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Approval {
    /// It runs.
    Allow,
    /// It does not; the model is told it was refused, with this reason (may be empty).
    Refuse(String),
}

/// The approval callback, shared by the calls of a run.
pub(crate) type Approver = Arc<dyn Fn(&ToolCall) -> BoxFuture<'static, Approval> + Send + Sync>;

/// A tool loop: the model is asked, the tools it calls are run (the calls of one step
/// together), their results are sent back, and it is asked again, until it answers
/// without calling a tool, or a bound is reached:
///
/// - `max_steps` model calls (default 8): the run finishes with
///   [`FinishReason::MaxSteps`](crate::stream::FinishReason::MaxSteps), the last
///   step's calls not run, since no model call would read their results;
/// - a cost ceiling in micro-USD: once the steps so far cost that much, the run
///   finishes with [`FinishReason::MaxCost`](crate::stream::FinishReason::MaxCost)
///   instead of running more tools (a step whose price is unknown counts 0);
/// - the request's deadline ([`Timeouts::deadline`](crate::request::Timeouts)), for
///   the whole run: each model call gets what is left of it, and the tools too; past
///   it, the run fails with a `timeout` error.
///
/// [`stream`](Run::stream) gives the run live (text as it arrives, step boundaries,
/// tool results); [`reply`](Run::reply) collects it. The request's `tool_choice`
/// applies to the first step only (a required call asked again would loop).
///
/// ```
/// use serde::Deserialize;
/// use serde_json::json;
/// use theory_llm::agent::{Run, ToolBox};
/// use theory_llm::{ChatRequest, FinishReason, MockProvider, Tool};
///
/// #[derive(Deserialize)]
/// struct City { city: String }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let weather = Tool::new("get_weather", "The weather in a city",
///     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}));
/// let tools = ToolBox::new().tool(weather, |args: City| async move {
///     Ok::<_, String>(format!("18 °C in {}", args.city))
/// });
/// // The mock calls the tool, then answers with its result.
/// let llm = MockProvider::builder().tool_call("get_weather", json!({"city": "Paris"})).build();
/// let run = Run::new(&llm, &tools, ChatRequest::new("Weather in Paris?")).reply().await?;
/// assert_eq!(run.steps.len(), 2);
/// assert_eq!(run.steps[0].tool_results[0].content, "18 °C in Paris");
/// assert!(run.reply.text.contains("18 °C in Paris"));
/// assert_eq!(run.reply.finish_reason, FinishReason::Stop);
/// # Ok(())
/// # }
/// ```
pub struct Run<'a> {
    pub(crate) llm: &'a dyn LlmStreamProvider,
    pub(crate) tools: &'a ToolBox,
    pub(crate) request: ChatRequest,
    pub(crate) max_steps: usize,
    pub(crate) max_cost_usd_micros: Option<u64>,
    pub(crate) approver: Option<Approver>,
}

impl fmt::Debug for Run<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("provider", &self.llm.name())
            .field("tools", self.tools)
            .field("max_steps", &self.max_steps)
            .field("max_cost_usd_micros", &self.max_cost_usd_micros)
            .field("approval", &self.approver.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a> Run<'a> {
    /// The most model calls a run makes unless told: [`max_steps`](Self::max_steps).
    pub const DEFAULT_MAX_STEPS: usize = 8;

    /// A run of `request` on `llm` with `tools` (added to the request's own).
    pub fn new(llm: &'a dyn LlmStreamProvider, tools: &'a ToolBox, request: ChatRequest) -> Self {
        Run {
            llm,
            tools,
            request,
            max_steps: Run::DEFAULT_MAX_STEPS,
            max_cost_usd_micros: None,
            approver: None,
        }
    }

    /// The most model calls (at least 1; default 8).
    #[must_use]
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = steps.max(1);
        self
    }

    /// The most the run may cost, in micro-USD (1,000,000 = $1): once reached, no more
    /// tools run and the run finishes with `max_cost`.
    #[must_use]
    pub fn max_cost_usd_micros(mut self, ceiling: u64) -> Self {
        self.max_cost_usd_micros = Some(ceiling);
        self
    }

    /// Asks `approve` before each call runs (after its arguments are checked); a
    /// refused call is not run and the model is told so.
    ///
    /// ```
    /// use theory_llm::agent::{Approval, Run, ToolBox};
    /// use theory_llm::MockProvider;
    ///
    /// let (llm, tools) = (MockProvider::new(), ToolBox::new());
    /// let run = Run::new(&llm, &tools, "Hi".into()).approve(|call| {
    ///     let verdict = if call.name == "delete_everything" {
    ///         Approval::Refuse("not without a human".into())
    ///     } else {
    ///         Approval::Allow
    ///     };
    ///     async move { verdict }
    /// });
    /// # drop(run);
    /// ```
    #[must_use]
    pub fn approve<F, Fut>(mut self, approve: F) -> Self
    where
        F: Fn(&ToolCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Approval> + Send + 'static,
    {
        self.approver = Some(Arc::new(move |call: &ToolCall| approve(call).boxed()));
        self
    }
}
