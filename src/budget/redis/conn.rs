//! [`Conn`]: the connection to a shared budget's Redis, and the one script
//! (`budget.lua`) every operation runs.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::FromRedisValue;

/// The books' script, loaded once per server (EVALSHA, loaded again if the server
/// forgot it).
static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("budget.lua")));

/// The connection and what every script call sends.
pub(crate) struct Conn {
    conn: ConnectionManager,
    prefix: String,
    /// The windows as the script reads them: kind, period (ms), limit; flattened.
    windows: Vec<String>,
    pub(crate) lease: Duration,
    timeout: Duration,
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Conn {
    pub(crate) fn new(
        conn: ConnectionManager,
        prefix: String,
        windows: Vec<String>,
        lease: Duration,
        timeout: Duration,
    ) -> Conn {
        Conn {
            conn,
            prefix,
            windows,
            lease,
            timeout,
        }
    }

    /// Runs operation `op` of the script with `extra` arguments, within the timeout.
    pub(crate) async fn call<T: FromRedisValue>(
        &self,
        op: &str,
        extra: &[String],
    ) -> redis::RedisResult<T> {
        let mut call = SCRIPT.prepare_invoke();
        call.key(&self.prefix)
            .arg(op)
            .arg(u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX))
            .arg(self.windows.len() / 3);
        for arg in self.windows.iter().chain(extra) {
            call.arg(arg);
        }
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.timeout, call.invoke_async(&mut conn)).await {
            Ok(result) => result,
            Err(_) => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer within {} ms", self.timeout.as_millis()),
            ))),
        }
    }
}
