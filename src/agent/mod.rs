//! Tool loops (feature `agent`): the model calls tools, the tools run, their results go
//! back, and the model is asked again until it answers, within hard bounds on steps,
//! cost and time.
//!
//! - [`ToolBox`]: the tools on offer, Rust async functions with JSON Schemas (derived
//!   with the `schemars` feature, or given by hand) and [`ToolSource`]s such as MCP
//!   servers ([`mcp`](crate::mcp), feature `mcp`); `toolbox.rs`.
//! - [`Run`]: a request, a provider and a tool box, with its bounds and an optional
//!   [`Approval`] of each call (`run.rs`); [`Run::stream`] gives [`RunEvent`]s live
//!   (`driver.rs`), [`Run::reply`] the [`RunReply`] with every [`Step`] (`steps.rs`).
//! - What one call does, whatever happens: checked against its schema, approved, run
//!   under a time limit with panics caught; a [`ToolResult`] for the model, errors
//!   included, bounded and redacted (`catalog.rs`, `output.rs`).
//!
//! ```
//! use futures::StreamExt;
//! use serde_json::json;
//! use theory_llm::agent::{Run, RunEvent, ToolBox};
//! use theory_llm::{Chunk, MockProvider, Tool};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> theory_llm::Result<()> {
//! let now = Tool::new("now", "The time", json!({"type": "object"}));
//! let tools = ToolBox::new().tool(now, |_: serde_json::Value| async { Ok::<_, String>("12:00") });
//! let llm = MockProvider::builder().tool_call("now", json!({})).build();
//! let mut run = Run::new(&llm, &tools, "What time is it?".into()).stream();
//! while let Some(event) = run.next().await {
//!     match event? {
//!         RunEvent::Chunk(Chunk::Text(text)) => print!("{text}"),
//!         RunEvent::ToolResult(result) => println!("[{} → {}]", result.name, result.content),
//!         RunEvent::Done(reply) => assert_eq!(reply.steps.len(), 2),
//!         _ => {}
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod catalog;
mod driver;
mod output;
mod run;
mod steps;
#[cfg(test)]
mod tests;
mod toolbox;

pub use driver::{RunEvent, RunStream};
pub use output::{ToolOutput, ToolResult};
pub use run::{Approval, Run};
pub use steps::{RunReply, Step};
pub use toolbox::{ToolBox, ToolSource};
