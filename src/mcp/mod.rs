//! MCP (Model Context Protocol) servers' tools in a tool loop (feature `mcp`): connect
//! to a server over stdio or streamable HTTP with [`McpServer`], and give the
//! [`McpClient`] to a [`ToolBox`](crate::agent::ToolBox) as a source.
//!
//! Built on `rmcp`, the protocol's official Rust SDK. The client initializes with the
//! newest protocol revision that has the `initialize` handshake (2025-11-25) and takes
//! what the server offers; it lists tools page by page (bounded), lists them again
//! after `notifications/tools/list_changed`, calls them under a time limit, and maps
//! their results (text, structured content, embedded resources; images, audio and
//! binary data described by type and size) to what the model reads, honouring
//! `isError`. Every failure of a server is a
//! [`ErrorKind::ToolServer`](crate::ErrorKind) error that names it; during a run, a
//! failed call is an error result for the model, and the run goes on.
//!
//! Files: `connect.rs` (the server's address and limits, connecting), `client.rs` (the
//! connected client, listing and calling), `content.rs` (results as text).

mod client;
mod connect;
mod content;

pub use client::McpClient;
pub use connect::McpServer;
