//! The Chrome DevTools Protocol: JSON commands and events over a WebSocket.

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

/// How long one DevTools command may take to be answered.
const CALL: Duration = Duration::from_secs(15);

/// One DevTools WebSocket, spoken synchronously: a command waits for its
/// answer, and the events that arrive meanwhile are queued.
pub(super) struct Cdp {
    socket: WebSocket<TcpStream>,
    next_id: u64,
    pub(super) events: VecDeque<Value>,
}

impl Cdp {
    pub(super) fn connect(url: &str) -> Result<Cdp> {
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| anyhow!("not a DevTools WebSocket address: {url}"))?;
        let addr: SocketAddr =
            host.parse().with_context(|| format!("not a DevTools WebSocket address: {url}"))?;
        let stream = TcpStream::connect_timeout(&addr, CALL)
            .with_context(|| format!("cannot connect to Chromium's DevTools at {url}"))?;
        stream.set_read_timeout(Some(CALL))?;
        stream.set_write_timeout(Some(CALL))?;
        let (socket, _) = tungstenite::client(url, stream)
            .map_err(|e| anyhow!("cannot open Chromium's DevTools WebSocket {url}: {e}"))?;
        Ok(Cdp { socket, next_id: 0, events: VecDeque::new() })
    }

    /// The next message, or `None` once `deadline` has passed.
    fn read(&mut self, deadline: Instant) -> Result<Option<Value>> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            self.socket.get_mut().set_read_timeout(Some(left))?;
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str())
                        .map(Some)
                        .context("Chromium sent a DevTools message that is not JSON");
                }
                Ok(_) => {}
                // A timeout, or a signal's interruption (EINTR: a socket with a
                // read timeout is never restarted by the kernel, and a stopped
                // and resumed process sees one): read on, the frame kept.
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => bail!("the DevTools connection to Chromium failed: {e}"),
            }
        }
    }

    /// Sends `method` (to the page `session`, or to the browser) and waits
    /// for its result.
    pub(super) fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        // Queued, then written out; an interrupted write is tried again.
        let interrupted = |e: &tungstenite::Error| matches!(e, tungstenite::Error::Io(e) if e.kind() == std::io::ErrorKind::Interrupted);
        match self.socket.write(Message::text(message.to_string())) {
            Err(e) if !interrupted(&e) => bail!("cannot send {method} to Chromium: {e}"),
            _ => {}
        }
        while let Err(e) = self.socket.flush() {
            if !interrupted(&e) {
                bail!("cannot send {method} to Chromium: {e}");
            }
        }
        let deadline = Instant::now() + CALL;
        loop {
            let Some(message) = self.read(deadline)? else {
                bail!("Chromium did not answer {method} within {} s", CALL.as_secs());
            };
            if message["id"].as_u64() == Some(id) {
                if let Some(error) = message.get("error") {
                    bail!("Chromium refused {method}: {}", error["message"]);
                }
                return Ok(message["result"].clone());
            }
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
    }

    /// Waits for the event `method` on `session`, queued or to come.
    pub(super) fn event(
        &mut self,
        session: &str,
        method: &str,
        timeout: Duration,
    ) -> Result<Option<Value>> {
        let matches = |e: &Value| e["method"] == method && e["sessionId"] == session;
        if let Some(at) = self.events.iter().position(matches) {
            return Ok(self.events.remove(at));
        }
        let deadline = Instant::now() + timeout;
        while let Some(message) = self.read(deadline)? {
            if matches(&message) {
                return Ok(Some(message));
            }
            if message.get("method").is_some() {
                self.events.push_back(message);
            }
        }
        Ok(None)
    }
}
