//! [`McpServer`]: where an MCP server is (a command to start, or a streamable-HTTP URL)
//! and its limits; [`McpServer::connect`] starts or reaches it, initializes it and
//! lists its tools, each failure a `tool_server` error naming it.

use std::collections::HashMap;
use std::fmt;
use std::process::Stdio;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::ServiceExt;
use tokio::io::AsyncReadExt;

use crate::error::{excerpt, Error, ErrorKind, Result};
use crate::redact::{redact_url, Redactor};

use super::client::{server_error, with_causes, AbortOnDrop, Listener, McpClient};

/// How much of a server's standard error is kept for messages (its last bytes).
const STDERR_TAIL_BYTES: usize = 2048;

/// An MCP server to connect to: a command started with stdio as the transport (its
/// arguments and environment given, no shell), or a streamable-HTTP endpoint (a URL
/// and headers, a bearer token say). Environment values, header values and the token
/// are secrets: never in `Debug`, errors, or what the model reads.
///
/// ```no_run
/// use theory_llm::mcp::McpServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> theory_llm::Result<()> {
/// let time = McpServer::stdio("uvx", ["mcp-server-time"]).connect().await?;
/// let docs = McpServer::http("https://mcp.example.com/mcp")
///     .bearer_token(std::env::var("DOCS_TOKEN").unwrap_or_default())
///     .named("docs")
///     .connect()
///     .await?;
/// println!("{:?} {:?}", time.tool_names(), docs.tool_names());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct McpServer {
    name: Option<String>,
    transport: Transport,
    call_timeout: Duration,
    start_timeout: Duration,
}

#[derive(Clone)]
enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
    },
    Http {
        url: String,
        headers: Vec<(String, String)>,
        bearer: Option<String>,
    },
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("McpServer");
        out.field("name", &self.name());
        match &self.transport {
            Transport::Stdio { command, args, env } => out
                .field("command", command)
                .field("args", args)
                .field("env", &env.iter().map(|(k, _)| k).collect::<Vec<_>>()),
            Transport::Http {
                url,
                headers,
                bearer,
            } => out
                .field("url", &redact_url(url))
                .field(
                    "headers",
                    &headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
                )
                .field("bearer_token", &bearer.as_ref().map(|_| "[REDACTED]")),
        };
        out.field("call_timeout", &self.call_timeout)
            .field("start_timeout", &self.start_timeout)
            .finish()
    }
}

impl McpServer {
    /// The time limit of a call (and of listing the tools), unless set.
    pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
    /// The time limit of starting and initializing, unless set.
    pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(30);

    fn new(transport: Transport) -> McpServer {
        McpServer {
            name: None,
            transport,
            call_timeout: McpServer::DEFAULT_CALL_TIMEOUT,
            start_timeout: McpServer::DEFAULT_START_TIMEOUT,
        }
    }

    /// A server started as `command` with `args` (no shell), speaking MCP on its
    /// standard input and output. It is killed when the client is dropped.
    pub fn stdio<S: Into<String>>(
        command: impl Into<String>,
        args: impl IntoIterator<Item = S>,
    ) -> McpServer {
        McpServer::new(Transport::Stdio {
            command: command.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
        })
    }

    /// A server at a streamable-HTTP endpoint (`http://` here; `https://` needs a TLS
    /// backend in `rmcp`'s reqwest).
    pub fn http(url: impl Into<String>) -> McpServer {
        McpServer::new(Transport::Http {
            url: url.into(),
            headers: Vec::new(),
            bearer: None,
        })
    }

    /// Names the server in messages (by default its command line, or its URL without
    /// the query).
    #[must_use]
    pub fn named(mut self, name: impl Into<String>) -> McpServer {
        self.name = Some(name.into());
        self
    }

    /// An environment variable for a stdio server (its value is a secret).
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> McpServer {
        if let Transport::Stdio { env, .. } = &mut self.transport {
            env.push((key.into(), value.into()));
        }
        self
    }

    /// A header sent to an HTTP server with every request (its value is a secret).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> McpServer {
        if let Transport::Http { headers, .. } = &mut self.transport {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// A bearer token for an HTTP server (`Authorization: Bearer …`).
    #[must_use]
    pub fn bearer_token(mut self, token: impl Into<String>) -> McpServer {
        if let Transport::Http { bearer, .. } = &mut self.transport {
            *bearer = Some(token.into());
        }
        self
    }

    /// The time limit of each call and listing (default 60 s).
    #[must_use]
    pub fn call_timeout(mut self, limit: Duration) -> McpServer {
        self.call_timeout = limit.min(crate::duration::UNREASONABLE_WAIT);
        self
    }

    /// The time limit of starting and initializing (default 30 s).
    #[must_use]
    pub fn start_timeout(mut self, limit: Duration) -> McpServer {
        self.start_timeout = limit.min(crate::duration::UNREASONABLE_WAIT);
        self
    }

    /// The name messages give it.
    pub fn name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match &self.transport {
            Transport::Stdio { command, args, .. } => {
                let line = std::iter::once(command).chain(args).cloned();
                excerpt(&line.collect::<Vec<_>>().join(" "), 80)
            }
            Transport::Http { url, .. } => {
                let url = url.split(['?', '#']).next().unwrap_or(url);
                redact_url(url)
            }
        }
    }

    /// The secrets it holds.
    fn secrets(&self) -> Vec<String> {
        match &self.transport {
            Transport::Stdio { env, .. } => env.iter().map(|(_, v)| v.clone()).collect(),
            Transport::Http {
                url,
                headers,
                bearer,
            } => {
                let password = url
                    .split_once("://")
                    .and_then(|(_, rest)| rest.split(['/', '?']).next())
                    .and_then(|authority| authority.rsplit_once('@'))
                    .and_then(|(userinfo, _)| userinfo.split_once(':'))
                    .map(|(_, password)| password.to_owned());
                let values = headers.iter().map(|(_, v)| v.clone());
                values.chain(bearer.clone()).chain(password).collect()
            }
        }
    }

    /// Starts (stdio) or reaches (HTTP) the server, initializes it with the newest
    /// protocol revision it shares, and lists its tools.
    ///
    /// # Errors
    /// `tool_server`, naming the server: it cannot be started, did not initialize
    /// within the start limit (with the end of its standard error, for a stdio
    /// server), or failed to list its tools. `invalid_request` for a header that
    /// cannot be sent.
    pub async fn connect(&self) -> Result<McpClient> {
        let name = self.name();
        let tools_changed = Arc::new(AtomicBool::new(false));
        let listener = Listener {
            tools_changed: tools_changed.clone(),
        };
        let secrets = self.secrets();
        let redactor = Redactor::new(&secrets);
        let (served, stderr) = match &self.transport {
            Transport::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args)
                    .envs(env.iter().map(|(k, v)| (k, v)))
                    .kill_on_drop(true);
                let (transport, stderr) = TokioChildProcess::builder(cmd)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| server_error(&name, format!("cannot be started: {e}")))?;
                let tail = Arc::new(Mutex::new(Vec::new()));
                let reader = stderr.map(|stderr| read_tail(stderr, tail.clone()));
                let served = tokio::time::timeout(self.start_timeout, listener.serve(transport));
                (served.await, Some((tail, reader)))
            }
            Transport::Http {
                url,
                headers,
                bearer,
            } => {
                let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(header_map(headers)?);
                if let Some(token) = bearer {
                    config = config.auth_header(token.clone());
                }
                let transport = StreamableHttpClientTransport::from_config(config);
                let served = tokio::time::timeout(self.start_timeout, listener.serve(transport));
                (served.await, None)
            }
        };
        let service = match served {
            Ok(Ok(service)) => service,
            failed => {
                let why = match failed {
                    Ok(Err(e)) => format!(
                        "could not be initialized: {}",
                        excerpt(&redactor.text(&with_causes(&e)), 500)
                    ),
                    _ => format!(
                        "did not answer initialize within {}",
                        crate::duration::fmt_duration(self.start_timeout)
                    ),
                };
                let said = match stderr {
                    Some((tail, Some(reader))) => said_on_stderr(tail, reader, &redactor).await,
                    _ => String::new(),
                };
                return Err(server_error(&name, format!("{why}{said}")));
            }
        };
        let client = McpClient {
            name,
            service,
            tools: Mutex::new(Vec::new()),
            tools_changed,
            call_timeout: self.call_timeout,
            secrets,
            redactor,
            _stderr: stderr.and_then(|(_, reader)| reader).map(AbortOnDrop),
        };
        let tools = client.list().await?;
        *client.tools.lock().unwrap_or_else(PoisonError::into_inner) = tools;
        Ok(client)
    }
}

/// The headers as the transport takes them.
fn header_map(headers: &[(String, String)]) -> Result<HashMap<HeaderName, HeaderValue>> {
    headers
        .iter()
        .map(|(name, value)| {
            let invalid = || {
                Error::new(
                    ErrorKind::InvalidRequest,
                    format!("the MCP header '{name}' cannot be sent: its name or value is not valid in HTTP"),
                )
            };
            let name_ok = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let mut value_ok = HeaderValue::from_str(value).map_err(|_| invalid())?;
            value_ok.set_sensitive(true);
            Ok((name_ok, value_ok))
        })
        .collect()
}

/// Keeps the last [`STDERR_TAIL_BYTES`] of a server's standard error, until it closes.
fn read_tail(
    mut stderr: tokio::process::ChildStderr,
    tail: Arc<Mutex<Vec<u8>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = stderr.read(&mut buf).await {
            let mut kept = tail.lock().unwrap_or_else(PoisonError::into_inner);
            kept.extend_from_slice(&buf[..n]);
            let over = kept.len().saturating_sub(STDERR_TAIL_BYTES);
            kept.drain(..over);
        }
    })
}

/// `; it wrote: …` with the end of what a failed server wrote to its standard error
/// (waiting a moment for it to exit and say it), or nothing.
async fn said_on_stderr(
    tail: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
    redactor: &Redactor,
) -> String {
    let reader = AbortOnDrop(reader);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while !reader.0.is_finished() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let kept = tail.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let text = String::from_utf8_lossy(&kept);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    // The last lines say most: keep the end.
    let chars: Vec<char> = text.chars().collect();
    let start = chars.len().saturating_sub(400);
    let end: String = chars[start..].iter().collect();
    format!("; it wrote: {}", excerpt(&redactor.text(&end), 400))
}
