//! [`McpClient`]: a connected MCP server: its tools (listed page by page, listed again
//! after `notifications/tools/list_changed`), and calls under a time limit. A tool box
//! source ([`ToolSource`]).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation,
    PaginatedRequestParams, ProtocolVersion,
};
use rmcp::service::{NotificationContext, Peer, RunningService};
use rmcp::{ClientHandler, RoleClient};
use serde_json::Value;

use crate::agent::{ToolOutput, ToolSource};
use crate::error::{Error, ErrorKind, Result};
use crate::redact::Redactor;
use crate::request::Tool;

use super::content::tool_output;

/// The most pages of `tools/list` read, and the most tools kept: a server that pages
/// forever is an error, not unbounded memory.
const MAX_PAGES: usize = 64;
const MAX_TOOLS: usize = 4096;

/// What the client tells the server, and what it hears from it: the tool list changed.
#[derive(Debug, Clone)]
pub(crate) struct Listener {
    pub(crate) tools_changed: Arc<AtomicBool>,
}

impl ClientHandler for Listener {
    fn on_tool_list_changed(
        &self,
        _context: NotificationContext<RoleClient>,
    ) -> impl std::future::Future<Output = ()> + Send + '_ {
        self.tools_changed.store(true, Ordering::SeqCst);
        std::future::ready(())
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("theory-llm", env!("CARGO_PKG_VERSION")),
        )
        // The newest revision with the `initialize` handshake.
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }
}

/// Ends a task when the client goes (the reader of a server's standard error).
#[derive(Debug)]
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A connected MCP server. Dropping it closes the connection; a server it started
/// (stdio) is killed. Made by [`McpServer::connect`](super::McpServer::connect).
pub struct McpClient {
    pub(crate) name: String,
    pub(crate) service: RunningService<RoleClient, Listener>,
    pub(crate) tools: Mutex<Vec<Tool>>,
    pub(crate) tools_changed: Arc<AtomicBool>,
    pub(crate) call_timeout: Duration,
    pub(crate) secrets: Vec<String>,
    pub(crate) redactor: Redactor,
    /// The reader of the server's standard error, for messages about its failures.
    pub(crate) _stderr: Option<AbortOnDrop>,
}

impl fmt::Debug for McpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpClient")
            .field("name", &self.name)
            .field("tools", &self.tool_names())
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// `error` and its causes, `: `-separated (a transport error's own text is often
/// "error sending request"; the cause says why).
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let said = next.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = next.source();
    }
    text
}

/// A failure of the server `name`, which the message names.
pub(crate) fn server_error(name: &str, what: impl fmt::Display) -> Error {
    Error::new(
        ErrorKind::ToolServer,
        format!("the MCP server '{name}' {what}"),
    )
}

impl McpClient {
    /// The server's name (given, or its command's or URL's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of its tools, as last listed.
    pub fn tool_names(&self) -> Vec<String> {
        self.cached().iter().map(|t| t.name.clone()).collect()
    }

    /// Its tools: as last listed, or listed again if the server said they changed.
    ///
    /// # Errors
    /// `tool_server` when they must be listed again and the server fails to.
    pub async fn tools(&self) -> Result<Vec<Tool>> {
        if self.tools_changed.swap(false, Ordering::SeqCst) {
            match self.list().await {
                Ok(tools) => *self.tools.lock().unwrap_or_else(PoisonError::into_inner) = tools,
                Err(e) => {
                    self.tools_changed.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
        Ok(self.cached())
    }

    fn cached(&self) -> Vec<Tool> {
        self.tools
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Lists the tools, page by page, within the call time limit.
    pub(crate) async fn list(&self) -> Result<Vec<Tool>> {
        let peer = self.service.peer().clone();
        let listing = async {
            let mut tools = Vec::new();
            let mut cursor: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let params = PaginatedRequestParams::default().with_cursor(cursor.take());
                let page = peer.list_tools(Some(params)).await.map_err(|e| {
                    server_error(&self.name, format!("failed to list its tools: {e}"))
                })?;
                tools.extend(page.tools.into_iter().map(|t| {
                    let description = t.description.as_deref().unwrap_or("").to_owned();
                    let schema = Value::Object((*t.input_schema).clone());
                    Tool::new(t.name.into_owned(), description, schema)
                }));
                if tools.len() > MAX_TOOLS {
                    return Err(server_error(
                        &self.name,
                        format!("lists more than {MAX_TOOLS} tools"),
                    ));
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => return Ok(tools),
                }
            }
            Err(server_error(
                &self.name,
                format!("lists its tools in more than {MAX_PAGES} pages"),
            ))
        };
        tokio::time::timeout(self.call_timeout, listing)
            .await
            .unwrap_or_else(|_| Err(self.timed_out("tools/list")))
    }

    fn timed_out(&self, what: &str) -> Error {
        server_error(
            &self.name,
            format!(
                "did not answer {what} within {}",
                crate::duration::fmt_duration(self.call_timeout)
            ),
        )
    }

    /// Calls the tool `name` with `arguments` (a JSON object, or none).
    ///
    /// # Errors
    /// `tool_server` when the server fails to answer (it exited, broke the protocol, or
    /// passed the call time limit). A tool that fails answers: its output is an error.
    pub async fn call(&self, name: &str, arguments: Value) -> Result<ToolOutput> {
        call(self.caller(), name.to_owned(), arguments).await
    }

    fn caller(&self) -> Caller {
        Caller {
            peer: self.service.peer().clone(),
            server: self.name.clone(),
            timeout: self.call_timeout,
            redactor: self.redactor.clone(),
        }
    }
}

/// What a call needs of the client, owned: a call may outlive the borrow that made it.
struct Caller {
    peer: Peer<RoleClient>,
    server: String,
    timeout: Duration,
    redactor: Redactor,
}

async fn call(caller: Caller, name: String, arguments: Value) -> Result<ToolOutput> {
    let mut params = CallToolRequestParams::new(name.clone());
    match arguments {
        Value::Object(map) => params = params.with_arguments(map),
        Value::Null => {}
        other => {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                format!("MCP tools take an object of arguments, not {other}"),
            ))
        }
    }
    let sent = caller.peer.call_tool(params);
    let result = match tokio::time::timeout(caller.timeout, sent).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            let why = caller.redactor.text(&with_causes(&e));
            return Err(server_error(
                &caller.server,
                format!("failed the call to {name}: {why}"),
            ));
        }
        Err(_) => {
            return Err(server_error(
                &caller.server,
                format!(
                    "did not answer the call to {name} within {}",
                    crate::duration::fmt_duration(caller.timeout)
                ),
            ))
        }
    };
    let json = serde_json::to_value(&result).unwrap_or_default();
    Ok(tool_output(&json))
}

impl ToolSource for McpClient {
    fn name(&self) -> &str {
        &self.name
    }

    /// A server that fails to list them again offers those it last listed: calling
    /// them tells the model what is wrong.
    fn tools(&self) -> BoxFuture<'_, Result<Vec<Tool>>> {
        async move {
            Ok(McpClient::tools(self)
                .await
                .unwrap_or_else(|_| self.cached()))
        }
        .boxed()
    }

    fn call(&self, name: &str, arguments: Value) -> BoxFuture<'static, Result<ToolOutput>> {
        call(self.caller(), name.to_owned(), arguments).boxed()
    }

    fn secrets(&self) -> Vec<String> {
        self.secrets.clone()
    }
}
