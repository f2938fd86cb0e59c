//! [`ToolBox`]: the tools a run offers, Rust async functions and [`ToolSource`]s (an MCP
//! server's tools), and the per-call limits.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::Result;
use crate::request::Tool;

use super::output::ToolOutput;

/// Tools that are not Rust functions of the app: an MCP server's
/// ([`McpClient`](crate::mcp::McpClient), feature `mcp`), or any of the app's own.
pub trait ToolSource: fmt::Debug + Send + Sync {
    /// Its name, for messages ("the MCP server 'time'").
    fn name(&self) -> &str;

    /// Its tools as they stand; a run asks before each model call, so a source whose
    /// list changes (an MCP server's `tools/list_changed`) offers the new list.
    fn tools(&self) -> BoxFuture<'_, Result<Vec<Tool>>>;

    /// Calls the tool `name` with `arguments` (already checked against the tool's
    /// schema). `Err` is a failure of the source itself (a server that exited or
    /// stopped answering): the model gets it as an error result.
    fn call(&self, name: &str, arguments: Value) -> BoxFuture<'static, Result<ToolOutput>>;

    /// Strings this source knows to be secret (a bearer token): hidden from every
    /// result the run sends to the model. None by default.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A Rust function's handler: arguments in, output or error message out.
pub(crate) type Handler =
    Arc<dyn Fn(Value) -> BoxFuture<'static, std::result::Result<ToolOutput, String>> + Send + Sync>;

/// A Rust function registered as a tool.
#[derive(Clone)]
pub(crate) struct FunctionTool {
    pub(crate) tool: Tool,
    pub(crate) handler: Handler,
}

/// The tools a [`Run`](super::Run) offers the model: Rust async functions, each with a
/// name, a description and a JSON Schema of its arguments, and [`ToolSource`]s such as
/// MCP servers. Arguments are checked against the schema before a function runs; a
/// call that fails in any way (an error, a panic, the time limit, arguments that do
/// not match, an unknown tool) becomes an error result for the model.
///
/// ```
/// use serde::Deserialize;
/// use serde_json::json;
/// use theory_llm::agent::ToolBox;
/// use theory_llm::Tool;
///
/// #[derive(Deserialize)]
/// struct City { city: String }
///
/// let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
/// let tools = ToolBox::new().tool(
///     Tool::new("get_weather", "The weather in a city", schema),
///     |args: City| async move { Ok::<_, String>(format!("18 °C in {}", args.city)) },
/// );
/// assert_eq!(tools.function_names(), ["get_weather"]);
/// ```
#[derive(Clone)]
pub struct ToolBox {
    pub(crate) functions: Vec<FunctionTool>,
    pub(crate) sources: Vec<Arc<dyn ToolSource>>,
    pub(crate) call_timeout: Duration,
    pub(crate) max_result_bytes: usize,
    pub(crate) secrets: Vec<String>,
}

impl fmt::Debug for ToolBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolBox")
            .field("functions", &self.function_names())
            .field("sources", &self.sources)
            .field("call_timeout", &self.call_timeout)
            .field("max_result_bytes", &self.max_result_bytes)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Default for ToolBox {
    fn default() -> ToolBox {
        ToolBox::new()
    }
}

impl ToolBox {
    /// The time limit of one call, unless set: [`call_timeout`](Self::call_timeout).
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
    /// The longest result sent to the model, unless set:
    /// [`max_result_bytes`](Self::max_result_bytes).
    pub const DEFAULT_MAX_RESULT_BYTES: usize = 256 * 1024;

    /// An empty tool box.
    pub fn new() -> ToolBox {
        ToolBox {
            functions: Vec::new(),
            sources: Vec::new(),
            call_timeout: ToolBox::DEFAULT_CALL_TIMEOUT,
            max_result_bytes: ToolBox::DEFAULT_MAX_RESULT_BYTES,
            secrets: Vec::new(),
        }
    }

    /// Adds the async function `run` as the tool `tool` (its name, description and
    /// JSON Schema, given by hand). Its arguments are read into `A` once they match
    /// the schema; it returns a result (text, or JSON) or an error message.
    #[must_use]
    pub fn tool<A, F, Fut, T, E>(mut self, tool: Tool, run: F) -> ToolBox
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        T: Into<ToolOutput>,
        E: fmt::Display,
    {
        let run = Arc::new(run);
        let handler: Handler = Arc::new(move |arguments: Value| {
            let run = run.clone();
            async move {
                let args = A::deserialize(arguments).map_err(|e| {
                    format!("the arguments do not fit the function's argument type: {e}")
                })?;
                run(args).await.map(Into::into).map_err(|e| e.to_string())
            }
            .boxed()
        });
        self.functions.push(FunctionTool { tool, handler });
        self
    }

    /// Adds the async function `run` as a tool named `name`, the JSON Schema of its
    /// arguments derived from `A` (feature `schemars`).
    ///
    /// ```
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    /// use theory_llm::agent::ToolBox;
    ///
    /// /// A city.
    /// #[derive(Deserialize, JsonSchema)]
    /// struct City { city: String }
    ///
    /// let tools = ToolBox::new().function("get_weather", "The weather in a city",
    ///     |args: City| async move { Ok::<_, String>(format!("18 °C in {}", args.city)) });
    /// assert_eq!(tools.function_names(), ["get_weather"]);
    /// ```
    #[cfg(feature = "schemars")]
    #[must_use]
    pub fn function<A, F, Fut, T, E>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        run: F,
    ) -> ToolBox
    where
        A: DeserializeOwned + schemars::JsonSchema + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<T, E>> + Send + 'static,
        T: Into<ToolOutput>,
        E: fmt::Display,
    {
        let mut schema = schemars::schema_for!(A).to_value();
        if let Value::Object(map) = &mut schema {
            // Metadata models need not read.
            map.remove("$schema");
            map.remove("title");
        }
        self.tool(Tool::new(name, description, schema), run)
    }

    /// Adds the tools of `source` (an MCP server's, say). Where two tools share a name,
    /// the first added is offered.
    #[must_use]
    pub fn source(mut self, source: impl ToolSource + 'static) -> ToolBox {
        self.sources.push(Arc::new(source));
        self
    }

    /// Adds a shared source.
    #[must_use]
    pub fn shared_source(mut self, source: Arc<dyn ToolSource>) -> ToolBox {
        self.sources.push(source);
        self
    }

    /// The longest one call may take (default 60 s); past it, the call is dropped and
    /// the model is told it timed out.
    #[must_use]
    pub fn call_timeout(mut self, limit: Duration) -> ToolBox {
        self.call_timeout = limit.min(crate::duration::UNREASONABLE_WAIT);
        self
    }

    /// The longest result sent to the model, in bytes (default 256 KiB); a longer one
    /// is cut, saying so.
    #[must_use]
    pub fn max_result_bytes(mut self, limit: usize) -> ToolBox {
        self.max_result_bytes = limit;
        self
    }

    /// A secret the tools may know (a token): hidden from every result and error
    /// message sent to the model. Sources add their own.
    #[must_use]
    pub fn secret(mut self, secret: impl Into<String>) -> ToolBox {
        self.secrets.push(secret.into());
        self
    }

    /// The names of the Rust functions, in the order added.
    pub fn function_names(&self) -> Vec<&str> {
        self.functions
            .iter()
            .map(|f| f.tool.name.as_str())
            .collect()
    }

    /// The sources, in the order added.
    pub fn sources(&self) -> &[Arc<dyn ToolSource>] {
        &self.sources
    }
}
