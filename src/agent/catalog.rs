//! The tools of one step: what the model is offered (the tool box's functions and its
//! sources' tools as they stand), and how one call runs: looked up, checked against its
//! schema, approved, run under the time limit with panics caught, its result bounded
//! and redacted. Every failure is a result for the model, never an error of the run.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::Value;

use crate::chunk::ToolCall;
use crate::redact::Redactor;
use crate::request::Tool;

use super::output::{bounded, ToolOutput, ToolResult};
use super::run::{Approval, Approver};
use super::toolbox::{Handler, ToolBox, ToolSource};

/// Who answers a tool.
#[derive(Clone)]
enum Target {
    Function(Handler),
    Source(Arc<dyn ToolSource>),
}

/// One tool on offer.
struct Entry {
    tool: Tool,
    /// Its schema compiled, or why it does not compile.
    validator: Result<Arc<jsonschema::Validator>, String>,
    target: Target,
}

/// The tools of one step.
pub(crate) struct Catalog {
    entries: Vec<Entry>,
    redactor: Redactor,
    call_timeout: Duration,
    max_result_bytes: usize,
}

/// At most this many schema mismatches are told to the model.
const MAX_MISMATCHES: usize = 5;

impl Catalog {
    /// The tools `toolbox` offers now: its functions, then each source's tools (a
    /// source that cannot list them offers none this step). A name offered twice is
    /// the first one's.
    pub(crate) async fn gather(toolbox: &ToolBox) -> Catalog {
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        let mut secrets = toolbox.secrets.clone();
        for function in &toolbox.functions {
            if seen.insert(function.tool.name.clone()) {
                entries.push(Entry::new(
                    function.tool.clone(),
                    Target::Function(function.handler.clone()),
                ));
            }
        }
        for source in &toolbox.sources {
            secrets.extend(source.secrets());
            let Ok(tools) = source.tools().await else {
                continue;
            };
            for tool in tools {
                if seen.insert(tool.name.clone()) {
                    entries.push(Entry::new(tool, Target::Source(source.clone())));
                }
            }
        }
        Catalog {
            entries,
            redactor: Redactor::new(secrets),
            call_timeout: toolbox.call_timeout,
            max_result_bytes: toolbox.max_result_bytes,
        }
    }

    /// The tools, for the request.
    pub(crate) fn tools(&self) -> impl Iterator<Item = &Tool> {
        self.entries.iter().map(|e| &e.tool)
    }

    /// Runs `call`: the future owns all it needs, so that the calls of a step run
    /// together and dropping it stops the call.
    pub(crate) fn call(
        &self,
        call: &ToolCall,
        approver: Option<&Approver>,
    ) -> BoxFuture<'static, ToolResult> {
        let (id, name) = (call.id.clone(), call.name.clone());
        let (redactor, limit) = (self.redactor.clone(), self.max_result_bytes);
        let finish = move |output: ToolOutput| {
            ToolResult::new(&id, &name, bounded(output, limit, &redactor))
        };
        let Some(entry) = self.entries.iter().find(|e| e.tool.name == call.name) else {
            let known: Vec<&str> = self.entries.iter().map(|e| e.tool.name.as_str()).collect();
            let output = ToolOutput::error(format!(
                "there is no tool named '{}'; the tools are: {}",
                call.name,
                known.join(", ")
            ));
            return futures::future::ready(finish(output)).boxed();
        };
        if let Err(mismatch) = entry.check(&call.arguments) {
            return futures::future::ready(finish(ToolOutput::error(mismatch))).boxed();
        }
        let (target, timeout) = (entry.target.clone(), self.call_timeout);
        let approver = approver.cloned();
        let call = call.clone();
        async move {
            if let Some(approver) = approver {
                if let Approval::Refuse(why) = approver(&call).await {
                    let why = if why.is_empty() {
                        String::new()
                    } else {
                        format!(": {why}")
                    };
                    return finish(ToolOutput::error(format!(
                        "the call was refused before it ran{why}"
                    )));
                }
            }
            finish(invoke(target, call, timeout).await)
        }
        .boxed()
    }
}

impl Entry {
    fn new(tool: Tool, target: Target) -> Entry {
        let validator = jsonschema::validator_for(&tool.parameters)
            .map(Arc::new)
            .map_err(|e| format!("the tool's own schema is not a valid JSON Schema: {e}"));
        Entry {
            tool,
            validator,
            target,
        }
    }

    /// Whether `arguments` match the tool's schema; if not, what does not.
    fn check(&self, arguments: &Value) -> Result<(), String> {
        let validator = self.validator.as_ref().map_err(Clone::clone)?;
        let mismatches: Vec<String> = validator
            .iter_errors(arguments)
            .take(MAX_MISMATCHES)
            .map(|e| {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                format!("at {at}: {e}")
            })
            .collect();
        if mismatches.is_empty() {
            return Ok(());
        }
        Err(format!(
            "the arguments do not match the tool's schema, so it did not run: {}",
            mismatches.join("; ")
        ))
    }
}

/// Runs the tool under `timeout`, a panic caught: whatever happens, an output.
async fn invoke(target: Target, call: ToolCall, timeout: Duration) -> ToolOutput {
    // Made inside the future, so that a tool that panics before its first await is
    // caught too.
    let work = async move {
        match target {
            Target::Function(handler) => handler(call.arguments).await,
            Target::Source(source) => source
                .call(&call.name, call.arguments)
                .await
                .map_err(|e| e.to_string()),
        }
    };
    match tokio::time::timeout(timeout, AssertUnwindSafe(work).catch_unwind()).await {
        Ok(Ok(Ok(output))) => output,
        Ok(Ok(Err(message))) => ToolOutput::error(message),
        Ok(Err(panic)) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            ToolOutput::error(format!("the tool failed (it panicked: {why})"))
        }
        Err(_) => ToolOutput::error(format!(
            "the tool did not finish within its time limit of {}, and was stopped",
            crate::duration::fmt_duration(timeout)
        )),
    }
}
